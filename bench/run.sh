#!/usr/bin/env bash
# `pnpm bench [part...] [--smoke] [--seed N] [--out FILE]` (root package.json): installs and builds what the benchmarks
# need (Debian's Chromium included, for the browser part of e2e; Debian's redis-server, for the redis part), then runs them. See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SESSIONPACK_NEED_CHROMIUM=1 SESSIONPACK_NEED_REDIS=1 bash scripts/setup.sh >&2
# --expose-gc: the core part measures heap per session after forced collections.
exec node --expose-gc bench/dist/cli.js "$@"
