"""Writing the search index when Elasticsearch answers badly: through the official client's own
transport layer (``tests/es_transport.py``: a ``node_class`` with canned answers), so that the
client's serialisation, retries and error mapping and the bulk helper's retries all run.

These tests say how BiomatDB handles an answer, never what a server answers: the canned answers
come from the golden pairs in ``tests/data/elastic``, which the real-server suite
(tests/test_search_elastic.py) replays against a node.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from elastic_transport import ConnectionError as TransportConnectionError
from sqlalchemy import func, insert, select, text
from typer.testing import CliRunner

from biomatdb.db import core_generation, make_engine
from biomatdb.errors import SearchUnavailable
from biomatdb.models import Material, SearchDeadLetter, SearchOutbox
from biomatdb_ingest.pipeline import ingest_file
from biomatdb_search.backends.elastic import ElasticBackend
from biomatdb_search.backends.elastic_sync import Drainer, _claimed, outcome, reindex, sync, sync_status
from biomatdb_search.model import HasProperty, Query
from tests.es_transport import GOLDEN, Rule, bulk_answer, golden, golden_answer, scripted_client
from tests.test_pipeline import LONG_TSV, WIDE_CSV, write

ALIAS = "biomatdb"
INDEX = "biomatdb-20260101000000000000"
FAST_S = 0.001  # the bulk helper's backoff, kept short; the retries themselves still run


def alias_on(index: str = INDEX, alias: str = ALIAS) -> Rule:
    return Rule("GET", rf"/_alias/{alias}(\?|$)", [(200, {index: {"aliases": {alias: {}}}})])


def no_reindex(alias: str = ALIAS) -> Rule:
    return Rule(
        "GET", rf"/_alias/{alias}-reindexing(\?|$)", [golden_answer("alias_missing", alias=f"{alias}-reindexing")]
    )


def _outbox(engine) -> list[int]:
    with engine.connect() as connection:
        return list(connection.execute(select(SearchOutbox.material_id).order_by(SearchOutbox.id)).scalars())


def _ids(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {row.name: row.id for row in connection.execute(select(Material.name, Material.id))}


@pytest.fixture
def loaded(sqlite_engine, tmp_path):
    """The wide fixture's three materials in SQLite, each with an outbox row."""
    assert ingest_file(sqlite_engine, write(tmp_path, "wide.csv", WIDE_CSV)).loaded
    assert len(set(_outbox(sqlite_engine))) == 3
    return sqlite_engine


def test_every_status_has_one_outcome():
    table = {
        ("index", 201): "done",
        ("delete", 200): "done",
        ("delete", 404): "done",
        ("index", 409): "stale",
        ("index", 429): "retry",
        ("index", 503): "retry",
        ("index", 404): "retry",
        ("index", 400): "refused",
        ("index", 413): "refused",
    }
    assert {key: outcome(*key) for key in table} == table


# --- writes carry the core's generation as an external version -----------------------------


def test_sync_writes_each_document_at_the_generation_it_was_read_at(loaded, tmp_path):
    client, script = scripted_client(
        [no_reindex(), alias_on(), Rule("PUT", r"/_bulk", [bulk_answer(lambda a, s: None)])]
    )
    with loaded.connect() as connection:
        first = core_generation(connection)
    assert sync(loaded, client, ALIAS, backoff_s=FAST_S).upserted == 3
    (bulk,) = script.sent("PUT", r"/_bulk")
    assert "require_alias=true" in bulk.path  # a missing alias is an error, never an auto-created index
    actions = bulk.ndjson()[::2]
    assert {a["index"]["version"] for a in actions} == {first}
    assert {a["index"]["version_type"] for a in actions} == {"external"}

    assert ingest_file(loaded, write(tmp_path, "long.tsv", LONG_TSV)).loaded  # a change moves the generation on
    with loaded.connect() as connection:
        second = core_generation(connection)
    assert second > first
    sync(loaded, client, ALIAS, backoff_s=FAST_S)
    later = script.sent("PUT", r"/_bulk")[1].ndjson()[::2]
    assert {a["index"]["version"] for a in later} == {second}


