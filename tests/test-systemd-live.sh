#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# kvmtuned as systemd runs it (skips unless PID 1 is systemd; the suite's guest is such a host):
# the unit starts (Type=notify: READY after the first pass), a nested QEMU is enforced,
# `systemctl reload` returns only after re-enforcement, `systemctl status` shows STATUS=, the
# journal has KVMTUNE_VM/KVMTUNE_PID fields, `systemctl stop` leaves the VM as it is.
# Installs into this host's /usr, /etc/kvmtune and /run/systemd/system: for throwaway hosts.
# Usage: test-systemd-live.sh BUILDDIR
set -uo pipefail

build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
failures=0

if [ "$(cat /proc/1/comm)" != systemd ]; then
	echo "skipped: PID 1 is not systemd (the cgroup v2 guest of tests/vm runs this)"
	exit 77
fi
if [ "${KVMTUNE_THROWAWAY_HOST:-}" != 1 ]; then
	echo "skipped: installs kvmtuned system-wide; set KVMTUNE_THROWAWAY_HOST=1 on a host for that"
	exit 77
fi

check() { # DESCRIPTION COMMAND...
	if "${@:2}"; then
		echo "ok: $1"
	else
		echo "FAIL: $1"
		failures=$((failures + 1))
	fi
}

weight() { cat "/sys/fs/cgroup/kvmtune-test.slice/kvmtune-sd\\x2dvm.scope/cpu.weight" 2>/dev/null; }
weight_is() { test "$(weight)" = "$1"; } # evaluated at each try
wait_for() { # SECONDS COMMAND...
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
}

install -m 0755 "$build/daemon/kvmtuned" /usr/sbin/kvmtuned
install -m 0755 "$build/tools/kvmtunectl" /usr/bin/kvmtunectl
install -d -m 0755 /etc/kvmtune/policy.d
printf 'cgroup_parent: kvmtune-test.slice\nrescan_interval: 1h\n' >/etc/kvmtune/kvmtuned.yaml
printf 'match: { name: "sd-*" }\ncputune: { shares: 2048 }\n' >/etc/kvmtune/policy.d/10-sd.yaml
chmod 0644 /etc/kvmtune/kvmtuned.yaml /etc/kvmtune/policy.d/10-sd.yaml
install -m 0644 "$build/systemd/kvmtuned.service" /run/systemd/system/kvmtuned.service
systemctl daemon-reload

check "systemctl start kvmtuned (Type=notify) succeeds" systemctl start kvmtuned
check "the unit is active" systemctl is-active --quiet kvmtuned
qemu-system-x86_64 -display none -nodefaults -m 64 -accel tcg -smp 2 \
	-name guest=sd-vm,debug-threads=on >/dev/null 2>&1 &
qemu=$!
check "a nested QEMU started after it is enforced (cpu.weight 200)" wait_for 60 weight_is 200
status=$(systemctl show -p StatusText --value kvmtuned)
echo "  STATUS: $status"
check "systemctl shows the daemon's STATUS=" grep -q "VM(s)" <<<"$status"

printf 'match: { name: "sd-*" }\ncputune: { shares: 4096 }\n' >/etc/kvmtune/policy.d/10-sd.yaml
check "systemctl reload kvmtuned succeeds" systemctl reload kvmtuned
check "...and returns after re-enforcement (cpu.weight 400 at once)" test "$(weight)" = 400

journal=$(journalctl -u kvmtuned -o json --no-pager 2>/dev/null)
check "the journal has KVMTUNE_VM= for the VM" grep -q '"KVMTUNE_VM":"sd-vm"' <<<"$journal"
check "the journal has KVMTUNE_PID=" grep -q "\"KVMTUNE_PID\":\"$qemu\"" <<<"$journal"

check "systemctl stop kvmtuned" systemctl stop kvmtuned
check "...leaves the VM running and enforced" test "$(weight)" = 400 -a -d "/proc/$qemu"
sed -n 's/^/  /p' < <(systemd-analyze security kvmtuned.service 2>/dev/null | tail -n 1)

kill "$qemu" 2>/dev/null
wait "$qemu" 2>/dev/null
kvmtunectl apply >/dev/null 2>&1 # the VM is gone: its groups go
rmdir /sys/fs/cgroup/kvmtune-test.slice 2>/dev/null
rm -f /run/systemd/system/kvmtuned.service
systemctl daemon-reload
echo
if [ "$failures" -gt 0 ]; then
	echo "kvmtuned's log:"
	journalctl -u kvmtuned --no-pager -o cat 2>/dev/null | tail -n 25 | sed "s/^/  /"
	echo "$failures check(s) failed"
	exit 1
fi
echo "all checks passed"
