"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text

from biomatdb.replication import lag_warning, replica_lag
from biomatdb_api.deps import EngineDep, ReadEngineDep, SettingsDep
from biomatdb_api.responses import OrjsonResponse
from biomatdb_api.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Liveness")
def health() -> Health:
    """The process answers."""
    return Health(status="ok")


@router.get(
    "/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready"}},
    summary="Readiness",
)
def ready(engine: EngineDep, read_engine: ReadEngineDep, settings: SettingsDep, request: Request):
    """The database answers (and the read replica, when one is set, with its lag), the upload job
    worker runs (when this process runs jobs); with Elasticsearch configured, it answers and its
    alias exists."""
    checks = {}
    search_index = None
    replica = None
    warnings: list[str] = []
    memory = getattr(getattr(request.app.state, "search", None), "memory", None)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            if memory is not None and read_engine is engine:
                search_index = memory.state(engine, connection)
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means not ready; the message names no secret
        checks["database"] = f"unreachable: {type(exc).__name__}"
    if read_engine is not engine:
        # each database is checked alone: the replica's state never depends on the primary's
        try:
            with read_engine.connect() as reading:
                reading.execute(text("SELECT 1"))
                if memory is not None:
                    search_index = memory.state(read_engine, reading)
                if checks["database"] == "ok":
                    with engine.connect() as writing:
                        lag = replica_lag(writing, reading)
                    if lag is not None:
                        replica = lag.as_dict()
                        if (
                            warning := lag_warning(lag, warn_after_s=settings.replication_lag_warn_seconds)
                        ) is not None:
                            warnings.append(warning)
                else:
                    warnings.append("the read replica's lag is unknown while the primary cannot be reached")
            checks["database_read"] = "ok"
        except Exception as exc:  # the replica away: searches would fail, so not ready
            checks["database_read"] = f"unreachable: {type(exc).__name__}"
    jobs = getattr(request.app.state, "jobs", None)
    if settings.jobs_in_api:  # else `biomatdb worker` processes run them, supervised on their own
        checks["jobs"] = "ok" if jobs is not None and jobs.alive() else "the upload job worker is not running"
    if settings.elasticsearch_url:
        checks["elasticsearch"], sync_warnings = _elasticsearch(settings, engine)
        warnings += sync_warnings
    ok = all(value == "ok" for value in checks.values())
    body = Readiness(
        status="ready" if ok else "not ready",
        checks=checks,
        search_index=search_index,
        replica=replica,
        warnings=warnings,
    )
    return OrjsonResponse(body.model_dump(), status_code=200 if ok else 503)


def _elasticsearch(settings, engine) -> tuple[str, list[str]]:
    """Elasticsearch's check, and the search sync's warnings (``elastic_sync.SyncStatus``)."""
    from elasticsearch import Elasticsearch

    from biomatdb_search.backends.elastic_sync import sync_status

    client: Elasticsearch | None = Elasticsearch(settings.elasticsearch_url, request_timeout=3)
    try:
        check = "ok"
        if client is not None and not client.indices.exists_alias(name=settings.elasticsearch_index):
            check = f"alias {settings.elasticsearch_index!r} missing"
    except Exception as exc:  # connection refused, timeouts, auth: all mean not ready
        check, client = f"unreachable: {type(exc).__name__}", None
    try:
        status = sync_status(engine, client, settings.elasticsearch_index, shown=0)
        warnings = status.warnings(settings.elasticsearch_sync_warn_seconds)
    except Exception as exc:  # the check above already says what is down; this only informs
        warnings = [f"search sync state unknown: {type(exc).__name__}"]
    return check, warnings