def test_a_version_conflict_means_already_newer_and_drains_the_row(loaded):
    conflict = golden_answer("bulk_version_conflict", index=INDEX)[1]["items"][0]["index"]
    bulk = Rule("PUT", r"/_bulk", [bulk_answer(lambda a, s: (409, conflict["error"]))])
    client, _ = scripted_client([no_reindex(), alias_on(), bulk])
    report = sync(loaded, client, ALIAS, backoff_s=FAST_S)
    assert (report.stale, report.upserted, report.outbox_rows, report.refused) == (3, 0, 3, 0)
    assert _outbox(loaded) == []


def test_a_connection_reset_mid_bulk_keeps_the_outbox_and_the_replay_counts_conflicts_as_done(loaded):
    """The reset comes after the node may have written the batch: the next round replays it, and
    the versions make the replay a 409 for what had landed."""

    def reset(request):  # a fresh error each time, as a socket raises one
        return TransportConnectionError("Connection reset by peer", errors=(ConnectionResetError(104, "reset"),))

    conflict = {"type": "version_conflict_engine_exception", "reason": "current version is higher or equal"}
    landed = bulk_answer(lambda action, source: (409, conflict) if source and source["name"] == "PLLA" else None)
    client, script = scripted_client(
        [no_reindex(), alias_on(), Rule("PUT", r"/_bulk", [reset, reset, reset, reset, landed])]
    )
    backlog = _outbox(loaded)
    with pytest.raises(SearchUnavailable) as raised:
        sync(loaded, client, ALIAS, backoff_s=FAST_S)
    assert raised.value.type == "search-unavailable" and "reset" in raised.value.message.lower()
    assert len(script.sent("PUT", r"/_bulk")) == 4  # the client's own three retries, then the error
    assert _outbox(loaded) == backlog
    report = sync(loaded, client, ALIAS, backoff_s=FAST_S)
    assert (report.upserted, report.stale, report.outbox_rows) == (2, 1, 3)
    assert _outbox(loaded) == []


# --- failures triaged ----------------------------------------------------------------------


def test_a_whole_request_429_is_retried_with_backoff_and_then_drains(loaded):
    rejected = golden_answer("bulk_rejected_429", alias=ALIAS)
    bulk = Rule("PUT", r"/_bulk", [rejected] * 4 + [rejected] * 4 + [bulk_answer(lambda a, s: None)])
    client, script = scripted_client([no_reindex(), alias_on(), bulk])
    report = sync(loaded, client, ALIAS, backoff_s=FAST_S)
    # the transport tries four times per call; the bulk helper calls again, with backoff, on a 429
    assert len(script.sent("PUT", r"/_bulk")) == 9
    assert report.upserted == 3 and _outbox(loaded) == []


def test_a_429_that_lasts_is_unavailable_and_keeps_the_outbox(loaded):
    client, _ = scripted_client(
        [no_reindex(), alias_on(), Rule("PUT", r"/_bulk", [golden_answer("bulk_rejected_429", alias=ALIAS)])]
    )
    backlog = _outbox(loaded)
    with pytest.raises(SearchUnavailable) as raised:
        sync(loaded, client, ALIAS, backoff_s=FAST_S)
    assert raised.value.type == "search-unavailable" and "es_rejected_execution_exception" in raised.value.message
    assert _outbox(loaded) == backlog


def test_a_document_429_or_503_that_lasts_stays_in_the_outbox_and_the_rest_drains(loaded):
    ids = _ids(loaded)
    busy = {"type": "es_rejected_execution_exception", "reason": "queue full"}
    bulk = Rule("PUT", r"/_bulk", [bulk_answer(lambda a, s: (429, busy) if a["_id"] == str(ids["PCL"]) else None)])
    client, script = scripted_client([no_reindex(), alias_on(), bulk])
    report = sync(loaded, client, ALIAS, retries=2, backoff_s=FAST_S)
    assert (report.upserted, report.pending) == (2, 1)
    assert set(_outbox(loaded)) == {ids["PCL"]}
    retried = [r.ndjson()[0]["index"]["_id"] for r in script.sent("PUT", r"/_bulk")[1:]]
    assert retried == [str(ids["PCL"])] * 2  # only the rejected document is sent again


def _refuse_pcl(ids):
    refused = golden_answer("bulk_document_refused", index=INDEX)[1]["items"][1]["index"]["error"]
    return bulk_answer(lambda action, source: (400, refused) if action["_id"] == str(ids["PCL"]) else None)


