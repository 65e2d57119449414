#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Per-disk throttles through QMP (the policy's `disks:`), with real QEMU (KVM where /dev/kvm is
usable, else TCG; `-S`, no guest OS) and small raw image files as virtio disks.

What QEMU holds is read by this test over QMP itself (query-block), never through kvmtune; what
QEMU was sent is counted in QEMU's own trace of the commands its monitor ran
(`-trace handle_qmp_command`). apply sets the policy's values, by -drive id and by the guest
device's QOM path, with bursts, iops_size and a throttle group; a second apply sends no
block_set_io_throttle; the dry run prints the change and sends none; a throttle changed behind
kvmtune's back is drift in status/verify and apply puts it back; removing keys (and `group`)
resets them in QEMU. An unknown id, a VM without a QMP socket and a monitor another client holds
are errors (exit 1) naming the VM and the id, and apply ends. kvmtuned throttles a VM that
starts after it, and its reload sends nothing when nothing changed.

Usage: test-disks-live.py KVMTUNED KVMTUNECTL. Touches only its own groups and processes.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from live import (TAG, backend_refused, backend_unavailable, check, end_processes,  # noqa: E402
                  remove_tree, settings_yaml, stop_parent, summary, test_parent)

QEMU = "/usr/bin/qemu-system-x86_64"
DAEMON = os.path.abspath(sys.argv[1])
CTL = os.path.abspath(sys.argv[2])
CG = "/sys/fs/cgroup"
V2 = os.path.exists(CG + "/cgroup.controllers")
PARENT = test_parent()
CONTROLLERS = ("cpu", "cpuacct", "cpuset", "memory", "blkio", "pids")
procs = []

MIB = 1024 * 1024
# Disk 0 by its -drive id (QMP's device); disk 1 by its guest device's QOM path (QMP's id).
DISK0, DISK1 = "drive0", "vdisk1/virtio-backend"
POLICY = """\
match: { name: "dk%s-*" }
disks:
  - id: %s
    total_bytes_sec: 50M
    read_iops_sec: 500
    write_iops_sec: 100
    total_bytes_sec_max: 100M
    total_bytes_sec_max_length: 10
    size_iops_sec: 8K
  - { id: %s, total_iops_sec: 200, group: "dk%s-g" }
""" % (TAG, DISK0, DISK1, TAG)
WANT0 = {"bps": 50 * MIB, "bps_rd": 0, "bps_wr": 0, "iops": 0, "iops_rd": 500, "iops_wr": 100,
         "bps_max": 100 * MIB, "bps_max_length": 10, "iops_size": 8192, "group": DISK0}
WANT1 = {"bps": 0, "iops": 200, "iops_rd": 0, "group": "dk%s-g" % TAG}
# Keys removed: disk 0 keeps only its rate; disk 1 its IOPS, out of the group; then none.
REDUCED = """\
match: { name: "dk%s-*" }
disks:
  - { id: %s, total_bytes_sec: 50M }
  - { id: %s, total_iops_sec: 300 }
""" % (TAG, DISK0, DISK1)
LIFTED = """\
match: { name: "dk%s-*" }
disks:
  - { id: %s, total_bytes_sec: 50M }
  - { id: %s, total_iops_sec: unlimited }
""" % (TAG, DISK0, DISK1)


def VM(name):
    return "dk%s-%s" % (TAG, name)


def ctl(cfg, *args, timeout=300):
    return subprocess.run([CTL, "-C", cfg] + list(args), capture_output=True, text=True,
                          timeout=timeout)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)


def gpath(ctrl, *parts):
    return os.path.join(CG if V2 else os.path.join(CG, ctrl), PARENT, *parts)


# ---- QEMU and the test's own QMP client ----

