#!/usr/bin/env bash
# The one test command (README, `.ci/run`): installs what it needs, then runs every test once.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SESSIONPACK_NEED_CHROMIUM=1 SESSIONPACK_NEED_REDIS=1 bash scripts/setup.sh
report=$(mktemp)
status=0
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed`);
' "$report" || true
rm -f "$report"
exit $status
