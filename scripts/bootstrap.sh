#!/usr/bin/env bash
# Installs everything MeetPilot needs on a fresh Debian/Ubuntu machine (idempotent, quick when done):
# system tools (as root, through apt-get) and the Python virtualenv with every dependency.
set -euo pipefail
cd "$(dirname "$0")/.."

want=()
command -v redis-server >/dev/null || want+=(redis-server)
command -v ffmpeg >/dev/null || want+=(ffmpeg)
command -v sox >/dev/null || want+=(sox)
command -v espeak-ng >/dev/null || want+=(espeak-ng)
command -v node >/dev/null || want+=(nodejs)  # the extension's unit tests (node --test)
if [ "${MEETPILOT_BROWSER:-1}" = "1" ]; then command -v chromium >/dev/null || want+=(chromium fonts-dejavu-core); fi
if [ ${#want[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "==> installing system packages: ${want[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
  else
    echo "==> missing system packages (install them yourself): ${want[*]}" >&2
  fi
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $PY"
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "==> installing Python dependencies"
  # pip's config may name extra local indexes that do not exist; their "ignored" notes are noise.
  pip_quiet() { "$@" 2>&1 | { grep -v "^WARNING: Location" || true; }; return "${PIPESTATUS[0]}"; }
  pip_quiet .venv/bin/pip install -q --upgrade pip
  pip_quiet .venv/bin/pip install -q ".[test]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
mkdir -p var
