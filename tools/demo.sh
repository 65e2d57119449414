#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The main job (README): builds kvmtune, starts a real QEMU VM, checks the shipped example
# policies and shows the policy that VM gets, with where each value comes from.
#
# What exists today: the policy language (issue 2) and discovery (issue 3: `list`, `status`,
# `show VM`). Enforcement (`apply`, `run`) and the daemon kvmtuned come with the next issues;
# this script grows with them. It starts one QEMU and ends it, by PID; it changes no cgroup.
set -euo pipefail

cd "$(dirname "$0")/.."
tools/install-deps.sh demo
# The build as it ships (tools/test.sh keeps build/ for the sanitizer build).
[ -f build-release/build.ninja ] || meson setup build-release >/dev/null
ninja -C build-release >/dev/null
ctl=$(pwd)/build-release/tools/kvmtunectl

tmp=$(mktemp -d /tmp/kvmtune-demo-XXXXXX)
qemu_pid=
cleanup() {
	[ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

accel=tcg
[ -w /dev/kvm ] && accel=kvm
qemu=/usr/bin/qemu-system-x86_64
"$qemu" -name guest=web-demo,debug-threads=on -accel "$accel" -smp 2 -m 128 \
	-display none -nodefaults -qmp "unix:$tmp/qmp.sock,server=on,wait=off" &
qemu_pid=$!
sleep 1.5
echo "== A real QEMU VM (accel $accel), pid $qemu_pid, and its threads:"
ps -L -o tid=,comm= -p "$qemu_pid" | sed 's/^/   /'

echo
echo "== The configuration: the shipped defaults and examples (examples/ into policy.d/)"
install -d -m 0755 "$tmp/etc/policy.d"
install -m 0644 conf/kvmtuned.yaml "$tmp/etc/"
install -m 0644 conf/policy.d/*.yaml "$tmp/etc/policy.d/"
# The blkiotune example names /dev/sda; use this host's first disk instead.
disk=/dev/$(lsblk -dn -o NAME,TYPE | awk '$2 == "disk" { print $1; exit }')
for f in conf/examples/*.yaml; do
	sed "s|/dev/sda|$disk|" "$f" >"$tmp/etc/policy.d/$(basename "$f")"
	chmod 0644 "$tmp/etc/policy.d/$(basename "$f")"
done
# The examples pin CPUs 0-7; check them against this host only if it has that many.
sysroot=()
if [ "$(nproc --all)" -lt 8 ]; then
	echo "   (this host has $(nproc --all) CPUs; checking the examples as if it had 8 CPUs and 2 NUMA nodes)"
	sysroot=(--sys-root tests/sysfs/numa2)
fi
ls "$tmp/etc/policy.d" | sed 's/^/   /'
echo "\$ kvmtunectl check"
"$ctl" "${sysroot[@]}" -C "$tmp/etc" check

echo
echo "== A policy for this VM, then the effective policy it gets:"
cat >"$tmp/etc/policy.d/90-web-demo.yaml" <<'YAML'
match:
  name: "web-*"
cputune:
  vcpupin:
    - { vcpu: 0, cpuset: "1" }
memtune:
  hard_limit: 512M
YAML
chmod 0644 "$tmp/etc/policy.d/90-web-demo.yaml"
exe=$(readlink "/proc/$qemu_pid/exe")
echo "\$ kvmtunectl show --match name=web-demo,user=root,binary=$exe"
"$ctl" "${sysroot[@]}" -C "$tmp/etc" show --match "name=web-demo,user=root,binary=$exe"

echo
echo "\$ kvmtunectl list"
"$ctl" "${sysroot[@]}" -C "$tmp/etc" list
echo
echo "\$ kvmtunectl status web-demo"
"$ctl" "${sysroot[@]}" -C "$tmp/etc" status web-demo

echo
echo "== A mistake, as an administrator would see it:"
printf 'cputune:\n  vcpupin:\n    - { vcpu: 0, cpuset: "9-3" }\nmemtune:\n  hard_limit: 1X\n' \
	>"$tmp/etc/policy.d/95-typo.yaml"
chmod 0644 "$tmp/etc/policy.d/95-typo.yaml"
echo "\$ kvmtunectl check"
"$ctl" "${sysroot[@]}" -C "$tmp/etc" check || echo "(exit status $?)"

echo
echo "Not yet: kvmtuned and 'kvmtunectl apply/run' (enforcement is the next issue), so the"
echo "state above says 'unenforced'. The VM (pid $qemu_pid) is ended now."
