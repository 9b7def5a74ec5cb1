"""Settings, read from ``BIOMATDB_*`` environment variables; nothing is built at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("biomatdb", appauthor=False))


class Settings(BaseSettings):
    """Every field is documented in the README; a test checks that."""

    model_config = SettingsConfigDict(env_prefix="BIOMATDB_", extra="ignore")

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Directory for the embedded SQLite database and other local state.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the relational core, e.g. "
            "postgresql+psycopg://user@host/db. Unset: a SQLite file biomatdb.sqlite in data_dir."
        ),
    )
    database_read_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of a read replica of the core (a PostgreSQL hot standby), e.g. "
            "postgresql+psycopg://user@standby/db: the API's searches and public read routes go to it; "
            "writes, upload jobs, job status and API-key checks stay on database_url. Unset: every read "
            "goes to database_url."
        ),
    )
    replication_lag_warn_seconds: float = Field(
        default=30.0,
        gt=0,
        description=(
            "Replication lag of the read replica (database_read_url) past which /ready warns, in seconds; "
            "searches then answer from a core that far behind its writes. A warning, not unreadiness."
        ),
    )
    ingest_chunk_rows: int = Field(
        default=50_000,
        gt=0,
        description="Rows read, parsed and loaded per chunk while ingesting (a wide file's divided by its property columns); bounds memory.",
    )
    elasticsearch_url: str | None = Field(
        default=None,
        description=(
            "URL of the Elasticsearch node that `biomatdb reindex` and `biomatdb sync` write to, e.g. "
            "http://localhost:9200. Unset: no Elasticsearch; search runs on the core."
        ),
    )
    elasticsearch_index: str = Field(
        default="biomatdb",
        description=(
            "Elasticsearch alias the search documents are read through; each reindex builds a fresh "
            "index <alias>-<timestamp> behind it."
        ),
    )
    elasticsearch_shards: int = Field(
        default=1,
        ge=1,
        le=1024,
        description="Primary shards of each index `biomatdb reindex` builds (see deploy/README.md for sizing).",
    )
    elasticsearch_replicas: int | None = Field(
        default=None,
        ge=0,
        le=16,
        description=(
            "Replicas of each shard of the index `biomatdb reindex` builds. Unset: 0 on a cluster of one data node "
            "(a copy could never be placed, and the index would stay yellow), 1 on more."
        ),
    )
    elasticsearch_sync_in_api: bool = Field(
        default=True,
        description=(
            "The API process drains the search outbox into Elasticsearch in a background thread. Off when a "
            "separate `biomatdb sync --watch` does it (deploy/compose.yaml); any number of drainers is safe."
        ),
    )
    elasticsearch_sync_warn_seconds: float = Field(
        default=900.0,
        gt=0,
        description=(
            "How long the oldest search outbox row may wait (Elasticsearch away, a reindex running) before "
            "/ready warns that search is behind the core, in seconds."
        ),
    )
    elasticsearch_reindex_stale_seconds: float = Field(
        default=6 * 3600.0,
        gt=0,
        description=(
            "Age after which an index still marked as being built (<alias>-reindexing) is taken for one a killed "
            "reindex left, and removed by the next sync, in seconds; one whose reindex process is known dead "
            "(same host, its pid gone) is removed at once."
        ),
    )
    elasticsearch_sync_max_backoff_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Longest wait of a search outbox drainer between two failed rounds, in seconds (it doubles up to it).",
    )
    material_max_nested_records: int = Field(
        default=10_000,
        gt=0,
        le=10_000,
        description=(
            "Most measurements, biological evaluations and element contents one material may hold; an ingest "
            "beyond it is refused, naming the material and the row. At most Elasticsearch's "
            "index.mapping.nested_objects.limit (10,000), which one search document must stay under."
        ),
    )
    read_only: bool = Field(
        default=False,
        description="Turn every write route of the HTTP API off (403); the public demo runs this way.",
    )
    upload_max_bytes: int = Field(
        default=200 * 1024 * 1024,
        gt=0,
        description="Largest dataset upload the API accepts, in bytes; refused (413) while it streams in.",
    )
    request_max_bytes: int = Field(
        default=1024 * 1024,
        gt=0,
        description="Largest request body of any other API route, in bytes (413 beyond it).",
    )
    page_size_max: int = Field(
        default=200,
        gt=0,
        le=500,
        description="Most results one page of an API search may ask for (the limit parameter).",
    )
    rate_limit: str | None = Field(
        default="120/minute",
        description=(
            "Requests per client address (or per API key, when one is sent) on the public read routes, "
            "in the limits notation, e.g. 120/minute or 10/second;1000/hour. Empty: no limit."
        ),
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser, comma-separated; * for any. Empty: none.",
    )
    replace_max_share: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description=(
            "Share of a dataset's measurements that an API upload may remove by replacing it; one that "
            "would remove more fails, changing nothing, unless sent with replace=true."
        ),
    )
    search_memory_index: bool = Field(
        default=True,
        description="The API server answers searches over the SQL core from an in-memory index of it (numpy "
        "columns, rebuilt in the background after every change; about 80 bytes per measurement), "
        "and in SQL while that is built. Off: every search runs in SQL.",
    )
    read_max_columns: int = Field(default=2_000, gt=0, description="Most columns a file's header may have.")
    workbook_max_cells: int = Field(
        default=20_000_000,
        gt=0,
        description="Most cells (rows × columns of its extent) a workbook's sheet may span; checked before it is read.",
    )
    workbook_max_uncompressed_bytes: int = Field(
        default=1 << 30, gt=0, description="Most bytes a workbook's archive may expand to; checked before it is read."
    )
    workbook_max_ratio: int = Field(
        default=200,
        gt=0,
        description="Highest compression ratio of a workbook archive's member over 1 MiB (zip bombs).",
    )
    workbook_max_shared_strings_bytes: int = Field(
        default=256 << 20, gt=0, description="Largest shared-strings table a workbook may hold, in bytes."
    )
    structure_max_chars: int = Field(default=2_000, gt=0, description="Longest SMILES read at ingest, in characters.")
    structure_max_atoms: int = Field(default=1_000, gt=0, description="Most atoms a structure may have at ingest.")
    structure_max_ring_closures: int = Field(
        default=200, gt=0, description="Most ring closures a structure may have at ingest."
    )
    job_max_memory_bytes: int = Field(
        default=4 << 30,
        gt=0,
        description="Address space an upload job's process may use (RLIMIT_AS); past it the job fails, the server carries on.",
    )
    job_max_cpu_seconds: int = Field(
        default=900, gt=0, description="CPU time an upload job's process may use (RLIMIT_CPU), in seconds."
    )
    job_max_wall_seconds: int = Field(
        default=3600, gt=0, description="Wall time an upload job may run before it is killed, in seconds."
    )
    job_nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="How much lower an upload job's process runs than the API's (Unix nice): searches come first.",
    )
    job_workers: int | None = Field(
        default=None,
        ge=1,
        le=16,
        description="Upload jobs each API process runs at once. Unset: 1 on SQLite (one writer), 2 on PostgreSQL, "
        "where ingests of different datasets normalise in parallel and write one at a time.",
    )
    jobs_in_api: bool = Field(
        default=True,
        description="The API process runs upload jobs itself. Off: it only queues them, and `biomatdb worker` "
        "processes (one or more, on any host that shares data_dir) run them.",
    )
    job_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description=(
            "How long a running upload job stays its worker's without a renewal, in seconds (renewed every third "
            "of it on PostgreSQL; on SQLite, whose one writer the job holds, the lease is this past "
            "job_max_wall_seconds). A job whose lease ran out (its worker died, or lost the database while "
            "finishing) is taken back by any worker: settled as succeeded when its load committed, queued again "
            "otherwise, failed after job_max_attempts."
        ),
    )
    job_max_attempts: int = Field(
        default=3,
        ge=1,
        le=100,
        description="Times an upload job is claimed before a job whose lease keeps running out is failed.",
    )
    job_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often the API's job worker looks for queued upload jobs, in seconds.",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'biomatdb.sqlite'}"

    @property
    def search_outbox(self) -> bool:
        """Whether writes record their materials in the search outbox: only when Elasticsearch is
        configured (its sync drains it; without, nothing would, and a first reindex reads the whole core)."""
        return self.elasticsearch_url is not None

    def resolved_read_url(self) -> str:
        """Where reads that may lag the writes go: the replica when one is set, else the core."""
        return self.database_read_url or self.resolved_database_url()

    def staging_dir(self) -> Path:
        """Where an ingest spills its normalised chunks before it writes (removed after; what a
        killed ingest left is removed by the next one)."""
        return self.data_dir / "staging"

    def structure_limits(self):
        from biomatdb.chemistry import StructureLimits

        return StructureLimits(
            max_chars=self.structure_max_chars,
            max_atoms=self.structure_max_atoms,
            max_ring_closures=self.structure_max_ring_closures,
        )
