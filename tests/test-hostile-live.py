#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A VM owner is an adversary: each attack of the security model, on real processes.

The attacker is user nobody running an allowlisted binary: real QEMU, or the stand-in
(tests/hostile/standin.c, exec'd from a path the test's qemu_binaries match) whose QMP socket
misbehaves on purpose. Checked, with kvmtunectl and with kvmtuned:
  - a QMP socket that floods (events, an endless line, a drip) costs one deadline, no more;
  - a vCPU thread that ends while kvmtune waits, its TID handed to another process
    (ns_last_pid): that process is not pinned, rescheduled or moved;
  - a QMP socket replaced by a symlink to a root-only socket, or by another process's socket:
    not connected to (the root server sees nobody) and reported;
  - two VMs of one name from two users: one group, the later refused and named;
  - FIFOs and device nodes in policy.d and as kvmtuned.yaml: errors, no hang;
  - escape sequences and newlines in VM and thread names: escaped on the terminal and in the log;
  - the control socket: 0600, whole commands only, a silent client costs nothing;
  - configuration under a group-writable directory or behind a symlink into one: refused;
  - an empty -name: the group is named after the uuid.
Times are printed, not asserted (the host is shared; the guest is emulated).

Usage: test-hostile-live.py KVMTUNED KVMTUNECTL STANDIN. Root. Ends only its own processes.
"""
import errno
import json
import os
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from live import TAG, backend_unavailable, check, end_processes, remove_tree, settings_yaml, stop_parent, summary, test_parent  # noqa: E402

DAEMON, CTL, STANDIN_BUILT = (os.path.abspath(a) for a in sys.argv[1:4])
QEMU = "/usr/bin/qemu-system-x86_64"
CG = "/sys/fs/cgroup"
V2 = os.path.exists(CG + "/cgroup.controllers")
PARENT = test_parent()
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
procs = []


def vm(name):
    return "hst%s-%s" % (TAG, name)


def ctl(cfg, *args, timeout=120):
    t0 = time.monotonic()
    r = subprocess.run([CTL, "-C", cfg] + list(args), capture_output=True, text=True, timeout=timeout,
                       errors="surrogateescape")
    r.elapsed = time.monotonic() - t0
    return r


def start(cmd, env=None, user=None):
    p = subprocess.Popen((NOBODY if user == "nobody" else []) + cmd, env=dict(os.environ, **(env or {})),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         close_fds=True)
    procs.append(p)
    return p


def wait_for(cond, timeout=30.0, step=0.01):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            if cond():
                return True
        except OSError:
            pass
        time.sleep(step)
    return False


def threads(pid):
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            out[int(tid)] = open("/proc/%d/task/%s/comm" % (pid, tid), "rb").read().rstrip(b"\n")
        except OSError:
            pass
    return out


def affinity(pid):
    return os.sched_getaffinity(pid)


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def scope(name):
    return "kvmtune-%s.scope" % name.replace("-", "\\x2d")


def gpath(ctrl, *parts):
    return os.path.join(CG if V2 else os.path.join(CG, ctrl), PARENT, *parts)


def cgroup_of(pid):
    for line in open("/proc/%d/cgroup" % pid):
        n, ctrls, path = line.rstrip("\n").split(":", 2)
        if (V2 and n == "0") or (not V2 and "cpu" in ctrls.split(",")):
            return path


class Standin:
    """The stand-in as `user`, with a QMP socket (in /dev/shm: nobody can make one there)."""

    def __init__(self, env, name, vcpus=2, mode="normal", user="nobody", names=True, extra=(), qmp=True):
        self.sock = "/dev/shm/kvmtune-test-%s-%s.sock" % (TAG, name)
        args = [env.standin, "-name", "guest=" + name, "-smp", str(vcpus)] + list(extra)
        if qmp:
            args += ["-qmp", "unix:%s,server=on,wait=off" % self.sock]
        e = {"STANDIN_MODE": mode, "STANDIN_NAMES": "1" if names else "0"}
        e.update(env.extra_env)
        self.p = start(args, e, user)
        self.pid = self.p.pid
        ok = wait_for(lambda: len(threads(self.pid)) >= vcpus and (not qmp or os.path.exists(self.sock)))
        check("stand-in %s (%s, %s) is up" % (name, mode, user), ok)
        time.sleep(0.05)  # older than two clock ticks: its thread names are trusted

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(10)
        try:
            os.unlink(self.sock)
        except OSError:
            pass


class Env:
    def __init__(self, tmp):
        self.tmp = tmp
        self.bin = os.path.join(tmp, "bin")
        os.makedirs(self.bin)
        os.chmod(tmp, 0o755)
        self.standin = os.path.join(self.bin, "qemu-system-standin")
        shutil.copy(STANDIN_BUILT, self.standin)
        os.chmod(self.standin, 0o755)
        self.extra_env = {}
        self.cfg = self.config("etc", "")

    def config(self, name, policy, settings=""):
        d = os.path.join(self.tmp, name)
        os.makedirs(os.path.join(d, "policy.d"), exist_ok=True)
        write(os.path.join(d, "kvmtuned.yaml"), settings_yaml(PARENT, (
            "qemu_binaries: [\"/usr/bin/qemu-system-*\", \"%s/qemu-system-*\"]\nqmp: true\n"
            "rescan_interval: 1h\n" % self.bin) + settings))
        if policy:
            write(os.path.join(d, "policy.d", "10-hostile.yaml"), policy)
        return d


POLICY = """\
match: { name: "hst@TAG@-*" }
cputune:
  shares: 2048
  vcpupin:
    - { vcpu: 0, cpuset: "0" }
    - { vcpu: 1, cpuset: "0" }
  vcpusched:
    - { vcpus: 1, scheduler: idle }
