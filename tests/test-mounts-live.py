#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""v1 hierarchies mounted where the admin chose, found through libcgroup's mount table.

In a private mount namespace (the host's mounts stay as they are) /sys/fs/cgroup is covered by
an empty tmpfs, and every v1 hierarchy of the host is mounted again under a directory of this
test's own, with names of no controller (hier-1, hier-2, ...), as cgconfig's `mount {}` may put
them. `kvmtunectl apply` run in that namespace must find each controller through libcgroup and
enforce a real QEMU exactly as on the fixed paths: seen from outside, through /sys/fs/cgroup,
the VM's groups hold the values and its threads are in their groups. `verify` then finds no
drift, and a dry run names the paths it found. Then the same namespace with /proc/cgroups
covered (as kvmtuned's unit hides it, ProcSubset=pid), where libcgroup cannot read: a dry run
and kvmtuned find the same hierarchies in /proc/self/mountinfo, and kvmtuned warns about one
mounted read-only (as ProtectSystem=strict makes a mount outside /sys/fs/cgroup). Usage: test-mounts-live.py
KVMTUNED KVMTUNECTL. Touches only its own groups, processes and (private) mounts.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from live import TAG, V2, allowed, cgroup_of, check, end_processes, gpath, remove_tree, scope_of, skip_reason, summary, test_parent, vcpu_tid, wait_named  # noqa: E402

QEMU = "/usr/bin/qemu-system-x86_64"
DAEMON, CTL = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
OURS = {"cpu", "cpuacct", "cpuset", "memory", "blkio", "pids"}
PARENT = test_parent()
NAME = "mnt%s-vm" % TAG

POLICY = """\
match: { name: "mnt%s-*" }
cputune:
  shares: 1536
  vcpupin:
    - { vcpu: 0, cpuset: "0" }
    - { vcpu: 1, cpuset: "1" }
  emulatorpin: "0"
  quota: 40000
memtune:
  hard_limit: 768M
""" % TAG


def v1_hierarchies():
    """[(super options for mount -o, the controllers of ours in it)] of this host's v1 mounts."""
    seen, out = set(), []
    for line in open("/proc/self/mountinfo"):
        left, right = line.split(" - ")
        fstype, _, sopts = right.split()
        if fstype != "cgroup":
            continue
        opts = [o for o in sopts.split(",") if o not in ("rw", "ro")]
        mine = sorted(OURS.intersection(opts))
        if not mine or left.split()[2] in seen:  # major:minor: one hierarchy, once
            continue
        seen.add(left.split()[2])
        out.append((",".join(opts), mine))
    return out


def namespace_script(base, hierarchies, unified, hide_proc_cgroups=False, read_only=()):
    """sh commands: cover /sys/fs/cgroup, mount each hierarchy under base, run what follows."""
    lines = ["set -e", "mount -t tmpfs -o mode=755 kvmtune-test /sys/fs/cgroup"]
    if hide_proc_cgroups:  # what libcgroup needs, and ProcSubset=pid hides
        lines.append("mount --bind /dev/null /proc/cgroups")
    if unified:  # hybrid: the cgroup2 mount stays where systemd and libcgroup look for it
        lines += ["mkdir /sys/fs/cgroup/unified", "mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified"]
    for i, (opts, _) in enumerate(hierarchies):
        d = os.path.join(base, "hier-%d" % (i + 1))
        lines += ["mkdir -p %s" % d, "mount -t cgroup -o %s cgroup %s" % (opts, d)]
        if i in read_only:  # this mount only (a bind of it), as ProtectSystem=strict makes it
            lines += ["mount --bind %s %s" % (d, d), "mount -o remount,bind,ro %s" % d]
    return lines


def main():
    reason = skip_reason(QEMU)
    if reason is None and V2:
        reason = "skipped: pure cgroup v2 has one mount, read as it is (nothing to discover)"
    if reason is None and not shutil.which("unshare"):
        reason = "skipped: unshare (util-linux) is not installed"
    if reason:
        print(reason)
        return 77
    hierarchies = v1_hierarchies()
    unified = os.path.exists("/sys/fs/cgroup/unified/cgroup.procs")
    print("v1 hierarchies here: %s" % "; ".join(o for o, _ in hierarchies))
    tmp = tempfile.mkdtemp(prefix="kvmtune-mounts-")
    base = os.path.join(tmp, "cgroup")
    cfg = os.path.join(tmp, "etc")
    os.makedirs(os.path.join(cfg, "policy.d"))
    with open(os.path.join(cfg, "kvmtuned.yaml"), "w") as f:
        f.write("backend: cgroupfs\ncgroup_parent: %s\n" % PARENT)
    with open(os.path.join(cfg, "policy.d", "10-mounts.yaml"), "w") as f:
        f.write(POLICY)
    accel = "kvm" if os.access("/dev/kvm", os.R_OK | os.W_OK) else "tcg"
    print("accelerator: %s%s" % (accel, "" if accel == "kvm" else " (/dev/kvm is not usable here)"))
    qemu = subprocess.Popen([QEMU, "-display", "none", "-nodefaults", "-m", "64", "-accel", accel,
                             "-smp", "2", "-name", "guest=%s,debug-threads=on" % NAME],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        check("QEMU named its vCPU threads", wait_named(qemu.pid, 2))

        def command(args, hide, read_only=()):
            script = namespace_script(base, hierarchies, unified, hide, read_only)
            script.append("exec " + " ".join("'%s'" % a for a in args))
            return ["unshare", "--mount", "--propagation", "private", "sh", "-c", "\n".join(script)]

        def in_namespace(*args, hide=False):
            return subprocess.run(command(args, hide), capture_output=True, text=True)

        dry = in_namespace(CTL, "-C", cfg, "apply", "--dry-run", NAME)
        check("dry run in the namespace exits 0", dry.returncode == 0, dry.stdout + dry.stderr)
        for i, (opts, mine) in enumerate(hierarchies):
            d = os.path.join(base, "hier-%d" % (i + 1))
            check("dry run writes %s's groups at %s" % (opts, d),
                  re.search(re.escape(d) + "/" + re.escape(PARENT), dry.stdout) is not None,
                  dry.stdout)
        check("dry run names no /sys/fs/cgroup/<controller> path (covered in the namespace)",
              re.search(r"/sys/fs/cgroup/(cpu|cpuset|memory|blkio|pids)\b", dry.stdout) is None,
              dry.stdout)

        out = in_namespace(CTL, "-C", cfg, "apply", NAME)
        check("apply in the namespace exits 0", out.returncode == 0, out.stdout + out.stderr)
        scope = scope_of(NAME)
        vm = os.path.join(PARENT, scope)

        def value(ctrl, rel, name):
            return open(os.path.join(gpath(PARENT, ctrl), scope, rel, name)).read().strip()

        check("cpu.shares of the VM group, seen at /sys/fs/cgroup/cpu",
              value("cpu", "", "cpu.shares") == "1536")
        check("vcpu0's quota", value("cpu", "vcpu0", "cpu.cfs_quota_us") == "40000")
        check("memory hard limit", value("memory", "", "memory.limit_in_bytes") == str(768 << 20))
        check("vcpu1's cpuset", value("cpuset", "vcpu1", "cpuset.cpus") == "1")
        for i in range(2):
            tid = vcpu_tid(qemu.pid, i)
            check("vCPU %d in its cpu group" % i,
                  cgroup_of(qemu.pid, tid) == "/%s/vcpu%d" % (vm, i), cgroup_of(qemu.pid, tid))
            check("vCPU %d pinned" % i, allowed(qemu.pid, tid) == str(i))
        mem = [ln.split(":", 2)[2].strip() for ln in open("/proc/%d/cgroup" % qemu.pid)
               if "memory" in ln.split(":")[1].split(",")]
        check("the process in the VM's memory group", mem == ["/" + vm], mem)

        again = in_namespace(CTL, "-C", cfg, "verify", NAME)
        check("verify in the namespace finds no drift", again.returncode == 0,
              again.stdout + again.stderr)

        hidden = in_namespace(CTL, "-C", cfg, "apply", "--dry-run", NAME, hide=True)
        first = re.search(r"(\d+) would change, (\d+) already so", dry.stdout)
        total = first and int(first.group(1)) + int(first.group(2))
        check("/proc/cgroups covered: the dry run finds all %s values already so (the "
              "hierarchies from mountinfo)" % total, hidden.returncode == 0 and first is not None
              and " 0 would change, %d already so" % total in hidden.stdout,
              dry.stdout[-300:] + hidden.stdout + hidden.stderr)
        check("...and libcgroup printed nothing of its own", "Error" not in hidden.stdout +
              hidden.stderr, hidden.stdout + hidden.stderr)
        log = os.path.join(tmp, "kvmtuned.log")
        run = os.path.join(tmp, "run")
        os.makedirs(run)
        with open(log, "w") as err:
            # its log on stderr, not in the journal (the guest suite runs as a service)
            env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
            d = subprocess.Popen(command([DAEMON, "-C", cfg, "--runtime-dir", run], True, (0,)),
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                 env=env)
        try:
            deadline = time.monotonic() + 60  # a hang guard, not a timing check
            while time.monotonic() < deadline and "started (" not in open(log).read():
                time.sleep(0.05)
            text = open(log).read()
            line = [ln for ln in text.splitlines() if "cgroup hierarchies" in ln]
            check("kvmtuned there says it read the hierarchies from /proc/self/mountinfo, and "
                  "why", line and "from /proc/self/mountinfo (libcgroup cannot read" in line[0],
                  text)
            check("...names each one where this test mounted it",
                  line and all(os.path.join(base, "hier-%d" % (i + 1)) in line[0]
                               for i in range(len(hierarchies))), text)
            check("...and starts with 0 changes (the VM is as apply left it)",
                  "0 change(s) made" in text, text)
            ro = os.path.join(base, "hier-1")
            check("...warning that %s (%s), read-only there, needs ReadWritePaths=" % (
                  ro, hierarchies[0][0]), "hierarchy at %s is read-only here" % ro in text and
                  "ReadWritePaths=%s" % ro in text, text)
        finally:
            end_processes([d])
    finally:
        end_processes([qemu])
        for ctrl in OURS:
            if os.path.isdir(gpath(PARENT, ctrl)):
                err = remove_tree(gpath(PARENT, ctrl))
                check("the test's %s groups removed" % ctrl, err is None, err)
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
