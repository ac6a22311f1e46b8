#!/usr/bin/env bash
# Run the whole check: setup, pytest (extra arguments go to pytest), mypy --strict, ruff.
# Runs every step even when an earlier one fails; exits non-zero if any step failed.
#
#   tools/test.sh                      # everything
#   tools/test.sh -k rawsocket -x      # pytest arguments (paths relative to the repo root)
#   WAMP_SKIP_CROSSBAR=1 tools/test.sh # skip (instead of fail) Crossbar tests if it is missing
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

bash tools/setup.sh

PY="$REPO_ROOT/.venv/bin/python"
if [[ "${CI:-}" == "true" && -z "${HYPOTHESIS_PROFILE:-}" ]]; then
    export HYPOTHESIS_PROFILE=ci
fi

failed=()

step() {
    local name="$1"
    shift
    printf '\n==> %s\n' "$name"
    local rc=0
    "$@" || rc=$?
    if [[ "$name" == pytest && "$rc" == 5 ]]; then
        printf 'test.sh: pytest collected no tests (exit 5): counted as failure\n' >&2
    fi
    if [[ "$rc" != 0 ]]; then
        failed+=("$name (exit $rc)")
    fi
}

step pytest "$PY" -m pytest "$@"
step mypy "$PY" -m mypy --strict src
step "ruff check" "$PY" -m ruff check .
step "ruff format" "$PY" -m ruff format --check .

if ((${#failed[@]})); then
    printf '\ntest.sh: FAILED: %s\n' "${failed[*]}" >&2
    exit 1
fi
printf '\ntest.sh: all checks passed\n'
