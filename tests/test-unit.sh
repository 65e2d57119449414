#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The systemd unit as installed: `systemd-analyze verify` passes (with the staged binaries), and
# its exposure (`systemd-analyze security --offline`) does not grow past 2.6, where the
# hardening stands now. Usage: test-unit.sh BUILDDIR
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
systemd-analyze verify "$tmp/units/kvmtuned.service"
echo "ok: systemd-analyze verify"
exposure=$(systemd-analyze security --offline=true "$tmp/units/kvmtuned.service" 2>&1 |
	sed -n 's/.*Overall exposure level for kvmtuned.service: \([0-9.]*\).*/\1/p')
echo "exposure: $exposure"
awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 2.6) }' ||
	{ echo "FAIL: exposure $exposure is above 2.6"; exit 1; }
echo "ok: exposure $exposure (at most 2.6)"
