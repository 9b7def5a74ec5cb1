"""The ``biomatdb`` command. Heavy imports happen inside the commands, so ``--help`` is quick."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer

from biomatdb.text import printable

if TYPE_CHECKING:
    from biomatdb.settings import Settings
else:

    def Settings(*args, **kwargs):  # stands in for the class until a command needs it
        """The settings, imported when a command first reads them: pydantic-settings alone costs
        a third of ``biomatdb --help``."""
        from biomatdb.settings import Settings as settings_class

        return settings_class(*args, **kwargs)


app = typer.Typer(
    help="BiomatDB: an open biomaterials database.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain help: rich's markdown and pygments would double the cost of --help
)


def _engine(settings: Settings | None = None):
    """The engine of a command that writes (or serves): the database is created, or migrated to
    the newest schema, first."""
    from biomatdb.db import make_engine, migrate

    settings = settings or Settings()
    engine = make_engine(settings.resolved_database_url(), search_outbox=settings.search_outbox)
    migrate(engine)
    return engine


def _read_engine(settings: Settings | None = None):
    """The engine of a command that only reads (``search``, ``show``, ``export``, ...): nothing is
    created or migrated on its behalf, so a missing or outdated database is an error that says
    what to run, not an empty database made in passing."""
    from biomatdb.db import make_engine, unreadable_schema

    settings = settings or Settings()
    url = settings.resolved_database_url()
    problem = unreadable_schema(url)
    if problem is not None:
        advice = (
            "Check BIOMATDB_DATABASE_URL, that the server is up and that the database exists"
            if problem.startswith("cannot reach")
            else "Run `biomatdb init` to create or migrate it, and `biomatdb ingest FILE` or `biomatdb "
            "load-fixtures` to load data (BIOMATDB_DATA_DIR or BIOMATDB_DATABASE_URL choose the database)"
        )
        _echo(f"error: {problem}. {advice}", err=True)
        raise typer.Exit(1)
    return make_engine(url, search_outbox=settings.search_outbox)


def discard_stale_demo(path: Path) -> bool:
    """The demo database is derived from the fixtures: one that an older pipeline wrote (or that
    cannot be read) is deleted, to be rebuilt rather than patched. Returns whether it was."""
    if not path.exists():
        return False
    import sqlite3
    from contextlib import closing

    from biomatdb import PIPELINE_VERSION

    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            versions = {
                version for (version,) in connection.execute("SELECT DISTINCT pipeline_version FROM dataset_uploads")
            }
    except sqlite3.Error:
        versions = {None}
    if not versions - {PIPELINE_VERSION}:
        return False
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return True


def _echo(text: str = "", *, err: bool = False) -> None:
    """Print a line with its control characters shown as escapes: names and messages quote
    what files and requests hold, which must never drive the terminal."""
    typer.echo(printable(text), err=err)


def _as_written(text: str) -> str:
    """``text`` for a rich string printed as written: brackets in names and labels are no markup,
    and control characters are shown as escapes, never sent to the terminal."""
    from rich.markup import escape

    return escape(printable(text))


def _cells(*texts: str) -> list:
    """Table cells printed as written: a file's ``[g/cm3]``, a message's ``[mass]`` or a cell's ``[/x]``
    is text, not rich markup (which swallowed the first two and raised on the last)."""
    from rich.text import Text

    return [Text(printable(text)) for text in texts]


UnitsOption = Annotated[
    str | None,
    typer.Option(
        "--units",
        metavar="PROPERTY:UNIT,...",
        help="Show these properties in these units, e.g. youngs_modulus:MPa,glass_transition_temperature:degF "
        "(over --unit-system)",
    ),
]
UnitSystemOption = Annotated[
    str | None,
    typer.Option(
        "--unit-system",
        metavar="SI|US",
        help="A preset of display units (vocabulary/display.toml); default: each property's display unit "
        "(MPa, GPa, °C, g/cm³, days to years by magnitude)",
    ),
]


FilterOption = Annotated[
    str | None,
    typer.Option("--filter", "-f", help="Filter expression, e.g. 'youngs_modulus in 0.1..3 GPa AND class = polymer'"),
]
MatchOption = Annotated[
    str,
    typer.Option(
        help="possible: a measurement whose interval meets the asked one matches; "
        "certain: only one that lies wholly within it"
    ),
]
UncertaintyOption = Annotated[
    str,
    typer.Option(
        help="point: a measurement v ± u is the point v; interval: it counts as the interval from v − u to v + u for matching"
    ),
]
SortOption = Annotated[
    str | None,
    typer.Option(help="name, relevance, similarity, or a property key or derived index (-key for descending)"),
]


def _query_refused(exc, filter: str | None) -> None:
    """A refused search (``QueryError``) on stderr, as ``search`` and ``export`` both say it: the
    message, and under the filter a caret at the position it names."""
    if exc.position is not None and filter:
        _echo(f"error: {exc.message}\n  {filter}\n  {' ' * exc.position}^", err=True)
    else:
        _echo(f"error: {exc.message}", err=True)


def _unit_choice(units: str | None, unit_system: str | None):
    """The display units asked for; exits 2 with the reason when a unit or the system is unknown."""
    from biomatdb.display import unit_choice
    from biomatdb.errors import BiomatError

    try:
        return unit_choice(units, unit_system)
    except BiomatError as exc:
        _echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc


def _print_json(document) -> None:
    sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode() + "\n")


@app.command()
def init() -> None:
    """Create the database (or bring it to the newest schema)."""
    settings = Settings()
    _engine(settings)
    _echo(f"database ready: {settings.resolved_database_url()}")


@app.command()
def ingest(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV, TSV, XLSX or JSON file")
    ],
    dataset: Annotated[str | None, typer.Option(help="Dataset name (default: the file name without extension)")] = None,
    license: Annotated[str | None, typer.Option(help="License of the dataset, e.g. CC-BY-4.0")] = None,
    source: Annotated[str | None, typer.Option(help="DOI or citation for values without a source of their own")] = None,
    manifest: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Mapping manifest (default: FILE.manifest.toml if present)"),
    ] = None,
    column_mappings: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="HEADER=PROPERTY",
            help="Read the column HEADER as a property key (or a role such as name or temperature, or ignore), "
            'over the manifest; a unit may follow in brackets: --map "E=youngs_modulus [GPa]". Repeatable',
        ),
    ] = None,
    uploader: Annotated[str | None, typer.Option(help="Who uploads")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and report; change nothing")] = False,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Load the valid rows, report the rest")] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Every warning is an error: load nothing when there is "
            "any (unknown columns, possible duplicates, cleaned cells, ...)",
        ),
    ] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON report on stdout")] = False,
    no_limits: Annotated[
        bool,
        typer.Option(
            "--no-limits",
            help="Do not cap this process's memory and CPU time "
            "(BIOMATDB_JOB_MAX_MEMORY_BYTES, BIOMATDB_JOB_MAX_CPU_SECONDS)",
        ),
    ] = False,
) -> None:
    """Load a dataset file: everything, or nothing and a report of what is wrong."""
    import contextlib

    from biomatdb.rlimits import process_limits
    from biomatdb_ingest.limits import ReadLimits
    from biomatdb_ingest.pipeline import IngestOptions, ingest_file

    settings = Settings()
    limits = (
        contextlib.nullcontext()
        if no_limits
        else process_limits(memory_bytes=settings.job_max_memory_bytes, cpu_seconds=settings.job_max_cpu_seconds)
    )
    engine = _engine(settings)
    options = IngestOptions(
        dataset=dataset,
        license=license,
        source=source,
        manifest=manifest,
        uploader=uploader,
        column_mappings=tuple(column_mappings or ()),
        strict=strict,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        chunk_rows=settings.ingest_chunk_rows,
        read_limits=ReadLimits.from_settings(settings),
        structure_limits=settings.structure_limits(),
        staging_dir=settings.staging_dir(),
        material_max_nested_records=settings.material_max_nested_records,
    )
    try:
        with limits:
            if json_output or not sys.stderr.isatty():
                report = ingest_file(engine, file, options)
            else:
                from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

                with Progress(
                    SpinnerColumn(),
                    TextColumn("{task.description}"),
                    TextColumn("{task.completed:,} rows"),
                    TimeElapsedColumn(),
                    transient=True,
                ) as bar:
                    task = bar.add_task(f"ingesting {file.name}")
                    report = ingest_file(engine, file, options, progress=lambda rows: bar.update(task, completed=rows))
    except MemoryError:  # the load's transaction was rolled back on the way out
        from biomatdb_ingest.report import Issue, Report

        report = Report(dry_run=dry_run)
        report.dataset = dataset or file.stem
        report.record(
            Issue(
                type="resource-limit",
                message=(
                    f"the load ran out of its memory limit of {settings.job_max_memory_bytes:,} bytes (setting "
                    f"BIOMATDB_JOB_MAX_MEMORY_BYTES, or --no-limits); nothing was applied"
                ),
            )
        )
    if json_output:
        _print_json(report.as_dict())
    else:
        _print_report(report)
    raise typer.Exit(0 if report.loaded or (dry_run and report.ok) else 1)


def _print_report(report) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=False)
    if report.unchanged:
        console.print(f"dataset [bold]{_as_written(report.dataset)}[/]: unchanged (same file as the last upload)")
        return
    state = "loaded" if report.loaded else ("checked (dry run)" if report.dry_run and report.ok else "NOT loaded")
    if report.strict and not report.ok:
        state += " (strict mode: every warning is an error)"
    console.print(f"dataset [bold]{_as_written(report.dataset)}[/]: {state}")
    counts = report.as_dict()["counts"]
    console.print(", ".join(f"{key.replace('_', ' ')}: {value:,}" for key, value in counts.items()))
    for title, issues, total, style in (
        ("errors", report.errors, report.error_count, "red"),
        ("warnings", report.warnings, report.warning_count, "yellow"),
    ):
        if not total:
            continue
        table = Table(
            title=f"{total:,} {title}" + (f" (first {len(issues):,} shown)" if total > len(issues) else ""),
            title_style=style,
            show_lines=False,
        )
        located = any(issue.path for issue in issues[:200])  # a JSON file's issues name their JSON path
        for column in ("row", *(("path",) if located else ()), "column", "value", "type", "message"):
            table.add_column(column, overflow="fold")
        for issue in issues[:200]:
            table.add_row(
                *_cells(
                    "" if issue.row is None else str(issue.row),
                    *((issue.path or "",) if located else ()),
                    issue.column or "",
                    issue.value or "",
                    issue.type,
                    issue.message,
                )
            )
        console.print(table)


@app.command()
def show(
    name_or_id: Annotated[str, typer.Argument(help="Material name, synonym or public id")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    units: UnitsOption = None,
    unit_system: UnitSystemOption = None,
) -> None:
    """Everything about one material, every measurement with its unit, conditions and source,
    in display units rounded to the precision written (--json: the canonical values beside them)."""
    from sqlalchemy.orm import Session

    from biomatdb.catalog import find_material, material_json
    from biomatdb.display import shown_material
    from biomatdb.errors import NotFoundError

    choice = _unit_choice(units, unit_system)
    with Session(_read_engine()) as session:
        try:
            document = shown_material(material_json(find_material(session, name_or_id)), choice)
        except NotFoundError as exc:
            _echo(f"error: {exc.message}", err=True)
            raise typer.Exit(1) from exc
    if json_output:
        _print_json(document)
        return
    _print_material(document)


def _print_material(document) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"[bold]{_as_written(document['name'])}[/]  ({_as_written(document['id'])})  class: {document['class'] or '—'}"
    )
    if document["synonyms"]:
        console.print("synonyms: " + _as_written("; ".join(document["synonyms"])))
    if document["applications"]:
        console.print("applications: " + _as_written(", ".join(document["applications"])))
    if document["structure"]:
        console.print(_as_written(f"structure: {document['structure']['smiles']}  {document['structure']['formula']}"))
    if document["composition"]:
        console.print(_as_written(f"composition: {document['composition_text']}"))
    table = Table(show_lines=False)
    for column in ("property", "value", "unit", "conditions", "source", "dataset"):
        table.add_column(column, overflow="fold")
    for m in document["measurements"]:
        unit = "" if m["qualifier"] == "term" else m["unit"]
        value = m["display"].removesuffix(unit).strip() if unit else m["display"]
        said = [f"{k}={v}" for k, v in m["conditions"].items() if not k.startswith("temperature_")]
        if "temperature_display" in m["conditions"]:  # in the display unit: "at 37 °C"
            said.insert(0, f"at {m['conditions']['temperature_display']}")
        conditions = ", ".join(said)
        source = (m["source"] and (m["source"]["doi"] or m["source"]["citation"])) or ""
        table.add_row(*_cells(m["property"], value, unit, conditions, source, m["dataset"]))
    console.print(table)
    if document.get("biological_evaluations"):
        _print_evaluations(console, document["biological_evaluations"])


def _print_evaluations(console, evaluations) -> None:
    from rich.table import Table

    from biomatdb.evidence import get_evidence_vocabulary

    outcomes = get_evidence_vocabulary().outcomes
    table = Table(title="Biological evaluation", show_lines=False)
    for column in ("endpoint", "test system", "method", "duration", "outcome", "result", "source"):
        table.add_column(column, overflow="fold")
    for e in evaluations:
        system = e["test_system"]
        model = " ".join(t for t in (system["kind"], system["model"], system["site"] and f"({system['site']})") if t)
        outcome = outcomes[e["outcome"]].name if e["outcome"] in outcomes else ""
        result = e["verbatim"] if e["value"] is not None or e["value_min"] is not None else ""
        table.add_row(*_cells(e["endpoint"], model, e["method"] or "", e["duration"] or "", outcome, result or "",
                              e["source"] or ""))  # fmt: skip
    console.print(table)


@app.command()
def export(
    format: Annotated[str, typer.Option("--format", help="csv, json or parquet")] = "csv",
    dataset: Annotated[str | None, typer.Option(help="Only this dataset")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout)")] = None,
    kind: Annotated[
        str, typer.Option("--kind", help="measurements, or evidence: the biological-evaluation records")
    ] = "measurements",
    units: UnitsOption = None,
    unit_system: UnitSystemOption = None,
    text: Annotated[str | None, typer.Option("--text", help="Instead of everything: a search, free text")] = None,
    filter: FilterOption = None,
    match: MatchOption = "possible",
    uncertainty: UncertaintyOption = "point",
    sort: SortOption = None,
) -> None:
    """The core in the long layout, in display units rounded to the precision written, which
    ingests back to the same values at that precision (docs/export.md). With ``--text``,
    ``--filter`` or ``--sort``: the materials that search finds, in its order (``--match``,
    ``--uncertainty`` and ``--sort`` as in ``search``)."""
    from pydantic import ValidationError

    from biomatdb.errors import BiomatError, NotFoundError, QueryError
    from biomatdb.exports import FORMATS, blocks

    if format not in FORMATS:
        _echo(f"error: --format is one of {', '.join(FORMATS)}", err=True)
        raise typer.Exit(2)
    if kind not in ("measurements", "evidence"):
        _echo("error: --kind is measurements or evidence", err=True)
        raise typer.Exit(2)
    searched = bool(text or filter or sort)
    if searched and (dataset is not None or kind == "evidence"):
        _echo(
            "error: --text, --filter and --sort export a search of measurements; not with --dataset or --kind", err=True
        )
        raise typer.Exit(2)
    choice = _unit_choice(units, unit_system)
    try:
        rows = (
            _searched_rows(text, filter, sort=sort, match=match, uncertainty=uncertainty, choice=choice)
            if searched
            else _all_rows(dataset, choice)
        )
        # a bad query, a missing database or an unknown dataset fails before any byte, and
        # before -o FILE is opened (and emptied)
        first = next(rows, None) if kind != "evidence" else None
        evidence_engine = _evidence_engine(dataset) if kind == "evidence" else None
    except QueryError as exc:
        _query_refused(exc, filter)
        raise typer.Exit(2) from exc
    except NotFoundError as exc:
        _echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    except (BiomatError, ValidationError) as exc:
        _echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    stream = output.open("wb") if output else sys.stdout.buffer
    try:
        if evidence_engine is not None:
            _export_evidence(evidence_engine, stream, format=format, dataset=dataset)
            return
        for block in blocks(format, itertools.chain(() if first is None else (first,), rows)):
            stream.write(block)
    finally:
        if output:
            stream.close()
        else:
            stream.flush()


def _all_rows(dataset: str | None, choice) -> Iterator[dict]:
    from sqlalchemy.orm import Session

    from biomatdb.catalog import export_rows

    with Session(_read_engine()) as session:
        yield from export_rows(session, dataset=dataset, choice=choice)


def _searched_rows(
    text: str | None, filter: str | None, *, sort: str | None, match: str, uncertainty: str, choice
) -> Iterator[dict]:
    from biomatdb_search.export import search_rows
    from biomatdb_search.model import MAX_LIMIT
    from biomatdb_search.service import build_query, make_backend

    settings = Settings()
    query = build_query(text=text, filter_text=filter, sort=sort, limit=MAX_LIMIT, match=match, uncertainty=uncertainty)
    engine = _read_engine(settings)
    yield from search_rows(make_backend(settings, engine), engine, query, choice)


def _evidence_engine(dataset: str | None):
    """The engine an evidence export reads, once the database is known readable and ``dataset``
    (when given) exists: NotFoundError otherwise, as the measurements export refuses it."""
    from sqlalchemy import select

    from biomatdb.errors import NotFoundError
    from biomatdb.models import Dataset

    engine = _read_engine()
    if dataset is not None:
        with engine.connect() as connection:
            if connection.scalar(select(Dataset.id).where(Dataset.name == dataset)) is None:
                raise NotFoundError(f"no dataset named {dataset!r}")
    return engine


def _export_evidence(engine, stream, *, format: str, dataset: str | None) -> None:
    from biomatdb.evaluations import EVIDENCE_FIELDS, evidence_export

    with engine.connect() as connection:
        exported = evidence_export(connection, dataset=dataset)
        if format == "json":
            stream.write(b"[")
            for index, item in enumerate(exported):
                stream.write(("," if index else "").encode() + b"\n" + orjson.dumps(item["record"]))
            stream.write(b"\n]\n")
            return
        from biomatdb.exports import blocks

        for block in blocks(format, (item["row"] for item in exported), fields=EVIDENCE_FIELDS):
            stream.write(block)


@app.command()
def conditions(
    field: Annotated[
        str | None,
        typer.Option(help="Only this condition field: specimen_state (or state), medium, method, standard"),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON, as GET /api/v1/conditions answers")] = False,
) -> None:
    """The condition values stored with measurements, with the materials and measurements that
    carry each: what WHERE state = …, medium = …, method = … and standard = … can find."""
    from biomatdb_search.conditions import FIELD_NAMES, read_listing

    if field is not None and field not in FIELD_NAMES:
        _echo(f"error: unknown condition field {field!r}; expected one of {', '.join(FIELD_NAMES)}", err=True)
        raise typer.Exit(2)
    fields = read_listing(_read_engine(), field)
    if json_output:
        _print_json([f.model_dump(mode="json") for f in fields])
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for listed in fields:
        table = Table(title=f"{listed.field}: {len(listed.values):,} values")
        for column, justify in (("value", "left"), ("materials", "right"), ("measurements", "right"), ("term", "left")):
            table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
        for value in listed.values:
            table.add_row(
                *_cells(value.value),
                str(value.materials),
                str(value.measurements),
                value.term or "(as written)",
            )
        console.print(table)


@app.command("load-fixtures")
def load_fixtures_command(
    directory: Annotated[
        Path | None,
        typer.Argument(
            file_okay=False,
            help="Default: the shipped fixtures (the source tree's fixtures/, or the copy installed with the package)",
        ),
    ] = None,
) -> None:
    """Load every fixture file (curated and public datasets) through the pipeline; unchanged files are skipped."""
    import time

    from biomatdb_ingest.fixtures import default_fixtures_dir

    root = directory or default_fixtures_dir()
    if not root.is_dir():
        _echo(f"error: no fixtures folder at {root}", err=True)
        raise typer.Exit(2)
    settings = Settings()
    started = time.perf_counter()
    reports = _load_fixtures_with_progress(_engine(settings), root, chunk_rows=settings.ingest_chunk_rows)
    for _, report in reports:
        if not report.ok:
            for issue in report.as_dict()["errors"][:20]:
                _echo(f"  row {issue['row']} column {issue['column']!r}: {issue['message']}", err=True)
            raise typer.Exit(1)
    _echo(f"{len(reports)} files in {time.perf_counter() - started:.1f} s")


def _load_fixtures_with_progress(engine, root: Path, *, chunk_rows: int):
    """:func:`biomatdb_ingest.fixtures.load_fixtures`, saying as it goes what it does: a line per
    file when it is done (loaded or unchanged, materials and measurements, seconds) and, on a
    terminal, which file of how many is loading now, with its rows read and the time it takes."""
    import time
    from contextlib import ExitStack

    from biomatdb_ingest.fixtures import load_fixtures

    with ExitStack() as stack:
        bar = task = None
        if sys.stdout.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            bar = stack.enter_context(
                Progress(
                    TextColumn("{task.description}"),
                    BarColumn(bar_width=20),
                    MofNCompleteColumn(),
                    TextColumn("{task.fields[rows]}"),
                    TimeElapsedColumn(),
                    transient=True,
                )
            )
            task = bar.add_task("fixtures", total=None, rows="")
        began = [time.perf_counter()]

        def start(path: Path, number: int, total: int) -> None:
            began[0] = time.perf_counter()
            if bar is not None and task is not None:
                bar.update(task, description=f"loading {path.relative_to(root)}", total=total, rows="")

        def rows(count: int) -> None:
            if bar is not None and task is not None:
                bar.update(task, rows=f"{count:,} rows")

        def done(path: Path, report) -> None:
            summary = report.as_dict()
            counts = summary["counts"]
            state = "unchanged" if summary["unchanged"] else ("loaded" if report.ok else "FAILED")
            line = printable(
                f"{state:9} {path.relative_to(root)}: {counts['materials_created']} materials created, "
                f"{counts['measurements_added']} measurements added ({time.perf_counter() - began[0]:.1f} s)"
            )
            if bar is not None and task is not None:
                bar.console.print(line, markup=False, highlight=False)
                bar.advance(task)
            else:
                typer.echo(line)
                sys.stdout.flush()

        return load_fixtures(engine, root, chunk_rows=chunk_rows, progress=rows, on_start=start, on_done=done)


@app.command()
def search(
    text: Annotated[
        str | None, typer.Argument(help="Free text over names, synonyms, descriptions, applications")
    ] = None,
    filter: FilterOption = None,
    facet: Annotated[
        list[str] | None,
        typer.Option(
            "--facet",
            help="Facet to count (repeatable): class, application, biodegradable, origin, property, dataset, element, "
            "endpoint, outcome, medium, state",
        ),
    ] = None,
    sort: SortOption = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Results per page")] = 20,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page")] = None,
    match: MatchOption = "possible",
    uncertainty: UncertaintyOption = "point",
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    units: UnitsOption = None,
    unit_system: UnitSystemOption = None,
) -> None:
    """Search materials by text, properties in any unit, class, application and chemistry; values
    shown in display units, rounded to the precision written."""
    from pydantic import ValidationError

    from biomatdb.errors import BiomatError, QueryError
    from biomatdb_search.display import shown_result
    from biomatdb_search.model import sort_note
    from biomatdb_search.service import build_query, make_backend

    choice = _unit_choice(units, unit_system)
    settings = Settings()
    try:
        query = build_query(
            text=text,
            filter_text=filter,
            facets=facet,
            sort=sort,
            limit=limit,
            cursor=cursor,
            match=match,
            uncertainty=uncertainty,
        )
        engine = _read_engine(settings)
        result = shown_result(make_backend(settings, engine).search(query), choice)
    except QueryError as exc:
        _query_refused(exc, filter)
        raise typer.Exit(2) from exc
    except (BiomatError, ValidationError) as exc:
        _echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    for note in (sort_note(query), *result.notes):
        if note is not None:
            _echo(f"note: {note}", err=True)
    if json_output:
        _print_json(result.model_dump(mode="json", by_alias=True))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{result.total:,} materials")
    for column in ("id", "name", "class", "matching measurements"):
        table.add_column(column, overflow="fold")
    for hit in result.results:
        shown = "; ".join(
            f"{m.property} {m.display}" + (" (possible)" if m.certainty == "possible" else "")
            for m in hit.measurements[:4]
        )
        if len(hit.measurements) > 4:
            shown += f"; … {len(hit.measurements) - 4} more"
        for derived in hit.derived[:2]:  # a derived value, from its inputs and their sources
            inputs = ", ".join(f"{m.property} {m.display} [{_short(m.source or m.dataset)}]" for m in derived.inputs)
            possible = " (possible)" if derived.certainty == "possible" else ""
            shown += ("; " if shown else "") + f"{derived.index} {derived.display}{possible} from {inputs}"
        table.add_row(*_cells(hit.id, hit.name, hit.material_class or "", shown))
    console = Console()
    if result.spelling:
        console.print(
            _as_written(
                "nothing matched "
                + ", ".join(f"{typed!r}: searched for {used!r} instead" for typed, used in result.spelling.items())
            )
        )
    console.print(table)
    for name, values in result.facets.items():
        console.print(f"[bold]{name}[/bold]: " + _as_written(", ".join(f"{v.value} ({v.count})" for v in values[:12])))
    if result.next_cursor:
        console.print(f"next page: --cursor {result.next_cursor}")


def _short(text: str, width: int = 40) -> str:
    """A source or dataset named in a table cell: at most ``width`` characters."""
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command()
def select(
    preset: Annotated[
        str | None, typer.Option(help="Start from a preset requirement (biomatdb select --list-presets)")
    ] = None,
    constraint: Annotated[
        str | None, typer.Option("--constraint", "-c", help="What a candidate must meet, in the filter language")
    ] = None,
    objective: Annotated[
        list[str] | None,
        typer.Option(
            "--objective",
            "-o",
            help="max:PROPERTY, min:PROPERTY, match:PROPERTY=TISSUE, match:PROPERTY=LOW..HIGH UNIT, "
            "each optionally @WEIGHT (repeatable; replaces a preset's objectives)",
        ),
    ] = None,
    policy: Annotated[str, typer.Option(help="How an interval is scored: worst, best or midpoint")] = "worst",
    missing: Annotated[
        str, typer.Option(help="A candidate without a value: penalise (scores 0 there) or exclude")
    ] = "penalise",
    limit: Annotated[int, typer.Option(min=1, max=500, help="Ranked candidates to show")] = 20,
    list_presets: Annotated[bool, typer.Option("--list-presets", help="List the presets and stop")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    units: UnitsOption = None,
    unit_system: UnitSystemOption = None,
) -> None:
    """Rank the materials that meet a requirement, with each criterion's score, the measurement
    behind it and its source; Pareto-optimal candidates marked (docs/selection.md)."""
    from pydantic import ValidationError

    from biomatdb.errors import BiomatError
    from biomatdb_search.select.objectives import parse_objective
    from biomatdb_search.select.presets import presets
    from biomatdb_search.service import make_backend

    if list_presets:
        if json_output:
            _print_json(
                [
                    {
                        "key": p.key,
                        "name": p.name,
                        "description": p.description,
                        "constraint": p.constraint,
                        "objectives": list(p.objectives),
                    }
                    for p in presets().values()
                ]
            )
            return
        for p in presets().values():
            _echo(f"{p.key}: {p.name}\n  constraint: {p.constraint or '-'}\n  objectives: {' '.join(p.objectives)}")
        return
    choice = _unit_choice(units, unit_system)
    settings = Settings()
    try:
        from biomatdb_search.select.model import Requirement
        from biomatdb_search.select.service import select as run_selection

        requirement = Requirement.model_validate(
            {
                "preset": preset,
                "constraint": constraint,
                "objectives": [parse_objective(spec) for spec in objective or []],
                "policy": policy,
                "missing": missing,
                "limit": limit,
            }
        )
        engine = _read_engine(settings)
        answer = run_selection(make_backend(settings, engine), engine, requirement, choice)
    except (BiomatError, ValidationError) as exc:
        _echo(f"error: {getattr(exc, 'message', exc)}", err=True)
        raise typer.Exit(2) from exc
    if json_output:
        _print_json(answer.model_dump(mode="json", by_alias=True))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for target in answer.targets:
        console.print(_as_written(f"target of {target.objective}: {target.display}"))
    table = Table(
        title=f"{answer.ranked:,} of {answer.candidates:,} candidates ranked ({answer.policy} case, missing: "
        f"{answer.missing})"
    )
    for column in ("rank", "name", "score", "pareto", *answer.objectives):
        table.add_column(column, overflow="fold")
    for c in answer.results:
        cells = [
            f"{k.score:.2f} {k.measurement.display}"
            if k.measurement
            else f"0 (missing: {k.missing.reason})"
            if k.missing
            else ""
            for k in c.criteria
        ]
        table.add_row(*_cells(str(c.rank), c.name, f"{c.score:.3f}", "yes" if c.pareto else "", *cells))
    console.print(table)


@app.command()
def datasets(json_output: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """The datasets with their counts, license and history of uploads."""
    from biomatdb.catalog import datasets_json

    with _read_engine().connect() as connection:
        documents = datasets_json(connection)
    if json_output:
        _print_json(documents)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for column in ("name", "license", "materials", "measurements", "evaluations", "uploads", "updated"):
        table.add_column(column)
    for d in documents:
        table.add_row(
            *_cells(
                d["name"],
                d["license"] or "",
                f"{d['materials']:,}",
                f"{d['measurements']:,}",
                f"{d['evaluations']:,}",
                str(len(d["history"])),
                d["updated_at"][:19],
            )
        )
    Console().print(table)


@app.command()
def retract(
    dataset: Annotated[str, typer.Argument(help="Name or numeric id of the dataset")],
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Retract a dataset, as DELETE /datasets/{id} does: its measurements leave the core, and so do
    the materials it created that are left with none; its record and upload history stay."""
    from sqlalchemy.orm import Session

    from biomatdb.catalog import find_dataset
    from biomatdb.errors import NotFoundError
    from biomatdb_ingest.retract import retract_dataset

    engine = _engine()
    try:
        with Session(engine) as session:
            try:
                found = find_dataset(session, dataset)
            except NotFoundError as exc:
                _echo(f"error: {exc.message}", err=True)
                raise typer.Exit(1) from exc
            dataset_id, retracted_before = found.id, found.retracted_at
        # a local command acts with no API key, so no ownership check (biomatdb.ownership)
        with engine.begin() as connection:
            retraction = retract_dataset(connection, dataset_id)
    finally:
        engine.dispose()
    if json_output:
        _print_json(retraction.as_dict())
        return
    _echo(
        f"retracted dataset {retraction.dataset!r}: {retraction.measurements_retracted:,} measurements removed, "
        f"{retraction.materials_removed:,} materials removed (created by it and left with no measurement), "
        f"{retraction.materials_touched:,} materials touched"
    )
    if retracted_before is not None:
        _echo(f"(it was already retracted on {retracted_before.isoformat()[:19]}; nothing was left to remove)")


