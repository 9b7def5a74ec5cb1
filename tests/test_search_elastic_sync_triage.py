"""Triage of what Elasticsearch answers about its own limits and state, through the official
client's transport layer (``tests/es_transport.py``): a bulk request over the node's
``http.max_content_length`` (413), and a write block (403 ``cluster_block_exception``), which is
the cluster's state, not the documents' fault."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from biomatdb.errors import SearchUnavailable
from biomatdb.models import SearchDeadLetter
from biomatdb_ingest.pipeline import ingest_file
from biomatdb_search.backends.elastic_sync import outcome, reindex, sync, versioned_actions, write_bulk
from tests.es_transport import Request, Rule, bulk_answer, golden, golden_answer, scripted_client
from tests.test_pipeline import write
from tests.test_search_elastic_sync import ALIAS, FAST_S, INDEX, _ids, _outbox, alias_on, loaded, no_reindex

__all__ = ["loaded"]  # the fixture, used by name

NODE_LIMIT = 50_000  # the scripted node's http.max_content_length, in bytes


def node_with_limit(limit: int = NODE_LIMIT):
    """A bulk answer as a node gives it: 413 for a body over ``limit``, else every item written."""
    written = bulk_answer(lambda a, s: None)

    def answer(request: Request):
        if len(request.body or b"") > limit:
            return golden_answer("bulk_too_large_413")
        return written(request)

    return answer


@pytest.fixture
def with_big(loaded, tmp_path):
    """The wide fixture's three materials and a fourth whose document is over ``NODE_LIMIT`` alone."""
    rows = "".join(
        f"Big gel\tE\t{value}\tGPa\t\t{'saline ' * 3000}{value}\t\tTest review 2010\n" for value in range(1, 9)
    )
    table = "Material\tProperty\tValue\tUnit\tTemperature\tMedium\tMethod\tSource\n" + rows
    assert ingest_file(loaded, write(tmp_path, "big.tsv", table)).loaded
    return loaded


def _dead(engine) -> list[tuple[int, int, str]]:
    with engine.connect() as connection:
        rows = connection.execute(select(SearchDeadLetter)).all()
    return [(row.material_id, row.status, row.error_type) for row in rows]


def test_a_document_too_large_alone_is_a_dead_letter_and_the_rest_drains(with_big):
    ids = _ids(with_big)
    client, script = scripted_client([no_reindex(), alias_on(), Rule("PUT", r"/_bulk", [node_with_limit()])])
    report = sync(with_big, client, ALIAS, backoff_s=FAST_S)
    assert (report.upserted, report.refused, report.pending) == (3, 1, 0)
    assert _outbox(with_big) == []  # nothing stuck behind it
    ((material_id, status, error_type),) = _dead(with_big)
    assert (material_id, status, error_type) == (ids["Big gel"], 413, "request_entity_too_large")
    sent = [len(r.body or b"") for r in script.sent("PUT", r"/_bulk")]
    assert sent[0] > NODE_LIMIT  # the whole batch first, then halves down to the one document
    written = {r.ndjson()[0]["index"]["_id"] for r in script.sent("PUT", r"/_bulk") if len(r.body or b"") <= NODE_LIMIT}
    assert str(ids["Big gel"]) not in written and len(written) >= 1


def test_a_reindex_skips_a_document_too_large_and_swaps(with_big):
    ids = _ids(with_big)
    client, _ = scripted_client(
        [
            Rule("HEAD", rf"/{ALIAS}$", [(404, {})]),
            Rule("GET", r"/_cluster/health", [(200, {"number_of_data_nodes": 1, "status": "green"})]),
            Rule("PUT", rf"/{ALIAS}-\d+$", [(200, {"acknowledged": True})]),
            Rule("PUT", r"/_bulk", [node_with_limit()]),
            Rule("PUT", rf"/{ALIAS}-\d+/_settings", [(200, {"acknowledged": True})]),
            Rule("POST", rf"/{ALIAS}-\d+/_refresh", [(200, {"_shards": {"total": 1, "successful": 1, "failed": 0}})]),
            Rule("GET", rf"/_alias/{ALIAS}$", [golden_answer("alias_missing", alias=ALIAS)]),
            Rule("POST", r"/_aliases", [(200, {"acknowledged": True})]),
        ]
    )
    report = reindex(with_big, client, ALIAS, backoff_s=FAST_S)
    assert report.documents == 3
    assert [(s.material_id, s.status) for s in report.skipped] == [(ids["Big gel"], 413)]


