#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The test command (README): installs what is missing, builds the development configuration
# (build-dev.ini: ASan+UBSan, -Werror) and runs every test suite, checks the formatting, builds
# what ships (a plain `meson setup`: optimized, no sanitizers) and runs the unit, golden and
# live tests there (the daemon's figures are the release build's), runs each libFuzzer target for
# FUZZ_SECONDS (default 60), builds the Debian package and installs, reinstalls, removes and
# purges it (tests/test-deb.sh), and runs every suite again, the package's included, inside a
# Debian 12 guest with systemd 252 as PID 1, booted in turn on each cgroup layout of
# KVMTUNE_GUEST_LAYOUTS (default "unified legacy hybrid": pure v2, v1, v1 with systemd's tree on
# v2; one image for all; tests/vm; KVMTUNE_SKIP_GUEST=1 leaves them out). Ends with each stage's
# elapsed time and the line "N passed, N failed, N skipped".
#
# Run as root on Debian 12: the tests create block device nodes and root-owned policy files in
# private temporary directories; they touch no cgroup and no process they did not start.
# tests/test-deb.sh installs the kvmtune package for a minute (never where systemd would start
# it, never over a kvmtune someone else installed) and purges it again.
set -uo pipefail

cd "$(dirname "$0")/.."
top=$(pwd)
fuzz_seconds=${FUZZ_SECONDS:-60}
stages=() # "NAME: N s (load ...)", for the closing note
stage_start=$SECONDS
stage_done() { # NAME: the time since the previous stage ended, beside the host's load
	stages+=("$1 $((SECONDS - stage_start)) s (load $(cut -d' ' -f1-3 /proc/loadavg))")
	stage_start=$SECONDS
}
passed=0
failed=0
skipped=0
failures=()

step() { # NAME COMMAND...: one pass or failure of its own
	local name=$1
	shift
	echo "=== $name"
	if "$@"; then
		passed=$((passed + 1))
		echo "--- ok: $name"
	else
		failed=$((failed + 1))
		failures+=("$name")
		echo "--- FAIL: $name"
	fi
}

# Counts meson's results from its JSON log: one line per test.
count_meson() { # BUILDDIR
	local counts
	counts=$(python3 - "$1/meson-logs/testlog.json" <<'PY'
import json, sys
p = f = s = 0
names = []
for line in open(sys.argv[1]):
    t = json.loads(line)
    r = t["result"]
    if r in ("OK", "EXPECTEDFAIL"):
        p += 1
    elif r == "SKIP":
        s += 1
    else:
        f += 1
        names.append(t["name"])
print(p, f, s, " ".join(names))
PY
	) || return 1
	read -r p f s names <<<"$counts"
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	[ -z "$names" ] || failures+=($names)
}

tools/install-deps.sh test deb || exit 1

echo "=== build (build-dev.ini: ASan+UBSan, -Werror)"
[ -f build/build.ninja ] || meson setup --native-file build-dev.ini build || exit 1
# A build/ set up another way (an older checkout's defaults, by hand) gets the test options.
meson configure build -Db_sanitize=address,undefined -Dwerror=true || exit 1
ninja -C build || { echo "1 passed, 1 failed"; exit 1; }
meson test -C build --print-errorlogs --num-processes 2
count_meson build

step "clang-format" bash -c 'git ls-files "*.c" "*.h" | xargs clang-format --dry-run --Werror'

# What ships: meson's defaults, no options. The live tests' figures come from this build.
release() {
	local rc=0
	[ -f build-release/build.ninja ] || meson setup build-release >/dev/null || return 1
	ninja -C build-release >/dev/null || return 1
	meson test -C build-release --suite unit --suite golden --suite integration \
		--num-processes 2 --print-errorlogs >build-release/test.out 2>&1 || rc=$?
	grep -E '^(Ok|Fail|Skipped|Timeout): ' build-release/test.out
	[ "$rc" = 0 ] || grep -vE '^ *[0-9]+/[0-9]+ .* (OK|SKIP) ' build-release/test.out | tail -n 60
	grep -h '^info: ' build-release/meson-logs/testlog.txt || true
	return "$rc"
}
step "release build (what ships) and its unit, golden and live tests" release

