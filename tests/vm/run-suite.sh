#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs kvmtune's suites inside the cgroup v2 + systemd guest: builds the guest image (cached),
# builds kvmtune as it ships (meson's defaults: no sanitizers, which the guest has no runtimes
# for), ships the sources and the build over the 9p share, runs every test there, and prints
# each result and the line
# "N passed, N failed, N skipped". Exits 0 only when nothing failed.
# Usage: tests/vm/run-suite.sh [TIMEOUT_S [FILTER]]   (as root, from anywhere in the
# repository); FILTER, a regular expression, runs only the tests whose name matches it.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
timeout=${1:-1200}
image=$top/build-vm/image
share=$top/build-vm/suite
cd "$top"

tests/vm/build-vm.sh "$image"
[ -f build-guest/build.ninja ] ||
	meson setup build-guest >/dev/null # what ships: the defaults, no sanitizers
ninja -C build-guest >/dev/null

rm -rf "$share"
mkdir -p "$share/src"
git ls-files -z | xargs -0 cp --parents -P -t "$share/src"
cp -a build-guest "$share/src/"
# The Debian package, for tests/test-deb-systemd.sh: KVMTUNE_DEB names one already built
# (tools/test.sh passes the one it tested), else it is built here when the filter wants it.
if grep -qE -- "${2:-.}" <<<"deb"; then
	deb=${KVMTUNE_DEB:-}
	if [ -z "$deb" ]; then
		tools/build-deb.sh "$top/build-deb" >/dev/null
		deb=$(ls "$top"/build-deb/kvmtune_*.deb)
	fi
	cp "$deb" "$share/kvmtune.deb"
fi
echo "$top" >"$share/host-top"
echo "${2:-.}" >"$share/filter"
cp tests/vm/guest-suite.sh "$share/run.sh"
# The shared corpus of libvirt domain XMLs, when it is there: test data for the guest's run,
# not part of the project (test-import-corpus.sh skips without it).
for c in "$top/../shared/corpus/libvirt-domains" "$top/../../shared/corpus/libvirt-domains" \
	/work/shared/corpus/libvirt-domains; do
	[ -d "$c" ] && { cp -r "$c" "$share/libvirt-domains"; break; }
done

rc=0
tests/vm/run-vm.sh "$image" "$share" "$timeout" || rc=$?
cat "$share/out.log" 2>/dev/null || true
if [ "$rc" = 125 ]; then
	echo "the guest did not finish (boot failure or timeout); console:"
	tail -n 30 "$share/console.log" 2>/dev/null || true
	echo "0 passed, 1 failed, 0 skipped"
fi
exit "$rc"
