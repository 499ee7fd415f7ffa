#!/usr/bin/env bash
# The Python that runs examples/ in the examples test (crates/server/tests/it/examples.rs): a venv under
# target/ with examples/requirements.txt installed (pinned). Prints the venv's python, for
#   export SCIMD_EXAMPLES_PYTHON="$(.ci/examples.sh)"
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q python3-venv >&2
fi
venv=target/examples-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check -r examples/requirements.txt >&2
echo "$PWD/$venv/bin/python"
