#!/usr/bin/env bash
# What TLS to PostgreSQL costs: the same release scimd, settings and load against two fresh databases on the
# same PostgreSQL server, one over plaintext (sslmode=disable) and one over TLS (sslmode=require), in one run,
# alternating: creates (POST /Users), userName lookups and deactivations (PATCH active=false), wrk at the
# default limits raised for the one org as in bench/http. Figures go to BENCHMARKS.md ("TLS to PostgreSQL").
# Needs wrk, python3, psql and a PostgreSQL with ssl=on at PGHOST (default 127.0.0.1, user postgres).
# Usage: bench/tls/run.sh [CONNECTIONS] [DURATION]
set -euo pipefail
cd "$(dirname "$0")/../.."
conns=${1:-16}
dur=${2:-15s}
pghost=${PGHOST:-127.0.0.1}
. bench/lib.sh
fresh_work target/bench-tls
root=$work
lua=bench/http

for mode in disable require; do
    db="scimd_bench_tls_$mode"
    psql -q -h "$pghost" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    work="$root/$mode" && mkdir -p "$work"
    export DATABASE_URL="postgres://postgres@$pghost:5432/$db?sslmode=$mode"
    unset SCIMD_SECRET_KEY_FILE SCIMD_SESSION_SIGNING_KEY_FILE
    keys_for_postgres
    "$scimd" migrate >/dev/null
    new_org "Bench $mode" bench-client-secret
    export TOKEN=$(new_token "$org")
    unlimit "$org"
    serve
    export BASE="/scim/v2/$org"
    echo "==== sslmode=$mode: $(psql -qtA -h "$pghost" -U postgres -d "$db" -c "select count(*) filter (where ssl) || ' of ' || count(*) || ' scimd connections use TLS' from pg_stat_ssl join pg_stat_activity using (pid) where datname = '$db' and pid <> pg_backend_pid()")"
    echo "== create users, $conns connections, $dur"
    RUN=1 wrk -t2 -c"$conns" -d"$dur" --latency -s $lua/create.lua "$url"
    python3 $lua/tool.py dump "$url$BASE" "$TOKEN" "$work/names.txt" "$work/ids.txt"
    echo "users in the org: $(wc -l <"$work/ids.txt")"
    echo "== userName eq lookup, $conns connections, $dur"
    NAMES="$work/names.txt" wrk -t2 -c"$conns" -d"$dur" --latency -s $lua/lookup.lua "$url"
    echo "== PATCH deactivate, $conns connections, $dur"
    IDS="$work/ids.txt" THREADS=2 wrk -t2 -c"$conns" -d"$dur" --latency -s $lua/deactivate.lua "$url"
    echo "==== sslmode=$mode, after the load: $(psql -qtA -h "$pghost" -U postgres -d "$db" -c "select count(*) filter (where ssl) || ' of ' || count(*) || ' scimd connections use TLS' from pg_stat_ssl join pg_stat_activity using (pid) where datname = '$db' and pid <> pg_backend_pid()")"
    kill "$server" && wait "$server" 2>/dev/null || true
done
