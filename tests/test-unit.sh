#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The systemd units as installed: `systemd-analyze verify` passes for the service (with the
# staged binaries) and its socket, and the service's exposure (`systemd-analyze security
# --offline`) is at most 2.0; it gives the daemon CPU priority with Nice= below 0 (a renamed vCPU
# waits for kvmtuned to run), and with no cgroup CPU setting: on v1, one would make systemd pull
# the processes of every system.slice service, VMs kvmtuned placed among them, back into the
# services' cpu groups at each daemon-reload. Usage: test-unit.sh BUILDDIR
set -euo pipefail

build=$1
command -v systemd-analyze >/dev/null || { echo "skipped: systemd-analyze is not installed"; exit 77; }
tmp=$(mktemp -d /tmp/kvmtune-unit-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

DESTDIR="$tmp/root" meson install -C "$build" --quiet >/dev/null
unit=$(find "$tmp/root" -name kvmtuned.service)
mkdir "$tmp/units"
sed "s|=/usr/sbin/kvmtuned|=$tmp/root/usr/sbin/kvmtuned|; s|=/usr/bin/kvmtunectl|=$tmp/root/usr/bin/kvmtunectl|" \
	"$unit" >"$tmp/units/kvmtuned.service"
cp "$(dirname "$unit")/kvmtuned.socket" "$tmp/units/"
# Documentation= names the manual pages: verify finds them in the installed tree (a build
# without scdoc has none, and says so).
if [ -d "$tmp/root/usr/share/man/man8" ]; then
	MANPATH=$tmp/root/usr/share/man systemd-analyze verify "$tmp/units/kvmtuned.service" \
		"$tmp/units/kvmtuned.socket"
	echo "ok: systemd-analyze verify, the unit's manual pages included"
else
	systemd-analyze verify --man=no "$tmp/units/kvmtuned.service" "$tmp/units/kvmtuned.socket"
	echo "ok: systemd-analyze verify"
	echo "skipped: the unit's manual pages (built without scdoc)"
fi
exposure=$(systemd-analyze security --offline=true "$tmp/units/kvmtuned.service" 2>&1 |
	sed -n 's/.*Overall exposure level for kvmtuned.service: \([0-9.]*\).*/\1/p')
echo "exposure: $exposure"
awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 2.0) }' ||
	{ echo "FAIL: exposure $exposure is above 2.0"; exit 1; }
echo "ok: exposure $exposure (at most 2.0)"
nice=$(sed -n 's/^Nice=\(-\?[0-9]*\)$/\1/p' "$unit")
cpu=$(grep -E '^(CPU(Weight|Shares|Quota|QuotaPeriodSec)|StartupCPU(Weight|Shares)|CPUAccounting|AllowedCPUs)=' "$unit" || true)
[ -n "$nice" ] && [ "$nice" -lt 0 ] || { echo "FAIL: Nice= is '$nice', not below 0"; exit 1; }
[ -z "$cpu" ] || { echo "FAIL: the unit has a cgroup CPU setting ($cpu)"; exit 1; }
echo "ok: Nice=$nice, no cgroup CPU setting"
