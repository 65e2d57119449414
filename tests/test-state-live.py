#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the admin sees is true, on this host's real cgroups with real QEMU (KVM where /dev/kvm
is usable, TCG always).

The state of a VM is computed: before apply it is drift, after apply enforced (list, status
--json, verify exit 0); a hand-made drift (taskset on a vCPU, a cgroup file edited) is drift
with the right desired, actual and policy file:line, and verify exits 1; apply makes it
enforced again. A device weight where the disk has no BFQ (v2: no io.cost) is a warning and
exit 0, and the dry run says so too. Removing keys from the policy puts the kernel's defaults
back. A VM in another manager's cgroup is listed as skipped, with that cgroup, and left alone.
`run` finds QEMU in PATH, puts a launch-only numatune in force (status says so, apply no longer
warns), and leaves nothing behind when QEMU cannot start. min_guarantee on v1 is an error. As
anyone but root, the verbs about VMs say they need root and exit 4. Mistyped commands and
options get a "did you mean"; a missing -C directory is an error.

Usage: test-state-live.py KVMTUNECTL. Touches only its own groups and processes.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from live import (TAG, SYSTEMD, allowed, backend_unavailable, check, end_processes,  # noqa: E402
                  remove_tree, scope_of, settings_yaml, stop_parent, summary, test_parent,
                  vcpu_tid, wait_named)

QEMU = "/usr/bin/qemu-system-x86_64"
CTL = os.path.abspath(sys.argv[1])
CG = "/sys/fs/cgroup"
V2 = os.path.exists(CG + "/cgroup.controllers")
PARENT = test_parent()
CONTROLLERS = ("cpu", "cpuacct", "cpuset", "memory", "blkio", "pids")
NOBODY = 65534
procs = []


def VM(name):
    """A VM name of this run: only this run's policies fit it."""
    return "st%s-%s" % (TAG, name)


POLICY = """\
match: { name: "st%s-*" }
cputune:
  shares: 2048
  global_quota: 150000
  vcpupin:
    - { vcpu: 0, cpuset: "0-1" }
blkiotune:
  devices:
    - { path: /dev/vda, weight: 300, read_bytes_sec: 10M }
""" % TAG
SHARES_LINE = 3
VCPUPIN_LINE = 6


def ctl(cfg, *args, user=None):
    kw = {"user": user, "group": user, "extra_groups": []} if user is not None else {}
    return subprocess.run([CTL, "-C", cfg] + list(args), capture_output=True, text=True,
                          timeout=300, **kw)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)


def gpath(ctrl, *parts):
    return os.path.join(CG if V2 else os.path.join(CG, ctrl), PARENT, *parts)


def read(ctrl, rel, file):
    return open(os.path.join(gpath(ctrl, rel), file)).read().strip()


def start_qemu(name, args, prefix=()):
    p = subprocess.Popen(list(prefix) + [QEMU, "-display", "none", "-nodefaults", "-m", "64",
                                         "-name", "guest=%s,debug-threads=on" % name] + args,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, close_fds=True)
    procs.append(p)
    return p


def vm_json(cfg, name):
    r = ctl(cfg, "status", "--json", name)
    try:
        return json.loads(r.stdout)["vms"][0]
    except (ValueError, KeyError, IndexError):
        return {"state": "?", "drift": [], "warnings": [], "errors": [], "raw": r.stdout + r.stderr}


def bfq_on_vda():
    try:
        return "[bfq]" in open("/sys/block/vda/queue/scheduler").read()
    except OSError:
        return False


def weight_file():
    return ("cpu.weight", "200", "100") if V2 else ("cpu.shares", "2048", "1024")


# ---- the parts ----

