"""Slow clients over a real socket: a request head that never ends (slowloris), an upload
trickled a byte at a time, and a connection that sends nothing are closed, the upload's
partial file is removed, and the server keeps answering everyone else.

The bounds are made short here (``biomatdb_api.server`` reads them when a timer is set); what is
checked is that the connection is closed, not how fast."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest

import biomatdb_api.server
from biomatdb.db import make_engine, migrate
from biomatdb_api import params
from tests.api_fixtures import make_key, settings_for
from tests.live import serving

pytestmark = pytest.mark.slow  # live servers, and clients that wait for the server's timeouts


@pytest.fixture
def server(tmp_path, monkeypatch):
    from biomatdb_api.app import create_app

    monkeypatch.setattr(biomatdb_api.server, "HEAD_SECONDS", 0.5)
    monkeypatch.setattr(biomatdb_api.server, "BODY_WINDOW_SECONDS", 0.5)
    monkeypatch.setattr(biomatdb_api.server, "BODY_MIN_BYTES_PER_WINDOW", 1024)
    engine = make_engine(f"sqlite:///{tmp_path / 'core.sqlite'}")
    migrate(engine)
    curator = make_key(engine, "curator")
    data_dir = tmp_path / "data"
    app = create_app(settings_for(engine, data_dir))
    with serving(app, name="slow-clients-server") as port:
        yield port, curator, data_dir
    engine.dispose()


def _closed_by_server(connection: socket.socket, within_s: float = 30.0) -> bytes:
    """Everything the server sent before it closed the connection (fails if it never does)."""
    connection.settimeout(within_s)
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def _healthy(port: int) -> bool:
    return httpx.get(f"http://127.0.0.1:{port}/health", timeout=60).status_code == 200


def test_a_request_head_that_never_ends_is_closed_with_408(server):
    port, _, _ = server
    with socket.create_connection(("127.0.0.1", port)) as slow:
        slow.sendall(b"GET /api/v1/materials HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        answer = _closed_by_server(slow)
    assert answer.startswith(b"HTTP/1.1 408")
    assert _healthy(port)


def _answer_to(port: int, head: bytes) -> tuple[bytes, dict]:
    """Send ``head`` whole, as a client does, and read the answer: (status line, problem body)."""
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(head)
        answer = _closed_by_server(client)
    status, _, rest = answer.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in headers.lower(), answer[:500]
    return status, json.loads(body)


@pytest.mark.parametrize("megabytes", [1.5, 8])
def test_a_query_string_of_megabytes_is_answered_414_not_dropped(server, megabytes):
    # past what the server reads of a head at all (REQUEST_HEAD_MAX_BYTES), the answer is still a
    # problem the client can read: the rest of the head is drained before the connection closes
    port, _, _ = server
    query = "filter=" + "%F0%9F%A7%AA" * int(megabytes * 1024 * 1024 / 12)
    status, problem = _answer_to(port, f"GET /api/v1/export?{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status.startswith(b"HTTP/1.1 414")
    assert problem["type"] == "urn:biomatdb:problem:query-too-long" and problem["status"] == 414
    assert problem["instance"] == "/api/v1/export" and problem["limit"] == params.REQUEST_HEAD_MAX_BYTES
    assert f"{params.QUERY_STRING_MAX_BYTES:,} bytes" in problem["detail"]
    assert _healthy(port)


def test_headers_past_the_head_limit_are_answered_431(server):
    port, _, _ = server
    cookie = "a" * (params.REQUEST_HEAD_MAX_BYTES + 10)
    status, problem = _answer_to(port, f"GET /health HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n".encode())
    assert status.startswith(b"HTTP/1.1 431") and problem["type"] == "urn:biomatdb:problem:headers-too-long"
    assert _healthy(port)


def test_a_connection_that_sends_nothing_is_closed(server):
    port, _, _ = server
    with socket.create_connection(("127.0.0.1", port)) as silent:
        assert _closed_by_server(silent).startswith(b"HTTP/1.1 408")


def test_many_half_open_connections_are_all_closed_and_others_are_served(server):
    port, _, _ = server
    sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(50)]
    try:
        for half_open in sockets:
            half_open.sendall(b"GET / HTTP/1.1\r\n")
        assert _healthy(port)
        for half_open in sockets:
            _closed_by_server(half_open)
    finally:
        for half_open in sockets:
            half_open.close()


def test_an_upload_trickled_a_byte_at_a_time_is_closed_and_its_file_removed(server):
    port, curator, data_dir = server
    boundary = "xxBOUNDARYxx"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.csv"\r\n'
        "Content-Type: text/csv\r\n\r\nMaterial,Class,Property,Value,Unit\r\n"
    ).encode()
    request = (
        f"POST /api/v1/datasets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {curator}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 100000\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port)) as slow:
        slow.sendall(request + head)
        closed = False
        deadline = time.monotonic() + 300  # a bound, not a timing
        slow.settimeout(0.2)
        while time.monotonic() < deadline and not closed:
            try:
                slow.sendall(b"a")
                closed = slow.recv(65536) == b""
            except TimeoutError:
                continue
            except OSError:  # reset: closed as well
                closed = True
        assert closed, "the trickled upload was never cut off"
    deadline = time.monotonic() + 300  # a bound, not a timing
    uploads = data_dir / "uploads"
    while uploads.exists() and any(uploads.rglob("*.csv")):
        assert time.monotonic() < deadline, list(uploads.rglob("*"))
        time.sleep(0.05)
    assert _healthy(port)


def test_a_normal_upload_and_keep_alive_requests_are_unaffected(server):
    port, curator, _ = server
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for _ in range(3):
            assert client.get("/health").status_code == 200
        response = client.post(
            "/api/v1/datasets",
            headers={"Authorization": f"Bearer {curator}"},
            data={"name": "fine"},
            files={
                "file": (
                    "fine.csv",
                    (b"Material,Class,Property,Value,Unit\nX,polymer,tensile strength,10,MPa\n"),
                    "text/csv",
                )
            },
        )
        assert response.status_code == 202, response.text


def test_a_keep_alive_request_is_judged_by_its_own_body_not_the_previous_ones(server):
    """Found in review: the body-rate timer of one request cut off the next on the same connection."""
    port, _, _ = server
    body = b'{"text": "x"}'
    head = (
        f"POST /api/v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()

    def answer(connection: socket.socket) -> bytes:
        connection.settimeout(30)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = connection.recv(65536)
            assert chunk, "the server closed the connection"
            received += chunk
        head_text, _, rest = received.partition(b"\r\n\r\n")
        length = int(
            next(line.split(b":")[1] for line in head_text.split(b"\r\n") if line.lower().startswith(b"content-length"))
        )
        while len(rest) < length:
            chunk = connection.recv(65536)
            assert chunk, "the server closed the connection"
            rest += chunk
        return head_text

    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(head)
        time.sleep(0.05)
        client.sendall(body)
        assert answer(client).startswith(b"HTTP/1.1 200")
        time.sleep(0.35)  # the first request's window (0.5 s) ends while the second waits for its body
        client.sendall(head)
        time.sleep(0.3)
        client.sendall(body)
        assert answer(client).startswith(b"HTTP/1.1 200")
