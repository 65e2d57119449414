#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# kvmtunectl check/show, run refusing a broken merged policy, and import-libvirt, as an
# administrator meets them: file modes and owners (sshd-style StrictModes), size and count
# limits, several broken files in one run, exit codes, and `show` with origins.
# Usage: test-cli.sh KVMTUNECTL
set -euo pipefail

ctl=$1
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/kvmtune-cli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0

if [ "$(id -u)" != 0 ]; then
	echo "skipped: needs root (policy files must be owned by root)"
	exit 77
fi

kt() { # run kvmtunectl with the fixture host; sets rc, out, err
	rc=0
	"$ctl" --sys-root "$src/sysfs/numa2" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

expect() { # DESCRIPTION RC PATTERN-IN-OUTPUT
	if [ "$rc" != "$2" ] || ! grep -qF -- "$3" <<<"$out$err"; then
		echo "FAIL: $1: exit $rc (expected $2), output:"
		echo "$out$err" | sed 's/^/    /'
		echo "    (expected to contain: $3)"
		failures=$((failures + 1))
	else
		echo "ok: $1"
	fi
}

mkdir -m 0755 "$tmp/etc" "$tmp/etc/policy.d"
good='cputune: { shares: 2048 }'
echo "$good" >"$tmp/etc/policy.d/10-good.yaml"
chmod 0644 "$tmp/etc/policy.d/10-good.yaml"

kt -C "$tmp/etc" check
expect "a valid policy directory" 0 "configuration OK"

mkdir "$tmp/empty"
kt -C "$tmp/empty" check
expect "a configuration directory without policy.d is an empty configuration" 0 \
	"does not exist: no policies"
kt -C "$tmp/nonexistent" check
expect "a configuration directory that does not exist is an error" 2 \
	"configuration directory $tmp/nonexistent: No such file or directory"

cp "$tmp/etc/policy.d/10-good.yaml" "$tmp/gw.yaml"
chmod 0664 "$tmp/gw.yaml"
kt check "$tmp/gw.yaml"
expect "a group-writable file is refused" 1 "gw.yaml: error: writable by its group (mode 0664), refused"

chmod 0646 "$tmp/gw.yaml"
kt check "$tmp/gw.yaml"
expect "an other-writable file is refused" 1 "writable by others (mode 0646), refused"

cp "$tmp/etc/policy.d/10-good.yaml" "$tmp/nobody.yaml"
chown 65534 "$tmp/nobody.yaml"
kt check "$tmp/nobody.yaml"
expect "a file not owned by root is refused" 1 "owned by uid 65534, refused (allowed: owned by root)"

mkdir -m 0775 "$tmp/gwdir"
kt check "$tmp/gwdir"
expect "a group-writable policy directory is refused" 1 "gwdir: error: writable by its group"

mkdir -m 0755 "$tmp/dirs" "$tmp/dirs/x.yaml"
kt check "$tmp/dirs"
expect "a directory named *.yaml is not a policy" 1 "x.yaml: error: not a regular file"

ln -s "$tmp/etc/policy.d/10-good.yaml" "$tmp/dirs/link.yaml"
rmdir "$tmp/dirs/x.yaml"
kt check "$tmp/dirs"
expect "a symlink to a good root-owned file is followed" 0 "configuration OK"

head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' '#' >"$tmp/big.yaml"
chmod 0644 "$tmp/big.yaml"
kt check "$tmp/big.yaml"
expect "a file over 1 MiB is refused" 1 "larger than 1048576 bytes"

for i in $(seq 257); do printf -- '---\ncputune: { shares: %d }\n' $((i + 2)); done >"$tmp/docs.yaml"
chmod 0644 "$tmp/docs.yaml"
kt check "$tmp/docs.yaml"
expect "more than 256 documents is refused" 1 "docs.yaml:513:1: error: more than 256 documents in one file"

mkdir -m 0755 "$tmp/many"
for i in $(seq 1025); do echo "$good" >"$tmp/many/$i.yaml"; done
chmod 0644 "$tmp/many"/*.yaml
kt check "$tmp/many"
expect "more than 1024 files in a directory is refused" 1 "more than 1024 policy files"

kt check "$tmp/absent.yaml"
expect "a missing file is an error" 1 "absent.yaml: error: cannot open: No such file or directory"

printf 'cputune:\n  shares: \xff\xfe\n' >"$tmp/binary.yaml"
chmod 0644 "$tmp/binary.yaml"
kt check "$tmp/binary.yaml"
expect "text that is not UTF-8" 1 "not valid UTF-8 text at byte"

printf 'cputune: { shares: 1 }\n' >"$tmp/a.yaml"
printf 'backend: cgroup\n' >"$tmp/kvmtuned.yaml"
printf 'memtune: { hard_limit: 1X }\n' >"$tmp/b.yaml"
chmod 0644 "$tmp/a.yaml" "$tmp/b.yaml" "$tmp/kvmtuned.yaml"
kt check "$tmp/a.yaml" "$tmp/kvmtuned.yaml" "$tmp/b.yaml"
expect "every broken file in one run (1)" 1 "a.yaml:1:20: error: cputune.shares: 1 is out of range"
expect "every broken file in one run (2)" 1 "kvmtuned.yaml:1:10: error: backend: 'cgroup' is not known"
expect "every broken file in one run (3)" 1 "b.yaml:1:25: error: memtune.hard_limit: '1X' is not a size"
expect "every broken file in one run (count)" 1 "3 errors"

kt check -v "$tmp/etc/policy.d/10-good.yaml"
expect "check -v prints the normalized policy" 0 "  shares: 2048"

# check says what kvmtuned would refuse on this host: a backend it cannot have. The expectation
# comes from the host itself (systemd as PID 1 on pure cgroup v2), not from kvmtune.
mkdir -m 0755 "$tmp/be" "$tmp/be/policy.d"
printf 'backend: systemd\n' >"$tmp/be/kvmtuned.yaml"
chmod 0644 "$tmp/be/kvmtuned.yaml"
kt -C "$tmp/be" check
if [ ! -d /run/systemd/system ]; then
	expect "backend: systemd where systemd is not PID 1 is an error of check, as of kvmtuned" 1 \
		"kvmtuned.yaml:1:10: error: backend: systemd cannot serve this host: systemd is not PID 1"
elif [ ! -f /sys/fs/cgroup/cgroup.controllers ]; then
	expect "backend: systemd on a cgroup v1 host is an error of check, as of kvmtuned" 1 \
		"error: backend: systemd cannot serve this host: the cgroup hierarchy is"
else
	expect "backend: systemd on a systemd + cgroup v2 host checks" 0 "configuration OK"
fi
printf 'backend: auto\n' >"$tmp/be/kvmtuned.yaml"
kt -C "$tmp/be" check -v
if [ ! -d /run/systemd/system ]; then
	expect "check -v names the backend auto picks here, and why" 0 \
		"(backend on this host: cgroupfs (auto: systemd is not PID 1))"
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	expect "check -v names the backend auto picks here" 0 "(backend on this host: systemd (auto))"
fi

kt frobnicate
expect "an unknown command is a usage error" 2 "unknown command 'frobnicate'"
kt check --bogus
expect "an unknown option is a usage error" 2 "kvmtunectl check: unknown option '--bogus'. Try"
kt show
expect "show without a VM or --match is a usage error" 2 "show needs a VM"
kt show --match colour=blue
expect "an unknown --match key is a usage error" 2 "unknown key 'colour'"

cat >"$tmp/etc/policy.d/20-web.yaml" <<'YAML'
match:
  name: "web-*"
memtune:
  hard_limit: 2G
---
match: { user: root }
cputune: { weight: 300 }
YAML
chmod 0644 "$tmp/etc/policy.d/20-web.yaml"
kt -C "$tmp/etc" show --match name=web-01
expect "show: the later file's value, with its origin" 0 \
	"hard_limit: \"2G\"  # $tmp/etc/policy.d/20-web.yaml:4"
expect "show: earlier values stay, with theirs" 0 "shares: 2048  # $tmp/etc/policy.d/10-good.yaml:1"
expect "show: a document that needs a key not given is named" 0 \
	"not considered: $tmp/etc/policy.d/20-web.yaml:6 matches on user"
kt -C "$tmp/etc" show --match name=web-01,user=root
expect "show: with the user, weight replaces shares" 0 "weight: 300  # $tmp/etc/policy.d/20-web.yaml:7"
kt -C "$tmp/etc" show --match name=db-01
expect "show: a VM no named policy fits gets the general one" 0 "# applies: $tmp/etc/policy.d/10-good.yaml:1"

printf 'memtune: { swap_hard_limit: 1G }\n' >"$tmp/etc/policy.d/30-swap.yaml"
chmod 0644 "$tmp/etc/policy.d/30-swap.yaml"
kt -C "$tmp/etc" show --match name=web-01
expect "show: a merged policy that breaks a rule across files" 1 \
	"30-swap.yaml:1:29: error: memtune.swap_hard_limit: 1G is below hard_limit 2G set at $tmp/etc/policy.d/20-web.yaml:4"

# run refuses what apply and kvmtuned refuse: nothing is confined, nothing is started. Its own
# parent, so that a regression could touch no one else's groups.
parent=kvmtune-test-cli-$$
printf 'cgroup_parent: %s\n' "$parent" >"$tmp/etc/kvmtuned.yaml"
chmod 0644 "$tmp/etc/kvmtuned.yaml"
kt -C "$tmp/etc" run web-01 -- /bin/sh -c "touch $tmp/started"
expect "run: a merged policy that breaks a rule is named" 1 \
	"30-swap.yaml:1:29: error: memtune.swap_hard_limit: 1G is below hard_limit 2G"
expect "run: and the VM is not started" 1 "web-01: not started: its merged policy is invalid"
left=$(find /sys/fs/cgroup -maxdepth 2 -name "$parent" -type d)
[ ! -e "$tmp/started" ] || left="$left $tmp/started"
rc=0 out="left: ${left:-none}" err=""
expect "run: no group made, no command run" 0 "left: none"
for group in $(find /sys/fs/cgroup -maxdepth 2 -name "$parent" -type d); do
	find "$group" -depth -type d -exec rmdir {} \; # only ever ours: made by this test's run
done

# import-libvirt as a script meets it: stdin, --strict, usage, and `show` of what it wrote.
kt import-libvirt - <"$src/libvirt/numatune.xml"
expect "import-libvirt -: reads stdin, named <stdin> in origins" 0 'mode: interleave  # <stdin>:6'
expect "import-libvirt -: notes name <stdin> and the line" 0 "<stdin>:7: warning: numatune: not carried over"
kt import-libvirt --strict "$src/libvirt/numatune.xml"
expect "import-libvirt --strict: exit 1 when something was left out" 1 "1 not (each named above"
kt import-libvirt --strict "$src/libvirt/memtune.xml"
expect "import-libvirt --strict: exit 0 when everything was carried over" 0 "nothing left out"
kt import-libvirt
expect "import-libvirt without a file is a usage error" 2 "import-libvirt: needs one FILE"
kt import-libvirt "$tmp/no-such.xml"
expect "import-libvirt of a missing file names it" 1 "no-such.xml: No such file or directory"
mkdir -m 0755 "$tmp/imported" "$tmp/imported/policy.d"
kt import-libvirt "$src/libvirt/cputune.xml"
cp "$tmp/out" "$tmp/imported/policy.d/50-web-01.yaml"
chmod 0644 "$tmp/imported/policy.d/50-web-01.yaml"
kt -C "$tmp/imported" show --match name=web-01,uuid=6b29fc40-ca47-1067-b31d-00dd010662da
expect "import-libvirt: show of the domain's identity applies the import" 0 \
	"vcpusched:"
expect "import-libvirt: show names the imported file and line" 0 \
	"shares: 2048  # $tmp/imported/policy.d/50-web-01.yaml:8"
kt -C "$tmp/imported" show --match name=web-02,uuid=6b29fc40-ca47-1067-b31d-00dd010662da
expect "import-libvirt: another name does not match" 0 "# no policy applies"
kt import-libvirt "$src/libvirt/disks.xml"
cp "$tmp/out" "$tmp/imported/policy.d/60-disks-01.yaml"
printf 'match: { name: disks-01 }\ndisks:\n  - { id: fdc0-0-0, total_iops_sec: 20 }\n' \
	>"$tmp/imported/policy.d/70-more.yaml"
chmod 0644 "$tmp/imported/policy.d/"*.yaml
kt -C "$tmp/imported" show --match name=disks-01
expect "show: disks: each value with the file:line it comes from" 0 \
	"total_iops_sec: 20  # $tmp/imported/policy.d/70-more.yaml:3"
expect "show: disks: earlier values keep theirs" 0 \
	"  - id: \"ide0-1-0\"  # $tmp/imported/policy.d/60-disks-01.yaml:"

echo
if [ "$failures" -gt 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all checks passed"
