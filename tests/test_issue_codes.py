"""The catalogue of ingest issue codes (``ingest/biomatdb_ingest/issues.toml``, ``biomatdb_ingest.codes``): every code the
pipeline writes is in it, every entry is one the code base writes, the report records an issue at
its catalogued severity, and docs/ingest-format.md shows the catalogue as it is."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from biomatdb_ingest import codes
from biomatdb_ingest.normalise import NormalisedChunk
from biomatdb_ingest.report import Issue, Report

ROOT = Path(__file__).resolve().parents[1]
_WRITTEN = re.compile(r"""(?:\btype=|CellError\(|Issue\(\s*|\berror\(\s*)\s*["']([a-z]+(?:-[a-z]+)+)["']""")


def _source(*folders: str) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for f in folders for p in sorted((ROOT / f).rglob("*.py")))


def test_every_code_the_pipeline_writes_is_catalogued():
    written = set(_WRITTEN.findall(_source("ingest")))
    assert len(written) >= 30, written  # the pattern finds them
    assert written <= set(codes.catalogue()), sorted(written - set(codes.catalogue()))


def test_every_catalogued_code_is_written_somewhere():
    source = _source("ingest", "biomatdb", "api")
    unused = [code for code in codes.catalogue() if f'"{code}"' not in source]
    assert not unused, unused


def test_the_report_records_an_issue_at_its_catalogued_severity():
    report = Report()
    report.record(Issue(type="fuzzy-header", message="read 'Densty' as 'Density'"))
    report.record(Issue(type="unit-error", message="GPa is no density"))
    assert [i.type for i in report.warnings] == ["fuzzy-header"] and [i.type for i in report.errors] == ["unit-error"]
    assert (report.warning_count, report.error_count) == (1, 1)


def test_an_uncatalogued_code_is_an_error_and_is_remembered():
    report = Report()
    report.record(Issue(type="no-such-code", message="x"))
    try:
        assert [i.type for i in report.errors] == ["no-such-code"] and report.warning_count == 0
        assert {"no-such-code"} == codes.UNCATALOGUED
    finally:
        codes.UNCATALOGUED.clear()


def test_a_step_files_an_issue_where_the_catalogue_says():
    chunk = NormalisedChunk(materials=[], measurements=pd.DataFrame())
    chunk.add(Issue(type="fuzzy-header", message="a warning code"))
    chunk.add(Issue(type="unit-error", message="an error code"))
    assert [i.type for i in chunk.warnings] == ["fuzzy-header"] and [i.type for i in chunk.errors] == ["unit-error"]


# where an issue may be put in an error or warning list by hand: the report and the catalogue's own helper
_FILERS = {ROOT / "ingest" / "biomatdb_ingest" / "report.py", ROOT / "ingest" / "biomatdb_ingest" / "codes.py"}
_BY_HAND = re.compile(r"\.(errors|warnings)\.(append|extend|insert)\(|\breport\.(error|warn)\(")


def test_no_step_chooses_an_issues_severity():
    """Severity comes from issues.toml alone: code that records an issue calls ``Report.record`` or a
    holder's ``add`` (``codes.file_issue``), never appends to an error or warning list itself."""
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for folder in ("ingest", "biomatdb", "api", "search")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path not in _FILERS
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _BY_HAND.search(line)
    ]
    assert not found, "\n".join(found)


def test_strict_mode_keeps_the_code_of_a_refused_warning():
    report = Report(strict=True)
    report.record(Issue(type="unknown-column", message="Colour is not loaded"))
    report.refuse_warnings()
    assert [i.type for i in report.errors] == ["unknown-column"] and not report.warnings


def test_the_docs_show_the_catalogue_as_it_is():
    text = (ROOT / "docs" / "ingest-format.md").read_text(encoding="utf-8")
    shown = text.split("<!-- issue-codes: generated from ingest/biomatdb_ingest/issues.toml -->\n", 1)[1].split(
        "<!-- /issue-codes -->"
    )[0]
    assert shown == codes.markdown_table()
