"""The FastAPI application. ``create_app(settings)`` builds it; nothing is built at import
time. The engines, the chemistry index, the search backend, the rate limiter and the job
worker are made in the lifespan and kept on ``app.state``.

Two engines: ``engine`` on the primary core (``database_url``), for writes and for every read
that must see its own writes (job status, ownership and API-key checks), and ``read_engine``
for searches and public reads: a replica (``database_read_url``) when one is set, else the
same engine. The chemistry and in-memory search indexes follow the read engine's generation.

Run it with ``biomatdb serve``, or ``uvicorn --factory biomatdb_api.app:create_app``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline

from biomatdb import __version__
from biomatdb.settings import Settings
from biomatdb_api import params, problems
from biomatdb_api.deps import rate_limited
from biomatdb_api.head import HeadAsGet
from biomatdb_api.jobs import JobWorker
from biomatdb_api.limits import BodyLimit, QueryStringLimit, RateLimiter
from biomatdb_api.responses import OrjsonResponse
from biomatdb_api.routes import (
    compare,
    conditions,
    datasets,
    export,
    health,
    jobs,
    materials,
    search,
    select,
    vocabulary,
)

API_PREFIX = "/api/v1"

#: Operation ids a generated client reads well (``client.get_material``); a route not named here
#: is its function's name, which already reads (``search_materials``, ``upload_dataset``).
OPERATION_IDS = {
    "material_detail": "get_material",
    "dataset_detail": "get_dataset",
    "datapackage": "get_datapackage",
    "datapackage_descriptor": "get_datapackage_descriptor",
    "job_status": "get_job",
    "compare": "compare_materials",
    "export": "export_measurements",
    "properties": "list_properties",
    "systems": "list_unit_systems",
    "classes": "list_classes",
    "applications": "list_applications",
    "list_presets": "list_selection_presets",
    "search_by_body": "search_materials_by_body",
}


def operation_id(route) -> str:
    return OPERATION_IDS.get(route.name, route.name)


DESCRIPTION = """\
An open biomaterials database: materials and their measured properties, every value with
its unit, conditions, source and dataset.

* **Search** with free text and the filter language
  (`youngs_modulus in 0.1..3 GPa AND class = polymer`, `tensile_strength > 50 MPa WHERE medium = PBS`,
  `substructure("C(=O)O")`, `similarity("*CC(*)c1ccccc1") >= 0.6`); values in any unit of the property.
* **Curators** upload datasets with an API key (`Authorization: Bearer <key>`, made with
  `biomatdb apikey create`); an upload is a job whose report says what was loaded and what is wrong.
