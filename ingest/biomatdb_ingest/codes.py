"""The catalogue of ingest issue codes (``ingest/biomatdb_ingest/issues.toml``): each code's severity, what it
names and what it means, in the spirit of Frictionless Data's ``errors/``. The report records an
issue as the catalogue says (``Report.record``), and docs/ingest-format.md renders the table
(``markdown_table``; a test keeps the two equal).

A code the catalogue does not hold is recorded as an error, never dropped, and remembered in
``UNCATALOGUED`` (as an issue recorded against its catalogued severity is in ``MISFILED``), which
the test suite checks after every test, so that no code reaches a report uncatalogued."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

Severity = Literal["error", "warning"]

#: Codes recorded that the catalogue does not hold (checked by the test suite).
UNCATALOGUED: set[str] = set()
#: ``(code, severity)`` of issues recorded with another severity than the catalogue's.
MISFILED: set[tuple[str, str]] = set()


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    severity: Severity
    scope: str
    description: str


@cache
def catalogue() -> dict[str, Code]:
    """Every code, in the catalogue's order."""
    data = tomllib.loads(resources.files(__package__).joinpath("issues.toml").read_text(encoding="utf-8"))
    codes = {}
    for code, entry in data.items():
        if entry.get("severity") not in ("error", "warning"):
            raise ValueError(f"ingest/biomatdb_ingest/issues.toml: {code}: severity must be 'error' or 'warning'")
        codes[code] = Code(code, entry["severity"], entry["scope"], entry["description"])
    return codes


def severity(code: str) -> Severity:
    """The code's severity; an uncatalogued code is an error (and remembered in ``UNCATALOGUED``)."""
    found = catalogue().get(code)
    if found is None:
        UNCATALOGUED.add(code)
        return "error"
    return found.severity


def check_severity(code: str, recorded: Severity) -> None:
    """Remember an issue recorded with another severity than its code's (``MISFILED``)."""
    if severity(code) != recorded:
        MISFILED.add((code, recorded))


def markdown_table() -> str:
    """The catalogue as docs/ingest-format.md shows it."""
    lines = ["| code | severity | names | what it means |", "|---|---|---|---|"]
    lines += [f"| `{c.code}` | {c.severity} | {c.scope} | {c.description} |" for c in catalogue().values()]
    return "\n".join(lines) + "\n"
