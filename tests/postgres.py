"""A real PostgreSQL server for the test session, handed to pytest-postgresql.

The session starts its own cluster (never the distribution's one on 5432) in a
temporary directory, on a free port of 127.0.0.1, with trust authentication and
durability switched off for speed. pytest-postgresql then makes two template
databases on it — one empty, one with the BiomatDB schema migrated once — and
every test that asks for ``pg_url`` or ``pg_engine`` gets a fresh database cloned
from one of them (``fresh_database``), dropped after it.

When PostgreSQL is missing it is installed from Debian's ``postgresql``
package. When it still cannot be had, every test that needs it fails with the
reason: a test of PostgreSQL is never skipped, in CI or anywhere else.

Registered as a plugin from ``tests/conftest.py``: ``pytest_plugins = ["tests.postgres"]``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pytest_postgresql import factories
from sqlalchemy import URL, Engine

from biomatdb.db import make_engine, migrate

SUPERUSER = "postgres"
LOOPBACK = "127.0.0.1"
DEBIAN_VERSIONS_DIR = Path("/usr/lib/postgresql")
CLUSTER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}
PORT_ATTEMPTS = 3

# Durability buys nothing for a throw-away cluster and costs seconds per session.
SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


# A standby answers reads while it replays: queries it must cancel to replay are avoided by
# telling the primary which rows they still read.
STANDBY_SETTINGS = {"hot_standby": "on", "hot_standby_feedback": "on"}
STANDBY_STREAMING_WAIT_S = 60.0


class PostgresUnavailable(RuntimeError):
    """PostgreSQL could not be found, installed or started; the message says why."""


@dataclass(frozen=True)
class PostgresServer:
    """Where the session's server listens, and how to reach a database on it.

    ``password``, ``options``, ``maintenance_dbname`` and ``template_dbname``
    are what pytest-postgresql's ``depends_on`` reads from a base fixture.
    """

    host: str
    port: int
    user: str = SUPERUSER
    password: str | None = None
    options: str = ""
    maintenance_dbname: str = "postgres"
    template_dbname: str | None = None

    def url(self, dbname: str) -> str:
        """``postgresql+psycopg://postgres@127.0.0.1:PORT/DBNAME``."""
        return database_url(host=self.host, port=self.port, user=self.user, dbname=dbname, password=self.password)


def database_url(*, host: str, port: int | str, user: str, dbname: str, password: str | None = None) -> str:
    return URL.create(
        "postgresql+psycopg", username=user, password=password, host=host, port=int(port), database=dbname
    ).render_as_string(hide_password=False)


# --- finding and installing the binaries -----------------------------------------------------


def _version_key(directory: Path) -> tuple[int, ...] | None:
    try:
        return tuple(int(part) for part in directory.name.split("."))
    except ValueError:
        return None


def _holds_cluster_programs(directory: Path) -> bool:
    return all(os.access(directory / program, os.X_OK) for program in CLUSTER_PROGRAMS)


