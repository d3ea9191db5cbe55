#!/usr/bin/env bash
# Installs the Debian packages the tests need (as root). Safe to run again: it only installs what is missing.
set -euo pipefail

packages=()
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
command -v redis-benchmark >/dev/null 2>&1 || packages+=(redis-tools)

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
