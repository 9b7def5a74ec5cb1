"""Search benchmark: a generated core of ``materials`` materials, a mix of realistic queries
through the HTTP API and in process, chemistry against RDKit's own primitives, the chemistry
index's start, and the CLI's.

The core is generated from the fixtures' shape (classes, applications, properties and units,
ranges and bounds, 37 °C / PBS conditions, 65 % of materials with a structure of their own)
by ``write_core``, deterministic by seed, and loaded through the pipeline. Every figure is
measured in the same run as its baseline; nothing here asserts a time.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

SCALES = {"small": 10_000, "medium": 100_000, "large": 1_000_000}
CONCURRENCY_SECONDS = {"small": 10.0, "medium": 30.0, "large": 60.0}
MEASUREMENTS_PER_MATERIAL = 10

STEMS = [
    "ethylene",
    "propylene",
    "styrene",
    "lactide",
    "glycolide",
    "caprolactone",
    "methyl methacrylate",
    "vinyl alcohol",
    "ethylene glycol",
    "dimethylsiloxane",
    "urethane",
    "amide",
    "ether ether ketone",
    "hydroxyethyl methacrylate",
    "acrylic acid",
    "butyl acrylate",
    "ethyl acrylate",
    "vinyl chloride",
    "tetrafluoroethylene",
    "carbonate",
    "sulfone",
    "imide",
    "ester",
    "dioxanone",
    "trimethylene carbonate",
]
METALS = [
    "titanium",
    "Ti-6Al-4V",
    "nitinol",
    "cobalt-chromium",
    "stainless steel 316L",
    "magnesium",
    "zinc",
    "tantalum",
    "platinum-iridium",
    "iron",
    "niobium",
    "zirconium",
]
CERAMICS = [
    "hydroxyapatite",
    "tricalcium phosphate",
    "alumina",
    "zirconia",
    "bioglass 45S5",
    "calcium sulfate",
    "silicon nitride",
    "carbonate apatite",
]
NATURAL = ["collagen", "gelatin", "chitosan", "alginate", "silk fibroin", "hyaluronic acid", "fibrin", "cellulose"]
APPLICATIONS = [
    "orthopaedic",
    "dental",
    "cardiovascular",
    "tissue_engineering",
    "drug_delivery",
    "wound_healing",
    "ophthalmic",
    "neural",
    "soft_tissue",
    "sutures",
]
# (property label as files write it, unit, typical value in that unit)
PROPERTIES = [
    ("Young's modulus", "GPa", 3.0),
    ("tensile strength", "MPa", 60.0),
    ("tensile strength", "ksi", 9.0),
    ("density", "g/cm3", 1.3),
    ("glass transition temperature", "°C", 60.0),
    ("melting temperature", "K", 450.0),
    ("elongation at break", "%", 20.0),
    ("hardness (Vickers)", "HV", 300.0),
    ("fracture toughness", "MPa√m", 3.0),
    ("degradation time", "month", 12.0),
    ("water contact angle", "°", 60.0),
]
BASE_STRUCTURES = [
    "*CC*",
    "*CC(*)C",
    "*CC(*)c1ccccc1",
    "*OC(C)C(=O)*",
    "*OCC(=O)*",
    "*OCCCCCC(=O)*",
    "*CC(*)(C)C(=O)OC",
    "*CC(*)O",
    "*OCCO*",
    "*[Si](C)(C)O*",
    "*CC(*)C(=O)O",
    "*CC(*)C(=O)OCCCC",
    "*Oc1ccc(cc1)Oc1ccc(cc1)C(=O)c1ccc(cc1)*",
    "*NCCCCCC(=O)*",
    "*OC(=O)Oc1ccc(cc1)C(C)(C)c1ccc(cc1)*",
]
SUBSTITUENTS = ["C", "O", "F", "Cl", "CC", "OC", "C(=O)O", "N", "C#N", "c1ccccc1"]


def _structures(count: int, rng: np.random.Generator) -> list[str]:
    """``count`` distinct repeat units: the base units with substituents added by RDKit at
    random atoms that still carry a hydrogen, canonical and deduplicated."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]  # RDKit's stubs omit it
    substituents = [Chem.MolFromSmiles(s) for s in SUBSTITUENTS]
    seen: dict[str, None] = {}
    for smiles in BASE_STRUCTURES:
        seen[Chem.MolToSmiles(Chem.MolFromSmiles(smiles))] = None
    attempts = 0
    while len(seen) < count and attempts < count * 20:
        attempts += 1
        mol = Chem.MolFromSmiles(BASE_STRUCTURES[int(rng.integers(len(BASE_STRUCTURES)))])
        for _ in range(int(rng.integers(1, 5))):
            sites = [a.GetIdx() for a in mol.GetAtoms() if a.GetAtomicNum() == 6 and a.GetTotalNumHs() > 0]
            if not sites:
                break
            site = sites[int(rng.integers(len(sites)))]
            combined = Chem.RWMol(Chem.CombineMols(mol, substituents[int(rng.integers(len(substituents)))]))
            combined.AddBond(site, mol.GetNumAtoms(), Chem.BondType.SINGLE)
            try:
                candidate = combined.GetMol()
                Chem.SanitizeMol(candidate)
            except Exception:  # RDKit's valence errors: try another site
                continue
            mol = candidate
        seen[Chem.MolToSmiles(mol)] = None
    return list(seen)[:count]


