#!/bin/bash
# Smoke test of the VM harness; runs inside the guest as root (cwd = share).
# Usage on the host: [VM_CGROUP=unified|hybrid|legacy] tests/vm/run-vm.sh VMDIR tests/vm/smoke [TIMEOUT_S]
# Checks everything the kvmtune VM tests rely on, the cgroup layout the kernel command line
# asked for among them; exits 0 only if all pass.
set -uo pipefail   # no -e: every check runs, failures are counted

up() { cut -d' ' -f1 /proc/uptime; }
echo "run.sh started at guest uptime $(up) s; kernel $(uname -r)"
t0=${EPOCHREALTIME/./}

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
check() {   # check DESCRIPTION COMMAND...
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}
section() { printf '\n== %s\n' "$*"; }

section "PID 1"
pid1=$(cat /proc/1/comm)
echo "comm=$pid1 exe=$(readlink /proc/1/exe)"
systemctl --version | sed -n 1p
check "PID 1 is systemd" test "$pid1" = systemd

# The layout run-vm.sh asked for (VM_CGROUP) is on the kernel command line.
layout=unified
if grep -qw 'systemd.unified_cgroup_hierarchy=0' /proc/cmdline; then
    layout=hybrid
    grep -qw 'systemd.legacy_systemd_cgroup_controller=1' /proc/cmdline && layout=legacy
fi
section "cgroup layout $layout"
fstype=$(stat -f -c %T /sys/fs/cgroup)
echo "/sys/fs/cgroup: $fstype"
if [[ $layout == unified ]]; then
    check "/sys/fs/cgroup is cgroup2fs" test "$fstype" = cgroup2fs
    controllers=$(cat /sys/fs/cgroup/cgroup.controllers)
    echo "cgroup.controllers: $controllers"
    echo "cgroup.subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
    for c in cpu cpuset memory io pids; do
        check "controller $c available" grep -qw "$c" /sys/fs/cgroup/cgroup.controllers
    done
    check "no cgroup v1 mounts" test -z "$(awk '$3 == "cgroup"' /proc/self/mounts)"
else
    check "/sys/fs/cgroup is a tmpfs of v1 mounts" test "$fstype" = tmpfs
    for c in cpu cpuset memory blkio pids; do
        check "v1 hierarchy $c mounted" test "$(stat -f -c %T "/sys/fs/cgroup/$c/")" = cgroupfs
    done
    if [[ $layout == hybrid ]]; then
        check "systemd's tree on cgroup2 at /sys/fs/cgroup/unified" \
            test "$(stat -f -c %T /sys/fs/cgroup/unified)" = cgroup2fs
    else
        check "no cgroup2 mount" test -z "$(awk '$3 == "cgroup2"' /proc/self/mounts)"
    fi
fi
grep cgroup /proc/self/mounts | sed 's/^/    /'

section "systemd state"
state=$(timeout 300 systemctl is-system-running --wait)
echo "is-system-running: $state (at uptime $(up) s)"
check "system is running" test "$state" = running
[[ $state == running ]] || systemctl --failed --no-pager
systemd-analyze time --no-pager

section "NUMA"
ls /sys/devices/system/node
nodes=$(find /sys/devices/system/node -maxdepth 1 -name 'node[0-9]*' | wc -l)
check "2 NUMA nodes" test "$nodes" -eq 2
for n in 0 1; do
    cpus=$(cat "/sys/devices/system/node/node$n/cpulist")
    echo "node$n cpus: $cpus"
    check "node$n has cpu $n" test "$cpus" = "$n"
done
numactl --hardware

section "nested qemu"
qemu-system-x86_64 -S -display none -nodefaults -m 64 \
    -name guest=t1,debug-threads=on </dev/null >/tmp/qemu-t1.log 2>&1 &
qpid=$!
q0=${EPOCHREALTIME/./}
found=0
for _ in $(seq 600); do   # up to 60 s
    if grep -qx 'CPU 0/TCG' /proc/"$qpid"/task/*/comm 2>/dev/null; then
        found=1
        break
    fi
    kill -0 "$qpid" 2>/dev/null || break
    sleep 0.1
done
q1=${EPOCHREALTIME/./}
echo "after $(((q1 - q0) / 1000)) ms, threads of qemu $qpid:"
cat /proc/"$qpid"/task/*/comm 2>/dev/null | sort | uniq -c
check "nested qemu has a 'CPU 0/TCG' thread" test "$found" -eq 1
kill "$qpid" 2>/dev/null
wait "$qpid" 2>/dev/null
[[ $found -eq 1 ]] || cat /tmp/qemu-t1.log

section "systemd-machined"
if out=$(timeout 60 busctl call org.freedesktop.machine1 /org/freedesktop/machine1 \
        org.freedesktop.machine1.Manager ListMachines 2>&1); then
    echo "ListMachines: $out"
    pass "machined answers ListMachines"
else
    echo "ListMachines: $out"
    fail "machined answers ListMachines"
fi

t1=${EPOCHREALTIME/./}
printf '\nrun.sh took %d ms; guest uptime %s s; %d failure(s)\n' \
    $(((t1 - t0) / 1000)) "$(up)" "$failures"
[[ $failures -eq 0 ]]
