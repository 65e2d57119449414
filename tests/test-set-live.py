#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""kvmtunectl set / revert / vcpupin with real QEMU (KVM, else TCG) and a real kvmtuned, under a
test-owned cgroup parent, configuration directory and runtime directory.

The only policy is what set writes, and it matches this test's VM by its name and a fresh uuid.
With the daemon: `vcpupin VM 0 CPU --runtime` pins vCPU 0 by the time it returns (kvmtuned
reloaded and re-enforced), a later rescan keeps it (taskset drift goes back to it), `set` with
a bad value changes neither the drop-in nor the VM, `revert` undoes the pin, and a runtime
drop-in is gone once the runtime policy directory is cleared and the daemon reloads. Without a
daemon: set applies at once and prints the change, `show` names the drop-in, revert undoes it.
Usage: test-set-live.py KVMTUNED KVMTUNECTL
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from live import TAG, allowed, backend_refused, backend_unavailable, check, end_processes, remove_tree, scope_of, settings_yaml, stop_parent, summary, test_parent, vcpu_tid, wait_named  # noqa: E402

QEMU = "/usr/bin/qemu-system-x86_64"
DAEMON = os.path.abspath(sys.argv[1])
CTL = os.path.abspath(sys.argv[2])
CG = "/sys/fs/cgroup"
V2 = os.path.exists(CG + "/cgroup.controllers")
PARENT = test_parent()
NAME = "set%s-vm" % TAG
UUID = str(uuid.uuid4())
procs = []


def online():
    return open("/sys/devices/system/cpu/online").read().strip()


def wait_for(cond, timeout=10.0, step=0.01):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            if cond():
                return True
        except OSError:
            pass
        time.sleep(step)
    return False


def remove_parent():
    stop_parent(PARENT)
    for c in ("cpu", "cpuacct", "cpuset", "memory", "blkio", "pids"):
        err = remove_tree(os.path.join(CG if V2 else os.path.join(CG, c), PARENT))
        if err:
            print("note: %s: %s" % (PARENT, err))


