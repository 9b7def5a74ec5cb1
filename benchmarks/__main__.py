"""python -m benchmarks [--scale small|medium|large] [--out DIR]     # everything, results.json + results.md
python -m benchmarks ingest [--rows N] [--out DIR] [--seed S] [--backend sqlite|postgresql]
python -m benchmarks search [--scale S] [--backend sqlite|postgresql] [--out DIR]
python -m benchmarks select [--scale S] [--out DIR]
python -m benchmarks load [--rows N] [--seconds S] [--clients C] [--out DIR]
python -m benchmarks startup [--repetitions N] [--out DIR]   # the CLI's start on the fixtures"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

COLUMNS = ("name", "value", "unit", "baseline", "ratio", "target", "met")
# per scale: measurements of the ingest benchmark, and the load benchmark's upload and seconds
INGEST_ROWS = {"small": 100_000, "medium": 1_000_000, "large": 10_000_000}
LOAD = {"small": (50_000, 10.0), "medium": (200_000, 60.0), "large": (1_000_000, 120.0)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument(
        "--scale",
        choices=("small", "medium", "large"),
        default="small",
        help="small: minutes (10,000 materials); medium: 100,000; large: 1,000,000",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out"), help="where results.json and results.md go")
    commands = parser.add_subparsers(dest="command")
    ingest = commands.add_parser("ingest", help="end-to-end ingest against pandas + sqlite3")
    ingest.add_argument("--rows", type=int, default=1_000_000, help="measurements to generate (default 1,000,000)")
    ingest.add_argument("--out", type=Path, default=Path("benchmarks/out"), help="where files and results.json go")
    ingest.add_argument("--seed", type=int, default=42)
    ingest.add_argument(
        "--backend",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="SQLite against pandas + executemany, or a PostgreSQL server started for the run against COPY",
    )
    search = commands.add_parser("search", help="the query mix through the API and in process, chemistry, CLI")
    search.add_argument("--scale", choices=("small", "medium", "large"), default="small")
    search.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    search.add_argument(
        "--backend",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="the core: SQLite, or a PostgreSQL server started for the run",
    )
    choose = commands.add_parser("select", help="POST /api/v1/select against the plain search with its constraint")
    choose.add_argument("--scale", choices=("small", "medium", "large"), default="small")
    choose.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    load = commands.add_parser("load", help="searches through the API while a large upload is ingested")
    load.add_argument("--rows", type=int, default=200_000, help="measurements in the upload (default 200,000)")
    load.add_argument("--seconds", type=float, default=60.0, help="seconds of searching per phase (default 60)")
    load.add_argument("--clients", type=int, default=16, help="concurrent searching clients (default 16)")
    load.add_argument("--out", type=Path, default=Path("benchmarks/out"), help="where load-results.json goes")
    startup = commands.add_parser("startup", help="biomatdb --help, search, show, datasets on the fixtures")
    startup.add_argument("--repetitions", type=int, default=10, help="timed runs of each command (default 10)")
    startup.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    args = parser.parse_args()
    if args.command == "startup":
        from benchmarks.startup import run as run_startup

        _report(run_startup(args.out, args.repetitions), args.out, "CLI start-up on the fixtures")
        return
    if args.command == "load":
        from benchmarks.load import run as run_load

        print(json.dumps(run_load(args.rows, args.seconds, args.clients, args.out), indent=2))
        return
    if args.command == "ingest":
        from benchmarks.ingest import run

        _report(
            run(args.rows, args.out, args.seed, backend=args.backend),
            args.out,
            f"ingest benchmark, {args.rows:,} measurements, {args.backend}",
        )
        return
    if args.command == "select":
        from benchmarks.select import run as run_select

        _report(run_select(args.scale, args.out), args.out, f"selection benchmark, {args.scale}")
        return
    if args.command == "search":
        from benchmarks.search import run as run_search

        _report(
            run_search(args.scale, args.out, backend=args.backend),
            args.out,
            f"search benchmark, {args.scale}, {args.backend}",
        )
        return
    from benchmarks.ingest import run as run_ingest
    from benchmarks.load import load_rows, run as run_load
    from benchmarks.search import run as run_search

    results = run_ingest(INGEST_ROWS[args.scale], args.out / "ingest")
    results += run_search(args.scale, args.out / "search")
    rows, seconds = LOAD[args.scale]
    results += load_rows(run_load(rows, seconds, 16, args.out / "load"))
    from benchmarks.startup import run as run_startup

    results += run_startup(args.out / "startup")
    _report(results, args.out, f"benchmarks, {args.scale}")


def _report(results: list[dict], out: Path, title: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    lines = [f"# {title}", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    table = Table(title=title)
    for column in COLUMNS:
        table.add_column(column)
    for row in results:
        cells = [
            f"{row[c]:,}" if isinstance(row[c], (int, float)) and not isinstance(row[c], bool) else str(row[c])
            for c in COLUMNS
        ]
        table.add_row(*cells)
        lines.append("| " + " | ".join(cells) + " |")
    (out / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    Console().print(table)
    print(f"results written to {out / 'results.json'} and {out / 'results.md'}")


if __name__ == "__main__":
    main()
