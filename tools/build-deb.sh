#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds the Debian package from a clean copy of this tree (the files git tracks, as they are
# now): installs the build dependencies, runs `dpkg-buildpackage -us -uc -b` there and puts
# kvmtune_VERSION_ARCH.deb (and its .buildinfo and .changes) into OUTDIR, default build-deb/.
# Then, as root: apt-get install ./build-deb/kvmtune_*.deb
# Usage: tools/build-deb.sh [OUTDIR]
set -euo pipefail

cd "$(dirname "$0")/.."
top=$(pwd)
out=$(realpath -m "${1:-build-deb}")
tools/install-deps.sh deb

tmp=$(mktemp -d /tmp/kvmtune-deb-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/kvmtune"
git ls-files -z | xargs -0 cp --parents -P -t "$tmp/kvmtune"
(cd "$tmp/kvmtune" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 || {
	tail -n 60 "$tmp/build.log"
	echo "build-deb.sh: dpkg-buildpackage failed (the lines above end its log)" >&2
	exit 1
}
mkdir -p "$out"
rm -f "$out"/kvmtune*
cp "$tmp"/*.deb "$tmp"/kvmtune_*.buildinfo "$tmp"/kvmtune_*.changes "$out/"
cp "$tmp/build.log" "$out/build.log"
ls "$out"/kvmtune_*.deb
