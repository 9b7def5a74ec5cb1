"""python -m benchmarks ingest [--rows N] [--out DIR] [--seed S]"""

from __future__ import annotations

import argparse
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
    args = parser.parse_args()
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
