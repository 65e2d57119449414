#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The effect of the limits, seen by real consumers, on real QEMU (KVM where /dev/kvm is usable,
TCG otherwise) under kvmtuned.

A VM whose firmware spins (a 64 KiB BIOS that is one `jmp $` at the reset vector: busy on
every accelerator) gets a vCPU quota of 10 %: `status` shows vcpu0 throttled and its throttled
time grows between two reads, in the text and in --json; `kvmtunectl metrics` shows the same
counter growing, is strict OpenMetrics (Debian's python3-prometheus-client parser) and, as
--format prometheus, clean for `promtool check metrics` (Debian's prometheus), and carries
kvmtuned's counters. kvmtuned writes the textfile (metrics_textfile:) that Debian's
prometheus-node-exporter, with its textfile collector pointed at it and every other collector
off, serves over 127.0.0.1 on a free port: the scrape has the VM's throttling, growing, and no
textfile error. The VM kvmtuned adopted is labelled as having its memory charged elsewhere;
one started with `kvmtunectl run` is not.

Usage: test-effect-live.py KVMTUNED KVMTUNECTL. Its policies match only its own VMs (name and
a fresh uuid); it touches only its own groups and processes.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from live import (TAG, SYSTEMD, backend_unavailable, check, end_processes,  # noqa: E402
                  remove_tree, settings_yaml, stop_parent, summary, test_parent, wait_named)

QEMU = "/usr/bin/qemu-system-x86_64"
DAEMON = os.path.abspath(sys.argv[1])
CTL = os.path.abspath(sys.argv[2])
CG = "/sys/fs/cgroup"
V2 = os.path.exists(CG + "/cgroup.controllers")
PARENT = test_parent()
CONTROLLERS = ("cpu", "cpuacct", "cpuset", "memory", "blkio", "pids")
PROMTOOL = shutil.which("promtool")
NODE_EXPORTER = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
# The Debian package's module, whatever python runs this test.
SYSTEM_PYTHON = "/usr/bin/python3"
procs = []

POLICY = """\
match: { name: "%s", uuid: "%s" }
cputune:
  period: 100000
  quota: 10000
memtune:
  hard_limit: 256M
"""


def ctl(cfg, run, *args, stdin=None):
    return subprocess.run([CTL, "-C", cfg, "--runtime-dir", run] + list(args),
                          capture_output=True, text=True, timeout=300, input=stdin)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)


def gpath(ctrl):
    return os.path.join(CG if V2 else os.path.join(CG, ctrl), PARENT)


def spin_bios(path):
    """A BIOS that is one `jmp $` at the reset vector (F000:FFF0): the vCPU never idles."""
    b = bytearray(65536)
    b[0xFFF0:0xFFF2] = b"\xeb\xfe"
    with open(path, "wb") as f:
        f.write(b)


def qemu_args(name, vm_uuid, accel, bios):
    return [QEMU, "-display", "none", "-nodefaults", "-m", "64", "-accel", accel, "-smp", "1",
            "-bios", bios, "-uuid", vm_uuid, "-name", "guest=%s,debug-threads=on" % name]


def effect(cfg, run, name):
    r = ctl(cfg, run, "status", "--json", name)
    try:
        vm = json.loads(r.stdout)["vms"][0]
        return vm.get("state"), vm.get("effect") or {}
    except (ValueError, KeyError, IndexError):
        return "?", {"raw": r.stdout + r.stderr}


def group(eff, label):
    return next((g for g in eff.get("groups", []) if g.get("group") == label), {})


def wait_enforced(cfg, run, name, timeout=120):
    deadline = time.monotonic() + timeout
    state, eff = "?", {}
    while time.monotonic() < deadline:
        state, eff = effect(cfg, run, name)
        if state == "enforced" and group(eff, "vcpu0").get("throttled_periods", 0) > 0:
            return True, eff
        time.sleep(1)
    print("state %s, effect %s" % (state, json.dumps(eff)[:2000]))
    return False, eff


def sample(text, metric, **labels):
    """The value of the first series of metric whose labels include labels, or None."""
    for line in text.splitlines():
        m = re.match(r'^%s\{([^}]*)\} (\S+)$' % re.escape(metric), line)
        if not m:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1)))
        if all(have.get(k) == v for k, v in labels.items()):
            return float(m.group(2))
    return None


