"""Lint and types hold on the whole repository: `ruff check`, `ruff format --check` and `mypy`, configured in
pyproject.toml, report nothing. CI runs the README's test command only, so this is how it runs them."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *arguments], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )


def test_ruff_finds_nothing():
    done = _run("ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert done.returncode == 0, f"ruff check found:\n{done.stdout}{done.stderr}"


def test_the_code_is_formatted():
    done = _run("ruff", "format", "--check", "--no-cache", ".")
    assert done.returncode == 0, f"ruff format would change:\n{done.stdout}{done.stderr}\nrun: python -m ruff format ."


@pytest.mark.slow  # the whole tree, cold cache: minutes on 2 cores; `python -m mypy` in the inner loop
def test_mypy_finds_nothing():
    done = _run("mypy")  # the files and settings are pyproject.toml's [tool.mypy]
    assert done.returncode == 0, f"mypy found:\n{done.stdout}{done.stderr}"
