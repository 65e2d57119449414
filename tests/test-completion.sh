#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The bash completion (completion/kvmtunectl.bash) against the binary it completes: the verbs
# are those of kvmtunectl's dispatch table, each verb offers the options its --help shows, a VM
# argument offers what `kvmtunectl list` prints (a fixture proc tree stands in for running
# VMs), check offers policy files and directories only, and run completes a command after --.
# Usage: test-completion.sh KVMTUNECTL COMPLETION-FILE
set -uo pipefail

ctl=$(realpath "$1")
src=$(cd "$(dirname "$0")" && pwd)
bash_completion=/usr/share/bash-completion/bash_completion
[ -f "$bash_completion" ] || { echo "skipped: bash-completion is not installed"; exit 77; }
# shellcheck source=/dev/null
source "$bash_completion"
# shellcheck source=/dev/null
source "$2"
PATH=$(dirname "$ctl"):$PATH
failed=0

# What Tab offers at the end of LINE.
offers() { # LINE
	local COMP_LINE=$1 COMP_POINT=${#1} COMP_WORDS COMP_CWORD
	read -ra COMP_WORDS <<<"$1"
	[[ $1 == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_kvmtunectl 2>/dev/null
	printf '%s\n' "${COMPREPLY[@]}" | sort -u
}

expect() { # WHAT EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then
		echo "ok: $1"
	else
		echo "FAIL: $1"
		echo "    expected: $(echo $2)"
		echo "    offered:  $(echo $3)"
		failed=$((failed + 1))
	fi
}

verbs=$("$ctl" no-such-verb 2>&1 | sed -n 's/.*(allowed: \([^)]*\)).*/\1/p' | tr -d ' ' | tr , '\n' |
	sort)
[ -n "$verbs" ] || { echo "FAIL: kvmtunectl does not list its verbs"; exit 1; }
expect "the verbs are the dispatch table's" "$verbs" "$(offers "kvmtunectl ")"
expect "a verb's start completes" "$(grep '^st' <<<"$verbs")" "$(offers "kvmtunectl st")"
expect "after global options, still the verbs" "$verbs" "$(offers "kvmtunectl -C /etc/kvmtune -v ")"

for v in $verbs; do
	want=$( ("$ctl" "$v" --help | sed "s/kvmtunectl $v//g" |
		grep -oE -- '(^|[^-a-zA-Z0-9])--?[a-zA-Z][-a-zA-Z0-9]*' | sed 's/^[^-]*//'
		echo --help) | sort -u)
	expect "$v offers the options its --help shows" "$want" "$(offers "kvmtunectl $v -")"
done

fixture=$src/fixtures/qemu/kvm-debug-threads/proc
vms=$("$ctl" --proc-root "$fixture" list | awk 'NR > 1 { print $1; print $2 }' | sort)
[ -n "$vms" ] || { echo "FAIL: the fixture shows no VM"; exit 1; }
for line in "status " "apply --dry-run " "show " "status kvm1 " "set --runtime " "revert " \
	"vcpupin --live " "memtune "; do
	expect "$line takes VM names and pids from list" "$vms" \
		"$(offers "kvmtunectl --proc-root $fixture $line")"
done
expect "list takes no VM" "" "$(offers "kvmtunectl --proc-root $fixture list ")"

tmp=$(mktemp -d /tmp/kvmtune-completion-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/policy.d"
touch "$tmp/10-web.yaml" "$tmp/20-db.yml" "$tmp/notes.txt"
cd "$tmp" || exit 1
expect "check takes policy files and directories" "$(printf '10-web.yaml\n20-db.yml\npolicy.d')" \
	"$(offers "kvmtunectl check ")"
expect "run --policy takes a policy file" "$(printf '10-web.yaml\n20-db.yml\npolicy.d')" \
	"$(offers "kvmtunectl run --policy ")"
expect "run NAME is followed by --" "--" "$(offers "kvmtunectl run web-01 ")"
expect "after run NAME --, a command" "$(compgen -c kvmtunect | sort -u)" \
	"$(offers "kvmtunectl run web-01 -- kvmtunect")"

[ "$failed" = 0 ] || { echo "$failed check(s) failed"; exit 1; }
echo "all checks passed"