def find_pg_bin(*, versions_dir: Path = DEBIAN_VERSIONS_DIR, search_path: str | None = None) -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``, or None when there is none.

    Debian's ``/usr/lib/postgresql/<version>/bin`` wins, highest version first;
    then the first ``PATH`` entry that holds all three programs (symlinks are
    resolved, so a ``/usr/local/bin/pg_ctl`` link finds its real directory).
    """
    if versions_dir.is_dir():
        versioned = [(key, path) for path in versions_dir.iterdir() if (key := _version_key(path)) is not None]
        for _key, version_dir in sorted(versioned, reverse=True):
            if _holds_cluster_programs(version_dir / "bin"):
                return version_dir / "bin"
    for entry in (os.environ.get("PATH", "") if search_path is None else search_path).split(os.pathsep):
        if not entry:
            continue
        pg_ctl = Path(entry) / "pg_ctl"
        if pg_ctl.exists() and _holds_cluster_programs(pg_ctl.resolve().parent):
            return pg_ctl.resolve().parent
    return None


def install_postgresql(*, run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> None:
    """``apt-get update`` then ``apt-get install -y postgresql``, non-interactively.

    Refuses (raises PostgresUnavailable) when not root or when apt fails. The
    package may create and start its own cluster on 5432; nothing here uses it.
    """
    if os.geteuid() != 0:
        raise PostgresUnavailable(
            "PostgreSQL is not installed and only root can install it: run `apt-get install postgresql`"
            " (or put a directory holding initdb, pg_ctl and postgres on PATH)"
        )
    env = {**os.environ, **APT_ENV}
    for argv in (["apt-get", "update"], ["apt-get", "install", "-y", "postgresql"]):
        try:
            run(argv, env=env, check=True, capture_output=True, text=True)
        except FileNotFoundError as missing:
            raise PostgresUnavailable(f"cannot install PostgreSQL: {missing}") from missing
        except subprocess.CalledProcessError as failure:
            raise PostgresUnavailable(
                f"cannot install PostgreSQL: `{' '.join(argv)}` exited with {failure.returncode}:\n"
                f"{_tail(failure.stderr or failure.stdout)}"
            ) from failure


def ensure_pg_bin(
    *,
    find: Callable[[], Path | None] = find_pg_bin,
    install: Callable[[], None] = install_postgresql,
) -> Path:
    """The PostgreSQL binaries' directory, installing the package first when they are missing."""
    found = find()
    if found is not None:
        return found
    install()
    found = find()
    if found is None:
        raise PostgresUnavailable(
            f"the postgresql package was installed but no directory holds {', '.join(CLUSTER_PROGRAMS)}"
            f" (looked in {DEBIAN_VERSIONS_DIR}/*/bin and PATH)"
        )
    return found


# --- running a cluster ----------------------------------------------------------------------


def as_cluster_owner(argv: Sequence[str], *, euid: int | None = None) -> list[str]:
    """``argv`` run as the ``postgres`` user when we are root, since initdb and pg_ctl refuse root."""
    if (os.geteuid() if euid is None else euid) == 0:
        return ["runuser", "-u", SUPERUSER, "--", *argv]
    return list(argv)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def _ensure_postgres_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SUPERUSER)
    except KeyError:
        _run(["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", SUPERUSER])
        return pwd.getpwnam(SUPERUSER)


def _run(argv: Sequence[str], *, cwd: Path | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, cwd=cwd, check=True, capture_output=True, text=True)
    except FileNotFoundError as missing:
        raise PostgresUnavailable(f"cannot run {argv[0]}: {missing}") from missing
    except subprocess.CalledProcessError as failure:
        raise PostgresUnavailable(
            f"`{' '.join(argv)}` exited with {failure.returncode}:\n{_tail(failure.stderr or failure.stdout)}"
        ) from failure


def _tail(text: str | None, lines: int = 30) -> str:
    return "\n".join((text or "").strip().splitlines()[-lines:])


