#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Golden test of one policy file: run-golden.sh KVMTUNECTL CASE.yaml
#   bad-*.yaml: `kvmtunectl check` must exit 1 and print exactly CASE.err on stderr.
#   ok-*.yaml:  `kvmtunectl check -v` must exit 0 and print exactly CASE.ok on stdout, and that
#               output must check again to the same documents (the round trip). Its warnings on
#               stderr must be exactly CASE.warn (none when there is no such file).
#   bad-settings-*.yaml: checked as the settings file kvmtuned.yaml, else as bad-*.yaml.
# The host is the fixture tests/sysfs/numa2 (CPUs 0-7, NUMA nodes 0-1). @TMP@ in a case stands
# for the test's private directory, where @TMP@/disk is a block device node (root only).
# KVMTUNE_GOLDEN_UPDATE=1 rewrites the expected file instead of comparing (then review the diff).
set -eu

ctl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
case_file=$2
src=$(cd "$(dirname "$0")" && pwd)
name=$(basename "$case_file" .yaml)
tmp=$(mktemp -d /tmp/kvmtune-golden-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if grep -q '@TMP@/disk' "$case_file"; then
	if [ "$(id -u)" != 0 ]; then
		echo "skipped: $name needs root to create a block device node"
		exit 77
	fi
	mknod "$tmp/disk" b 7 0
fi
file=$name.yaml
case "$name" in bad-settings-*) file=kvmtuned.yaml ;; esac
sed "s|@TMP@|$tmp|g" "$case_file" >"$tmp/$file"
chmod 0644 "$tmp/$file"

cd "$tmp"
run() {
	rc=0
	"$ctl" --sys-root "$src/sysfs/numa2" check "$@" >stdout 2>stderr || rc=$?
	sed -i "s|$tmp|@TMP@|g" stdout stderr
}

compare() { # EXPECTED ACTUAL
	if [ "${KVMTUNE_GOLDEN_UPDATE:-}" = 1 ]; then
		cp "$2" "$1"
		echo "updated $1"
	elif ! diff -u "$1" "$2"; then
		echo "FAIL: $name: output differs from $(basename "$1")"
		exit 1
	fi
}

case "$name" in
bad-*)
	run "$file"
	cat stderr
	[ "$rc" = 1 ] || { echo "FAIL: $name: exit status $rc, expected 1"; exit 1; }
	[ ! -s stdout ] || { echo "FAIL: $name: unexpected output on stdout"; cat stdout; exit 1; }
	compare "$src/policy/$name.err" stderr
	;;
ok-*)
	run -v "$name.yaml"
	cat stdout stderr
	[ "$rc" = 0 ] || { echo "FAIL: $name: exit status $rc, expected 0"; exit 1; }
	compare "$src/policy/$name.ok" stdout
	grep -vx 'configuration OK' stderr >warnings || true
	if [ -f "$src/policy/$name.warn" ] || [ -s warnings ]; then
		compare "$src/policy/$name.warn" warnings
	fi
	# Round trip: the normalized text parses again to the same documents.
	sed "s|@TMP@|$tmp|g" stdout >again.yaml
	chmod 0644 again.yaml
	grep -v '^# ' stdout >first || true
	run -v again.yaml
	[ "$rc" = 0 ] || { echo "FAIL: $name: the normalized output does not check again"; cat stderr; exit 1; }
	grep -v '^# ' stdout >second || true
	diff -u first second || { echo "FAIL: $name: round trip changed the policy"; exit 1; }
	;;
*)
	echo "FAIL: $name: a golden case is named bad-* or ok-*"
	exit 1
	;;
esac
echo "ok $name"
