#!/usr/bin/env bash
# The cost of the event feed and of webhooks (issue #13), in one run, each arm on a fresh database:
#   none     a build of the commit before events ($SCIMD_BASE_BIN): SCIM creates, then path-less deactivations;
#   events   this tree's build, the same load (every write appends its event);
#   webhook  this tree's build with one webhook endpoint of the org, to a loopback receiver (receiver.py):
#            the same load while the worker delivers; then how long the backlog takes to drain.
# Then, on the webhook arm's database: the feed read from the start, 1,000 events a page (events/s), and the
# deliveries/s the receiver saw. Default settings everywhere (the org's SCIM rate limit is raised, as in
# bench/http: one org at full load). Needs wrk and python3 (psql for PostgreSQL).
# The machine's disk and CPU vary a lot from minute to minute (fsync above all), so the three arms run in turn,
# ROUNDS times (default 3), and the ratios are of each arm's median.
# Usage: SCIMD_BASE_BIN=PATH [SCIMD_BIN=PATH] [PG=postgres://postgres@127.0.0.1:5432] [ROUNDS=3] bench/events/run.sh [CONNECTIONS] [DURATION]
#   PG set: every arm on a fresh PostgreSQL database (scimd_events_ARM, dropped and created); else SQLite files.
set -euo pipefail
cd "$(dirname "$0")/../.."
conns=${1:-16}
dur=${2:-10s}
rounds=${ROUNDS:-3}
: "${SCIMD_BASE_BIN:?the build of the commit before events (see BENCHMARKS.md)}"
. bench/lib.sh
fresh_work target/bench-events
base_bin=$SCIMD_BASE_BIN
scimd_head=$scimd
lua=bench/http

database() { # ARM -> a fresh database URL
    if [ -n "${PG:-}" ]; then
        psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS scimd_events_$1" -c "CREATE DATABASE scimd_events_$1" >/dev/null
        echo "$PG/scimd_events_$1"
    else
        echo "sqlite://$PWD/$work/$1-$round.db"
    fi
}
rate() { grep -E "^Requests/sec" "$1" | awk '{print $2}'; }
p99() { grep -E "^ +99%" "$1" | awk '{print $2}'; }
errors() { grep -E "^non-2xx or socket errors" "$1" | awk '{print $NF}'; }

# arm NAME BINARY [webhook]: the load on a fresh database; figures in $work/NAME-ROUND-*.txt.
arm() {
    local name=$1 bin=$2 hook=${3:-}
    local out="$work/$name-$round"
    export DATABASE_URL
    DATABASE_URL=$(database "$name")
    scimd=$bin
    "$scimd" migrate >/dev/null
    new_org "Bench-$name" bench-client-secret
    export TOKEN
    TOKEN=$(new_token "$org")
    unlimit "$org"
    if [ -n "$hook" ]; then
        rport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        python3 bench/events/receiver.py "$rport" & receiver=$!
        sleep 0.5
        SCIMD_WEBHOOK_ALLOW_PRIVATE=true "$scimd" webhook create --url "http://127.0.0.1:$rport/hook" --org "$org" >/dev/null
        export SCIMD_WEBHOOK_ALLOW_PRIVATE=true
    fi
    serve
    export BASE="/scim/v2/$org"
    RUN=1 wrk -t2 -c"$conns" -d"$dur" --latency -s $lua/create.lua "$url" >"$out-create.txt"
    python3 $lua/tool.py dump "$url$BASE" "$TOKEN" "$work/$name.names" "$work/$name.ids"
    IDS="$work/$name.ids" THREADS=2 wrk -t2 -c"$conns" -d"$dur" --latency -s $lua/deactivate.lua "$url" >"$out-deactivate.txt"
    if [ -n "$hook" ]; then
        key=$("$scimd" api-key create --name bench --org "$org" --json | json_field key)
        python3 bench/events/feed.py read "$url" "$key" >"$work/feed.txt"
        local events behind
        events=$(awk '{print $1}' "$work/feed.txt")
        # The endpoint was created before the load: it gets every event but the org's two setup events.
        behind=$(python3 bench/events/feed.py stats "http://127.0.0.1:$rport")
        echo "$behind" >"$work/at-end-of-load.json"
        python3 bench/events/feed.py wait "http://127.0.0.1:$rport" $((events - 2)) 600 >"$work/delivered.txt"
        python3 bench/events/feed.py stats "http://127.0.0.1:$rport" >"$work/drained.json"
        echo $((events - 2)) >"$work/expected.txt"
        kill "$receiver" 2>/dev/null || true
        unset SCIMD_WEBHOOK_ALLOW_PRIVATE
    fi
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
}

for round in $(seq 1 "$rounds"); do
    arm none "$base_bin"
    arm events "$scimd_head"
    arm webhook "$scimd_head" webhook
done

echo "backend: $([ -n "${PG:-}" ] && echo PostgreSQL || echo SQLite), $conns connections, $dur per figure, $rounds rounds"
printf '%-9s %-6s %-26s %-26s %s\n' arm round "creates/s (p99)" "deactivations/s (p99)" "non-2xx"
for round in $(seq 1 "$rounds"); do
    for a in none events webhook; do
        f="$work/$a-$round"
        printf '%-9s %-6s %-26s %-26s %s\n' "$a" "$round" "$(rate "$f-create.txt") ($(p99 "$f-create.txt"))" \
            "$(rate "$f-deactivate.txt") ($(p99 "$f-deactivate.txt"))" \
            "$(errors "$f-create.txt")+$(errors "$f-deactivate.txt")"
    done
done
python3 - "$work" "$rounds" <<'PY'
import json, statistics, sys
w, rounds = sys.argv[1], int(sys.argv[2])
rate = lambda a, r, f: float(next(l.split()[1] for l in open(f"{w}/{a}-{r}-{f}.txt") if l.startswith("Requests/sec")))
for f in ("create", "deactivate"):
    med = {a: statistics.median(rate(a, r, f) for r in range(1, rounds + 1)) for a in ("none", "events", "webhook")}
    per_round = ", ".join(f"{rate('events', r, f) / rate('none', r, f):.2f}" for r in range(1, rounds + 1))
    print(f"{f} (medians): none {med['none']:.0f}/s, events {med['events']:.0f}/s = {med['events'] / med['none']:.2f}x, "
          f"events+webhook {med['webhook']:.0f}/s = {med['webhook'] / med['none']:.2f}x; events/none by round: {per_round}")
n, secs, per = open(f"{w}/feed.txt").read().split()
print(f"feed read from the start: {n} events in {secs} s = {per} events/s")
end, drained = json.load(open(f"{w}/at-end-of-load.json")), json.load(open(f"{w}/drained.json"))
expected = int(open(f"{w}/expected.txt").read())
span = drained["last"] - drained["first"]
print(f"webhook: {end['count']} of {expected} delivered when the load stopped; all {drained['count']} after "
      f"{span:.1f} s from the first delivery = {drained['count'] / span:.0f} deliveries/s")
PY
