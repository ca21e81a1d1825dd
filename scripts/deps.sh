#!/usr/bin/env bash
# Install what ringactor needs on Debian 12 (run as root). Quiet and
# idempotent: packages already present are not fetched again.
set -euo pipefail

pkgs=(build-essential autoconf automake libtool pkg-config
      liburing-dev libck-dev redis-tools redis-server gnuplot-nox
      procps groff-base)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts redis-server as a service on install; the demo runs its own.
if command -v systemctl >/dev/null 2>&1; then
	systemctl stop redis-server >/dev/null 2>&1 || true
fi