def test_bulk_requests_are_bounded_in_bytes(with_big):
    client, script = scripted_client([Rule("PUT", r"/_bulk", [bulk_answer(lambda a, s: None)])])
    documents = [{"material_id": n, "text": "x" * 3_000} for n in range(1, 41)]
    result = write_bulk(client, versioned_actions(documents, INDEX, 7), doing="testing", max_bytes=20_000)
    assert len(result.done) == 40
    sizes = [len(r.body or b"") for r in script.sent("PUT", r"/_bulk")]
    assert len(sizes) >= 6 and max(sizes) <= 20_000  # by bytes, not by the 500-action count


def test_the_write_block_pair_is_operational():
    item = golden("bulk_write_block")["response"]["body"]["items"][0]["index"]
    assert outcome("index", item["status"], item["error"]["type"]) == "retry"
    assert outcome("index", 403, "security_exception") == "refused"  # a 403 of another kind is refused


def test_a_write_block_keeps_every_row_and_sets_nothing_aside(loaded):
    block = golden_answer("bulk_write_block", index=INDEX)[1]["items"][0]["index"]
    client, _ = scripted_client(
        [no_reindex(), alias_on(), Rule("PUT", r"/_bulk", [bulk_answer(lambda a, s: (403, block["error"]))])]
    )
    backlog = _outbox(loaded)
    report = sync(loaded, client, ALIAS, retries=1, backoff_s=FAST_S)
    assert (report.pending, report.refused, report.outbox_rows) == (3, 0, 0)
    assert _outbox(loaded) == backlog and _dead(loaded) == []
    unblocked, _ = scripted_client([no_reindex(), alias_on(), Rule("PUT", r"/_bulk", [bulk_answer(lambda a, s: None)])])
    assert sync(loaded, unblocked, ALIAS, backoff_s=FAST_S).upserted == 3 and _outbox(loaded) == []


def test_a_whole_request_blocked_by_the_cluster_is_unavailable_not_refused(loaded):
    blocked = (
        403,
        {
            "error": {
                "type": "cluster_block_exception",
                "reason": "blocked by: [FORBIDDEN/12/index read-only / allow delete (api)];",
            },
            "status": 403,
        },
    )
    client, _ = scripted_client([no_reindex(), alias_on(), Rule("PUT", r"/_bulk", [blocked])])
    backlog = _outbox(loaded)
    with pytest.raises(SearchUnavailable) as raised:
        sync(loaded, client, ALIAS, backoff_s=FAST_S)
    assert raised.value.type == "search-unavailable" and "cluster_block_exception" in raised.value.message
    assert _outbox(loaded) == backlog and _dead(loaded) == []


def test_sync_status_with_elasticsearch_down_prints_what_the_core_knows(loaded, monkeypatch):
    from elastic_transport import ConnectionError as TransportConnectionError
    from typer.testing import CliRunner

    from biomatdb import cli

    def refused(request):
        return TransportConnectionError("Connection refused", errors=(ConnectionRefusedError(111, "refused"),))

    down, _ = scripted_client([Rule("GET", r"/", [refused])], max_retries=0)
    monkeypatch.setenv("BIOMATDB_DATABASE_URL", loaded.url.render_as_string(hide_password=False))
    monkeypatch.setenv("BIOMATDB_ELASTICSEARCH_URL", "http://scripted.invalid:9200")
    monkeypatch.setattr(cli, "_elasticsearch", lambda settings: down)
    shown = CliRunner().invoke(cli.app, ["sync", "--status"], catch_exceptions=False)
    assert shown.exit_code == 1  # Elasticsearch is away: said, and the exit code tells a script
    assert "outbox: 3 materials wait" in shown.output and "dead letters: 0" in shown.output, shown.output
    assert "Elasticsearch is unavailable" in shown.output