@dataclass
class Cluster:
    """One initdb'd data directory under ``base_dir``, its socket directory and its log."""

    bin_dir: Path
    base_dir: Path
    port: int = 0
    running: bool = field(default=False, init=False)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "socket"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "server.log"

    @property
    def server(self) -> PostgresServer:
        return PostgresServer(host=LOOPBACK, port=self.port)

    def _owner_run(self, program: str, *arguments: str) -> subprocess.CompletedProcess:
        # cwd matters when root: postgres must be able to read its working directory.
        return _run(as_cluster_owner([str(self.bin_dir / program), *arguments]), cwd=self.base_dir)

    def init(self) -> None:
        self._prepare_directories()
        self._owner_run(
            "initdb",
            "--pgdata",
            str(self.data_dir),
            "--username",
            SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        self._configure({"listen_addresses": f"'{LOOPBACK}'", **SERVER_SETTINGS})

    def init_standby_of(self, primary: Cluster) -> None:
        """A hot standby of ``primary`` (running): its base backup taken with ``pg_basebackup -R``
        (``standby.signal`` and ``primary_conninfo`` written), WAL streamed during the backup so
        that nothing of it waits for archiving."""
        self._prepare_directories()
        self._owner_run(
            "pg_basebackup",
            "--pgdata",
            str(self.data_dir),
            "--host",
            LOOPBACK,
            "--port",
            str(primary.port),
            "--username",
            SUPERUSER,
            "--write-recovery-conf",
            "--wal-method",
            "stream",
            "--checkpoint",
            "fast",
            "--no-sync",
        )
        # the primary's settings came with the backup; the later lines win
        self._configure(STANDBY_SETTINGS)

    def _prepare_directories(self) -> None:
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            owner = _ensure_postgres_user()
            for path in (self.base_dir, self.socket_dir):
                os.chown(path, owner.pw_uid, owner.pw_gid)
            try:
                _run(as_cluster_owner(["test", "-w", str(self.base_dir)]))
            except PostgresUnavailable as denied:
                raise PostgresUnavailable(
                    f"the {SUPERUSER} user cannot write {self.base_dir}; point TMPDIR at a directory it can enter"
                    f" ({denied})"
                ) from denied

    def _configure(self, settings: dict[str, str]) -> None:
        settings = {**settings, "unix_socket_directories": f"'{self.socket_dir}'"}
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# biomatdb test session\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def start(self, *, pick_port: Callable[[], int] = free_port) -> None:
        """Start on a free port, trying another when one is taken between probing and binding."""
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self.port = pick_port()
            try:
                self._owner_run(
                    "pg_ctl",
                    "start",
                    "--wait",
                    "--timeout",
                    "60",
                    "--pgdata",
                    str(self.data_dir),
                    "--log",
                    str(self.log_file),
                    "-o",
                    f"-p {self.port}",
                )
            except PostgresUnavailable as failure:
                log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
                if "could not bind" in log and attempt < PORT_ATTEMPTS:
                    self.log_file.unlink()
                    continue
                raise PostgresUnavailable(f"{failure}\nserver log:\n{_tail(log)}") from failure
            self.running = True
            return

    def halt(self) -> None:
        """Stop the server at once and keep its files (``stop`` removes them later): a database
        that went away under the processes using it."""
        if self.running:
            self._owner_run("pg_ctl", "stop", "--mode", "immediate", "--wait", "--pgdata", str(self.data_dir))
            self.running = False

    def stop(self) -> None:
        """Stop the server at once (nothing here needs to survive) and remove every file."""
        try:
            if self.running:
                self._owner_run("pg_ctl", "stop", "--mode", "immediate", "--wait", "--pgdata", str(self.data_dir))
                self.running = False
        finally:
            shutil.rmtree(self.base_dir)


def start_cluster(bin_dir: Path) -> Cluster:
    """A running cluster in a new temporary directory; on failure nothing is left behind."""
    cluster = Cluster(bin_dir=bin_dir, base_dir=Path(tempfile.mkdtemp(prefix="biomatdb-pg-")))
    try:
        cluster.init()
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster


def start_standby(primary: Cluster) -> Cluster:
    """A hot standby of ``primary`` streaming from it, in a new temporary directory, once it
    is in recovery and its WAL receiver streams; on failure nothing is left behind."""
    standby = Cluster(bin_dir=primary.bin_dir, base_dir=Path(tempfile.mkdtemp(prefix="biomatdb-pg-standby-")))
    try:
        standby.init_standby_of(primary)
        standby.start()
        wait_streaming(standby.server)
    except BaseException:
        standby.stop()
        raise
    return standby


def _start_session_standby(primary: Cluster) -> Cluster | str:
    """The running standby, or why there is none (returned, as ``_start_session_cluster`` does)."""
    try:
        return start_standby(primary)
    except PostgresUnavailable as reason:
        return unavailable_message(reason)


def wait_streaming(standby: PostgresServer, *, timeout_s: float = STANDBY_STREAMING_WAIT_S) -> None:
    """Return once ``standby`` is in recovery with its WAL receiver streaming; raise
    PostgresUnavailable, with what it last said, when it does not within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    state: tuple | None = None
    while time.monotonic() < deadline:
        with admin_connection(standby) as connection:
            state = connection.execute(
                "SELECT pg_is_in_recovery(), (SELECT status FROM pg_stat_wal_receiver)"
            ).fetchone()
        if state == (True, "streaming"):
            return
        time.sleep(0.05)
    raise PostgresUnavailable(f"the standby on port {standby.port} is not streaming: (in recovery, receiver) = {state}")


def wait_replayed(primary: PostgresServer, standby: PostgresServer, *, timeout_s: float = 60.0) -> None:
    """Return once ``standby`` has replayed everything ``primary`` had written when called."""
    with admin_connection(primary) as connection:
        (written,) = connection.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with admin_connection(standby) as connection:
            (caught_up,) = connection.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (written,)).fetchone()
        if caught_up:
            return
        time.sleep(0.02)
    raise AssertionError(f"the standby on port {standby.port} did not replay up to {written} in {timeout_s} s")


@dataclass(frozen=True)
class ReplicatedServers:
    """A primary and its streaming hot standby, and how long the standby took to start."""

    primary: PostgresServer
    standby: PostgresServer
    standby_start_s: float


@dataclass(frozen=True)
class ReplicatedCore:
    """One migrated database on the primary, as the primary and the standby serve it."""

    servers: ReplicatedServers
    dbname: str

    @property
    def primary_url(self) -> str:
        return self.servers.primary.url(self.dbname)

    @property
    def standby_url(self) -> str:
        return self.servers.standby.url(self.dbname)

    def wait_replayed(self) -> None:
        wait_replayed(self.servers.primary, self.servers.standby)


def _start_session_cluster() -> Cluster | str:
    """The running cluster, or why there is none.

    The reason is returned rather than raised so that the fixture fails outside
    an except block, and the report shows it once instead of a traceback chain.
    """
    try:
        return start_cluster(ensure_pg_bin())
    except PostgresUnavailable as reason:
        return unavailable_message(reason)


def unavailable_message(reason: PostgresUnavailable) -> str:
    where = "CI (CI=true)" if os.environ.get("CI", "").lower() == "true" else "this machine"
    return (
        f"PostgreSQL is required on {where} and tests that need it are never skipped, "
        f"but it could not be started:\n{reason}"
    )


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """The session's own PostgreSQL server; fails every test that asks for it when there is none."""
    started = time.perf_counter()
    cluster = _start_session_cluster()
    if isinstance(cluster, str):
        pytest.fail(cluster, pytrace=False)
    server = cluster.server
    print(f"\nPostgreSQL on {server.host}:{server.port} ready in {time.perf_counter() - started:.2f} s")
    try:
        yield server
    finally:
        cluster.stop()


REPLICATED_TEMPLATE = "biomatdb_replicated_schema"


@pytest.fixture(scope="session")
def pg_replicated() -> Iterator[ReplicatedServers]:
    """A PostgreSQL primary of its own with a streaming hot standby (``pg_basebackup -R``), both on
    loopback, holding a migrated template database; started only for the tests that ask."""
    primary = _start_session_cluster()
    if isinstance(primary, str):
        pytest.fail(primary, pytrace=False)
    try:
        with admin_connection(primary.server) as admin:
            admin.execute(f'CREATE DATABASE "{REPLICATED_TEMPLATE}"')
        engine = make_engine(primary.server.url(REPLICATED_TEMPLATE))
        try:
            migrate(engine)
        finally:
            engine.dispose()
        started = time.perf_counter()
        standby = _start_session_standby(primary)
        if isinstance(standby, str):
            pytest.fail(standby, pytrace=False)
        servers = ReplicatedServers(primary.server, standby.server, time.perf_counter() - started)
        print(
            f"\nPostgreSQL primary on port {primary.port}, standby on port {standby.port} streaming"
            f" {servers.standby_start_s:.2f} s after its base backup began"
        )
        try:
            yield servers
        finally:
            standby.stop()
    finally:
        primary.stop()


@pytest.fixture
def replicated_core(pg_replicated: ReplicatedServers, request) -> Iterator[ReplicatedCore]:
    """A fresh migrated database on the primary, already replayed on the standby; dropped after."""
    dbname = f"replicated_{request.node.name}"[:60].replace("[", "_").replace("]", "_")
    primary = pg_replicated.primary
    with admin_connection(primary) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
        admin.execute(f'CREATE DATABASE "{dbname}" TEMPLATE "{REPLICATED_TEMPLATE}"')
    core = ReplicatedCore(pg_replicated, dbname)
    core.wait_replayed()
    try:
        yield core
    finally:
        with admin_connection(primary) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def apply_schema(
    *, host: str, port: int | str, user: str, dbname: str, password: str | None = None, **_: object
) -> None:
    """pytest-postgresql loader: migrate the schema template once, for every ``pg_engine`` to clone."""
    engine = make_engine(database_url(host=host, port=port, user=user, dbname=dbname, password=password))
    try:
        migrate(engine)
    finally:
        engine.dispose()


pg_empty_template = factories.postgresql_noproc(dbname="biomatdb_empty", depends_on="pg_server")
pg_schema_template = factories.postgresql_noproc(dbname="biomatdb_schema", depends_on="pg_server", load=[apply_schema])


def admin_connection(server: PostgresServer):
    import psycopg

    return psycopg.connect(
        f"host={server.host} port={server.port} user={server.user} dbname={server.maintenance_dbname}", autocommit=True
    )


@pytest.fixture(scope="session")
def pg_admin(pg_server: PostgresServer):
    """One autocommit connection to the maintenance database for the session's clones and drops.

    A per-test database used to cost about 0.25 s of wall time through pytest-postgresql's
    janitor (two new connections, a WAL-logged copy, a connection to the clone); with this
    connection and a file copy it is some 0.03 s, over some 600 PostgreSQL tests of the fast
    lane."""
    with admin_connection(pg_server) as admin:
        yield admin


_CLONES = itertools.count()


@contextlib.contextmanager
def fresh_database(admin, *, template: str) -> Iterator[str]:
    """The name of a fresh database cloned from ``template``, dropped (with any connection a test
    left open) afterwards. ``STRATEGY file_copy`` copies the template's few files where the
    default WAL-logs every block: three times faster for a schema-only template."""
    dbname = f"test_{os.getpid()}_{next(_CLONES)}"
    admin.execute(f'CREATE DATABASE "{dbname}" TEMPLATE "{template}" STRATEGY file_copy')
    try:
        yield dbname
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_server: PostgresServer, pg_admin, pg_empty_template) -> Iterator[str]:
    """URL of a fresh, empty database (no schema) that is dropped after the test."""
    with fresh_database(pg_admin, template=pg_empty_template.template_dbname) as dbname:
        yield pg_server.url(dbname)