def states(cfg, pol, name, p):
    wf, want, default = weight_file()
    r = ctl(cfg, "verify", name)
    check("before apply: verify exits 1 (drift)", r.returncode == 1 and "drift" in r.stdout,
          r.stdout + r.stderr)

    r = ctl(cfg, "apply", "--dry-run", name)
    dry_warned = "warning" in r.stderr and "/dev/vda" in r.stderr
    r = ctl(cfg, "apply", name)
    print(r.stdout[-300:] + r.stderr[-600:])
    if bfq_on_vda() and not V2:
        check("device weight with BFQ: written, no warning", r.returncode == 0, r.stderr)
    else:
        check("device weight without BFQ/io.cost: apply exits 0", r.returncode == 0,
              r.stdout + r.stderr)
        check("...with a warning naming the device and how to switch",
              re.search(r"warning: .*/dev/vda.*(bfq|io\.cost)", r.stderr) is not None, r.stderr)
        check("...which the dry run predicted", dry_warned)

    r = ctl(cfg, "list")
    line = [ln for ln in r.stdout.splitlines() if " %s " % name in ln]
    check("after apply: list says enforced", line and line[0].rstrip().endswith("enforced"),
          r.stdout)
    vm = vm_json(cfg, name)
    check("after apply: status --json state enforced", vm["state"] == "enforced", vm)
    check("after apply: status --json has no drift", vm["drift"] == [], vm["drift"])
    r = ctl(cfg, "verify", name)
    check("after apply: verify exits 0", r.returncode == 0 and "enforced" in r.stdout,
          r.stdout + r.stderr)

    # Drift by hand: a vCPU moved with taskset, the VM's weight edited in its cgroup file.
    v0 = vcpu_tid(p.pid, 0)
    subprocess.run(["taskset", "-p", "-c", "1", str(v0)], check=True, capture_output=True)
    write(os.path.join(gpath("cpu", scope_of(name)), wf), default)
    r = ctl(cfg, "verify", name)
    check("drift: verify exits 1", r.returncode == 1, r.stdout + r.stderr)
    check("drift: verify names the weight, desired and actual, with its policy line",
          re.search(r"%s\s+desired %s, actual %s\s+\[%s:%d\]" %
                    (re.escape(wf), want, default, re.escape(pol), SHARES_LINE), r.stdout),
          r.stdout)
    check("drift: verify names the vCPU's affinity, desired 0-1, actual 1",
          re.search(r"tid %d\s+desired 0-1, actual 1\s+\[%s:%d\]" % (v0, re.escape(pol), VCPUPIN_LINE),
                    r.stdout), r.stdout)
    vm = vm_json(cfg, name)
    check("drift: status --json state drift", vm["state"] == "drift", vm)
    weight = [d for d in vm["drift"] if d.get("where", "").endswith("/" + wf)]
    check("drift: the JSON entry has desired, actual and the policy's file and line",
          weight and weight[0]["desired"] == want and weight[0]["actual"] == default and
          weight[0]["policy"] == {"file": pol, "line": SHARES_LINE, "column": 11}, vm["drift"])
    r = ctl(cfg, "status", name)
    check("drift: status shows the drift section", "  drift:" in r.stdout and "desired" in r.stdout,
          r.stdout)

    r = ctl(cfg, "apply", name)
    check("apply reverts the drift", r.returncode == 0 and allowed(p.pid, v0) == "0-1" and
          read("cpu", scope_of(name), wf) == want, r.stdout + r.stderr)
    r = ctl(cfg, "verify", name)
    check("and verify exits 0 again", r.returncode == 0, r.stdout + r.stderr)


def status_reads_like_virsh(cfg, name):
    r = ctl(cfg, "status", name)
    out = r.stdout
    sched = out.split("schedinfo")[-1].splitlines()
    first = sched[1] if len(sched) > 1 else ""
    check("status: schedinfo starts with the VM group's own values",
          scope_of(name) + " " in first and "(the VM)" in first and
          ("shares 2048" in first or "weight 200" in first) and "quota 150000" in first, out)
    check("status: a SCHEDULER column, each thread's policy", "SCHEDULER" in out and
          re.search(r"\bother\b", out), out)
    check("status: the backend line", re.search(r"backend:\s+%s, parent %s" %
                                                ("systemd" if SYSTEMD else "cgroupfs", PARENT), out), out)


def key_removal(cfg, pol, name):
    wf, want, default = weight_file()
    write(pol, POLICY.replace("  shares: 2048\n", "").replace(
        "blkiotune:\n  devices:\n    - { path: /dev/vda, weight: 300, read_bytes_sec: 10M }\n", ""))
    r = ctl(cfg, "apply", name)
    check("removing keys: apply exits 0", r.returncode == 0, r.stdout + r.stderr)
    check("removing shares: the kernel's default weight is back (%s)" % default,
          read("cpu", scope_of(name), wf) == default, read("cpu", scope_of(name), wf))
    major_minor = "%d:%d" % divmod(os.stat("/dev/vda").st_rdev, 256)
    if V2:
        io_max = read("cpu", scope_of(name), "io.max")
        check("removing the throttle: io.max has no entry for vda", major_minor not in io_max, io_max)
    else:
        bps = read("blkio", scope_of(name), "blkio.throttle.read_bps_device")
        check("removing the throttle: blkio.throttle.read_bps_device has no entry for vda",
              major_minor not in bps, bps)
    r = ctl(cfg, "verify", name)
    check("removing keys: then verify exits 0", r.returncode == 0, r.stdout + r.stderr)
    write(pol, POLICY)


