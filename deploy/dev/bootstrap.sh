#!/usr/bin/env bash
# Prepares this checkout on a fresh machine: a Python virtual environment in .venv with Huiyan and its
# development tools, and the Kafka jars in the local Maven cache. Quick when nothing changed (stamp files).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

python="${HUIYAN_PYTHON:-}"
if [[ -z "$python" ]]; then
  for candidate in python3.11 python3.12 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 13))'; then
      python="$candidate"; break
    fi
  done
fi
[[ -n "$python" ]] || { echo "bootstrap: Python 3.11 or 3.12 is needed (rapidocr_onnxruntime stops at 3.12)" >&2; exit 1; }

if [[ ! -x .venv/bin/python ]]; then
  echo "[bootstrap] creating .venv with $("$python" --version)" >&2
  "$python" -m venv .venv
fi

stamp="$(cat pyproject.toml | sha256sum | cut -c1-16)"
if [[ "$(cat .venv/.huiyan-installed 2>/dev/null)" != "$stamp" ]]; then
  echo "[bootstrap] installing Huiyan and its dependencies into .venv" >&2
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  echo "$stamp" > .venv/.huiyan-installed
fi

deploy/kafka/broker.sh fetch
