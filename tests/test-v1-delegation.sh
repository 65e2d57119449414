#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Why the systemd backend is v2-only (README, "cgroup v1 under systemd"), as facts of this host's
# systemd on cgroup v1: a transient scope with Delegate=yes gets groups in the cpu, memory and
# pids hierarchies but none in cpuset or blkio; the scope's own cpu.shares, cpu.cfs_quota_us and
# memory.limit_in_bytes written by hand go back to systemd's values at daemon-reload, while unit
# properties (CPUShares=, CPUQuota=, MemoryLimit=), memory.soft_limit_in_bytes and a group below
# the scope last; BlockIOReadBandwidth= on it limits a blkio group the process is not in. If a
# systemd changes any of this, this test fails: then the backend rule deserves a new look.
# Skips unless PID 1 is systemd on cgroup v1 (legacy or hybrid). Touches only its own slice and
# scope (a sleep it starts), and runs `systemctl daemon-reload`.
# Usage: test-v1-delegation.sh
set -uo pipefail

if [ "$(cat /proc/1/comm)" != systemd ]; then
	echo "skipped: PID 1 is not systemd (the v1 guests of tests/vm run this)"
	exit 77
fi
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
	echo "skipped: this host is pure cgroup v2; the test is about v1 (legacy, hybrid)"
	exit 77
fi
if ! [ -b /dev/vda ]; then
	echo "skipped: the blkio part names /dev/vda, which this host lacks"
	exit 77
fi

# shellcheck source=tests/live.sh
. "$(dirname "$0")/live.sh"

n=$((RANDOM * 32768 + RANDOM))
slice=kvmtunetest$n.slice
scope=kvmtunetest$n.scope
cg=/sys/fs/cgroup
g=$slice/$scope
systemd-run --quiet --scope --unit="$scope" --slice="$slice" -p Delegate=yes sleep 300 &
sleeper=$!
cleanup() {
	kill "$sleeper" 2>/dev/null
	wait "$sleeper" 2>/dev/null
	systemctl stop "$scope" "$slice" 2>/dev/null
}
trap cleanup EXIT
scope_active() { systemctl is-active --quiet "$scope"; }
check "a delegated scope runs (systemd-run --scope -p Delegate=yes)" wait_for 20 scope_active
echo "info: DelegateControllers=$(systemctl show -p DelegateControllers --value "$scope")"
for c in cpu memory pids; do
	check "...with a group of its own in the $c hierarchy" test -d "$cg/$c/$g"
done
for c in cpuset blkio; do
	check "...but none in the $c hierarchy (pinning and throttles would stay outside the unit)" \
		test ! -e "$cg/$c/$g"
done

# Values written by hand in the scope's own group, and a group of kvmtune's shape below it.
echo 2048 >"$cg/cpu/$g/cpu.shares"
echo 150000 >"$cg/cpu/$g/cpu.cfs_quota_us"
echo $((1 << 30)) >"$cg/memory/$g/memory.limit_in_bytes"
echo $((768 << 20)) >"$cg/memory/$g/memory.soft_limit_in_bytes"
mkdir "$cg/cpu/$g/vcpu0"
echo 50000 >"$cg/cpu/$g/vcpu0/cpu.cfs_quota_us"
echo "$sleeper" >"$cg/cpu/$g/vcpu0/tasks"
systemctl daemon-reload
sleep 1
shown="$(cat "$cg/cpu/$g/cpu.shares") $(cat "$cg/cpu/$g/cpu.cfs_quota_us") $(cat "$cg/memory/$g/memory.limit_in_bytes")"
echo "info: after daemon-reload, cpu.shares cpu.cfs_quota_us memory.limit_in_bytes: $shown"
check "daemon-reload puts the scope's own cpu.shares, quota and memory limit back (1024 -1 unlimited)" \
	test "$shown" = "1024 -1 9223372036854771712"
check "...keeps memory.soft_limit_in_bytes (no setting of systemd's)" \
	test "$(cat "$cg/memory/$g/memory.soft_limit_in_bytes")" = $((768 << 20))
check "...and the delegated group below the scope, with its quota and its task" \
	test "$(cat "$cg/cpu/$g/vcpu0/cpu.cfs_quota_us") $(cat "$cg/cpu/$g/vcpu0/tasks")" = "50000 $sleeper"

systemctl set-property --runtime "$scope" CPUShares=3000 CPUQuota=120% MemoryLimit=900M
systemctl daemon-reload
sleep 1
shown="$(cat "$cg/cpu/$g/cpu.shares") $(cat "$cg/cpu/$g/cpu.cfs_quota_us") $(cat "$cg/memory/$g/memory.limit_in_bytes")"
check "as unit properties (CPUShares=3000, CPUQuota=120%, MemoryLimit=900M) they last ($shown)" \
	test "$shown" = "3000 120000 943718400"

systemctl set-property --runtime "$scope" BlockIOReadBandwidth="/dev/vda 1M"
sleep 1
where=$(awk -F: '$2 == "blkio" { print $3 }' "/proc/$sleeper/cgroup")
echo "info: BlockIOReadBandwidth=: the scope's blkio group has '$(cat "$cg/blkio/$g/blkio.throttle.read_bps_device" 2>&1)', the process is in blkio:$where"
check "BlockIOReadBandwidth= on the scope limits a blkio group its process is not in" \
	test "$(cat "$cg/blkio/$g/blkio.throttle.read_bps_device" 2>/dev/null)" = "254:0 1000000" -a "$where" != "/$g"

kill "$sleeper"
wait "$sleeper" 2>/dev/null
scope_gone() { ! test -e "$cg/cpu/$g"; }
check "the scope's end removes its groups, the delegated one below included" wait_for 10 scope_gone
systemctl stop "$slice" 2>/dev/null
echo
if [ "$failures" -gt 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all checks passed"
