#!/usr/bin/env bash
# Runs python-scim's compliance checker (scim2-tester, pinned) against a release build of scimd on a fresh
# SQLite database, with an org, an Azure AD SSO connection and a SCIM token made through the CLI as an operator
# would. Fails when the checker reports any ERROR or CRITICAL result. Usage: .ci/scim_compliance.sh
set -euo pipefail
cd "$(dirname "$0")/.."

work=target/scim-compliance
rm -rf "$work" && mkdir -p "$work"
cargo build --release --bin scimd
scimd=target/release/scimd
export DATABASE_URL="sqlite://$PWD/$work/scimd.db"
export RUST_LOG=warn

org=$("$scimd" org create --name "Compliance" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
SCIMD_AZURE_CLIENT_SECRET=compliance-client-secret "$scimd" sso set-azure --org "$org" \
    --tenant-id 11111111-2222-3333-4444-555555555555 --client-id 11111111-2222-3333-4444-666666666666 >/dev/null
"$scimd" token generate --org "$org" --json >"$work/token.json"
# The checker creates and deletes dozens of users within a minute. The deprovisioning safety valve stays on (the
# default): users the IdP created within the valve's hour do not count towards it.

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SCIMD_BIND="127.0.0.1:$port" SCIMD_NO_BOOTSTRAP=true "$scimd" serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "listening" "$work/server.log" && break; sleep 0.1; done
grep -q "listening" "$work/server.log" || { cat "$work/server.log"; exit 1; }

venv=target/scim2-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "scim2-tester[httpx2]==0.5.2"
token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$work/token.json")
"$venv/bin/python" .ci/check_scim_compliance.py "http://127.0.0.1:$port/scim/v2/$org" "$token"
