#!/usr/bin/env bash
# Installs what sessionpack's commands need on a machine that has only Node 20 and npm:
# pnpm, Debian's Chromium (when asked for with SESSIONPACK_NEED_CHROMIUM=1), Debian's redis-server
# (when asked for with SESSIONPACK_NEED_REDIS=1; tests start their own on a loopback port), the
# workspace's dependencies, and a build of every package. Safe to run again: each step skips what is there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PNPM_VERSION=12.21.0
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
    echo "setup: installing pnpm@$PNPM_VERSION"
    # Not corepack: this registry sends no signatures, so `corepack pnpm` fails.
    npm install --global --no-fund --no-audit "pnpm@$PNPM_VERSION" >/dev/null
fi

if [ "${SESSIONPACK_NEED_CHROMIUM:-0}" = 1 ] && [ -z "${CHROMIUM_PATH:-}" ] && [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing Debian's chromium"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "setup: no Chromium found; set CHROMIUM_PATH or install Debian's chromium package" >&2
        exit 1
    fi
fi

if [ "${SESSIONPACK_NEED_REDIS:-0}" = 1 ] && [ -z "${REDIS_SERVER_PATH:-}" ] && ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing Debian's redis-server"
        apt-get update -qq >/dev/null
        # The package starts no daemon here (no systemd); tests start their own redis-server and stop it by PID.
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    else
        echo "setup: no redis-server found; set REDIS_SERVER_PATH or install Debian's redis-server package" >&2
        exit 1
    fi
fi

echo "setup: installing dependencies"
pnpm install --frozen-lockfile --reporter=silent
echo "setup: building packages"
pnpm run --silent build --output-logs=errors-only