def throttling(cfg, run, name, vm_uuid):
    """status (text and --json) and metrics: vcpu0 throttled, more so a little later."""
    _, e1 = effect(cfg, run, name)
    m1 = ctl(cfg, run, "metrics", name).stdout
    time.sleep(4)
    _, e2 = effect(cfg, run, name)
    m2 = ctl(cfg, run, "metrics", name).stdout
    g1, g2 = group(e1, "vcpu0"), group(e2, "vcpu0")
    check("status --json: vcpu0 is throttled (%s of %s periods)" %
          (g1.get("throttled_periods"), g1.get("periods")),
          g1.get("throttled_periods", 0) > 0, g1)
    check("status --json: vcpu0's throttled time grows (%.3fs -> %.3fs)" %
          (g1.get("throttled_seconds", 0), g2.get("throttled_seconds", 0)),
          g2.get("throttled_seconds", 0) > g1.get("throttled_seconds", 0), (g1, g2))
    check("status --json: the emulator group has no quota, nothing throttled",
          group(e2, "emulator").get("throttled_periods", 0) == 0, group(e2, "emulator"))
    if V2:
        # PSI: every v2 group has cpu.pressure; time waiting for a CPU only grows
        p1, p2 = g1.get("cpu_pressure") or {}, g2.get("cpu_pressure") or {}
        check("status --json: vcpu0's CPU pressure (v2 PSI) is there and does not shrink "
              "(%s -> %s)" % (p1.get("some_seconds"), p2.get("some_seconds")),
              "some_seconds" in p1 and p2.get("some_seconds", -1) >= p1["some_seconds"],
              (p1, p2))
    text = ctl(cfg, run, "status", name).stdout
    check("status: the Effect section shows vcpu0 throttled",
          re.search(r"vcpu0 +cpu [0-9.]+s +throttled [1-9][0-9]* of [0-9]+ periods", text), text)
    lab = {"vm": name, "uuid": vm_uuid, "group": "vcpu0"}
    t1 = sample(m1, "kvmtune_cpu_throttled_seconds_total", **lab)
    t2 = sample(m2, "kvmtune_cpu_throttled_seconds_total", **lab)
    check("metrics: kvmtune_cpu_throttled_seconds_total of vcpu0 grows (%s -> %s)" % (t1, t2),
          t1 is not None and t2 is not None and t2 > t1, m2[:3000])
    check("metrics: vcpu0's quota is 0.01 s per 0.1 s",
          sample(m2, "kvmtune_cpu_quota_seconds", **lab) == 0.01 and
          sample(m2, "kvmtune_cpu_period_seconds", **lab) == 0.1, m2[:3000])
    return m2


def consumers(cfg, run, name):
    """The output is what Prometheus's own tools accept."""
    om = ctl(cfg, run, "metrics").stdout
    check("metrics: kvmtuned answered (kvmtune_daemon_up 1) and its counters are there",
          "\nkvmtune_daemon_up 1\n" in om and "kvmtune_daemon_process_events_total " in om and
          "kvmtune_daemon_thread_placement_seconds_bucket{le=\"+Inf\"}" in om, om[-3000:])
    check("metrics: OpenMetrics ends with # EOF", om.endswith("\n# EOF\n"), om[-200:])
    if os.access(SYSTEM_PYTHON, os.X_OK) and subprocess.run(
            [SYSTEM_PYTHON, "-c", "import prometheus_client.openmetrics.parser"],
            capture_output=True).returncode == 0:
        r = subprocess.run([SYSTEM_PYTHON, "-c", """
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse
families = list(parse(sys.stdin.read()))
print(len(families), "families")
"""], input=om, capture_output=True, text=True)
        check("metrics: python3-prometheus-client's strict OpenMetrics parser reads it (%s)" %
              r.stdout.strip(), r.returncode == 0, r.stderr[-2000:])
    else:
        print("skipped: the OpenMetrics parse: python3-prometheus-client is not installed")
    if PROMTOOL:
        prom = ctl(cfg, run, "metrics", "--format", "prometheus").stdout
        r = subprocess.run([PROMTOOL, "check", "metrics"], input=prom, capture_output=True,
                           text=True)
        check("promtool check metrics: clean", r.returncode == 0 and not r.stdout.strip() and
              not r.stderr.strip(), r.stdout + r.stderr)
    else:
        print("skipped: promtool check metrics: promtool (Debian package prometheus) is not "
              "installed")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        return r.read().decode()


