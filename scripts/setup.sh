#!/usr/bin/env bash
# One-time machine setup for a fresh clone: system packages the tests and the stack need,
# then the Prisma clients. Safe to run again. Postgres and RabbitMQ are expected to be running
# (see README: "What the machine needs").
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v memcached >/dev/null 2>&1 || need_apt+=(memcached)
# memcslap (raw server throughput for `npm run bench`) ships in libmemcached-tools.
command -v memcslap >/dev/null 2>&1 || need_apt+=(libmemcached-tools)
# Debian's Chromium: the docs-page test drives it with playwright-core (which downloads no browser).
[ -x /usr/bin/chromium ] || need_apt+=(chromium)

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing ${need_apt[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: please install: ${need_apt[*]} (e.g. apt-get install -y ${need_apt[*]})" >&2
    exit 1
  fi
fi
echo "setup: memcached $(memcached -V | awk '{print $2}') at $(command -v memcached)"
echo "setup: $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium missing')"

[ -d node_modules ] || npm ci
npm run --silent generate
echo "setup: done"
