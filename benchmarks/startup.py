"""The CLI's start on the demo's own data: ``biomatdb --help`` and the read-only commands a
researcher types first (``search``, ``show``, ``datasets``), each a fresh process against
the shipped fixtures, beside ``python -c pass`` measured in the same run.

Each command runs as the installed ``biomatdb`` script does (``from biomatdb.cli import app;
app()`` in a new interpreter), ``repetitions`` times after one warm-up run; the figure is the
median wall time. What a command reads of the disk is warm after the first run, so the figures
are of imports and work, not of a cold page cache.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.search import _row

#: (figure name, the arguments of ``biomatdb``): each read-only, against the fixtures
COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cli_help", ("--help",)),
    ("cli_search_titanium", ("search", "titanium")),
    ("cli_search_poly_json", ("search", "poly", "--json")),
    ("cli_search_filter", ("search", "--filter", "youngs_modulus > 100 GPa")),
    ("cli_show_plla", ("show", "PLLA")),
    ("cli_datasets", ("datasets",)),
)
#: the project's own target (benchmarks/README.md): a search well under the 3 s it once took
TARGETS = {"cli_search_titanium": 0.7}


def _run(argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, check=False, env=env, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[3:])} exited {done.returncode}: {done.stderr.decode(errors='replace')}")


def _median_seconds(argv: list[str], env: dict[str, str], repetitions: int) -> float:
    _run(argv, env)  # warm: the page cache, .pyc files; and a command that fails says why
    times = []
    for _ in range(repetitions):
        started = time.perf_counter()
        subprocess.run(argv, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(out: Path, repetitions: int = 10, fixtures: Path | None = None) -> list[dict]:
    """Load the fixtures into a core under ``out`` (``biomatdb load-fixtures``: fresh on the first
    run, brought up to date on the next), then time each of ``COMMANDS`` against ``python -c pass``."""
    out.mkdir(parents=True, exist_ok=True)
    data = out / "startup-data"
    env = {
        **os.environ,
        "BIOMATDB_DATA_DIR": str(data),
        "BIOMATDB_DATABASE_URL": f"sqlite:///{data / 'biomatdb.sqlite'}",
        "COLUMNS": "120",
    }
    cli = [sys.executable, "-c", "from biomatdb.cli import app; app()"]
    # every run: a core an older BiomatDB wrote is migrated, and unchanged files are skipped
    _run([*cli, "load-fixtures", *([str(fixtures)] if fixtures is not None else [])], env)
    bare = _median_seconds([sys.executable, "-c", "pass"], env, repetitions)
    results = [_row("python_c_pass", bare, "s", None, None, None)]
    for name, arguments in COMMANDS:
        seconds = _median_seconds([*cli, *arguments], env, repetitions)
        target = TARGETS.get(name)
        results.append(
            _row(
                name,
                seconds,
                "s",
                bare,
                None if target is None else f"≤ {target} s",
                None if target is None else seconds <= target,
            )
        )
    return results