@pytest.fixture
def pg_engine(request, pg_server: PostgresServer, pg_admin, pg_schema_template, tmp_path_factory) -> Iterator[Engine]:
    """An engine on a fresh database cloned from the migrated template (or from one with the
    test's ``@preloaded`` data loaded: ``tests/preloaded.py``); disposed after the test."""
    from tests.preloaded import postgresql_template, preloads

    template = pg_schema_template.template_dbname
    if names := preloads(request):
        template = postgresql_template(pg_server, pg_admin, template, names, tmp_path_factory)
    with fresh_database(pg_admin, template=template) as dbname:
        engine = make_engine(pg_server.url(dbname))
        try:
            yield engine
        finally:
            engine.dispose()


@contextlib.contextmanager
def cloned_database(server: PostgresServer, *, template: str, dbname: str) -> Iterator[Engine]:
    """A database of its own cloned from ``template`` (``CREATE DATABASE … TEMPLATE``), for a
    fixture wider than one test; dropped afterwards. No connection may be open on the template."""
    with admin_connection(server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
        admin.execute(f'CREATE DATABASE "{dbname}" TEMPLATE "{template}"')
    engine = make_engine(server.url(dbname))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin_connection(server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_engine(request, tmp_path_factory) -> Iterator[Engine]:
    """A migrated core on each relational backend shared by one test module: for modules that
    load data once and only read it."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('module-core') / 'core.sqlite'}")
        migrate(engine)
        yield engine
        engine.dispose()
        return
    server = request.getfixturevalue("pg_server")
    template = request.getfixturevalue("pg_schema_template").template_dbname
    name = f"module_{request.module.__name__.rsplit('.', 1)[-1]}"[:60]
    with cloned_database(server, template=template, dbname=name) as engine:
        yield engine
