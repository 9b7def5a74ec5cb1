"""Settings, read from ``BIOMATDB_*`` environment variables; nothing is built at import time."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    ingest_chunk_rows: int = Field(
        default=50_000,
        gt=0,
        description="Rows read, parsed and loaded per chunk while ingesting; bounds memory.",
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'biomatdb.sqlite'}"
