"""The demo as a visitor gets it: ``biomatdb demo`` from a clean data directory, every write
route refused, and nothing on any page or asset that reaches a host other than the demo's.

What "refers to another host" means here, decided once:

* every ``http(s)://`` address in a page's attributes, inline scripts and styles, and in the
  CSS and JavaScript the UI serves, must name 127.0.0.1 or localhost;
* two kinds of address are not references and are allowed: a DOI link,
  ``<a class="doi" href="https://doi.org/…">`` (a citation a reader may follow, never
  loaded by the page), and an XML namespace name in ``xmlns`` (an identifier, never fetched);
* a source's address printed as text inside ``<pre class="citation">`` or a dataset's notes
  (``<p class="provenance">``, /about/datasets/NAME) is provenance, not a link, and is allowed;
* the plotly bundle (``biomatdb_api.ui.routes.PLOTLY_URL``, byte for byte the vendored file of
  ``api/biomatdb_api/ui/static/vendor``) names hosts for features the UI never uses (plotly's own site, its
  CDN); it is proved by behaviour instead: the browser tests refuse and record every request to
  another host, and every page carries ``Content-Security-Policy: default-src 'self'``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from html.parser import HTMLParser
from importlib import resources
from urllib.parse import urlsplit

import httpx
import pytest

from tests.live import free_port
from tests.ui_fixtures import OWN_HOSTS

URL = re.compile(r"https?://[^\s\"'<>)]+", re.IGNORECASE)
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
READS_BY_POST = {"/api/v1/search", "/api/v1/select"}  # a search, a ranking sent as a JSON body; they write nothing
PAGES = [
    "/",
    "/?filter=class+%3D+metal",
    "/?filter=youngs_modulus+%3E+5+GPaa",
    "/materials/PLLA",
    "/materials/Ti-6Al-4V",
    "/ashby",
    "/ashby?filter=class+%3D+polymer",
    "/ui/ashby.json",
    "/compare?ids=PLLA,PCL",
    "/select",
    "/select?preset=load_bearing_bone_implant",
    "/select?preset=dental_restoration&unit_system=US",
    "/select?objective=max%3Anonsense",
    "/about",
    "/about/datasets/biomatdb-curated-biological-evaluation",
    "/about/datasets/biomatdb-curated-polymers",
    "/materials/no-such-material",
]


class References(HTMLParser):
    """Every address in a page, with where it stands."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []  # (tag, attribute or "text", address)
        self.assets: list[str] = []
        self._stack: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self._stack.append((tag, attributes))
        for name, value in attrs:
            for address in URL.findall(value or ""):
                self.found.append((f"{tag}.{attributes.get('class', '')}", name, address))
        if tag == "script" and attributes.get("src"):
            self.assets.append(attributes["src"])
        if tag == "link" and attributes.get("href"):
            self.assets.append(attributes["href"])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self._stack.pop()

    def handle_endtag(self, tag):
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        tag, attributes = self._stack[-1] if self._stack else ("", {})
        for address in URL.findall(data):
            self.found.append((f"{tag}.{attributes.get('class', '')}", "text", address))


def foreign(address: str) -> bool:
    return urlsplit(address).hostname not in OWN_HOSTS


def allowed(where: str, attribute: str, address: str) -> bool:
    if (
        attribute == "href"
        and where.startswith("a.")
        and "doi" in where.split(".", 1)[1].split()
        and urlsplit(address).hostname == "doi.org"
    ):
        return True
    if attribute.startswith("xmlns"):
        return True
    classes = where.split(".", 1)[1].split()
    return attribute == "text" and (
        (where.startswith("pre.") and "citation" in classes) or (where.startswith("p.") and "provenance" in classes)
    )


