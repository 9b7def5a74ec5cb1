"""The catalogue of ingest issue codes (``ingest/biomatdb_ingest/issues.toml``, ``biomatdb_ingest.codes``): every code the
pipeline writes is in it, every entry is one the code base writes, the report records an issue at
its catalogued severity, and docs/ingest-format.md shows the catalogue as it is."""

from __future__ import annotations

import re
from pathlib import Path

from biomatdb_ingest import codes
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
    report.warn(Issue(type="unit-error", message="y"))  # an error code recorded as a warning
    try:
        assert [i.type for i in report.errors] == ["no-such-code"] and report.warning_count == 1
        assert {"no-such-code"} == codes.UNCATALOGUED and {("unit-error", "warning")} == codes.MISFILED
    finally:
        codes.UNCATALOGUED.clear()
        codes.MISFILED.clear()


def test_strict_mode_keeps_the_code_of_a_refused_warning():
    report = Report(strict=True)
    report.record(Issue(type="unknown-column", message="Colour is not loaded"))
    report.refuse_warnings()
    assert [i.type for i in report.errors] == ["unknown-column"] and not report.warnings
    assert not codes.MISFILED


def test_the_docs_show_the_catalogue_as_it_is():
    text = (ROOT / "docs" / "ingest-format.md").read_text(encoding="utf-8")
    shown = text.split("<!-- issue-codes: generated from ingest/biomatdb_ingest/issues.toml -->\n", 1)[1].split(
        "<!-- /issue-codes -->"
    )[0]
    assert shown == codes.markdown_table()
