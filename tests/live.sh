# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# What the shell live tests share, as tests/live.py does for the Python ones: named checks that
# tally, a bounded wait, and this host's cgroup layout. Sourced, not run.

failures=0

check() { # DESCRIPTION COMMAND...
	if "${@:2}"; then
		echo "ok: $1"
	else
		echo "FAIL: $1"
		failures=$((failures + 1))
	fi
}

wait_for() { # SECONDS COMMAND...: until COMMAND succeeds, tried every 0.1 s
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
}

# unified (pure v2), hybrid (v1 controllers, systemd's tree also on cgroup2 at unified/) or
# legacy (v1 only).
cgroup_layout() {
	if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
		echo unified
	elif [ -e /sys/fs/cgroup/unified/cgroup.procs ]; then
		echo hybrid
	else
		echo legacy
	fi
}
