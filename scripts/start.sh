#!/usr/bin/env bash
# Install what is needed, then start the dashboard on http://localhost:8501 with the default model.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/streamlit run dashboard.py "$@"