def write_core(path: Path, materials: int, seed: int = 42) -> int:
    """A long CSV of ``materials`` materials with about 10 measurements each; the measurement count."""
    rng = np.random.default_rng(seed)
    kinds = rng.choice(4, size=materials, p=[0.65, 0.15, 0.1, 0.1])  # polymer, metal, ceramic, natural
    names, classes = [], []
    for index, kind in enumerate(kinds):
        if kind == 0:
            names.append(f"Poly({STEMS[index % len(STEMS)]}) grade {index}")
            classes.append("polymer")
        elif kind == 1:
            names.append(f"{METALS[index % len(METALS)]} alloy {index}")
            classes.append("metal")
        elif kind == 2:
            names.append(f"{CERAMICS[index % len(CERAMICS)]} {index}")
            classes.append("ceramic")
        else:
            names.append(f"{NATURAL[index % len(NATURAL)]} {index}")
            classes.append("natural")
    with_structure = np.flatnonzero(kinds == 0)
    smiles = np.full(materials, "", dtype=object)
    smiles[with_structure] = _structures(len(with_structure), rng)
    rows = materials * MEASUREMENTS_PER_MATERIAL
    material = np.repeat(np.arange(materials), MEASUREMENTS_PER_MATERIAL)
    prop = rng.integers(0, len(PROPERTIES), rows)
    typical = np.array([p[2] for p in PROPERTIES])[prop] * np.clip(rng.lognormal(0, 0.4, rows), 0.2, 2.0)
    values = np.round(typical, 3)
    kind = rng.choice(4, size=rows, p=[0.75, 0.1, 0.1, 0.05])
    text = values.astype(str)
    text = np.where(kind == 1, np.char.add(np.char.add(text, "–"), np.round(values * 1.3, 3).astype(str)), text)
    text = np.where(kind == 2, np.char.add(np.char.add(text, " ± "), np.round(values * 0.05, 3).astype(str)), text)
    text = np.where(kind == 3, np.char.add(">", text), text)
    frame = pd.DataFrame(
        {
            "Material": np.array(names, dtype=object)[material],
            "Class": np.array(classes, dtype=object)[material],
            "Application": np.array(APPLICATIONS, dtype=object)[rng.integers(0, len(APPLICATIONS), materials)][
                material
            ],
            "SMILES": smiles[material],
            "Property": np.array([p[0] for p in PROPERTIES], dtype=object)[prop],
            "Value": text,
            "Unit": np.array([p[1] for p in PROPERTIES], dtype=object)[prop],
            "Temperature": np.where(rng.random(rows) < 0.3, "37 °C", ""),
            "Medium": np.where(rng.random(rows) < 0.3, "PBS", ""),
            "Source": "Generated benchmark source " + pd.Series(rng.integers(0, 500, rows)).astype(str),
        }
    )
    frame.to_csv(path, index=False)
    return rows


