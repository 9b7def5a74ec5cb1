"""Datasets: their provenance and history, their Data Package, uploads as jobs (curators)
and retraction (admins)."""

from __future__ import annotations

import shutil
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from biomatdb.catalog import datasets_json, find_dataset
from biomatdb.models import Dataset, Job
from biomatdb.ownership import Actor, may_change, refusal
from biomatdb.text import dataset_name_problem
from biomatdb.vocabulary import get_vocabulary
from biomatdb_api import params
from biomatdb_api.datapackage import check_descriptor, descriptor, write_zip
from biomatdb_api.deps import (
    CuratorWriteDep,
    EngineDep,
    ReadEngineDep,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
    actor_of,
)
from biomatdb_api.jobs import enqueue, job_json, new_job_id, upload_dir
from biomatdb_api.negotiation import preferred
from biomatdb_api.problems import ProblemError, responses
from biomatdb_api.responses import OrjsonResponse
from biomatdb_api.schemas import DatasetOut, JobOut, RetractionOut
from biomatdb_api.uploads import receive_upload
from biomatdb_ingest.manifest import ManifestError
from biomatdb_ingest.mapping import parse_mappings
from biomatdb_ingest.retract import retract_dataset

router = APIRouter(tags=["datasets"])
curator_router = APIRouter(tags=["datasets"])  # behind API keys, not the public rate limit

DatasetId = Annotated[
    str, Path(min_length=1, max_length=params.NAME_MAX, description="Numeric id or name of the dataset.")
]

_UPLOAD_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "CSV, TSV, XLSX or JSON file"},
                        "name": {
                            "type": "string",
                            "description": "Dataset name (default: the file name without extension)",
                        },
                        "license": {"type": "string", "description": "License of the dataset, e.g. CC-BY-4.0"},
                        "source": {
                            "type": "string",
                            "description": "DOI or citation for values without a source of their own",
                        },
                        "dry_run": {
                            "type": "boolean",
                            "default": False,
                            "description": "Check and report; change nothing",
                        },
                        "skip_invalid": {
                            "type": "boolean",
                            "default": False,
                            "description": "Load the valid rows, report the rest",
                        },
                        "map": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "Repeatable: HEADER=PROPERTY_KEY "
                            "reads the column HEADER as that property (or a role such as name or temperature, or ignore), "
                            "over the manifest; a unit may follow in brackets (E=youngs_modulus [GPa]). As biomatdb ingest --map",
                        },
                        "strict": {
                            "type": "boolean",
                            "default": False,
                            "description": "Every warning is an error: load nothing "
                            "when there is any (unknown columns, possible duplicates, cleaned cells, ...)",
                        },
                        "replace": {
                            "type": "boolean",
                            "default": False,
                            "description": "Confirm a replace that removes more than "
                            "the server's replace_max_share of the dataset's measurements",
                        },
                    },
                }
            }
        },
    }
}


@router.get("/datasets", response_model=list[DatasetOut], responses=responses(429), summary="Datasets")
def list_datasets(engine: ReadEngineDep) -> list[dict]:
    """Every dataset with its license, source, counts and history of uploads."""
    with engine.connect() as connection:
        return datasets_json(connection)


@router.get(
    "/datasets/{dataset_id}", response_model=DatasetOut, responses=responses(404, 422, 429), summary="One dataset"
)
def dataset_detail(dataset_id: DatasetId, session: ReadSessionDep, engine: ReadEngineDep) -> dict:
    """Provenance, counts and the history of uploads of one dataset."""
    dataset = find_dataset(session, dataset_id)
    with engine.connect() as connection:
        return next(d for d in datasets_json(connection) if d["id"] == dataset.id)


#: The data package's media types, its own (the zip) first: what Accept and ``format`` choose from.
DATAPACKAGE_MEDIA = {"zip": "application/zip", "json": "application/json"}

_DESCRIPTOR_EXAMPLE = {
    "profile": "tabular-data-package",
    "name": "biomatdb-curated-polymers",
    "licenses": [{"name": "CC-BY-4.0"}],
    "resources": [
        {
            "name": "measurements",
            "path": "/api/v1/export?format=csv&dataset=biomatdb-curated-polymers",
            "format": "csv",
            "schema": {"fields": [{"name": "material", "type": "string"}]},
        }
    ],
}


