#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The main job (README): a real QEMU VM under kvmtuned with an example policy, and the loop an
# administrator lives in: the policy -> kvmtuned enforces it -> `kvmtunectl status` says
# enforced -> someone changes things by hand (taskset on a vCPU, a cgroup file edited) ->
# `status`/`verify` say drift, naming each difference -> kvmtuned reverts it -> enforced.
#
# Everything it makes is its own: the configuration in a temporary directory, the VM groups
# below the parent kvmtunedemo.slice, one QEMU and one kvmtuned, ended by PID at the end, and
# the groups removed. Its one policy fits its own VM only (by name and a fresh uuid), and the
# shipped 00-defaults.yaml, which fits every VM, is left out: the host's other VMs are left as
# they are. KVM when /dev/kvm is usable, TCG otherwise.
set -euo pipefail

cd "$(dirname "$0")/.."
tools/install-deps.sh demo
# The build as it ships (tools/test.sh keeps build/ for the sanitizer build).
[ -f build-release/build.ninja ] || meson setup build-release >/dev/null
ninja -C build-release >/dev/null
ctl=$(pwd)/build-release/tools/kvmtunectl
daemon=$(pwd)/build-release/daemon/kvmtuned

parent=kvmtunedemo.slice
interval=10
tmp=$(mktemp -d /tmp/kvmtune-demo-XXXXXX)
qemu_pid= daemon_pid=
cleanup() {
	[ -z "$daemon_pid" ] || kill "$daemon_pid" 2>/dev/null || true
	[ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null || true
	wait 2>/dev/null || true
	if [ -d "$tmp/etc" ]; then # the VM has ended: apply removes its groups
		"$ctl" -C "$tmp/etc" apply -q >/dev/null 2>&1 || true
	fi
	systemctl stop "$parent" >/dev/null 2>&1 || true
	for d in /sys/fs/cgroup/$parent /sys/fs/cgroup/*/$parent; do
		[ ! -d "$d" ] || rmdir "$d" 2>/dev/null || echo "note: $d is left: $(ls "$d" | head -3)"
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
ctl() { "$ctl" -C "$tmp/etc" "$@"; }
say() { printf '\n== %s\n' "$*"; }
show() { # COMMAND...: print it as typed, then run it
	echo "\$ kvmtunectl $*"
	ctl "$@"
}

accel=tcg
[ -w /dev/kvm ] && accel=kvm
qemu=/usr/bin/qemu-system-x86_64
uuid=$(cat /proc/sys/kernel/random/uuid)
"$qemu" -name guest=web-demo,debug-threads=on -uuid "$uuid" -accel "$accel" -smp 2 -m 128 \
	-display none -nodefaults -qmp "unix:$tmp/qmp.sock,server=on,wait=off" &
qemu_pid=$!
for _ in $(seq 50); do
	[ "$(grep -l '^CPU 1/' /proc/$qemu_pid/task/*/comm 2>/dev/null | wc -l)" -ge 1 ] && break
	sleep 0.1
done
say "A real QEMU VM (accel $accel$([ $accel = kvm ] || echo ': /dev/kvm is not usable here')), pid $qemu_pid, and its threads:"
ps -L -o tid=,comm= -p "$qemu_pid" | sed 's/^/   /'

say "The configuration: the shipped settings, and a policy for this VM"
install -d -m 0755 "$tmp/etc/policy.d"
sed -e "s/^cgroup_parent: .*/cgroup_parent: $parent/" \
	-e "s/^rescan_interval: .*/rescan_interval: ${interval}s/" conf/kvmtuned.yaml \
	>"$tmp/etc/kvmtuned.yaml"
last=$(($(nproc) - 1))
cat >"$tmp/etc/policy.d/50-web.yaml" <<YAML
# The web VMs: twice the default CPU weight, at most 1.5 CPUs, vCPU 0 on the last CPU,
# the emulator threads on CPU 0, 512 MiB. (For the demo, this very VM only: on a host of
# yours, name: "web-*" alone.)
match:
  name: "web-*"
  uuid: "$uuid"
cputune:
  shares: 2048
  global_quota: 150000
  vcpupin:
    - { vcpu: 0, cpuset: "$last" }
  emulatorpin: "0"
memtune:
  hard_limit: 512M
YAML
chmod 0644 "$tmp/etc/kvmtuned.yaml" "$tmp/etc/policy.d/50-web.yaml"
sed 's/^/   /' "$tmp/etc/policy.d/50-web.yaml"
echo "   (kvmtuned.yaml: cgroup_parent $parent, rescan_interval ${interval}s)"
show check

say "Before kvmtuned runs: nothing is enforced yet"
show list

say "kvmtuned starts and enforces the policy (its log, first lines):"
"$daemon" -C "$tmp/etc" --runtime-dir "$tmp/run" 2>"$tmp/kvmtuned.log" &
daemon_pid=$!
for _ in $(seq 300); do
	ctl verify -q web-demo && break
	sleep 0.1
done
head -n 8 "$tmp/kvmtuned.log" | sed 's/^/   /'
echo "   ... ($(wc -l <"$tmp/kvmtuned.log") lines)"
show verify web-demo
show status web-demo

say "By hand: vCPU 1 moved with taskset, the VM's CPU weight edited in its cgroup file"
vcpu1=$(grep -l '^CPU 1/' /proc/$qemu_pid/task/*/comm | cut -d/ -f5)
group=$(ctl status --json web-demo | sed -n 's/^ *"vm_group": "\(.*\)",$/\1/p' | sed 's/\\\\/\\/g')
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	weight=/sys/fs/cgroup/$group/cpu.weight default=100
else
	weight=/sys/fs/cgroup/cpu/$group/cpu.shares default=1024
fi
for attempt in 1 2 3; do
	echo "\$ taskset -p -c 0 $vcpu1"
	taskset -p -c 0 "$vcpu1" | sed 's/^/   /'
	echo "\$ echo $default > $weight"
	echo "$default" >"$weight"
	if ! ctl verify -q web-demo; then
		break
	fi
	# kvmtuned's rescan came between the change and the look: do it again.
	echo "   (kvmtuned reverted it before verify looked; once more)"
done
show verify web-demo || echo "(exit status $?)"
ctl status web-demo | sed -n '/^  state:/p; /^  drift:/,/^$/p'

say "kvmtuned finds the drift at its next rescan (every ${interval}s) and reverts it:"
lines=$(wc -l <"$tmp/kvmtuned.log")
for _ in $(seq $((interval * 30))); do
	ctl verify -q web-demo && break
	sleep 0.1
done
tail -n +$((lines + 1)) "$tmp/kvmtuned.log" | sed 's/^/   /'
show verify web-demo
ctl status web-demo | sed -n '/^  state:/p; /^  TID/,/^$/p; /^  schedinfo/,/^  memtune/p' | sed '$d'

say "Done: kvmtuned (pid $daemon_pid) and the VM (pid $qemu_pid) are ended now, their groups removed."
