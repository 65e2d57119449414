#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The manual pages cannot fall behind the code. Every list below comes from the binaries, never
from a list typed here:

- the verbs of kvmtunectl's dispatch table (the 'allowed:' list of an unknown command) are the
  verbs kvmtunectl(8) describes under COMMANDS, no more and no less, and `kvmtunectl --help`
  names each; every option a verb's --help shows, and every global option, is in kvmtunectl(8);
- every key the policy parser accepts, found by asking it (an unknown key in each mapping makes
  `kvmtunectl check` say what is allowed there, level by level), is in kvmtune.policy(5) under
  its section, and the page describes no key the parser refuses; the same for the settings and
  kvmtuned.yaml(5); kvmtuned's options are in kvmtuned(8);
- each built page renders with `groff -ww` without a warning, and no @VARIABLE@ is left.

Usage: test-docs.py KVMTUNECTL KVMTUNED MAN_SOURCE_DIR [MAN_BUILD_DIR]
(without MAN_BUILD_DIR, scdoc was not found: the rendering part is skipped and says so)."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from live import check, failures  # named checks that tally

ctl, daemon, man_src = sys.argv[1:4]
man_build = sys.argv[4] if len(sys.argv) > 4 else None
SYSROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sysfs", "numa2")
PROBE = "zz_probe"


def run(*args):
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def page(name):
    with open(os.path.join(man_src, name + ".scd"), encoding="utf-8") as f:
        return f.read()


def sections(text, level):
    """{heading: body} for the headings of one scdoc level ('#' or '##')."""
    out, name = {}, None
    for line in text.splitlines():
        m = re.match(r"^(#+) (.*)$", line)
        if m and len(m.group(1)) == level:
            name = m.group(2).strip()
            out[name] = ""
        elif m and len(m.group(1)) < level:
            name = None
        elif name is not None:
            out[name] += line + "\n"
    return out


def bold_keys(text):
    """The keys a page describes: bold terms written as *key:*."""
    return set(re.findall(r"\*([a-z_]+):\*", text))


# ---- verbs and options ----

rc, _, err = run(ctl, "no-such-verb-" + PROBE)
m = re.search(r"\(allowed: ([^)]*)\)", err)
verbs = [v.strip() for v in m.group(1).split(",")] if m else []
check("the dispatch table lists its verbs in the unknown-command error (%d)" % len(verbs),
      rc == 2 and len(verbs) >= 5 and "check" in verbs, err)

ctl_page = page("kvmtunectl.8")
commands = sections(ctl_page, 1).get("COMMANDS", "")
documented = re.findall(r"^\*([a-z][a-z0-9-]*)\*", commands, re.M)
for v in verbs:
    check("kvmtunectl(8) describes the verb %s under COMMANDS" % v, v in documented,
          "add a '*%s* ...' entry to man/kvmtunectl.8.scd" % v)
for v in sorted(set(documented) - set(verbs)):
    check("kvmtunectl(8) describes only verbs that exist: %s" % v, False,
          "'%s' is not in kvmtunectl's dispatch table" % v)

rc, out, _ = run(ctl, "--help")
help_commands = out.split("Commands:")[-1].split("Options:")[0] if "Commands:" in out else ""
for v in verbs:
    check("kvmtunectl --help names the verb %s" % v,
          re.search(r"^  %s\b" % re.escape(v), help_commands, re.M) is not None, help_commands)
global_opts = set(re.findall(r"(?<![\w-])(--?[a-zA-Z][a-zA-Z0-9-]*)", out.split("Options:")[-1]))
check("kvmtunectl --help lists global options", rc == 0 and "--config-dir" in global_opts, out)
for o in sorted(global_opts):
    check("kvmtunectl(8) describes the option %s" % o, "*%s*" % o in ctl_page)

