#!/usr/bin/env bash
# Roles from groups (issue #26): what a membership PATCH costs on a group mapped to a role against the same on
# an unmapped group, and how fast mapping a group of 100,000 runs (members per second; `scimd role map`, in
# batches of 1,000, each its own transaction with its events). A release scimd on loopback, on a fresh
# database; 100,000 users bulk-loaded (bench/scale/bulk_load.py).
# Usage: [PG=postgres://postgres@127.0.0.1:5432] [DATABASE_URL=...] bench/roles/run.sh [ROUNDS]
#   default: a fresh SQLite file; PG set: a fresh SQLite file, then a fresh PostgreSQL database
#   (scimd_roles_bench, dropped and created; needs psql), one after the other in one run;
#   DATABASE_URL set: that (fresh) database only.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-1000}
. bench/lib.sh
fresh_work target/bench-roles
d=bench/roles/driver.py

# bench_on URL: both measurements on the fresh database URL.
bench_on() {
    export DATABASE_URL=$1
    echo "### $(echo "$DATABASE_URL" | cut -d: -f1)"
    "$scimd" migrate >/dev/null
    new_org Bench bench-client-secret
    export TOKEN=$(new_token "$org")
    unlimit "$org"
    python3 bench/scale/bulk_load.py "$DATABASE_URL" "$org" 100000 >/dev/null
    serve
    base="$url/scim/v2/$org"

    "$scimd" role create --org "$org" --name deployer >/dev/null
    "$scimd" role create --org "$org" --name viewer >/dev/null
    mapped=$(python3 $d group "$base" "$TOKEN" Mapped)
    plain=$(python3 $d group "$base" "$TOKEN" Plain)
    "$scimd" role map --org "$org" --group "$mapped" --role deployer >/dev/null
    echo "== membership PATCH, mapped vs unmapped ($rounds rounds)"
    python3 $d patch "$base" "$TOKEN" "$mapped" "$plain" "$rounds"

    echo "== mapping a group of 100,000"
    everyone=$(python3 $d group "$base" "$TOKEN" Everyone)
    python3 $d fill "$base" "$TOKEN" "$everyone" 1 100000
    start=$(date +%s.%N)
    "$scimd" role map --org "$org" --group "$everyone" --role viewer --json >"$work/map.json"
    end=$(date +%s.%N)
    python3 - "$start" "$end" "$work/map.json" <<'PY'
import json, sys
start, end, out = float(sys.argv[1]), float(sys.argv[2]), json.load(open(sys.argv[3]))
job = out["job"]
secs = end - start
print(f"  {job['done']} members, {job['changed']} changed, in {secs:.1f} s: {job['done'] / secs:,.0f} members/s")
PY
    # The next backend gets its own server (serve's trap stops only the last one).
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
}

if [ -n "${DATABASE_URL:-}" ]; then
    bench_on "$DATABASE_URL"
    exit 0
fi
bench_on "sqlite://$PWD/$work/scimd.db"
if [ -n "${PG:-}" ]; then
    psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS scimd_roles_bench" -c "CREATE DATABASE scimd_roles_bench" >/dev/null
    bench_on "$PG/scimd_roles_bench"
fi