# --- the query mix -------------------------------------------------------------------------

SEARCHES: list[tuple[str, dict]] = [
    ("search_text_poly", {"q": "poly"}),
    ("search_text_acrylate", {"q": "acrylate"}),
    ("search_text_titanium", {"q": "titanium"}),
    ("search_text_two_words", {"q": "poly lactide"}),
    ("search_range_in_units", {"filter": "youngs_modulus in 0.1..3 GPa"}),
    ("search_two_properties", {"filter": "youngs_modulus < 5 GPa AND tensile_strength > 50 MPa"}),
    (
        "search_all_facets",
        {
            "filter": "density > 1 g/cm3",
            "facet": ["class", "application", "property", "dataset", "biodegradable", "origin"],
        },
    ),
    ("search_where_conditions", {"filter": "tensile_strength > 30 MPa WHERE medium = PBS AND temperature = 37 degC"}),
    ("search_sort_by_property", {"filter": "class = polymer", "sort": "-tensile_strength"}),
    ("search_class_and_application", {"filter": "class = metal AND application = orthopaedic"}),
    ("search_has_property", {"filter": "has fracture_toughness"}),
    ("search_not", {"filter": "class = polymer AND NOT density > 1.2 g/cm3"}),
    ("search_or", {"filter": "class = ceramic OR class = natural"}),
    ("search_text_and_filter", {"q": "titanium", "filter": "tensile_strength > 100 ksi"}),
    ("search_bound_in_kelvin", {"filter": "glass_transition_temperature > 310 K"}),
]
CHEMISTRY_SEARCHES: list[tuple[str, dict]] = [
    ("chemistry_substructure_and_property", {"filter": 'substructure("c1ccccc1") AND density > 1 g/cm3'}),
    ("chemistry_substructure_ester", {"filter": 'substructure("C(=O)O")'}),
    ("chemistry_similarity_threshold", {"filter": 'similarity("*CC(*)c1ccccc1") >= 0.7'}),
    ("chemistry_similarity_top20", {"filter": 'similarity("*OC(C)C(=O)*") >= 0.2', "sort": "similarity"}),
    (
        "chemistry_similarity_and_property",
        {"filter": 'similarity("*OC(C)C(=O)*") >= 0.3 AND youngs_modulus < 5 GPa', "sort": "similarity"},
    ),
]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _timed(call, repetitions: int) -> list[float]:
    call()  # once to warm
    times = []
    for _ in range(repetitions):
        started = time.perf_counter()
        call()
        times.append(1000 * (time.perf_counter() - started))
    return times


def _row(name: str, value: float, unit: str, baseline: float | None, target: str | None, met: bool | None) -> dict:
    ratio = None if not baseline else round(value / baseline, 2)
    return {
        "name": name,
        "value": round(value, 3),
        "unit": unit,
        "baseline": None if baseline is None else round(baseline, 3),
        "ratio": ratio,
        "target": target,
        "met": met,
    }


def run(
    scale: str, out: Path, seed: int = 42, repetitions: int = 30, materials: int | None = None, backend: str = "sqlite"
) -> list[dict]:
    """The figures at ``scale`` (``materials`` overrides its size, for the suite's own check), on
    the SQLite core or on a PostgreSQL server started for the run (Debian's ``postgresql``, as
    the test suite starts it)."""
    from benchmarks.load import scratch

    materials = materials or SCALES[scale]
    out.mkdir(parents=True, exist_ok=True)
    with scratch(f"biomatdb-search-{scale}-", out) as work:
        if backend == "sqlite":
            return _run(
                scale, out, seed, repetitions, materials, work, f"sqlite:///{work / 'data' / 'biomatdb.sqlite'}"
            )
        from benchmarks.pg import postgres_database

        with postgres_database("biomatdb_benchmark") as url:
            rows = _run(scale, out, seed, repetitions, materials, work, url)
        return [{**row, "name": "_postgresql_".join(row["name"].split("_", 1))} for row in rows]


