#!/usr/bin/env bash
# Set up (first time only) and run the main job: the funded_programme scenario with
# 10 replicates, writing a figure, tables and a manifest under results/.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh "dashboard"
exec .venv/bin/clustersim run "${@:-funded_programme}" --replicates 10
