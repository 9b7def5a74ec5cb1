"""The external version every search document is written at: monotonic across a promotion.

Elasticsearch keeps a document's highest ``version_type=external`` version and refuses an
older one (409, which sync counts as "already newer"). The version used to be the core's
generation alone. A promoted standby that lagged its old primary holds a lower generation than
what the old primary's sync already wrote, so its writes were refused, and the index kept
states the core no longer has, until a reindex.

So the version is composed: the core's **epoch** in the high bits and its generation in the
low ``GENERATION_BITS``. On PostgreSQL the epoch is the timeline the server writes WAL on
(``pg_walfile_name(pg_current_wal_lsn())``'s first eight hex digits): a promotion (and a
point-in-time recovery) starts a new, higher timeline, so any write after it carries a higher
version than any write before, whatever the generations. SQLite, never promoted, has epoch 0.
A generation past ``GENERATION_BITS`` (2^53: about 2^30 changes of the core at its mean step)
or an epoch past ``EPOCH_MAX`` is refused rather than wrapped.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from biomatdb.errors import BiomatError

#: low bits of a version holding the core's generation
GENERATION_BITS = 53
#: the highest epoch (timeline) a version holds: Elasticsearch's versions are signed 64-bit
EPOCH_MAX = (1 << (63 - GENERATION_BITS)) - 1

_TIMELINE = text(
    "SELECT CASE WHEN pg_is_in_recovery() THEN (SELECT timeline_id FROM pg_control_checkpoint()) "
    "ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint END"
)


def compose(epoch: int, generation: int) -> int:
    """The version of a document read at ``generation`` of a core in ``epoch``: every version of
    a higher epoch is higher than every version of a lower one."""
    if not 0 <= generation < 1 << GENERATION_BITS:
        raise BiomatError(
            f"the core's generation {generation:,} is past the {GENERATION_BITS} bits a search version holds"
        )
    if not 0 <= epoch <= EPOCH_MAX:
        raise BiomatError(f"the core's epoch (PostgreSQL timeline) {epoch:,} is past {EPOCH_MAX:,}")
    return epoch << GENERATION_BITS | generation


def core_epoch(connection: Connection) -> int:
    """The core's epoch: PostgreSQL's current timeline (on a primary, the one it writes WAL on;
    on a standby, its last checkpoint's); 0 on SQLite."""
    if connection.dialect.name != "postgresql":
        return 0
    return int(connection.execute(_TIMELINE).scalar_one())


def search_version(connection: Connection, generation: int) -> int:
    """The external version for documents read on ``connection`` at ``generation``."""
    return compose(core_epoch(connection), generation)
