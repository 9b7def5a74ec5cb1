"""The PostgreSQL test infrastructure: a real server, a fresh database per test, never a skip."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from biomatdb.models import Base, Property
from tests import postgres
from tests.postgres import PostgresServer, PostgresUnavailable, as_cluster_owner, ensure_pg_bin, find_pg_bin

pytest_plugins = ["pytester"]


def database_identity(url: str) -> tuple[int, list[str]]:
    """The database's oid (unique among the server's live databases) and its table names."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            oid = connection.scalar(text("SELECT oid FROM pg_database WHERE datname = current_database()"))
            return oid, inspect(connection).get_table_names()
    finally:
        engine.dispose()


# --- a real server -----------------------------------------------------------------------------


def test_server_is_a_real_postgresql(pg_url):
    engine = create_engine(pg_url)
    try:
        with engine.connect() as connection:
            version = connection.scalar(text("SELECT version()"))
            fsync = connection.scalar(text("SHOW fsync"))
            data_directory = connection.scalar(text("SHOW data_directory"))
    finally:
        engine.dispose()
    assert version.startswith("PostgreSQL ")
    assert fsync == "off"
    assert not data_directory.startswith("/var/lib/postgresql"), "the session must run its own cluster"


def test_server_listens_on_its_own_port(pg_server: PostgresServer):
    assert pg_server.host == "127.0.0.1"
    assert pg_server.port != 5432
    assert pg_server.url("materials") == f"postgresql+psycopg://postgres@127.0.0.1:{pg_server.port}/materials"


def test_pg_url_is_an_empty_database(pg_url):
    _oid, tables = database_identity(pg_url)
    assert tables == []


def test_pg_engine_has_the_migrated_schema(pg_engine):
    assert pg_engine.dialect.name == "postgresql"
    tables = set(inspect(pg_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    with pg_engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Property)) > 0


def test_pg_url_and_pg_engine_in_one_test_are_different_databases(pg_url, pg_engine):
    empty_oid, empty_tables = database_identity(pg_url)
    schema_oid, schema_tables = database_identity(pg_engine.url.render_as_string(hide_password=False))
    assert empty_oid != schema_oid
    assert empty_tables == []
    assert "alembic_version" in schema_tables


# --- a fresh database per test, proven by a pytest run of its own ---------------------------------

# Hypothesis's plugin imports all of hypothesis at session end, and pytester forgets every module
# an inner run imported: a second of imports per inner run, for nothing these runs use.
# the inner runs are plain pytest: no xdist, and no pytest-benchmark where a machine has it
INNER_PYTEST = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:xdist", "-p", "no:benchmark")

CONSECUTIVE_TESTS = """
from sqlalchemy import create_engine, inspect, text

seen = {}


def identity(url):
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            oid = connection.scalar(text("SELECT oid FROM pg_database WHERE datname = current_database()"))
            return oid, inspect(connection).get_table_names()
    finally:
        engine.dispose()


def test_first_creates_a_table(pg_url, pg_engine):
    engine = create_engine(pg_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE implant_note (body text)"))
    engine.dispose()
    with pg_engine.begin() as connection:
        connection.execute(text("CREATE TABLE scaffold_note (body text)"))
    seen["empty"] = identity(pg_url)
    seen["schema"] = identity(pg_engine.url.render_as_string(hide_password=False))
    assert "implant_note" in seen["empty"][1]
    assert "scaffold_note" in seen["schema"][1]


def test_second_does_not_see_it(pg_url, pg_engine):
    empty_oid, empty_tables = identity(pg_url)
    schema_oid, schema_tables = identity(pg_engine.url.render_as_string(hide_password=False))
    assert empty_oid != seen["empty"][0]
    assert schema_oid != seen["schema"][0]
    assert empty_tables == []
    assert "scaffold_note" not in schema_tables
    assert "alembic_version" in schema_tables
"""


@pytest.mark.slow  # tens of seconds of CPU: CI runs it, the fast lane does not
def test_each_test_gets_a_fresh_database(pytester: pytest.Pytester):
    pytester.makeconftest('pytest_plugins = ["tests.postgres"]')
    pytester.makepyfile(test_consecutive=CONSECUTIVE_TESTS)
    result = pytester.runpytest_inprocess(*INNER_PYTEST, "-W", "error")
    result.assert_outcomes(passed=2)