class Qemu:
    def __init__(self, tmp, name, accel, qmp=True):
        self.name, self.trace = name, os.path.join(tmp, name + ".trace")
        self.sock = os.path.join(tmp, name + ".qmp") if qmp else None
        args = [QEMU, "-S", "-display", "none", "-nodefaults", "-m", "64", "-accel", accel,
                "-name", "guest=%s,debug-threads=on" % name, "-D", self.trace,
                "-trace", "handle_qmp_command"]
        for i in range(2):
            img = os.path.join(tmp, "%s-%d.raw" % (name, i))
            with open(img, "wb") as f:
                f.truncate(MIB)
            args += ["-drive", "if=none,id=drive%d,file=%s,format=raw" % (i, img),
                     "-device", "virtio-blk-pci,drive=drive%d,id=vdisk%d" % (i, i)]
        if qmp:
            args += ["-qmp", "unix:%s,server=on,wait=off" % self.sock]
        self.p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, close_fds=True)
        procs.append(self.p)

    def ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.blocks()
                return True
            except OSError:
                time.sleep(0.2)
        return False

    def connect(self):
        """Waits while another client (kvmtune) has the monitor and its backlog is full."""
        deadline = time.monotonic() + 30
        while True:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(30)
            try:
                s.connect(self.sock)
                break
            except BlockingIOError:
                s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        f = s.makefile("rw")
        json.loads(f.readline())  # the greeting
        return s, f

    def call(self, command, **arguments):
        """One command in a connection of its own (QMP serves one client at a time)."""
        s, f = self.connect()
        try:
            for c, a in (("qmp_capabilities", {}), (command, arguments)):
                f.write(json.dumps({"execute": c, "arguments": a}) + "\n")
                f.flush()
                while True:
                    reply = json.loads(f.readline())
                    if "event" not in reply:
                        break
            return reply
        finally:
            f.close()
            s.close()

    def blocks(self):
        """{"drive0": inserted, "vdisk1/virtio-backend": inserted} from query-block."""
        out = {}
        for b in self.call("query-block")["return"]:
            qdev = b.get("qdev", "").replace("/machine/peripheral/", "")
            out[b["device"]] = out[qdev] = b.get("inserted", {})
        return out

    def sets(self):
        """How many block_set_io_throttle commands QEMU's monitor has run."""
        try:
            return open(self.trace).read().count('"block_set_io_throttle"')
        except OSError:
            return 0


def holds(inserted, want):
    """Whether query-block's fields are want's (a field QEMU leaves out is 0)."""
    return all(inserted.get(k, 0) == v for k, v in want.items())


def shown(inserted, keys=("bps", "iops", "iops_rd", "iops_wr", "bps_max", "bps_max_length",
                          "iops_size", "group")):
    return {k: inserted.get(k) for k in keys}


# ---- the parts ----

def apply_and_second_pass(cfg, q):
    r = ctl(cfg, "apply", q.name)
    b = q.blocks()
    check("apply exits 0", r.returncode == 0, r.stdout + r.stderr)
    check("query-block: %s holds the policy's bps, iops, burst, iops_size (by -drive id)" % DISK0,
          holds(b[DISK0], WANT0), shown(b[DISK0]))
    check("query-block: %s holds iops 200 in group dk%s-g (by QOM path)" % (DISK1, TAG),
          holds(b[DISK1], WANT1), shown(b[DISK1]))
    check("apply printed each disk's change with the policy line",
          "throttle disk %s = bps=52428800" % DISK0 in r.stdout and "10-disks.yaml:3]" in r.stdout,
          r.stdout)
    sent = q.sets()
    check("QEMU's trace counts the 2 block_set_io_throttle sent", sent == 2,
          "counted %d in %s" % (sent, q.trace))
    r = ctl(cfg, "apply", q.name)
    check("second apply: exit 0, nothing changed", r.returncode == 0 and "0 changed" in r.stdout,
          r.stdout + r.stderr)
    check("second apply sent no block_set_io_throttle (QEMU's trace)", q.sets() == sent,
          "%d, then %d" % (sent, q.sets()))
    r = ctl(cfg, "status", q.name)
    line = [l for l in r.stdout.splitlines() if l.strip().startswith(DISK0 + " ")]
    check("status: a disks section with each disk's ids and throttle as QEMU holds it",
          "disks (QMP query-block):" in r.stdout and line and "vdisk0/virtio-backend" in line[0]
          and "bps=52428800" in line[0] and "iops_rd=500" in line[0], r.stdout[-1500:])
    r = ctl(cfg, "status", "--json", q.name)
    try:
        disks = json.loads(r.stdout)["vms"][0]["disks"]
    except (ValueError, KeyError, IndexError):
        disks = r.stdout + r.stderr
    check("status --json: disks[] with device, qdev, throttle",
          isinstance(disks, list) and {"device": "drive1", "qdev": DISK1,
                                       "throttle": "iops=200 group=dk%s-g" % TAG} in disks, disks)
    return sent


