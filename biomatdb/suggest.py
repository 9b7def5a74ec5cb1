""" "Did you mean": the known terms closest to a text that names none.

One rule for every place that refuses a name — the filter language, and ingest's headers,
properties, classes, units and manifest keys — so that they suggest alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from rapidfuzz import fuzz, process

from biomatdb.vocabulary import normalise_label

#: How alike (rapidfuzz's ratio, 0-100: twice the matching characters over both lengths) a
#: label must be to be suggested; difflib's 0.6 cutoff, which the filter parser used before.
CUTOFF = 60.0
#: Most suggestions one message makes.
LIMIT = 3


def closest(
    text: str, labels: Mapping[str, str], *, limit: int = LIMIT, fold: Callable[[str], str] = normalise_label
) -> list[str]:
    """The terms whose labels read most like ``text``, best first, each once, at most ``limit``.

    ``labels`` maps a label, already folded with ``fold``, to the term it names (a vocabulary
    index: every key, name and alias to its key). An empty text, or one like no label, gets []."""
    folded = fold(text)
    if not folded or not labels:
        return []
    terms: list[str] = []
    for label, _score, _index in process.extract(
        folded, list(labels), scorer=fuzz.ratio, score_cutoff=CUTOFF, limit=None
    ):
        term = labels[label]
        if term not in terms:
            terms.append(term)
            if len(terms) == limit:
                break
    return terms


def labels_of(terms: Iterable[str], *, fold: Callable[[str], str] = normalise_label) -> dict[str, str]:
    """``terms`` as a label map for :func:`closest`, each term its own label."""
    return {fold(term): term for term in terms}


def or_list(items: Sequence[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def did_you_mean(suggestions: Sequence[str]) -> str:
    """``"; did you mean a or b?"`` to end a refusal, or "" when there is nothing to suggest."""
    return f"; did you mean {or_list(suggestions)}?" if suggestions else ""