def skipped(cfg, tmp):
    """A QEMU in a cgroup named like libvirt's: listed as skipped with that cgroup, left alone."""
    name = VM("lv")
    unit = "machine-qemu\\x2d%s.scope" % TAG
    if open("/proc/1/comm").read().strip() == "systemd":
        p = start_qemu(name, ["-accel", "tcg", "-smp", "1"],
                       prefix=["systemd-run", "--quiet", "--scope", "--unit", unit])
    else:
        p = start_qemu(name, ["-accel", "tcg", "-smp", "1", "-S"])
        g = os.path.join(CG, "cpu", PARENT, unit) if not V2 else os.path.join(CG, PARENT, unit)
        os.makedirs(g)
        write(os.path.join(g, "cgroup.procs"), str(p.pid))
    wait_named(p.pid, 1)
    r = ctl(cfg, "list")
    line = [ln for ln in r.stdout.splitlines() if " %s " % name in ln]
    check("skipped: list shows another manager's VM", bool(line), r.stdout)
    check("skipped: its state says skipped and names its group",
          line and "skipped" in line[0] and "machine-qemu" in line[0], line)
    r = ctl(cfg, "verify", name)
    check("skipped: verify exits 0 (not ours to enforce)", r.returncode == 0, r.stdout + r.stderr)
    r = ctl(cfg, "apply", name)
    check("skipped: apply names it and leaves it alone",
          r.returncode == 0 and "left alone" in r.stdout and
          not os.path.exists(gpath("cpu", scope_of(name))), r.stdout + r.stderr)
    p.kill()
    p.wait()
    if open("/proc/1/comm").read().strip() != "systemd":
        remove_tree(os.path.join(CG, "cpu", PARENT, unit) if not V2 else os.path.join(CG, PARENT, unit))


def run_parts(cfg, tmp):
    # A launch-only numatune: run puts it in force, status says so, apply stops warning.
    nodes = "0-1" if os.path.exists("/sys/devices/system/node/node1") else "0"
    name = VM("run")
    write(os.path.join(cfg, "policy.d", "20-run.yaml"),
          'match: { name: "%s" }\nnumatune:\n  memory: { mode: interleave, nodeset: "%s" }\n'
          % (name, nodes))
    env = dict(os.environ, PATH="/usr/bin:/bin")
    rp = subprocess.Popen([CTL, "-C", cfg, "run", name, "--", "qemu-system-x86_64", "-accel", "tcg",
                           "-smp", "2", "-m", "64", "-display", "none", "-nodefaults",
                           "-name", "guest=%s,debug-threads=on" % name],
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)
    procs.append(rp)
    started = wait_named(rp.pid, 2)
    check("run: a bare qemu-system-x86_64 is found in PATH and started", started and
          os.readlink("/proc/%d/exe" % rp.pid) == QEMU)
    r = ctl(cfg, "apply", name)
    check("run: apply no longer warns that interleave applies at launch only",
          r.returncode == 0 and "launch only" not in r.stderr, r.stdout + r.stderr)
    r = ctl(cfg, "status", name)
    check("run: status says the launch-only mode is in force",
          "interleave nodes %s (launch-only, in force since run)" % nodes in r.stdout, r.stdout)
    r = ctl(cfg, "verify", name)
    check("run: verify exits 0", r.returncode == 0, r.stdout + r.stderr)
    rp.terminate()
    rp.wait(10)

    # QEMU that cannot start: nothing is left behind.
    bad = os.path.join(tmp, "not-qemu")
    write(bad, "#!/nonexistent/interpreter\n")
    os.chmod(bad, 0o755)
    name = VM("bad")
    r = ctl(cfg, "run", name, "--", bad)
    check("run: a command that cannot start exits 1 and says why",
          r.returncode == 1 and "cannot start" in r.stderr, r.stdout + r.stderr)
    left = [c for c in CONTROLLERS if os.path.exists(gpath(c, scope_of(name)))]
    check("run: ...and removes the groups it made", not left, left)


