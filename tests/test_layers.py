"""Imports flow one way: biomatdb ← ingest ← search ← api. The core imports none of the others
at module level (the CLI imports them lazily, inside its commands)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ORDER = ["biomatdb", "ingest", "search", "api"]


def module_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:  # module level only: imports inside functions are lazy by design
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", ORDER)
def test_no_upward_imports(package):
    forbidden = set(ORDER[ORDER.index(package) + 1 :])
    offenders = {
        str(path.relative_to(ROOT)): sorted(module_level_imports(path) & forbidden)
        for path in (ROOT / package).rglob("*.py")
        if module_level_imports(path) & forbidden
    }
    assert offenders == {}


@pytest.mark.slow  # tens of seconds of CPU: CI runs it, the fast lane does not
def test_the_core_does_not_import_fastapi():
    for path in (ROOT / "biomatdb").rglob("*.py"):
        assert "fastapi" not in module_level_imports(path), path
