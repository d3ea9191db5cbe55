#!/usr/bin/env bash
# Installs the Debian packages the tests need (as root). Safe to run again: it only installs what is missing.
set -euo pipefail

packages=()
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
command -v redis-benchmark >/dev/null 2>&1 || packages+=(redis-tools)
# Deployment tests: `docker-compose config` validates docker-compose.yml (no Docker engine needed); it brings PyYAML.
command -v docker-compose >/dev/null 2>&1 || packages+=(docker-compose)
# `kubectl kustomize` renders deploy/. The machine image ships /usr/bin/kubectl (with kustomize v5); Debian's
# kubernetes-client is only a fallback: its kubectl (1.20) embeds a kustomize too old for deploy/ (the tests say so).
command -v kubectl >/dev/null 2>&1 || packages+=(kubernetes-client)
# Browser tests (Playwright) drive Debian's chromium at /usr/bin/chromium; Playwright's own browser download cannot run here.
[ -x /usr/bin/chromium ] || packages+=(chromium)
# Mutation testing (.ci/mutation.sh) reads Stryker's JSON report for the score of each file.
command -v jq >/dev/null 2>&1 || packages+=(jq)
# Time zones: a unit test reads Store dates with the process in a zone other than UTC (Pacific/Chatham).
[ -e /usr/share/zoneinfo/Pacific/Chatham ] || packages+=(tzdata)

if [ "${#packages[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing ${packages[*]}; run as root or install them (apt-get install -y ${packages[*]})" >&2
  exit 1
fi
echo "install-deps: installing ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
