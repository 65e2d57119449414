#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Golden test of `kvmtunectl import-libvirt`: run-import.sh KVMTUNECTL CASE.xml
#   The import runs on the fixture host tests/sysfs/numa2 (CPUs 0-7, NUMA nodes 0-1). Its stdout
#   must be exactly CASE.yaml and its stderr exactly CASE.err; with a CASE.yaml it must exit 0
#   and its output must pass `kvmtunectl check` on the same host, without one exit 1.
# @TMP@ in a case stands for the test's private directory, where @TMP@/disk is a block device
# node (root only). KVMTUNE_GOLDEN_UPDATE=1 rewrites the expected files (then review the diff).
set -eu

ctl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
case_file=$2
src=$(cd "$(dirname "$0")" && pwd)
name=$(basename "$case_file" .xml)
expected=$src/libvirt/$name
tmp=$(mktemp -d /tmp/kvmtune-import-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if [ "$(id -u)" != 0 ]; then
	echo "skipped: $name needs root (a block device node; check wants root-owned files)"
	exit 77
fi
mknod "$tmp/disk" b 7 0
sed "s|@TMP@|$tmp|g" "$case_file" >"$tmp/$name.xml"

cd "$tmp"
rc=0
"$ctl" --sys-root "$src/sysfs/numa2" import-libvirt "$name.xml" >stdout 2>stderr || rc=$?
sed -i "s|$tmp|@TMP@|g" stdout stderr
cat stdout stderr

compare() { # EXPECTED ACTUAL
	if [ "${KVMTUNE_GOLDEN_UPDATE:-}" = 1 ]; then
		if [ -s "$2" ] || [ -e "$1" ]; then cp "$2" "$1"; echo "updated $1"; fi
	elif ! diff -u "$1" "$2"; then
		echo "FAIL: $name: output differs from $(basename "$1")"
		exit 1
	fi
}

if [ -e "$expected.yaml" ] || { [ "${KVMTUNE_GOLDEN_UPDATE:-}" = 1 ] && [ "$rc" = 0 ]; }; then
	[ "$rc" = 0 ] || { echo "FAIL: $name: exit status $rc, expected 0"; exit 1; }
	compare "$expected.yaml" stdout
	compare "$expected.err" stderr
	sed "s|@TMP@|$tmp|g" stdout >policy.yaml
	chmod 0644 policy.yaml
	"$ctl" --sys-root "$src/sysfs/numa2" check policy.yaml ||
		{ echo "FAIL: $name: the imported policy does not pass check"; exit 1; }
else
	[ "$rc" = 1 ] || { echo "FAIL: $name: exit status $rc, expected 1"; exit 1; }
	[ ! -s stdout ] || { echo "FAIL: $name: a refused import printed a policy"; exit 1; }
	compare "$expected.err" stderr
fi
echo "ok $name"
