#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""kvmtuned with real QEMU processes and real cgroups, under a test-owned parent.

A VM started after the daemon is enforced; a vCPU hot-plugged through QMP is pinned without a
rescan; taskset drift is reverted at the next rescan and logged; kill -9 and a restart make zero
writes; a valid policy edit + SIGHUP re-enforces; a broken policy + SIGHUP keeps the old policy,
logs the error with file:line:col and the daemon lives on; `kvmtunectl reload` returns after the
reload; a VM's exit removes its groups; SIGTERM leaves the VMs as they are. sd_notify messages
(READY=1, STATUS=, RELOADING=1 with MONOTONIC_USEC) are read from a NOTIFY_SOCKET of the test's.
Usage: test-daemon-live.py KVMTUNED KVMTUNECTL
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp import QMP  # noqa: E402
from live import TAG, SYSTEMD, Notify, allowed, backend_refused, backend_unavailable, cgroup_of, check, end_processes, layout, remove_tree, settings_yaml, stop_parent, summary, test_parent, wait_for  # noqa: E402

QEMU = "/usr/bin/qemu-system-x86_64"


def VM(name):
    """A VM name of this run: only this run's policies fit it."""
    return "dmn%s-%s" % (TAG, name)

DAEMON = os.path.abspath(sys.argv[1])
CTL = os.path.abspath(sys.argv[2])
CG = "/sys/fs/cgroup"
V2 = os.path.exists(CG + "/cgroup.controllers")
PARENT = test_parent()
# How long a check waits for what must happen: a guard against a hang, not a timing check (the
# host may be loaded, the guest is emulated); the figures printed beside some are information.
HANG = 60
procs = []

POLICY = """\
match: { name: "dmn@TAG@-*" }
cputune:
  shares: 2048
  vcpupin:
    - { vcpu: 0, cpuset: "0" }
    - { vcpu: 1, cpuset: "0-1" }
  emulatorpin: "0"
memtune:
  hard_limit: 1G
"""
POLICY = POLICY.replace("@TAG@", TAG)


def scope(name):
    return "kvmtune-%s.scope" % name.replace("-", "\\x2d")


def gpath(ctrl, *parts):
    return os.path.join(CG if V2 else os.path.join(CG, ctrl), PARENT, *parts)


def weight(name):
    try:
        return open(os.path.join(gpath("cpu", scope(name)), "cpu.weight" if V2 else "cpu.shares")).read().strip()
    except OSError:
        return None


def threads(pid):
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            out[int(tid)] = open("/proc/%d/task/%s/comm" % (pid, tid)).read().strip()
        except OSError:
            pass
    return out


class Daemon:
    def __init__(self, cfg, run, notify, log):
        self.log = log
        env = dict(os.environ, NOTIFY_SOCKET=notify.path)
        env.pop("JOURNAL_STREAM", None)
        self.p = subprocess.Popen([DAEMON, "-C", cfg, "--runtime-dir", run], env=env,
                                  stdout=subprocess.DEVNULL, stderr=open(log, "a"), close_fds=True)
        procs.append(self.p)

    def text(self):
        return open(self.log).read()


def start_qemu(tmp, name, args):
    sock = os.path.join(tmp, name + ".qmp")
    p = subprocess.Popen([QEMU, "-display", "none", "-nodefaults", "-m", "64", "-name", "guest=%s,debug-threads=on" % name,
                          "-qmp", "unix:%s,server=on,wait=off" % sock] + args,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)
    procs.append(p)
    return p, sock


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)


def remove_parent():
    stop_parent(PARENT)
    for c in ("cpu", "cpuacct", "cpuset", "memory", "blkio", "pids"):
        err = remove_tree(gpath(c))
        if err:
            print("note: %s: %s" % (gpath(c), err))