def _run(scale: str, out: Path, seed: int, repetitions: int, materials: int, work: Path, url: str) -> list[dict]:
    from benchmarks.load import serving
    from biomatdb.db import make_engine, migrate
    from biomatdb.settings import Settings
    from biomatdb_ingest.pipeline import IngestOptions, ingest_file
    from biomatdb_search.chemistry import ChemistryIndex
    from biomatdb_search.service import build_query, make_backend

    data = work / f"core-{materials}.csv"
    started = time.perf_counter()
    measurements = write_core(data, materials, seed)
    generated_s = time.perf_counter() - started
    engine = make_engine(url)
    migrate(engine)
    started = time.perf_counter()
    report = ingest_file(engine, data, IngestOptions(dataset="generated", license="CC0-1.0"))
    load_s = time.perf_counter() - started
    assert report.loaded, report.errors[:3]
    results: list[dict] = [_row(f"search_{scale}_core_load", load_s, "s", None, None, None)]
    print(
        f"generated {materials:,} materials / {measurements:,} measurements in {generated_s:.1f} s, "
        f"loaded in {load_s:.1f} s"
    )

    # the chemistry index: from stored data (ours) against parsing every structure (the old way)
    index = ChemistryIndex(engine)
    started = time.perf_counter()
    snapshot = index.snapshot()
    built_s = time.perf_counter() - started
    from rdkit import Chem
    from rdkit.Chem import rdSubstructLibrary
    from sqlalchemy import select

    from biomatdb.models import ChemicalStructure

    with engine.connect() as connection:
        stored = list(connection.execute(select(ChemicalStructure.canonical_smiles)).scalars())
    started = time.perf_counter()
    holder, patterns = rdSubstructLibrary.MolHolder(), rdSubstructLibrary.PatternHolder()
    for smiles in stored:
        mol = Chem.MolFromSmiles(smiles)
        holder.AddMol(mol)
        patterns.AddFingerprint(patterns.MakeFingerprint(mol))
    parsed_s = time.perf_counter() - started
    results.append(_row("index_chemistry_build", built_s, "s", parsed_s, "≤ 2 s from stored data", built_s <= 2.0))
    check = _timed(index._signature, repetitions)
    results.append(_row("index_chemistry_change_check_p50", statistics.median(check), "ms", None, None, None))

    # chemistry primitives, the baselines of the chemistry targets
    from rdkit import DataStructs

    from biomatdb.chemistry import unpacked_fingerprint
    from biomatdb_search.chemistry import query_fingerprint, query_pattern

    # the baseline: RDKit's own bulk Tanimoto over the same stored fingerprints, as RDKit bit vectors
    probe = unpacked_fingerprint(query_fingerprint("*OC(C)C(=O)*"))
    vectors = [unpacked_fingerprint(row.tobytes()) for row in snapshot.fingerprints]
    bulk = statistics.median(_timed(lambda: DataStructs.BulkTanimotoSimilarity(probe, vectors), repetitions))
    ring = query_pattern("c1ccccc1")
    library = snapshot.library
    substruct = statistics.median(
        _timed(lambda: library.GetMatches(ring, numThreads=-1, maxResults=len(library)), max(5, repetitions // 3))
    )

    # the API's search: the SQL backend over its in-memory index (search/biomatdb_search/memory.py), built here
    # in process first, timed against a build of the same index's columns by plain SQL reads
    from biomatdb.db import core_generation, read_snapshot
    from biomatdb_search.backends.sql import SqlBackend
    from biomatdb_search.memory import MemoryIndexes, build as build_memory

    with engine.connect() as connection:
        started = time.perf_counter()
        built = build_memory(read_snapshot(connection), core_generation(connection))
        memory_s = time.perf_counter() - started
    results.append(_row("index_search_memory_build", memory_s, "s", None, None, None))
    results.append(
        _row(
            "index_search_memory_bytes_per_measurement",
            built.nbytes() / max(1, measurements),
            "bytes",
            None,
            None,
            None,
        )
    )
    settings = Settings(database_url=url, rate_limit=None, data_dir=work / "data")
    sql_only = make_backend(settings, engine, index)
    backend = SqlBackend(engine, index, memory=MemoryIndexes(), wait_for_memory=True)
    in_process: dict[str, list[float]] = {}
    for name, params in SEARCHES + CHEMISTRY_SEARCHES:

        def parsed(params=params):  # the filter parsed each time, as the API parses it
            return build_query(
                text=params.get("q"),
                filter_text=params.get("filter"),
                facets=params.get("facet") if isinstance(params.get("facet"), list) else None,
                sort=params.get("sort"),
            )

        in_process[name] = _timed(lambda p=parsed: backend.search(p()), repetitions)
        in_sql = _timed(lambda p=parsed: sql_only.search(p()), max(5, repetitions // 3))
        results.append(
            _row(
                f"{name}_memory_vs_sql_p50",
                statistics.median(in_process[name]),
                "ms",
                statistics.median(in_sql),
                None,
                None,
            )
        )

    # through the HTTP API: a real server over the same core

    env = {
        **os.environ,
        "BIOMATDB_DATABASE_URL": url,
        "BIOMATDB_DATA_DIR": str(work / "data"),
        "BIOMATDB_RATE_LIMIT": "",
    }
    with serving(env, work / "server.log", ready="/ready") as base_url:
        with httpx.Client(base_url=base_url, timeout=120) as http:
            started = time.perf_counter()
            while http.get("/ready").json().get("search_index") not in ("current", None):
                if time.perf_counter() - started > 300:
                    raise RuntimeError("the server's in-memory search index was not built in 300 s")
                time.sleep(0.1)
            results.append(
                _row("index_search_memory_ready_after_start", time.perf_counter() - started, "s", None, None, None)
            )
            first = http.get("/api/v1/materials", params={"limit": 2, "filter": "class = polymer"}).json()["results"]
            ids = [hit["id"] for hit in first]
            cursor = None
            for _ in range(25):  # a deep page: 25 pages on
                page = http.get(
                    "/api/v1/materials",
                    params={"filter": "class = polymer", "cursor": cursor} if cursor else {"filter": "class = polymer"},
                ).json()
                cursor = page["next_cursor"]
            extra: list[tuple[str, str, dict]] = [
                ("search_deep_cursor", "/api/v1/materials", {"filter": "class = polymer", "cursor": cursor}),
                ("search_material_detail", f"/api/v1/materials/{ids[0]}", {}),
                ("search_compare", "/api/v1/compare", {"ids": ",".join(ids)}),
                (
                    "search_export_csv",
                    "/api/v1/export",
                    {"format": "csv", "filter": "class = metal AND application = dental"},
                ),
                ("search_similar", f"/api/v1/materials/{ids[0]}/similar", {}),
            ]
            # the floor under every request: a round trip to a route that does nothing
            floor = statistics.median(_timed(lambda: _get(http, "/health", {}), repetitions))
            results.append(_row("search_api_round_trip_floor_p50", floor, "ms", None, None, None))
            for name, params in SEARCHES + CHEMISTRY_SEARCHES:
                api = _timed(lambda p=params: _get(http, "/api/v1/materials", p), repetitions)
                process = in_process[name]
                p99 = _percentile(api, 0.99)
                if name.startswith("chemistry_similarity"):
                    results.append(
                        _row(
                            f"{name}_p50",
                            statistics.median(api),
                            "ms",
                            bulk,
                            "≤ 2 × BulkTanimotoSimilarity",
                            statistics.median(api) <= 2 * bulk,
                        )
                    )
                elif name.startswith("chemistry_substructure"):
                    results.append(
                        _row(
                            f"{name}_p50",
                            statistics.median(api),
                            "ms",
                            substruct,
                            "≤ 1.5 × SubstructLibrary (all cores)",
                            statistics.median(api) <= 1.5 * substruct,
                        )
                    )
                else:
                    results.append(_row(f"{name}_p99", p99, "ms", None, "≤ 50 ms", p99 <= 50))
                results.append(
                    _row(
                        f"{name}_api_overhead",
                        statistics.median(api),
                        "ms",
                        statistics.median(process),
                        "ratio ≤ 1.5",
                        statistics.median(api) <= 1.5 * statistics.median(process),
                    )
                )
            for name, path, params in extra:
                api = _timed(lambda p=path, q=params: _get(http, p, q), repetitions)
                p99 = _percentile(api, 0.99)
                results.append(_row(f"{name}_p99", p99, "ms", None, "≤ 50 ms", p99 <= 50))
            # the export's floor: its rows, already read, written by csv.DictWriter alone
            exported = http.get(
                "/api/v1/export", params={"format": "csv", "filter": "class = metal AND application = dental"}
            ).text
            import csv
            import io

            rows = list(csv.DictReader(io.StringIO(exported)))

            def write_only() -> None:
                buffer = io.StringIO()
                writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)

            export_api = statistics.median(
                _timed(
                    lambda: _get(
                        http, "/api/v1/export", {"format": "csv", "filter": "class = metal AND application = dental"}
                    ),
                    max(5, repetitions // 3),
                )
            )
            results.append(
                _row(
                    "search_export_csv_rows_per_s",
                    len(rows) / (export_api / 1000),
                    "rows/s",
                    len(rows) / (statistics.median(_timed(write_only, 5)) / 1000),
                    None,
                    None,
                )
            )
        # concurrency: the search mix from 16 clients at once, against one client alone
        from benchmarks.load import _search_for

        seconds = CONCURRENCY_SECONDS.get(scale, 10.0)
        mix = [params for _, params in SEARCHES]
        alone = _search_for(base_url, seconds, 1, mix)
        crowd = _search_for(base_url, seconds, 16, mix)
        results.append(
            _row(
                "search_concurrency_16_clients_requests_per_s",
                crowd["requests"] / seconds,
                "requests/s",
                alone["requests"] / seconds,
                "0 errors",
                crowd["errors"] == 0,
            )
        )
        results.append(
            _row(
                "search_concurrency_16_clients_errors",
                crowd["errors"],
                "requests",
                alone["errors"],
                "0",
                crowd["errors"] == 0,
            )
        )
        results.append(_row("search_concurrency_16_clients_p99", crowd["p99_ms"], "ms", alone["p99_ms"], None, None))
        (out / f"concurrency-{scale}.json").write_text(
            json.dumps({"alone": alone, "16 clients": crowd}, indent=2), encoding="utf-8"
        )

    # the CLI, started and answering, against the interpreter's own start
    env_cli = {**os.environ, "BIOMATDB_DATABASE_URL": url, "BIOMATDB_DATA_DIR": str(work / "data")}
    cli = statistics.median(
        _timed(
            lambda: subprocess.run(
                [sys.executable, "-c", "from biomatdb.cli import app; app()", "search", "titanium", "--json"],
                env=env_cli,
                capture_output=True,
                check=True,
            ),
            3,
        )
    )
    bare = statistics.median(_timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), 3))
    results.append(_row("search_cli_titanium", cli / 1000, "s", bare / 1000, "≤ 0.7 s", cli <= 700))
    helped = statistics.median(
        _timed(
            lambda: subprocess.run(
                [sys.executable, "-c", "from biomatdb.cli import app; app()", "--help"],
                env=env_cli,
                capture_output=True,
                check=True,
            ),
            3,
        )
    )
    results.append(_row("search_cli_help", helped / 1000, "s", bare / 1000, None, None))
    engine.dispose()
    return results


def _get(http: httpx.Client, path: str, params: dict) -> None:
    response = http.get(path, params=params)
    if response.status_code != 200:
        raise RuntimeError(f"{path} {params}: HTTP {response.status_code} {response.text[:300]}")
    response.read()
