"""The catalogue of ingest issue codes (``ingest/biomatdb_ingest/issues.toml``): each code's severity, what it
names and what it means, in the spirit of Frictionless Data's ``errors/``. The report records an
issue as the catalogue says (``Report.record``), and docs/ingest-format.md renders the table
(``markdown_table``; a test keeps the two equal).

Severity is the catalogue's alone: the steps file every issue through ``file_issue`` and the
report through ``Report.record``, so no call site can record an error as a warning. A code the
catalogue does not hold is recorded as an error, never dropped, and remembered in
``UNCATALOGUED``, which the test suite checks after every test, so that no code reaches a report
uncatalogued."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from biomatdb_ingest.report import Issue

Severity = Literal["error", "warning"]

#: Codes recorded that the catalogue does not hold (checked by the test suite).
UNCATALOGUED: set[str] = set()


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


class Issues(Protocol):
    """What holds a step's issues before the report does: an error list and a warning list."""

    errors: list[Issue]
    warnings: list[Issue]


def file_issue(holder: Issues, issue: Issue) -> None:
    """Put ``issue`` in ``holder``'s errors or warnings, as its code's catalogued severity says:
    no step chooses the severity itself."""
    (holder.errors if severity(issue.type) == "error" else holder.warnings).append(issue)


def markdown_table() -> str:
    """The catalogue as docs/ingest-format.md shows it."""
    lines = ["| code | severity | names | what it means |", "|---|---|---|---|"]
    lines += [f"| `{c.code}` | {c.severity} | {c.scope} | {c.description} |" for c in catalogue().values()]
    return "\n".join(lines) + "\n"