def check_refused(cfg, run, notify, log, tmp):
    """A v1 host under systemd: kvmtuned with backend systemd does not start, and says why."""
    try:
        d = Daemon(cfg, run, notify, log)
        try:
            rc = d.p.wait(30)
        except subprocess.TimeoutExpired:
            rc = None
        check("kvmtuned with backend systemd on a %s host exits with a failure" % layout(), rc not in (None, 0),
              "exit %s" % rc)
        check("...logging why: the hierarchy is %s, not unified" % layout(),
              "backend systemd: the cgroup hierarchy is %s" % layout() in d.text() and "not unified" in d.text(),
              d.text()[-1000:])
        check("...without READY=1 and without a group", not notify.seen("READY=1") and
              not any(os.path.exists(gpath(c)) for c in ("cpu", "cpuset", "memory")), notify.messages)
    finally:
        end_processes(procs)
        remove_parent()
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


def main():
    if os.geteuid() != 0:
        print("skipped: needs root (creates cgroups, reads process events)")
        return 77
    if not os.access(QEMU, os.X_OK):
        print("skipped: %s is not installed" % QEMU)
        return 77
    if backend_unavailable():
        print(backend_unavailable())
        return 77
    accel = "kvm" if os.access("/dev/kvm", os.R_OK | os.W_OK) else "tcg"
    tmp = tempfile.mkdtemp(prefix="kvmtune-daemon-")
    cfg, run, log = os.path.join(tmp, "etc"), os.path.join(tmp, "run"), os.path.join(tmp, "kvmtuned.log")
    os.makedirs(os.path.join(cfg, "policy.d"))
    pol = os.path.join(cfg, "policy.d", "10-dmn.yaml")
    write(pol, POLICY)
    write(os.path.join(cfg, "kvmtuned.yaml"), settings_yaml(PARENT, "rescan_interval: 1h\n"))
    notify = Notify(os.path.join(tmp, "notify"))
    print("cgroup %s, parent %s, accel %s, backend %s" % ("v2" if V2 else "v1/hybrid", PARENT, accel,
                                                          "systemd" if SYSTEMD else "cgroupfs"))
    if backend_refused():
        return check_refused(cfg, run, notify, log, tmp)
    try:
        d = Daemon(cfg, run, notify, log)
        check("READY=1 after the first pass", wait_for(lambda: notify.seen("READY=1"), HANG) is not None,
              notify.messages)
        if SYSTEMD:
            check("the log names the backend", "backend: systemd" in d.text(), d.text()[-1000:])
        check("STATUS= says what is enforced", notify.seen("STATUS=") and any("VM(s)" in m for m in notify.messages),
              notify.messages)

        # A VM started after the daemon: enforced from process events (the rescan is 1 h away).
        p, sock = start_qemu(tmp, VM("one"), ["-accel", accel, "-smp", "1,maxcpus=2"])
        want = "200" if V2 else "2048"
        took = wait_for(lambda: weight(VM("one")) == want, HANG)
        check("a VM started after the daemon is enforced (%.0f ms)" % ((took or 0) * 1000), took is not None,
              open(log).read()[-2000:])
        print("info: %s backend: QEMU started -> its VM group enforced in %.0f ms"
              % ("systemd" if SYSTEMD else "cgroupfs", (took or 0) * 1000))
        took = wait_for(lambda: any(c.startswith("CPU 0/") and allowed(p.pid, t) == "0" for t, c in threads(p.pid).items()), HANG)
        check("its vCPU 0 is pinned to CPU 0", took is not None)

        # Hot-plug through QMP: pinned from the events, without a rescan.
        with QMP(sock) as q:
            slot = [c for c in q.cmd("query-hotpluggable-cpus") if "qom-path" not in c][0]
            t0 = time.monotonic()
            q.cmd("device_add", dict(slot["props"], driver=slot["type"], id="cpu1"))

        def hotplugged_placed():
            tids = [t for t, c in threads(p.pid).items() if c.startswith("CPU 1/")]
            return tids and cgroup_of(p.pid, tids[0]).endswith("/%s/vcpu1" % scope(VM("one"))) and \
                allowed(p.pid, tids[0]) == "0-1"
        took = wait_for(hotplugged_placed, HANG)
        check("a hot-plugged vCPU is placed and pinned without a rescan (%.0f ms after device_add)"
              % ((time.monotonic() - t0) * 1000 if took is not None else 0), took is not None)
        check("...and no rescan ran meanwhile", "rescan:" not in d.text() and "rescan" not in d.text())

        # Restart: kill -9, start again: zero writes. The hot-plugged vCPU is given time to be
        # older than the two clock ticks in which a thread's name is not trusted yet (a daemon
        # starting within them looks at it again 50 ms later, and changes what it did).
        time.sleep(0.1)
        d.p.kill()
        d.p.wait()
        mark = len(d.text())
        notify.drain()
        notify.messages.clear()
        d = Daemon(cfg, run, notify, log)
        wait_for(lambda: notify.seen("READY=1"), HANG)
        started = [l for l in d.text()[mark:].splitlines() if "started" in l]
        check("after kill -9 and a restart the daemon changes nothing", started and "0 change(s) made" in started[0],
              d.text()[mark:])

        # A valid policy edit + SIGHUP: re-enforced; RELOADING=1 with MONOTONIC_USEC, then READY=1.
        notify.drain()
        notify.messages.clear()
        write(pol, POLICY.replace("shares: 2048", "shares: 4096"))
        d.p.send_signal(signal.SIGHUP)
        want = "400" if V2 else "4096"
        check("SIGHUP with a valid edit re-enforces", wait_for(lambda: weight(VM("one")) == want, HANG) is not None,
              weight(VM("one")))
        wait_for(lambda: notify.seen("READY=1"), HANG)
        check("reload says RELOADING=1 with MONOTONIC_USEC, then READY=1",
              any("RELOADING=1" in m and "MONOTONIC_USEC=" in m for m in notify.messages) and
              any("READY=1" in m for m in notify.messages), notify.messages)

        # A broken policy + SIGHUP: the file's last good version stays; error logged; alive.
        mark = len(d.text())
        write(pol, POLICY.replace("shares: 2048", "shares: 1"))
        d.p.send_signal(signal.SIGHUP)
        wait_for(lambda: "last good version" in d.text()[mark:], HANG)
        after = d.text()[mark:]
        check("a broken policy's error is logged with file:line:col", "10-dmn.yaml:3:11: error: cputune.shares" in after, after)
        check("...its last good version stays in force", weight(VM("one")) == want and "last good version" in after,
              weight(VM("one")))
        check("...and the daemon lives on", d.p.poll() is None)

        # kvmtunectl reload returns after the reload, and says that a file has errors.
        r = subprocess.run([CTL, "-C", cfg, "--runtime-dir", run, "reload"], capture_output=True, text=True, timeout=60)
        check("kvmtunectl reload answers and names the files with errors (exit 1)",
              r.returncode == 1 and "1 file(s) have errors" in r.stderr, r.stdout + r.stderr)
        write(pol, POLICY)
        r = subprocess.run([CTL, "-C", cfg, "--runtime-dir", run, "reload"], capture_output=True, text=True, timeout=60)
        check("kvmtunectl reload returns once enforced",
              r.returncode == 0 and weight(VM("one")) == ("200" if V2 else "2048"), r.stdout + r.stderr)

        # A hostile file (one alias of 1000 unknown keys repeated 1000 times: a million errors
        # before the loader's budgets) costs a reload one error, not minutes and gigabytes.
        hostile = os.path.join(cfg, "policy.d", "20-hostile.yaml")
        write(hostile, "x: &a {%s}\ncputune: {vcpupin: [%s]}\n"
              % (", ".join("k%d: 0" % i for i in range(1000)), ",".join(["*a"] * 1000)))
        rss = lambda: int(open("/proc/%d/statm" % d.p.pid).read().split()[1]) * os.sysconf("SC_PAGESIZE")
        before, mark = rss(), len(d.text())
        r = subprocess.run([CTL, "-C", cfg, "--runtime-dir", run, "reload"], capture_output=True, text=True, timeout=60)
        after = d.text()[mark:]
        check("a reload with an alias bomb in policy.d answers, the file refused with one error",
              r.returncode == 1 and "20-hostile.yaml:2:" in after and "more than 100000 YAML nodes" in after
              and sum("20-hostile.yaml:" in l and ": error:" in l for l in after.splitlines()) == 1,
              r.stderr + after[-2000:])
        check("...the daemon's memory grew by less than 32 MB (%.1f MB)" % ((rss() - before) / 2**20),
              rss() - before < 32 << 20)
        check("...and the other policies stay in force", weight(VM("one")) == ("200" if V2 else "2048"))
        os.unlink(hostile)

        # Drift, with a 1 s rescan: taskset on vCPU 1 is reverted and logged.
        d.p.send_signal(signal.SIGTERM)
        d.p.wait(10)
        write(os.path.join(cfg, "kvmtuned.yaml"), settings_yaml(PARENT, "rescan_interval: 1s\n"))
        mark = len(d.text())
        d = Daemon(cfg, run, notify, log)
        wait_for(lambda: "started" in d.text()[mark:], HANG)
        v1 = [t for t, c in threads(p.pid).items() if c.startswith("CPU 1/")][0]
        subprocess.run(["taskset", "-p", "-c", "1", str(v1)], check=True, capture_output=True)
        took = wait_for(lambda: allowed(p.pid, v1) == "0-1", HANG)
        check("taskset drift is reverted at the next rescan", took is not None, allowed(p.pid, v1))
        wait_for(lambda: "reverted" in d.text()[mark:], HANG)
        check("...and logged with what was reverted", "reverted vcpu1 affinity of tid %d" % v1 in d.text()[mark:],
              d.text()[mark:])
        # A hand-written value on the VM group (on systemd, a file systemd owns) is reverted too.
        wfile = os.path.join(gpath("cpu", scope(VM("one"))), "cpu.weight" if V2 else "cpu.shares")
        write(wfile, "50")
        want = "200" if V2 else "2048"
        took = wait_for(lambda: weight(VM("one")) == want, HANG)
        check("a hand-written cpu weight is reverted at the next rescan", took is not None, weight(VM("one")))
        if SYSTEMD:
            shown = subprocess.run(["systemctl", "show", "-p", "CPUWeight", "--value", scope(VM("one"))],
                                   capture_output=True, text=True).stdout.strip()
            check("...through systemd, whose unit says so too (CPUWeight=%s)" % shown, shown == "200", shown)
            machines = subprocess.run(["machinectl", "list", "--no-legend"], capture_output=True, text=True).stdout
            check("machinectl list shows the VM", re.search(r"^%s\s+vm\s" % re.escape(VM("one")), machines, re.M), machines)

        # SIGTERM: the VM stays as it is.
        d.p.send_signal(signal.SIGTERM)
        check("SIGTERM stops the daemon", d.p.wait(10) == 0)
        check("...and the VM keeps its groups and pinning",
              weight(VM("one")) == ("200" if V2 else "2048") and allowed(p.pid, v1) == "0-1")

        # A VM's exit removes its groups (the daemon running again).
        mark = len(d.text())
        d = Daemon(cfg, run, notify, log)
        wait_for(lambda: "started" in d.text()[mark:], HANG)
        p.send_signal(signal.SIGTERM)
        p.wait(10)
        took = wait_for(lambda: not os.path.exists(gpath("cpu", scope(VM("one")))), HANG)
        check("a VM's exit removes its groups (%.0f ms)" % ((took or 0) * 1000), took is not None)
        if SYSTEMD:
            gone = wait_for(lambda: VM("one") not in subprocess.run(["machinectl", "list", "--no-legend"], capture_output=True,
                                                                    text=True).stdout, HANG)
            check("...its scope is gone and machined forgot it", gone is not None and subprocess.run(
                ["systemctl", "is-active", scope(VM("one"))], capture_output=True, text=True).stdout.strip() != "active")
        check("...without an error in the log", "could not" not in d.text()[mark:] and "ERR" not in d.text()[mark:],
              d.text()[mark:])
        d.p.send_signal(signal.SIGTERM)
        d.p.wait(10)
    finally:
        end_processes(procs)
        remove_parent()
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
