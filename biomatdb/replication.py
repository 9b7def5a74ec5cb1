"""How far a read replica (a PostgreSQL hot standby) is behind the primary core.

Two figures, each read where it is true: the WAL bytes the standby has not replayed of what
the primary has made (``pg_current_wal_insert_lsn()`` on the primary, which counts commits
made with ``synchronous_commit = off`` before they are flushed, against
``pg_last_wal_replay_lsn()`` on the standby), and, when that is not zero, how long the standby
is behind in time (``lag_seconds``, the rule in one place: ``seconds_behind``). That is the
primary's own measure for this standby, ``pg_stat_replication.replay_lag`` (the time between
flushing WAL on the primary and the standby applying it), when the primary shows it; only
when it does not (no such row visible to this role, or none measured yet) is it the age of the
newest transaction the standby has replayed (``now() - pg_last_xact_replay_timestamp()``), an
upper bound that also counts time the primary sat idle before the unreplayed WAL was made (a
first write after 40 idle seconds read as 40 s of lag). A standby that has replayed everything
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
        lag_seconds=seconds_behind(
            lag_bytes=lag_bytes, replay_lag_s=_replay_lag_s(primary, replica), replay_age_s=replay_age_s
        ),
    )


def seconds_behind(*, lag_bytes: int, replay_lag_s: float | None, replay_age_s: float | None) -> float | None:
    """How far behind in time a standby ``lag_bytes`` behind is: the primary's ``replay_lag`` for
    it when there is one, else the age of its newest replayed transaction (an upper bound)."""
    if lag_bytes == 0:
        return 0.0
    if replay_lag_s is not None:
        return max(float(replay_lag_s), 0.0)
    return None if replay_age_s is None else max(float(replay_age_s), 0.0)


def _replay_lag_s(primary: Connection, replica: Connection) -> float | None:
    """``pg_stat_replication.replay_lag`` on the primary for this standby: the row of the slot the
    standby streams through, or the only row when it uses none; None when none is visible."""
    slot = replica.execute(text("SELECT slot_name FROM pg_stat_wal_receiver")).scalar()
    rows = primary.execute(
        text(
            "SELECT s.slot_name, EXTRACT(EPOCH FROM r.replay_lag)::float8 AS replay_lag_s"
            " FROM pg_stat_replication r LEFT JOIN pg_replication_slots s ON s.active_pid = r.pid"
        )
    ).all()
    mine = [row for row in rows if slot is not None and row.slot_name == slot] or (rows if len(rows) == 1 else [])
    return None if not mine else mine[0].replay_lag_s


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
