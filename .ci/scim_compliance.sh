#!/usr/bin/env bash
# Runs python-scim's compliance checker (scim2-tester, pinned) against a release build of scimd on a fresh
# SQLite database, with an org, an Azure AD SSO connection and a SCIM token made through the CLI as an operator
# would. Fails when the checker reports any ERROR or CRITICAL result. Usage: .ci/scim_compliance.sh
set -euo pipefail
cd "$(dirname "$0")/.."

. bench/lib.sh
fresh_work target/scim-compliance
export DATABASE_URL="sqlite://$PWD/$work/scimd.db"
export RUST_LOG=warn

new_org Compliance compliance-client-secret
"$scimd" token generate --org "$org" --json >"$work/token.json"
# Custom attributes declared, as a platform would (issue #26): the checker reads /Schemas and exercises every
# attribute it advertises, the extension's included. One filterable, one not, one multi-valued.
"$scimd" attribute define --org "$org" --name costCenter --type string --filterable >/dev/null
"$scimd" attribute define --org "$org" --name clearance --type integer >/dev/null
"$scimd" attribute define --org "$org" --name badges --type string --multi-valued --filterable >/dev/null
# The checker creates and deletes dozens of users within a minute. The deprovisioning safety valve stays on (the
# default): users the IdP created within the valve's hour do not count towards it.

serve

venv=target/scim2-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "scim2-tester[httpx2]==0.5.2"
token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$work/token.json")
"$venv/bin/python" .ci/check_scim_compliance.py "$url/scim/v2/$org" "$token"
