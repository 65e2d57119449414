#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The shipped configuration is a test: conf/kvmtuned.yaml, the defaults policy and every
# example must check clean (on the fixture host with CPUs 0-7 and nodes 0-1), and what
# check -v prints must check again. /dev/sda in the examples becomes a block device node of
# the test's own. Usage: test-conf.sh KVMTUNECTL
set -euo pipefail

ctl=$1
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/kvmtune-conf-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if [ "$(id -u)" != 0 ]; then
	echo "skipped: needs root (a block device node for the examples; root-owned files)"
	exit 77
fi
mknod "$tmp/disk" b 7 0
mkdir -m 0755 "$tmp/etc" "$tmp/etc/policy.d"
cp "$src/conf/kvmtuned.yaml" "$tmp/etc/"
cp "$src/conf/policy.d/"*.yaml "$tmp/etc/policy.d/"
for f in "$src/conf/examples/"*.yaml; do
	sed "s|/dev/sda|$tmp/disk|" "$f" >"$tmp/etc/policy.d/$(basename "$f")"
done
chmod 0644 "$tmp/etc/kvmtuned.yaml" "$tmp/etc/policy.d/"*.yaml

"$ctl" --sys-root "$src/tests/sysfs/numa2" -C "$tmp/etc" check
"$ctl" --sys-root "$src/tests/sysfs/numa2" -C "$tmp/etc" check -v >"$tmp/normalized.yaml"
n=$(grep -c '^---$' "$tmp/normalized.yaml")
echo "$n documents normalized"
[ "$n" = 8 ] || { echo "FAIL: expected 8 documents (defaults + 7 examples), got $n"; exit 1; }
chmod 0644 "$tmp/normalized.yaml"
"$ctl" --sys-root "$src/tests/sysfs/numa2" check "$tmp/normalized.yaml"
echo "ok: the shipped configuration checks, and so does its normalized form"
