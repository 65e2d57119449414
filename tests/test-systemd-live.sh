#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# kvmtuned installed and run by systemd, with the backend `backend: auto` chooses on this host's
# cgroup layout (skips unless PID 1 is systemd; the suite's guests are such hosts). `meson
# install`, the unit starts (Type=notify: READY after the first pass); a nested QEMU, run as
# nobody by a service of its own, is enforced, its memory moved to NUMA node 1 by numatune
# strict; `systemctl reload` returns only after re-enforcement; values survive `systemctl
# daemon-reload`; `systemctl status` shows STATUS=; the journal has the KVMTUNE_* fields;
# `systemctl stop` leaves the VM as it is. The unit's hardening holds what enforcing needs:
# kvmtuned runs in a network namespace of its own (PrivateNetwork=yes) with kvmtuned.socket's
# proc connector (process events are counted) and sock_diag (the VM's QMP socket is proven its
# own, and its disk throttled through it); `systemd-analyze security` exposure at most 2.0.
#   unified (pure v2): auto is systemd; the VM becomes a delegated scope in a nested slice
#     (kvmtune-test.slice lives in kvmtune.slice), registered with machined; its exit ends the
#     scope and the machine.
#   legacy, hybrid (v1 controllers): auto is cgroupfs and says why; the VM's groups are
#     kvmtune's below machine.slice (the default cgroup_parent) while systemd still counts the
#     VM as its service's; a new unit in machine.slice leaves them; when the service first gets
#     a CPU setting systemd moves the VM into the service's cpu group, and kvmtuned's rescan
#     puts it back and logs it; the VM's exit lets kvmtuned remove the groups.
# Installs into this host's /usr, /etc/kvmtune: for throwaway hosts.
# Usage: test-systemd-live.sh BUILDDIR
set -uo pipefail

build=$(cd "$1" && pwd)
# shellcheck source=tests/live.sh
. "$(dirname "$0")/live.sh"

if [ "$(cat /proc/1/comm)" != systemd ]; then
	echo "skipped: PID 1 is not systemd (the guests of tests/vm run this)"
	exit 77
fi
if [ "${KVMTUNE_THROWAWAY_HOST:-}" != 1 ]; then
	echo "skipped: installs kvmtuned system-wide; set KVMTUNE_THROWAWAY_HOST=1 on a host for that"
	exit 77
fi
layout=$(cgroup_layout)

unit='kvmtune-sd\x2dvm.scope'
service=sd-vm-qemu.service
if [ "$layout" = unified ]; then
	group=/sys/fs/cgroup/kvmtune.slice/kvmtune-test.slice/$unit
	cpuset=$group
	weight_file=$group/cpu.weight
	weights=(200 400) # shares 2048, 4096
	settings='backend: auto\ncgroup_parent: kvmtune-test.slice\nrescan_interval: 1h\n'
else
	group=machine.slice/$unit # below each v1 hierarchy
	cpuset=/sys/fs/cgroup/cpuset/$group
	weight_file=/sys/fs/cgroup/cpu/$group/cpu.shares
	weights=(2048 4096)
	# cgroup_parent: the default, machine.slice; a short rescan to put systemd's moves right
	settings='backend: auto\nrescan_interval: 2s\n'