""".replace("@TAG@", TAG)


def vm_json(r, pid):
    for v in json.loads(r.stdout)["vms"]:
        if v["pid"] == pid:
            return v
    return None


# ---- the attacks ----

def floods(env):
    """Each misbehaving monitor costs one deadline: kvmtunectl answers and says why."""
    stand = {m: Standin(env, vm(m), mode=m, names=False) for m in ("events", "longline", "drip")}
    base = ctl(env.cfg, "status", "--json", vm("events"), timeout=300)
    for mode, want in (("events", errno.EMSGSIZE), ("longline", errno.EMSGSIZE), ("drip", errno.ETIMEDOUT)):
        r = ctl(env.cfg, "status", "--json", vm(mode), timeout=300)
        v = vm_json(r, stand[mode].pid) if r.returncode == 0 else None
        check("QMP %s: status answers (exit 0)" % mode, v is not None, r.stderr)
        check("QMP %s: the exchange ended with %s" % (mode, os.strerror(want)),
              v is not None and v["qmp"] == os.strerror(want), v and v["qmp"])
        print("info: QMP %s: status took %.2fs" % (mode, r.elapsed))
    r = ctl(env.cfg, "status", "--json", timeout=300)
    print("info: status of all three floods at once: %.2fs (one VM: %.2fs)" % (r.elapsed, base.elapsed))
    check("all floods at once: status answers", r.returncode == 0, r.stderr)
    return stand


def tid_reuse(env):
    """vCPU 1 ends while kvmtunectl waits for QMP; a process of nobody takes its TID.

    The stand-in ends the thread when kvmtunectl connects and tells the test its TID through a
    FIFO; the test stops kvmtunectl there (SIGSTOP: the wait made as long as it takes), makes a
    process of nobody's with exactly that TID (ns_last_pid), and lets kvmtunectl go on."""
    tid_fifo, go = os.path.join(env.tmp, "tid"), os.path.join(env.tmp, "go")
    os.mkfifo(tid_fifo)
    os.chmod(tid_fifo, 0o666)  # the stand-in, as nobody, writes it
    env.extra_env = {"STANDIN_TID_FILE": tid_fifo, "STANDIN_GO_FILE": go}
    s = Standin(env, vm("swap"), mode="swap")
    env.extra_env = {}
    cfg = env.config("etc-swap", POLICY)
    apply = subprocess.Popen([CTL, "-C", cfg, "apply", vm("swap")], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    procs.append(apply)
    fd = os.open(tid_fifo, os.O_RDONLY | os.O_NONBLOCK)
    line = b""
    deadline = time.monotonic() + 120
    while not line.endswith(b"\n") and time.monotonic() < deadline:  # until vCPU 1 has ended
        if select.select([fd], [], [], 1)[0]:
            line += os.read(fd, 64)
    os.close(fd)
    if not line.endswith(b"\n"):
        check("TID reuse: the stand-in was asked and ended its vCPU 1", False, line)
        return s
    tid = int(line)
    os.kill(apply.pid, signal.SIGSTOP)
    victim = None
    for attempt in range(500):
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(tid - 1))
        p = subprocess.Popen(NOBODY + ["sleep", "300"], stdin=subprocess.DEVNULL, close_fds=True)
        procs.append(p)
        if p.pid == tid:  # setpriv execs sleep: the pid is the one the fork got
            victim = p
            break
        p.kill()
        p.wait()
    os.kill(apply.pid, signal.SIGCONT)
    open(go, "w").close()
    out, err = apply.communicate(timeout=300)
    if victim is None:
        print("skipped: TID reuse: another process of the host took TID %d each time" % tid)
        return s
    wait_for(lambda: os.readlink("/proc/%d/exe" % victim.pid).endswith("/sleep"), 10)
    print("info: TID reuse: %d attempt(s) to hand TID %d to another process" % (attempt + 1, tid))
    check("TID reuse: apply says it skipped the TID that names another task now",
          "tid %d now names another task" % tid in err, out + err)
    check("TID reuse: the other process's affinity is untouched (%s)" % sorted(affinity(victim.pid)),
          affinity(victim.pid) == os.sched_getaffinity(0))
    check("TID reuse: its scheduler is untouched", os.sched_getscheduler(victim.pid) == os.SCHED_OTHER,
          os.sched_getscheduler(victim.pid))
    check("TID reuse: it was not moved into the VM's groups", "kvmtune-" not in cgroup_of(victim.pid),
          cgroup_of(victim.pid))
    vcpu0 = [t for t, c in threads(s.pid).items() if c == b"CPU 0/KVM"]
    check("TID reuse: vCPU 0 of the same VM is enforced", vcpu0 and affinity(vcpu0[0]) == {0},
          vcpu0 and affinity(vcpu0[0]))
    victim.kill()
    victim.wait()
    return s


