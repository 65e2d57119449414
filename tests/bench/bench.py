#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""kvmtuned's benchmark (a program, not a test: it prints figures and judges nothing).

Usage (root): bench.py BUILDDIR [--base BUILDDIR] [--runs 3] [--bursts 1,10,50] [--counts 1000]
                       [--idle 60]
BUILDDIR is a build without sanitizers (HACKING.md: the release build). With --base, a second
build (the code before a change) is measured in the same run, one after the other, each
figure side by side.

How it measures, and why that way:
- Stand-in VMs (fakevm: a QEMU-like command line, vCPU threads that rename themselves "CPU n/KVM"
  30 ms after exec, a QMP stub answering on its -qmp socket) start truly together: `launch`
  forks them all blocked on one pipe and closes it (a barrier, not a Python loop).
- kvmtuned runs with its default settings (qmp: true, 30 s rescan); only cgroup_parent (the
  benchmark's own, kvmtune-bench-<random>) and qemu_binaries (the stand-ins' path) are set.
- Times come from the kernel's tracepoints, in a tracefs instance of the benchmark's own
  (mounted in a private mount namespace): task_rename -> the thread's affinity in place
  ("pinned": its cpuset join or sched_setaffinity, whichever first) and -> its last
  cgroup_attach_task ("placed"); sched_process_exec -> the process's first attach ("exec").
  Nothing polls.
- The floor: `floor` renames as many threads at once and then does the same affinity call and
  the same cgroup moves through files opened beforehand; measured the same way in the same run.
  Every figure is also given as a ratio to the floor's.
- Each figure: the number of samples, the median and the largest (p99 only with >= 100
  samples); over --runs runs, min / median of the runs' values. The host's load (1-minute
  average) before and after each run is printed: the machine may be shared.