def main():
    if os.geteuid() != 0:
        print("skipped: needs root (creates cgroups, writes policies owned by root)")
        return 77
    if not os.access(QEMU, os.X_OK):
        print("skipped: %s is not installed" % QEMU)
        return 77
    if backend_unavailable():
        print(backend_unavailable())
        return 77
    if backend_refused():
        print("skipped: the systemd backend is refused on this layout (test-daemon-live proves it)")
        return 77
    cpus = os.sched_getaffinity(0)
    if len(cpus) < 2:
        print("skipped: pinning needs two CPUs to tell a pin from none (this process has %d)" % len(cpus))
        return 77
    pin, other = str(max(cpus)), str(min(cpus))
    accel = "kvm" if os.access("/dev/kvm", os.R_OK | os.W_OK) else "tcg"
    tmp = tempfile.mkdtemp(prefix="kvmtune-set-live-")
    cfg, run, log = os.path.join(tmp, "etc"), os.path.join(tmp, "run"), os.path.join(tmp, "kvmtuned.log")
    os.makedirs(os.path.join(cfg, "policy.d"))
    with open(os.path.join(cfg, "kvmtuned.yaml"), "w") as f:
        f.write(settings_yaml(PARENT, "rescan_interval: 1s\n"))
    rundrop = os.path.join(run, "policy.d", "90-set-%s.yaml" % NAME)
    etcdrop = os.path.join(cfg, "policy.d", "90-set-%s.yaml" % NAME)
    print("parent %s, accel %s, VM %s uuid %s" % (PARENT, accel, NAME, UUID))

    def ctl(*args):
        r = subprocess.run([CTL, "-C", cfg, "--runtime-dir", run] + list(args), capture_output=True,
                           text=True, timeout=120)
        return r.returncode, r.stdout + r.stderr

    try:
        p = subprocess.Popen([QEMU, "-display", "none", "-nodefaults", "-m", "64", "-accel", accel,
                              "-smp", "2", "-name", "guest=%s,debug-threads=on" % NAME, "-uuid", UUID],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             close_fds=True)
        procs.append(p)
        if not check("QEMU names its vCPU threads", wait_named(p.pid, 2)):
            return summary()
        v0 = vcpu_tid(p.pid, 0)
        start = allowed(p.pid, v0)
        d = subprocess.Popen([DAEMON, "-C", cfg, "--runtime-dir", run], stdout=subprocess.DEVNULL,
                             stderr=open(log, "a"), close_fds=True, env={k: v for k, v in os.environ.items()
                                                                         if k not in ("NOTIFY_SOCKET", "JOURNAL_STREAM")})
        procs.append(d)
        check("kvmtuned starts", wait_for(lambda: "started" in open(log).read(), 30), open(log).read()[-1500:])

        # With the daemon: pinned by the time vcpupin returns.
        rc, out = ctl("vcpupin", NAME, "0", pin, "--runtime")
        check("vcpupin --runtime succeeds and has kvmtuned reload", rc == 0 and "kvmtuned reloaded" in out, out)
        check("...vCPU 0 is pinned to CPU %s when it returns (one daemon pass)" % pin,
              allowed(p.pid, v0) == pin, allowed(p.pid, v0))
        drop = open(rundrop).read() if os.path.exists(rundrop) else ""
        check("...the runtime drop-in matches this VM by name and uuid",
              ('name: "%s"' % NAME) in drop and ('uuid: "%s"' % UUID) in drop, drop)
        check("...and nothing is in the persistent directory", not os.path.exists(etcdrop))
        # Drift: the vCPU's group widened by hand and taskset elsewhere; a rescan must put back
        # what the runtime drop-in says, so the daemon holds it as its policy.
        group = os.path.join(CG if V2 else os.path.join(CG, "cpuset"), PARENT, scope_of(NAME), "vcpu0",
                             "cpuset.cpus")
        # The daemon's rescan may narrow the group again between the write and taskset, which the
        # kernel then refuses (EINVAL: not in the cpuset): the drift is made again until it takes.
        moved = None
        for _ in range(10):
            if os.path.exists(group):
                with open(group, "w") as f:
                    f.write(online())
            moved = subprocess.run(["taskset", "-p", "-c", other, str(v0)], capture_output=True, text=True)
            if moved.returncode == 0:
                break
        check("drift made: taskset moved vCPU 0 to CPU %s" % other, moved.returncode == 0,
              moved.stderr)
        check("the pin survives a rescan (the drift goes back to CPU %s)" % pin,
              wait_for(lambda: allowed(p.pid, v0) == pin, 10), allowed(p.pid, v0))

        # A bad value: nothing changes.
        before = open(rundrop).read()
        rc, out = ctl("set", "--runtime", NAME, "cputune.vcpupin.0=999")
        check("set with a CPU the host lacks fails with file:line:col", rc == 1 and
              (rundrop + ":") in out and "not on this host" in out and "nothing written" in out, out)
        check("...the drop-in is unchanged", open(rundrop).read() == before)
        time.sleep(1.5)  # a rescan
        check("...and so is the VM", allowed(p.pid, v0) == pin, allowed(p.pid, v0))

        # revert undoes it in the kernel.
        rc, out = ctl("revert", NAME, "cputune.vcpupin.0")
        check("revert succeeds", rc == 0 and "removed " + rundrop in out, out)
        check("...and vCPU 0 may run everywhere again (%s)" % online(), allowed(p.pid, v0) == online(),
              allowed(p.pid, v0))
        check("...and the emptied drop-in is gone", not os.path.exists(rundrop))

        # A runtime drop-in is gone with the runtime directory's policies (a reboot), while a
        # persistent policy of this VM's own (name and uuid) still fits it.
        with open(os.path.join(cfg, "policy.d", "10-base.yaml"), "w") as f:
            f.write('match: { name: "%s", uuid: "%s" }\ncputune: { shares: 2048 }\n' % (NAME, UUID))
        os.chmod(os.path.join(cfg, "policy.d", "10-base.yaml"), 0o644)
        rc, out = ctl("set", "--runtime", NAME, "cputune.vcpupin.0=" + pin)
        check("set --runtime pins again", rc == 0 and allowed(p.pid, v0) == pin, out)
        shutil.rmtree(os.path.join(run, "policy.d"))
        rc, out = ctl("reload")
        check("the runtime policy directory cleared, a reload unpins", rc == 0 and
              allowed(p.pid, v0) == online(), out + allowed(p.pid, v0))

        # Without a daemon: applied at once, with the apply report.
        os.unlink(os.path.join(cfg, "policy.d", "10-base.yaml"))
        rc, out = ctl("reload")
        d.terminate()
        check("kvmtuned stops", d.wait(10) == 0)
        rc, out = ctl("set", NAME, "cputune.vcpupin.0=" + pin)
        check("set without a daemon applies at once and prints the change",
              rc == 0 and "applied now" in out and
              ("vcpu0/cpuset.cpus = %s" % pin in out or "tid %d (vcpu0) -> CPUs %s" % (v0, pin) in out), out)
        check("...vCPU 0 is pinned", allowed(p.pid, v0) == pin, allowed(p.pid, v0))
        rc, out = ctl("show", NAME)
        check("show names the drop-in as the origin", rc == 0 and ("# %s:" % etcdrop) in out, out)
        rc, out = ctl("revert", NAME)
        check("revert without a daemon undoes it at once", rc == 0 and allowed(p.pid, v0) == online()
              and not os.path.exists(etcdrop), out)
        check("the VM was not pinned before the test (control)", start == online(), start)
    finally:
        end_processes(procs)
        remove_parent()
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