def drift(cfg, q):
    q.call("block_set_io_throttle", device=DISK0, bps=1000, bps_rd=0, bps_wr=0, iops=0,
           iops_rd=0, iops_wr=0)
    r = ctl(cfg, "verify", q.name)
    check("a throttle changed behind kvmtune's back: verify exits 1", r.returncode == 1,
          r.stdout + r.stderr)
    r = ctl(cfg, "status", "--json", q.name)
    try:
        vm = json.loads(r.stdout)["vms"][0]
    except (ValueError, KeyError, IndexError):
        vm = {"raw": r.stdout + r.stderr}
    items = [d for d in vm.get("drift", []) if "disk %s" % DISK0 in json.dumps(d)]
    check("status --json: drift on disk %s, desired bps=52428800 against actual bps=1000" % DISK0,
          vm.get("state") == "drift" and items and "bps=52428800" in json.dumps(items[0]) and
          "bps=1000" in json.dumps(items[0]), json.dumps(vm)[:2000])
    r = ctl(cfg, "apply", q.name)
    check("apply puts it back (exit 0, query-block reads 52428800 again)",
          r.returncode == 0 and holds(q.blocks()[DISK0], WANT0), r.stdout + r.stderr)


def dry_run_and_removal(cfg, pol, q):
    write(pol, REDUCED)
    before = q.sets()
    r = ctl(cfg, "apply", "--dry-run", q.name)
    check("dry run prints the disk changes (would throttle disk ... (was ...))",
          "would throttle disk %s = bps=52428800 (was bps=52428800 bps_max=104857600" % DISK0 in r.stdout
          and "would throttle disk %s = iops=300 (was iops=200" % DISK1 in r.stdout, r.stdout)
    check("...and sends nothing: QEMU's values and trace unchanged",
          q.sets() == before and holds(q.blocks()[DISK0], WANT0), q.sets())
    r = ctl(cfg, "apply", q.name)
    b = q.blocks()
    check("keys removed from the policy are reset in QEMU (iops_rd, iops_wr, the burst, "
          "iops_size back to 0)", r.returncode == 0 and holds(b[DISK0], {
              "bps": 50 * MIB, "iops_rd": 0, "iops_wr": 0, "bps_max": 0, "iops_size": 0}),
          shown(b[DISK0]))
    check("`group` removed: the disk leaves the shared group for its own (named %s)" % DISK1,
          holds(b[DISK1], {"iops": 300, "group": DISK1}), shown(b[DISK1]))
    write(pol, LIFTED)
    r = ctl(cfg, "apply", q.name)
    b = q.blocks()
    check("unlimited lifts the disk's throttle: no limit, no group in query-block",
          r.returncode == 0 and holds(b[DISK1], {"iops": 0, "bps": 0}) and "group" not in b[DISK1],
          shown(b[DISK1]))
    write(pol, POLICY)
    ctl(cfg, "apply", q.name)


def errors(cfg, tmp, q, accel):
    extra = os.path.join(cfg, "policy.d", "20-unknown.yaml")
    write(extra, 'match: { name: "dk%s-*" }\ndisks:\n  - { id: nosuch0, total_iops_sec: 5 }\n'
          % TAG)
    r = ctl(cfg, "apply", q.name)
    check("an unknown id: exit 1, naming the VM and the id, listing the disks QEMU has",
          r.returncode == 1 and q.name in r.stderr and "nosuch0" in r.stderr and
          DISK0 in r.stderr and "20-unknown.yaml:3" in r.stderr, r.stdout + r.stderr)
    os.unlink(extra)

    bare = Qemu(tmp, VM("noqmp"), accel, qmp=False)
    time.sleep(1)
    r = ctl(cfg, "apply", bare.name)
    check("a VM without a QMP socket: exit 1, naming the VM, the id and what to add",
          r.returncode == 1 and bare.name in r.stderr and DISK0 in r.stderr and
          "no QMP socket" in r.stderr and "-qmp unix:" in r.stderr, r.stdout + r.stderr)
    end_processes([bare.p])

    # Another client holds the monitor: QEMU queues the connection and never greets it.
    s, f = q.connect()
    try:
        r = ctl(cfg, "apply", q.name, timeout=120)  # a hang fails here
    finally:
        f.close()
        s.close()
    # Whether QEMU's backlog takes the connection (then no greeting comes: the timeout) or
    # refuses it at once (EAGAIN) is the kernel's and QEMU's timing: both say another client.
    check("a monitor another client holds: apply ends with exit 1, naming the VM, the id and why",
          r.returncode == 1 and q.name in r.stderr and DISK0 in r.stderr and
          "another client" in r.stderr, r.stdout + r.stderr)
    check("...said for each disk, the 2nd without waiting again (same cause, at once)",
          r.stderr.count("another client") == 2 and
          len(set(l.split(": ", 3)[-1].split(" (")[0] for l in r.stderr.splitlines()
                  if "another client" in l)) == 1, r.stderr)