fuzz_targets="policy cpuset qmp settings cgroup proc qemu-cmdline"
fuzz() { # TARGET: its seeds (tests/fuzz/seeds.py), then FUZZ_SECONDS of libFuzzer
	local corpus
	corpus=$(mktemp -d /tmp/kvmtune-fuzz-XXXXXX)
	tests/fuzz/seeds.py "$1" "$corpus" >/dev/null || return 1
	build-fuzz/tests/fuzz-"$1" -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$corpus/" "$corpus" >"$corpus.log" 2>&1
	local rc=$?
	grep -E "^(stat::number_of_executed_units|==|SUMMARY|Done)" "$corpus.log"
	if [ "$rc" != 0 ]; then # what it found, to reproduce: the target's own words and the input
		grep -vE '^(INFO|#[0-9]+|    #[0-9]+ )' "$corpus.log" | head -n 40
		for a in "$corpus"/crash-* "$corpus"/leak-* "$corpus"/timeout-* "$corpus"/oom-*; do
			[ -f "$a" ] && echo "input ($(basename "$a"), base64):" && base64 -w 100 "$a" | head -n 40
		done
	fi
	rm -rf "$corpus" "$corpus.log"
	return "$rc"
}
if [ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=true \
	-Db_lundef=false >/dev/null; then
	# shellcheck disable=SC2086 # one word per target
	if ninja -C build-fuzz $(printf 'tests/fuzz-%s ' $fuzz_targets) >/dev/null; then
		for t in $fuzz_targets; do
			step "fuzz $t for ${fuzz_seconds}s" fuzz "$t"
		done
	else
		step "fuzz targets build (clang)" false
	fi
fi

# The Debian package, built in a clean copy of the tree, linted, installed, reinstalled,
# removed and purged on this host (tests/test-deb.sh skips where systemd is PID 1: there the
# install would start kvmtuned on the host's VMs; the guests below cover that case).
echo "=== the Debian package on this host"
deb_rc=0
tests/test-deb.sh "$top/build-deb" || deb_rc=$?
case $deb_rc in
0) passed=$((passed + 1)); echo "--- ok: the Debian package" ;;
77) skipped=$((skipped + 1)); echo "--- skipped: the Debian package (reason above)" ;;
*) failed=$((failed + 1)); failures+=("the Debian package"); echo "--- FAIL: the Debian package" ;;
esac
deb=$(ls "$top"/build-deb/kvmtune_*.deb 2>/dev/null | head -n 1)
stage_done host

# The same suites on the hosts users run: a systemd 252 guest on each cgroup layout (tests/vm),
# one after another (TCG takes both cores); the image is built once and shared.
guest() { # LAYOUT
	local out rc=0 counts

	out=$(KVMTUNE_DEB=$deb VM_CGROUP=$1 tests/vm/run-suite.sh "${GUEST_TIMEOUT:-1800}" 2>&1) || rc=$?
	printf '%s\n' "$out" | grep -E '^(guest|PASS|FAIL|SKIP|    )' | head -n 300
	counts=$(printf '%s\n' "$out" | sed -n 's/^guest: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p')
	if [ -z "$counts" ]; then
		printf '%s\n' "$out" | tail -n 30
		return 1
	fi
	read -r p f s <<<"$counts"
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	[ "$f" = 0 ] || failures+=("in the $1 guest: $f test(s)")
	return 0
}
if [ "${KVMTUNE_SKIP_GUEST:-}" = 1 ]; then
	echo "=== the systemd guests: skipped (KVMTUNE_SKIP_GUEST=1)"
	skipped=$((skipped + 1))
else
	for layout in ${KVMTUNE_GUEST_LAYOUTS:-unified legacy hybrid}; do
		step "the systemd guest on cgroup layout $layout runs" guest "$layout"
		stage_done "$layout"
	done
fi

echo
[ ${#failures[@]} -eq 0 ] || printf 'failed: %s\n' "${failures[@]}"
printf 'stage: %s\n' "${stages[@]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
