#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every command line of ../shared/corpus/qemu-cmdlines (2709 that libvirt and Proxmox generate)
read by kvmtune (tests/qemu-cmdline-dump) and by a model of QEMU's own rules written here, from
QEMU's sources (system/vl.c, util/qemu-option.c, hw/core/machine-smp.c, hw/smbios/smbios.c,
chardev/char.c): name, uuid, topology, iothreads, QMP socket, accelerator, -daemonize. The two
must agree on every file. Where QEMU would refuse the command line (an -smp whose product is
not maxcpus, ...) only the coherence of kvmtune's answer is checked: such a QEMU never runs.

Usage: test-qemu-cmdline-corpus.py QEMU-CMDLINE-DUMP. Skips (77) when the corpus is not there.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CANDIDATES = [os.environ.get("KVMTUNE_CMDLINE_CORPUS", ""),
              os.path.join(os.path.dirname(os.path.dirname(HERE)), "shared", "corpus", "qemu-cmdlines"),
              "/work/shared/corpus/qemu-cmdlines"]

# qemu-options.hx: the options that take no argument (DEF(..., 0, ...)), current and removed.
FLAGS = set("""S alt-grab async-teardown audio-help ctrl-grab curses daemonize enable-fips
enable-kqemu enable-kvm enable-nesting enable-sync-profile full-screen h help jitdump
kernel-kqemu localtime mem-prealloc no-acpi no-fd-bootchk no-frame no-hpet no-kqemu no-kvm
no-kvm-irqchip no-kvm-pit no-kvm-pit-reinjection no-quit no-reboot no-shutdown no-user-config
nodefaults nodefconfig nographic old-param only-migratable perfmap portrait preconfig
rtc-td-hack s sdl semihosting show-cursor singlestep snapshot std-vga tdf usb version vmwarevga
win2k-hack xen-attach xen-create xen-domid-restrict""".split())
ACCELS = {"kvm", "tcg", "xen", "hvf", "whpx", "nvmm", "qtest"}


def to_argv(text):
    words = shlex.split(text.replace("\\\n", " "))
    while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
        words.pop(0)  # libvirt's environment words
    return words


def opt_value(s, i):
    """get_opt_value(): up to a ',' that is not ',,'; returns (value, index of the ',' or end)."""
    out = []
    while i < len(s):
        if s[i] == ",":
            if s[i + 1:i + 2] != ",":
                break
            i += 1
        out.append(s[i])
        i += 1
    return "".join(out), i


def opt_items(s, implied):
    """get_opt_name_value() over the whole string: [(name, value)]."""
    items, i, first = [], 0, True
    while i < len(s):
        m = re.compile(r"[^=,]*").match(s, i)
        name_end = m.end()
        if name_end < len(s) and s[name_end] == "=":
            value, i = opt_value(s, name_end + 1)
            items.append((s[m.start():name_end], value))
        elif first and implied:
            value, i = opt_value(s, i)
            items.append((implied, value))
        else:
            name = s[i:name_end]
            items.append((name[2:], "off") if name.startswith("no") else (name, "on"))
            i = name_end
        if i < len(s) and s[i] == ",":
            i += 1
        first = False
    return items


class Opts:
    """QemuOpts: the last of a key counts; the first id= (read with no implied key)."""

    def __init__(self, s, implied=None):
        self.items = [(k, v) for k, v in opt_items(s, implied) if k != "id"]
        self.id = next((v for k, v in opt_items(s, None) if k == "id"), None)

    def get(self, key):
        return next((v for k, v in reversed(self.items) if k == key), None)


def qbool(v):
    return {"on": True, "yes": True, "true": True, "y": True,
            "off": False, "no": False, "false": False, "n": False}.get(v)


def strtol0(v):
    """strtoll(v, &end, 0) with the whole string consumed, or None."""
    m = re.fullmatch(r"\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)", v)
    if not m:
        return None
    digits = m.group(2)
    n = int(digits, 16) if digits[:2].lower() == "0x" else int(digits, 8) if digits.startswith("0") else int(digits)
    n = -n if m.group(1) == "-" else n
    return n if -2**63 <= n < 2**63 else None


def strtoul_prefix(v):
    """strtoul(v, NULL, 0): the number at the start, 0 when there is none."""
    m = re.match(r"\s*[+]?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)", v)
    if not m:
        return 0
    d = m.group(1)
    return int(d, 16) if d[:2].lower() == "0x" else int(d, 8) if d.startswith("0") else int(d)


UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def machine_prefers_sockets(mtype):
    """Machine types before 6.2 set smp_props.prefer_sockets (pc_*_6_1_machine_options ...)."""
    if not mtype:
        return False
    last = mtype.rsplit("-", 1)[-1] if "-" in mtype else ""
    m = re.match(r"(rhel)?(\d+)\.(\d+)", last)
    if not m:
        return False
    major, minor = int(m.group(2)), int(m.group(3))
    return major < 9 if m.group(1) else (major, minor) < (6, 2)


def smp_expect(smp, prefer_sockets):
    """machine_parse_smp_config(); None when QEMU refuses."""
    given = {}
    for k, v in smp.items():
        n = strtol0(v)
        if n is None or n < 0:
            return None
        given[k] = n  # 0: omitted (QEMU before 8.x; later versions refuse it)
    g = lambda k: given.get(k, 0)
    cpus, maxcpus, sockets, cores, threads = g("cpus"), g("maxcpus"), g("sockets"), g("cores"), g("threads")
    other = 1
    for k in ("drawers", "books", "dies", "clusters", "modules"):
        other *= g(k) or 1
    if cpus == 0 and maxcpus == 0:
        sockets, cores, threads = sockets or 1, cores or 1, threads or 1
    else:
        maxcpus = maxcpus or cpus
        if prefer_sockets:
            if sockets == 0:
                cores, threads = cores or 1, threads or 1
                sockets = maxcpus // (other * cores * threads)
            elif cores == 0:
                threads = threads or 1
                cores = maxcpus // (other * sockets * threads)
        else:
            if cores == 0:
                sockets, threads = sockets or 1, threads or 1
                cores = maxcpus // (other * sockets * threads)
            elif sockets == 0:
                threads = threads or 1
                sockets = maxcpus // (other * cores * threads)
        if threads == 0:
            threads = maxcpus // (other * sockets * cores)
    total = other * sockets * cores * threads
    maxcpus = maxcpus or total
    cpus = cpus or maxcpus
    if total != maxcpus or maxcpus < cpus or cpus == 0:
        return None
    return {"vcpus": cpus, "maxcpus": maxcpus, "sockets": sockets, "dies": g("dies") or 1,
            "cores": cores, "threads": threads}


def expect(argv):
    """What QEMU makes of argv (vl.c's second pass, in order)."""
    name = {}
    uuid = None
    machine, smp = {}, {}
    accel_opts, icount = [], False
    iothreads, chardevs, monitors = [], [], []
    daemonize = False
    i = 1
    while i < len(argv):
        a = argv[i]
        i += 1
        if not a.startswith("-"):
            continue
        o = a[2:] if a.startswith("--") else a[1:]
        if o in FLAGS:
            if o == "daemonize":
                daemonize = True
            elif o == "enable-kvm":
                machine["accel"] = "kvm"
            elif o == "no-kvm":
                machine["accel"] = "tcg"
            continue
        if i >= len(argv):
            break
        v = argv[i]
        i += 1
        if o == "name":
            name.update(Opts(v, "guest").items)
        elif o == "uuid":
            uuid = v.lower() if UUID.fullmatch(v) else uuid
        elif o == "smbios":
            so = Opts(v)
            if so.get("file") is None and so.get("type") is not None and strtoul_prefix(so.get("type")) == 1:
                u = so.get("uuid")
                uuid = u.lower() if u and UUID.fullmatch(u) else uuid
        elif o in ("machine", "M"):
            for k, val in Opts(v, "type").items:
                (smp.__setitem__(k[4:], val) if k.startswith("smp.") else machine.__setitem__(k, val))
        elif o == "smp":
            smp.update(Opts(v, "cpus").items)
        elif o == "accel":
            ao = Opts(v, "accel")
            accel_opts.append((ao.get("accel"), ao.get("thread")))
        elif o == "icount":
            icount = True
        elif o == "object":
            if v.startswith("{"):
                try:
                    j = json.loads(v)
                except ValueError:
                    continue
                if j.get("qom-type") == "iothread" and j.get("id"):
                    iothreads.append(j["id"])
            else:
                oo = Opts(v, "qom-type")
                if oo.get("qom-type") == "iothread" and oo.id:
                    iothreads.append(oo.id)
        elif o == "chardev":
            co = Opts(v, "backend")
            chardevs.append((co.id, co))
        elif o == "mon":
            mo = Opts(v, "chardev")
            if mo.get("mode") == "control":
                monitors.append(("id", mo.get("chardev")))
        elif o in ("qmp", "qmp-pretty"):
            if v.startswith("chardev:"):
                monitors.append(("id", v[8:][:31]))
            else:
                spec = v[4:] if v.startswith("mon:") else v
                if spec.startswith("unix:"):
                    co = Opts(spec[5:], "path")
                    co.items.append(("backend", "socket"))
                    monitors.append(("dev", co))
                else:
                    monitors.append(("dev", None))
    qmp = None
    for kind, ref in monitors:
        dev = ref if kind == "dev" else next((co for cid, co in chardevs if cid == ref), None)
        if dev and dev.get("backend") == "socket" and dev.get("path") is not None and \
                dev.get("fd") is None and qbool(dev.get("server") or "off") is True and \
                not qbool(dev.get("abstract") or "off"):
            qmp = dev.get("path")
            break
    # configure_accelerators()
    if accel_opts:
        tries = [(a, t == "single" or icount) for a, t in accel_opts]
    else:
        names = machine.get("accel") or ("kvm:tcg" if argv[0].endswith("kvm") else "tcg:kvm")
        tries = [(a, icount) for a in names.split(":") if a in ACCELS]

    def runs(kvm):
        for a, single in tries:
            if a == "tcg" or (a == "kvm" and kvm):
                return a, a == "tcg" and single
        return "none", False

    guest = name.get("guest")
    return {"name": guest or None, "uuid": uuid, "topology": smp_expect(smp, machine_prefers_sockets(machine.get("type"))),
            "iothreads": iothreads, "qmp": qmp, "accel_kvm": runs(True)[0],
            "accel_nokvm": runs(False)[0], "single_nokvm": runs(False)[1], "daemonize": daemonize}


