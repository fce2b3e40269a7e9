#!/usr/bin/env bash
# t_helpdocs.sh — README.md's copies of `--help` are what the binary prints.
#
#   README.md "## Usage" block        = netcon --help
#   README.md "### netcon CMD" block  = netcon CMD --help   (service, intercept, show, status,
#                                                            container-flags, capture)
#   README.md "### netcon run" block  = netcon run --help up to "service options:"
#
# No network: it runs the binary and reads the README only.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_built

log "$PYTHON" - "$NETCON" "$NC_ROOT/README.md" <<'PY'
import subprocess, sys

netcon, readme = sys.argv[1], sys.argv[2]
text = open(readme).read()

def block_after(heading):
    i = text.index(heading)
    a = text.index("```\n", i) + 4
    return text[a:text.index("```\n", a)].rstrip("\n")

def helptext(*args):
    r = subprocess.run([netcon, *args, "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, (args, r.returncode)
    return r.stdout.rstrip("\n")

cases = [("## Usage\n", helptext())]
for cmd in ("service", "intercept", "show", "status", "container-flags", "capture"):
    cases.append(("### netcon %s\n" % cmd, helptext(cmd)))
run = helptext("run")
cases.append(("### netcon run\n", run[:run.index("service options:")].rstrip("\n")))
bad = 0
for heading, want in cases:
    got = block_after(heading)
    if got != want:
        bad += 1
        print("README.md block after %r differs from --help:" % heading.strip())
        import difflib
        for line in difflib.unified_diff(got.splitlines(), want.splitlines(), "README.md",
                                         "--help", lineterm=""):
            print("   ", line)
    else:
        print("ok:", heading.strip())
sys.exit(1 if bad else 0)
PY
note "PASS"
