#!/usr/bin/env bash
# The main job (README): installs what it needs, then crawls the bundled proving ground with
# CheerioCrawler + sessionpack and with stock CheerioCrawler, and prints them side by side.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec node examples/cheerio-actor/dist/demo.js