def _elasticsearch(settings: Settings):
    """The Elasticsearch client of the settings; exits 2 with a message when no URL is set."""
    if not settings.elasticsearch_url:
        _echo(
            "error: BIOMATDB_ELASTICSEARCH_URL is not set; it names the Elasticsearch node to write to, "
            "e.g. http://localhost:9200",
            err=True,
        )
        raise typer.Exit(2)
    from elasticsearch import Elasticsearch

    return Elasticsearch(settings.elasticsearch_url)


@app.command()
def reindex() -> None:
    """Rebuild the Elasticsearch index from the core and swap the alias to it (searches never stop)."""
    from biomatdb.errors import SearchUnavailable
    from biomatdb_search.backends.elastic_sync import reindex as rebuild

    settings = Settings()
    client = _elasticsearch(settings)
    try:
        report = rebuild(
            _engine(settings),
            client,
            settings.elasticsearch_index,
            shards=settings.elasticsearch_shards,
            replicas=settings.elasticsearch_replicas,
        )
    except SearchUnavailable as exc:
        _echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    removed = f"; removed {', '.join(report.removed_indices)}" if report.removed_indices else ""
    _echo(
        f"{settings.elasticsearch_index} -> {report.index}: {report.documents:,} documents "
        f"in {report.seconds:.1f} s{removed}; {report.outbox_pruned:,} outbox rows it covered removed"
    )
    for refusal in report.skipped:
        _echo(
            f"skipped material {refusal.material_id}: Elasticsearch refused its document "
            f"({refusal.status} {refusal.error_type}: {printable(refusal.reason)})",
            err=True,
        )


