#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Installs what kvmtune needs to build, test and run on Debian 12 (root). Idempotent: asks apt
# only for packages that are missing. Usage: tools/install-deps.sh [build|test|demo|deb]...
set -euo pipefail

build=(meson ninja-build pkg-config gcc libc6-dev libyaml-dev libnuma-dev libsystemd-dev libcgroup-dev
	libjson-c-dev libxml2-dev scdoc)
# prometheus (promtool), prometheus-node-exporter and python3-prometheus-client read the
# metrics in test-effect-live.py: the consumers Prometheus users have.
test=(clang clang-format python3 qemu-system-x86 groff-base man-db bash-completion
	prometheus prometheus-node-exporter python3-prometheus-client)
# Debian starts these at install; the tests start their own node_exporter on 127.0.0.1 and need
# no Prometheus server, so what this script installs it stops and disables again.
services=(prometheus prometheus-node-exporter)
demo=(qemu-system-x86)
# The package: debian/control's Build-Depends and the tools around them.
deb=(build-essential dpkg-dev debhelper lintian)

want=()
for set in "${@:-build}"; do
	case "$set" in
	build) want+=("${build[@]}") ;;
	test) want+=("${build[@]}" "${test[@]}") ;;
	demo) want+=("${build[@]}" "${demo[@]}") ;;
	deb) want+=("${build[@]}" "${deb[@]}") ;;
	*) echo "install-deps.sh: unknown set '$set' (allowed: build, test, demo, deb)" >&2; exit 2 ;;
	esac
done

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "install-deps.sh: missing packages ${missing[*]}; run as root" >&2
		exit 1
	fi
	echo "Installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=600 update -q
	apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
	for u in "${services[@]}"; do
		if [[ " ${missing[*]} " == *" $u "* ]] && [ -d /run/systemd/system ]; then
			systemctl disable --now "$u.service" >/dev/null 2>&1 || true
		fi
	done
fi
