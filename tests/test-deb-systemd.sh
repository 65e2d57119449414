#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Debian package on a systemd host (the cgroup v2 guest of tests/vm, which has the
# package's dependencies and no network): `apt-get install ./kvmtune.deb` enables and starts
# kvmtuned (`systemctl status`: active, STATUS=); a QEMU started after it is enforced in its
# scope; `apt-get remove` stops the daemon and leaves the VM running in its scope with its
# values; installing again adopts the VM with zero writes; a reinstall (the upgrade path)
# reloads the daemon instead of restarting it; purge removes /etc/kvmtune and still leaves the
# VM as it is. On a v1 (legacy or hybrid) systemd host the same with the cgroupfs backend, which
# `backend: auto` chooses there: the VM group is kvmtune's own in each v1 hierarchy, no unit.
# Installs system-wide: for throwaway hosts, before anything else installs
# kvmtune there (test-systemd-live.sh uses meson install).
# Usage: test-deb-systemd.sh KVMTUNE.DEB
set -uo pipefail

deb=$(realpath "$1")
# shellcheck source=tests/checks.sh
source "$(dirname "$0")/checks.sh"

if [ "$(cat /proc/1/comm)" != systemd ]; then
	echo "skipped: PID 1 is not systemd (the cgroup v2 guest of tests/vm runs this)"
	exit 77
fi
if [ "${KVMTUNE_THROWAWAY_HOST:-}" != 1 ]; then
	echo "skipped: installs the package system-wide; set KVMTUNE_THROWAWAY_HOST=1 on a host for that"
	exit 77
fi
[ -f "$deb" ] || { echo "FAIL: no package at $1"; exit 1; }
if [ -e /usr/sbin/kvmtuned ] || [ -e /etc/kvmtune ]; then
	echo "FAIL: kvmtune is already installed here (run this before test-systemd-live.sh)"
	exit 1
fi

unit=kvmtune-debvm.scope
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
	v2=1 backend=systemd
	group=/sys/fs/cgroup/machine.slice/$unit
	weight_is() { test "$(cat "$group/cpu.weight" 2>/dev/null)" = "$1"; }
	in_scope() { grep -qE "^0::/machine.slice/$unit(/|\$)" "/proc/$qemu/cgroup"; } # emulator/ below it
	memory_kept() { test "$(systemctl show -p MemoryMax --value "$unit")" = 536870912; }
	unit_active() { systemctl is-active --quiet "$unit"; }
else
	v2=0 backend=cgroupfs
	group=/sys/fs/cgroup/cpu/machine.slice/$unit
	# cpu.weight 200 is cpu.shares 2048 on v1 (spec's mapping)
	weight_is() { test "$(cat "$group/cpu.shares" 2>/dev/null)" = $(($1 * 1024 / 100)); }
	in_scope() { grep -qE "^[0-9]+:([a-z,]*,)?cpu(,[a-z,]*)?:/machine.slice/$unit(/|\$)" "/proc/$qemu/cgroup"; }
	memory_kept() {
		test "$(cat "/sys/fs/cgroup/memory/machine.slice/$unit/memory.limit_in_bytes")" = 536870912
	}
	unit_active() { true; } # no unit: the group is kvmtune's
