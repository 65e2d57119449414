#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Enforcement on this host's real cgroups with real QEMU processes (KVM and TCG).

Under a test-owned cgroup_parent (kvmtune-test-<random>): after `apply`, every cgroup file holds
the mapped value and every thread's affinity and scheduler are right; a second apply changes
nothing; --dry-run changes nothing and says what apply then does; taskset drift is undone; a
vCPU hot-plugged through QMP is placed by the next apply; a VM killed during apply leaves no
error and no group; `run` starts a QEMU whose first thread is already confined. Works on cgroup
v1/hybrid and on v2. Usage: test-apply-live.py KVMTUNECTL. Touches only its own groups and
processes.
"""
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp import QMP  # noqa: E402
from live import TAG, BACKEND, PID1_SYSTEMD, SYSTEMD, backend_refused, backend_unavailable, check, end_processes, layout, remove_tree, settings_yaml, stop_parent, summary, test_parent  # noqa: E402

QEMU = "/usr/bin/qemu-system-x86_64"


def VM(name):
    """A VM name of this run: only this run's policies fit it."""
    return "apl%s-%s" % (TAG, name)

CTL = os.path.abspath(sys.argv[1])
CG = "/sys/fs/cgroup"
V2 = os.path.exists(CG + "/cgroup.controllers")
PARENT = test_parent()
procs = []


def ctl(cfg, *args):
    return subprocess.run([CTL, "-C", cfg] + list(args), capture_output=True, text=True)


def start_qemu(tmp, name, args):
    sock = os.path.join(tmp, name + ".qmp")
    p = subprocess.Popen([QEMU, "-display", "none", "-nodefaults", "-m", "64", "-name",
                          "guest=%s,debug-threads=on" % name, "-qmp", "unix:%s,server=on,wait=off" % sock] + args,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)
    procs.append(p)
    return p, sock


def threads(pid):
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            comm = open("/proc/%d/task/%s/comm" % (pid, tid)).read().strip()
            out[int(tid)] = comm
        except OSError:
            pass
    return out


def wait_named(pid, vcpus, iothreads=0):
    deadline = time.monotonic() + 60  # a hang guard, not a timing check
    while time.monotonic() < deadline:
        names = threads(pid).values()
        if sum(n.startswith("CPU ") for n in names) >= vcpus and sum(n.startswith("IO io") for n in names) >= iothreads:
            time.sleep(0.3)
            return True
        time.sleep(0.05)
    return False


def tid_of(pid, comm):
    return [t for t, n in threads(pid).items() if n == comm][0]


def allowed(pid, tid):
    for line in open("/proc/%d/task/%d/status" % (pid, tid)):
        if line.startswith("Cpus_allowed_list:"):
            return line.split()[1]


def sched_policy(pid, tid):
    stat = open("/proc/%d/task/%d/stat" % (pid, tid)).read()
    return int(stat[stat.rindex(")") + 2:].split()[38])  # field 41


def thread_group(comm):
    """The thread group kvmtune gives a thread of the test's VMs, by its name."""
    if comm.startswith("CPU "):
        return "vcpu" + comm.split()[1].split("/")[0]
    return "iothread-" + comm[3:] if comm.startswith("IO io") else "emulator"


def cpu_group(pid, tid):
    """The thread's group in the cpu hierarchy (v1) or the unified one."""
    for line in open("/proc/%d/task/%d/cgroup" % (pid, tid)):
        _, ctrls, path = line.rstrip("\n").split(":", 2)
        if (V2 and ctrls == "") or (not V2 and "cpu" in ctrls.split(",")):
            return path
    return ""


def group_path(ctrl, *parts):
    base = CG if V2 else os.path.join(CG, ctrl)
    return os.path.join(base, PARENT, *parts)


def read(ctrl, rel, file):
    return open(os.path.join(group_path(ctrl, rel), file)).read().strip()


def changed(out):
    m = re.findall(r"(\d+) (?:changed|would change), (\d+) already so", out)
    return [int(a) for a, _ in m]


def scope(name):
    return "kvmtune-%s.scope" % name.replace("-", "\\x2d")


def parent_exists():
    return any(os.path.isdir(group_path(c)) for c in ("cpu", "cpuset", "memory", "blkio", "pids", "cpuacct"))


def remove_parent():
    stop_parent(PARENT)
    for c in ("cpu", "cpuacct", "cpuset", "memory", "blkio", "pids"):
        try:
            os.rmdir(group_path(c))
        except FileNotFoundError:
            pass
        except OSError as e:
            print("note: %s: %s" % (group_path(c), e))