for v in verbs:
    rc, out, err = run(ctl, v, "--help")
    if not check("kvmtunectl %s --help prints its usage" % v, rc == 0 and "Usage:" in out,
                 err or out):
        continue
    usage = out.replace("kvmtunectl %s" % v, "")
    # A verb's own options are described under COMMANDS; the global ones it mentions (and
    # -h/--help, which every verb takes) under OPTIONS.
    for o in sorted(set(re.findall(r"(?<![\w-])(--?[a-zA-Z][a-zA-Z0-9-]*)", usage))):
        where = ctl_page if o in global_opts else commands
        check("kvmtunectl(8) describes %s %s" % (v, o), "*%s*" % o in where,
              "'kvmtunectl %s --help' shows %s" % (v, o))

rc, out, _ = run(daemon, "--help")
daemon_page = page("kvmtuned.8")
daemon_opts = set(re.findall(r"(?<![\w-])(--?[a-zA-Z][a-zA-Z0-9-]*)", out))
check("kvmtuned --help lists its options", rc == 0 and "--config-dir" in daemon_opts, out)
for o in sorted(daemon_opts):
    check("kvmtuned(8) describes the option %s" % o, "*%s*" % o in daemon_page)

# ---- policy and settings keys, asked of the parser ----

tmp = tempfile.mkdtemp(prefix="kvmtune-docs-")


def probe_document(path, is_list, as_list):
    """A document that puts an unknown key at path: in a mapping there, or in a list of them.
    is_list says which keys above hold lists (learnt on the way down)."""
    value = [{PROBE: 1}] if as_list else {PROBE: 1}
    for i in range(len(path), 0, -1):
        if i < len(path) and is_list.get(path[:i]):
            value = [value]
        value = {path[i - 1]: value}
    return value


def error_path(path, is_list, as_list):
    """How check names the probe's place: cputune.vcpupin[0] (without the probe key)."""
    parts = []
    for i, k in enumerate(path):
        in_list = as_list if i == len(path) - 1 else is_list.get(path[:i + 1])
        parts.append(k + ("[0]" if in_list else ""))
    return ".".join(parts)


def allowed_at(paths, is_list, settings=False):
    """For each key path (tuple of keys), the keys the parser accepts in a mapping there, or in
    the mappings of a list there: {path: (keys, as_list)}. One `check` run per level."""
    files, wanted, batch = [], {}, tempfile.mkdtemp(dir=tmp)
    for i, path in enumerate(paths):
        for as_list in (False, True) if path else (False,):
            d = os.path.join(batch, "%d-%d" % (i, as_list))
            os.mkdir(d)
            f = os.path.join(d, "kvmtuned.yaml" if settings else "probe.yaml")
            with open(f, "w") as fh:
                json.dump(probe_document(path, is_list, as_list), fh)  # JSON is YAML
            os.chmod(f, 0o644)
            files.append(f)
            wanted[error_path(path, is_list, as_list)] = (path, as_list)
    _, _, err = run(ctl, "--sys-root", SYSROOT, "check", *files)
    found = {}
    for m in re.finditer(r": error: ([^:]*?)\.?%s: unknown key[^(]*\(allowed: ([^)]*)\)" % PROBE,
                         err):
        where, keys = m.group(1), [k.strip() for k in m.group(2).split(",")]
        if where in wanted:
            path, as_list = wanted[where]
            found[path] = (set(keys), as_list)
    return found


def accepted_keys(settings=False):
    """Every key path the parser accepts, as tuples, found level by level."""
    keys, level, is_list = set(), [()], {}
    while level and len(keys) < 1000:
        found = allowed_at(level, is_list, settings)
        level = []
        for parent, (names, as_list) in found.items():
            is_list[parent] = as_list
            for k in names:
                if parent + (k,) not in keys:
                    keys.add(parent + (k,))
                    level.append(parent + (k,))
    return keys


policy_keys = accepted_keys()
check("the policy parser names its keys (%d found)" % len(policy_keys),
      {("cputune",), ("cputune", "shares"), ("cputune", "vcpupin", "vcpu"),
       ("numatune", "memory", "mode")} <= policy_keys, sorted(policy_keys))
