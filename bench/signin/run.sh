#!/usr/bin/env bash
# A flood of the public sign-in endpoints vs another org's SCIM API (issue #23): org B reads its users at a
# normal pace (bench/limits/driver.py, 20 req/s for 15 s) alone, then while one client floods org A's
# sign-in endpoints with wrk (-t2 -c32, as fast as it can): the start (which would write a pending row), the
# OIDC callback without a state (a refusal nobody verified, which used to write an audit row) and the e-mail
# chooser (a member lookup). Prints B's p99 in each case and the flood's status counts; then org A's audit
# rows and pending sign-ins. Loopback only; about 80 s. Usage: bench/signin/run.sh [DATABASE_URL]
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib.sh
fresh_work target/bench-signin
export DATABASE_URL="${1:-sqlite://$PWD/$work/scimd.db}"

new_org "Flooded" bench-client-secret
org_a=$org
new_org "Neighbour" bench-client-secret
org_b=$org
token_b=$(new_token "$org_b")

serve

echo "== org B alone (20 req/s, 15 s)"
python3 bench/limits/driver.py "$url/scim/v2/$org_b/Users?count=10" "$token_b" 20 15 | tee "$work/alone.txt"

# flood NAME PATH: B's 15 s at its pace while one client floods PATH as fast as wrk can.
flood() {
    echo "== org B while one client floods $2"
    TOKEN=none DELAY_MS=0 wrk -t2 -c32 -d18s -s bench/limits/flood.lua "$url$2" >"$work/flood-$1.txt" &
    local pid=$!
    sleep 2
    python3 bench/limits/driver.py "$url/scim/v2/$org_b/Users?count=10" "$token_b" 20 15 | tee "$work/flooded-$1.txt"
    wait "$pid"
    grep -E "Requests/sec|responses" "$work/flood-$1.txt"
}
flood start "/sso/$org_a/start"
flood callback "/sso/oidc/$org_a/callback?code=x"
flood chooser "/admin/sso?email=someone%40example.com"
echo "B p99 alone:                 $(grep p99 "$work/alone.txt")"
for f in start callback chooser; do
    printf 'B p99, %-8s flood:        %s\n' "$f" "$(grep p99 "$work/flooded-$f.txt")"
done
curl -s "$url/metrics" | grep -E '^scimd_signin_(throttled|unverified)' || true
