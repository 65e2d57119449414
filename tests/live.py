# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the live tests (real QEMU, real cgroups) share: checks that tally, ending the processes
a test started (by pid only), and the backend under test (KVMTUNE_TEST_BACKEND: cgroupfs, the
default, or systemd) with a cgroup parent the test owns."""
import os
import random
import signal
import subprocess

BACKEND = os.environ.get("KVMTUNE_TEST_BACKEND", "cgroupfs")
SYSTEMD = BACKEND == "systemd"
V2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
PID1_SYSTEMD = open("/proc/1/comm").read().strip() == "systemd"


def layout():
    """unified (pure v2), hybrid (v1 controllers, cgroup2 at /sys/fs/cgroup/unified) or legacy."""
    if V2:
        return "unified"
    return "hybrid" if os.path.exists("/sys/fs/cgroup/unified/cgroup.procs") else "legacy"

failures = []


def check(what, ok, detail=""):
    """One named check: printed as ok/FAIL, failures counted for the exit status."""
    print(("ok: " if ok else "FAIL: ") + what + ("" if ok else "\n    " + str(detail)))
    if not ok:
        failures.append(what)
    return ok


def end_processes(procs, daemon_pids=(), exe=None):
    """SIGTERM, then SIGKILL after 10 s, for Popen objects this test started; daemonized pids
    are signalled only while their executable still is exe (a reused pid is left alone)."""
    for pid in daemon_pids:
        try:
            if os.readlink("/proc/%d/exe" % pid) == exe:
                os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def remove_tree(path):
    """rmdir a cgroup directory and the groups under it, deepest first (cgroup directories hold
    only kernel files, so rmdir is all it takes once their tasks are gone). Returns the error
    that kept path itself, or None."""
    if not os.path.isdir(path):
        return None
    for root, dirs, _ in os.walk(path, topdown=False):
        for d in dirs:
            try:
                os.rmdir(os.path.join(root, d))
            except OSError:
                pass
    try:
        os.rmdir(path)
    except OSError as e:
        return e
    return None


def test_parent():
    """A parent of this test's own: a plain group for cgroupfs; for systemd a slice without '-',
    so that its group is its name."""
    n = random.randrange(10 ** 6)
    return "kvmtunetest%06d.slice" % n if SYSTEMD else "kvmtune-test-%06d" % n


def backend_unavailable():
    """Why the backend under test cannot run here, or None."""
    if SYSTEMD and not PID1_SYSTEMD:
        return "skipped: KVMTUNE_TEST_BACKEND=systemd needs systemd as PID 1 (the tests/vm guests)"
    return None


def backend_refused():
    """True where kvmtune refuses the backend under test: systemd on a v1 host (legacy or hybrid)
    whose PID 1 is systemd. The tests then prove the refusal instead."""
    return SYSTEMD and PID1_SYSTEMD and not V2


REFUSAL = "not unified"  # what the refusal says, beside the layout's name


def settings_yaml(parent, extra=""):
    return "backend: %s\ncgroup_parent: %s\n%s" % (BACKEND, parent, extra)


def stop_parent(parent):
    """systemd: the test's slice is a unit; stopping it removes its group."""
    if SYSTEMD:
        subprocess.run(["systemctl", "stop", parent], capture_output=True)


def summary():
    print()
    print("%d check(s) failed" % len(failures) if failures else "all checks passed")
    return 1 if failures else 0
