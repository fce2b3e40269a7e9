#!/usr/bin/env python3
"""bench/ct_report.py — bench/containers.sh's figures as a Markdown section.

Reads the raw TSV (row, figure, value; one line per run), takes medians, writes the
section to --out and, with --docs, puts it in place of the section "## Containers" of
docs/benchmarks.md (appended when there is none).
"""
import argparse
import statistics

ROWS = [
    ("netcon-1500", "netcon ⇄ netcon (VXLAN), MTU 1500"),
    ("netcon-65485", "netcon ⇄ netcon (VXLAN), MTU 65485"),
    ("slirp-rootlesskit", "slirp4netns, rootlesskit port handler"),
    ("slirp-slirp4netns", "slirp4netns, slirp4netns port handler"),
    ("pasta", "pasta"),
]
# figure, heading, higher is better
FIGS = [("send", "send Gbit/s", True), ("recv", "recv Gbit/s", True),
        ("p50", "p50 µs", False), ("p99", "p99 µs", False), ("conn", "conn/s", True)]
NETCON = "netcon-65485"
PEERS = [("slirp-rootlesskit", "slirp4netns (rootlesskit)"), ("pasta", "pasta")]


def kv(path):
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            out[k] = v
    return out


def fmt(fig, v):
    if v is None:
        return "—"
    if fig in ("send", "recv"):
        return "%.2f" % v
    if fig == "conn":
        return "%d" % round(v)
    return "%.1f" % v


