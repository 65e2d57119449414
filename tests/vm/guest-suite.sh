#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Inside the guest (run by harness.service from the 9p share): every kvmtune test with systemd
# 252 as PID 1, on the cgroup layout the guest was booted with (run-vm.sh VM_CGROUP: unified,
# hybrid or legacy). The binaries were built on the host with the host's source path compiled
# in, so that path is made to point at the share. Each test's whole output: logs/NAME.log.
set -uo pipefail

share=$(pwd)
host_top=$(cat "$share/host-top")
mkdir -p "$(dirname "$host_top")"
ln -sfn "$share/src" "$host_top"
cd "$host_top"
build=$host_top/build-guest
passed=0 failed=0 skipped=0

# shellcheck source=tests/live.sh
. tests/live.sh
layout=$(cgroup_layout)
echo "guest: $(uname -r), PID 1 $(cat /proc/1/comm), cgroup $layout ($(stat -fc %T /sys/fs/cgroup)), systemd $(systemctl --version | head -1 | cut -d' ' -f2)"
echo "guest: $(systemctl is-system-running 2>&1), NUMA nodes $(cat /sys/devices/system/node/online), CPUs $(cat /sys/devices/system/cpu/online)"

filter=$(cat "$share/filter" 2>/dev/null || echo .)
test_timeout=${KVMTUNE_TEST_TIMEOUT:-600} # the slowest, faults-live, takes 2 minutes here
mkdir -p "$share/logs"

run() { # NAME COMMAND...
	local name=$1 rc=0 out t0=$SECONDS took
	shift
	grep -qE -- "$filter" <<<"$name" || return 0
	# A test that hangs is one failure with its output, not the stage's whole time.
	out=$(timeout -k 10 "$test_timeout" "$@" 2>&1) || rc=$?
	[ "$rc" != 124 ] || out+=$'\n'"FAIL: timed out after $test_timeout s (KVMTUNE_TEST_TIMEOUT)"
	took="$((SECONDS - t0)) s"
	printf '%s\n' "$out" >"$share/logs/${name//[^A-Za-z0-9_.-]/_}.log" # the whole output, on the host
	case $rc in
	0)
		passed=$((passed + 1))
		echo "PASS $name$(grep -q '^ok: ' <<<"$out" && echo " ($(grep -c '^ok: ' <<<"$out") checks, $(grep -c '^skipped: ' <<<"$out") skipped parts)") [$took]"
		grep '^info: ' <<<"$out" | sed 's/^info: /    /' # figures a test reports
		;;
	77) skipped=$((skipped + 1)); echo "SKIP $name: $(grep -m1 skipped <<<"$out") [$took]" ;;
	*)
		failed=$((failed + 1))
		echo "FAIL $name (exit $rc) [$took]"
		grep -A4 '^FAIL: ' <<<"$out" | sed 's/^/    /' | head -n 80 # every failed check
		echo "    ... the end of its output:"
		sed 's/^/    /' <<<"$out" | tail -n 40
		;;
	esac
}

for t in "$build"/tests/test-*; do
	[ -x "$t" ] && [ -f "$t" ] && run "unit $(basename "$t")" "$t"
