#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# kvmtunectl set and revert without a running VM, in a fixture configuration directory and a
# fixture runtime directory: what is written where, merging with an earlier set, the errors
# (a key that is not one gets a suggestion and exit 2; a value the policy parser refuses is a
# file:line:col error, exit 1) and that nothing is written on an error.
# Usage: test-set-cli.sh KVMTUNECTL
set -euo pipefail

ctl=$1
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/kvmtune-set-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
# A name no other VM on this host has: the drop-in matches it only.
vm="kvmtune-set-cli-$$"
etcdrop="$tmp/etc/policy.d/90-set-$vm.yaml"
rundrop="$tmp/run/policy.d/90-set-$vm.yaml"

if [ "$(id -u)" != 0 ]; then
	echo "skipped: needs root (policy files must be owned by root)"
	exit 77
fi

kt() { # sets rc, out, err
	rc=0
	"$ctl" --sys-root "$src/sysfs/numa2" -C "$tmp/etc" --runtime-dir "$tmp/run" "$@" \
		>"$tmp/out" 2>"$tmp/err" || rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

ok() { echo "ok: $1"; }
fail() {
	echo "FAIL: $1: exit $rc, output:"
	echo "$out$err" | sed 's/^/    /'
	failures=$((failures + 1))
}
expect() { # DESCRIPTION RC PATTERN
	if [ "$rc" = "$2" ] && grep -qF -- "$3" <<<"$out$err"; then ok "$1"; else
		fail "$1 (expected exit $2 and: $3)"
	fi
}
same_file() { # DESCRIPTION FILE SAVED-COPY
	if cmp -s "$2" "$3"; then ok "$1"; else
		fail "$1 ($2 changed)"
	fi
}

mkdir -m 0755 "$tmp/etc" "$tmp/run"

kt set "$vm" cputune.shares=2048 cputune.vcpupin.0=1 memtune.hard_limit=4G
expect "set writes a persistent drop-in" 0 "wrote $etcdrop:"
expect "set prints each change" 0 "cputune.vcpupin.0: (not set) -> 1"
expect "without a running VM it says what it matches" 0 "no running VM is '$vm'"
expect "without a daemon or VM it says when it applies" 0 "is not running: its policy applies when it starts"
if [ "$(stat -c '%U %a' "$etcdrop")" = "root 644" ]; then ok "the drop-in is root's, mode 0644"; else
	fail "the drop-in's owner and mode: $(stat -c '%U %a' "$etcdrop")"
fi
if grep -qx "  name: \"$vm\"" "$etcdrop" && ! ls -A "$tmp/etc/policy.d" | grep -q '^\.'; then
	ok "the drop-in matches the VM's name; no temporary file is left"
else fail "the drop-in: $(cat "$etcdrop"; ls -A "$tmp/etc/policy.d")"; fi
kt check
expect "what set wrote passes check" 0 "configuration OK"

kt set "$vm" cputune.shares=4096
expect "a second set merges" 0 "cputune.shares: 2048 -> 4096"
kt show --match "name=$vm"
expect "show names the drop-in as the origin" 0 "shares: 4096  # $etcdrop:5"
expect "the earlier values stay" 0 "hard_limit: \"4G\"  # $etcdrop:"

cp "$etcdrop" "$tmp/saved"
kt set "$vm" cputune.shars=1
expect "an unknown key gets a suggestion" 2 "unknown key; did you mean 'cputune.shares'?"
kt set "$vm" blkiotune.devices./dev/null.weigth=100
expect "an unknown field of a list entry gets a suggestion" 2 \
	"did you mean 'blkiotune.devices./dev/null.weight'?"
kt set "$vm" cputune.vcpupin=1
expect "a list needs its entry" 2 "needs what the entry is for (its vcpu)"
kt set "$vm" cputune.shares
expect "an argument without = is refused" 2 "is not KEY=VALUE"
kt set "$vm" cputune.shares=1
expect "a bad value is a file:line:col error" 1 "$etcdrop:5:11: error: cputune.shares: 1 is out of range (allowed: 2..262144)"
expect "and nothing is written" 1 "nothing written"
same_file "a refused value leaves the drop-in as it was" "$etcdrop" "$tmp/saved"
kt set "$vm" cputune.vcpupin.0=0-99
expect "a CPU the host lacks is refused" 1 "not on this host (allowed: 0-7)"
kt set "$vm" memtune.swap_hard_limit=1G
expect "the merged policy is checked too" 1 "memtune.swap_hard_limit: 1G is below hard_limit 4G"
same_file "neither changes the drop-in" "$etcdrop" "$tmp/saved"

kt set --runtime "$vm" cputune.shares=300
expect "--runtime writes to the runtime dir" 0 "wrote $rundrop:"
kt show --match "name=$vm"
expect "the runtime drop-in is read after /etc's" 0 "shares: 300  # $rundrop:5"
rm -rf "$tmp/run/policy.d"
kt show --match "name=$vm"
expect "the runtime dir cleared: /etc's value again" 0 "shares: 4096  # $etcdrop:5"

kt set --runtime "$vm" cputune.shares=300
kt revert "$vm" cputune.vcpupin.0 cputune.shares
expect "revert removes the keys it is given" 0 "cputune.vcpupin.0: 1 -> (not set)"
expect "from both drop-ins" 0 "removed $rundrop:"
kt revert "$vm" cputune.shares
expect "reverting a key set nowhere is an error" 1 "cputune.shares was not set for $vm"
kt revert "$vm" memtun
expect "a misspelt revert key gets a suggestion" 2 "did you mean 'memtune'?"
kt revert "$vm"
expect "revert without keys removes the drop-in" 0 "removed $etcdrop:"
if [ ! -e "$etcdrop" ]; then ok "the drop-in is gone"; else fail "$etcdrop is still there"; fi

kt set "$vm" numatune.mode=strict numatune.memory.nodeset=1 cputune.emulatorsched.scheduler=batch
expect "numatune.mode is numatune.memory.mode" 0 "numatune.memory.mode: (not set) -> strict"
kt show --match "name=$vm"
expect "the scheduler and the NUMA values are in the policy" 0 "nodeset: \"1\""

# The virsh-shaped verbs: set with virsh's names, units and --live/--config/--current.
vm2="$vm-virsh"
etc2="$tmp/etc/policy.d/90-set-$vm2.yaml"
run2="$tmp/run/policy.d/90-set-$vm2.yaml"
kt vcpupin "$vm2" 0 1
expect "vcpupin of a VM that is not running: --current is --config" 0 "wrote $etc2:"
kt vcpupin --live "$vm2" 1 0
expect "vcpupin --live writes the runtime drop-in" 0 "wrote $run2:"
kt vcpupin "$vm2"
expect "vcpupin without values prints the policy's pins with their origin" 0 \
	"0      -              1  ($etc2:"
expect "...both drop-ins" 0 "1      -              0  ($run2:"
kt vcpupin --current --config "$vm2" 0 1
expect "--current with --config is refused" 2 "--current goes with neither --live nor --config"
kt emulatorpin --config "$vm2" 0-1
kt emulatorpin "$vm2"
expect "emulatorpin prints the policy's value" 0 "0-1  ($etc2:"
kt schedinfo --config "$vm2" --set cpu_shares=2048 vcpu_quota=50000
expect "schedinfo --set and NAME=VALUE set cputune's keys" 0 "cputune.quota: (not set) -> 50000"
kt schedinfo "$vm2"
expect "schedinfo prints virsh's names with origins" 0 "cpu_shares     : 2048  ($etc2:"
expect "...and the defaults where nothing is set" 0 "global_quota   : -1  (default)"
kt schedinfo "$vm2" --set cpu_share=1
expect "a schedinfo name that is not one gets a suggestion" 2 "did you mean 'cpu_shares'?"
kt memtune --config "$vm2" --hard-limit 4194304 --swap-hard-limit -1
expect "memtune: KiB, and -1 is unlimited" 0 "memtune.swap_hard_limit: (not set) -> unlimited"
kt memtune "$vm2"
expect "memtune prints KiB" 0 "hard_limit     : 4194304  ($etc2:"
kt memtune --config "$vm2" --soft-limit 8G
expect "memtune: a unit is accepted" 0 "memtune.soft_limit: (not set) -> 8G"
kt memtune --config "$vm2" --soft-limit lots
expect "memtune: a bad size is the parser's file:line:col error" 1 "$etc2:"
kt blkiotune --config "$vm2" --device-weights /dev/sda
expect "blkiotune: a device without its value" 2 "a device without its value"
kt numatune --config "$vm2" --mode 3 --nodeset 1
expect "numatune: virsh's mode numbers" 0 "numatune.memory.mode: (not set) -> restrictive"
kt numatune "$vm2"
expect "numatune prints mode and nodeset" 0 "numa_nodeset   : 1  ($etc2:"
kt check
expect "what the virsh verbs wrote passes check" 0 "configuration OK"

echo "$failures failed"
[ "$failures" = 0 ]