UNREACHABLE_POSTGRES_CONFTEST = """
import pytest

from tests import postgres

pytest_plugins = ["tests.postgres"]


def no_postgresql_anywhere():
    raise postgres.PostgresUnavailable("apt-get: no route to deb.debian.org")


@pytest.fixture(scope="session", autouse=True)
def unreachable_postgresql():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(postgres, "ensure_pg_bin", no_postgresql_anywhere)
        yield
"""


@pytest.mark.parametrize("ci", ["true", ""])
def test_without_postgresql_tests_fail_and_never_skip(pytester: pytest.Pytester, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    pytester.makeconftest(UNREACHABLE_POSTGRES_CONFTEST)
    pytester.makepyfile(test_needs_postgres="def test_needs_postgres(pg_engine):\n    pass\n")
    result = pytester.runpytest_inprocess(*INNER_PYTEST)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*never skipped*", "*apt-get: no route to deb.debian.org*"])


# --- finding PostgreSQL, and installing it when it is missing -------------------------------------


def fake_postgresql(bin_dir: Path, programs=("initdb", "pg_ctl", "postgres")) -> Path:
    bin_dir.mkdir(parents=True)
    for program in programs:
        executable = bin_dir / program
        executable.write_text("#!/bin/sh\n")
        executable.chmod(0o755)
    return bin_dir


def test_find_pg_bin_takes_the_highest_debian_version(tmp_path):
    versions = tmp_path / "usr/lib/postgresql"
    for version in ("9.6", "13", "15"):
        fake_postgresql(versions / version / "bin")
    assert find_pg_bin(versions_dir=versions, search_path="") == versions / "15" / "bin"


def test_find_pg_bin_passes_over_a_client_only_version(tmp_path):
    versions = tmp_path / "usr/lib/postgresql"
    fake_postgresql(versions / "15" / "bin")
    fake_postgresql(versions / "17" / "bin", programs=("psql", "pg_dump"))
    (versions / "common").mkdir()
    assert find_pg_bin(versions_dir=versions, search_path="") == versions / "15" / "bin"


def test_find_pg_bin_follows_a_pg_ctl_link_on_path(tmp_path):
    real_bin = fake_postgresql(tmp_path / "opt/pgsql/bin")
    linked = tmp_path / "usr/local/bin"
    linked.mkdir(parents=True)
    (linked / "pg_ctl").symlink_to(real_bin / "pg_ctl")
    search_path = f"{tmp_path / 'empty'}:{linked}"
    assert find_pg_bin(versions_dir=tmp_path / "absent", search_path=search_path) == real_bin


def test_find_pg_bin_finds_nothing_on_a_bare_machine(tmp_path):
    fake_postgresql(tmp_path / "usr/bin", programs=("psql",))
    assert find_pg_bin(versions_dir=tmp_path / "absent", search_path=str(tmp_path / "usr/bin")) is None


class Installer:
    """Stands in for apt: makes the binaries appear (or not) and counts the calls."""

    def __init__(self, bin_dir: Path | None):
        self.bin_dir = bin_dir
        self.installed = False
        self.calls = 0

    def find(self) -> Path | None:
        return self.bin_dir if self.installed else None

    def install(self) -> None:
        self.calls += 1
        self.installed = True


def test_ensure_pg_bin_does_not_install_what_is_there(tmp_path):
    installer = Installer(tmp_path)
    installer.installed = True
    assert ensure_pg_bin(find=installer.find, install=installer.install) == tmp_path
    assert installer.calls == 0


def test_ensure_pg_bin_installs_when_missing(tmp_path):
    installer = Installer(tmp_path)
    assert ensure_pg_bin(find=installer.find, install=installer.install) == tmp_path
    assert installer.calls == 1


def test_ensure_pg_bin_refuses_when_the_install_brings_no_binaries():
    installer = Installer(None)
    with pytest.raises(PostgresUnavailable, match="no directory holds initdb"):
        ensure_pg_bin(find=installer.find, install=installer.install)
    assert installer.calls == 1


def test_install_postgresql_runs_apt_non_interactively(monkeypatch):
    commands = []

    def apt(argv, **kwargs):
        commands.append((argv, kwargs["env"]["DEBIAN_FRONTEND"], kwargs["check"]))
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setattr(postgres.os, "geteuid", lambda: 0)
    postgres.install_postgresql(run=apt)
    assert commands == [
        (["apt-get", "update"], "noninteractive", True),
        (["apt-get", "install", "-y", "postgresql"], "noninteractive", True),
    ]


def test_install_postgresql_reports_apt_failure(monkeypatch):
    def apt(argv, **kwargs):
        raise subprocess.CalledProcessError(100, argv, stderr="E: Unable to locate package postgresql")

    monkeypatch.setattr(postgres.os, "geteuid", lambda: 0)
    with pytest.raises(PostgresUnavailable, match="Unable to locate package postgresql"):
        postgres.install_postgresql(run=apt)


def test_install_postgresql_refuses_without_root(monkeypatch):
    def apt(argv, **kwargs):
        raise AssertionError("apt must not run without root")

    monkeypatch.setattr(postgres.os, "geteuid", lambda: 1000)
    with pytest.raises(PostgresUnavailable, match="only root can install"):
        postgres.install_postgresql(run=apt)


@pytest.mark.parametrize(
    ("euid", "expected"),
    [
        (0, ["runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/initdb", "-D", "data"]),
        (1000, ["/usr/lib/postgresql/15/bin/initdb", "-D", "data"]),
    ],
)
def test_cluster_programs_run_as_postgres_only_under_root(euid, expected):
    assert as_cluster_owner(["/usr/lib/postgresql/15/bin/initdb", "-D", "data"], euid=euid) == expected


# --- starting on a free port --------------------------------------------------------------------

FAKE_PG_CTL = """#!/bin/sh
while [ $# -gt 0 ]; do
    if [ "$1" = "--log" ]; then log="$2"; fi
    shift
done
echo start >> "$(dirname "$0")/starts"
if [ "$(wc -l < "$(dirname "$0")/starts")" -le {failures} ]; then
    echo '{log_line}' >> "$log"
    exit 1
fi
"""
PORT_TAKEN = 'LOG:  could not bind IPv4 address "127.0.0.1": Address already in use'


def cluster_with_fake_pg_ctl(tmp_path: Path, monkeypatch, *, failures: int, log_line: str) -> postgres.Cluster:
    """A cluster whose pg_ctl fails its first ``failures`` starts, logging ``log_line``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pg_ctl = bin_dir / "pg_ctl"
    pg_ctl.write_text(FAKE_PG_CTL.format(failures=failures, log_line=log_line))
    pg_ctl.chmod(0o755)
    (tmp_path / "cluster").mkdir()
    # The fake lives in root's private tmp_path, where the postgres user could not run it.
    monkeypatch.setattr(postgres, "as_cluster_owner", list)
    return postgres.Cluster(bin_dir=bin_dir, base_dir=tmp_path / "cluster")


def starts(cluster: postgres.Cluster) -> int:
    return len((cluster.bin_dir / "starts").read_text().splitlines())


def test_start_moves_to_another_port_when_one_is_taken(tmp_path, monkeypatch):
    cluster = cluster_with_fake_pg_ctl(tmp_path, monkeypatch, failures=1, log_line=PORT_TAKEN)
    ports = iter([54001, 54002])
    cluster.start(pick_port=lambda: next(ports))
    assert (cluster.port, cluster.running, starts(cluster)) == (54002, True, 2)


def test_start_gives_up_when_every_port_is_taken(tmp_path, monkeypatch):
    cluster = cluster_with_fake_pg_ctl(tmp_path, monkeypatch, failures=99, log_line=PORT_TAKEN)
    with pytest.raises(PostgresUnavailable, match="Address already in use"):
        cluster.start(pick_port=lambda: 54001)
    assert (cluster.running, starts(cluster)) == (False, postgres.PORT_ATTEMPTS)


def test_start_reports_any_other_failure_at_once(tmp_path, monkeypatch):
    cluster = cluster_with_fake_pg_ctl(
        tmp_path, monkeypatch, failures=99, log_line="FATAL:  data directory has wrong ownership"
    )
    with pytest.raises(PostgresUnavailable, match="wrong ownership"):
        cluster.start(pick_port=lambda: 54001)
    assert (cluster.running, starts(cluster)) == (False, 1)
