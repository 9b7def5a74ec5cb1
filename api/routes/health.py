"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text

from api.deps import EngineDep, SettingsDep
from api.responses import OrjsonResponse
from api.schemas import Health, Readiness

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
def ready(engine: EngineDep, settings: SettingsDep, request: Request):
    """The database answers, the upload job worker runs; with Elasticsearch configured, it answers and its alias exists."""
    checks = {}
    search_index = None
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            memory = getattr(getattr(request.app.state, "search", None), "memory", None)
            if memory is not None:
                search_index = memory.state(engine, connection)
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means not ready; the message names no secret
        checks["database"] = f"unreachable: {type(exc).__name__}"
    jobs = getattr(request.app.state, "jobs", None)
    checks["jobs"] = "ok" if jobs is not None and jobs.alive() else "the upload job worker is not running"
    warnings: list[str] = []
    if settings.elasticsearch_url:
        checks["elasticsearch"], warnings = _elasticsearch(settings, engine)
    ok = all(value == "ok" for value in checks.values())
    body = Readiness(status="ready" if ok else "not ready", checks=checks, search_index=search_index, warnings=warnings)
    return OrjsonResponse(body.model_dump(), status_code=200 if ok else 503)


def _elasticsearch(settings, engine) -> tuple[str, list[str]]:
    """Elasticsearch's check, and the search sync's warnings (``elastic_sync.SyncStatus``)."""
    from elasticsearch import Elasticsearch

    from search.backends.elastic_sync import sync_status

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
