#!/bin/sh
# The hot standby: on first start, a base backup of the primary with -R (standby.signal and
# primary_conninfo written) through a replication slot, so that the primary keeps the WAL the
# standby has not received yet (bounded by max_slot_wal_keep_size there); then the server, in
# recovery, answering reads.
set -e
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  until gosu postgres pg_isready -h "$PRIMARY_HOST" -U "$POSTGRES_USER"; do sleep 1; done
  PGPASSWORD="$POSTGRES_PASSWORD" gosu postgres pg_basebackup -h "$PRIMARY_HOST" -U "$POSTGRES_USER" \
    -D "$PGDATA" --write-recovery-conf --wal-method=stream --checkpoint=fast \
    --create-slot --slot=biomatdb_standby
fi
exec gosu postgres postgres -c hot_standby=on -c hot_standby_feedback=on
