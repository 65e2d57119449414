#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# kvmtuned installed and run by systemd, with the systemd backend chosen by `backend: auto`
# (skips unless PID 1 is systemd; the suite's guest is such a host): `meson install`, the unit
# starts (Type=notify: READY after the first pass), a nested QEMU becomes a delegated scope in
# a nested slice (kvmtune-test.slice lives in kvmtune.slice), registered with machined, its
# memory moved to NUMA node 1 by numatune strict; `systemctl reload` returns only after
# re-enforcement; values survive `systemctl daemon-reload`; `systemctl status` shows STATUS=;
# the journal has the KVMTUNE_* fields; `systemctl stop` leaves the VM as it is; the VM's exit
# ends its scope and machine. Reports `systemd-analyze security` exposure (aim: at most 2.5).
# Installs into this host's /usr, /etc/kvmtune: for throwaway hosts.
# Usage: test-systemd-live.sh BUILDDIR
set -uo pipefail

build=$(cd "$1" && pwd)
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

unit='kvmtune-sd\x2dvm.scope'
group="/sys/fs/cgroup/kvmtune.slice/kvmtune-test.slice/$unit"
weight() { cat "$group/cpu.weight" 2>/dev/null; }
weight_is() { test "$(weight)" = "$1"; } # evaluated at each try
wait_for() { # SECONDS COMMAND...
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
}
# Anonymous pages of pid on NUMA node 1, in percent of all its anonymous pages.
anon_on_node1() {
	awk '/anon=/ { for (i = 1; i <= NF; i++) if ($i ~ /^N[0-9]+=/) { split($i, kv, "="); n[kv[1]] += kv[2]; all += kv[2] } }
	     END { printf "%d\n", all ? 100 * n["N1"] / all : 0 }' "/proc/$1/numa_maps"
}
mostly_on_node1() { test "$(anon_on_node1 "$1")" -ge 95; }
machine_listed() { machinectl list --no-legend 2>/dev/null | grep -q '^sd-vm  *vm  *kvmtune'; }
not_listed() { ! machine_listed; }
unit_gone() { ! systemctl is-active --quiet "$unit"; }

check "meson install" meson install -C "$build" --no-rebuild --quiet
check "...installs kvmtuned, kvmtunectl and the unit" \
	test -x /usr/sbin/kvmtuned -a -x /usr/bin/kvmtunectl -a -n "$(systemctl cat kvmtuned 2>/dev/null)"
printf 'backend: auto\ncgroup_parent: kvmtune-test.slice\nrescan_interval: 1h\n' >/etc/kvmtune/kvmtuned.yaml
cat >/etc/kvmtune/policy.d/10-sd.yaml <<'EOF'
match: { name: "sd-*" }
cputune:
  shares: 2048
  vcpupin:
    - { vcpu: 0, cpuset: "1" }
  emulatorpin: "0"
memtune:
  hard_limit: 512M
numatune:
  memory: { mode: strict, nodeset: "1" }
EOF
chmod 0644 /etc/kvmtune/kvmtuned.yaml /etc/kvmtune/policy.d/10-sd.yaml
systemctl daemon-reload

# The VM runs first, as another user (the daemon's ProtectProc=invisible must still show it),
# with its memory on node 0.
numactl --membind=0 setpriv --reuid=65534 --regid=65534 --clear-groups \
	qemu-system-x86_64 -display none -nodefaults -m 128 -accel tcg -smp 2 \
	-name guest=sd-vm,debug-threads=on >/dev/null 2>&1 &
qemu=$!
sleep 3
check "the VM runs as nobody" test "$(stat -c %u "/proc/$qemu")" = 65534
echo "info: before: $(anon_on_node1 $qemu)% of QEMU's anonymous memory on node 1"

check "systemctl start kvmtuned (Type=notify) succeeds" systemctl start kvmtuned
check "the unit is active" systemctl is-active --quiet kvmtuned
check "backend auto chose systemd (journal)" \
	grep -q 'backend: systemd (auto)' <(journalctl -u kvmtuned -o cat --no-pager)
check "the running VM is enforced (cpu.weight 200)" wait_for 30 weight_is 200
check "...in its scope, an active unit" systemctl is-active --quiet "$unit"
check "...delegated, in kvmtune-test.slice" test \
	"$(systemctl show -p Delegate -p Slice --value "$unit" | sort | tr '\n' ' ')" = "kvmtune-test.slice yes "
check "...whose unit carries the values (CPUWeight=200, MemoryMax=512M)" test \
	"$(systemctl show -p CPUWeight -p MemoryMax --value "$unit" | sort | tr '\n' ' ')" = "200 536870912 "
check "systemd-cgls shows the scope" grep -qF "$unit" <(systemd-cgls --no-pager /kvmtune.slice)
check "machinectl list shows the VM" wait_for 5 machine_listed
check "numatune strict moved its memory to node 1 (numa_maps)" wait_for 20 mostly_on_node1 "$qemu"
echo "info: after: $(anon_on_node1 $qemu)% on node 1; cpuset.mems $(cat "$group/cpuset.mems")"
status=$(systemctl show -p StatusText --value kvmtuned)
echo "info: STATUS: $status"
check "systemctl shows the daemon's STATUS=" grep -q "VM(s)" <<<"$status"

sed -i 's/shares: 2048/shares: 4096/' /etc/kvmtune/policy.d/10-sd.yaml
check "systemctl reload kvmtuned succeeds" systemctl reload kvmtuned
check "...and returns after re-enforcement (cpu.weight 400 at once)" weight_is 400
check "...through the unit (CPUWeight=400)" test "$(systemctl show -p CPUWeight --value "$unit")" = 400
systemctl daemon-reload
sleep 1
check "systemctl daemon-reload keeps every value (apply --dry-run: 0 would change)" \
	grep -q ' 0 would change' <(kvmtunectl apply --dry-run sd-vm)

journal=$(journalctl -u kvmtuned -o json --no-pager 2>/dev/null)
check "the journal has KVMTUNE_VM= for the VM" grep -q '"KVMTUNE_VM":"sd-vm"' <<<"$journal"
check "the journal has KVMTUNE_PID=" grep -q "\"KVMTUNE_PID\":\"$qemu\"" <<<"$journal"
check "the journal has KVMTUNE_POLICY=" grep -q '"KVMTUNE_POLICY":"/etc/kvmtune/policy.d/10-sd.yaml' <<<"$journal"

check "systemctl stop kvmtuned" systemctl stop kvmtuned
check "...leaves the VM running and enforced" test "$(weight)" = 400 -a -d "/proc/$qemu"
security=$(systemd-analyze security --no-pager kvmtuned.service 2>/dev/null)
exposure=$(tail -n 1 <<<"$security")
echo "info: ${exposure}"
grep -E '^✗' <<<"$security" | sed 's/^/    /' | head -n 40
check "systemd-analyze security: exposure at most 2.5" \
	awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+$/) exit !($i <= 2.5) }' <<<"$exposure"

kill "$qemu" 2>/dev/null
wait "$qemu" 2>/dev/null
check "the VM's exit ends its scope" wait_for 10 unit_gone
check "...and machined forgets it" wait_for 10 not_listed
systemctl stop kvmtune-test.slice kvmtune.slice 2>/dev/null
echo
if [ "$failures" -gt 0 ]; then
	echo "kvmtuned's log:"
	journalctl -u kvmtuned --no-pager -o cat 2>/dev/null | tail -n 25 | sed "s/^/  /"
	echo "$failures check(s) failed"
	exit 1
fi
echo "all checks passed"
