#!/usr/bin/env bash
# Builds Huiyan's wheel, installs it into a fresh virtual environment outside the checkout (no extras:
# no torch, no training code) and decides the packaged sample events with `huiyan moderate` there.
# Fails if the wheel lacks the model, policy, schemas or samples, if serving imports torch, or if a
# decision differs from the checkout's own (time fields aside). The test command runs it.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/huiyan-wheel.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "[wheel] building the wheel" >&2
# From a copy of the checkout's files (tracked, and new ones git does not ignore), so that no build
# output of an earlier run, and nothing ignored, can slip into the wheel.
mkdir -p "$work/src"
(cd "$repo" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) | tar -C "$work/src" -xf -
"$repo/.venv/bin/python" -m pip wheel -q --no-deps --no-build-isolation -w "$work/dist" "$work/src" 2>/dev/null
wheel="$(ls "$work"/dist/huiyan-*.whl)"
echo "[wheel] $(basename "$wheel"): $(du -k "$wheel" | cut -f1) KB" >&2
python="$(readlink -f "$repo/.venv/bin/python")"
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q "$wheel"

cd "$work"  # outside the checkout: nothing can be imported from it
"$work/venv/bin/python" - <<'PY'
import importlib.util, sys
for name in ("torch", "transformers", "sklearn", "classifiers.training"):
    if importlib.util.find_spec(name) is not None:
        sys.exit(f"[wheel] {name} is installed or shipped; serving must not need it")
import classifiers, stream
for module in (classifiers, stream):
    if "/venv/" not in module.__file__:
        sys.exit(f"[wheel] {module.__name__} imported from {module.__file__}, not the installed wheel")
PY
"$work/venv/bin/python" -c 'import sys; from importlib import resources; sys.stdout.buffer.write(resources.files("stream.samples").joinpath("events.jsonl").read_bytes())' > samples.jsonl
"$work/venv/bin/huiyan" moderate samples.jsonl -o installed.jsonl --dead-letters installed-dead.jsonl
(cd "$repo" && .venv/bin/huiyan moderate "$work/samples.jsonl" -o "$work/checkout.jsonl" --dead-letters "$work/checkout-dead.jsonl") 2>/dev/null
"$work/venv/bin/python" - <<'PY'
import json, sys
def masked(path):
    rows = [json.loads(line) for line in open(path, encoding="utf-8")]
    for row in rows:
        row.pop("timing")
    return rows
installed, checkout = masked("installed.jsonl"), masked("checkout.jsonl")
if not installed or installed != checkout:
    sys.exit(f"[wheel] the installed wheel decided {len(installed)} events differently from the checkout")
dead = open("installed-dead.jsonl", encoding="utf-8").read() == open("checkout-dead.jsonl", encoding="utf-8").read()
if not dead:
    sys.exit("[wheel] the installed wheel's dead letters differ from the checkout's")
models = {m["name"] + "@" + m["version"] for m in installed[0]["provenance"]["models"]}
print(f"[wheel] installed wheel decided {len(installed)} sample events as the checkout does; models {sorted(models)}")
PY
