#!/usr/bin/env bash
# The Shared Signals transmitter under load: what one stream adds to a SCIM deactivation, and how many SETs per
# second reach a receiver, pushed (RFC 8935, to a loopback receiver answering 202, receiver.py) and polled (RFC
# 8936, a loop that acknowledges what it got, tool.py poll). The same release scimd and database serve, in
# turn, ROUNDS rounds of three arms: no stream, one push stream, one poll stream, each a fresh `serve` driven by
# wrk with bench/http/deactivate.lua (TOGGLE=1: every request deactivates or reactivates a user, so every 2xx is
# a feed event and one SET of the stream: RISC account-disabled or account-enabled). The SET rate is the SETs
# received over the seconds from the first to the last, counted until all arrived or DRAIN seconds (20) after
# the first (what is left is deleted with the stream). On a fresh SQLite file, or on the PostgreSQL database DATABASE_URL names (a fresh, empty one:
# `createdb -h 127.0.0.1 -U postgres scimd_bench_ssf`). Default settings, except the org's raised limits
# (`unlimit`, as every benchmark) and SCIMD_WEBHOOK_ALLOW_PRIVATE=true for a receiver on loopback. Figures go to
# BENCHMARKS.md ("Shared Signals"). Needs `wrk` and python3.
# Usage: [DATABASE_URL=...] [ROUNDS=3] [USERS=5000] [DRAIN=20] bench/signals/run.sh [CONNECTIONS] [DURATION]
set -euo pipefail
cd "$(dirname "$0")/../.."
conns=${1:-16}
dur=${2:-10s}
rounds=${ROUNDS:-3}
users=${USERS:-5000}
most=${DRAIN:-20}
. bench/lib.sh
fresh_work target/bench-signals
export DATABASE_URL="${DATABASE_URL:-sqlite://$PWD/$work/scimd.db}"
export SCIMD_WEBHOOK_ALLOW_PRIVATE=true
"$scimd" migrate >/dev/null
new_org Bench bench-client-secret
export TOKEN=$(new_token "$org")
unlimit "$org"
key=$("$scimd" api-key create --name bench-receiver --org "$org" --json | json_field key)
sig=bench/signals
lua=bench/http

# serve (bench/lib.sh), given a minute to listen: on this shared machine a server starting beside a loaded one
# may need more than serve's ten seconds.
serve_patiently() {
    keys_for_postgres
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    SCIMD_BIND="127.0.0.1:$port" SCIMD_NO_BOOTSTRAP=true "$scimd" serve >"$work/server.log" 2>&1 &
    server=$!
    trap 'kill "$server" "$receiver" 2>/dev/null || true' EXIT
    for _ in $(seq 1 600); do grep -q "listening" "$work/server.log" && break; sleep 0.1; done
    grep -q "listening" "$work/server.log" || { echo "scimd did not start:"; tail -20 "$work/server.log"; exit 1; }
    url="http://127.0.0.1:$port"
}

python3 $sig/receiver.py "$work/receiver.port" &
receiver=$!
for _ in $(seq 1 50); do [ -s "$work/receiver.port" ] && break; sleep 0.1; done
push_url="http://127.0.0.1:$(cat "$work/receiver.port")/events"
stats_url="http://127.0.0.1:$(cat "$work/receiver.port")/stats"

serve_patiently
export BASE="/scim/v2/$org"
run=1
while [ "$(python3 $lua/tool.py total "$url$BASE" "$TOKEN")" -lt "$users" ]; do
    RUN=$run wrk -t2 -c"$conns" -d3s -s $lua/create.lua "$url" >/dev/null
    run=$((run + 1))
done
python3 $lua/tool.py dump "$url$BASE" "$TOKEN" "$work/names.txt" "$work/ids.txt"
echo "users in the org: $(wc -l <"$work/ids.txt"); load: $(uptime)"
kill "$server"; wait "$server" 2>/dev/null || true

for round in $(seq 1 "$rounds"); do
    for arm in none push poll; do
        serve_patiently
        stream=""
        case $arm in
            push)
                curl -s -X POST "${stats_url%/stats}/reset" >/dev/null
                stream=$(python3 $sig/tool.py stream "$url" "$key" push "$push_url")
                ;;
            poll)
                stream=$(python3 $sig/tool.py stream "$url" "$key" poll)
                python3 $sig/tool.py poll "$url" "$key" "$stream" 10 "$most" >"$work/poll.out" &
                poller=$!
                ;;
        esac
        echo "== round $round, $arm: PATCH deactivate/reactivate, $conns connections, $dur; load: $(uptime | sed 's/.*load/load/')"
        IDS="$work/ids.txt" THREADS=2 TOGGLE=1 wrk -t2 -c"$conns" -d"$dur" --latency -s $lua/deactivate.lua "$url" \
            >"$work/wrk.out"
        grep -E "requests in|Requests/sec|99%|non-2xx" "$work/wrk.out"
        requests=$(awk '/requests in/ {print $1}' "$work/wrk.out")
        case $arm in
            push)
                read -r n span rate < <(python3 $sig/tool.py drain "$stats_url" "$requests" 10 "$most")
                echo "   pushed: $n of $requests SETs in ${span}s from the first to the last: $rate SETs/s"
                ;;
            poll)
                wait "$poller"
                read -r n span rate <"$work/poll.out"
                echo "   polled: $n of $requests SETs in ${span}s from the first to the last: $rate SETs/s"
                ;;
        esac
        [ -z "$stream" ] || python3 $sig/tool.py delete "$url" "$key" "$stream"
        kill "$server"; wait "$server" 2>/dev/null || true
    done
done