def daemon(cfg, tmp, accel):
    run = os.path.join(tmp, "run")
    log = os.path.join(tmp, "kvmtuned.log")
    write(os.path.join(cfg, "kvmtuned.yaml"), settings_yaml(PARENT, "rescan_interval: 1h\n"))
    d = subprocess.Popen([DAEMON, "-C", cfg, "--runtime-dir", run], stdout=subprocess.DEVNULL,
                         stderr=open(log, "a"), close_fds=True,
                         env={k: v for k, v in os.environ.items()
                              if k not in ("NOTIFY_SOCKET", "JOURNAL_STREAM")})
    procs.append(d)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not os.path.exists(os.path.join(run, "control")):
            time.sleep(0.1)
        q = Qemu(tmp, VM("dmn"), accel)

        # The log says when; QMP is read only then (polling it would hold the monitor
        # kvmtuned needs: a QMP socket serves one client at a time).
        def logged(text, timeout=120):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and text not in open(log).read():
                time.sleep(0.2)
            return text in open(log).read()

        logged("set disk %s throttle: unlimited -> iops=200" % DISK1)
        b = q.blocks()
        check("kvmtuned throttles a VM that starts after it (query-block)",
              holds(b[DISK0], WANT0) and holds(b[DISK1], WANT1),
              "%s %s\n%s" % (shown(b[DISK0]), shown(b[DISK1]), open(log).read()[-3000:]))
        sent = q.sets()
        r = ctl(cfg, "--runtime-dir", run, "reload")
        check("kvmtunectl reload: every VM re-enforced, no block_set_io_throttle sent",
              r.returncode == 0 and q.sets() == sent,
              "%d then %d; %s" % (sent, q.sets(), r.stdout + r.stderr))
        write(os.path.join(cfg, "policy.d", "10-disks.yaml"), REDUCED)
        r = ctl(cfg, "--runtime-dir", run, "reload")
        logged("-> iops=300", 30)
        b = q.blocks()
        check("a policy edit + reload: the new values in query-block",
              r.returncode == 0 and holds(b[DISK1], {"iops": 300, "group": DISK1}) and
              holds(b[DISK0], {"iops_rd": 0}), shown(b[DISK1]))
        end_processes([q.p])
    finally:
        end_processes([d])
        print("kvmtuned's log, the end:\n" + open(log).read()[-1500:])


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
    if backend_refused():
        print("skipped: kvmtune refuses the systemd backend on this v1 host (test-apply-live.py "
              "proves it); the disks do not depend on the backend")
        return 77
    accel = "kvm" if os.access("/dev/kvm", os.R_OK | os.W_OK) else "tcg"
    print("accelerator %s%s" % (accel, "" if accel == "kvm" else " (/dev/kvm is not usable here)"))
    tmp = tempfile.mkdtemp(prefix="kvmtune-disks-")
    cfg = os.path.join(tmp, "etc")
    os.makedirs(os.path.join(cfg, "policy.d"))
    write(os.path.join(cfg, "kvmtuned.yaml"), settings_yaml(PARENT))
    pol = os.path.join(cfg, "policy.d", "10-disks.yaml")
    write(pol, POLICY)
    try:
        q = Qemu(tmp, VM(accel), accel)
        check("%s: started, its QMP answers" % q.name, q.ready())
        check("QEMU's trace of monitor commands works (the count below rests on it)",
              q.sets() == 0 and os.path.exists(q.trace) and
              "handle_qmp_command" in open(q.trace).read(), q.trace)
        apply_and_second_pass(cfg, q)
        drift(cfg, q)
        dry_run_and_removal(cfg, pol, q)
        errors(cfg, tmp, q, accel)
        end_processes([q.p])
        ctl(cfg, "apply")
        daemon(cfg, tmp, accel)
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