done
# The golden policies and imports are pure parsing, the same on every layout: the v1 stages
# leave them to the host and the unified guest (they take about 2 minutes of a stage).
if [ "$layout" = unified ]; then
	for c in tests/policy/*.yaml; do
		run "golden $(basename "$c" .yaml)" tests/run-golden.sh "$build/tools/kvmtunectl" "$c"
	done
	for c in tests/libvirt/*.xml; do
		run "golden import-$(basename "$c" .xml)" tests/run-import.sh "$build/tools/kvmtunectl" "$c"
	done
	[ -d "$share/libvirt-domains" ] && export KVMTUNE_LIBVIRT_CORPUS=$share/libvirt-domains
	# A sample: the host runs the whole corpus; here each process start costs seconds (TCG).
	KVMTUNE_CORPUS_EVERY=12 run "import-corpus" tests/test-import-corpus.sh "$build/tools/kvmtunectl"
elif grep -qE -- "$filter" <<<"golden"; then
	skipped=$((skipped + 1))
	echo "SKIP golden ($(find tests/policy -name '*.yaml' | wc -l) policies, $(find tests/libvirt -name '*.xml' | wc -l) imports, the corpus): pure parsing, run on the host and in the unified guest"
fi
run "cli" tests/test-cli.sh "$build/tools/kvmtunectl"
run "conf" tests/test-conf.sh "$build/tools/kvmtunectl"
run "set-cli" tests/test-set-cli.sh "$build/tools/kvmtunectl"
run "discover-live" python3 tests/test-discover-live.py "$build/tools/kvmtunectl"
run "apply-live" python3 tests/test-apply-live.py "$build/tools/kvmtunectl"
run "daemon-live" python3 tests/test-daemon-live.py "$build/daemon/kvmtuned" "$build/tools/kvmtunectl"
run "state-live" python3 tests/test-state-live.py "$build/tools/kvmtunectl"
run "set-live" python3 tests/test-set-live.py "$build/daemon/kvmtuned" "$build/tools/kvmtunectl"
run "effect-live" python3 tests/test-effect-live.py "$build/daemon/kvmtuned" "$build/tools/kvmtunectl"
run "disks-live" python3 tests/test-disks-live.py "$build/daemon/kvmtuned" "$build/tools/kvmtunectl"
run "hostile-live" python3 tests/test-hostile-live.py "$build/daemon/kvmtuned" "$build/tools/kvmtunectl" \
	"$build/tests/qemu-system-standin"
run "faults-live" python3 tests/test-faults-live.py "$build/daemon/kvmtuned" "$build/tools/kvmtunectl" \
	"$build/tests/bench/fakevm"
run "mounts-live" python3 tests/test-mounts-live.py "$build/daemon/kvmtuned" "$build/tools/kvmtunectl" # skips on unified
run "netns-live" python3 tests/test-netns-live.py "$build/daemon/kvmtuned" "$build/tools/kvmtunectl"
# The same suites again with the systemd backend: scopes, unit properties, machined (on v1:
# that kvmtune refuses it, and why).
KVMTUNE_TEST_BACKEND=systemd run "apply-live systemd" python3 tests/test-apply-live.py "$build/tools/kvmtunectl"
KVMTUNE_TEST_BACKEND=systemd run "daemon-live systemd" python3 tests/test-daemon-live.py "$build/daemon/kvmtuned" "$build/tools/kvmtunectl"
# What states and attacks look like through scopes needs scopes: on v1 the backend is refused
# (the two runs above prove that), and the cgroupfs runs cover these two suites there.
if [ "$layout" = unified ]; then
	KVMTUNE_TEST_BACKEND=systemd run "state-live systemd" python3 tests/test-state-live.py "$build/tools/kvmtunectl"
	KVMTUNE_TEST_BACKEND=systemd run "effect-live systemd" python3 tests/test-effect-live.py "$build/daemon/kvmtuned" "$build/tools/kvmtunectl"
	KVMTUNE_TEST_BACKEND=systemd run "disks-live systemd" python3 tests/test-disks-live.py "$build/daemon/kvmtuned" "$build/tools/kvmtunectl"
	KVMTUNE_TEST_BACKEND=systemd run "set-live systemd" python3 tests/test-set-live.py "$build/daemon/kvmtuned" "$build/tools/kvmtunectl"
	KVMTUNE_TEST_BACKEND=systemd run "hostile-live systemd" python3 tests/test-hostile-live.py \
		"$build/daemon/kvmtuned" "$build/tools/kvmtunectl" "$build/tests/qemu-system-standin"
	KVMTUNE_TEST_BACKEND=systemd run "faults-live systemd" python3 tests/test-faults-live.py \
		"$build/daemon/kvmtuned" "$build/tools/kvmtunectl" "$build/tests/bench/fakevm"
else
	for t in state-live effect-live disks-live set-live hostile-live faults-live; do
		if grep -qE -- "$filter" <<<"$t systemd"; then
			skipped=$((skipped + 1))
			echo "SKIP $t systemd: the systemd backend is v2-only; on $layout it is refused (apply-live systemd checks that)"
		fi
	done
fi
# The package first: systemd-live installs with meson install, which the package would meet.
KVMTUNE_THROWAWAY_HOST=1 run "deb" tests/test-deb-systemd.sh "$share/kvmtune.deb"
KVMTUNE_THROWAWAY_HOST=1 run "systemd-live" tests/test-systemd-live.sh "$build"
run "v1-delegation" tests/test-v1-delegation.sh # skips on unified

echo "guest: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
