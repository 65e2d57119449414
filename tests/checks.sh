# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# What the shell tests of the package share (sourced): named checks that tally, waiting for a
# condition, the Debian tools without their chatter.

failures=0
export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -o DPkg::Lock::Timeout=600 -y -q --no-install-recommends)

check() { # DESCRIPTION COMMAND...: one named check, printed as ok/FAIL and counted
	if "${@:2}"; then
		echo "ok: $1"
	else
		echo "FAIL: $1"
		failures=$((failures + 1))
	fi
}

quietly() { # COMMAND...: its output only when it fails
	local out
	out=$("$@" 2>&1) || { echo "$out" | tail -n 30 | sed 's/^/    /'; return 1; }
}

wait_for() { # SECONDS COMMAND...: until COMMAND succeeds, at most SECONDS
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}
