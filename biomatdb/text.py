"""Text that is clean and bounded, the same rule for the CLI, manifests and the API.

- Control characters (C0 but TAB, LF and CR; DEL; C1) and bidirectional overrides and
  isolates (U+202A–U+202E, U+2066–U+2069) are taken out of every cell at ingest, with a
  warning naming the cell: they can clear a terminal, hide text, or show a name reversed.
- Names, synonyms and dataset names have length limits.
- ``printable`` makes any stored text safe to print on a terminal.
"""

from __future__ import annotations

import re

MATERIAL_NAME_MAX = 500  # the width of materials.name and material_synonyms.synonym
DATASET_NAME_MAX = 255  # the width of datasets.name

HOSTILE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def strip_hostile(text: str) -> str:
    """``text`` without control or bidirectional-override characters."""
    return HOSTILE.sub("", text)


def printable(text: str) -> str:
    """``text`` with every control or override character shown as an escape (``\\x1b``), so that
    printing it cannot move the cursor, clear the screen or open a link."""
    return HOSTILE.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), text)


def dataset_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a dataset, or None when it can."""
    if not name.strip():
        return "a dataset name cannot be empty"
    if len(name) > DATASET_NAME_MAX:
        return f"a dataset name is at most {DATASET_NAME_MAX} characters; this one has {len(name):,}"
    if HOSTILE.search(name) or "\n" in name or "\r" in name or "\t" in name:
        return "a dataset name cannot hold control characters, line breaks or bidirectional overrides"
    return None