- cgrulesengd (libcgroup) is measured on the same exec burst when installed; else said why not.
The benchmark creates cgroups only under its own parent and ends only processes it started.
"""
import argparse
import glob
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from live import remove_tree  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")
procs = []


def load():
    return float(open("/proc/loadavg").read().split()[0])


def summary(values):
    """(n, median, largest, p99 or None) of a list of ms."""
    if not values:
        return (0, float("nan"), float("nan"), None)
    v = sorted(values)
    p99 = v[min(len(v) - 1, int(round(0.99 * (len(v) - 1))))] if len(v) >= 100 else None
    return (len(v), statistics.median(v), v[-1], p99)


# ---- tracing ----

class Trace:
    """A tracefs instance of our own, with the events the figures come from."""

    def __init__(self, tmp, parent, binary):
        self.mnt = os.path.join(tmp, "tracefs")
        os.makedirs(self.mnt)
        subprocess.run(["mount", "-t", "tracefs", "nodev", self.mnt], check=True)
        self.dir = os.path.join(self.mnt, "instances", "kvmtune-bench-%06d" % random.randrange(10 ** 6))
        os.mkdir(self.dir)
        self.put("trace_clock", "mono")
        self.put("buffer_size_kb", "16384")
        filters = {
            "task/task_rename": 'newcomm ~ "CPU *"',
            "cgroup/cgroup_attach_task": 'dst_path ~ "*%s*"' % parent,
            "syscalls/sys_enter_sched_setaffinity": None,
            "sched/sched_process_exec": 'filename ~ "%s"' % binary,
        }
        for ev, flt in filters.items():
            if flt:
                self.put("events/%s/filter" % ev, flt)
            self.put("events/%s/enable" % ev, "1")

    def put(self, name, value):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(value)

    def take(self):
        """The events since the last take, as (ts_ms, event, fields)."""
        text = open(os.path.join(self.dir, "trace")).read()
        self.put("trace", "")
        out = []
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            try:
                head, rest = line.split(": ", 1)
                ts = float(head.rsplit(None, 1)[1])
                event, fields = rest.split(": ", 1) if ": " in rest else rest.split("(", 1)
            except (ValueError, IndexError):
                continue
            out.append((ts * 1000, event.strip(), fields))
        return out

    def close(self):
        try:
            self.put("tracing_on", "0")
            os.rmdir(self.dir)
        finally:
            subprocess.run(["umount", self.mnt])


def field(fields, name):
    """name=value (value up to the next ' key=' or the end) from a trace line."""
    i = fields.find(name + "=")
    if i < 0:
        return None
    rest = fields[i + len(name) + 1:]
    j = min([k for k in (rest.find(" %s=" % n) for n in
                         ("oldcomm", "newcomm", "oom_score_adj", "dst_id", "dst_level", "dst_path", "pid", "comm",
                          "old_pid")) if k >= 0] or [len(rest)])
    return rest[:j]


def latencies(events, cpuset_root):
    """Per renamed thread: rename -> pinned, rename -> placed (ms); per exec: exec -> first
    attach of the process."""
    rename, pinned, placed, execs, first_attach = {}, {}, {}, {}, {}
    for ts, ev, f in events:
        if ev == "task_rename":
            rename[int(field(f, "pid"))] = ts
        elif ev == "sched_process_exec":
            execs[int(field(f, "pid"))] = ts
        elif ev == "cgroup_attach_task":
            pid, root = int(field(f, "pid")), int(field(f, "dst_root"))
            first_attach.setdefault(pid, ts)
            if pid in rename and ts >= rename[pid]:
                placed[pid] = ts
                if root == cpuset_root:
                    pinned.setdefault(pid, ts)
        elif ev.startswith("sys_sched_setaffinity"):
            try:
                pid = int(f.split("pid:")[1].split(",")[0].strip(), 16)
            except (IndexError, ValueError):
                continue
            if pid in rename and ts >= rename[pid]:
                pinned[pid] = min(pinned.get(pid, ts), ts)
                placed[pid] = max(placed.get(pid, ts), ts)
    pin = [pinned[t] - rename[t] for t in rename if t in pinned]
    put = [placed[t] - rename[t] for t in rename if t in placed]
    ex = [first_attach[p] - execs[p] for p in execs if p in first_attach and first_attach[p] >= execs[p]]
    return pin, put, ex, len(rename)


def cpuset_hierarchy_id():
    for line in open("/proc/cgroups"):
        f = line.split()
        if f and f[0] == "cpuset":
            return int(f[1])
    return 0


# ---- stand-ins ----

def launch(tools, binary, prefix, n, qmp_dir, extra=("--idle",)):
    p = subprocess.Popen([os.path.join(tools, "launch"), str(n), binary, prefix, "-smp", "4", "--qmp-dir", qmp_dir]
                         + list(extra), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    procs.append(p)
    pids = []
    for _ in range(n):
        pids.append(int(p.stdout.readline().split()[2]))
    return p, pids


def stop(p, pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    p.wait(30)


def count_placed(log, prefix, start):
    return sum(1 for line in open(log).read()[start:].splitlines()
               if ": %s-" % prefix in line and "placed vcpu" in line)


def wait_for(cond, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return False


def cpu_ns(pid):
    """The daemon's CPU time (ns), from the scheduler's own account (finer than clock ticks)."""
    return sum(int(open(p).read().split()[0]) for p in glob.glob("/proc/%d/task/*/schedstat" % pid))


def daemon_cpu_rss(pid):
    stat = open("/proc/%d/stat" % pid).read()
    f = stat[stat.rindex(")") + 2:].split()
    rss = [line for line in open("/proc/%d/status" % pid) if line.startswith("VmRSS:")][0].split()[1]
    return (int(f[11]) + int(f[12])) / HZ, int(rss) * 1024


# ---- one run of one build ----

def run_daemon(build, tools, tmp, parent, trace, args, tag):
    cfg, rundir, log = (os.path.join(tmp, tag + x) for x in ("-etc", "-run", ".log"))
    binary = os.path.join(tmp, "bin", "qemu-system-fake")
    qmp_dir = os.path.join(tmp, tag + "-qmp")
    os.makedirs(os.path.join(cfg, "policy.d"))
    os.makedirs(qmp_dir)
    ncpu = os.cpu_count()
    pins = "".join('    - { vcpu: %d, cpuset: "%d" }\n' % (v, v % ncpu) for v in range(4))
    for name, text in (("kvmtuned.yaml", 'cgroup_parent: %s\nqemu_binaries: ["%s"]\n' % (parent, binary)),
                       ("policy.d/10-fake.yaml", 'match: { name: "fake-*" }\ncputune:\n  shares: 512\n  vcpupin:\n' + pins)):
        with open(os.path.join(cfg, name), "w") as f:
            f.write(text)
        os.chmod(os.path.join(cfg, name), 0o644)
    res = {}
    # at the unit's priority (systemd/kvmtuned.service.in: Nice=-5)
    daemon = subprocess.Popen([os.path.join(build, "daemon", "kvmtuned"), "-v", "-C", cfg, "--runtime-dir", rundir],
                              stdout=subprocess.DEVNULL, stderr=open(log, "w"), close_fds=True,
                              preexec_fn=lambda: os.nice(args.nice))
    procs.append(daemon)
    try:
        wait_for(lambda: "started" in open(log).read(), 60)
        for burst in args.bursts:
            trace.take()
            mark = len(open(log).read())
            c0 = cpu_ns(daemon.pid)
            p, pids = launch(tools, binary, "fake-%s-b%d" % (tag, burst), burst, qmp_dir)
            wait_for(lambda: count_placed(log, "fake-%s-b%d" % (tag, burst), mark) >= burst * 4, 60)
            time.sleep(0.3)
            res["cpu %d" % burst] = (cpu_ns(daemon.pid) - c0) / 1e6 / burst
            pin, put, ex, renames = latencies(trace.take(), args.cpuset_root)
            res["pinned %d" % burst], res["placed %d" % burst] = pin, put
            res["exec %d" % burst] = ex
            stop(p, pids)
            time.sleep(0.5)
        for count in args.counts:
            mark = len(open(log).read())
            p, pids = launch(tools, binary, "fake-%s-n%d" % (tag, count), count, qmp_dir)
            wait_for(lambda: count_placed(log, "fake-%s-n%d" % (tag, count), mark) >= count * 4, 600)
            res["placed before reload %d" % count] = count_placed(log, "fake-%s-n%d" % (tag, count), mark)
            time.sleep(1)
            timings = []
            for _ in range(3):
                mark = len(open(log).read())
                t0 = time.monotonic()
                subprocess.run([os.path.join(build, "tools", "kvmtunectl"), "-C", cfg, "--runtime-dir", rundir,
                                "reload"], capture_output=True)
                timings.append(time.monotonic() - t0)
                wait_for(lambda: "reload:" in open(log).read()[mark:], 10)
            last = [line for line in open(log).read()[mark:].splitlines() if "reload:" in line]
            res["reload %d" % count] = timings
            res["reload writes %d" % count] = last[-1].split("reload: ")[-1] if last else "?"
            c0, _ = daemon_cpu_rss(daemon.pid)
            time.sleep(args.idle)
            c1, rss = daemon_cpu_rss(daemon.pid)
            res["idle %d" % count] = ((c1 - c0) / args.idle * 100, rss / 1e6)
            stop(p, pids)
            time.sleep(1)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(30)
    return res


def run_floor(tools, parent, trace, args):
    """The same affinity calls and moves, by a minimal program, into groups made like the VMs'."""
    res = {}
    roots = sorted({os.path.dirname(os.path.dirname(os.path.dirname(d)))
                    for d in glob.glob("/sys/fs/cgroup/*/%s/kvmtune-*.scope/vcpu0" % parent)
                    + glob.glob("/sys/fs/cgroup/%s/kvmtune-*.scope/vcpu0" % parent)})
    if not roots:
        # the VMs' groups are gone already: the hierarchies kvmtuned uses for threads
        roots = [r for r in ("/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuset") if os.path.isdir(r)]
    for burst in args.bursts:
        n = burst * 4
        base = "%s/floor-%d" % (parent, burst)
        templates = []
        for root in roots:
            top = os.path.join(root, base)
            os.makedirs(top, exist_ok=True)
            cs = os.path.exists(os.path.join(top, "cpuset.cpus"))
            if cs:
                for d in (os.path.join(root, parent), top):
                    for fname in ("cpuset.cpus", "cpuset.mems"):
                        with open(os.path.join(d, fname), "w") as f:
                            f.write(open(os.path.join(root, fname)).read().strip() or "0")
            for i in range(n):
                g = os.path.join(top, "vcpu%d" % i)
                os.makedirs(g, exist_ok=True)
                if cs:
                    with open(os.path.join(g, "cpuset.cpus"), "w") as f:
                        f.write(str(i % os.cpu_count()))
                    with open(os.path.join(g, "cpuset.mems"), "w") as f:
                        f.write(open(os.path.join(top, "cpuset.mems")).read().strip())
            templates.append(os.path.join(top, "vcpu%d"))
        trace.take()
        p = subprocess.Popen([os.path.join(tools, "floor"), str(n)] + templates, stdout=subprocess.PIPE, text=True)
        procs.append(p)
        p.stdout.readline()
        time.sleep(0.2)
        pin, put, _, _ = latencies(trace.take(), args.cpuset_root)
        res["pinned %d" % burst], res["placed %d" % burst] = pin, put
        p.kill()
        p.wait()
        time.sleep(0.2)
        for root in roots:
            remove_tree(os.path.join(root, base))
    return res


