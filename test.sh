#!/usr/bin/env bash
# Set up (first time only) and run the whole test suite, lint included.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh "dev,cluster,dashboard,calibrate"
.venv/bin/ruff check .
# one pytest worker per logical CPU (2 on CI); a test file stays on one worker, so its module-level caches are computed once
exec .venv/bin/python -m pytest --numprocesses auto --dist loadfile "$@"
