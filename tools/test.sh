#!/usr/bin/env bash
# Run the whole check: setup, pytest (extra arguments go to pytest), mypy --strict (library,
# tests, examples, tools, benchmarks), ruff.
# Runs every step even when an earlier one fails; exits non-zero if any step failed.
#
#   tools/test.sh                      # everything
#   tools/test.sh -k rawsocket -x      # pytest arguments (paths relative to the repo root)
#   tools/test.sh --no-cov             # without coverage measurement
#   WAMP_SKIP_CROSSBAR=1 tools/test.sh # skip (instead of fail) Crossbar tests if it is missing
#
# pytest measures branch coverage of wamp_core and reports it (files below 100%, then the
# total). The floor (fail_under in pyproject.toml) applies to the whole suite only: it is off
# when the arguments select part of it (a path or node id, -k, -m, --lf, --deselect...) or when
# WAMP_SKIP_CROSSBAR=1.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

bash tools/setup.sh

PY="$REPO_ROOT/.venv/bin/python"
if [[ "${CI:-}" == "true" && -z "${HYPOTHESIS_PROFILE:-}" ]]; then
    export HYPOTHESIS_PROFILE=ci
fi

failed=()

# True when the pytest arguments run only part of the suite.
selects_subset() {
    local arg takes_value=0
    for arg in "$@"; do
        if ((takes_value)); then
            takes_value=0
            continue
        fi
        case "$arg" in
            -k* | -m* | --lf | --last-failed | --sw | --stepwise | --deselect* | --ignore* | \
                --co | --collect-only) return 0 ;;
            -p | -o | -W | -c | -r | --override-ini | --pythonwarnings | --rootdir | \
                --confcutdir | --basetemp | --durations | --durations-min | --tb | \
                --timeout | --cov-report | --maxfail | --junit-xml | --log-level) takes_value=1 ;;
            -*) ;;
            *) return 0 ;; # a path or node id
        esac
    done
    return 1
}

cov_args=(--cov --cov-report=term)
if [[ "${WAMP_SKIP_CROSSBAR:-}" == 1 ]] || selects_subset "$@"; then
    cov_args+=(--cov-fail-under=0)
fi

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

step pytest "$PY" -m pytest "${cov_args[@]}" "$@"
step mypy "$PY" -m mypy --strict src tests examples tools benchmarks
step "ruff check" "$PY" -m ruff check .
step "ruff format" "$PY" -m ruff format --check .

if ((${#failed[@]})); then
    printf '\ntest.sh: FAILED: %s\n' "${failed[*]}" >&2
    exit 1
fi
printf '\ntest.sh: all checks passed\n'
