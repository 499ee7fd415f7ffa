#!/usr/bin/env bash
# Flame graphs of scimd under the HTTP benchmark's load: the IdP's `userName eq` lookup and the create, each
# sampled with `perf record` (cpu-clock, DWARF call graphs) for DURATION while wrk drives it, folded and drawn
# by inferno (`cargo install inferno`). Writes bench/profile/{lookup,create}-{sqlite,postgres}.svg. Needs a
# symbolised release build (see BENCHMARKS.md, "Profiling"):
#   CARGO_TARGET_DIR=target-prof CARGO_PROFILE_RELEASE_STRIP=none CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
#       cargo build --release --bin scimd
# Usage: SCIMD_BIN=target-prof/release/scimd [DATABASE_URL=...] bench/profile/run.sh [CONNECTIONS] [DURATION]
set -euo pipefail
cd "$(dirname "$0")/../.."
conns=${1:-16}
dur=${2:-10}
: "${SCIMD_BIN:?a symbolised build (SCIMD_BIN=target-prof/release/scimd)}"
. bench/lib.sh
fresh_work target/bench-profile
export DATABASE_URL="${DATABASE_URL:-sqlite://$PWD/$work/scimd.db}"
case $DATABASE_URL in postgres*) backend=postgres ;; *) backend=sqlite ;; esac
"$scimd" migrate >/dev/null
new_org Bench bench-client-secret
export TOKEN=$(new_token "$org")
unlimit "$org"
serve
export BASE="/scim/v2/$org"
lua=bench/http
RUN=1 wrk -t2 -c"$conns" -d5s -s $lua/create.lua "$url" >/dev/null
python3 $lua/tool.py dump "$url$BASE" "$TOKEN" "$work/names.txt" "$work/ids.txt"

profile() { # profile NAME WRK_ARGS...
    local name=$1; shift
    perf record -e cpu-clock -F 499 --call-graph dwarf,16384 -p "$server" -o "$work/$name.data" -- sleep "$dur" \
        >/dev/null 2>&1 &
    local perf_pid=$!
    "$@" | grep -E "Requests/sec|non-2xx"
    wait "$perf_pid" || true
    perf script -i "$work/$name.data" 2>/dev/null | inferno-collapse-perf >"$work/$name.folded"
    inferno-flamegraph --minwidth 3 --title "scimd: $name ($backend, $conns connections)" <"$work/$name.folded" \
        >"bench/profile/$name-$backend.svg"
    echo "bench/profile/$name-$backend.svg ($(wc -l <"$work/$name.folded") stacks)"
}
echo "== lookup"
NAMES="$work/names.txt" profile lookup wrk -t2 -c"$conns" -d"${dur}s" -s $lua/lookup.lua "$url"
echo "== create"
RUN=2 profile create wrk -t2 -c"$conns" -d"${dur}s" -s $lua/create.lua "$url"
