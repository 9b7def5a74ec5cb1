"""Load benchmark: searches through the HTTP API while a large upload is ingested.

A ``biomatdb serve`` process over SQLite holding the fixtures. First, as the baseline of the
same run, ``clients`` threads search for ``seconds`` with nothing else happening; then the
same searches for the same time while a curator's upload of ``rows`` generated measurements
runs as a job, with a second upload sent halfway through (it must queue: 202, never 500).
It reports p50 and p99 latency and errors of each phase, and what became of both uploads.
It measures; it asserts nothing about time. Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

from benchmarks.generate import write_long

QUERIES = (
    {"q": "poly"},
    {"q": "titanium"},
    {"filter": "youngs_modulus in 0.1..3 GPa"},
    {"filter": "tensile_strength > 50 MPa AND class = polymer", "facet": ["class", "application"]},
    {"filter": "glass_transition_temperature > 37 degC", "sort": "-glass_transition_temperature"},
    {"q": "hydroxyapatite", "facet": ["class"]},
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(env: dict[str, str], log: Path, *, ready: str = "/health") -> Iterator[str]:
    """``biomatdb serve`` in a process of its own on a free 127.0.0.1 port, once ``ready`` answers
    200; yields its base URL. Stopped gracefully (searches still running finish first, for up to
    30 s), then killed."""
    port = _free_port()
    with log.open("w") as server_log:
        server = subprocess.Popen(
            [sys.executable, "-c", "from biomatdb.cli import app; app()", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=server_log,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(base_url + ready, timeout=10).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            yield base_url
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from biomatdb.cli import app; app()", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _search_for(base_url: str, seconds: float, clients: int, queries: Sequence[dict] | None = None) -> dict:
    queries = queries or QUERIES
    latencies: list[float] = []
    by_query: dict[str, list[float]] = {}
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(offset: int) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            index = offset
            while time.monotonic() < stop_at:
                query = queries[index % len(queries)]
                index += 1
                started = time.perf_counter()
                try:
                    response = http.get("/api/v1/materials", params=query)
                    failed = None if response.status_code == 200 else f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    failed = type(exc).__name__
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    by_query.setdefault(_label(query), []).append(elapsed)
                    if failed:
                        errors.append(failed)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "p50_ms": round(1000 * _percentile(latencies, 0.50), 1),
        "p99_ms": round(1000 * _percentile(latencies, 0.99), 1),
        "mean_ms": round(1000 * statistics.fmean(latencies), 1) if latencies else None,
        "per_query": {
            label: {
                "requests": len(values),
                "p50_ms": round(1000 * _percentile(values, 0.50), 1),
                "p99_ms": round(1000 * _percentile(values, 0.99), 1),
            }
            for label, values in sorted(by_query.items())
        },
    }


def _label(query: dict) -> str:
    return " ".join(f"{key}={value}" for key, value in query.items() if key != "facet")


def _upload(http: httpx.Client, path: Path, name: str, key: str) -> httpx.Response | str:
    """The answer, or what went wrong on the way (a reset connection is a result here)."""
    try:
        with path.open("rb") as handle:
            return http.post(
                "/api/v1/datasets",
                headers={"Authorization": f"Bearer {key}"},
                files={"file": (path.name, handle, "text/csv")},
                data={"name": name},
            )
    except httpx.HTTPError as exc:
        return type(exc).__name__


@contextlib.contextmanager
def scratch(prefix: str, out: Path) -> Iterator[Path]:
    """A working directory for one run, removed after it (the generated files and cores are
    large); the server's log is kept in ``out``."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield work
    finally:
        if (work / "server.log").exists():
            shutil.copyfile(work / "server.log", out / f"{prefix.strip('-')}-server.log")
        shutil.rmtree(work, ignore_errors=True)