def node_exporter(textdir, name, vm_uuid, tmp):
    if not NODE_EXPORTER:
        print("skipped: the scrape: prometheus-node-exporter is not installed")
        return
    port = free_port()
    log = open(os.path.join(tmp, "node-exporter.log"), "w")
    p = subprocess.Popen([NODE_EXPORTER, "--web.listen-address=127.0.0.1:%d" % port,
                          "--collector.disable-defaults", "--collector.textfile",
                          "--collector.textfile.directory=" + textdir],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=True)
    procs.append(p)
    try:
        first = None
        deadline = time.monotonic() + 30
        while first is None and time.monotonic() < deadline:
            try:
                first = scrape(port)
            except OSError:
                time.sleep(0.3)
        check("node_exporter answers on 127.0.0.1:%d" % port, first is not None,
              open(log.name).read()[-2000:])
        if first is None:
            return
        lab = {"vm": name, "uuid": vm_uuid, "group": "vcpu0"}
        t1 = sample(first, "kvmtune_cpu_throttled_seconds_total", **lab)
        time.sleep(4)  # kvmtuned rewrites the file at each rescan (1 s)
        second = scrape(port)
        t2 = sample(second, "kvmtune_cpu_throttled_seconds_total", **lab)
        check("scrape: node_textfile_scrape_error 0", "\nnode_textfile_scrape_error 0\n" in second,
              [line for line in second.splitlines() if "textfile" in line])
        check("scrape: vcpu0's throttled time from kvmtuned's textfile grows (%s -> %s)" % (t1, t2),
              t1 is not None and t2 is not None and t2 > t1, second[:3000])
        check("scrape: kvmtuned's counters are in it",
              "kvmtune_daemon_full_passes_total" in second and
              sample(second, "kvmtune_vm_info", vm=name, uuid=vm_uuid) == 1, second[:3000])
        print("a scrape, kvmtune's vcpu0 series:")
        for line in second.splitlines():
            if 'group="vcpu0"' in line and name in line:
                print("  " + line)
    finally:
        end_processes([p])