def test_a_document_refused_for_itself_is_a_dead_letter_and_the_rest_moves_on(loaded, tmp_path, monkeypatch):
    ids = _ids(loaded)
    client, _ = scripted_client([no_reindex(), alias_on(), Rule("PUT", r"/_bulk", [_refuse_pcl(ids)])])
    report = sync(loaded, client, ALIAS, backoff_s=FAST_S)
    assert (report.upserted, report.refused, report.outbox_rows) == (2, 1, 3)
    assert _outbox(loaded) == []  # nothing blocks the next change
    with loaded.connect() as connection:
        (dead,) = connection.execute(select(SearchDeadLetter)).all()
    assert (dead.material_id, dead.status, dead.error_type) == (ids["PCL"], 400, "strict_dynamic_mapping_exception")
    assert "not_in_the_mapping" in dead.reason and dead.public_id

    status = sync_status(loaded, None, ALIAS)
    assert status.dead_letter_count == 1 and status.dead_letters[0]["public_id"] == dead.public_id
    (warning,) = status.warnings(900)
    assert "1 search documents were refused" in warning
    assert "searched in that older state" in warning  # what a refusal leaves in the index, said

    # a later change to the material that is written clears its dead letter
    with loaded.begin() as connection:
        connection.execute(insert(SearchOutbox).values(material_id=ids["PCL"], public_id=dead.public_id))
    writes, _ = scripted_client([no_reindex(), alias_on(), Rule("PUT", r"/_bulk", [bulk_answer(lambda a, s: None)])])
    sync(loaded, writes, ALIAS, backoff_s=FAST_S)
    assert sync_status(loaded, None, ALIAS).dead_letter_count == 0