class RootOnlyServer:
    """A root-only socket (in a 0700 directory) that notes who connects: which programs (on a
    shared host, other programs may follow the same symlink; only ours are this test's)."""

    def __init__(self, tmp):
        d = os.path.join(tmp, "rootonly")
        os.makedirs(d, mode=0o700)
        self.path = os.path.join(d, "secret.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o700)
        self.sock.listen(8)
        self.peers = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            c, _ = self.sock.accept()
            pid = struct.unpack("3i", c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[0]
            try:
                self.peers.append(os.readlink("/proc/%d/exe" % pid))
            except OSError:
                self.peers.append("pid %d" % pid)
            c.sendall(b'{"QMP": {"version": {}, "capabilities": []}}\r\n')
            c.close()

    def ours(self):
        """Connections made by this test's kvmtunectl and kvmtuned."""
        return [p for p in self.peers if p in (CTL, DAEMON)]


def deputy(env, server):
    """nobody's real QEMU, its QMP socket replaced by a symlink to root's secret socket."""
    name = vm("deputy")
    sock = "/dev/shm/kvmtune-test-%s-deputy.sock" % TAG
    p = start([QEMU, "-display", "none", "-nodefaults", "-m", "64", "-accel", "tcg", "-smp", "2",
               "-name", "guest=" + name, "-qmp", "unix:%s,server=on,wait=off" % sock], user="nobody")
    ok = wait_for(lambda: os.path.exists(sock), 60)
    check("deputy: nobody's QEMU is up with its QMP socket", ok)
    subprocess.run(NOBODY + ["ln", "-sfn", server.path, sock], check=True)
    r = ctl(env.cfg, "status", "--json", name)
    v = vm_json(r, p.pid) if r.returncode == 0 else None
    check("deputy: status answers", v is not None, r.stderr)
    # Refused either way: by kvmtune (not the VM's own socket), or already by the kernel, where
    # fs.protected_symlinks forbids following nobody's symlink in the sticky /dev/shm.
    check("deputy: QMP reported as refused (not the VM's own socket, or a protected symlink)",
          v is not None and v["qmp"] in (os.strerror(errno.EPERM), os.strerror(errno.EACCES)),
          v and v["qmp"])
    check("deputy: kvmtunectl did not connect to the root-only socket", not server.ours(), server.peers)
    # Another process of nobody's serving at the VM's path: no more the VM's own.
    os.unlink(sock)
    impostor = start(["python3", "-c", "import socket,time\ns=socket.socket(socket.AF_UNIX)\n"
                      "s.bind(%r)\ns.listen(1)\ntime.sleep(300)" % sock], user="nobody")
    wait_for(lambda: os.path.exists(sock), 10)
    r = ctl(env.cfg, "status", "--json", name)
    v = vm_json(r, p.pid) if r.returncode == 0 else None
    check("deputy: a socket another process serves at the path is refused too",
          v is not None and v["qmp"] == os.strerror(errno.EPERM), v and v["qmp"])
    impostor.kill()
    impostor.wait()
    return p, sock


def twins(env):
    """root's VM and then nobody's, with one name: one group, held by root's."""
    name = vm("twin")
    first = Standin(env, name, user="root", qmp=False)
    second = Standin(env, name, user="nobody", qmp=False)
    cfg = env.config("etc-twin", POLICY)
    r = ctl(cfg, "apply")
    check("twins: apply exits 1 and names the VM holding the name",
          r.returncode == 1 and "VM pid %d (user root) has the same name" % first.pid in r.stderr,
          r.stdout + r.stderr)
    check("twins: the first VM is in the group", scope(name) in cgroup_of(first.pid), cgroup_of(first.pid))
    check("twins: the second VM is not", scope(name) not in cgroup_of(second.pid), cgroup_of(second.pid))
    return first, second, cfg


def special_files(env):
    """FIFOs and device nodes where configuration files are expected: errors, at once."""
    cfg = env.config("etc-fifo", "")
    os.mkfifo(os.path.join(cfg, "policy.d", "50-fifo.yaml"), 0o644)
    os.mknod(os.path.join(cfg, "policy.d", "60-null.yaml"), 0o644 | stat.S_IFCHR, os.makedev(1, 3))
    r = ctl(cfg, "check", timeout=60)
    check("a FIFO in policy.d: check says so, exit 1", r.returncode == 1 and
          "50-fifo.yaml: error: not a regular file but a FIFO" in r.stderr, r.stderr)
    check("a device node in policy.d: check says so", "60-null.yaml: error: not a regular file but a character "
          "device" in r.stderr, r.stderr)
    cfg2 = env.config("etc-fifo2", "")
    os.unlink(os.path.join(cfg2, "kvmtuned.yaml"))
    os.mkfifo(os.path.join(cfg2, "kvmtuned.yaml"), 0o644)
    r = ctl(cfg2, "check", timeout=60)
    check("kvmtuned.yaml as a FIFO: check says so, exit 1", r.returncode == 1 and
          "kvmtuned.yaml: error: not a regular file but a FIFO" in r.stderr, r.stderr)
    return cfg


def ancestors(env):
    """A policy directory below a group-writable one, or a symlink into one: refused."""
    gw = os.path.join(env.tmp, "gw")
    os.makedirs(gw)
    os.chmod(gw, 0o775)
    cfg = os.path.join(gw, "etc")
    os.makedirs(os.path.join(cfg, "policy.d"))
    write(os.path.join(cfg, "policy.d", "10-x.yaml"), "cputune: { shares: 512 }\n")
    r = ctl(cfg, "check")
    check("a policy directory below a group-writable directory is refused",
          r.returncode == 1 and "directory %s is writable by its group (mode 0775), refused" % gw in r.stderr,
          r.stderr)
    ok = env.config("etc-link", "")
    os.symlink(os.path.join(cfg, "policy.d", "10-x.yaml"), os.path.join(ok, "policy.d", "20-link.yaml"))
    r = ctl(ok, "check")
    check("a symlink to a file below a group-writable directory is refused",
          r.returncode == 1 and "20-link.yaml: error: directory %s is writable" % gw in r.stderr, r.stderr)


def escapes(env):
    """Escape sequences and a newline in a VM name and a thread name."""
    evil = vm("esc") + "\x1b]0;owned\x07\nFAKE-LINE"
    s = Standin(env, evil, qmp=False, names=True, extra=())
    env_name = b"\x1b[31mred"
    s2_env = dict(env.extra_env)
    env.extra_env = {"STANDIN_THREAD_NAME": env_name.decode()}
    s2 = Standin(env, vm("esc2"), qmp=False)
    env.extra_env = s2_env
    for verb in (["list"], ["status", str(s.pid)], ["status", str(s2.pid)]):
        r = ctl(env.cfg, *verb)
        check("%s: no raw escape character reaches the terminal" % verb[0], "\x1b" not in r.stdout + r.stderr,
              repr(r.stdout[:400]))
        check("%s: no forged line" % verb[0], not any(line.startswith("FAKE-LINE") for line in r.stdout.splitlines()),
              repr(r.stdout[:400]))
    r = ctl(env.cfg, "status", "--json", str(s.pid))
    v = vm_json(r, s.pid)
    check("JSON carries the exact name", v is not None and v["name"] == evil, v and v["name"])
    return s, s2


def empty_name(env):
    """-name guest= (empty) with a uuid: the uuid names the VM and its group."""
    uuid = "6b29fc40-ca47-1067-b31d-%012x" % int(TAG, 16)
    cfg = env.config("etc-empty", "match: { uuid: \"%s\" }\ncputune: { shares: 512 }\n" % uuid)
    s = Standin(env, "", qmp=False, extra=("-uuid", uuid), user="root")
    r = ctl(cfg, "apply", str(s.pid))
    check("an empty -name: apply names the group after the uuid", r.returncode == 0 and
          scope(uuid) in cgroup_of(s.pid), r.stdout + r.stderr + cgroup_of(s.pid))
    return s


# ---- the daemon under attack ----

class Daemon:
    def __init__(self, cfg, run, log):
        self.log = log
        self.run = run
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        env.pop("NOTIFY_SOCKET", None)
        self.p = subprocess.Popen([DAEMON, "-C", cfg, "--runtime-dir", run], env=env, stdout=subprocess.DEVNULL,
                                  stderr=open(log, "a"), close_fds=True)
        procs.append(self.p)

    def text(self):
        return open(self.log, errors="surrogateescape").read()


def daemon(env, server, deputy_pid, twins_pids):
    """kvmtuned with every attacker running: it starts, stays responsive, enforces the rest."""
    cfg = env.config("etc-daemon", POLICY)
    run = os.path.join(env.tmp, "run")
    log = os.path.join(env.tmp, "kvmtuned.log")
    d = Daemon(cfg, run, log)
    sock = os.path.join(run, "control")
    ok = wait_for(lambda: "started" in d.text(), 120)
    check("kvmtuned starts with the attackers running", ok, d.text()[-2000:])
    # A silent client holds a connection; a real one still gets its reload.
    silent = socket.socket(socket.AF_UNIX)
    silent.connect(sock)
    t0 = time.monotonic()
    r = ctl(cfg, "--runtime-dir", run, "reload", timeout=300)
    print("info: reload with a silent client connected took %.2fs" % (time.monotonic() - t0))
    check("a silent control client does not stop a reload", r.returncode == 0, r.stdout + r.stderr)
    silent.close()
    mode = stat.S_IMODE(os.stat(sock).st_mode)
    check("the control socket is 0600 (%04o)" % mode, mode == 0o600)
    r = subprocess.run(NOBODY + [CTL, "--runtime-dir", run, "reload"], capture_output=True, text=True)
    check("nobody cannot reach the control socket", r.returncode != 0, r.stdout + r.stderr)
    c = socket.socket(socket.AF_UNIX)
    c.connect(sock)
    c.sendall(b"reloadx\n")
    c.settimeout(60)
    reply = c.recv(100)
    c.close()
    check("only whole known commands are taken", reply.startswith(b"error unknown command"), reply)
    # A new VM is enforced while the floods, the deputy and the twins are there.
    late = Standin(env, vm("late"), qmp=False, user="root")
    weight_file = os.path.join(gpath("cpu", scope(vm("late"))), "cpu.weight" if V2 else "cpu.shares")
    ok = wait_for(lambda: open(weight_file).read().strip() == ("200" if V2 else "2048"), 60)
    check("a VM started meanwhile is enforced from events", ok, d.text()[-2000:])
    text = d.text()
    check("the daemon said why each flooding monitor was left",
          text.count("not asked again until the VM changes") >= 3, text[-3000:])
    check("the daemon refused the replaced QMP socket", "not a socket of the VM's own process, refused" in text,
          text[-3000:])
    check("kvmtuned did not connect to the root-only socket either", not server.ours(), server.peers)
    check("the daemon refused the second twin once", text.count("has the same name and its group") == 1,
          text[-3000:])
    check("the daemon's log holds no raw escape character", "\x1b" not in text, repr(text[-500:]))
    d.p.send_signal(signal.SIGTERM)
    d.p.wait(30)
    late.stop()


def remove_parent():
    stop_parent(PARENT)
    for c in ("cpu", "cpuacct", "cpuset", "memory", "blkio", "pids"):
        err = remove_tree(gpath(c))
        if err:
            print("note: %s: %s" % (gpath(c), err))


def main():
    if os.geteuid() != 0:
        print("skipped: needs root (runs processes as nobody, creates cgroups)")
        return 77
    if not os.access(QEMU, os.X_OK) or not shutil.which("setpriv"):
        print("skipped: needs %s and setpriv" % QEMU)
        return 77
    if backend_unavailable():
        print(backend_unavailable())
        return 77
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))  # clean up on a timeout
    tmp = tempfile.mkdtemp(prefix="kvmtune-hostile-")
    env = Env(tmp)
    try:
        stand = floods(env)
        swap = tid_reuse(env)
        server = RootOnlyServer(tmp)
        deputy_p, deputy_sock = deputy(env, server)
        first, second, _ = twins(env)
        special_files(env)
        ancestors(env)
        escapes(env)
        empty_name(env)
        daemon(env, server, deputy_p.pid, (first.pid, second.pid))
        for s in list(stand.values()) + [swap, first, second]:
            s.stop()
        try:
            os.unlink(deputy_sock)
        except OSError:
            pass
    finally:
        end_processes(procs)
        remove_parent()
        for name in os.listdir("/dev/shm"):
            if name.startswith("kvmtune-test-%s-" % TAG):
                os.unlink(os.path.join("/dev/shm", name))
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
