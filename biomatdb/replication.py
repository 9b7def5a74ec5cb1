"""How far a read replica (a PostgreSQL hot standby) is behind the primary core.

Two figures, each read where it is true: the WAL bytes the standby has not replayed of what
the primary has made (``pg_current_wal_insert_lsn()`` on the primary, which counts commits
made with ``synchronous_commit = off`` before they are flushed, against
``pg_last_wal_replay_lsn()`` on the standby), and, when that is not zero, the age of the newest
transaction the standby has replayed (``now() - pg_last_xact_replay_timestamp()``): the
longest a search on the standby can be behind a write. A standby that has replayed everything
is 0 s behind however long ago the last write was, so an idle core raises no alarm.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text


@dataclass(frozen=True)
class ReplicaLag:
    """A standby's state against its primary; ``None`` where a figure cannot be had."""

    in_recovery: bool
    lag_bytes: int | None
    lag_seconds: float | None

    def as_dict(self) -> dict[str, object]:
        return {"in_recovery": self.in_recovery, "lag_bytes": self.lag_bytes, "lag_seconds": self.lag_seconds}


def replica_lag(primary: Connection, replica: Connection) -> ReplicaLag | None:
    """The lag of ``replica`` behind ``primary``; None when the replica is not PostgreSQL (a
    copy of a SQLite file, say, has no replication to report)."""
    if replica.dialect.name != "postgresql" or primary.dialect.name != "postgresql":
        return None
    in_recovery, replayed, replay_age_s = replica.execute(
        text(
            "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,"
            " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8"
        )
    ).one()
    if not in_recovery or replayed is None:  # promoted, or not a standby at all
        return ReplicaLag(in_recovery=bool(in_recovery), lag_bytes=None, lag_seconds=None)
    behind = primary.execute(
        text("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), CAST(:replayed AS pg_lsn))::bigint"),
        {"replayed": replayed},
    ).scalar_one()
    lag_bytes = max(int(behind), 0)
    if lag_bytes == 0:
        return ReplicaLag(in_recovery=True, lag_bytes=0, lag_seconds=0.0)
    return ReplicaLag(
        in_recovery=True,
        lag_bytes=lag_bytes,
        lag_seconds=None if replay_age_s is None else max(float(replay_age_s), 0.0),
    )


def lag_warning(lag: ReplicaLag | None, *, warn_after_s: float) -> str | None:
    """What ``/ready`` warns of, or None: a replica no longer in recovery, or one further behind
    than ``warn_after_s`` (setting ``BIOMATDB_REPLICATION_LAG_WARN_SECONDS``)."""
    if lag is None:
        return None
    if not lag.in_recovery:
        return "the read replica is not in recovery (promoted, or not a standby): it no longer follows the primary"
    if lag.lag_seconds is not None and lag.lag_seconds > warn_after_s:
        return (
            f"the read replica is {lag.lag_seconds:.1f} s ({lag.lag_bytes:,} bytes of WAL) behind the primary, "
            f"past BIOMATDB_REPLICATION_LAG_WARN_SECONDS = {warn_after_s:g}: searches answer from an older core"
        )
    return None