def _print_sync_status(settings: Settings, engine, client) -> bool:
    """Print the sync's state; False when Elasticsearch could not be asked (the core's part is printed)."""
    from biomatdb_search.backends.elastic_sync import sync_status

    status = sync_status(engine, client, settings.elasticsearch_index)
    wait = "" if status.oldest_wait_s is None else f", the oldest waiting {status.oldest_wait_s:,.0f} s"
    _echo(f"outbox: {status.outbox_rows:,} materials wait{wait}")
    for building in status.building:
        _echo(f"reindex building {building.index} for {building.age_s:,.0f} s ({building.owner or 'no owner'})")
    _echo(f"dead letters: {status.dead_letter_count:,}")
    for dead in status.dead_letters:
        _echo(
            f"  {dead['public_id'] or dead['material_id']}: {dead['status']} {dead['error_type']}: "
            f"{printable(dead['reason'])}"
        )
    for warning in status.warnings(settings.elasticsearch_sync_warn_seconds):
        _echo(f"warning: {warning}")
    if status.elasticsearch_error is not None:
        _echo(f"error: {status.elasticsearch_error} (a reindex building is unknown)", err=True)
        return False
    return True


@app.command()
def sync(
    watch: Annotated[
        bool, typer.Option("--watch", help="Keep draining, every --interval seconds, until stopped")
    ] = False,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between rounds with --watch")] = 5.0,
    batch: Annotated[int, typer.Option(min=1, help="Outbox rows per bulk request")] = 500,
    status: Annotated[
        bool, typer.Option("--status", help="Show the outbox, a reindex building and the dead letters; change nothing")
    ] = False,
    retry_dead: Annotated[
        bool, typer.Option("--retry-dead", help="Put every dead letter back into the outbox, then sync")
    ] = False,
) -> None:
    """Bring the Elasticsearch index up to date with the core's changes (the search outbox).

    A document Elasticsearch refuses is set aside as a dead letter (shown by --status) and the rest
    goes on; with --watch the loop never stops on an error, it backs off and retries."""
    import threading

    from biomatdb.errors import SearchUnavailable
    from biomatdb_search.backends.elastic_sync import Drainer, SyncReport, retry_dead_letters, sync as drain

    settings = Settings()
    client = _elasticsearch(settings)
    engine = _read_engine(settings) if status else _engine(settings)  # --status changes nothing
    if status:
        if not _print_sync_status(settings, engine, client):
            raise typer.Exit(1)
        return
    if retry_dead:
        _echo(f"{retry_dead_letters(engine):,} dead letters put back into the outbox")

    def say(report: SyncReport) -> None:
        if report.outbox_rows or report.deferred or report.refused or report.pending or not watch:
            notes = [
                *(["a reindex is running or the alias moved; the rest waits"] if report.deferred else []),
                *([f"{report.stale:,} already newer in the index"] if report.stale else []),
                *([f"{report.refused:,} refused (dead letters: `biomatdb sync --status`)"] if report.refused else []),
                *([f"{report.pending:,} wait for Elasticsearch to have capacity"] if report.pending else []),
            ]
            _echo(
                f"synced {report.outbox_rows:,} outbox rows: {report.upserted:,} documents written, "
                f"{report.deleted:,} deleted" + "".join(f"; {note}" for note in notes)
            )

    if watch:
        drainer = Drainer(
            engine,
            client,
            settings.elasticsearch_index,
            interval_s=interval,
            max_backoff_s=settings.elasticsearch_sync_max_backoff_seconds,
            batch=batch,
            stale_after_s=settings.elasticsearch_reindex_stale_seconds,
            on_report=say,
        )
        try:
            drainer.run(threading.Event())
        except KeyboardInterrupt:
            return
    try:
        report = drain(
            engine,
            client,
            settings.elasticsearch_index,
            batch,
            stale_after_s=settings.elasticsearch_reindex_stale_seconds,
        )
    except SearchUnavailable as exc:
        _echo(f"error: {exc.message} (the outbox keeps every change)", err=True)
        raise typer.Exit(1) from exc
    say(report)