* Every error is `application/problem+json` (RFC 9457).
"""


#: The routes whose ``limit`` is held to ``page_size_max`` (api/biomatdb_api/routes/search.py ``run_search``).
PAGED = (f"{API_PREFIX}/materials", f"{API_PREFIX}/search")


def _lifespan(settings: Settings):
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from biomatdb.db import make_engine, migrate
        from biomatdb_search.chemistry import ChemistryIndex
        from biomatdb_search.service import make_backend

        engine = make_engine(settings.resolved_database_url(), search_outbox=settings.search_outbox)
        migrate(engine)
        # searches and public reads on the replica when one is set (it replays the primary's
        # schema: never migrated itself); the same engine otherwise
        read_engine = make_engine(settings.database_read_url) if settings.database_read_url else engine
        chemistry = ChemistryIndex(read_engine, limits=settings.structure_limits())
        warming = chemistry.warm()  # built in the background from stored data: no first chemistry query waits
        app.state.settings = settings
        app.state.engine = engine
        app.state.read_engine = read_engine
        app.state.chemistry = chemistry
        app.state.search = make_backend(settings, read_engine, chemistry, memory=True)
        memory = getattr(app.state.search, "memory", None)
        if memory is not None:
            memory.start(read_engine)  # searches run in SQL until it is built
        app.state.limiter = RateLimiter.from_text(settings.rate_limit)
        app.state.jobs = JobWorker(settings, engine) if settings.jobs_in_api else None
        if app.state.jobs is not None:
            app.state.jobs.start()
        app.state.outbox = None
        if settings.elasticsearch_url and settings.elasticsearch_sync_in_api:
            from elasticsearch import Elasticsearch

            from biomatdb_api.outbox import OutboxDrainer

            app.state.outbox = OutboxDrainer(
                engine,
                Elasticsearch(settings.elasticsearch_url),
                settings.elasticsearch_index,
                max_backoff_s=settings.elasticsearch_sync_max_backoff_seconds,
                stale_after_s=settings.elasticsearch_reindex_stale_seconds,
            )
            app.state.outbox.start()
        try:
            yield
        finally:
            if app.state.outbox is not None:
                app.state.outbox.stop()
            if app.state.jobs is not None:
                app.state.jobs.stop()
            # the index build holds a connection: disposing the engine under it would leave that
            # connection to the garbage collector, unclosed (found as a ResourceWarning in the suite)
            warming.join(timeout=60)
            if memory is not None:
                memory.join(read_engine)  # the first build, or one a change started
            if read_engine is not engine:
                read_engine.dispose()
            engine.dispose()

    return lifespan


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API over the core that ``settings`` names."""
    settings = settings or Settings()
    app = FastAPIOffline(
        title="BiomatDB",
        version=__version__,
        description=DESCRIPTION,
        lifespan=_lifespan(settings),
        default_response_class=OrjsonResponse,
        generate_unique_id_function=operation_id,
        license_info={"name": "MIT", "identifier": "MIT"},
        openapi_tags=[
            {
                "name": "search",
                "description": "Find materials by text, properties in any unit, class, application and chemistry.",
            },
            {"name": "materials", "description": "One material, similar materials, materials side by side."},
            {"name": "select", "description": "Rank candidates against a requirement, with the reasons shown."},
            {"name": "vocabulary", "description": "Properties with canonical units, classes, applications."},
            {"name": "export", "description": "Searches and datasets as CSV, JSON and Frictionless Data Packages."},
            {"name": "datasets", "description": "Provenance; uploads as jobs (curators); retraction (admins)."},
            {"name": "health", "description": "Liveness and readiness."},
        ],
    )
    app.state.settings = settings
    problems.install(app)

    public = APIRouter(prefix=API_PREFIX, dependencies=[Depends(rate_limited)])
    for module in (search, materials, compare, select, vocabulary, conditions, export, datasets):
        public.include_router(module.router)
    app.include_router(public)
    app.include_router(datasets.curator_router, prefix=API_PREFIX)
    app.include_router(jobs.router, prefix=API_PREFIX)
    app.include_router(health.router)
    from biomatdb_api.ui.routes import router as ui_router

    app.include_router(ui_router)

    upload = ("POST", f"{API_PREFIX}/datasets")
    app.add_middleware(BodyLimit, limit=settings.request_max_bytes, exempt=(upload,))
    app.add_middleware(QueryStringLimit, limit=params.QUERY_STRING_MAX_BYTES)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Location", "Retry-After"],
        )
    app.add_middleware(HeadAsGet)  # outermost of these: every route inside sees the HEAD as its GET
    keyed = {
        (API_PREFIX + route.path, method.lower())
        for router in (datasets.curator_router, jobs.router)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    app.openapi = _openapi(app, settings, keyed)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI, settings: Settings, keyed: set[tuple[str, str]]):
    """The OpenAPI document as clients meet the server: a public route takes a key but needs none
    (``security: [{}, {ApiKey: []}]``; ``keyed``: the curators' and admins' routes, which need
    one), and a page's ``limit`` is declared as the server enforces it
    (``page_size_max``)."""

    def schema() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                license_info=app.license_info,
            )
            for path, operations in document["paths"].items():
                for method, operation in operations.items():
                    if (path, method) not in keyed and operation.get("security"):
                        operation["security"] = [{}, *operation["security"]]
                    for parameter in operation.get("parameters", ()):
                        if parameter["name"] == "limit" and path in PAGED:
                            parameter["schema"]["maximum"] = settings.page_size_max
            body = document["components"]["schemas"].get("SearchBody")
            if body is not None:
                body["properties"]["limit"]["maximum"] = settings.page_size_max
            app.openapi_schema = problems.problem_content_in(document)
        return app.openapi_schema

    return schema
