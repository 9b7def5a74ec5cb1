"""Upload jobs: status, progress and, when finished, the ingest report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from biomatdb.errors import NotFoundError
from biomatdb.models import Job
from biomatdb_api import params
from biomatdb_api.deps import CuratorDep, EngineDep
from biomatdb_api.jobs import job_json
from biomatdb_api.problems import responses
from biomatdb_api.schemas import JobOut

router = APIRouter(tags=["datasets"])


@router.get("/jobs/{job_id}", response_model=JobOut, responses=responses(401, 403, 404, 422), summary="An upload job")
def job_status(
    job_id: Annotated[str, Path(max_length=params.JOB_ID_MAX)], holder: CuratorDep, engine: EngineDep, request: Request
) -> dict:
    """Its submitter's and the admins' (404 to anyone else): ``queued``, ``running`` (with rows done of rows total), ``succeeded`` or ``failed``."""
    # on the primary, never the replica: the job was written a moment ago and its state moves
    with engine.connect() as connection:
        row = connection.execute(Job.__table__.select().where(Job.public_id == job_id)).first()
    # a job is its submitter's and the admins' to see: to anyone else it does not exist
    if row is None or not (holder.may("admin") or row.created_by_key_id == holder.id):
        raise NotFoundError(f"no job {job_id!r}")
    jobs = request.app.state.jobs  # None when `biomatdb worker` runs the jobs: the row has the progress
    return job_json(row, None if jobs is None else jobs.progress.get(job_id))
