#!/usr/bin/env bash
# Set up (the dev venv, cached) and run the main job: a Component doing RPC and pub/sub through
# the embedded router (nothing else to install), on asyncio and trio, then the hand-driven
# client. `tools/demo.sh --crossbar` runs it through Crossbar.io (installed and cached on first
# use); `tools/demo.sh --url ws://host:port/ws` through any router.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
if [[ " $* " == *" --crossbar "* ]]; then
    bash tools/setup.sh
else
    bash tools/setup.sh --no-crossbar
fi
exec "$REPO_ROOT/.venv/bin/python" tools/run_demo.py "$@"
