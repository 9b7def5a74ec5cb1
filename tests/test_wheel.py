"""BiomatDB from a wheel: built from this tree, installed (not editable) into a fresh virtualenv in a
folder outside the source tree, then ``biomatdb load-fixtures`` and ``biomatdb demo`` run from it.

The virtualenv borrows the already installed dependencies through a ``.pth`` path entry (so the
test needs no network and no minutes of installs), but not the editable install of this tree: a
path entry does not run the ``.pth`` hooks of the folder it names, so ``import biomatdb`` can only
find the wheel's copy. The test checks that it does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import time
import tomllib
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Each installed package and the folder its package directory sits in (pyproject's package-dir).
TOP_LEVEL = {
    "biomatdb": ROOT,
    "biomatdb_ingest": ROOT / "ingest",
    "biomatdb_search": ROOT / "search",
    "biomatdb_api": ROOT / "api",
}


def test_every_package_of_the_tree_is_listed_for_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(base).parts)
        for top, base in TOP_LEVEL.items()
        for init in (base / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found <= listed, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(found - listed)}"
    assert listed - found == {"biomatdb.fixtures"}


def test_constraints_pin_every_installed_dependency():
    """constraints.txt holds exactly the closure of biomatdb[test], at the versions installed."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("lock", ROOT / "deploy" / "lock.py")
    assert spec and spec.loader
    lock = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lock)
    wanted = lock.closure("biomatdb", {"test"})
    del wanted["biomatdb"]
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    pinned = dict(line.split("==") for line in lines if line and not line.startswith("#"))
    missing = sorted(set(wanted) - set(pinned))
    assert not missing, f"not pinned in constraints.txt (python deploy/lock.py > constraints.txt): {missing}"
    assert {name: pinned[name] for name in wanted} == wanted


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory):
    """A fresh virtualenv outside the tree with the wheel of this tree installed in it."""
    work = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(ROOT)],
        check=False,
        capture_output=True,
        text=True,
        cwd=work,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (work / "dist").glob("biomatdb-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "installed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--ignore-installed", "-q", str(wheel)],
        check=False,
        capture_output=True,
        text=True,
        cwd=work,
    )
    assert installed.returncode == 0, installed.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("BIOMATDB_") and k != "PYTHONPATH"}
    env |= {"BIOMATDB_DATA_DIR": str(work / "data"), "HOME": str(work)}
    return {"python": python, "bin": venv / "bin", "site": site, "cwd": work, "env": env, "wheel": wheel}


@pytest.mark.slow
def test_the_wheel_carries_the_fixtures_and_imports_only_itself(wheel_env):
    import zipfile

    names = zipfile.ZipFile(wheel_env["wheel"]).namelist()
    shipped = sorted(n.removeprefix("biomatdb/fixtures/") for n in names if n.startswith("biomatdb/fixtures/"))
    tree = sorted(str(p.relative_to(ROOT / "fixtures")) for p in (ROOT / "fixtures").rglob("*") if p.is_file())
    assert shipped == tree
    # only uniquely named packages: no generic `api`, `search` or `ingest` lands in site-packages
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert tops == set(TOP_LEVEL), tops
    where = subprocess.run(
        [
            wheel_env["python"],
            "-c",
            (
                "import biomatdb, biomatdb_ingest, biomatdb_search, biomatdb_api, biomatdb_ingest.fixtures as f; "
                "print(biomatdb.__file__, biomatdb_ingest.__file__, biomatdb_search.__file__, biomatdb_api.__file__,"
                " f.default_fixtures_dir())"
            ),
        ],
        check=False,
        capture_output=True,
        text=True,
        cwd=wheel_env["cwd"],
        env=wheel_env["env"],
    )
    assert where.returncode == 0, where.stderr
    for path in where.stdout.split():
        assert Path(path).is_relative_to(wheel_env["site"]), path


@pytest.mark.slow
def test_load_fixtures_and_the_demo_run_from_the_wheel(wheel_env):
    biomatdb = str(wheel_env["bin"] / "biomatdb")
    env = wheel_env["env"] | {"BIOMATDB_DATABASE_URL": f"sqlite:///{wheel_env['cwd'] / 'loaded.sqlite'}"}
    loaded = subprocess.run(
        [biomatdb, "load-fixtures"],
        check=False,
        capture_output=True,
        text=True,
        cwd=wheel_env["cwd"],
        env=env,
        timeout=1200,
    )
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert "FAILED" not in loaded.stdout and "loaded" in loaded.stdout
    port = _free_port()
    log = wheel_env["cwd"] / "demo.log"
    with log.open("w") as out:
        demo = subprocess.Popen(
            [biomatdb, "demo", "--port", str(port)],
            cwd=wheel_env["cwd"],
            env=wheel_env["env"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline and demo.poll() is None:
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert demo.poll() is None, log.read_text()
        found = httpx.get(f"{base}/api/v1/materials", params={"q": "titanium", "limit": 5}, timeout=60)
        assert found.status_code == 200 and found.json()["total"] > 0
        assert "BiomatDB" in httpx.get(f"{base}/", timeout=60).text
        about = httpx.get(f"{base}/about", timeout=60)
        assert about.status_code == 200 and "PolyMetriX" in about.text  # the shipped SOURCE.txt notes are read
    finally:
        demo.terminate()
        demo.wait(timeout=60)