def test_sync_status_and_retry_dead_on_the_command_line(loaded, monkeypatch):
    ids = _ids(loaded)
    client, _ = scripted_client([no_reindex(), alias_on(), Rule("PUT", r"/_bulk", [_refuse_pcl(ids)])])
    sync(loaded, client, ALIAS, backoff_s=FAST_S)
    from biomatdb import cli

    monkeypatch.setenv("BIOMATDB_DATABASE_URL", loaded.url.render_as_string(hide_password=False))
    monkeypatch.setenv("BIOMATDB_ELASTICSEARCH_URL", "http://scripted.invalid:9200")
    status_client, _ = scripted_client([no_reindex()])
    monkeypatch.setattr(cli, "_elasticsearch", lambda settings: status_client)
    runner = CliRunner()
    shown = runner.invoke(cli.app, ["sync", "--status"], catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    assert "dead letters: 1" in shown.output and "strict_dynamic_mapping_exception" in shown.output
    assert "outbox: 0 materials wait" in shown.output

    writes, _ = scripted_client([no_reindex(), alias_on(), Rule("PUT", r"/_bulk", [bulk_answer(lambda a, s: None)])])
    monkeypatch.setattr(cli, "_elasticsearch", lambda settings: writes)
    retried = runner.invoke(cli.app, ["sync", "--retry-dead"], catch_exceptions=False)
    assert retried.exit_code == 0, retried.output
    assert "1 dead letters put back" in retried.output and "synced 1 outbox rows" in retried.output
    assert sync_status(loaded, None, ALIAS).dead_letter_count == 0


def test_a_reindex_skips_a_refused_document_reports_it_and_swaps(loaded):
    ids = _ids(loaded)
    client, script = scripted_client(
        [
            Rule("HEAD", rf"/{ALIAS}$", [(404, {})]),
            Rule("GET", r"/_cluster/health", [(200, {"number_of_data_nodes": 1, "status": "green"})]),
            Rule("PUT", rf"/{ALIAS}-\d+$", [(200, {"acknowledged": True})]),
            Rule("PUT", r"/_bulk", [_refuse_pcl(ids)]),
            Rule("PUT", rf"/{ALIAS}-\d+/_settings", [(200, {"acknowledged": True})]),
            Rule("POST", rf"/{ALIAS}-\d+/_refresh", [(200, {"_shards": {"total": 1, "successful": 1, "failed": 0}})]),
            Rule("GET", rf"/_alias/{ALIAS}$", [golden_answer("alias_missing", alias=ALIAS)]),
            Rule("POST", r"/_aliases", [(200, {"acknowledged": True})]),
        ]
    )
    report = reindex(loaded, client, ALIAS, backoff_s=FAST_S)
    assert report.documents == 2 and [s.material_id for s in report.skipped] == [ids["PCL"]]
    assert sync_status(loaded, None, ALIAS).dead_letter_count == 1
    (created,) = script.sent("PUT", rf"/{ALIAS}-\d+$")
    settings = created.json()["settings"]
    assert (settings["number_of_replicas"], settings["refresh_interval"]) == (0, "-1")  # built without either
    assert settings["mapping"]["nested_objects"]["limit"] == 10_000
    assert settings["gc_deletes"] == "1h"  # a late write of a deleted document stays refused for an hour
    (restored,) = script.sent("PUT", rf"/{ALIAS}-\d+/_settings")
    assert restored.json() == {"number_of_replicas": 0, "refresh_interval": None}  # one data node: 0 replicas


def _reindex_rules(aliases_answer) -> list[Rule]:
    return [
        Rule("HEAD", rf"/{ALIAS}$", [(200, {})]),
        Rule("HEAD", rf"/_alias/{ALIAS}$", [(200, {})]),
        Rule("GET", r"/_cluster/health", [(200, {"number_of_data_nodes": 3, "status": "green"})]),
        Rule("PUT", rf"/{ALIAS}-\d+$", [(200, {"acknowledged": True})]),
        Rule("PUT", r"/_bulk", [bulk_answer(lambda a, s: None)]),
        Rule("PUT", rf"/{ALIAS}-\d+/_settings", [(200, {"acknowledged": True})]),
        Rule("POST", rf"/{ALIAS}-\d+/_refresh", [(200, {"_shards": {"total": 1, "successful": 1, "failed": 0}})]),
        alias_on(),
        Rule("POST", r"/_aliases", [aliases_answer]),
        Rule("DELETE", rf"/{ALIAS}-\d+$", [(200, {"acknowledged": True})]),
    ]


def test_an_alias_update_answered_with_errors_true_fails_the_reindex_and_removes_its_index(loaded):
    client, script = scripted_client(_reindex_rules(golden_answer("aliases_errors_true", index=INDEX, alias=ALIAS)))
    with pytest.raises(SearchUnavailable) as raised:
        reindex(loaded, client, ALIAS, retire_after_s=0, backoff_s=FAST_S)
    assert raised.value.type == "search-alias-conflict" and "aliases_not_found_exception" in raised.value.message
    (built,) = script.sent("PUT", rf"/{ALIAS}-\d+$")
    assert [r.path.split("?")[0] for r in script.sent("DELETE", r"/")] == [built.path.split("?")[0]]
    (swap,) = script.sent("POST", r"/_aliases")
    removes = [a["remove"] for a in swap.json()["actions"] if "remove" in a]
    assert removes and all(r["must_exist"] is True for r in removes)  # an overlapping swap fails, not doubles
    settings = built.json()["settings"]
    assert settings["number_of_replicas"] == 0  # while building; given its replicas after
    assert script.sent("PUT", rf"/{ALIAS}-\d+/_settings")[0].json()["number_of_replicas"] == 1  # three data nodes


def test_an_overlapping_swap_refused_with_404_fails_the_reindex_cleanly(loaded):
    missing = (
        404,
        {"error": {"type": "aliases_not_found_exception", "reason": "aliases [biomatdb] missing"}, "status": 404},
    )
    client, script = scripted_client(_reindex_rules(missing))
    with pytest.raises(SearchUnavailable) as raised:
        reindex(loaded, client, ALIAS, retire_after_s=0, backoff_s=FAST_S)
    assert raised.value.type == "search-index-missing"
    assert len(script.sent("DELETE", r"/")) == 1  # its own index, not the one behind the alias


# --- a missing alias, and searches that must never be a 500 ---------------------------------


def test_a_missing_alias_is_index_missing_for_search_and_sync(loaded):
    client, _ = scripted_client(
        [
            Rule("POST", rf"/{ALIAS}/_search", [golden_answer("search_alias_missing", alias=ALIAS)]),
            Rule("GET", rf"/_alias/{ALIAS}$", [golden_answer("alias_missing", alias=ALIAS)]),
        ]
    )
    backend = ElasticBackend(client, ALIAS, loaded, chemistry=lambda node: {})
    with pytest.raises(SearchUnavailable) as raised:
        backend.search(Query(filter=HasProperty(property="density")))
    assert raised.value.type == "search-index-missing" and "biomatdb reindex" in raised.value.message
    with pytest.raises(SearchUnavailable) as raised:
        sync(loaded, client, ALIAS, backoff_s=FAST_S)
    assert raised.value.type == "search-index-missing"


def test_a_400_for_too_many_terms_is_a_typed_refusal_and_the_api_answers_503(loaded):
    client, _ = scripted_client(
        [Rule("POST", rf"/{ALIAS}/_search", [golden_answer("search_too_many_terms", index=INDEX)])]
    )
    backend = ElasticBackend(client, ALIAS, loaded, chemistry=lambda node: {})
    with pytest.raises(SearchUnavailable) as raised:
        backend.search(Query(filter=HasProperty(property="density")))
    assert raised.value.type == "search-refused" and "max_terms_count" in raised.value.message

    for name in ("search_too_many_terms", "search_alias_missing"):
        answer = golden_answer(name, index=INDEX, alias=ALIAS)
        scripted, _ = scripted_client([Rule("POST", rf"/{ALIAS}/_search", [answer])])
        on_es = ElasticBackend(scripted, ALIAS, loaded, chemistry=lambda node: {})
        response, _ = _api_get(_settings(loaded), "/api/v1/materials?filter=has%20density", search=on_es)
        assert response.status_code == 503, (name, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


def _settings(engine, **overrides):
    from tests.api_fixtures import settings_for

    return settings_for(engine, engine.url.database and Path(engine.url.database).parent / "data", **overrides)


def _api_get(settings, path: str, *, search=None):
    """One GET through the whole app (its lifespan run), with ``search`` as its backend if given;
    the response, and the app's outbox drainer (None when the API drains none)."""
    from tests.api_fixtures import open_client

    async def get():
        manager, client = await open_client(settings)
        try:
            if search is not None:
                client.app.state.search = search
            response = await client.get(path)
            return response, client.app.state.outbox
        finally:
            await client.aclose()
            await manager.__aexit__(None, None, None)

    return asyncio.run(get())


# --- reindex markers --------------------------------------------------------------------------


def _marker(age_s: float, owner: dict) -> list[Rule]:
    building = f"{ALIAS}-20250101000000000000"
    created = int((time.time() - age_s) * 1000)
    described = {
        building: {"settings": {"index": {"creation_date": str(created)}}, "mappings": {"_meta": {"reindex": owner}}}
    }
    return [
        Rule(
            "GET",
            rf"/_alias/{ALIAS}-reindexing$",
            [
                (200, {building: {"aliases": {f"{ALIAS}-reindexing": {}}}}),
                golden_answer("alias_missing", alias=f"{ALIAS}-reindexing"),
            ],
        ),
        Rule("GET", rf"/{building}$", [(200, described)]),
        Rule("DELETE", rf"/{building}$", [(200, {"acknowledged": True})]),
        alias_on(),
        Rule("PUT", r"/_bulk", [bulk_answer(lambda a, s: None)]),
    ]


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.mark.parametrize(
    ("age_s", "owner", "recovered"),
    [
        (60, {"host": "elsewhere", "pid": 1}, False),  # young, and no way to know: a reindex is running
        (7 * 3600, {"host": "elsewhere", "pid": 1}, True),  # older than the setting: a killed reindex left it
        (60, {"host": socket.gethostname(), "pid": os.getpid()}, False),  # this very process builds it
        (60, "dead", True),  # same host, its process gone
    ],
)
def test_a_marker_a_killed_reindex_left_is_recovered_by_age_or_dead_owner(loaded, age_s, owner, recovered):
    if owner == "dead":
        owner = {"host": socket.gethostname(), "pid": _dead_pid()}
    client, script = scripted_client(_marker(age_s, owner))
    report = sync(loaded, client, ALIAS, stale_after_s=6 * 3600, backoff_s=FAST_S)
    assert report.deferred is not recovered
    assert bool(script.sent("DELETE", r"/")) is recovered
    assert (report.upserted == 3) is recovered


def test_a_swap_that_lands_while_sync_writes_keeps_the_rows_for_the_new_index(loaded):
    moved = Rule(
        "GET",
        rf"/_alias/{ALIAS}$",
        [(200, {INDEX: {"aliases": {ALIAS: {}}}})] * 2 + [(200, {f"{ALIAS}-new": {"aliases": {ALIAS: {}}}})],
    )
    client, _ = scripted_client([no_reindex(), moved, Rule("PUT", r"/_bulk", [bulk_answer(lambda a, s: None)])])
    backlog = _outbox(loaded)
    report = sync(loaded, client, ALIAS, backoff_s=FAST_S)
    assert report.deferred and report.outbox_rows == 0
    assert _outbox(loaded) == backlog  # replayed into the new index by the next round


# --- the drainer never dies ---------------------------------------------------------------------


@pytest.mark.slow
def test_the_drainer_survives_a_429_and_a_database_error_and_backs_off(loaded, tmp_path):
    client, _ = scripted_client(
        [no_reindex(), alias_on(), Rule("PUT", r"/_bulk", [golden_answer("bulk_rejected_429", alias=ALIAS)])]
    )
    drainer = Drainer(loaded, client, ALIAS, interval_s=0.5, max_backoff_s=4.0, bulk_backoff_s=0.001)
    assert drainer.drain_once() == 0 and "es_rejected_execution_exception" in (drainer.last_error or "")
    assert drainer.delay_s() == 1.0
    drainer.drain_once()
    assert drainer.delay_s() == 2.0

    broken = make_engine(f"sqlite:///{tmp_path / 'no-schema.sqlite'}")  # no tables: every read fails
    on_broken = Drainer(broken, client, ALIAS, interval_s=0.01, max_backoff_s=0.02)
    assert on_broken.drain_once() == 0 and "OperationalError" in (on_broken.last_error or "")
    stop = threading.Event()
    thread = threading.Thread(target=on_broken.run, args=(stop,))
    thread.start()
    while on_broken.failures < 5:
        time.sleep(0.01)
    assert thread.is_alive()
    stop.set()
    thread.join()
    broken.dispose()


def test_the_api_drainer_thread_is_alive_after_a_429(loaded):
    from biomatdb_api.outbox import OutboxDrainer

    client, _ = scripted_client(
        [no_reindex(), alias_on(), Rule("PUT", r"/_bulk", [golden_answer("bulk_rejected_429", alias=ALIAS)])]
    )
    drainer = OutboxDrainer(loaded, client, ALIAS, interval_s=0.01, max_backoff_s=0.02, bulk_backoff_s=0.001)
    drainer.start()
    try:
        while drainer.failures < 3:
            time.sleep(0.01)
        assert drainer.alive() and "429" in (drainer.last_error or "")
    finally:
        drainer.stop()
    assert _outbox(loaded)  # nothing lost


# --- /ready -------------------------------------------------------------------------------------


def test_ready_warns_when_sync_is_behind_and_of_dead_letters(loaded):
    with loaded.begin() as connection:
        connection.execute(text("UPDATE search_outbox SET created_at = '2020-01-01 00:00:00.000000'"))
        connection.execute(
            insert(SearchDeadLetter).values(
                material_id=1, public_id="BM-x", operation="index", status=400, error_type="t", reason="r"
            )
        )
    settings = _settings(loaded, elasticsearch_url="http://127.0.0.1:9", elasticsearch_sync_in_api=False)
    response, outbox = _api_get(settings, "/ready")
    assert outbox is None  # BIOMATDB_ELASTICSEARCH_SYNC_IN_API off: another process drains
    body = response.json()
    assert body["checks"]["elasticsearch"].startswith("unreachable")
    behind, dead = body["warnings"]
    assert "search is behind the core: 3 changes wait" in behind and "SYNC_WARN_SECONDS" in behind
    assert "1 search documents were refused" in dead


# --- claiming outbox rows on PostgreSQL ----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.postgres
def test_two_drainers_on_postgresql_claim_disjoint_rows_without_waiting(pg_engine, tmp_path):
    assert ingest_file(pg_engine, write(tmp_path, "wide.csv", WIDE_CSV)).loaded
    with pg_engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(SearchOutbox)).scalar_one()
    assert total >= 3
    with _claimed(pg_engine, 2) as (_, first), _claimed(pg_engine, 100) as (_, second):
        assert len(first) == 2 and len(second) == total - 2
        assert not {r.id for r in first} & {r.id for r in second}
    with _claimed(pg_engine, 100) as (_, again):  # claims end with their transactions
        assert len(again) == total


# --- the golden pairs ----------------------------------------------------------------------------


def test_every_golden_pair_says_what_confirms_it():
    names = sorted(path.stem for path in GOLDEN.glob("*.json"))
    assert names
    for name in names:
        pair = golden(name)
        assert pair["confirm"] in ("real-server", "reference-only"), name
        assert {"about", "request", "response"} <= set(pair), name
        if pair["confirm"] == "real-server":
            assert pair["expect"] and "setup" in pair, name
        json.dumps(pair)
