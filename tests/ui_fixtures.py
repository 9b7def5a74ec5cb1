"""Fixtures of the UI tests: a read-only app served by uvicorn on a free port of 127.0.0.1
over a SQLite core holding the curated fixtures, and headless Chromium from Debian driven
by Playwright.

Chromium comes from Debian's ``chromium`` package, installed with apt-get when
``/usr/bin/chromium`` is missing (as root; otherwise the tests fail saying so). Playwright's
own browser downloads are never used. Every page a test opens is guarded: a request to any
host other than the demo's own is refused and fails the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import Engine

from biomatdb.apikeys import create_key
from biomatdb.db import make_engine, migrate
from biomatdb.settings import Settings
from biomatdb_ingest.fixtures import default_fixtures_dir, load_fixtures
from tests.live import serving

if TYPE_CHECKING:  # Playwright is imported only by the tests that drive a browser
    from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
]
OWN_HOSTS = {"127.0.0.1", "localhost"}
#: How long a page, a locator or an HTTP request to the demo may take before the test calls it a
#: hang: a guard, not a speed assertion. On a machine running several suites at once (load 8 on
#: two cores) a chart took over 20 s to draw and a search page over httpx's default 5 s.
HANG_S = 120
KIOSK: ViewportSize = {"width": 1920, "height": 1080}
PHONE: ViewportSize = {"width": 390, "height": 844}


def install_chromium() -> Path:
    """``/usr/bin/chromium``, installed from Debian's packages when missing."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.fail(
            f"{CHROMIUM} is missing and cannot be installed here (needs root and apt-get): "
            "install Debian's chromium package"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    if not CHROMIUM.exists():
        pytest.fail(f"the chromium package was installed but {CHROMIUM} is not there")
    return CHROMIUM


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    return install_chromium()


@pytest.fixture(scope="session")
def curated_core(tmp_path_factory) -> Iterator[Engine]:
    """A SQLite core with ``fixtures/curated`` loaded: polymers, natural materials, hydrogels,
    composites, metals, ceramics and reference tissues, every value cited; and the curated
    biological-evaluation records of ``fixtures/evidence``."""
    folder = tmp_path_factory.mktemp("ui-core")
    engine = make_engine(f"sqlite:///{folder / 'core.sqlite'}")
    migrate(engine)
    reports = load_fixtures(engine, default_fixtures_dir() / "curated")
    reports += load_fixtures(engine, default_fixtures_dir() / "evidence")
    assert reports and all(report.ok for _, report in reports), [r.as_dict()["errors"][:3] for _, r in reports]
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def admin_key(curated_core) -> str:
    with curated_core.begin() as connection:
        return create_key(connection, name="ui-admin", role="admin")[1]


@dataclass
class DemoServer:
    base_url: str
    app: object
    settings: Settings

    def client(self, **options) -> httpx.Client:
        """An HTTP client of the demo, with the hang guard as its timeout."""
        return httpx.Client(base_url=self.base_url, **{"timeout": HANG_S, **options})

    def get(self, path: str, **options) -> httpx.Response:
        """One GET of ``path`` on the demo."""
        with self.client() as client:
            return client.get(path, **options)


@pytest.fixture(scope="session")
def demo_server(curated_core, admin_key, tmp_path_factory) -> Iterator[DemoServer]:
    """The app in read-only mode (as ``biomatdb demo`` runs it), served by uvicorn in a thread."""
    from biomatdb_api.app import create_app

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("ui-data"),
        database_url=curated_core.url.render_as_string(hide_password=False),
        read_only=True,
        rate_limit=None,
        elasticsearch_url=None,
    )
    app = create_app(settings)
    with serving(app, name="ui-demo-server") as port:
        app.state.chemistry.snapshot()  # built once here, not inside a browser test's time budget
        yield DemoServer(f"http://127.0.0.1:{port}", app, settings)


@pytest.fixture(scope="module")
def browser(chromium_path) -> Iterator[Browser]:
    """Module-scoped: Playwright's sync API keeps an asyncio loop running in this thread while
    it is open, and an anyio test that comes after it on the same xdist worker then fails
    ("Cannot run the event loop while another loop is running")."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@dataclass
class GuardedPage:
    """A page whose requests may only go to the demo's own host; what it saw is recorded."""

    page: Page
    base_url: str
    screenshots: Path
    foreign_requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def shot(self, name: str) -> Path:
        path = self.screenshots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        assert path.stat().st_size > 5_000, f"screenshot {path} is nearly empty"
        return path


def _guard(recorded: list[str]):
    def handle(route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:", "about:")) or urlsplit(url).hostname in OWN_HOSTS:
            route.continue_()
        else:
            recorded.append(url)
            route.abort()

    return handle


def open_guarded(
    browser: Browser, demo_server: DemoServer, screenshots: Path, viewport: ViewportSize
) -> tuple[BrowserContext, GuardedPage]:
    context = browser.new_context(viewport=viewport, base_url=demo_server.base_url)
    foreign_requests: list[str] = []
    context.route("**/*", _guard(foreign_requests))
    page = context.new_page()
    guarded = GuardedPage(page, demo_server.base_url, screenshots, foreign_requests)
    page.set_default_timeout(HANG_S * 1000)
    page.set_default_navigation_timeout(HANG_S * 1000)
    page.on("pageerror", lambda error: guarded.errors.append(str(error)))
    return context, guarded


@pytest.fixture
def page(browser, demo_server, screenshots) -> Iterator[GuardedPage]:
    """A 1920 × 1080 kiosk page; after the test, no request left the demo's host and no script failed."""
    context, guarded = open_guarded(browser, demo_server, screenshots, KIOSK)
    yield guarded
    context.close()
    assert guarded.foreign_requests == []
    assert guarded.errors == []


@pytest.fixture
def phone_page(browser, demo_server, screenshots) -> Iterator[GuardedPage]:
    """A 390-px-wide phone page, guarded the same way."""
    context, guarded = open_guarded(browser, demo_server, screenshots, PHONE)
    yield guarded
    context.close()
    assert guarded.foreign_requests == []
    assert guarded.errors == []