def cli(cfg, tmp):
    try:
        usable = ctl(cfg, "--version", user=NOBODY).returncode == 0
    except PermissionError:
        usable = False
    if not usable:
        print("skipped: the not-root runs: uid %d cannot execute %s here" % (NOBODY, CTL))
    for verb in ("list", "status", "verify", "apply", "run", "reload") if usable else ():
        args = [verb] + (["x", "--", QEMU] if verb == "run" else [])
        r = ctl(cfg, *args, user=NOBODY)
        check("not root: %s exits 4 and says it needs root" % verb,
              r.returncode == 4 and "needs root" in r.stderr, (r.returncode, r.stdout, r.stderr))
    if usable:
        r = ctl(cfg, "check", user=NOBODY)
        check("not root: check still works (exit %d)" % r.returncode, r.returncode in (0, 1),
              r.stdout + r.stderr)
    r = subprocess.run([CTL, "-C", os.path.join(tmp, "nonexistent"), "check"], capture_output=True, text=True)
    check("a missing -C directory is an error (exit 2)", r.returncode == 2 and "nonexistent" in r.stderr,
          (r.returncode, r.stdout, r.stderr))
    r = ctl(cfg, "stauts")
    check("stauts: did you mean 'status'", r.returncode == 2 and "did you mean 'status'" in r.stderr, r.stderr)
    check("the allowed verbs come from the table (reload, verify)", "reload" in r.stderr and "verify" in r.stderr,
          r.stderr)
    r = ctl(cfg, "status", "--jsn")
    check("status --jsn: the verb, the option, did you mean '--json'",
          r.returncode == 2 and r.stderr.startswith("kvmtunectl status: ") and "--json" in r.stderr, r.stderr)
    r = ctl(cfg, "apply", "--help")
    check("apply --help describes its options", "--dry-run" in r.stdout and "--quiet" in r.stdout, r.stdout)


def min_guarantee(cfg, tmp):
    f = os.path.join(tmp, "min.yaml")
    write(f, "memtune:\n  hard_limit: 1G\n  min_guarantee: 256M\n")
    r = subprocess.run([CTL, "-C", cfg, "check", f], capture_output=True, text=True)
    if V2:
        check("min_guarantee on v2: check accepts it", r.returncode == 0, r.stdout + r.stderr)
    else:
        check("min_guarantee on v1: an error with file:line:col",
              r.returncode == 1 and re.search(r"%s:3:\d+: error: memtune\.min_guarantee" % re.escape(f),
                                              r.stdout + r.stderr), r.stdout + r.stderr)


def remove_parent():
    stop_parent(PARENT)
    for c in CONTROLLERS:
        err = remove_tree(gpath(c))
        if err:
            print("note: %s: %s" % (gpath(c), err))


def main():
    if os.geteuid() != 0:
        print("skipped: needs root (creates cgroups)")
        return 77
    if not os.access(QEMU, os.X_OK):
        print("skipped: %s is not installed" % QEMU)
        return 77
    if backend_unavailable():
        print(backend_unavailable())
        return 77
    if not os.path.exists("/dev/vda"):
        print("skipped: the blkiotune part names /dev/vda, which this host lacks")
        return 77
    accel = "kvm" if os.access("/dev/kvm", os.R_OK | os.W_OK) else "tcg"
    print("accelerator %s%s" % (accel, "" if accel == "kvm" else " (/dev/kvm is not usable here)"))
    tmp = tempfile.mkdtemp(prefix="kvmtune-state-")
    os.chmod(tmp, 0o755)  # the not-root runs read the configuration too
    cfg = os.path.join(tmp, "etc")
    os.makedirs(os.path.join(cfg, "policy.d"))
    os.chmod(cfg, 0o755)
    os.chmod(os.path.join(cfg, "policy.d"), 0o755)
    write(os.path.join(cfg, "kvmtuned.yaml"), settings_yaml(PARENT))
    pol = os.path.join(cfg, "policy.d", "10-state.yaml")
    write(pol, POLICY)
    try:
        name = VM(accel)
        p = start_qemu(name, ["-accel", accel, "-smp", "2"])
        check("%s: started" % name, wait_named(p.pid, 2))
        states(cfg, pol, name, p)
        status_reads_like_virsh(cfg, name)
        key_removal(cfg, pol, name)
        skipped(cfg, tmp)
        run_parts(cfg, tmp)
        cli(cfg, tmp)
        min_guarantee(cfg, tmp)
    finally:
        end_processes(procs)
        if os.path.isdir(cfg):
            ctl(cfg, "apply")  # the VMs are gone: their groups go
        remove_parent()
        check("cleanup: no test cgroup is left",
              not any(os.path.isdir(gpath(c)) for c in CONTROLLERS))
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
