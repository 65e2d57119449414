#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Debian package on this host: built from a clean copy of the tree (tools/build-deb.sh:
# dpkg-buildpackage -us -uc -b) without a compiler warning, lintian without an error (every
# tag printed), then `apt-get install ./kvmtune_*.deb`: the installed binaries link no
# sanitizer runtime, `kvmtunectl check` passes on the installed /etc/kvmtune, the conffiles are
# registered, the manual pages and the completion are where man and bash look, the unit is
# enabled but no kvmtuned runs; a modified conffile and an administrator's own policy survive a
# reinstall (the upgrade path of the maintainer scripts) and a remove; purge removes
# /etc/kvmtune. The package is purged at the end, whatever happens.
#
# Safe on a shared host: it runs only where systemd is not PID 1 (there, installing starts
# kvmtuned, which would enforce on the host's other VMs: the guest suite tests that, in
# tests/test-deb-systemd.sh), only when no kvmtune is installed or left in /etc, /usr by
# anyone else, and one run at a time (a lock). Usage: test-deb.sh [OUTDIR] (root)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$top/build-deb}")
marker=/run/kvmtune-test-deb.installed # this test installed the package (and may purge it)
# shellcheck source=tests/checks.sh
source "$top/tests/checks.sh"
skip() { echo "skipped: $*"; exit 77; }

[ "$(id -u)" = 0 ] || skip "installs a package: needs root"
command -v dpkg >/dev/null || skip "not a Debian host"
[ ! -d /run/systemd/system ] ||
	skip "systemd runs this host: installing would start kvmtuned on its VMs (tests/vm runs this part)"
exec 8>/run/lock/kvmtune-test-deb.lock
flock -w 1800 8 || skip "another run of this test held the lock for 30 minutes"
installed() { dpkg-query -W -f='${db:Status-Abbrev}' kvmtune 2>/dev/null | grep -q '^.[ic]'; }
if installed && [ -f "$marker" ]; then
	echo "note: purging what an interrupted run of this test left"
	"${apt[@]}" purge kvmtune >/dev/null
fi
rm -f "$marker"
installed && skip "kvmtune is installed on this host, not by this test: not touching it"
for f in /etc/kvmtune /usr/sbin/kvmtuned /usr/bin/kvmtunectl; do
	[ ! -e "$f" ] || skip "$f exists (a meson install?): the package would take it over and purge it"
done

purge() {
	if installed; then
		"${apt[@]}" purge kvmtune >/dev/null 2>&1 || dpkg --purge kvmtune >/dev/null 2>&1
	fi
	rm -f "$marker"
}
trap purge EXIT

# ---- build and lint ----
if ! build_out=$("$top/tools/build-deb.sh" "$out" 2>&1); then
	echo "$build_out"
	echo "FAIL: tools/build-deb.sh"
	exit 1
fi
deb=$(ls "$out"/kvmtune_*.deb)
echo "ok: dpkg-buildpackage -us -uc -b in a clean tree: $(basename "$deb")"
warnings=$(grep -E '(warning|error):' "$out/build.log" | grep -vE '^ *[0-9]+/[0-9]+ ' || true)
check "the package build has no compiler warning (Debian's flags, hardening=+all)" test -z "$warnings"
[ -z "$warnings" ] || echo "$warnings" | head -n 20 | sed 's/^/    /'