def run(rows: int, seconds: float, clients: int, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    with scratch("biomatdb-load-", out) as work:
        env = {
            **os.environ,
            "BIOMATDB_DATA_DIR": str(work / "data"),
            "BIOMATDB_RATE_LIMIT": "",
            "BIOMATDB_JOB_POLL_SECONDS": "0.2",
        }
        _cli(env, "load-fixtures")
        key = (
            _cli(env, "apikey", "create", "--role", "curator", "--name", "load-benchmark")
            .stdout.strip()
            .splitlines()[-1]
        )
        big, second = work / "big.csv", work / "second.csv"
        write_long(big, rows, seed=11)
        write_long(second, 2_000, seed=12)
        with serving(env, work / "server.log") as base_url, httpx.Client(base_url=base_url, timeout=60) as http:
            http.get("/api/v1/materials", params={"q": "warm"})
            baseline = _search_for(base_url, seconds, clients)
            upload = _upload(http, big, "load-benchmark-big", key)
            assert not isinstance(upload, str), upload
            job_url = upload.headers.get("location")
            seconds_half = seconds / 2
            results: dict = {}

            def searching() -> None:
                results["during"] = _search_for(base_url, seconds, clients)

            searcher = threading.Thread(target=searching)
            searcher.start()
            time.sleep(seconds_half)
            second_upload = _upload(http, second, "load-benchmark-second", key)
            running_at_half = http.get(job_url, headers={"Authorization": f"Bearer {key}"}).json()
            searcher.join()
            jobs: dict[str, dict[str, object]] = {}
            for name, response in (("big", upload), ("second", second_upload)):
                if isinstance(response, str):
                    jobs[name] = {"upload_status": response, "job_status": None, "error": response, "seconds": None}
                    continue
                location = response.headers.get("location")
                job: dict[str, Any] = {"status": f"HTTP {response.status_code}", "error": response.text[:300]}
                deadline = time.monotonic() + 1800
                while location and time.monotonic() < deadline:
                    job = http.get(location, headers={"Authorization": f"Bearer {key}"}).json()
                    if job["status"] in ("succeeded", "failed"):
                        break
                    time.sleep(0.5)
                jobs[name] = {
                    "upload_status": response.status_code,
                    "job_status": job["status"],
                    "error": job.get("error"),
                    "seconds": _duration(job),
                }
    result = {
        "rows": rows,
        "seconds": seconds,
        "clients": clients,
        "baseline": baseline,
        "during_upload": results.get("during"),
        "big_job_at_half_time": running_at_half.get("status"),
        "uploads": jobs,
    }
    (out / "load-results.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


def _duration(job: dict) -> float | None:
    from datetime import datetime

    if not job.get("started_at") or not job.get("finished_at"):
        return None
    return round(
        (datetime.fromisoformat(job["finished_at"]) - datetime.fromisoformat(job["started_at"])).total_seconds(), 1
    )


def load_rows(result: dict) -> list[dict]:
    """The load benchmark's figures as results.json rows: during the upload against the baseline."""
    during, baseline = result["during_upload"] or {}, result["baseline"]
    return [
        {
            "name": "load_search_p99_during_upload",
            "value": during.get("p99_ms"),
            "unit": "ms",
            "baseline": baseline["p99_ms"],
            "ratio": round(during["p99_ms"] / baseline["p99_ms"], 2) if during else None,
            "target": "≤ 1000 ms, 0 errors",
            "met": bool(during) and during["p99_ms"] <= 1000 and during["errors"] == 0,
        },
        {
            "name": "load_search_errors_during_upload",
            "value": during.get("errors"),
            "unit": "requests",
            "baseline": baseline["errors"],
            "ratio": None,
            "target": "0",
            "met": during.get("errors") == 0,
        },
        {
            "name": "load_requests_per_second_during_upload",
            "value": round(during.get("requests", 0) / result["seconds"], 1),
            "unit": "requests/s",
            "baseline": round(baseline["requests"] / result["seconds"], 1),
            "ratio": None,
            "target": None,
            "met": None,
        },
    ]
