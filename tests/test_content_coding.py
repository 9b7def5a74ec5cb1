"""Accept-Encoding as RFC 9110 reads it (``biomatdb_api.content_coding``), and the plotly bundle sent by
it: the bundle was sent gzip-compressed to ``gzip;q=0``, since the header was searched for
the word "gzip"."""

from __future__ import annotations

import gzip
from importlib import resources

import pytest

from biomatdb_api.content_coding import choose_coding, qvalues
from biomatdb_api.ui.routes import PLOTLY_BUNDLE, PLOTLY_URL

GZIP = ("gzip",)


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        (None, "identity"),  # no header: anything goes, and nothing unasked is compressed
        ("", "identity"),  # an empty header: no coding wanted
        ("gzip", "gzip"),
        ("gzip, deflate, br, zstd", "gzip"),  # Chromium's
        ("GZIP", "gzip"),
        ("x-gzip", "gzip"),
        ("gzip;q=0.5", "gzip"),  # identity unnamed comes after every coding named
        ("gzip;q=0", "identity"),
        ("gzip; q=0.000", "identity"),
        ("gzip;Q=0", "identity"),
        ("gzip ; q = 0", "identity"),
        ("gzip;q=0, identity", "identity"),
        ("identity", "identity"),
        ("br", "identity"),
        ("br;q=1, gzip;q=0", "identity"),
        ("*", "gzip"),
        ("*;q=0.3", "gzip"),
        ("*;q=0", None),  # refuses identity too: 406
        ("*;q=0, identity", "identity"),
        ("*;q=0, gzip;q=0.2", "gzip"),
        ("gzip;q=0, *", "identity"),  # gzip named: the star is for the others
        ("identity;q=0", None),
        ("identity;q=0, gzip;q=0", None),
        ("identity;q=0.9, gzip;q=0.4", "identity"),
        ("identity;q=0.4, gzip;q=0.9", "gzip"),
        ("identity, gzip", "gzip"),  # a tie: the server's preference
        ("gzip;q=2", "identity"),  # no q-value: the entry is ignored
        ("gzip;q=abc", "identity"),
        ("gzip;q=0.5555", "identity"),
        (",,gzip;q=0,,", "identity"),
    ],
)
def test_the_coding_chosen_honours_q_values(header, chosen):
    assert choose_coding(header, GZIP) == chosen


def test_q_values_are_read_per_coding():
    assert qvalues("gzip;q=0.5, br, identity;q=0, *;q=0.1") == {"gzip": 0.5, "br": 1.0, "identity": 0.0, "*": 0.1}
    assert qvalues("gzip;level=9;q=0.2") == {"gzip": 0.2}  # other parameters are not the weight
    assert qvalues("gzip;q=0, gzip") == {"gzip": 0.0}  # the first entry of a coding holds


@pytest.mark.parametrize(
    ("header", "coding"),
    [
        ("gzip", "gzip"),
        ("gzip, deflate, br", "gzip"),
        ("gzip;q=0", None),
        ("identity", None),
        ("br", None),
        ("*;q=0, identity", None),
    ],
)
def test_the_plotly_bundle_is_compressed_only_as_asked(demo_server, header, coding):
    plotly = resources.files("biomatdb_api.ui").joinpath("static", "vendor", PLOTLY_BUNDLE).read_bytes()
    with (
        demo_server.client() as client,
        client.stream("GET", PLOTLY_URL, headers={"Accept-Encoding": header}) as response,
    ):
        sent = b"".join(response.iter_raw())  # the bytes on the wire, not decoded
    assert response.status_code == 200
    assert response.headers.get("content-encoding") == coding
    assert response.headers["vary"] == "Accept-Encoding"
    assert (gzip.decompress(sent) if coding == "gzip" else sent) == plotly
    assert int(response.headers["content-length"]) == len(sent)


def test_a_header_refusing_every_coding_is_answered_406(demo_server):
    with demo_server.client() as client:
        for header in ("*;q=0", "identity;q=0, gzip;q=0"):
            response = client.get(PLOTLY_URL, headers={"Accept-Encoding": header})
            assert response.status_code == 406, header
            assert "content-encoding" not in response.headers
