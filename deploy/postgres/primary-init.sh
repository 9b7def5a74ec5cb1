#!/bin/sh
# Run once by the postgres image when it creates the primary's data directory: let the standby
# connect for streaming replication (the image's own pg_hba.conf admits no replication).
set -e
echo "host replication $POSTGRES_USER all scram-sha-256" >> "$PGDATA/pg_hba.conf"