def section(res, meta, skipped):
    m = meta
    s = ["## Containers", ""]
    s.append("`bench/containers.sh` (run by `make bench` after bench/run.sh; issue 15): two "
             "containers talking to each other, a server container and a client container, "
             "on netcon and on rootless Podman's own networks, in one run. Last run: %s, "
             "netcon %s, kernel %s, %s cores; Podman %s (runc %s), slirp4netns %s, "
             "passt (pasta) %s, iperf3 %s in the containers."
             % (m.get("date"), m.get("netcon"), m.get("kernel"), m.get("cores"),
                m.get("podman"), m.get("runc"), m.get("slirp4netns"), m.get("passt"),
                m.get("iperf3")))
    s.append("")
    s.append("| network | " + " | ".join(h for _, h, _ in FIGS) + " |")
    s.append("|---|" + "---:|" * len(FIGS))
    for key, name in ROWS:
        if key not in res and key not in skipped:
            continue
        if key in skipped:
            s.append("| %s | skipped (could not start; see the run's output) |%s" % (name, " |" * (len(FIGS) - 1)))
            continue
        s.append("| %s | %s |" % (name, " | ".join(fmt(f, res[key].get(f)) for f, _, _ in FIGS)))
    s.append("")
    cmp_rows = [(p, n) for p, n in PEERS if p in res]
    if NETCON in res and cmp_rows:
        s.append("netcon (MTU 65485; slirp4netns and pasta run at their default 65520) against "
                 "each, ratio netcon / other (latency: other / netcon, so > 1 is netcon ahead):")
        s.append("")
        s.append("| figure | " + " | ".join(n for _, n in cmp_rows) + " |")
        s.append("|---|" + "---|" * len(cmp_rows))
        for f, h, hi in FIGS:
            cells = []
            for p, _ in cmp_rows:
                a, b = res[NETCON].get(f), res[p].get(f)
                if not a or not b:
                    cells.append("—")
                    continue
                r = a / b if hi else b / a
                cells.append("%.2f× — %s" % (r, "**ahead**" if r > 1 else "behind"))
            s.append("| %s | %s |" % (h, " | ".join(cells)))
        s.append("")
    s.append("""How: every container is rootless Podman (`--runtime runc`, `--rootfs` of a Debian 12
minbase root with iperf3, `build/tcpbench` mounted read-only at `/tcpbench`,
`--cap-drop ALL`, `no-new-privileges`), run by one unprivileged user. One server container
runs `iperf3 -s` and `tcpbench serve`; each figure is a fresh client container. The same
programs, sizes and durations on every row: iperf3 single stream %s s, client → server
(send) and `-R` (recv); `tcpbench pingpong`, 20,000 1-byte round trips (p50, p99);
`tcpbench connrate`, connect → 64-byte exchange → close, at most 10,000 or 2 s. Median of
%s runs.

- **netcon**: both containers `--network none` with `netcon container-flags` (seccomp mode,
  netcon-exec); the server under service A, the client under service B; A and B, both run
  by the rootless user, joined by VXLAN over loopback. The client connects to A's address.
- **slirp4netns**: the server `--network slirp4netns:port_handler=…` with
  `-p 127.0.0.1:PORT:PORT`; the client `--network slirp4netns:allow_host_loopback=true`,
  connecting to 10.0.2.2:PORT (the host's loopback, where the published port listens).
  rootlesskit is Podman's default port handler (its `rootlessport` process).
- **pasta**: Debian 12's Podman 4.3 has no `--network pasta` (Podman 4.4 added it), so both
  containers run `--network none` and the script attaches Debian's pasta to each
  container's network namespace, as newer Podman does: the server's with
  `pasta --config-net -t 127.0.0.1/PORT`, the client's with `-t none`; the client connects
  to the gateway's address, which pasta maps to the host's loopback.
- **Rootful Podman's bridge** is left out: Debian 12's Podman uses CNI, whose bridge and
  firewall plugins turn on `net.ipv4.ip_forward` and add iptables chains (CNI-FORWARD,
  CNI-HOSTPORT-*, masquerading) in the host's namespace that outlive the containers.

Where netcon's connection rate goes (measured once by hand, 2026-12-03, MTU 65485, 3,000
sequential connections): the client's service traps 3 calls per connection (`netcon
status`: socket, connect — which waits for the handshake — and one continued), the
server's 2 (accept and close); the two services together use ~0.67 ms of CPU per
connection. `perf` on the services: 45% of their samples are the kernel enabling
interrupts on this paravirtualised VM's syscall and context-switch paths, `epoll_wait`
8%, `shutdown` 4%; lwIP itself (`tcp_input`) 0.5%. So the cost is system calls and
wake-ups across the path's hops (client ⇄ B ⇄ VXLAN ⇄ A ⇄ server, each hop a process),
not the TCP stack; pasta's server side is one splice between two kernel sockets. The
1-byte round trip is within noise of pasta's (p50 ~100 µs both; p99 moves by 2–10× between
runs on this shared machine).

Rootless networks open `/dev/net/tun` as the user; where the device is root's alone the
script grants the user read-write by an ACL entry for the run and removes it at exit.
Nothing passes or fails; the figures are noisy on a shared 2-core machine: compare within
one run. `bench/results/containers.tsv` has every run.
""" % (m.get("time"), m.get("reps")))
    return "\n".join(s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--meta", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--docs")
    a = ap.parse_args()
    runs, skipped = {}, set()
    with open(a.results) as f:
        for line in f:
            row, fig, v = line.rstrip("\n").split("\t")
            if fig == "skipped":
                skipped.add(row)
                continue
            runs.setdefault(row, {}).setdefault(fig, []).append(float(v))
    res = {r: {f: statistics.median(v) for f, v in figs.items()} for r, figs in runs.items()}
    text = section(res, kv(a.meta), skipped)
    with open(a.out, "w") as f:
        f.write(text)
    print(text)
    if a.docs:
        with open(a.docs) as f:
            doc = f.read()
        head, sep, rest = doc.partition("\n## Containers\n")
        tail = ""
        if sep:
            i = rest.find("\n## ")
            tail = rest[i:] if i >= 0 else ""
        with open(a.docs, "w") as f:
            f.write(head.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n" + tail)


if __name__ == "__main__":
    main()
