#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Every domain XML of the shared corpus (libvirt's own test data, ../shared/corpus/
# libvirt-domains; never copied into the project) imports, names each thing it cannot carry
# over with its line, and its policy passes `kvmtunectl check` and `show` for the domain's
# identity; on a large test host (CPUs 0-1023, NUMA nodes 0-7), where the CPUs and nodes the
# XMLs name exist, and on tests/sysfs/numa2 (CPUs 0-7, nodes 0-1), where some do not and are
# left out. Prints what was carried and what was left out, by key.
# Usage: test-import-corpus.sh KVMTUNECTL [CORPUS_DIR] (or $KVMTUNE_LIBVIRT_CORPUS).
# KVMTUNE_CORPUS_EVERY=N takes every Nth XML, on numa2 only and without show: the TCG guest,
# where each process start costs seconds, runs that sample; the host runs the whole corpus.
set -euo pipefail

ctl=$1
src=$(cd "$(dirname "$0")" && pwd)
corpus=${2:-${KVMTUNE_LIBVIRT_CORPUS:-}}
for c in "$src/../../shared/corpus/libvirt-domains" "$src/../../../shared/corpus/libvirt-domains" \
	/work/shared/corpus/libvirt-domains; do
	[ -n "$corpus" ] || { [ -d "$c" ] && corpus=$c; } || true
done
if [ -z "$corpus" ] || [ ! -d "$corpus" ]; then
	echo "skipped: no libvirt domain corpus (../shared/corpus/libvirt-domains next to the" \
		"checkout, or KVMTUNE_LIBVIRT_CORPUS)"
	exit 77
fi
if [ "$(id -u)" != 0 ]; then
	echo "skipped: needs root (check wants root-owned policy files)"
	exit 77
fi
corpus=$(cd "$corpus" && pwd)
tmp=$(mktemp -d /tmp/kvmtune-corpus-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The large host: a sysfs tree with only what the topology reader reads.
mkdir -p "$tmp/big/devices/system/cpu" "$tmp/big/devices/system/node"
echo 0-1023 >"$tmp/big/devices/system/cpu/online"
echo 0-7 >"$tmp/big/devices/system/node/online"
echo 0-7 >"$tmp/big/devices/system/node/has_memory"

failures=0 files=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

import_one() { # SYSROOT XML
	local sys=$1 xml=$2 base rc=0 notes lines summary name uuid
	base=$(basename "$xml" .xml)
	rm -f "$tmp/etc/policy.d/"*
	"$ctl" --sys-root "$sys" import-libvirt "$xml" >"$tmp/out.yaml" 2>"$tmp/err" || rc=$?
	[ "$rc" = 0 ] || { fail "$base: exit $rc"; cat "$tmp/err"; return; }
	# Every line but the summary names the file, a line > 0, a key, and why.
	lines=$(grep -vc '^kvmtunectl: [0-9]* values\? carried over' "$tmp/err" || true)
	notes=$(grep -cE "^$xml:[1-9][0-9]*: warning: [^ ]+: not carried over: .+" "$tmp/err" || true)
	[ "$lines" = "$notes" ] || { fail "$base: a note without its line or reason"; cat "$tmp/err"; }
	summary=$(tail -n 1 "$tmp/err")
	grep -q ", $notes not (" <<<"$summary" || fail "$base: summary '$summary' but $notes notes"
	{ grep "not carried over" "$tmp/err" || true; } |
		sed -E 's/^[^ ]+ warning: ([^ ]+): .*/\1/' >>"$tmp/keys.$(basename "$sys")"
	sed -nE 's/^kvmtunectl: ([0-9]+) values? carried.*/\1/p' "$tmp/err" \
		>>"$tmp/carried.$(basename "$sys")"
	cp "$tmp/out.yaml" "$tmp/$(basename "$sys")/policy.d/$base.yaml"
	chmod 0644 "$tmp/$(basename "$sys")/policy.d/$base.yaml"
	files=$((files + 1))
	[ "$with_show" = 1 ] || return 0
	# The domain's identity gets the policy, and the merged policy breaks no rule.
	cp "$tmp/out.yaml" "$tmp/etc/policy.d/50-$base.yaml"
	chmod 0644 "$tmp/etc/policy.d/50-$base.yaml"
	name=$(sed -nE "1s/^# kvmtune policy for the libvirt domain '(.*)', imported.*/\1/p" \
		"$tmp/out.yaml")
	uuid=$(sed -nE 's/^  uuid: "(.*)".*/\1/p' "$tmp/out.yaml")
	"$ctl" --sys-root "$sys" -C "$tmp/etc" show --match "name=$name${uuid:+,uuid=$uuid}" \
		>"$tmp/show" 2>&1 || { fail "$base: show of its identity fails"; cat "$tmp/show"; }
	grep -q "^# applies: " "$tmp/show" || { fail "$base: the policy does not match its domain"; }
}

# show for each import on the large host; check of all imports at once on each host.
mkdir -m 0755 -p "$tmp/etc/policy.d" "$tmp/big/policy.d" "$tmp/numa2/policy.d"
with_show=1
every=${KVMTUNE_CORPUS_EVERY:-1}
hosts=("$tmp/big" "$src/sysfs/numa2")
if [ "$every" != 1 ]; then
	hosts=("$src/sysfs/numa2")
	with_show=0
	echo "info: every ${every}th XML of the corpus, on numa2, without show"
fi
mapfile -t xmls < <(ls "$corpus"/*.xml | awk -v n="$every" '(NR - 1) % n == 0')
for sys in "${hosts[@]}"; do
	: >"$tmp/keys.$(basename "$sys")"
	: >"$tmp/carried.$(basename "$sys")"
	for xml in "${xmls[@]}"; do
		import_one "$sys" "$xml"
	done
	with_show=0
	"$ctl" --sys-root "$sys" check "$tmp/$(basename "$sys")/policy.d" >"$tmp/check" 2>&1 ||
		{ fail "$(basename "$sys"): the imports do not pass check"; cat "$tmp/check"; }
	n=${#xmls[@]}
	carried=$(awk '{ s += $1 } END { print s + 0 }' "$tmp/carried.$(basename "$sys")")
	left=$(wc -l <"$tmp/keys.$(basename "$sys")")
	echo "== host $(basename "$sys"): $n XMLs, $carried values carried over, $left left out:"
	sort "$tmp/keys.$(basename "$sys")" | uniq -c | sort -rn | sed 's/^/   /'
done

echo
echo "$files imports checked"
if [ "$failures" -gt 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "all checks passed"
