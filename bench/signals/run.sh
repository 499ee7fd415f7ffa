#!/usr/bin/env bash
# The Shared Signals transmitter under load (BENCHMARKS.md, "Shared Signals"), on a fresh SQLite file or on the
# PostgreSQL database DATABASE_URL names (a fresh, empty one: `createdb -h 127.0.0.1 -U postgres scimd_bench_ssf`).
#
# 1. What one stream adds to a SCIM deactivation, measurable on a noisy machine: one release scimd, one database,
#    one server, and two arms, "none" (no stream) and "push" (one push stream, RFC 8935, to a loopback receiver
#    answering 202, receiver.py), interleaved in ROUNDS short alternating rounds of ARM_SECONDS each arm (the order
#    alternates too: none-push, push-none, ...), so that whatever the machine's other load does, it does to both
#    arms alike. Each arm is wrk with toggle.lua: every request deactivates or reactivates a user (a feed event,
#    and one RISC account-disabled or account-enabled SET of the stream), continuing across rounds so that no
#    write is a no-op. After a push arm the SETs are drained (until all arrived, or DRAIN seconds) and the stream
#    deleted before the next arm, so that its delivery does not run into a "none" arm. Printed: each round's
#    rates and p99 latencies, and at the end each arm's median and the median of the rounds' push/none ratios.
# 2. With RATES=1 (the default): how many SETs per second reach a receiver, pushed (to receiver.py) and polled
#    (RFC 8936, a loop acknowledging what it got, tool.py poll), one arm each of RATE_SECONDS under the same load.
#
# Default settings, except the org's raised limits (`unlimit`, as every benchmark) and
# SCIMD_WEBHOOK_ALLOW_PRIVATE=true for a receiver on loopback. Needs `wrk` and python3.
# Usage: [DATABASE_URL=...] [ROUNDS=6] [ARM_SECONDS=5] [CONNECTIONS=16] [USERS=5000] [DRAIN=20] [RATES=1]
#        [RATE_SECONDS=10] bench/signals/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${ROUNDS:-6}
secs=${ARM_SECONDS:-5}
conns=${CONNECTIONS:-16}
users=${USERS:-5000}
most=${DRAIN:-20}
rates=${RATES:-1}
rate_secs=${RATE_SECONDS:-10}
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

python3 $sig/receiver.py "$work/receiver.port" &
receiver=$!
for _ in $(seq 1 50); do [ -s "$work/receiver.port" ] && break; sleep 0.1; done
push_url="http://127.0.0.1:$(cat "$work/receiver.port")/events"
stats_url="http://127.0.0.1:$(cat "$work/receiver.port")/stats"

# serve (bench/lib.sh), given a minute to listen: on this shared machine a server starting beside a loaded one
# may need more than serve's ten seconds.
keys_for_postgres
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SCIMD_BIND="127.0.0.1:$port" SCIMD_NO_BOOTSTRAP=true "$scimd" serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" "$receiver" 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do grep -q "listening" "$work/server.log" && break; sleep 0.1; done
grep -q "listening" "$work/server.log" || { echo "scimd did not start:"; tail -20 "$work/server.log"; exit 1; }
url="http://127.0.0.1:$port"

export BASE="/scim/v2/$org"
run=1
while [ "$(python3 $lua/tool.py total "$url$BASE" "$TOKEN")" -lt "$users" ]; do
    RUN=$run wrk -t2 -c"$conns" -d3s -s $lua/create.lua "$url" >/dev/null
    run=$((run + 1))
done
python3 $lua/tool.py dump "$url$BASE" "$TOKEN" "$work/names.txt" "$work/ids.txt"
echo "users in the org: $(wc -l <"$work/ids.txt"); backend: ${DATABASE_URL%%:*}; $conns connections;" \
    "$rounds rounds of ${secs}s each arm; load: $(uptime | sed 's/.*load/load/')"

