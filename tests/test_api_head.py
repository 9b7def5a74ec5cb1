"""``HEAD`` is answered wherever ``GET`` is (RFC 9110, section 9.3.2): the ``GET``'s status and
headers, no body; ``OPTIONS`` and a 405's ``Allow`` list it beside GET. Every route answered 405."""

from __future__ import annotations

import httpx
import pytest

from biomatdb_api.ui.routes import PLOTLY_URL

#: headers that say when or which answer, not what it is
_PER_ANSWER = {"date", "server", "x-request-id", "set-cookie", "transfer-encoding", "connection", "keep-alive"}
_BODY = b"\r\n"


def _ui_paths(dataset: str) -> list[str]:
    return [
        "/",
        "/?filter=youngs_modulus%20%3E%2050%20GPa",
        "/materials/PLLA",
        "/materials/no-such-material",
        "/ashby",
        "/ui/ashby.json",
        "/select",
        "/compare?ids=PLLA&ids=PCL",
        "/about",
        f"/about/datasets/{dataset}",
        "/ui/units",
        PLOTLY_URL,
        "/ui/static/style.css",
        "/ui/static/app.js",
        "/ui/static/no-such-file.css",
        "/favicon.ico",
    ]


def _api_paths(client: httpx.Client) -> list[str]:
    """Every GET of the OpenAPI document, its path parameters filled from the fixtures."""
    dataset = client.get("/api/v1/datasets").json()[0]
    values = {"{material_id}": "PLLA", "{dataset_id}": str(dataset["id"]), "{job_id}": "1"}
    found = []
    for template, operations in client.get("/openapi.json").json()["paths"].items():
        if "get" not in operations:
            continue
        path = template
        for name, value in values.items():
            path = path.replace(name, value)
        assert "{" not in path, path
        found.append(path)
    return found


def _headers(response: httpx.Response) -> dict[str, str]:
    kept = {k: v for k, v in response.headers.items() if k not in _PER_ANSWER}
    return kept


@pytest.mark.slow
def test_every_get_answers_head_with_its_status_and_headers(demo_server):
    with demo_server.client() as client:
        dataset = client.get("/api/v1/datasets").json()[0]["name"]
        paths = _api_paths(client) + _ui_paths(dataset) + ["/api/v1/export?format=csv&filter=class%20%3D%20metal"]
        assert len(paths) > 30
        checked = []
        for path in paths:
            got = client.get(path)
            head = client.head(path)
            assert head.status_code == got.status_code != 405, path
            assert head.content == b"", path
            assert _headers(head) == _headers(got), path
            checked.append((path, head.status_code, head.headers.get("content-length")))
    assert {status for _, status, _ in checked} >= {200, 308, 404}
    assert sum(length is not None for _, _, length in checked) > 20  # the GET's Content-Length, where it has one


def test_head_of_a_compressed_asset_keeps_its_coding_and_length(demo_server):
    with demo_server.client(headers={"Accept-Encoding": "gzip"}) as client:
        got, head = client.get(PLOTLY_URL), client.head(PLOTLY_URL)
    assert head.headers["content-encoding"] == got.headers["content-encoding"] == "gzip"
    assert head.headers["content-length"] == got.headers["content-length"]
    assert (
        head.headers["cache-control"] == got.headers["cache-control"] and "immutable" in head.headers["cache-control"]
    )


@pytest.mark.parametrize("path", ["/api/v1/datasets/1", "/api/v1/materials", "/materials/PLLA", "/ui/static/app.js"])
def test_options_lists_head_beside_get(demo_server, path):
    with demo_server.client() as client:
        allow = [m.strip() for m in client.options(path).headers["allow"].split(",")]
    assert allow.index("HEAD") == allow.index("GET") + 1 and "OPTIONS" in allow


def test_a_405_lists_head_where_get_is_served(demo_server):
    with demo_server.client() as client:
        refused = client.put("/api/v1/materials")
        post_only = client.head("/api/v1/search")
    assert refused.status_code == 405 and "HEAD" in refused.headers["allow"].split(", ")
    # a path served by POST only: HEAD is refused as its GET would be, and not offered
    assert post_only.status_code == 405 and "HEAD" not in post_only.headers["allow"]


def test_head_is_not_an_operation_of_the_openapi_document(demo_server):
    """HEAD is implied by every GET; a generated client would get a second, bodiless function per route."""
    with demo_server.client() as client:
        paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path, operations in paths.items() if "head" in operations]


def _asgi_head(app, path: str) -> list[dict]:
    import anyio

    from biomatdb_api.head import HeadAsGet

    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "HEAD",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [],
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1),
    }
    anyio.run(HeadAsGet(app), scope, receive, send)
    return sent


def test_head_sends_no_body_and_stops_a_streamed_one_at_its_first_chunk(tmp_path):
    """Below the server (which drops a HEAD's body itself): the app's body never reaches it, a
    stream with no Content-Length stops being made, and a file's cleanup still runs."""
    from starlette.applications import Starlette
    from starlette.background import BackgroundTask
    from starlette.responses import FileResponse, StreamingResponse
    from starlette.routing import Route

    made: list[int] = []

    def rows():
        for i in range(1000):
            made.append(i)
            yield b"row\n"

    (tmp_path / "package").mkdir()
    archive = tmp_path / "package" / "data.zip"
    archive.write_bytes(b"x" * 200_000)

    def file(request):
        return FileResponse(archive, background=BackgroundTask(archive.unlink))

    app = Starlette(
        routes=[
            Route("/stream", lambda request: StreamingResponse(rows(), media_type="text/csv")),
            Route("/file", file),
        ]
    )
    streamed = _asgi_head(app, "/stream")
    assert streamed[0]["status"] == 200 and [m["body"] for m in streamed[1:]] == [b""]
    assert 0 < len(made) < 10
    filed = _asgi_head(app, "/file")
    assert dict(filed[0]["headers"])[b"content-length"] == b"200000"
    assert [m["body"] for m in filed[1:]] == [b""] and not archive.exists()