@app.command()
def worker() -> None:
    """Run upload jobs from the core's queue until stopped (SIGTERM or Ctrl+C), each in a process
    of its own under the job limits; with BIOMATDB_JOBS_IN_API=0 the API only queues them.

    Any number of workers, on any host that shares the data directory, share one queue: a job
    is claimed by one of them. A job whose worker died (SIGKILL, a lost host) applied nothing; it
    is marked failed by the next worker on that host, which then goes on with the queue."""
    import signal
    import threading

    from biomatdb_api.jobs import JobWorker

    settings = Settings()
    engine = _engine(settings)
    jobs = JobWorker(settings, engine)
    stopping = threading.Event()

    def stop(signum, _frame) -> None:
        stopping.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    jobs.start()
    _echo(
        f"biomatdb worker {jobs.identity}: {jobs.workers} job(s) at once, polling every {settings.job_poll_seconds:g} s"
    )
    sys.stdout.flush()
    try:
        while not stopping.wait(1.0):
            if not jobs.alive():  # a worker thread ended: exit non-zero, for the supervisor to restart us
                _echo("error: a job worker thread stopped; exiting", err=True)
                raise typer.Exit(1)
    finally:
        jobs.stop()
        engine.dispose()


apikey_app = typer.Typer(help="API keys for the curator and admin routes of the HTTP API.", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Option(help="Who or what the key is for; unique")],
    role: Annotated[str, typer.Option(help="reader, curator or admin")] = "curator",
) -> None:
    """Make a key; it is printed once, alone on the last line, and stored only as a hash."""
    from biomatdb.apikeys import create_key
    from biomatdb.errors import BiomatError

    engine = _engine()
    try:
        with engine.begin() as connection:
            listing, key = create_key(connection, name=name, role=role)
    except BiomatError as exc:
        _echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    _echo(f"API key {listing['name']!r} ({listing['role']}, id {listing['id']}); it is shown only now:")
    _echo(key)