# Lintian as nobody ("running with root privileges is not recommended"), on the binary upload
# and on the source package of the same tree.
lint=$(mktemp -d /tmp/kvmtune-lintian-XXXXXX)
cp "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo "$lint/"
mkdir "$lint/kvmtune"
(cd "$top" && git ls-files -z | xargs -0 cp --parents -P -t "$lint/kvmtune")
(cd "$lint" && dpkg-source -b kvmtune >/dev/null)
chmod -R a+rX "$lint"
lintian_out=$(cd "$lint" && setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$lint" \
	lintian --pedantic --display-info --display-experimental --show-overrides ./*.changes ./*.dsc \
	2>&1)
lintian_rc=$?
rm -rf "$lint"
echo "lintian --pedantic --display-info --display-experimental, binary and source package"
echo "(every tag; O: is overridden in debian/source/lintian-overrides, counted per tag):"
grep -vE '^(O|N):' <<<"$lintian_out" | sed 's/^/    /'
grep '^O: ' <<<"$lintian_out" | awk '{ print $1, $2, $3, $4 }' | sort | uniq -c | sed 's/^/    /'
check "lintian ran (exit $lintian_rc)" test "$lintian_rc" -le 1
check "lintian reports no error" test -z "$(grep '^E: ' <<<"$lintian_out")"

# ---- install ----
touch "$marker"
check "apt-get install ./$(basename "$deb")" quietly "${apt[@]}" install "$deb"
installed || { echo "FAIL: not installed; stopping here"; exit 1; }
check "kvmtuned and kvmtunectl are installed" test -x /usr/sbin/kvmtuned -a -x /usr/bin/kvmtunectl
no_sanitizer() { # BINARY: neither linked to a sanitizer runtime nor carrying one
	! readelf -d "$1" | grep -E 'NEEDED.*lib(a|ub|t|l|hwa)san' &&
		! nm -D "$1" | grep -qE ' (__asan|__ubsan|__tsan|__lsan)_'
}
check "kvmtuned links no sanitizer runtime" no_sanitizer /usr/sbin/kvmtuned
check "kvmtunectl links no sanitizer runtime" no_sanitizer /usr/bin/kvmtunectl
check "kvmtunectl check passes on the installed /etc/kvmtune" quietly kvmtunectl check
conffiles=$(dpkg-query -W -f='${Conffiles}' kvmtune | awk '{ print $1 }' | sort)
check "the settings and default policy are conffiles" test "$conffiles" = \
	"$(printf '/etc/kvmtune/kvmtuned.yaml\n/etc/kvmtune/policy.d/00-defaults.yaml')"
check "the examples are in /usr/share/doc/kvmtune/examples" \
	test -f /usr/share/doc/kvmtune/examples/10-cputune.yaml
for page in kvmtunectl.8 kvmtuned.8 kvmtune.policy.5 kvmtuned.yaml.5; do
	check "man finds ${page%.*}(${page##*.})" test -n "$(man -w "${page##*.}" "${page%.*}" 2>/dev/null)"
done
completions=$(pkg-config --variable=completionsdir bash-completion 2>/dev/null ||
	echo /usr/share/bash-completion/completions)
check "the bash completion is in $completions" test -f "$completions/kvmtunectl"
check "the unit is enabled (multi-user.target wants it)" \
	test -L /etc/systemd/system/multi-user.target.wants/kvmtuned.service
running_kvmtuned() {
	local e
	for e in /proc/[0-9]*/exe; do
		[ "$(readlink "$e" 2>/dev/null)" = /usr/sbin/kvmtuned ] && return 0
	done
	return 1
}
check "no kvmtuned was started on this host (systemd is not PID 1)" eval '! running_kvmtuned'

# ---- the administrator's files through a reinstall and a remove ----
echo "# changed by the administrator" >>/etc/kvmtune/policy.d/00-defaults.yaml
printf 'match: { name: "admin-*" }\ncputune: { shares: 512 }\n' >/etc/kvmtune/policy.d/50-admin.yaml
chmod 0644 /etc/kvmtune/policy.d/50-admin.yaml
sum=$(md5sum /etc/kvmtune/policy.d/00-defaults.yaml)
check "apt-get install --reinstall (no conffile question: stdin is closed)" \
	quietly "${apt[@]}" install --reinstall "$deb" </dev/null
check "...kept the modified conffile" test "$(md5sum /etc/kvmtune/policy.d/00-defaults.yaml)" = "$sum"
check "...kept the administrator's own policy" test -f /etc/kvmtune/policy.d/50-admin.yaml
check "...and kvmtunectl check still passes" quietly kvmtunectl check
check "apt-get remove kvmtune" quietly "${apt[@]}" remove kvmtune
check "...removed the binaries" test ! -e /usr/sbin/kvmtuned -a ! -e /usr/bin/kvmtunectl
check "...kept /etc/kvmtune, the modified conffile as it was" \
	test "$(md5sum /etc/kvmtune/policy.d/00-defaults.yaml 2>/dev/null)" = "$sum"
check "...left the package's configuration registered (config-files)" \
	test "$(dpkg-query -W -f='${db:Status-Abbrev}' kvmtune)" = "rc "
check "apt-get purge kvmtune" quietly "${apt[@]}" purge kvmtune
check "...removed /etc/kvmtune" test ! -e /etc/kvmtune
check "...and the unit's enablement" test ! -e /etc/systemd/system/multi-user.target.wants/kvmtuned.service
check "...and the package" eval '! installed'

[ "$failures" = 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all checks passed"