policy_page = page("kvmtune.policy.5")
key_sections = sections(sections(policy_page, 1).get("KEYS", ""), 2)
for path in sorted(policy_keys):
    if len(path) == 1:
        check("kvmtune.policy(5) has a section for %s" % path[0], path[0] in key_sections,
              "add '## %s' under '# KEYS'" % path[0])
    else:
        check("kvmtune.policy(5) describes %s" % ".".join(path),
              path[-1] in bold_keys(key_sections.get(path[0], "")),
              "add '*%s:*' to the section '## %s'" % (path[-1], path[0]))
for top, body in key_sections.items():
    known = {p[-1] for p in policy_keys if p[0] == top and len(p) > 1}
    for k in sorted(bold_keys(body) - known):
        check("kvmtune.policy(5) describes only keys the parser accepts: %s.%s" % (top, k),
              False, "the parser accepts no '%s' in %s" % (k, top))

settings_keys = {p[0] for p in accepted_keys(settings=True)}
check("the settings parser names its keys (%d found)" % len(settings_keys),
      {"backend", "cgroup_parent", "qemu_binaries"} <= settings_keys, settings_keys)
settings_text = sections(page("kvmtuned.yaml.5"), 1).get("KEYS", "")
for k in sorted(settings_keys):
    check("kvmtuned.yaml(5) describes %s" % k, k in bold_keys(settings_text))
for k in sorted(bold_keys(settings_text) - settings_keys):
    check("kvmtuned.yaml(5) describes only settings that exist: %s" % k, False)


def examples_check(name, settings=False):
    """The page's EXAMPLES, each a fenced block, pass `kvmtunectl check` (/dev/sda becomes this
    host's first disk, as in tools/demo.sh)."""
    blocks = re.findall(r"^```\n(.*?)^```", sections(page(name), 1).get("EXAMPLES" if not settings
                                                                  else "EXAMPLE", ""),
                        re.M | re.S)
    disk = next((l.split()[0] for l in subprocess.run(["lsblk", "-dn", "-o", "NAME,TYPE"],
                                                      capture_output=True, text=True)
                 .stdout.splitlines() if l.split()[1:] == ["disk"]), "sda")
    d = tempfile.mkdtemp(dir=tmp)
    for i, b in enumerate(blocks):
        f = os.path.join(d, "kvmtuned.yaml" if settings else "example-%d.yaml" % i)
        with open(f, "w") as fh:
            fh.write(b.replace("/dev/sda", "/dev/" + disk))
        os.chmod(f, 0o644)
        rc, _, err = run(ctl, "--sys-root", SYSROOT, "check", f)
        check("%s: example %d passes kvmtunectl check" % (name, i + 1), rc == 0, err + b)
    return len(blocks)


check("kvmtune.policy(5) has examples", examples_check("kvmtune.policy.5") >= 2)
check("kvmtuned.yaml(5) has an example", examples_check("kvmtuned.yaml.5", True) == 1)
shutil.rmtree(tmp)

# ---- rendering ----

if man_build is None:
    print("skipped: rendering (scdoc not found at setup)")
else:
    for name in ("kvmtunectl.8", "kvmtuned.8", "kvmtune.policy.5", "kvmtuned.yaml.5"):
        built = os.path.join(man_build, name)
        with open(built, encoding="utf-8") as f:
            text = f.read()
        check("%s has no @VARIABLE@ left" % name, re.search(r"@[A-Z_]+@", text) is None)
        rc, out, err = run("groff", "-ww", "-man", "-Tutf8", "-z", built)
        check("%s renders without a warning of groff -ww" % name, rc == 0 and err == "", err)
        if shutil.which("man"):
            # As lintian renders pages: man-db's pipeline at 80 columns, all its warnings.
            p = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", built],
                               capture_output=True, text=True, timeout=60,
                               env=dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8"))
            check("%s renders without a warning of man --warnings" % name,
                  p.returncode == 0 and p.stderr == "", p.stderr)

print("%d check(s) failed" % len(failures) if failures else "all checks passed")
sys.exit(1 if failures else 0)