POLICY = """\
match: { name: "apl@TAG@-*" }
cputune:
  shares: 2048
  period: 100000
  quota: 50000
  global_quota: 150000
  emulator_quota: 20000
  iothread_quota: 30000
  vcpupin:
    - { vcpu: 0, cpuset: "0" }
    - { vcpu: 1, cpuset: "0-1" }
  emulatorpin: "0"
  iothreadpin:
    - { iothread: io1, cpuset: "1" }
  vcpusched:
    - { vcpus: 1, scheduler: idle }
  emulatorsched: { scheduler: batch }
memtune:
  hard_limit: 1G
  soft_limit: 768M
  swap_hard_limit: 2G
blkiotune:
  devices:
    - { path: /dev/vda, read_bytes_sec: 100M, write_iops_sec: 1000 }
numatune:
  memory: { mode: strict, nodeset: "0" }
"""
POLICY = POLICY.replace("@TAG@", TAG)
# v2 only: v1 has no memory.min, and this host's v1 blkio has no BFQ to take a weight.
POLICY_V2 = """\
  min_guarantee: 256M
"""


def policy_text(text):
    if V2:
        text = text.replace("  swap_hard_limit: 2G\n", "  swap_hard_limit: 2G\n" + POLICY_V2)
        text = text.replace("blkiotune:\n", "blkiotune:\n  weight: 500\n")
    return text


def io_weight_file(s):
    """bfq's weight when the kernel offers it (io.bfq.weight = W), else io.weight (W / 5)."""
    if os.path.exists(group_path("io", s, "io.bfq.weight")):
        return ("io", s, "io.bfq.weight", "default 500")
    return ("io", s, "io.weight", "default 100")


def expected_files(name):
    """(controller, group below the parent, file, value as the kernel shows it)."""
    s = scope(name)
    if V2:
        return [("cpu", s, "cpu.weight", "200"), ("cpu", s, "cpu.max", "150000 100000"),
                ("cpu", s + "/vcpu0", "cpu.max", "50000 100000"), ("cpu", s + "/emulator", "cpu.max", "20000 100000"),
                ("cpu", s + "/iothread-io1", "cpu.max", "30000 100000"),
                ("cpuset", s + "/vcpu0", "cpuset.cpus", "0"), ("cpuset", s + "/vcpu1", "cpuset.cpus", "0-1"),
                ("cpuset", s + "/emulator", "cpuset.cpus", "0"), ("cpuset", s + "/iothread-io1", "cpuset.cpus", "1"),
                ("cpuset", s, "cpuset.mems", "0"),
                ("memory", s, "memory.max", str(1 << 30)), ("memory", s, "memory.low", str(768 << 20)),
                ("memory", s, "memory.swap.max", str(1 << 30)), ("memory", s, "memory.min", str(256 << 20)),
                ("io", s, "io.max", "254:0 rbps=104857600 wbps=max riops=max wiops=1000"), io_weight_file(s),
                ("cpu", s + "/vcpu0", "cgroup.type", "threaded")]
    return [("cpu", s, "cpu.shares", "2048"), ("cpu", s, "cpu.cfs_quota_us", "150000"),
            ("cpu", s + "/vcpu0", "cpu.cfs_quota_us", "50000"), ("cpu", s + "/vcpu1", "cpu.cfs_period_us", "100000"),
            ("cpu", s + "/emulator", "cpu.cfs_quota_us", "20000"), ("cpu", s + "/iothread-io1", "cpu.cfs_quota_us", "30000"),
            ("cpuset", s + "/vcpu0", "cpuset.cpus", "0"), ("cpuset", s + "/vcpu1", "cpuset.cpus", "0-1"),
            ("cpuset", s + "/emulator", "cpuset.cpus", "0"), ("cpuset", s + "/iothread-io1", "cpuset.cpus", "1"),
            ("cpuset", s, "cpuset.mems", "0"), ("cpuset", s, "cpuset.memory_migrate", "1"),
            ("memory", s, "memory.limit_in_bytes", str(1 << 30)), ("memory", s, "memory.soft_limit_in_bytes", str(768 << 20)),
            ("memory", s, "memory.memsw.limit_in_bytes", str(2 << 30)),
            ("blkio", s, "blkio.throttle.read_bps_device", "254:0 104857600"),
            ("blkio", s, "blkio.throttle.write_iops_device", "254:0 1000")]


