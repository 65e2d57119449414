# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the live tests (real QEMU, real cgroups) share: checks that tally, ending the processes
a test started (by pid only), and the backend under test (KVMTUNE_TEST_BACKEND: cgroupfs, the
default, or systemd) with a cgroup parent the test owns."""
import os
import random
import signal
import socket
import subprocess
import threading
import time

BACKEND = os.environ.get("KVMTUNE_TEST_BACKEND", "cgroupfs")
# In every VM name a test starts, and in its policies' match globs: a test's policy must never
# fit a VM it did not start (another run's, an admin's), since apply without names and the
# daemon enforce every VM a policy fits.
TAG = "%04x" % random.randrange(16 ** 4)
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


def skip_reason(qemu):
    """Why a test with real QEMU processes and cgroups cannot run here (said on a skip), or None."""
    if os.geteuid() != 0:
        return "skipped: needs root (creates cgroups, reads process events)"
    if not os.access(qemu, os.X_OK):
        return "skipped: %s is not installed" % qemu
    return backend_unavailable()


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


CG = "/sys/fs/cgroup"


def gpath(parent, ctrl, *parts):
    """A group below parent in controller ctrl's hierarchy (v2: the one hierarchy)."""
    return os.path.join(CG if V2 else os.path.join(CG, ctrl), parent, *parts)


# ---- processes and threads (the live tests that start QEMU) ----

def threads(pid):
    """{tid: comm} of a process's threads now."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for tid in tids:
        try:
            out[int(tid)] = open("/proc/%d/task/%s/comm" % (pid, tid)).read().strip()
        except OSError:
            pass
    return out


def wait_named(pid, vcpus, iothreads=0, timeout=60):  # a hang guard, not a timing check
    """Until QEMU (-name debug-threads=on) has named its vCPU and iothread threads."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        names = threads(pid).values()
        if sum(n.startswith("CPU ") for n in names) >= vcpus and \
                sum(n.startswith("IO ") for n in names) >= iothreads:
            time.sleep(0.3)
            return True
        time.sleep(0.05)
    return False


def vcpu_tid(pid, index):
    """The tid of vCPU index ("CPU 0/TCG", "CPU 0/KVM")."""
    return [t for t, n in threads(pid).items() if n.startswith("CPU %d/" % index)][0]


def allowed(pid, tid):
    """A thread's Cpus_allowed_list."""
    for line in open("/proc/%d/task/%d/status" % (pid, tid)):
        if line.startswith("Cpus_allowed_list:"):
            return line.split()[1]
    return None


def scope_of(name):
    """The VM group name kvmtune gives the VM name (systemd's escaping of '-')."""
    return "kvmtune-%s.scope" % name.replace("-", "\\x2d")


def cgroup_of(pid, tid):
    """The thread's group in the cpu hierarchy (v2: the unified one)."""
    for line in open("/proc/%d/task/%d/cgroup" % (pid, tid)):
        n, ctrls, path = line.rstrip("\n").split(":", 2)
        if (V2 and n == "0") or (not V2 and "cpu" in ctrls.split(",")):
            return path


def rss(pid):
    """Resident bytes of a process, from statm."""
    return int(open("/proc/%d/statm" % pid).read().split()[1]) * os.sysconf("SC_PAGESIZE")


def wait_for(cond, timeout=10.0, step=0.005):
    """Polls cond until true; returns the seconds it took, or None. The timeout only keeps a
    hang from stalling the suite: it is no timing check (the host may be loaded)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            if cond():
                return time.monotonic() - t0
        except OSError:
            pass
        time.sleep(step)
    return None


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


class Notify:
    """The NOTIFY_SOCKET systemd would give the daemon, read all the time as systemd does (a
    full queue would block the daemon's sd_notify)."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.messages = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            self.messages.append(self.sock.recv(4096).decode())

    def drain(self):
        return self.messages

    def seen(self, text):
        return any(text in m for m in list(self.messages))


class Daemon:
    """kvmtuned on a configuration of the test's, its log in a file; appended to procs."""

    def __init__(self, daemon, cfg, run, notify, log, procs, env=None):
        self.log = log
        env = dict(os.environ, NOTIFY_SOCKET=notify.path, **(env or {}))
        env.pop("JOURNAL_STREAM", None)
        self.p = subprocess.Popen([daemon, "-C", cfg, "--runtime-dir", run], env=env,
                                  stdout=subprocess.DEVNULL, stderr=open(log, "a"), close_fds=True)
        procs.append(self.p)

    def text(self):
        return open(self.log).read()