def _not_acceptable(accept: str | None, offered: list[str], asked: str) -> ProblemError:
    return ProblemError(
        406,
        f"Accept: {accept!r} allows none of {', '.join(offered)}{asked}; "
        f"the data package is {' or '.join(DATAPACKAGE_MEDIA.values())}",
        code="not-acceptable",
        headers={"Vary": "Accept"},
    )


def _descriptor_answer(request: Request, session: Session, dataset: Dataset) -> OrjsonResponse:
    url = str(request.url_for("export").include_query_params(format="csv", dataset=dataset.name))
    package = descriptor(session.connection(), dataset, data_path=url)
    check_descriptor(package)
    return OrjsonResponse(package, headers={"Vary": "Accept"})


# Only the zip is declared for 200: a generated client (openapi-python-client) reads an answer
# declared JSON as JSON, and would decode the zip; the descriptor has its own operation below.
@router.get(
    "/datasets/{dataset_id}/datapackage",
    summary="A dataset as a Frictionless Data Package",
    description="A zip of datapackage.json and data.csv. datapackage.json alone (its resource a URL of "
    "/export) is `GET /datasets/{dataset_id}/datapackage.json`; this route answers it too, for "
    "`format=json` or an `Accept` that prefers `application/json`. Without `format`, the `Accept` "
    "header chooses: the zip for none, `*/*` or `application/zip`, the JSON for `application/json` "
    "(the zip when both are equally welcome). An `Accept` that allows neither, or not the `format` "
    "asked for, is a 406 problem.",
    response_class=Response,  # no JSON default: the answer is a zip unless JSON is asked for
    responses={
        200: {
            "description": "A zip of datapackage.json and data.csv",
            "headers": {"Vary": {"description": "Accept", "schema": {"type": "string"}}},
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        },
        **responses(404, 406, 422, 429),
    },
)
def datapackage(
    dataset_id: DatasetId,
    session: ReadSessionDep,
    request: Request,
    format: Annotated[
        str | None,
        Query(
            pattern="^(zip|json)$",
            description="zip: the package with its CSV; json: datapackage.json alone, its resource a URL of "
            "/export (as `GET /datasets/{dataset_id}/datapackage.json`). Without it, the Accept header "
            "chooses (the zip unless it prefers JSON).",
        ),
    ] = None,
):
    """``datapackage.json`` (Table Schema, license, sources) beside the dataset's CSV."""
    dataset = find_dataset(session, dataset_id)
    offered = [DATAPACKAGE_MEDIA[format]] if format is not None else list(DATAPACKAGE_MEDIA.values())
    accept = request.headers.get("accept")
    media = preferred(accept, offered)
    if media is None:
        raise _not_acceptable(accept, offered, f" (format={format})" if format is not None else "")
    if media == DATAPACKAGE_MEDIA["json"]:
        return _descriptor_answer(request, session, dataset)
    archive = write_zip(session, dataset)
    return FileResponse(
        archive,
        media_type="application/zip",
        filename=archive.name,
        headers={"Vary": "Accept"},
        background=BackgroundTask(shutil.rmtree, archive.parent, ignore_errors=True),
    )


@router.get(
    "/datasets/{dataset_id}/datapackage.json",
    summary="A dataset's Data Package descriptor",
    description="datapackage.json alone: Table Schema, license and sources, its resource a URL of "
    "/export (the CSV). The zip with the CSV inside is `GET /datasets/{dataset_id}/datapackage`. An "
    "`Accept` that does not allow `application/json` is a 406 problem.",
    response_class=Response,
    responses={
        200: {
            "description": "datapackage.json",
            "headers": {"Vary": {"description": "Accept", "schema": {"type": "string"}}},
            "content": {"application/json": {"schema": {"type": "object"}, "example": _DESCRIPTOR_EXAMPLE}},
        },
        **responses(404, 406, 422, 429),
    },
)
def datapackage_descriptor(dataset_id: DatasetId, session: ReadSessionDep, request: Request):
    """The data package's ``datapackage.json``, without its CSV."""
    dataset = find_dataset(session, dataset_id)
    offered = [DATAPACKAGE_MEDIA["json"]]
    accept = request.headers.get("accept")
    if preferred(accept, offered) is None:
        raise _not_acceptable(accept, offered, "")
    return _descriptor_answer(request, session, dataset)


def _flag(value: str | None, name: str) -> bool:
    if value is None or value == "":
        return False
    folded = value.strip().lower()
    if folded in ("1", "true", "yes", "on"):
        return True
    if folded in ("0", "false", "no", "off"):
        return False
    raise ProblemError(422, f"{name}: expected true or false, got {value!r}", code="validation-error")


