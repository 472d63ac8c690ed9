#!/usr/bin/env bash
# Starts the distribution's PostgreSQL cluster on loopback and makes sure
# the role and database the tests use exist (idempotent).
set -euo pipefail
ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h 2>/dev/null | grep -q "^$ver main"; then
  pg_createcluster "$ver" main >/dev/null
fi
pg_ctlcluster "$ver" main start 2>/dev/null || true
for _ in $(seq 1 100); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
pg_isready -h 127.0.0.1 -p 5432
psql_su() { su postgres -c "psql -v ON_ERROR_STOP=1 -Atq $*"; }
if [ "$(psql_su "-c \"select 1 from pg_roles where rolname='weed'\"")" != 1 ]; then
  psql_su "-c \"create role weed login\""
fi
psql_su "-c \"alter role weed password 'weed'\""
if [ "$(psql_su "-c \"select 1 from pg_database where datname='weedtest'\"")" != 1 ]; then
  psql_su "-c \"create database weedtest owner weed\""
fi
