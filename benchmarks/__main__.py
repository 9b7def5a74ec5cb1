"""python -m benchmarks ingest [--rows N] [--out DIR] [--seed S]
python -m benchmarks load [--rows N] [--seconds S] [--clients C] [--out DIR]"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    commands = parser.add_subparsers(dest="command", required=True)
    ingest = commands.add_parser("ingest", help="end-to-end ingest against pandas + sqlite3")
    ingest.add_argument("--rows", type=int, default=1_000_000, help="measurements to generate (default 1,000,000)")
    ingest.add_argument("--out", type=Path, default=Path("benchmarks/out"), help="where files and results.json go")
    ingest.add_argument("--seed", type=int, default=42)
    load = commands.add_parser("load", help="searches through the API while a large upload is ingested")
    load.add_argument("--rows", type=int, default=200_000, help="measurements in the upload (default 200,000)")
    load.add_argument("--seconds", type=float, default=60.0, help="seconds of searching per phase (default 60)")
    load.add_argument("--clients", type=int, default=16, help="concurrent searching clients (default 16)")
    load.add_argument("--out", type=Path, default=Path("benchmarks/out"), help="where load-results.json goes")
    args = parser.parse_args()
    if args.command == "load":
        from benchmarks.load import run as run_load

        print(json.dumps(run_load(args.rows, args.seconds, args.clients, args.out), indent=2))
        return
    from benchmarks.ingest import run

    results = run(args.rows, args.out, args.seed)
    table = Table(title=f"ingest benchmark, {args.rows:,} measurements")
    for column in ("name", "value", "unit", "baseline", "ratio", "target", "met"):
        table.add_column(column)
    for row in results:
        table.add_row(*(f"{row[c]:,}" if isinstance(row[c], int) and not isinstance(row[c], bool) else str(row[c])
                        for c in ("name", "value", "unit", "baseline", "ratio", "target", "met")))
    Console().print(table)
    print(f"results written to {args.out / 'results.json'}")


if __name__ == "__main__":
    main()
