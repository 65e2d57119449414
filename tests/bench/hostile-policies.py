#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What hostile policy files cost `kvmtunectl check` (a program, not a test: it prints figures).

Writes into a private temporary directory the inputs of issue 15, each within the 1 MiB a file
may have, and runs `KVMTUNECTL check FILE` on each, printing wall seconds, the peak RSS and the
number of diagnostic lines:
  alias      one anchored mapping of 1000 unknown keys, repeated by 1000 aliases
  alias106   the same document 106 times in one file
  deep       a 300 000-deep unclosed flow sequence
  vcpupin    a vcpupin list of 4097 entries
Usage: hostile-policies.py KVMTUNECTL [NAME...]. A run is stopped at 120 s or 4 GiB of RSS (the
machine may be shared); the line then says so.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

LIMIT_S, LIMIT_RSS = 120, 4 << 30


def inputs():
    # Repeated keys are fine: each is an unknown key; short, so that 106 fit in 1 MiB.
    alias = "x: &a {%s}\ncputune: {vcpupin: [%s]}\n" % (",".join(["k: 0"] * 1000), ",".join(["*a"] * 1000))
    vcpupin = "cputune:\n  vcpupin:\n" + "".join(
        '    - { vcpu: %d, cpuset: "0" }\n' % i for i in range(4097))
    return {
        "alias": alias,
        "alias106": "---\n".join([alias] * 106),
        "deep": "cputune: " + "[" * 300000 + "\n",
        "vcpupin": vcpupin,
    }


def measure(ctl, path):
    t0 = time.monotonic()
    p = subprocess.Popen(["nice", "-n", "19", ctl, "check", path], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    stopped = []

    def watch():
        while p.poll() is None:
            try:
                rss = int(open("/proc/%d/statm" % p.pid).read().split()[1]) * os.sysconf("SC_PAGESIZE")
            except OSError:
                return
            if time.monotonic() - t0 > LIMIT_S or rss > LIMIT_RSS:
                stopped.append("stopped at %.0f s, %d MB" % (time.monotonic() - t0, rss >> 20))
                p.kill()
                return
            time.sleep(0.1)

    threading.Thread(target=watch, daemon=True).start()
    lines = sum(1 for _ in p.stderr)
    _, _, usage = os.wait4(p.pid, 0)
    return time.monotonic() - t0, usage.ru_maxrss >> 10, lines, stopped[0] if stopped else ""


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    ctl, names = os.path.abspath(sys.argv[1]), sys.argv[2:]
    tmp = tempfile.mkdtemp(prefix="kvmtune-hostile-")
    try:
        print("%-9s %9s %9s %9s  %s" % ("input", "bytes", "seconds", "RSS MB", "lines"))
        for name, text in inputs().items():
            if names and name not in names:
                continue
            path = os.path.join(tmp, name + ".yaml")
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o644)
            s, rss, lines, stopped = measure(ctl, path)
            print("%-9s %9d %9.2f %9d  %d %s" % (name, len(text), s, rss, lines, stopped), flush=True)
    finally:
        shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
