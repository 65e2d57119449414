#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""kvmtuned's benchmark (a program, not a test: it prints figures and judges nothing).

Stand-in VMs (fakevm, run from a path kvmtuned's qemu_binaries match, with threads that rename
themselves "CPU n/KVM") measure from inside how long after a rename their pinning and cgroup are
in place. Prints a table:
  (1) rename -> vCPU placed (affinity and cgroup), p50/p99/max, VMs starting in bursts
  (2) `kvmtunectl reload` (returns when re-enforced) with 100, 500, 1000 VMs x 4 vCPUs
  (3) writes a reload makes when nothing changed
  (4) the daemon's CPU and RSS when idle with the most VMs
  (5) exec -> classified for kvmtuned, and for libcgroup's cgrulesengd on the same burst
Usage (root): bench.py BUILDDIR [--counts 100,500,1000] [--bursts 1,10,50]
BUILDDIR is a build as it ships: a plain `meson setup BUILDDIR` (no sanitizers).
Uses its own cgroup parent, kvmtune-bench-<random>, and ends only the processes it started.
"""
import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from live import remove_tree  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")
procs = []


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


class Fake:
    """One stand-in VM and the figures it prints."""

    def __init__(self, binary, name, vcpus, extra=()):
        self.lines = 1 if ("--idle" in extra or "--exec-only" in extra) else vcpus + 1
        self.p = subprocess.Popen([binary, "-name", "guest=%s,debug-threads=on" % name, "-smp", str(vcpus)] + list(extra),
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, close_fds=True)
        procs.append(self.p)
        self.vcpus, self.exec_us, self.vcpu_us, self.timeouts = vcpus, None, [], 0
        self.done = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        seen = 0
        for line in self.p.stdout:
            f = line.split()
            if f[-1] == "timeout":
                self.timeouts += 1
            elif f[0] == "exec":
                self.exec_us = float(f[1])
            elif f[0] == "vcpu":
                self.vcpu_us.append(float(f[2]))
            seen += 1
            if seen == self.lines:
                self.done.set()

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGKILL)
            self.p.wait()


def daemon_cpu_rss(pid):
    stat = open("/proc/%d/stat" % pid).read()
    f = stat[stat.rindex(")") + 2:].split()
    cpu = (int(f[11]) + int(f[12])) / HZ
    rss = [l for l in open("/proc/%d/status" % pid) if l.startswith("VmRSS:")][0].split()[1]
    return cpu, int(rss) * 1024


def wait_log(path, text, timeout=60, start=0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if text in open(path).read()[start:]:
            return True
        time.sleep(0.05)
    return False


def placed(log, prefix, start=0):
    """The daemon's "placed vcpuN ... X ms after its rename" lines for VMs named prefix-*."""
    out = []
    for line in open(log).read()[start:].splitlines():
        if ": %s-" % prefix not in line or "placed vcpu" not in line:
            continue
        out.append(float(line.split(" ms after")[0].rsplit(" ", 1)[1]))
    return out


def wait_placed(log, prefix, want, start=0, timeout=300):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = placed(log, prefix, start)
        if len(got) >= want:
            return got
        time.sleep(0.2)
    return placed(log, prefix, start)


def start_fakes(binary, prefix, n, vcpus, extra=()):
    fakes = [Fake(binary, "%s-%d" % (prefix, i), vcpus, extra) for i in range(n)]
    for f in fakes:
        f.done.wait(60)
    return fakes


def stop_fakes(fakes):
    for f in fakes:
        f.stop()