def test_a_reindex_removes_the_outbox_rows_its_snapshot_holds_and_keeps_later_ones(loaded):
    """An outbox that grew while no index was kept ends with the first reindex; a change committed
    while the reindex wrote (after its snapshot) stays for sync."""
    from biomatdb.outbox import record_changed_rows

    ids = _ids(loaded)
    written = bulk_answer(lambda a, s: None)

    def write_and_change(request):
        with loaded.begin() as connection:  # a change committed after the reindex's snapshot
            record_changed_rows(connection, [(ids["PCL"], None)])  # coalesced into PCL's waiting row
        return written(request)

    client, _ = scripted_client(
        [
            Rule("HEAD", rf"/{ALIAS}$", [(404, {})]),
            Rule("GET", r"/_cluster/health", [(200, {"number_of_data_nodes": 1, "status": "green"})]),
            Rule("PUT", rf"/{ALIAS}-\d+$", [(200, {"acknowledged": True})]),
            Rule("PUT", r"/_bulk", [write_and_change, written]),
            Rule("PUT", rf"/{ALIAS}-\d+/_settings", [(200, {"acknowledged": True})]),
            Rule("POST", rf"/{ALIAS}-\d+/_refresh", [(200, {"_shards": {"total": 1, "successful": 1, "failed": 0}})]),
            Rule("GET", rf"/_alias/{ALIAS}$", [golden_answer("alias_missing", alias=ALIAS)]),
            Rule("POST", r"/_aliases", [(200, {"acknowledged": True})]),
        ]
    )
    assert len(_outbox(loaded)) >= 3
    report = reindex(loaded, client, ALIAS, backoff_s=FAST_S)
    assert report.outbox_pruned >= 3
    assert _outbox(loaded) == [ids["PCL"]]  # only the change made after the snapshot


def _iso_ago(seconds: float) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat()


@pytest.mark.parametrize(
    ("heartbeat_age_s", "recovered"),
    [
        (10, False),  # a reindex on another host that beats: running
        (3600, True),  # silent for an hour, though only minutes old: killed, on whatever host
    ],
)
def test_a_marker_whose_heartbeat_stopped_is_recovered_from_any_host(loaded, heartbeat_age_s, recovered):
    from tests.test_search_elastic_sync import _marker

    owner = {"host": "another-container", "pid": 1, "heartbeat": _iso_ago(heartbeat_age_s)}
    client, script = scripted_client(_marker(600, owner))
    report = sync(loaded, client, ALIAS, stale_after_s=6 * 3600, backoff_s=FAST_S)
    assert report.deferred is not recovered
    assert bool(script.sent("DELETE", r"/")) is recovered


def test_a_reindex_refreshes_its_heartbeat_while_it_builds(loaded):
    import threading

    beaten = threading.Event()
    written = bulk_answer(lambda a, s: None)

    def heartbeat(request):
        beaten.set()
        return 200, {"acknowledged": True}

    def slow_bulk(request):  # the build lasts until a heartbeat has come
        assert beaten.wait(30)
        return written(request)

    client, script = scripted_client(
        [
            Rule("HEAD", rf"/{ALIAS}$", [(404, {})]),
            Rule("GET", r"/_cluster/health", [(200, {"number_of_data_nodes": 1, "status": "green"})]),
            Rule("PUT", rf"/{ALIAS}-\d+/_mapping", [heartbeat]),
            Rule("PUT", rf"/{ALIAS}-\d+$", [(200, {"acknowledged": True})]),
            Rule("PUT", r"/_bulk", [slow_bulk]),
            Rule("PUT", rf"/{ALIAS}-\d+/_settings", [(200, {"acknowledged": True})]),
            Rule("POST", rf"/{ALIAS}-\d+/_refresh", [(200, {"_shards": {"total": 1, "successful": 1, "failed": 0}})]),
            Rule("GET", rf"/_alias/{ALIAS}$", [golden_answer("alias_missing", alias=ALIAS)]),
            Rule("POST", r"/_aliases", [(200, {"acknowledged": True})]),
        ]
    )
    reindex(loaded, client, ALIAS, backoff_s=FAST_S, heartbeat_s=0.01)
    (created,) = script.sent("PUT", rf"/{ALIAS}-\d+$")
    first = created.json()["mappings"]["_meta"]["reindex"]
    beat = script.sent("PUT", rf"/{ALIAS}-\d+/_mapping")[0].json()["_meta"]["reindex"]
    assert beat["heartbeat"] >= first["heartbeat"] and beat["pid"] == first["pid"]