fi
weight() { cat "$weight_file" 2>/dev/null; }
weight_is() { test "$(weight)" = "$1"; } # evaluated at each try
# Anonymous pages of pid on NUMA node 1, in percent of all its anonymous pages.
anon_on_node1() {
	awk '/anon=/ { for (i = 1; i <= NF; i++) if ($i ~ /^N[0-9]+=/) { split($i, kv, "="); n[kv[1]] += kv[2]; all += kv[2] } }
	     END { printf "%d\n", all ? 100 * n["N1"] / all : 0 }' "/proc/$1/numa_maps"
}
mostly_on_node1() { test "$(anon_on_node1 "$1")" -ge 95; }
machine_listed() { machinectl list --no-legend 2>/dev/null | grep -q '^sd-vm  *vm  *kvmtune'; }
not_listed() { ! machine_listed; }
unit_gone() { ! systemctl is-active --quiet "$unit"; }
socket_stopped() { ! systemctl is-active --quiet kvmtuned.socket && ! systemctl is-active --quiet kvmtuned; }
# The group of vCPU 0 in the cpu hierarchy (v1).
vcpu0_cpu_group() {
	local t
	for t in /proc/"$qemu"/task/*; do
		if grep -q '^CPU 0/' "$t/comm" 2>/dev/null; then
			awk -F: '$2 ~ /(^|,)cpu(,|$)/ { print $3 }' "$t/cgroup"
			return
		fi
	done
}
vcpu0_in() { test "$(vcpu0_cpu_group)" = "$1"; }
move_logged() {
	sleep 0.4 # journalctl is slow in the guest
	journalctl -u kvmtuned -o cat --no-pager | grep '^moved back the vcpu0 thread (tid' |
		grep -qF "into $group/vcpu0 (was in /system.slice/$service)"
}
would_change_none() { grep -q ' 0 would change' <(kvmtunectl apply --dry-run sd-vm); }
groups_gone() { ! test -e "/sys/fs/cgroup/cpu/$group" -o -e "$cpuset" -o -e "/sys/fs/cgroup/memory/$group"; }

echo "info: cgroup layout $layout"
check "meson install" meson install -C "$build" --no-rebuild --quiet
check "...installs kvmtuned, kvmtunectl and the unit" \
	test -x /usr/sbin/kvmtuned -a -x /usr/bin/kvmtunectl -a -n "$(systemctl cat kvmtuned 2>/dev/null)"
printf "%b" "$settings" >/etc/kvmtune/kvmtuned.yaml
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
disks:
  - { id: drive0, total_iops_sec: 500 }
EOF
chmod 0644 /etc/kvmtune/kvmtuned.yaml /etc/kvmtune/policy.d/10-sd.yaml
systemctl daemon-reload

# The VM runs first, as another user (the daemon's ProtectProc=invisible must still show it), in
# a service of its own (as qemu@.service units do), with its memory on node 0.
# Its QMP socket and disk: kvmtuned proves the socket the VM's own through sock_diag.
disk=$(mktemp /var/tmp/kvmtune-sd-disk-XXXXXX)
truncate -s 1M "$disk"
chmod 0644 "$disk"
qmp=/var/tmp/kvmtune-sd-vm-$$.qmp
systemd-run --quiet --unit=$service --uid=65534 --gid=65534 \
	numactl --membind=0 qemu-system-x86_64 -display none -nodefaults -m 128 -accel tcg -smp 2 \
	-name guest=sd-vm,debug-threads=on -qmp "unix:$qmp,server=on,wait=off" \
	-drive "if=none,id=drive0,file=$disk,format=raw,readonly=on" -device virtio-blk-pci,drive=drive0
sleep 3
qemu=$(systemctl show -p MainPID --value $service)
check "the VM runs as nobody in $service" test "$(stat -c %u "/proc/$qemu" 2>/dev/null)" = 65534
echo "info: before: $(anon_on_node1 "$qemu")% of QEMU's anonymous memory on node 1"

check "systemctl start kvmtuned (Type=notify) succeeds" systemctl start kvmtuned
check "the unit is active" systemctl is-active --quiet kvmtuned
if [ "$layout" = unified ]; then
	check "backend auto chose systemd (journal)" \
		grep -q 'backend: systemd (auto)' <(journalctl -u kvmtuned -o cat --no-pager)
else
	check "backend auto chose cgroupfs, saying why (journal: the hierarchy is $layout, not unified)" \
		grep -q "backend: cgroupfs (auto: the cgroup hierarchy is $layout .*not unified" \
		<(journalctl -u kvmtuned -o cat --no-pager)
	# ProcSubset=pid hides what libcgroup reads: the unit's kvmtuned reads mountinfo instead.
	check "the v1 hierarchies from /proc/self/mountinfo, cpu's at /sys/fs/cgroup/cpu,cpuacct (journal)" \
		grep -q "cgroup hierarchies (from /proc/self/mountinfo (libcgroup cannot read.*cpu,cpuacct at /sys/fs/cgroup/cpu,cpuacct" \
		<(journalctl -u kvmtuned -o cat --no-pager)
fi
check "the running VM is enforced (cpu weight ${weights[0]})" wait_for 60 weight_is "${weights[0]}"
daemon=$(systemctl show -p MainPID --value kvmtuned)
check "kvmtuned runs in a network namespace of its own (PrivateNetwork=yes)" \
	test "$(readlink "/proc/$daemon/ns/net")" != "$(readlink /proc/1/ns/net)"
check "...with kvmtuned.socket active beside it" systemctl is-active --quiet kvmtuned.socket
events() { kvmtunectl metrics | awk '$1 == "kvmtune_daemon_process_events_total" { print $2 }'; }
events_counted() { test "$(events)" -gt 0 2>/dev/null; }
check "...where the host's process events reach it (the proc connector from kvmtuned.socket)" \
	wait_for 60 events_counted
throttled() { kvmtunectl status sd-vm | grep -qE '^ *drive0 .*iops=500'; }
check "...and the VM's QMP socket is proven its own (sock_diag from kvmtuned.socket): drive0 throttled" \
	wait_for 60 throttled
if [ "$layout" = unified ]; then
	check "...in its scope, an active unit" systemctl is-active --quiet "$unit"
	check "...delegated, in kvmtune-test.slice" test \
		"$(systemctl show -p Delegate -p Slice --value "$unit" | sort | tr '\n' ' ')" = "kvmtune-test.slice yes "
	check "...whose unit carries the values (CPUWeight=200, MemoryMax=512M)" test \
		"$(systemctl show -p CPUWeight -p MemoryMax --value "$unit" | sort | tr '\n' ' ')" = "200 536870912 "
	check "systemd-cgls shows the scope" grep -qF "$unit" <(systemd-cgls --no-pager /kvmtune.slice)
	check "machinectl list shows the VM" wait_for 60 machine_listed
else
	check "...in kvmtune's groups below machine.slice (vCPU 0 in the cpu hierarchy)" \
		vcpu0_in "/$group/vcpu0"
	check "...which are no unit" test "$(systemctl show -p LoadState --value "$unit")" = not-found
	check "...while systemd still counts the VM as $service's" \
		test "$(systemctl show -p MainPID --value $service)" = "$qemu"
fi
check "numatune strict moved its memory to node 1 (numa_maps)" wait_for 60 mostly_on_node1 "$qemu"
echo "info: after: $(anon_on_node1 "$qemu")% on node 1; cpuset.mems $(cat "$cpuset/cpuset.mems")"
status=$(systemctl show -p StatusText --value kvmtuned)
echo "info: STATUS: $status"
check "systemctl shows the daemon's STATUS=" grep -q "VM(s)" <<<"$status"

sed -i 's/shares: 2048/shares: 4096/' /etc/kvmtune/policy.d/10-sd.yaml
check "systemctl reload kvmtuned succeeds" systemctl reload kvmtuned
check "...and returns after re-enforcement (cpu weight ${weights[1]} at once)" weight_is "${weights[1]}"
if [ "$layout" = unified ]; then
	check "...through the unit (CPUWeight=400)" test "$(systemctl show -p CPUWeight --value "$unit")" = 400
fi
systemctl daemon-reload
sleep 1
check "systemctl daemon-reload keeps every value (apply --dry-run: 0 would change)" would_change_none

if [ "$layout" != unified ]; then
	# systemd realizes machine.slice for a unit of its own there: kvmtune's groups stay.
	systemd-run --quiet --scope --slice=machine.slice -p CPUWeight=50 -p MemoryMax=100M sleep 30 &
	sibling=$!
	sleep 3
	check "a new unit in machine.slice (CPUWeight=, MemoryMax=) leaves the VM's groups" \
		test -d "/sys/fs/cgroup/cpu/$group/vcpu0" -a -d "$cpuset/vcpu0" -a -d "/sys/fs/cgroup/memory/$group" \
		-a -d "/sys/fs/cgroup/blkio/$group"
	kill $sibling 2>/dev/null
	wait $sibling 2>/dev/null
	# The service's first CPU setting: systemd moves its whole process into the service's
	# group of the cpu hierarchy; kvmtuned's next rescan puts every thread back.
	systemctl set-property --runtime $service CPUWeight=50
	t0=$SECONDS
	# A 2 s rescan may undo the move before a poll sees it: kvmtuned's log is the witness.
	check "systemd moved the VM into $service's cpu group at its first CPU setting; kvmtuned's rescan (every 2 s) put it back, logging where it had been" \
		wait_for 60 move_logged
	check "...vCPU 0 is in its group again" wait_for 60 vcpu0_in "/$group/vcpu0"
	echo "info: systemd's move was put right within $((SECONDS - t0 + 1)) s (rescan_interval 2s; guest load $(cut -d' ' -f1-3 /proc/loadavg))"
	sleep 3 # the rest of the rescan
	check "...after which nothing differs (apply --dry-run: 0 would change)" would_change_none
fi

journal=$(journalctl -u kvmtuned -o json --no-pager 2>/dev/null)
check "the journal has KVMTUNE_VM= for the VM" grep -q '"KVMTUNE_VM":"sd-vm"' <<<"$journal"
check "the journal has KVMTUNE_PID=" grep -q "\"KVMTUNE_PID\":\"$qemu\"" <<<"$journal"
check "the journal has KVMTUNE_POLICY=" grep -q '"KVMTUNE_POLICY":"/etc/kvmtune/policy.d/10-sd.yaml' <<<"$journal"

check "systemctl stop kvmtuned" systemctl stop kvmtuned
check "...stops kvmtuned.socket with it (PartOf=): no process event starts it again" \
	wait_for 10 socket_stopped
check "...leaves the VM running and enforced" test "$(weight)" = "${weights[1]}" -a -d "/proc/$qemu"
security=$(systemd-analyze security --no-pager kvmtuned.service 2>/dev/null)
exposure=$(tail -n 1 <<<"$security")
echo "info: $layout: ${exposure}"
grep -E '^✗' <<<"$security" | sed 's/^/    /' | head -n 40
check "systemd-analyze security: exposure at most 2.0" \
	awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+$/) exit !($i <= 2.0) }' <<<"$exposure"

systemctl stop $service 2>/dev/null
if [ "$layout" = unified ]; then
	check "the VM's exit ends its scope" wait_for 60 unit_gone
	check "...and machined forgets it" wait_for 60 not_listed
	systemctl stop kvmtune-test.slice kvmtune.slice 2>/dev/null
else
	# systemd may trim machine.slice's cpu groups itself once they are empty (its v1 rule for
	# a hierarchy a slice stops needing); the cpuset ones are never systemd's.
	check "the VM's cpuset groups stay while no kvmtuned runs" test -d "$cpuset"
	check "...kvmtuned's first pass removes the VM's groups" systemctl start kvmtuned
	check "...all of them (cpu, cpuset, memory)" wait_for 60 groups_gone
	systemctl stop kvmtuned
fi
systemctl reset-failed $service 2>/dev/null
rm -f "$disk" "$qmp"
echo
if [ "$failures" -gt 0 ]; then
	echo "kvmtuned's log:"
	journalctl -u kvmtuned --no-pager -o cat 2>/dev/null | tail -n 25 | sed "s/^/  /"
	echo "$failures check(s) failed"
	exit 1
fi
echo "all checks passed"