def _mappings(entries: list[str]) -> list[str]:
    """The ``map`` fields, refused (422) as ``biomatdb ingest --map`` refuses them; whether the file
    has each header, the job's report says."""
    entries = [entry for entry in entries if entry.strip()]
    try:
        parse_mappings(entries, get_vocabulary())
    except ManifestError as exc:
        raise ProblemError(
            422, exc.message, code="validation-error", suggestions=list(exc.suggestions) or None
        ) from None
    return entries


@curator_router.post(
    "/datasets",
    status_code=202,
    response_model=JobOut,
    openapi_extra=_UPLOAD_FORM,
    responses=responses(400, 401, 403, 413, 415, 422),
    summary="Upload a dataset",
)
async def upload_dataset(request: Request, holder: CuratorWriteDep, settings: SettingsDep, engine: EngineDep):
    """The file streams to the data directory (refused with 413 as soon as it passes the
    upload limit) and becomes a job; the answer, at once, is the job with its ``Location``.
    The job's report, when it ends, is the one ``biomatdb ingest --json`` prints."""
    from starlette.concurrency import run_in_threadpool

    job_id = new_job_id()
    directory = upload_dir(settings, job_id)
    received = await receive_upload(request, directory=directory, limit=settings.upload_max_bytes)
    try:
        if received.path is None or received.filename is None:  # the file part sets both
            raise ProblemError(422, "file: the upload has no file part", code="validation-error")
        fields = received.fields
        options = {
            "license": fields.get("license") or None,
            "source": fields.get("source") or None,
            "dry_run": _flag(fields.get("dry_run"), "dry_run"),
            "skip_invalid": _flag(fields.get("skip_invalid"), "skip_invalid"),
            "replace": _flag(fields.get("replace"), "replace"),
            "strict": _flag(fields.get("strict"), "strict"),
            "map": _mappings(received.repeated.get("map", [])),
        }
        name = (fields.get("name") or "").strip() or received.path.stem
        if (problem := dataset_name_problem(name)) is not None:
            raise ProblemError(422, f"name: {problem}", code="validation-error")
        await run_in_threadpool(_check_may_change, engine, name, actor_of(holder))
        await run_in_threadpool(
            enqueue,
            engine,
            job_id=job_id,
            dataset=name,
            filename=received.filename,
            path=received.path,
            options=options,
            created_by=holder.name,
            created_by_key_id=holder.id,
        )
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    if request.app.state.jobs is not None:  # else `biomatdb worker` processes find it when they poll
        request.app.state.jobs.notify()
    with engine.connect() as connection:
        row = connection.execute(Job.__table__.select().where(Job.public_id == job_id)).one()
    location = str(request.url_for("job_status", job_id=job_id))
    return OrjsonResponse(job_json(row), status_code=202, headers={"Location": location})


def _check_may_change(engine, name: str, actor: Actor) -> None:
    """403, before anything is queued, when the dataset exists and ``actor`` may not change it
    (the load checks again in its own transaction, so a race cannot get past)."""
    with engine.connect() as connection:
        owner = connection.execute(select(Dataset.id, Dataset.owner_key_id).where(Dataset.name == name)).first()
    if owner is not None and not may_change(owner.owner_key_id, actor):
        raise ProblemError(403, refusal(name, owner.owner_key_id), code="forbidden")


@curator_router.delete(
    "/datasets/{dataset_id}",
    response_model=RetractionOut,
    responses=responses(401, 403, 404, 422),
    summary="Retract a dataset",
)
def delete_dataset(dataset_id: DatasetId, holder: CuratorWriteDep, engine: EngineDep, session: SessionDep) -> dict:
    """Retracts the dataset's measurements (its owner or an admin); its record and upload history stay."""
    dataset = find_dataset(session, dataset_id)
    found_id, name = dataset.id, dataset.name
    session.rollback()  # end the read before the write transaction begins
    with engine.begin() as connection:
        # read again inside the write: ownership cannot change between the check and the retraction
        owner = connection.execute(select(Dataset.owner_key_id).where(Dataset.id == found_id)).scalar()
        if not may_change(owner, actor_of(holder)):
            raise ProblemError(403, refusal(name, owner), code="forbidden")
        return retract_dataset(connection, found_id).as_dict()
