#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The seed corpus of a fuzz target, written at test time (nothing of it is committed that
the project does not own: the shared QEMU command-line corpus is read from where it lies).

  seeds.py TARGET DIR              writes TARGET's seeds into DIR (tools/test.sh's corpus)
  seeds.py --replay BIN TARGET     writes them into a private temporary directory and runs
                                   BIN (the target's replay program) over every one

TARGET: policy, cpuset, qmp, settings, cgroup, proc, qemu-cmdline. Inputs of the targets that read
several formats start with a byte that picks the format (see tests/fuzz/fuzz-*.c).
"""
import glob
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOP = os.path.dirname(TESTS)
CORPUS = os.environ.get("KVMTUNE_CMDLINE_CORPUS",
                        os.path.join(os.path.dirname(TOP), "shared", "corpus", "qemu-cmdlines"))
if not os.path.isdir(CORPUS):
    CORPUS = "/work/shared/corpus/qemu-cmdlines"


def files(*patterns):
    for p in patterns:
        for f in sorted(glob.glob(os.path.join(TOP, p), recursive=True)):
            if os.path.isfile(f) and not os.path.islink(f):
                with open(f, "rb") as fh:
                    yield fh.read()


def cmdline_to_argv(text):
    """A corpus file (shell text, one argument per line, '\\' continuations, libvirt's
    NAME=VALUE environment words first) as the NUL-separated /proc/PID/cmdline of it."""
    words = shlex.split(text.replace("\\\n", " "))
    while words and "=" in words[0] and not words[0].startswith("-") and "/" not in words[0].split("=")[0]:
        words.pop(0)
    return b"".join(w.encode() + b"\0" for w in words)


def corpus_cmdlines():
    if not os.path.isdir(CORPUS):
        return
    for f in sorted(glob.glob(os.path.join(CORPUS, "**", "*"), recursive=True)):
        if os.path.isfile(f) and not f.endswith((".md", ".tsv")):
            with open(f, errors="replace") as fh:
                try:
                    yield cmdline_to_argv(fh.read())
                except ValueError:
                    continue  # not shell text


def tagged(tag, blobs):
    return (bytes([tag]) + b for b in blobs)


CGROUP_VALUES = {
    0: [b"max", b"-1", b"0", b"1024", b"9223372036854771712", b"18446744073709551615", b"1G"],
    1: [b"max 100000", b"50000 100000", b"max", b"1 0", b"-1 100000", b"max 1000000 extra"],
    2: [b"default 100", b"default 100\n8:0 200\n", b"100", b"default max", b"default"],
}

NUMA_MAPS = [
    b"55d0a1e00000 default file=/usr/bin/qemu-system-x86_64 mapped=10 N0=10 kernelpagesize_kB=4\n"
    b"7f0000000000 bind:1 anon=512 dirty=512 N1=512 kernelpagesize_kB=2048\n",
    b"7f1000000000 interleave:0-1 anon=3 N0=1 N1=2 kernelpagesize_kB=4\n",
]

MOUNTINFO = [
    b"30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    b"31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
    b"40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n",
    b"43 30 0:30 / /cgroup/cpu\\040set rw - cgroup cgroup rw,cpuset,blkio\n"
    b"42 30 0:31 /docker/ab /sys/fs/cgroup/memory rw master:2 - cgroup cgroup rw,memory\n",
]

COMMS = [b"CPU 0/KVM", b"CPU 15/TCG", b"ALL CPUs/TCG", b"IO io1", b"qemu-system-x86", b"CPU /KVM"]


def seeds(target):
    if target == "policy":
        yield from files("tests/policy/*.yaml", "conf/examples/*.yaml", "conf/policy.d/*.yaml",
                         "tests/fuzz/seeds-policy/*")  # the last: found by fuzzing
    elif target == "cpuset":
        yield from files("tests/fuzz/seeds-cpuset/*")
    elif target == "qmp":
        yield from files("tests/fuzz/seeds-qmp/*")
    elif target == "settings":
        yield from files("conf/kvmtuned.yaml", "tests/policy/bad-settings-*.yaml")
        yield b"backend: systemd\ncgroup_parent: /a/b.slice\nqemu_binaries: [\"/opt/q/qemu-*\"]\n"
        yield b"rescan_interval: 500ms\nqmp: false\nskip_managed: true\n"
    elif target == "cgroup":
        for tag, values in CGROUP_VALUES.items():
            yield from tagged(tag, values)
    elif target == "proc":
        proc = "tests/fixtures/qemu/*/proc/*/"
        for tag, name in ((0, "stat"), (1, "status"), (2, "syscall"), (3, "cgroup")):
            yield from tagged(tag, files(proc + name, proc + "task/*/" + name))
        yield from tagged(4, NUMA_MAPS)
        yield from tagged(5, files(proc + "comm", proc + "task/*/comm"))
        yield from tagged(5, COMMS)
        yield from tagged(6, MOUNTINFO)
    elif target == "qemu-cmdline":
        yield from files("tests/fixtures/qemu/*/proc/*/cmdline")
        yield from corpus_cmdlines()
    else:
        raise SystemExit("seeds.py: unknown target %r" % target)


def write(target, directory):
    """Writes each distinct seed once (named by its hash); returns how many."""
    names = set()
    for blob in seeds(target):
        name = hashlib.sha1(blob).hexdigest()
        if name not in names:
            with open(os.path.join(directory, name), "wb") as f:
                f.write(blob)
            names.add(name)
    return len(names)


def main(argv):
    if len(argv) == 4 and argv[1] == "--replay":
        tmp = tempfile.mkdtemp(prefix="kvmtune-seeds-")
        try:
            n = write(argv[3], tmp)
            if argv[3] == "qemu-cmdline" and not os.path.isdir(CORPUS):
                print("note: %s is not here: only the fixtures' command lines are replayed" % CORPUS)
            print("%d seed(s) for %s" % (n, argv[3]), flush=True)
            paths = sorted(os.path.join(tmp, f) for f in os.listdir(tmp))
            return subprocess.run([argv[2]] + paths).returncode
        finally:
            shutil.rmtree(tmp)
    if len(argv) == 3:
        print("%d seed(s) for %s" % (write(argv[1], argv[2]), argv[1]))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