def cgrulesengd_burst(tmp, binary, burst):
    """exec -> classified for cgrulesengd, rule for the same stand-in binary (cpu controller)."""
    if not shutil.which("cgrulesengd"):
        return None, "cgrulesengd not installed (apt-get install cgroup-tools)"
    cpu_root = "/sys/fs/cgroup/cpu" if os.path.isdir("/sys/fs/cgroup/cpu") else "/sys/fs/cgroup"
    group = "kvmtune-bench-cgre-%d" % random.randrange(10 ** 6)
    os.mkdir(os.path.join(cpu_root, group))
    conf = "/etc/cgrules.conf"
    saved = open(conf).read() if os.path.exists(conf) else None
    # cgrulesengd 2.0.2 refuses to start without these; made empty when absent, removed after
    made = [p for p in ("/etc/cgconfig.d", "/etc/cgconfig.conf") if not os.path.exists(p)]
    for p in made:
        if p.endswith(".d"):
            os.mkdir(p)
        else:
            open(p, "w").close()
    with open(conf, "w") as f:
        f.write("*:%s cpu %s/\n" % (binary, group))  # the full path: comm is cut at 15 bytes
    d = subprocess.Popen(["cgrulesengd", "-n", "-Q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(d)
    time.sleep(1)
    try:
        fakes = [Fake(binary, "cgre-%d" % i, 1, ["--expect", group, "--exec-only", "--timeout", "5"]) for i in range(burst)]
        for f in fakes:
            f.done.wait(30)
        times = [f.exec_us for f in fakes if f.exec_us is not None]
        timeouts = sum(f.timeouts for f in fakes)
        stop_fakes(fakes)
        return (times, timeouts), None
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
        time.sleep(0.2)
        try:
            os.rmdir(os.path.join(cpu_root, group))
        except OSError as e:
            print("note: %s: %s" % (group, e))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--counts", default="100,500,1000")
    ap.add_argument("--bursts", default="1,10,50")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("needs root")
        return 2
    build = os.path.abspath(args.build)
    tmp = tempfile.mkdtemp(prefix="kvmtune-bench-")
    parent = "kvmtune-bench-%06d" % random.randrange(10 ** 6)
    binary = os.path.join(tmp, "bin", "qemu-system-fake")
    os.makedirs(os.path.dirname(binary))
    shutil.copy(os.path.join(build, "tests", "bench", "fakevm"), binary)
    cfg, run, log = os.path.join(tmp, "etc"), os.path.join(tmp, "run"), os.path.join(tmp, "kvmtuned.log")
    os.makedirs(os.path.join(cfg, "policy.d"))
    ncpu = os.cpu_count()
    pins = "".join('    - { vcpu: %d, cpuset: "%d" }\n' % (v, v % ncpu) for v in range(4))
    for name, text in (("kvmtuned.yaml", "cgroup_parent: %s\nqemu_binaries: [\"%s/bin/qemu-system-*\"]\n"
                        "rescan_interval: 1h\nqmp: false\n" % (parent, tmp)),
                       ("policy.d/10-fake.yaml", 'match: { name: "fake-*" }\ncputune:\n  shares: 512\n  vcpupin:\n' + pins)):
        with open(os.path.join(cfg, name), "w") as f:
            f.write(text)
        os.chmod(os.path.join(cfg, name), 0o644)
    rows = []
    daemon = subprocess.Popen([os.path.join(build, "daemon", "kvmtuned"), "-v", "-C", cfg, "--runtime-dir", run],
                              stdout=subprocess.DEVNULL, stderr=open(log, "w"), close_fds=True)
    procs.append(daemon)
    try:
        wait_log(log, "started")
        # (1) bursts: idle stand-ins (no polling), latency from the kernel's rename timestamp
        for burst in [int(x) for x in args.bursts.split(",")]:
            mark = len(open(log).read())
            fakes = start_fakes(binary, "fake-b%d" % burst, burst, 4, ["--idle"])
            lat = wait_placed(log, "fake-b%d" % burst, burst * 4, mark)
            rows.append(("(1) rename -> vCPU pinned and in its group, burst of %d VMs x 4" % burst,
                         "p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d of %d vCPUs)" % (
                             pct(lat, 50), pct(lat, 99), max(lat or [0]), len(lat), burst * 4)))
            stop_fakes(fakes)
            time.sleep(0.5)
        # the same seen from inside one VM (its threads poll their own cgroup and affinity)
        fakes = start_fakes(binary, "fake-inside", 1, 4)
        inside = [u / 1000 for f in fakes for u in f.vcpu_us]
        rows.append(("(1) cross-check from inside one VM (its own view, polling)",
                     "max %.2f ms over its 4 vCPUs" % max(inside or [float("nan")])))
        stop_fakes(fakes)
        # (5) exec -> classified: only the main threads poll, 10 VMs at once
        fakes = start_fakes(binary, "fake-exec", 10, 1, ["--exec-only"])
        ex = [f.exec_us / 1000 for f in fakes if f.exec_us is not None]
        rows.append(("(5) exec -> in its VM group, kvmtuned, burst of 10",
                     "p50 %.2f ms, p99 %.2f ms, max %.2f ms" % (pct(ex, 50), pct(ex, 99), max(ex or [0]))))
        stop_fakes(fakes)
        time.sleep(0.5)
        # (2), (3), (4): many VMs, reload
        for count in [int(x) for x in args.counts.split(",")]:
            mark = len(open(log).read())
            fakes = start_fakes(binary, "fake-n%d" % count, count, 4, ["--idle"])
            n_placed = len(wait_placed(log, "fake-n%d" % count, count * 4, mark))
            time.sleep(1)
            timings = []
            for _ in range(3):
                mark = len(open(log).read())
                t0 = time.monotonic()
                r = subprocess.run([os.path.join(build, "tools", "kvmtunectl"), "-C", cfg, "--runtime-dir", run, "reload"],
                                   capture_output=True, text=True)
                timings.append(time.monotonic() - t0)
                wait_log(log, "reload:", 5, mark)
            last = [l for l in open(log).read()[mark:].splitlines() if "reload:" in l]
            rows.append(("(2) reload, %d VMs x 4 vCPUs (%d/%d vCPUs placed before)" % (count, n_placed, count * 4),
                         "median %.2f s (of %s)" % (statistics.median(timings), ", ".join("%.2f" % t for t in timings))))
            rows.append(("(3) writes by a reload with nothing changed, %d VMs" % count, last[-1].split("reload: ")[-1] if last else "?"))
            if count == max(int(x) for x in args.counts.split(",")):
                c0, _ = daemon_cpu_rss(daemon.pid)
                time.sleep(10)
                c1, rss = daemon_cpu_rss(daemon.pid)
                rows.append(("(4) daemon idle for 10 s with %d VMs" % count,
                             "CPU %.3f%% of a core, RSS %.1f MB" % ((c1 - c0) / 10 * 100, rss / 1e6)))
            stop_fakes(fakes)
            time.sleep(1)
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(10)
        # cgrulesengd on the same burst
        result, why = cgrulesengd_burst(tmp, binary, 10)
        if why:
            rows.append(("(5) exec -> classified, cgrulesengd", why))
        else:
            times, timeouts = result
            times = [t / 1000 for t in times]
            rows.append(("(5) exec -> classified, cgrulesengd, burst of %d" % len(times),
                         "p50 %.2f ms, p99 %.2f ms, max %.2f ms%s" % (pct(times, 50), pct(times, 99), max(times or [0]),
                                                                     ", %d timeouts" % timeouts if timeouts else "")))
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        subprocess.run([os.path.join(build, "tools", "kvmtunectl"), "-C", cfg, "apply"], capture_output=True)
        for c in ("cpu", "cpuacct", "cpuset", "memory", "blkio", "pids", ""):
            remove_tree(os.path.join("/sys/fs/cgroup", c, parent))
        shutil.rmtree(tmp, ignore_errors=True)
    width = max(len(r[0]) for r in rows)
    print("%-*s  %s" % (width, "measure", "result"))
    for name, value in rows:
        print("%-*s  %s" % (width, name, value))
    return 0


if __name__ == "__main__":
    sys.exit(main())
