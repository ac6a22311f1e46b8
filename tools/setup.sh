#!/usr/bin/env bash
# Set up a development checkout: the dev virtualenv (.venv) and the Crossbar.io router
# used by the integration tests and benchmarks. Idempotent; safe to run before every test run.
#
# Environment:
#   PYTHON             interpreter for the virtualenvs (default: python3; must be >= 3.10)
#   WAMP_CROSSBAR      path to an existing crossbar executable: skip the Crossbar install
#   WAMP_CACHE_DIR     cache for the Crossbar virtualenv (default: ~/.cache/wamp-py)
#   WAMP_SETUP_FORCE=1 reinstall the dev dependencies even if pyproject.toml is unchanged
#
# Arguments: --no-crossbar   only the dev virtualenv (the demo on the embedded router needs no
#                            Crossbar)
set -euo pipefail

CROSSBAR_VERSION="26.10.1"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
CACHE_DIR="${WAMP_CACHE_DIR:-$HOME/.cache/wamp-py}"
CB_VENV="$CACHE_DIR/crossbar-$CROSSBAR_VERSION"
VENV="$REPO_ROOT/.venv"

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

# run_logged LOGFILE CMD...: run quietly; on failure show the tail of the log and stop.
run_logged() {
    local log="$1"
    shift
    if ! "$@" >>"$log" 2>&1; then
        printf 'setup: ERROR: command failed: %s\n--- last lines of %s ---\n' "$*" "$log" >&2
        tail -n 40 "$log" >&2 || true
        exit 1
    fi
}

check_python() {
    command -v "$PYTHON" >/dev/null 2>&1 || die "no '$PYTHON' on PATH (set PYTHON=...)"
    "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
        || die "$PYTHON is $("$PYTHON" -V 2>&1); Python >= 3.10 is required (set PYTHON=...)"
}

setup_dev_venv() {
    local log
    log="$(mktemp "${TMPDIR:-/tmp}/wamp-setup.XXXXXX")"
    if [[ ! -x "$VENV/bin/python" ]]; then
        say "creating $VENV"
        run_logged "$log" "$PYTHON" -m venv "$VENV"
    fi
    # Reinstall only when pyproject.toml changed since the last successful install.
    local stamp="$VENV/.wamp-setup-stamp" want
    want="$(sha256sum "$REPO_ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [[ "${WAMP_SETUP_FORCE:-0}" == 1 || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
        say "installing wamp-py[test,bench] (editable) into $VENV"
        run_logged "$log" "$VENV/bin/python" -m pip install -q -e "$REPO_ROOT[test,bench]"
        printf '%s\n' "$want" >"$stamp"
    fi
    rm -f "$log"
}

# crossbar_works EXE: `crossbar version` runs and lists the ubjson codec (bjdata imports only
# under numpy<2; without it Crossbar silently drops the ubjson serializer).
crossbar_works() {
    local out
    # PYTHONUNBUFFERED: crossbar exits without flushing a block-buffered stdout (a pipe), so
    # without it `version` prints nothing when the environment does not already set it.
    out="$(PYTHONUNBUFFERED=1 "$1" version 2>&1)" || return 1
    grep -q "UBJSON Codec *: bjdata" <<<"$out"
}

setup_crossbar() {
    if [[ -n "${WAMP_CROSSBAR:-}" ]]; then
        [[ -x "$WAMP_CROSSBAR" ]] || die "WAMP_CROSSBAR=$WAMP_CROSSBAR is not an executable"
        CROSSBAR_EXE="$WAMP_CROSSBAR"
        return
    fi
    CROSSBAR_EXE="$CB_VENV/bin/crossbar"
    if crossbar_works "$CROSSBAR_EXE"; then
        return
    fi
    mkdir -p "$CACHE_DIR"
    if command -v flock >/dev/null 2>&1; then
        # Serialise concurrent setups; another one may have finished while we waited.
        exec 9>"$CACHE_DIR/.crossbar-install.lock"
        flock 9
        if crossbar_works "$CROSSBAR_EXE"; then
            return
        fi
        rm -rf "$CACHE_DIR/crossbar-$CROSSBAR_VERSION.tmp."*  # left by interrupted installs
    fi
    # Build in a temp dir on the same file system, then rename: an interrupted install never
    # looks finished (the check above runs `crossbar version`).
    local tmp log f
    tmp="$(mktemp -d "$CACHE_DIR/crossbar-$CROSSBAR_VERSION.tmp.XXXXXX")"
    log="$CACHE_DIR/crossbar-install.log"
    : >"$log"
    trap 'rm -rf "$tmp"' EXIT
    say "installing Crossbar.io $CROSSBAR_VERSION into $CB_VENV (~380 MB, 1-2 minutes; log: $log)"
    run_logged "$log" "$PYTHON" -m venv --prompt "crossbar-$CROSSBAR_VERSION" "$tmp"
    run_logged "$log" "$tmp/bin/python" -m pip install -q "crossbar==$CROSSBAR_VERSION" "numpy<2"
    run_logged "$log" env PYTHONUNBUFFERED=1 "$tmp/bin/crossbar" version
    crossbar_works "$tmp/bin/crossbar" \
        || die "Crossbar.io in $tmp has no ubjson (bjdata) codec; see $log"
    # Scripts and activate files hold the absolute venv path: point them at the final place.
    while IFS= read -r f; do
        sed -i "s|$tmp|$CB_VENV|g" "$f"
    done < <(grep -rlIF -- "$tmp" "$tmp/bin" "$tmp/pyvenv.cfg" || true)
    rm -rf "$CB_VENV"
    mv -T "$tmp" "$CB_VENV"
    trap - EXIT
    crossbar_works "$CROSSBAR_EXE" \
        || die "Crossbar.io was moved to $CB_VENV but '$CROSSBAR_EXE version' fails"
}

check_python
setup_dev_venv
say "python:   $VENV/bin/python ($("$VENV/bin/python" -V 2>&1))"
if [[ "${1:-}" == "--no-crossbar" ]]; then
    exit 0
fi
setup_crossbar
say "crossbar: $CROSSBAR_EXE"
say "test vectors: ${WAMP_TESTSUITE_DIR:-$(cd "$REPO_ROOT/.." && pwd)/shared/wamp-testsuite}"
