# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the live tests (real QEMU, real cgroups) share: checks that tally, and ending the
processes a test started, by pid only."""
import os
import signal
import subprocess

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


def summary():
    print()
    print("%d check(s) failed" % len(failures) if failures else "all checks passed")
    return 1 if failures else 0
