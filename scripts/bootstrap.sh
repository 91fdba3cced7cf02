#!/usr/bin/env bash
# Create or refresh the project's virtual environment in .venv, using the first
# Python >= 3.12 that actually runs. Sourced by ./demo.sh and ./test.sh.
#
# Candidates, in order: $CLUSTERSIM_PYTHON, python3.13, python3.12, python3, python,
# then any 3.12+ interpreter under pyenv's or the system's install folders. Each is
# tested by running it (a pyenv shim can exist and still fail).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
EXTRAS="${1:-}"

ok_python() { "$1" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }

find_python() {
  local c cands=()
  [ -n "${CLUSTERSIM_PYTHON:-}" ] && cands+=("$CLUSTERSIM_PYTHON")
  cands+=(python3.13 python3.12 python3 python)
  if command -v pyenv >/dev/null 2>&1; then
    for c in "$(pyenv root)"/versions/3.1[2-9]*/bin/python3; do cands+=("$c"); done
  fi
  for c in "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3 /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9] \
           /opt/homebrew/bin/python3.1[2-9]; do cands+=("$c"); done
  for c in "${cands[@]}"; do
    if command -v "$c" >/dev/null 2>&1 && ok_python "$c"; then command -v "$c"; return 0; fi
  done
  return 1
}

if [ ! -x "$VENV/bin/python" ] || ! ok_python "$VENV/bin/python"; then
  PY="$(find_python)" || { echo "clustersim: no Python >= 3.12 found; install one or set CLUSTERSIM_PYTHON" >&2; exit 1; }
  echo "clustersim: creating .venv with $PY ($("$PY" --version 2>&1))"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
fi

# Reinstall only when the dependency list or the requested extras change.
STAMP="$VENV/.clustersim-installed"
WANT="$( (cat "$ROOT/pyproject.toml"; echo "extras=$EXTRAS") | "$VENV/bin/python" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
  echo "clustersim: installing dependencies into .venv (first run takes a minute)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT${EXTRAS:+[$EXTRAS]}"
  echo "$WANT" > "$STAMP"
fi
