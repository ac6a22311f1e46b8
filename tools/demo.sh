#!/usr/bin/env bash
# Set up (the dev venv and Crossbar, both cached) and run the main job: the hand-driven example
# client doing RPC and pub/sub through a real Crossbar.io router started on loopback.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
bash tools/setup.sh
exec "$REPO_ROOT/.venv/bin/python" tools/run_demo.py "$@"