def main():
    corpus = next((c for c in CANDIDATES if c and os.path.isdir(c)), None)
    if not corpus:
        print("skipped: the QEMU command-line corpus (../shared/corpus/qemu-cmdlines) is not here")
        return 77
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(corpus) for f in fs
                   if not f.endswith((".md", ".tsv")))
    tmp = tempfile.mkdtemp(prefix="kvmtune-corpus-")
    try:
        expected, paths = {}, []
        for n, f in enumerate(files):
            with open(f, errors="replace") as fh:
                argv = to_argv(fh.read())
            path = os.path.join(tmp, "%05d" % n)
            with open(path, "wb") as out:
                out.write(b"".join(w.encode() + b"\0" for w in argv))
            expected[path] = (f, expect(argv))
            paths.append(path)
        got = {}
        for k in range(0, len(paths), 500):
            r = subprocess.run([sys.argv[1]] + paths[k:k + 500], capture_output=True, text=True, check=True)
            for line in r.stdout.splitlines():
                j = json.loads(line)
                got[j["file"]] = j
        bad, refused, counts = [], 0, {}
        for path in paths:
            f, e = expected[path]
            g = got[path]
            diffs = []
            for key in ("name", "uuid", "iothreads", "qmp", "accel_kvm", "accel_nokvm", "single_nokvm", "daemonize"):
                if g[key] != e[key]:
                    diffs.append("%s: kvmtune %r, QEMU %r" % (key, g[key], e[key]))
            if e["topology"] is None:
                refused += 1
                if not 1 <= g["vcpus"] <= g["maxcpus"]:
                    diffs.append("incoherent counts %d/%d" % (g["vcpus"], g["maxcpus"]))
            else:
                for key, want in e["topology"].items():
                    if g[key] != want:
                        diffs.append("%s: kvmtune %r, QEMU %r" % (key, g[key], want))
            for key in ("uuid", "qmp", "name"):
                counts[key] = counts.get(key, 0) + (e[key] is not None)
            counts["iothreads"] = counts.get("iothreads", 0) + bool(e["iothreads"])
            counts["daemonize"] = counts.get("daemonize", 0) + e["daemonize"]
            if diffs:
                bad.append((os.path.relpath(f, corpus), diffs))
        print("%d command lines: %d agree, %d differ; QEMU would refuse the -smp of %d" %
              (len(paths), len(paths) - len(bad), len(bad), refused))
        print("with a uuid %(uuid)d, a QMP socket %(qmp)d, a name %(name)d, iothreads %(iothreads)d, "
              "-daemonize %(daemonize)d" % counts)
        for f, diffs in bad[:40]:
            print("FAIL: %s: %s" % (f, "; ".join(diffs)))
        return 1 if bad else 0
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.exit(main())