def check_vm(name, p):
    for ctrl, rel, f, want in expected_files(name):
        try:
            got = read(ctrl, rel, f)
        except OSError as e:
            got = str(e)
        check("%s: %s/%s = %s" % (name, rel.split("/")[-1], f, want), got == want, "kernel has %r" % got)
    pid = p.pid
    want_cpus = {"CPU 0/KVM": "0", "CPU 0/TCG": "0", "CPU 1/KVM": "0-1", "CPU 1/TCG": "0-1", "IO io1": "1"}
    for tid, comm in threads(pid).items():
        w = want_cpus.get(comm, "0")
        check("%s: %s (tid %d) runs on CPUs %s" % (name, comm, tid, w), allowed(pid, tid) == w, allowed(pid, tid))
        want = "/%s/%s/%s" % (PARENT, scope(name), thread_group(comm))
        check("%s: %s (tid %d) is in %s" % (name, comm, tid, want), cpu_group(pid, tid).endswith(want),
              cpu_group(pid, tid))
    check("%s: vCPU 1 is SCHED_IDLE" % name, sched_policy(pid, tid_of(pid, [n for n in threads(pid).values() if n.startswith("CPU 1/")][0])) == 5)
    check("%s: the main thread is SCHED_BATCH" % name, sched_policy(pid, pid) == 3)
    check("%s: vCPU 0 is SCHED_OTHER" % name, sched_policy(pid, tid_of(pid, [n for n in threads(pid).values() if n.startswith("CPU 0/")][0])) == 0)


def anon_pages(pid):
    """Anonymous pages of pid per NUMA node, from numa_maps."""
    pages = {}
    for line in open("/proc/%d/numa_maps" % pid):
        if "anon=" in line:
            for field in line.split():
                m = re.match(r"N(\d+)=(\d+)$", field)
                if m:
                    pages[int(m.group(1))] = pages.get(int(m.group(1)), 0) + int(m.group(2))
    return pages


