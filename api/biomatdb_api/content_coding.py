"""Content negotiation of ``Accept-Encoding`` (RFC 9110, section 12.5.3), for the one response
the app sends compressed (the vendored plotly bundle).

A coding is acceptable when the header names it, or names ``*`` and not it, with a q-value
above 0; ``identity`` is acceptable unless excluded so (``identity;q=0``, or ``*;q=0`` without
naming it). No header at all: every coding is acceptable, but nothing is sent compressed that
the client did not ask for. An entry whose q-value is not a number from 0 to 1 with at most
three decimals is ignored, as if not sent.
"""

from __future__ import annotations

import re

IDENTITY = "identity"
#: codings a header may name by another name (RFC 9110, section 8.4.1.3: x-gzip is gzip)
ALIASES = {"x-gzip": "gzip"}
#: the weight of an identity the header does not name: the least q-value above 0
UNNAMED_IDENTITY = 0.001
_QVALUE = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")


def qvalues(header: str) -> dict[str, float]:
    """Each coding the header names (lower case, aliases resolved, ``*`` as itself) with its
    q-value (1 where none is given); a coding named twice keeps its first entry."""
    found: dict[str, float] = {}
    for entry in header.split(","):
        coding, *parameters = (part.strip() for part in entry.split(";"))
        coding = ALIASES.get(coding.lower(), coding.lower())
        if not coding:
            continue
        weight: float | None = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                weight = float(value) if _QVALUE.match(value) else None
        if weight is not None:
            found.setdefault(coding, weight)
    return found


def choose_coding(header: str | None, available: tuple[str, ...]) -> str | None:
    """The coding to send: of ``available`` (in the server's order of preference) and
    ``identity``, the one with the highest q-value the header gives, the server's preference on a
    tie, identity last (an identity the header does not name: below every coding it names). None when the header accepts none of them, identity included (answer
    406). ``header`` None (no Accept-Encoding sent): identity."""
    if header is None:
        return IDENTITY
    weights = qvalues(header)
    star = weights.get("*")

    def weight(coding: str) -> float:
        if coding in weights:
            return weights[coding]
        if star is not None:
            return star
        # identity unnamed is acceptable, but any coding the header asks for comes first
        return UNNAMED_IDENTITY if coding == IDENTITY else 0.0

    candidates = [(weight(coding), -rank, coding) for rank, coding in enumerate((*available, IDENTITY))]
    best, _, coding = max(candidates)
    return coding if best > 0 else None
