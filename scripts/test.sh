#!/usr/bin/env bash
# Install what is needed (including Chromium and redis-server for the browser and Redis tests), then run all tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec .venv/bin/python -m pytest "$@"
