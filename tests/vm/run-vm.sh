#!/usr/bin/env bash
# run-vm.sh VMDIR SHAREDIR [TIMEOUT_S]
#
# Boots the guest built by build-vm.sh in VMDIR under QEMU TCG, with SHAREDIR
# shared over 9p (mount tag "host", mounted at /mnt/host in the guest). Once
# systemd has reached multi-user.target, harness.service runs SHAREDIR/run.sh as
# root (cwd = the share; output to SHAREDIR/out.log), writes its exit code to
# SHAREDIR/rc and powers off. The serial console goes to SHAREDIR/console.log.
#
# Exit status: run.sh's exit code, or 125 if the guest wrote no rc (boot
# failure, kernel panic, TIMEOUT_S reached; default 1200 s).
# The disk is opened with snapshot=on: every boot starts from the same image.
#
# Environment: QEMU (default qemu-system-x86_64); VM_KERNEL=vmlinuz to boot the
# compressed bzImage instead of the PVH vmlinux; VM_CGROUP, the cgroup layout systemd
# mounts: unified (default, pure v2), hybrid (v1 controllers, systemd's own tree also on
# v2 at /sys/fs/cgroup/unified) or legacy (v1 only, systemd's tree in name=systemd).
set -euo pipefail
export LC_ALL=C

die() { echo "run-vm: error: $*" >&2; exit 125; }
[[ $# -ge 2 && $# -le 3 ]] || { echo "usage: $0 VMDIR SHAREDIR [TIMEOUT_S]" >&2; exit 2; }
VMDIR=$(realpath -e -- "$1") || die "no such VMDIR: $1"
SHAREDIR=$(realpath -e -- "$2") || die "no such SHAREDIR: $2"
TIMEOUT=${3:-1200}
[[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "TIMEOUT_S must be a positive integer"
QEMU=${QEMU:-qemu-system-x86_64}
# systemd 252 reads these at boot (the same image serves every layout).
case ${VM_CGROUP:-unified} in
unified) cgroup_args="systemd.unified_cgroup_hierarchy=1" ;;
hybrid) cgroup_args="systemd.unified_cgroup_hierarchy=0" ;;
legacy) cgroup_args="systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=1" ;;
*) die "VM_CGROUP must be unified, hybrid or legacy, not '${VM_CGROUP}'" ;;
esac
command -v "$QEMU" >/dev/null || die "$QEMU not found (build-vm.sh installs qemu-system-x86)"

KERNEL=$VMDIR/${VM_KERNEL:-vmlinux}
[[ -s $KERNEL ]] || KERNEL=$VMDIR/vmlinuz   # build-vm.sh could not extract vmlinux
for f in "$KERNEL" "$VMDIR/initrd.img" "$VMDIR/root.img"; do
    [[ -s $f ]] || die "$f missing; run build-vm.sh $VMDIR first"
done
[[ -f $SHAREDIR/run.sh ]] || die "$SHAREDIR/run.sh missing"
rm -f "$SHAREDIR/rc" "$SHAREDIR/rc.tmp" "$SHAREDIR/out.log" "$SHAREDIR/console.log"

# qemu's option parser splits on ','; a literal comma is written ',,'.
q() { printf '%s' "${1//,/,,}"; }

# shellcheck disable=SC2054  # the commas belong to qemu's option syntax
args=(
    -name kvmtune-vm-test
    # KVM cannot boot a Linux guest on the CI machines (see README.md)
    -accel tcg
    -smp 2 -m 2G
    # two NUMA nodes: cpu 0 + 1 GiB on node 0, cpu 1 + 1 GiB on node 1
    -object memory-backend-ram,id=m0,size=1G
    -object memory-backend-ram,id=m1,size=1G
    -numa node,nodeid=0,cpus=0,memdev=m0
    -numa node,nodeid=1,cpus=1,memdev=m1
    -kernel "$KERNEL"
    -initrd "$VMDIR/initrd.img"
    -append "console=ttyS0 quiet panic=-1 harness=1 $cgroup_args"
    -drive "file=$(q "$VMDIR/root.img"),if=virtio,format=raw,cache=unsafe,snapshot=on"
    -virtfs "local,path=$(q "$SHAREDIR"),mount_tag=host,security_model=none,id=host"
    -nic none
    # a kernel panic (panic=-1 reboots at once) or a poweroff ends qemu
    -no-reboot
    -display none -vga none -monitor none
    -chardev "file,id=con0,path=$(q "$SHAREDIR/console.log")"
    -serial chardev:con0
)

start=${EPOCHREALTIME/./}
# timeout sends SIGTERM to qemu after TIMEOUT s, and SIGKILL 10 s later if it
# is still there. It runs in the background so that a signal to this script
# can be passed on (timeout forwards SIGTERM to qemu, with the same SIGKILL
# grace period); we always wait for it, so no qemu survives this script.
timeout --kill-after=10 "$TIMEOUT" "$QEMU" "${args[@]}" </dev/null &
tpid=$!
interrupted=0
trap 'interrupted=1; kill -TERM "$tpid" 2>/dev/null || true' INT TERM HUP
while :; do
    qrc=0
    wait "$tpid" || qrc=$?
    # wait returns early (status > 128) when a trapped signal arrives
    kill -0 "$tpid" 2>/dev/null || break
done
trap - INT TERM HUP
end=${EPOCHREALTIME/./}
secs=$(((end - start) / 1000000)).$(((end - start) / 100000 % 10))

rc=
[[ -f $SHAREDIR/rc ]] && rc=$(<"$SHAREDIR/rc")
if [[ $rc =~ ^[0-9]+$ ]]; then
    echo "run-vm: run.sh exited with $rc; VM ran ${secs} s" >&2
    exit "$rc"
fi
if [[ $interrupted -eq 1 ]]; then
    echo "run-vm: interrupted by a signal after ${secs} s; qemu stopped" >&2
elif [[ $qrc -eq 124 || $qrc -eq 137 ]]; then
    echo "run-vm: timed out after ${TIMEOUT} s without a result" >&2
else
    echo "run-vm: guest stopped after ${secs} s without a result (qemu status $qrc)" >&2
fi
if [[ -f $SHAREDIR/console.log ]]; then
    echo "run-vm: last lines of $SHAREDIR/console.log:" >&2
    tail -n 20 "$SHAREDIR/console.log" >&2
fi
exit 125