@pytest.mark.slow
def test_no_page_or_asset_refers_to_another_host(demo_server):
    from biomatdb_api.ui.routes import PLOTLY_BUNDLE, PLOTLY_URL

    plotly = resources.files("biomatdb_api.ui").joinpath("static", "vendor", PLOTLY_BUNDLE).read_bytes()
    assets: set[str] = set()
    offenders = []
    with demo_server.client() as client:
        for path in PAGES:
            response = client.get(path)
            assert response.status_code in (200, 400, 404), (path, response.status_code)
            if response.headers["content-type"].startswith("text/html"):
                assert "default-src 'self'" in response.headers["content-security-policy"]
            parser = References()
            parser.feed(response.text)
            if not response.headers["content-type"].startswith("text/html"):
                parser.found += [("json", "text", a) for a in URL.findall(response.text)]
            offenders += [(path, *f) for f in parser.found if foreign(f[2]) and not allowed(*f)]
            assets.update(parser.assets)
        assert {"/ui/static/style.css", "/ui/static/app.js", PLOTLY_URL} <= assets
        for asset in sorted(assets):
            assert asset.startswith("/") and not asset.startswith("//"), asset  # served by the app itself
            response = client.get(asset)
            assert response.status_code == 200, asset
            if asset == PLOTLY_URL:
                assert response.content == plotly  # the vendored bundle, nothing added
                continue
            if asset.endswith(".svg"):  # markup: its xmlns is a namespace name
                parser = References()
                parser.feed(response.text)
                offenders += [(asset, *f) for f in parser.found if foreign(f[2]) and not allowed(*f)]
            else:
                offenders += [(asset, "asset", "text", a) for a in URL.findall(response.text) if foreign(a)]
        # a DOI link was really checked, not just absent
        material = client.get("/materials/Ti-6Al-4V").text + client.get("/materials/PDMS").text
    assert offenders == []
    assert 'class="doi" href="https://doi.org/' in material or "doi.org" not in material


def test_every_write_route_is_refused_in_demo_mode(demo_server, admin_key):
    with demo_server.client() as client:
        paths = client.get("/openapi.json").json()["paths"]
    routes = [
        (method.upper(), path)
        for path, operations in paths.items()
        for method in operations
        if method.upper() in WRITE_METHODS and path not in READS_BY_POST
    ]
    assert {method for method, _ in routes} >= {"POST", "DELETE"}  # uploads and retraction at least
    refused = {}
    with demo_server.client() as client:
        for method, template in routes:
            path = re.sub(r"\{[^}]+\}", "1", template)
            for headers in ({"Authorization": f"Bearer {admin_key}"}, {}):
                response = client.request(method, path, headers=headers, json={})
                refused[(method, path, bool(headers))] = response.status_code
    assert set(refused.values()) == {403}, refused
    # the reads sent by POST still answer
    with demo_server.client() as client:
        assert client.post("/api/v1/search", json={"filter": "class = metal"}).status_code == 200
        assert client.post("/api/v1/select", json={"preset": "cardiovascular_stent"}).status_code == 200


@pytest.mark.slow
def test_demo_command_starts_from_a_clean_data_dir(tmp_path):
    command = shutil.which("biomatdb")
    assert command, "the biomatdb console script is not installed"
    port = free_port()
    env = {**os.environ, "BIOMATDB_DATA_DIR": str(tmp_path / "data")}
    for name in ("BIOMATDB_DATABASE_URL", "BIOMATDB_ELASTICSEARCH_URL", "BIOMATDB_READ_ONLY"):
        env.pop(name, None)
    process = subprocess.Popen(
        [command, "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None  # stdout=PIPE
    try:
        address, printed = None, []
        deadline = time.monotonic() + 300
        while address is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            printed.append(line)
            found = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
            address = found.group(1) if found else None
        assert address == f"http://127.0.0.1:{port}/", "".join(printed)
        page = None
        while time.monotonic() < deadline:
            try:
                page = httpx.get(address, timeout=60)
                break
            except httpx.ConnectError:
                time.sleep(0.2)
        assert page is not None and page.status_code == 200
        assert "Find biomaterials" in page.text and "read-only demo" in page.text
        assert (tmp_path / "data" / "demo.sqlite").is_file()
        datasets = httpx.get(address + "api/v1/datasets", timeout=60).json()
        listed = datasets["datasets"] if isinstance(datasets, dict) else datasets
        assert {d["filename"] for d in listed} >= {"polymers.csv", "Polymer_Tg.csv"}
        assert httpx.post(address + "api/v1/datasets", timeout=60).status_code == 403
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        process.stdout.close()