fi
vcpu0() { # the tid of QEMU's thread "CPU 0/TCG"
	grep -l '^CPU 0/' /proc/"$qemu"/task/*/comm 2>/dev/null | head -n 1 | cut -d/ -f5
}
vcpu0_on() { # CPULIST: vCPU 0's affinity
	local t
	t=$(vcpu0)
	[ -n "$t" ] && grep -q "^Cpus_allowed_list:[[:space:]]*$1\$" "/proc/$qemu/task/$t/status"
}
daemon_runs() { systemctl is-active --quiet kvmtuned; }
values_kept() { # the VM's values as kvmtuned set them
	weight_is 200 && vcpu0_on 1 && memory_kept
}
journal_since() { journalctl -u kvmtuned -o cat --no-pager --since "@$1" 2>/dev/null; }

# ---- install: enabled, started ----
check "apt-get install ./$(basename "$deb") (dependencies from the image, no network)" \
	quietly "${apt[@]}" install "$deb"
check "the unit is enabled" test "$(systemctl is-enabled kvmtuned 2>&1)" = enabled
check "systemctl status kvmtuned: active (running)" \
	grep -q 'Active: active (running)' <(systemctl status --no-pager kvmtuned)
check "...with the daemon's STATUS= (VMs, threads, errors)" \
	grep -q 'Status: ".* VM(s), .* thread(s) enforced' <(systemctl status --no-pager kvmtuned)
check "backend auto chose $backend" \
	grep -q "backend: $backend (auto" <(journalctl -u kvmtuned -o cat --no-pager)

cat >/etc/kvmtune/policy.d/10-deb.yaml <<'EOF'
match: { name: "debvm" }
cputune:
  shares: 2048
  vcpupin:
    - { vcpu: 0, cpuset: "1" }
  emulatorpin: "0"
memtune:
  hard_limit: 512M
EOF
chmod 0644 /etc/kvmtune/policy.d/10-deb.yaml
check "systemctl reload kvmtuned (the new policy)" quietly systemctl reload kvmtuned

# ---- a VM started after the daemon ----
qemu-system-x86_64 -display none -nodefaults -m 128 -accel tcg -smp 2 \
	-name guest=debvm,debug-threads=on >/dev/null 2>&1 &
qemu=$!
check "a QEMU started after kvmtuned gets enforced (cpu.weight 200)" wait_for 60 weight_is 200
check "...in its own scope" in_scope
check "...its vCPU 0 pinned to CPU 1" wait_for 30 vcpu0_on 1
check "...MemoryMax=512M (its unit's, or memory.limit_in_bytes on v1)" values_kept

# ---- remove: the daemon stops, the VM stays as it is ----
check "apt-get remove kvmtune" quietly "${apt[@]}" remove kvmtune
check "...stopped kvmtuned" eval '! daemon_runs'
check "...left the VM running" test -d "/proc/$qemu"
check "...in its scope, an active unit (v1: its group)" eval 'in_scope && unit_active'
check "...with its values (weight, vCPU pinning, MemoryMax)" values_kept
check "...and kept /etc/kvmtune with the administrator's policy" test -f /etc/kvmtune/policy.d/10-deb.yaml

# ---- install again: the VM is adopted, nothing written ----
t0=$(date +%s)
check "apt-get install ./$(basename "$deb") again" quietly "${apt[@]}" install "$deb"
check "...started kvmtuned" daemon_runs
started=$(journal_since "$t0" | grep 'started (' | tail -n 1)
echo "info: $started"
check "...which adopted the VM with zero writes (1 VM, 0 changes)" \
	grep -q ': 1 VM(s), 0 change(s) made' <<<"$started"
check "...and apply --dry-run finds nothing to change" \
	grep -q ' 0 would change' <(kvmtunectl apply --dry-run debvm)

# ---- the upgrade path: a reload, not a restart ----
pid=$(systemctl show -p MainPID --value kvmtuned)
t1=$(date +%s)
check "apt-get install --reinstall (configure with the old version: an upgrade)" \
	quietly "${apt[@]}" install --reinstall "$deb"
check "...reloaded kvmtuned (its control socket was asked)" \
	grep -q 'reload asked through the control socket' <(journal_since "$t1")
check "...without restarting it (MainPID $pid)" test "$(systemctl show -p MainPID --value kvmtuned)" = "$pid"
check "...and the VM kept its values" values_kept

# ---- purge ----
check "apt-get purge kvmtune" quietly "${apt[@]}" purge kvmtune
check "...removed /etc/kvmtune" test ! -e /etc/kvmtune
check "...and left the VM running in its scope with its values" eval 'in_scope && values_kept'

kill "$qemu" 2>/dev/null
wait "$qemu" 2>/dev/null
if [ "$v2" = 1 ]; then
	check "the VM's exit ends its scope" wait_for 10 eval '! unit_active'
else # no daemon is left to remove kvmtune's groups (a running one does at its next pass)
	for c in /sys/fs/cgroup/*/machine.slice/"$unit"; do
		find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	check "the VM's groups are gone once emptied and removed" \
		eval '! compgen -G "/sys/fs/cgroup/*/machine.slice/$unit" >/dev/null'
fi
echo "info: the package's test took $SECONDS s in this guest"
echo
if [ "$failures" -gt 0 ]; then
	echo "kvmtuned's log:"
	journalctl -u kvmtuned --no-pager -o cat 2>/dev/null | tail -n 25 | sed "s/^/  /"
	echo "$failures check(s) failed"
	exit 1
fi
echo "all checks passed"