# drive SECONDS: one wrk run of toggle.lua; prints "requests rate p99_ms non2xx".
drive() {
    IDS="$work/ids.txt" STATE="$work/toggle.state" THREADS=2 \
        wrk -t2 -c"$conns" -d"$1s" --latency -s $sig/toggle.lua "$url" >"$work/wrk.out"
    python3 - "$work/wrk.out" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
requests = int(re.search(r"(\d+) requests in", text).group(1))
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p99 = int(re.search(r"p99 us: (\d+)", text).group(1)) / 1000
errors = int(re.search(r"non-2xx or socket errors: (\d+)", text).group(1))
print(f"{requests} {rate:.0f} {p99:.2f} {errors}")
PY
}

# push_stream / drop_stream: one push stream (fresh receiver counts), and its deletion once its SETs are in.
push_stream() {
    curl -s -X POST "${stats_url%/stats}/reset" >/dev/null
    stream=$(python3 $sig/tool.py stream "$url" "$key" push "$push_url")
}

: >"$work/rounds.txt"
for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) -eq 1 ]; then order="none push"; else order="push none"; fi
    line="round $round:"
    for arm in $order; do
        [ "$arm" = push ] && push_stream
        read -r requests rate p99 errors < <(drive "$secs")
        if [ "$arm" = push ]; then
            read -r n span _ < <(python3 $sig/tool.py drain "$stats_url" "$requests" 5 "$most")
            python3 $sig/tool.py delete "$url" "$key" "$stream"
            line="$line push $rate/s p99 ${p99}ms ($n of $requests SETs pushed);"
        else
            line="$line none $rate/s p99 ${p99}ms;"
        fi
        [ "$errors" = 0 ] || line="$line [$arm: $errors non-2xx]"
        echo "$round $arm $rate $p99" >>"$work/rounds.txt"
    done
    echo "$line"
done
python3 - "$work/rounds.txt" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
by = {}
for r, arm, rate, p99 in rows:
    by.setdefault(arm, {})[int(r)] = (float(rate), float(p99))
none, push = by["none"], by["push"]
ratios = [push[r][0] / none[r][0] for r in sorted(none) if r in push and none[r][0]]
p99s = [push[r][1] / none[r][1] for r in sorted(none) if r in push and none[r][1]]
med = lambda arm, i: statistics.median(v[i] for v in arm.values())
print(f"medians: none {med(none, 0):.0f}/s p99 {med(none, 1):.2f} ms; push {med(push, 0):.0f}/s p99 {med(push, 1):.2f} ms")
print(f"one push stream: the median of the rounds' push/none rate ratios {statistics.median(ratios):.3f}x "
      f"(rounds: {', '.join(f'{x:.3f}' for x in ratios)}); p99 ratio {statistics.median(p99s):.2f}x")
PY

if [ "$rates" = 1 ]; then
    for arm in push poll; do
        case $arm in
            push) push_stream ;;
            poll)
                stream=$(python3 $sig/tool.py stream "$url" "$key" poll)
                python3 $sig/tool.py poll "$url" "$key" "$stream" 10 "$most" >"$work/poll.out" &
                poller=$!
                ;;
        esac
        read -r requests rate p99 errors < <(drive "$rate_secs")
        echo "== SET rate, $arm: $requests deactivations/reactivations at $rate/s (p99 ${p99}ms, $errors non-2xx)"
        if [ "$arm" = push ]; then
            read -r n span setrate < <(python3 $sig/tool.py drain "$stats_url" "$requests" 10 "$most")
            echo "   pushed: $n of $requests SETs in ${span}s from the first to the last: $setrate SETs/s"
        else
            wait "$poller"
            read -r n span setrate <"$work/poll.out"
            echo "   polled: $n of $requests SETs in ${span}s from the first to the last: $setrate SETs/s"
        fi
        python3 $sig/tool.py delete "$url" "$key" "$stream"
    done
fi