def memory_where(pid):
    """RssAnon beside the memory of the process's group and its ancestors (a diagnostic)."""
    try:
        status = dict(l.split(":", 1) for l in open("/proc/%d/status" % pid) if ":" in l)
        lines = [l.rstrip("\n").split(":", 2) for l in open("/proc/%d/cgroup" % pid)]
    except OSError:
        return "(unreadable)"
    v1 = [l[2] for l in lines if "memory" in l[1].split(",")]
    root, path = ("/sys/fs/cgroup/memory", v1[0]) if v1 else \
        ("/sys/fs/cgroup", ([l[2] for l in lines if l[0] == "0"] or ["/"])[0])
    keys = ("rss", "cache", "shmem", "mapped_file") if v1 else ("anon", "file", "shmem", "kernel")
    usage = "memory.usage_in_bytes" if v1 else "memory.current"
    parts = ["%s %s" % (k, status.get(k, "?").strip()) for k in ("RssAnon", "RssFile", "RssShmem")]
    while path not in ("", "/"):
        try:
            stat = dict(l.split() for l in open("%s%s/memory.stat" % (root, path)))
            parts.append("%s: usage %d kB, %s" % (
                path, int(open("%s%s/%s" % (root, path, usage)).read()) // 1024,
                ", ".join("%s %d kB" % (k, int(stat.get(k, 0)) // 1024) for k in keys)))
        except (OSError, KeyError, ValueError):
            parts.append("%s: no memory" % path)
        path = os.path.dirname(path)
    return "; ".join(parts)


def charged(cfg, run, name, run_name, run_uuid, accel, bios, tmp):
    """The adopted VM's memory is charged elsewhere; a VM started with run is all counted."""
    _, eff = effect(cfg, run, name)
    mem = eff.get("memory") or {}
    check("status --json: the adopted VM's memory is charged elsewhere (%s bytes at least)" %
          mem.get("charged_elsewhere_bytes"), mem.get("charged_elsewhere") is True, mem)
    text = ctl(cfg, run, "status", name).stdout
    check("status: says 'charged elsewhere', not only a usage", "charged elsewhere:" in text, text)
    p = subprocess.Popen([CTL, "-C", cfg, "--runtime-dir", run, "run", run_name, "--"] +
                         qemu_args(run_name, run_uuid, accel, bios),
                         stdin=subprocess.DEVNULL, stdout=open(os.path.join(tmp, "run.out"), "w"),
                         stderr=open(os.path.join(tmp, "run.log"), "w"), close_fds=True)
    procs.append(p)
    ok = wait_named(p.pid, 1, timeout=120)
    check("%s: started by kvmtunectl run" % run_name, ok, open(os.path.join(tmp, "run.log")).read())
    # Its policy matches on the uuid too: run reads it from the command line it will exec.
    said = open(os.path.join(tmp, "run.out")).read()
    check("%s: run found its policy (name and uuid) and confined it before the exec" % run_name,
          "confined in" in said, said)
    time.sleep(2)
    _, eff = effect(cfg, run, run_name)
    print("info: run VM: %s" % memory_where(p.pid))
    mem = eff.get("memory") or {}
    check("status --json: the VM started with run has all its memory counted (usage %s)" %
          mem.get("usage"), mem.get("charged_elsewhere") is False and mem.get("usage", 0) > 0,
          eff)


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
    if SYSTEMD and not V2:
        print("skipped: the systemd backend is refused on cgroup v1 (test-daemon-live proves it)")
        return 77
    accel = "kvm" if os.access("/dev/kvm", os.R_OK | os.W_OK) else "tcg"
    print("accelerator %s%s" % (accel, "" if accel == "kvm" else " (/dev/kvm is not usable here)"))
    tmp = tempfile.mkdtemp(prefix="kvmtune-effect-")
    cfg, run, textdir = (os.path.join(tmp, d) for d in ("etc", "run", "textfile"))
    os.makedirs(os.path.join(cfg, "policy.d"))
    os.makedirs(textdir)
    bios = os.path.join(tmp, "spin.bin")
    spin_bios(bios)
    name, run_name = "ef%s-adopted" % TAG, "ef%s-run" % TAG
    vm_uuid, run_uuid = str(uuid.uuid4()), str(uuid.uuid4())
    write(os.path.join(cfg, "kvmtuned.yaml"), settings_yaml(
        PARENT, "rescan_interval: 1s\nmetrics_textfile: %s/kvmtune.prom\n" % textdir))
    write(os.path.join(cfg, "policy.d", "10-adopted.yaml"), POLICY % (name, vm_uuid))
    write(os.path.join(cfg, "policy.d", "11-run.yaml"), POLICY % (run_name, run_uuid))
    log = os.path.join(tmp, "kvmtuned.log")
    try:
        p = subprocess.Popen(qemu_args(name, vm_uuid, accel, bios), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)
        procs.append(p)
        check("%s: started" % name, wait_named(p.pid, 1, timeout=60))
        time.sleep(2)  # it runs, and allocates, before kvmtuned adopts it
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        env.pop("JOURNAL_STREAM", None)
        d = subprocess.Popen([DAEMON, "-C", cfg, "--runtime-dir", run], env=env,
                             stdout=subprocess.DEVNULL, stderr=open(log, "w"), close_fds=True)
        procs.append(d)
        ok, _ = wait_enforced(cfg, run, name)
        check("%s: enforced by kvmtuned, vcpu0 throttled" % name, ok, open(log).read()[-3000:])
        if ok:
            throttling(cfg, run, name, vm_uuid)
            consumers(cfg, run, name)
            node_exporter(textdir, name, vm_uuid, tmp)
            charged(cfg, run, name, run_name, run_uuid, accel, bios, tmp)
        check("kvmtuned wrote the textfile and left no temporary file",
              os.listdir(textdir) == ["kvmtune.prom"], os.listdir(textdir))
    finally:
        end_processes(procs)
        if os.path.isdir(cfg):
            ctl(cfg, run, "apply")  # the VMs are gone: their groups go
        remove_parent()
        check("cleanup: no test cgroup is left",
              not any(os.path.isdir(gpath(c)) for c in CONTROLLERS))
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