@apikey_app.command("list")
def apikey_list(json_output: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """Every key: id, name, role, public prefix, created, revoked (never the key)."""
    from biomatdb.apikeys import list_keys

    engine = _read_engine()
    try:
        with engine.connect() as connection:
            listing = list_keys(connection)
    finally:
        engine.dispose()
    if json_output:
        _print_json(listing)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for column in ("id", "name", "role", "prefix", "created", "revoked"):
        table.add_column(column)
    for key in listing:
        table.add_row(
            *_cells(
                str(key["id"]),
                key["name"],
                key["role"],
                key["prefix"],
                key["created_at"][:19],
                (key["revoked_at"] or "")[:19],
            )
        )
    Console().print(table)


@apikey_app.command("revoke")
def apikey_revoke(name_or_id: Annotated[str, typer.Argument(help="Name or numeric id of the key")]) -> None:
    """Revoke a key: from now on it is refused like any unknown key."""
    from biomatdb.apikeys import revoke_key
    from biomatdb.errors import NotFoundError

    engine = _engine()
    try:
        with engine.begin() as connection:
            listing = revoke_key(connection, name_or_id)
    except NotFoundError as exc:
        _echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    _echo(f"revoked API key {listing['name']!r} (id {listing['id']})")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes")] = 1,
) -> None:
    """Run the HTTP API (uvicorn) over the configured database."""
    import uvicorn

    settings = Settings()
    _engine(settings).dispose()  # migrate once, before any worker starts
    from biomatdb_api.server import uvicorn_options

    uvicorn.run(
        "biomatdb_api.app:create_app",
        **uvicorn_options(factory=True, host=host, port=port, workers=workers, proxy_headers=True, log_level="info"),
    )


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on")] = 8000,
) -> None:
    """Run the read-only demo: the fixtures in an embedded SQLite database (demo.sqlite in the
    data dir, reused while the fixtures are unchanged), the API and the web UI. No servers, no network."""
    import threading
    import time

    import uvicorn

    from biomatdb_api.app import create_app
    from biomatdb_api.server import uvicorn_options
    from biomatdb_ingest.fixtures import default_fixtures_dir

    root = default_fixtures_dir()
    if not root.is_dir():
        _echo(f"error: no fixtures folder at {root}", err=True)
        raise typer.Exit(2)
    base = Settings()
    base.data_dir.mkdir(parents=True, exist_ok=True)
    settings = base.model_copy(
        update={
            "database_url": f"sqlite:///{base.data_dir / 'demo.sqlite'}",
            "elasticsearch_url": None,
            "read_only": True,
        }
    )
    _echo(f"preparing the demo database in {base.data_dir} …")
    discard_stale_demo(base.data_dir / "demo.sqlite")
    engine = _engine(settings)
    try:
        for path, report in _load_fixtures_with_progress(engine, root, chunk_rows=settings.ingest_chunk_rows):
            if not report.ok:
                _echo(f"error: fixture {path.relative_to(root)} does not load; see `biomatdb load-fixtures`", err=True)
                raise typer.Exit(1)
    finally:
        engine.dispose()
    application = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(application, **uvicorn_options(host=host, port=port, log_level="warning")))

    def warm_chemistry() -> None:
        # the first similar-materials list would otherwise wait seconds for the structure index
        while not server.started and not server.should_exit:
            time.sleep(0.1)
        if server.started:
            application.state.chemistry.snapshot()

    threading.Thread(target=warm_chemistry, name="demo-warm-up", daemon=True).start()
    address = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
    _echo(f"BiomatDB demo (read-only) at {address}  (Ctrl+C stops it)")
    sys.stdout.flush()
    server.run()


if __name__ == "__main__":  # `python -m biomatdb.cli …` runs the same commands as `biomatdb …`
    app()
