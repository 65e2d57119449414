#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""kvmtuned in a network namespace of its own, as kvmtuned.service runs it (PrivateNetwork=yes),
with the two sockets kvmtuned.socket makes in the host's namespace passed as systemd passes them
(fds 3 and 4, LISTEN_FDS, LISTEN_PID), here by the test itself, so that it runs without systemd.

First the control: in a namespace of its own with nothing passed, kvmtuned has no process events
(the proc connector answers in the host's namespace only) and refuses the VM's QMP socket
(sock_diag answers for the namespace it is asked in, where the VM's socket is not). Then with
the two sockets: READY, no such warning, the VM it found at its start has its disk throttled
through QMP (the socket proven the VM's own), and a QEMU started after the daemon has its vCPUs
placed by the process events. Usage: test-netns-live.py KVMTUNED KVMTUNECTL. Touches only its
own groups and processes.
"""
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from live import TAG, Notify, cgroup_of, check, end_processes, gpath, remove_tree, scope_of, skip_reason, summary, test_parent, vcpu_tid, wait_for, wait_named, write  # noqa: E402

QEMU = "/usr/bin/qemu-system-x86_64"
DAEMON, CTL = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
PARENT = test_parent()
CLONE_NEWNET = 0x40000000
NETLINK_SOCK_DIAG, NETLINK_CONNECTOR = 4, 11
procs = []

POLICY = """\
match: { name: "nns%s-*" }
cputune:
  vcpupin:
    - { vcpu: 0, cpuset: "0" }
disks:
  - { id: drive0, total_iops_sec: 500 }
""" % TAG


class NetnsDaemon:
    """kvmtuned forked into a new network namespace, the given sockets as its fds 3, 4, ..."""

    def __init__(self, cfg, run, notify, log, sockets):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NOTIFY_SOCKET": notify.path}
        err = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fds = [s.fileno() for s in sockets]
        self.log = log
        self.pid = os.fork()
        if self.pid == 0:  # the child: only syscalls, then exec
            try:
                if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNET) != 0:
                    os._exit(126)
                moved = [os.dup(fd) for fd in fds]  # out of the way of 3, 4, ...
                for i, fd in enumerate(moved):
                    os.dup2(fd, 3 + i)
                os.dup2(err, 2)
                null = os.open("/dev/null", os.O_RDWR)
                os.dup2(null, 0)
                os.dup2(null, 1)
                os.closerange(3 + len(fds), 65536)
                if fds:
                    env.update(LISTEN_FDS=str(len(fds)), LISTEN_PID=str(os.getpid()))
                os.execve(DAEMON, [DAEMON, "-C", cfg, "--runtime-dir", run], env)
            finally:
                os._exit(127)
        os.close(err)

    def text(self):
        return open(self.log).read()

    def stop(self):
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(100):
            if os.waitpid(self.pid, os.WNOHANG)[0] == self.pid:
                return
            time.sleep(0.1)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


def start_qemu(tmp, name, accel):
    disk = os.path.join(tmp, name + ".img")
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    sock = os.path.join(tmp, name + ".qmp")
    p = subprocess.Popen([QEMU, "-display", "none", "-nodefaults", "-m", "64", "-accel", accel,
                          "-smp", "2", "-name", "guest=%s,debug-threads=on" % name,
                          "-qmp", "unix:%s,server=on,wait=off" % sock,
                          "-drive", "if=none,id=drive0,file=%s,format=raw,readonly=on" % disk,
                          "-device", "virtio-blk-pci,drive=drive0"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    procs.append(p)
    return p


def throttled(cfg, name):
    out = subprocess.run([CTL, "-C", cfg, "status", name], capture_output=True, text=True).stdout
    return any(ln.strip().startswith("drive0 ") and "iops=500" in ln for ln in out.splitlines())


def in_group(pid, vcpu, group):
    try:
        return cgroup_of(pid, vcpu_tid(pid, vcpu)) == group
    except IndexError:  # not named yet
        return False


def main():
    reason = skip_reason(QEMU)
    if reason:
        print(reason)
        return 77
    accel = "kvm" if os.access("/dev/kvm", os.R_OK | os.W_OK) else "tcg"
    print("accelerator: %s%s" % (accel, "" if accel == "kvm" else " (/dev/kvm is not usable here)"))
    tmp = tempfile.mkdtemp(prefix="kvmtune-netns-")
    os.chmod(tmp, 0o755)
    cfg, run = os.path.join(tmp, "etc"), os.path.join(tmp, "run")
    os.makedirs(os.path.join(cfg, "policy.d"))
    os.makedirs(run)
    write(os.path.join(cfg, "kvmtuned.yaml"),
          "backend: cgroupfs\ncgroup_parent: %s\nrescan_interval: 1h\n" % PARENT)
    write(os.path.join(cfg, "policy.d", "10-netns.yaml"), POLICY)
    first = "nns%s-first" % TAG
    daemon = None
    try:
        qemu = start_qemu(tmp, first, accel)
        check("QEMU named its vCPU threads", wait_named(qemu.pid, 2))

        notify = Notify(os.path.join(tmp, "notify0"))
        log = os.path.join(tmp, "control.log")
        daemon = NetnsDaemon(cfg, run, notify, log, [])
        check("control: kvmtuned alone in a network namespace starts (READY=1)",
              wait_for(lambda: notify.seen("READY=1"), 60) is not None, daemon.text())
        check("control: ...without process events, and says so",
              "no process events" in daemon.text(), daemon.text())
        check("control: ...and refuses the VM's QMP socket, which sock_diag cannot see there",
              wait_for(lambda: "is not a socket the VM's own process listens on" in
                       daemon.text(), 30) is not None, daemon.text())
        check("control: ...so the disk is not throttled", not throttled(cfg, first))
        daemon.stop()

        conn = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_CONNECTOR)
        conn.bind((0, 1))  # CN_IDX_PROC, as ListenNetlink=connector 1
        diag = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
        diag.bind((0, 0))
        notify = Notify(os.path.join(tmp, "notify1"))
        log = os.path.join(tmp, "passed.log")
        daemon = NetnsDaemon(cfg, run, notify, log, [conn, diag])
        conn.close()
        diag.close()
        check("with the host's two sockets passed: READY=1",
              wait_for(lambda: notify.seen("READY=1"), 60) is not None, daemon.text())
        check("...no warning about process events or passed sockets",
              "no process events" not in daemon.text() and "from systemd" not in daemon.text(),
              daemon.text())
        check("...the VM found at the start has its disk throttled through QMP (iops=500)",
              wait_for(lambda: throttled(cfg, first), 60) is not None, daemon.text())
        later = start_qemu(tmp, "nns%s-later" % TAG, accel)
        vm = "/%s/%s" % (PARENT, scope_of("nns%s-later" % TAG))
        placed = wait_for(lambda: in_group(later.pid, 1, vm + "/vcpu1"), 60)
        check("...a QEMU started after the daemon: its vCPUs placed by the process events",
              placed is not None, daemon.text())
    finally:
        if daemon:
            daemon.stop()
        end_processes(procs)
        for ctrl in ("cpu", "cpuacct", "cpuset", "memory", "blkio", "pids"):
            if os.path.isdir(gpath(PARENT, ctrl)):
                err = remove_tree(gpath(PARENT, ctrl))
                check("the test's %s groups removed" % ctrl, err is None, err)
        subprocess.run(["rm", "-rf", tmp])
    return summary()


if __name__ == "__main__":
    sys.exit(main())
