#!/usr/bin/env bash
# Bounded fuzzing of the protocol crate (crates/scim/fuzz): the `filter`, `path` and `patch` targets, each for
# FUZZ_SECONDS (default 60) from a COPY of the checked-in seeds, so that a run never grows the repository's
# corpus. Exits non-zero on any crash, leak, slow input (over FUZZ_TIMEOUT s, default 10) or build failure;
# the crashing input is kept under $FUZZ_WORK/artifacts/<target>/.
#
# cargo-fuzz needs nightly-only compiler flags; the one (stable) toolchain on the machines accepts them with
# RUSTC_BOOTSTRAP=1. Usage: `.ci/fuzz.sh [target...]` (default: all three); FUZZ_ARGS adds libFuzzer flags.
set -euo pipefail
cd "$(dirname "$0")/../crates/scim"

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
FUZZ_WORK="${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/scimd-fuzz.XXXXXX")}"
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(filter path patch)
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR=never

now() { date +%s; }
step() { printf '\n==> %s\n' "$*"; }

step "cargo-fuzz"
t=$(now)
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install --locked cargo-fuzz
fi
cargo fuzz --version
echo "install: $(( $(now) - t )) s"

step "build ${TARGETS[*]}"
t=$(now)
for target in "${TARGETS[@]}"; do
    cargo fuzz build -O "$target"
done
echo "build: $(( $(now) - t )) s"

declare -A MAX_LEN=([filter]=4096 [path]=1024 [patch]=8192)
status=0
for target in "${TARGETS[@]}"; do
    step "run $target for ${FUZZ_SECONDS} s"
    corpus="$FUZZ_WORK/corpus/$target"
    artifacts="$FUZZ_WORK/artifacts/$target"
    mkdir -p "$corpus" "$artifacts"
    cp -R "fuzz/seeds/$target/." "$corpus/"
    t=$(now)
    if ! cargo fuzz run -O "$target" "$corpus" -- \
        -max_total_time="$FUZZ_SECONDS" -max_len="${MAX_LEN[$target]:-4096}" \
        -timeout="${FUZZ_TIMEOUT:-10}" -artifact_prefix="$artifacts/" -print_final_stats=1 \
        ${FUZZ_ARGS:-}; then
        echo "FAILED: $target (inputs in $artifacts)"
        status=1
    fi
    echo "run $target: $(( $(now) - t )) s"
done
exit "$status"