def check_numa_move(tmp, cfg):
    pol = os.path.join(cfg, "policy.d", "20-numa.yaml")
    with open(pol, "w") as f:
        f.write('match: { name: "numa%s-*" }\nnumatune:\n  memory: { mode: strict, nodeset: "1" }\n' % TAG)
    os.chmod(pol, 0o644)
    p = subprocess.Popen(["numactl", "--membind=0", QEMU, "-display", "none", "-nodefaults", "-m", "128",
                          "-accel", "tcg", "-name", "guest=numa%s-vm,debug-threads=on" % TAG],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(p)
    wait_named(p.pid, 1)
    before = anon_pages(p.pid)
    r = ctl(cfg, "apply", "numa%s-vm" % TAG)
    check("numa: apply with nodeset 1 exits 0", r.returncode == 0, r.stdout + r.stderr)
    deadline = time.monotonic() + 60  # a hang guard, not a timing check
    after = anon_pages(p.pid)
    # v1's memory_migrate moves the pages once, as the mems change; a page the kernel could
    # not take at that moment stays (up to a tenth was seen in the hybrid guest).
    while time.monotonic() < deadline and after.get(0, 0) > sum(after.values()) // 5:
        time.sleep(0.2)
        after = anon_pages(p.pid)
    print("info: numa (%s backend): anonymous pages per node before %s, after %s" % (BACKEND, before, after))
    check("numa: the memory on node 0 moved to node 1, at least four fifths of it (%s -> %s)" % (before, after),
          before.get(0, 0) > before.get(1, 0) and after.get(0, 0) <= sum(after.values()) // 5, (before, after))
    p.send_signal(signal.SIGTERM)
    p.wait(10)
    os.unlink(pol)


def check_backend_switch(tmp, cfg):
    """A VM whose groups the cgroupfs backend made (kvmtuned used it before) becomes a unit
    when the systemd backend takes over, and a dry run counts what that apply does."""
    old_cfg = os.path.join(tmp, "etc-cgroupfs")
    shutil.copytree(cfg, old_cfg)
    with open(os.path.join(old_cfg, "kvmtuned.yaml"), "w") as f:
        f.write("backend: cgroupfs\ncgroup_parent: %s\n" % PARENT)
    p, _ = start_qemu(tmp, VM("switch"), ["-accel", "tcg", "-smp", "2", "-object", "iothread,id=io1"])
    wait_named(p.pid, 2, 1)
    r = ctl(old_cfg, "apply", VM("switch"))
    unit = scope(VM("switch"))
    check("switch: the cgroupfs backend placed the VM, no unit", r.returncode == 0 and
          "/%s/" % unit in open("/proc/%d/task/%d/cgroup" % (p.pid, p.pid)).read() and
          systemctl("is-active", unit) != "active", r.stdout + r.stderr)
    # systemd resets a directory it adopts (its files, its subtree_control): the dry run says
    # the scope is coming; what systemd then undoes it cannot count.
    dry = ctl(cfg, "apply", "--dry-run", VM("switch"))
    check("switch: the dry run says the scope would be started",
          dry.returncode == 0 and "would start scope pid %d" % p.pid in dry.stdout, dry.stdout)
    r = ctl(cfg, "apply", VM("switch"))
    check("switch: the systemd backend makes it its unit", r.returncode == 0 and
          systemctl("is-active", unit) == "active", r.stdout + r.stderr)
    r = ctl(cfg, "apply", VM("switch"))
    check("switch: the next apply changes nothing (%s)" % changed(r.stdout),
          r.returncode == 0 and changed(r.stdout) == [0], r.stdout + r.stderr)
    check_vm(VM("switch"), p)
    p.send_signal(signal.SIGTERM)
    p.wait(10)


def systemctl(*args):
    return subprocess.run(["systemctl"] + list(args), capture_output=True, text=True).stdout.strip()


def check_systemd_units(vms):
    """The systemd backend: each VM a delegated scope systemd knows, registered with machined."""
    for name in vms:
        unit = scope(name)
        check("%s: %s is an active unit" % (name, unit), systemctl("is-active", unit) == "active",
              systemctl("status", unit))
        props = dict(line.split("=", 1) for line in systemctl("show", "-p", "Delegate", "-p", "Slice", unit).split("\n"))
        check("%s: delegated, in %s" % (name, PARENT), props == {"Slice": PARENT, "Delegate": "yes"}, props)
        cgls = subprocess.run(["systemd-cgls", "--no-pager", "/" + PARENT], capture_output=True, text=True).stdout
        check("%s: systemd-cgls shows the scope" % name, unit in cgls, cgls)
    machines = subprocess.run(["machinectl", "list", "--no-legend"], capture_output=True, text=True)
    if machines.returncode == 0:
        for name in vms:
            check("%s: machinectl list shows it" % name, re.search(r"^%s\s+vm\s+kvmtune" % name, machines.stdout, re.M),
                  machines.stdout)
    else:
        print("skipped: machinectl: %s" % machines.stderr.strip())


def sibling_slice():
    """Where the sibling scope runs: the test's slice (systemd backend), else a slice of the
    test's own beside the system's (no '-': a top-level slice)."""
    return PARENT if SYSTEMD else "kvmtunetest%s.slice" % PARENT.rsplit("-", 1)[1]


def attaches(out):
    """Thread and process moves an apply or its dry run names."""
    return len(re.findall(r"(?:would )?attach (?:thread tid|pid) \d+", out))


def check_systemd_reapplies(cfg, vms):
    """Under systemd, whichever the backend: systemd re-applying its own (daemon-reload, a new
    unit with CPU and memory settings) leaves every value. On v1 it may move the VMs' processes
    (only where they were in a unit of its own: cgroupfs), and the next apply puts them back."""
    subprocess.run(["systemctl", "daemon-reload"], check=True)
    r = ctl(cfg, "apply", "--dry-run")
    check("after systemctl daemon-reload nothing differs (%s)" % changed(r.stdout),
          r.returncode == 0 and all(n == 0 for n in changed(r.stdout)), r.stdout)
    sibling = subprocess.Popen(["systemd-run", "--scope", "--quiet", "--slice=" + sibling_slice(), "sleep", "60"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(sibling)
    deadline = time.monotonic() + 60  # a hang guard, not a timing check
    units = ""
    while time.monotonic() < deadline:
        units = systemctl("list-units", "--no-legend", "--plain", "run-*.scope")
        if units:
            break
        time.sleep(0.1)
    if units:
        subprocess.run(["systemctl", "set-property", "--runtime", units.split()[0], "CPUWeight=50",
                        "MemoryMax=100M"], check=True)
    check("a sibling scope got its own set-property", bool(units), "systemd-run --scope did not start")
    r = ctl(cfg, "apply", "--dry-run")
    moved = attaches(r.stdout)
    if V2 or SYSTEMD:
        check("after a sibling's set-property nothing differs (%s)" % changed(r.stdout),
              r.returncode == 0 and all(n == 0 for n in changed(r.stdout)), r.stdout)
    else:
        print("info: %s, cgroupfs: a new unit's CPU setting made systemd move %d thread(s) of the VMs back "
              "into their units' groups" % (layout(), moved))
        check("...which is all that differs after a sibling's set-property (%d moves, %s changes)"
              % (moved, changed(r.stdout)), r.returncode == 0 and sum(changed(r.stdout)) == moved, r.stdout)
        r = ctl(cfg, "apply")
        check("the next apply puts them back (%s)" % changed(r.stdout), r.returncode == 0 and
              sum(changed(r.stdout)) == moved, r.stdout + r.stderr)
    for name, p in vms.items():
        check_vm(name, p)
    sibling.send_signal(signal.SIGTERM)
    sibling.wait(10)
    if not SYSTEMD:
        subprocess.run(["systemctl", "stop", sibling_slice()], capture_output=True)


def check_systemd_moves(tmp, cfg):
    """v1 under systemd, cgroupfs: a VM run by a service of its own stays in that unit for
    systemd, which moves the whole process into the unit's group when the unit first gets a
    controller (here CPUWeight=): the dry run names each move back, the apply makes them."""
    unit = "kvmtunetest%s-vm.service" % PARENT.rsplit("-", 1)[1]
    r = subprocess.run(["systemd-run", "--quiet", "--unit", unit, QEMU, "-display", "none", "-nodefaults", "-m", "64",
                        "-accel", "tcg", "-smp", "2", "-object", "iothread,id=io1",
                        "-name", "guest=%s,debug-threads=on" % VM("svc")], capture_output=True, text=True)
    pid = int(systemctl("show", "-p", "MainPID", "--value", unit) or 0)
    if not check("moves: QEMU runs as %s" % unit, r.returncode == 0 and pid > 0, r.stderr):
        return
    try:
        wait_named(pid, 2, 1)
        vm = types.SimpleNamespace(pid=pid)  # all check_vm reads of a process
        r = ctl(cfg, "apply", VM("svc"))
        check("moves: apply places the VM", r.returncode == 0, r.stdout + r.stderr)
        vcpu0 = tid_of(pid, [n for n in threads(pid).values() if n.startswith("CPU 0/")][0])
        home = "/system.slice/" + unit
        subprocess.run(["systemctl", "set-property", "--runtime", unit, "CPUWeight=50"], check=True)
        deadline = time.monotonic() + 60  # a hang guard, not a timing check
        while time.monotonic() < deadline and cpu_group(pid, vcpu0) != home:
            time.sleep(0.1)
        check("moves: systemd moved vCPU 0 into %s's cpu group (its first CPU setting)" % unit,
              cpu_group(pid, vcpu0) == home, cpu_group(pid, vcpu0))
        n = len(threads(pid))
        dry = ctl(cfg, "apply", "--dry-run", VM("svc"))
        check("moves: the dry run names each of the %d threads' move back, from %s" % (n, home),
              attaches(dry.stdout) == n and dry.stdout.count("(was in %s)" % home) == n, dry.stdout)
        r = ctl(cfg, "apply", VM("svc"))
        check("moves: the apply makes exactly those (%s)" % changed(r.stdout), changed(r.stdout) == [n],
              r.stdout + r.stderr)
        check_vm(VM("svc"), vm)
    finally:
        subprocess.run(["systemctl", "stop", unit], capture_output=True)
        subprocess.run(["systemctl", "reset-failed", unit], capture_output=True)
    # The CPU setting gone with its unit, systemd moves its siblings' processes up to where the
    # cpu controller is still on (here the root group): the other VMs; apply puts them back.
    time.sleep(1)
    r = ctl(cfg, "apply")
    print("info: %s, cgroupfs: the service's end made systemd move %d thread(s) of the other VMs" % (layout(), attaches(r.stdout)))
    r = ctl(cfg, "apply", "--dry-run")
    check("moves: after that service's end and an apply nothing differs (%s)" % changed(r.stdout),
          r.returncode == 0 and all(n == 0 for n in changed(r.stdout)), r.stdout)


def check_refused():
    """A v1 host under systemd: backend systemd is refused, saying why, before anything is
    written; auto plans the cgroupfs backend there."""
    tmp = tempfile.mkdtemp(prefix="kvmtune-apply-")
    cfg = os.path.join(tmp, "etc")
    os.makedirs(os.path.join(cfg, "policy.d"))
    settings = os.path.join(cfg, "kvmtuned.yaml")
    for path, text in ((settings, settings_yaml(PARENT)), (os.path.join(cfg, "policy.d", "10-apl.yaml"), POLICY)):
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
    print("cgroup %s under systemd, backend systemd: refused" % layout())
    try:
        p, _ = start_qemu(tmp, VM("refused"), ["-accel", "tcg", "-smp", "2", "-object", "iothread,id=io1"])
        wait_named(p.pid, 2, 1)
        before = open("/proc/%d/cgroup" % p.pid).read()
        r = ctl(cfg, "apply")
        check("backend systemd on a %s host is refused (exit 1)" % layout(), r.returncode == 1, r.stdout + r.stderr)
        check("...saying why: the hierarchy is %s, not unified; Delegate= on v1 leaves cpuset and blkio out" % layout(),
              "backend systemd (kvmtuned.yaml): the cgroup hierarchy is %s" % layout() in r.stderr and
              "not unified" in r.stderr and "no cpuset and no blkio" in r.stderr, r.stderr)
        check("...before anything is written: no group, the VM where it was",
              not parent_exists() and open("/proc/%d/cgroup" % p.pid).read() == before, before)
        with open(settings, "w") as f:
            f.write("backend: auto\ncgroup_parent: %s\n" % PARENT)
        r = ctl(cfg, "apply", "--dry-run", VM("refused"))
        check("backend auto plans cgroupfs there (groups, no scope unit)", r.returncode == 0 and
              "would mkdir" in r.stdout and "would start scope" not in r.stdout, r.stdout + r.stderr)
    finally:
        end_processes(procs)
        remove_parent()
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


def check_launch_guard(tmp, cfg):
    """A launch under way (kvmtunectl run between its first mkdir and its exec holds the launch
    lock shared): apply removes no stale group meanwhile. A group a thread is in is removed by
    no one either; once it is empty, the next apply removes it."""
    rundir = os.path.join(tmp, "run-guard")
    os.makedirs(rundir, exist_ok=True)
    made = scope(VM("launching"))
    ctrls = ("cpu",) if V2 else ("cpu", "memory")
    lock = open(os.path.join(rundir, "launch.lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_SH)
    for c in ctrls:
        os.mkdir(group_path(c, made))
    r = ctl(cfg, "--runtime-dir", rundir, "apply")
    check("launch lock held: apply leaves the groups of a launch alone (exit %d)" % r.returncode,
          all(os.path.isdir(group_path(c, made)) for c in ctrls), r.stdout + r.stderr)
    for c in ctrls:
        os.makedirs(group_path(c, made), exist_ok=True)  # (made again if the check failed)
    sleeper = subprocess.Popen(["sleep", "300"])
    procs.append(sleeper)
    with open(os.path.join(group_path(ctrls[-1], made), "cgroup.procs"), "w") as f:
        f.write(str(sleeper.pid))
    lock.close()
    r = ctl(cfg, "--runtime-dir", rundir, "apply")
    check("lock free, a process in the group: apply leaves it (exit %d)" % r.returncode,
          all(os.path.isdir(group_path(c, made)) for c in ctrls), r.stdout + r.stderr)
    sleeper.kill()
    sleeper.wait()
    r = ctl(cfg, "--runtime-dir", rundir, "apply")
    check("the group empty: the next apply removes it (exit %d)" % r.returncode,
          r.returncode == 0 and not any(os.path.isdir(group_path(c, made)) for c in ctrls),
          r.stdout + r.stderr)


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
        return check_refused()
    if not os.path.exists("/dev/vda"):
        print("skipped: the throttle part of this test names /dev/vda, which this host lacks")
        return 77
    kvm = os.access("/dev/kvm", os.R_OK | os.W_OK)
    tmp = tempfile.mkdtemp(prefix="kvmtune-apply-")
    cfg = os.path.join(tmp, "etc")
    os.makedirs(os.path.join(cfg, "policy.d"))
    with open(os.path.join(cfg, "kvmtuned.yaml"), "w") as f:
        f.write(settings_yaml(PARENT))
    pol = os.path.join(cfg, "policy.d", "10-apl.yaml")
    with open(pol, "w") as f:
        f.write(policy_text(POLICY))
    os.chmod(os.path.join(cfg, "kvmtuned.yaml"), 0o644)
    os.chmod(pol, 0o644)
    print("cgroup %s, parent %s, backend %s" % ("v2" if V2 else "v1/hybrid", PARENT,
                                                "systemd" if SYSTEMD else "cgroupfs"))
    try:
        vms = {}
        for name, accel in ((VM("kvm"), "kvm"), (VM("tcg"), "tcg")):
            if accel == "kvm" and not kvm:
                print("skipped: apl-kvm: /dev/kvm is not usable here")
                continue
            p, sock = start_qemu(tmp, name, ["-accel", accel, "-smp", "2", "-object", "iothread,id=io1"])
            check("%s: started" % name, wait_named(p.pid, 2, 1))
            vms[name] = p

        # --dry-run changes nothing and says what apply will do.
        r = ctl(cfg, "--verbose", "apply", "--dry-run")
        check("apply --dry-run exits 0", r.returncode == 0, r.stdout + r.stderr)
        would = changed(r.stdout)
        check("apply --dry-run made no group", not parent_exists(), "the parent exists")
        check("apply --dry-run names the writes", "would write" in r.stdout and "cpu" in r.stdout, r.stdout[:500])

        r = ctl(cfg, "apply")
        check("apply exits 0 with nothing it could not enforce", r.returncode == 0, r.stdout + r.stderr)
        done = changed(r.stdout)
        print(r.stdout[-400:])
        check("apply made as many changes as --dry-run announced (%s vs %s)" % (done, would),
              done == would, "dry-run %s, apply %s" % (would, done))
        for name, p in vms.items():
            check_vm(name, p)

        r = ctl(cfg, "apply")
        check("a second apply changes nothing (%s)" % changed(r.stdout), r.returncode == 0 and changed(r.stdout) and
              all(n == 0 for n in changed(r.stdout)), r.stdout)
        if SYSTEMD:
            check_systemd_units(vms)
        if PID1_SYSTEMD:
            check_systemd_reapplies(cfg, vms)
        if SYSTEMD:
            check_backend_switch(tmp, cfg)
        elif PID1_SYSTEMD and not V2:
            check_systemd_moves(tmp, cfg)

        # Drift: taskset on vCPU 1 (allowed 0-1) is undone by the next apply.
        name, p = next(iter(vms.items()))
        v1 = tid_of(p.pid, [n for n in threads(p.pid).values() if n.startswith("CPU 1/")][0])
        subprocess.run(["taskset", "-p", "-c", "1", str(v1)], check=True, capture_output=True)
        check("taskset moved vCPU 1 to CPU 1", allowed(p.pid, v1) == "1")
        r = ctl(cfg, "apply", name)
        check("apply undoes the taskset (affinity 0-1 again)", allowed(p.pid, v1) == "0-1", allowed(p.pid, v1))
        check("apply reports exactly that one change", changed(r.stdout) == [1] and "affinity tid %d" % v1 in r.stdout,
              r.stdout)

        # A policy edit, seen first in --dry-run with the old value, then applied.
        with open(pol, "w") as f:
            f.write(policy_text(POLICY).replace("shares: 2048", "shares: 4096"))
        r = ctl(cfg, "apply", "--dry-run", name)
        weight_file = "cpu.weight" if V2 else "cpu.shares"
        old, new = ("200", "400") if V2 else ("2048", "4096")
        check("--dry-run shows the new weight and the old one",
              re.search(r"would (write|set property) \S+%s = %s (\(CPUWeight=%s\) )?\(was %s\)" %
                        (re.escape(weight_file), new, new, old), r.stdout), r.stdout)
        check("--dry-run left the weight as it was", read("cpu", scope(name), weight_file) == old)
        ctl(cfg, "apply", name)
        check("apply then sets it", read("cpu", scope(name), weight_file) == new)

        # A vCPU hot-plugged through QMP is placed by the next apply.
        if kvm:
            hp, sock = start_qemu(tmp, VM("hot"), ["-accel", "kvm", "-smp", "1,maxcpus=2"])
            wait_named(hp.pid, 1)
            ctl(cfg, "apply", VM("hot"))
            with QMP(sock) as q:
                slot = [c for c in q.cmd("query-hotpluggable-cpus") if "qom-path" not in c][0]
                q.cmd("device_add", dict(slot["props"], driver=slot["type"], id="cpu1"))
            wait_named(hp.pid, 2)
            new_tid = tid_of(hp.pid, "CPU 1/KVM")
            check("hot-plugged vCPU starts outside its group (with the main thread's CPUs)",
                  allowed(hp.pid, new_tid) == "0")
            ctl(cfg, "apply", VM("hot"))
            cg = open("/proc/%d/task/%d/cgroup" % (hp.pid, new_tid)).read()
            check("hot-plugged vCPU placed in vcpu1 by the next apply", "/%s/vcpu1\n" % scope(VM("hot")) in cg, cg)
            check("hot-plugged vCPU runs on its pinned CPUs 0-1", allowed(hp.pid, new_tid) == "0-1", allowed(hp.pid, new_tid))
            hp.send_signal(signal.SIGTERM)
            hp.wait(10)

        # numatune strict on a second node moves the memory a running VM already has.
        if os.path.exists("/sys/devices/system/node/node1"):
            check_numa_move(tmp, cfg)
        else:
            print("skipped: numatune moving memory to node 1: this host has one NUMA node")

        # A VM killed during apply: no error, and no group once apply has seen it gone.
        kp, _ = start_qemu(tmp, VM("kill"), ["-accel", "tcg", "-smp", "2", "-object", "iothread,id=io1"])
        wait_named(kp.pid, 2, 1)
        a = subprocess.Popen([CTL, "-C", cfg, "apply"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.02)
        kp.kill()
        kp.wait()
        out, err = a.communicate(timeout=60)
        check("apply with a VM killed meanwhile exits 0, no error", a.returncode == 0 and "could not" not in err,
              out + err)
        r = ctl(cfg, "apply")
        check("and the next apply too", r.returncode == 0, r.stdout + r.stderr)
        gone = not any(os.path.exists(group_path(c, scope(VM("kill")))) for c in ("cpu", "cpuset", "memory"))
        check("the killed VM has no group left", gone)

        if SYSTEMD:
            print("skipped: launch lock: a plain group in a systemd slice is not the systemd backend's")
        else:
            check_launch_guard(tmp, cfg)

        # run: QEMU's first thread is confined before it starts any other.
        run_err = open(os.path.join(tmp, "run.err"), "w+")
        rp = subprocess.Popen([CTL, "-C", cfg, "run", VM("run"), "--", QEMU, "-accel", "tcg", "-smp", "2", "-m", "64",
                               "-display", "none", "-nodefaults", "-S"],
                              stdout=subprocess.DEVNULL, stderr=run_err, close_fds=True)
        procs.append(rp)
        # run confines itself first (with systemd: a scope, properties, machined: seconds in a
        # loaded guest), then execs QEMU: the checks below are about QEMU.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not os.path.exists("/proc/%d/exe" % rp.pid):
            time.sleep(0.01)
        while time.monotonic() < deadline and rp.poll() is None and os.readlink("/proc/%d/exe" % rp.pid) != QEMU:
            time.sleep(0.01)
        execed = rp.poll() is None and os.readlink("/proc/%d/exe" % rp.pid) == QEMU
        run_err.seek(0)
        check("run: execs QEMU", execed, "exit %s: %s" % (rp.poll(), run_err.read()))
        if execed:
            cg = open("/proc/%d/cgroup" % rp.pid).read()
            where = "%s/%s/emulator" % (PARENT, scope(VM("run")))
            check("run: QEMU's main thread is in its emulator group", where in cg, cg)
            check("run: QEMU's main thread has the emulator's CPUs", allowed(rp.pid, rp.pid) == "0", allowed(rp.pid, rp.pid))
            wait_named(rp.pid, 2)
            for tid, comm in threads(rp.pid).items():
                check("run: %s was born confined (CPUs 0)" % comm, allowed(rp.pid, tid) == "0", allowed(rp.pid, tid))
            r = ctl(cfg, "status", "--json", VM("run"))
            vm = json.loads(r.stdout)["vms"][0]
            check("run: status knows it by the name given to run", vm["name"] == VM("run"), vm["name"])
            mem = vm.get("memtune", {})
            check("run: status's memtune reads the VM group, not its emulator group where QEMU's main "
                  "thread is, and finds the hard limit (1G)",
                  mem.get("cgroup") == "/%s/%s" % (PARENT, scope(VM("run"))) and
                  mem.get("hard_limit") == 1 << 30, mem)
    finally:
        end_processes(procs)
        trimmed = ""
        if not V2 and os.path.isdir(group_path("cpu")):
            # systemd trims a slice's groups in a hierarchy it stops needing there: an ended
            # VM's cpu groups may be gone first, and the others must still be found.
            for d in os.listdir(group_path("cpu")):
                if d.startswith("kvmtune-") and remove_tree(group_path("cpu", d)) is None:
                    trimmed = " (their cpu groups removed first, as systemd trims them)"
        if os.path.isdir(cfg):
            r = ctl(cfg, "apply")  # the VMs are gone: their groups go
            check("cleanup: apply removes the groups of ended VMs%s" % trimmed, r.returncode == 0, r.stdout + r.stderr)
        remove_parent()
        check("cleanup: no test cgroup is left", not parent_exists())
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
