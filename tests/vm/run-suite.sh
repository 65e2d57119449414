#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs kvmtune's suites inside a systemd 252 guest: builds the guest image (cached; one image
# serves every layout), builds kvmtune as it ships (meson's defaults: no sanitizers, which the
# guest has no runtimes for), ships the sources and the build over the 9p share (and the
# package, and the shared libvirt corpus when there), boots the guest on the cgroup layout
# VM_CGROUP names (unified, the default: pure v2; hybrid; legacy: see run-vm.sh), runs every
# test there, and prints each result, the line "guest: N passed, N failed, N skipped" and the
# stage's elapsed time. Exits 0 only when nothing failed. Each test's whole output stays in
# build-vm/suite-LAYOUT/logs/.
# Usage: [VM_CGROUP=LAYOUT] tests/vm/run-suite.sh [TIMEOUT_S [FILTER]]   (as root, from anywhere
# in the repository); FILTER, a regular expression, runs only the tests whose name matches it.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
timeout=${1:-1200}
layout=${VM_CGROUP:-unified}
export VM_CGROUP=$layout
image=$top/build-vm/image
share=$top/build-vm/suite-$layout
cd "$top"
start=$SECONDS

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
booted=$SECONDS
tests/vm/run-vm.sh "$image" "$share" "$timeout" || rc=$?
cat "$share/out.log" 2>/dev/null || true
if [ "$rc" = 125 ]; then
	echo "the guest did not finish (boot failure or timeout); console:"
	tail -n 30 "$share/console.log" 2>/dev/null || true
	echo "guest: 0 passed, 1 failed, 0 skipped"
fi
# The host's load beside the figure: TCG uses both cores, and the machine is shared.
echo "guest stage $layout: $((SECONDS - start)) s ($((SECONDS - booted)) s in the guest), load $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$rc"