# ---- cgrulesengd ----

def cgrulesengd_burst(tools, binary, parent, trace, qmp_dir, args):
    """exec -> classified by cgrulesengd: a rule for the stand-ins' binary, into a group of ours."""
    if not shutil.which("cgrulesengd"):
        return None, "not measured: cgrulesengd is not installed (Debian: cgroup-tools)"
    cpu_root = "/sys/fs/cgroup/cpu" if os.path.isdir("/sys/fs/cgroup/cpu") else "/sys/fs/cgroup"
    group = "%s/cgre" % parent
    os.makedirs(os.path.join(cpu_root, group), exist_ok=True)
    conf = "/etc/cgrules.conf"
    saved = open(conf).read() if os.path.exists(conf) else None
    made = [p for p in ("/etc/cgconfig.d", "/etc/cgconfig.conf") if not os.path.exists(p)]
    for p in made:
        os.mkdir(p) if p.endswith(".d") else open(p, "w").close()
    with open(conf, "w") as f:
        f.write("*:%s cpu %s/\n" % (binary, group))
    d = subprocess.Popen(["cgrulesengd", "-n", "-Q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(d)
    time.sleep(1)
    try:
        trace.take()
        p, pids = launch(tools, binary, "cgre", 10, qmp_dir, ("--idle",))
        time.sleep(2)
        _, _, ex, _ = latencies(trace.take(), args.cpuset_root)
        stop(p, pids)
        return ex, None
    finally:
        d.send_signal(signal.SIGTERM)
        d.wait(10)
        for p in made:
            (os.rmdir if p.endswith(".d") else os.unlink)(p)
        if saved is None:
            os.unlink(conf)
        else:
            with open(conf, "w") as f:
                f.write(saved)


# ---- the table ----

def fmt_lat(runs, floor_runs=None):
    """min / median over runs of each run's median and largest, with n, and the ratio."""
    stats = [summary(v) for v in runs]
    n = [s[0] for s in stats]
    med = [s[1] for s in stats]
    big = [s[3] if s[3] is not None else s[2] for s in stats]
    label = "p99" if all(s[3] is not None for s in stats) else "max"
    text = "median %.2f / %.2f, %s %.2f / %.2f ms (n=%s)" % (
        min(med), statistics.median(med), label, min(big), statistics.median(big), ",".join(map(str, n)))
    if floor_runs:
        fmed = statistics.median([summary(v)[1] for v in floor_runs])
        fbig = statistics.median([summary(v)[3] or summary(v)[2] for v in floor_runs])
        if fmed > 0 and fbig > 0:
            text += "; %.1f x / %.1f x the floor" % (statistics.median(med) / fmed, statistics.median(big) / fbig)
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--base", help="a second build, measured in the same run (before a change)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bursts", default="1,10,50")
    ap.add_argument("--counts", default="1000")
    ap.add_argument("--idle", type=int, default=60, help="seconds of idle measured (default rescan: 30 s)")
    ap.add_argument("--nice", type=int, default=-5, help="the daemon's nice value (the unit's: -5)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("needs root")
        return 2
    if os.environ.get("KVMTUNE_BENCH_NS") != "1":
        # tracefs is mounted in a mount namespace of our own: nobody else's view changes
        os.environ["KVMTUNE_BENCH_NS"] = "1"
        os.execvp("unshare", ["unshare", "--mount", "--propagation", "private", sys.executable] + sys.argv)
    args.bursts = [int(x) for x in args.bursts.split(",") if x]
    args.counts = [int(x) for x in args.counts.split(",") if x]
    args.cpuset_root = cpuset_hierarchy_id()
    builds = [("after", os.path.abspath(args.build))] + ([("before", os.path.abspath(args.base))] if args.base else [])
    tools = os.path.join(builds[0][1], "tests", "bench")
    tmp = tempfile.mkdtemp(prefix="kvmtune-bench-")
    parent = "kvmtune-bench-%06d" % random.randrange(10 ** 6)
    binary = os.path.join(tmp, "bin", "qemu-system-fake")
    os.makedirs(os.path.dirname(binary))
    shutil.copy(os.path.join(tools, "fakevm"), binary)
    trace = Trace(tmp, parent, binary)
    results = {tag: [] for tag, _ in builds}
    floors, loads, cgre, cgre_why = [], [], [], None
    try:
        for r in range(args.runs):
            for tag, build in builds:
                before = load()
                results[tag].append(run_daemon(build, tools, tmp, parent, trace, args, "%s%d" % (tag, r)))
                floors.append(run_floor(tools, parent, trace, args))
                loads.append((tag, r + 1, before, load()))
                for c in ("cpu", "cpuacct", "cpuset", "memory", "blkio", "pids", ""):
                    for g in glob.glob(os.path.join("/sys/fs/cgroup", c, parent, "kvmtune-*.scope")):
                        remove_tree(g)
            os.makedirs(os.path.join(tmp, "cgre-qmp%d" % r))
            ex, cgre_why = cgrulesengd_burst(tools, binary, parent, trace, os.path.join(tmp, "cgre-qmp%d" % r), args)
            if ex is not None:
                cgre.append(ex)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        trace.close()
        for c in ("cpu", "cpuacct", "cpuset", "memory", "blkio", "pids", ""):
            remove_tree(os.path.join("/sys/fs/cgroup", c, parent))
        shutil.rmtree(tmp, ignore_errors=True)
    rows = []
    tags = [t for t, _ in builds]

    def per(key):
        return {t: [res[key] for res in results[t]] for t in tags}

    for b in args.bursts:
        for kind in ("pinned", "placed"):
            fl = [f["%s %d" % (kind, b)] for f in floors]
            rows.append(("rename -> %s, %d VM(s) x 4 vCPUs" % (kind, b),
                         {t: fmt_lat(v, fl) for t, v in per("%s %d" % (kind, b)).items()}))
            rows.append(("  floor: %d threads, same calls" % (b * 4) if kind == "placed" else "  floor (pinned)",
                         {t: fmt_lat(fl) for t in tags}))
    for b in args.bursts:
        rows.append(("kvmtuned's CPU per VM, burst of %d VM(s)" % b,
                     {t: "min %.2f / median %.2f ms" % (min(v), statistics.median(v))
                      for t, v in per("cpu %d" % b).items()}))
    for b in args.bursts:
        if b >= 10:
            rows.append(("exec -> in its VM group, %d VMs at once" % b,
                         {t: fmt_lat(v) for t, v in per("exec %d" % b).items()}))
    rows.append(("exec -> classified, cgrulesengd, 10 at once",
                 {t: (fmt_lat(cgre) if cgre else cgre_why or "not measured") for t in tags}))
    for c in args.counts:
        rows.append(("reload, %d VMs x 4 vCPUs (s)" % c,
                     {t: "min %.2f / median %.2f s (3 reloads x %d runs)" % (
                         min(x for v in vs for x in v), statistics.median([statistics.median(v) for v in vs]), len(vs))
                      for t, vs in per("reload %d" % c).items()}))
        rows.append(("  vCPUs placed before the reloads", {t: ",".join(map(str, v)) for t, v in
                                                           per("placed before reload %d" % c).items()}))
        rows.append(("  the last reload's changes", {t: " | ".join(v) for t, v in per("reload writes %d" % c).items()}))
        rows.append(("idle %d s with %d VMs, default 30 s rescan" % (args.idle, c),
                     {t: "CPU %s %% of a core, RSS %s MB" % (
                         "/".join("%.3f" % x[0] for x in v), "/".join("%.1f" % x[1] for x in v))
                      for t, v in per("idle %d" % c).items()}))
    print("kvmtune benchmark: %d run(s); builds: %s; host: %d CPUs, %s" % (
        args.runs, ", ".join("%s=%s" % b for b in builds), os.cpu_count(), os.uname().release))
    print("load (1-min) before/after each run: " + "; ".join("%s#%d %.1f/%.1f" % x for x in loads))
    print("figures: min / median over the runs; n = samples per run\n")
    width = max(len(r[0]) for r in rows)
    for name, vals in rows:
        for i, t in enumerate(tags):
            print("%-*s  %-6s %s" % (width, name if i == 0 else "", t, vals[t]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
