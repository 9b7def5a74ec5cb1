"""Selection at scale: ``POST /api/v1/select`` through a real server over a generated core,
p50 and p99, against the plain search with the same constraint (``GET /api/v1/materials``) as
the baseline measured in the same run. Figures only; nothing here asserts a time."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import httpx

from benchmarks.search import SCALES, _percentile, _row, _timed, write_core

TISSUES = Path(__file__).resolve().parent.parent / "fixtures" / "curated" / "reference-tissues.tsv"

#: (name, constraint, objectives): the constraint alone is the baseline's search.
SELECTIONS: list[tuple[str, str, list[dict]]] = [
    ("select_metal_match_cortical", "class = metal", [{"kind": "match", "property": "E", "tissue": "cortical bone"}]),
    (
        "select_metal_strong_three_objectives",
        "class = metal AND tensile_strength > 500 MPa",
        [
            {"kind": "match", "property": "E", "tissue": "cortical bone", "weight": 2},
            {"kind": "max", "property": "tensile_strength"},
            {"kind": "min", "property": "density", "weight": 0.5},
        ],
    ),
    (
        "select_polymer_soft_and_light",
        "class = polymer AND youngs_modulus < 1 GPa",
        [{"kind": "min", "property": "density"}, {"kind": "max", "property": "elongation_at_break"}],
    ),
]


def run(scale: str, out: Path, seed: int = 42, repetitions: int = 20, materials: int | None = None) -> list[dict]:
    from benchmarks.load import scratch, serving
    from biomatdb.db import make_engine, migrate
    from biomatdb_ingest.pipeline import IngestOptions, ingest_file

    materials = materials or SCALES[scale]
    out.mkdir(parents=True, exist_ok=True)
    with scratch(f"biomatdb-select-{scale}-", out) as work:
        url = f"sqlite:///{work / 'data' / 'biomatdb.sqlite'}"
        data = work / f"core-{materials}.csv"
        write_core(data, materials, seed)
        engine = make_engine(url)
        migrate(engine)
        started = time.perf_counter()
        report = ingest_file(engine, data, IngestOptions(dataset="generated", license="CC0-1.0"))
        assert report.loaded, report.errors[:3]
        tissues = ingest_file(engine, TISSUES)
        assert tissues.loaded, tissues.errors[:3]
        results = [_row(f"select_{scale}_core_load", time.perf_counter() - started, "s", None, None, None)]
        engine.dispose()
        env = {
            **os.environ,
            "BIOMATDB_DATABASE_URL": url,
            "BIOMATDB_DATA_DIR": str(work / "data"),
            "BIOMATDB_RATE_LIMIT": "",
        }
        with (
            serving(env, work / "server.log", ready="/ready") as base_url,
            httpx.Client(base_url=base_url, timeout=600) as http,
        ):
            _wait_for_index(http)
            for name, constraint, objectives in SELECTIONS:
                body = {"constraint": constraint, "objectives": objectives, "limit": 20}
                answer = _post(http, body)
                plain = _timed(lambda c=constraint: _get(http, {"filter": c, "limit": 20}), repetitions)
                chosen = _timed(lambda b=body: _post(http, b), repetitions)
                print(
                    f"{name}: {answer['candidates']:,} candidates, {answer['ranked']:,} ranked; "
                    f"select p50 {statistics.median(chosen):.0f} ms, search p50 {statistics.median(plain):.0f} ms"
                )
                results.append(
                    _row(f"{name}_p50", statistics.median(chosen), "ms", statistics.median(plain), None, None)
                )
                results.append(
                    _row(f"{name}_p99", _percentile(chosen, 0.99), "ms", _percentile(plain, 0.99), None, None)
                )
                results.append(_row(f"{name}_candidates", answer["candidates"], "materials", None, None, None))
    return results


def _wait_for_index(http: httpx.Client, seconds: float = 600) -> None:
    """Until the server's in-memory search index is built (a poll the busy server resets is retried)."""
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        try:
            if http.get("/ready").json().get("search_index") in ("current", None):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server's in-memory search index was not built in {seconds:.0f} s")


def _get(http: httpx.Client, params: dict) -> None:
    response = http.get("/api/v1/materials", params=params)
    if response.status_code != 200:
        raise RuntimeError(f"search {params}: HTTP {response.status_code} {response.text[:300]}")


def _post(http: httpx.Client, body: dict) -> dict:
    response = http.post("/api/v1/select", json=body)
    if response.status_code != 200:
        raise RuntimeError(f"select {body}: HTTP {response.status_code} {response.text[:300]}")
    return response.json()
