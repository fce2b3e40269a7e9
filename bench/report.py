#!/usr/bin/env python3
"""bench/report.py — turn bench/run.sh's raw results into the table, JSON, plot and docs.

Input: one JSON object per line (path, mtu, test, ...), the machine description and the
exact commands run (tab-separated files). Output in --out: results.json (medians, small),
results.md (the tables), throughput.png (gnuplot); with --docs, docs/benchmarks.md.
Nothing here passes or fails: the figures are ratios to the kernel of the same run.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

PATHS = ["loopback", "veth", "slirp", "socat", "tap", "tap-sc", "vxlan", "vxlan-sc"]
LABEL = {
    "loopback": "kernel loopback",
    "veth": "kernel veth (2 netns)",
    "slirp": "slirp4netns",
    "socat": "socat relay (loopback)",
    "tap": "netcon TAP ⇄ kernel",
    "vxlan": "netcon ⇄ netcon (VXLAN)",
    "tap-sc": "netcon TAP ⇄ kernel, seccomp",
    "vxlan-sc": "netcon ⇄ netcon (VXLAN), seccomp",
}
# The seccomp paths and the preload path each is compared with (issue 14's goals).
SECCOMP = [("tap-sc", "tap"), ("vxlan-sc", "vxlan")]


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def kv(path):
    out = []
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if "\t" in line:
                    out.append(tuple(line.split("\t", 1)))
    return out


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def aggregate(rows):
    """{path: {mtu: {...figures...}}} with medians over repetitions, the scale rows and the
    HTTP rows ({path: {"ka"|"close": {...}} or {"skipped": reason}})."""
    res, http = {}, {}
    scale = {"paths": {}, "lwip": []}
    for r in rows:
        if r["test"] == "lwipscale":
            scale["lwip"].append({k: v for k, v in r.items() if k not in ("path", "test")})
            continue
        if "held" in r:
            s = scale["paths"].setdefault(r["path"], {}).setdefault(r["held"], {})
            if "error" in r:
                s["error"] = "%s: %s" % (r["test"], r["error"])
            elif r["test"] == "scale":
                s.update({k: v for k, v in r.items() if k not in ("path", "test", "held")})
            elif r["test"] == "latency":
                s["p50_us"], s["p99_us"] = r["p50_us"], r["p99_us"]
            elif r["test"] == "tput":
                s["gbps"] = r["gbps"]
            continue
        if r["test"] == "scale":
            continue    # an older run's single count: not comparable
        if r["test"] == "http":
            h = http.setdefault(r["path"], {})
            if "skipped" in r:
                h["skipped"] = r["skipped"]
            else:
                h.setdefault("ka" if r["keepalive"] else "close", []).append(r)
            continue
        m = res.setdefault(r["path"], {}).setdefault(r["mtu"], {})
        if "error" in r:
            m.setdefault("errors", []).append(r["test"] + (" P%d %s" % (r["streams"], r["dir"]) if r["test"] == "tput" else ""))
            continue
        if r["test"] == "tput":
            key = "p%d_%s" % (r["streams"], r["dir"])
            m.setdefault("_" + key, []).append(r)
        elif r["test"] == "latency":
            m["p50_us"], m["p99_us"] = r["p50_us"], r["p99_us"]
        elif r["test"] == "connrate":
            m["conn_per_s"] = r["per_s"]
    for path in res.values():
        for m in path.values():
            for key in [k for k in m if k.startswith("_")]:
                runs = m.pop(key)
                m[key[1:] + "_gbps"] = round(med([x["gbps"] for x in runs]), 3)
                m[key[1:] + "_cpu_s_per_gib"] = round(med([x["cpu_s_per_gib"] for x in runs]), 3)
    for h in http.values():
        for k in ("ka", "close"):
            if k not in h:
                continue
            runs = h[k]
            good = [x for x in runs if "error" not in x]
            if not good:
                h[k] = {"error": runs[-1].get("error", "failed")}
                continue
            h[k] = {"rps": round(med([x["rps"] for x in good]), 1),
                    "errors": sum(x["errors"] for x in good),
                    "p50_ms": round(med([x["p50_ms"] for x in good]), 3),
                    "p99_ms": round(med([x["p99_ms"] for x in good]), 3)}
    return res, scale, http


def fmt(v, nd=2):
    if v is None:
        return "—"
    if isinstance(v, float):
        return ("%." + str(nd) + "f") % v
    return str(v)


def ratio(a, b):
    if a is None or not b:
        return None
    return a / b


def mtu_rank(res, path):
    return sorted(res.get(path, {}))


def peer_at(res, peer, path, mtu, key):
    """The peer's figure at the same MTU rank (1500, 9000, largest) as path's mtu."""
    theirs = mtu_rank(res, peer)
    if mtu not in res.get(path, {}) or not theirs:
        return None
    if mtu in (1500, 9000):
        m = mtu if mtu in theirs else None
    else:
        m = theirs[-1] if theirs[-1] > 9000 else None
    return res[peer][m].get(key) if m else None


def seccomp_rows(res):
    """(path, preload, mtu, {figure: seccomp/preload ratio}) for every MTU both measured."""
    out = []
    for sc, pre in SECCOMP:
        for mtu in mtu_rank(res, sc):
            if mtu not in res.get(pre, {}):
                continue
            a, b = res[sc][mtu], res[pre][mtu]
            r = {k: ratio(a.get(k), b.get(k)) for k in
                 ("p1_send_gbps", "p1_recv_gbps", "p4_send_gbps", "p4_recv_gbps",
                  "p1_send_cpu_s_per_gib", "p50_us", "conn_per_s")}
            out.append((sc, pre, mtu, r))
    return out


def http_table(http):
    out = ["\n### Go net/http: `hey` against gohttp (MTU 1500)\n",
           "hey -z (the run's time) -c 50 against `gohttp server` (tests/go/gohttp.go, "
           "CGO_ENABLED=0), a 1 KiB body per request; keep-alive = hey's default (50 "
           "connections reused), close = `-disable-keepalive` (a connection per request). "
           "Both programs are static Go: on the netcon paths both run in seccomp mode (on "
           "the TAP path the server is the kernel's). ×veth = ratio to kernel veth in this run.\n",
           "| path | keep-alive req/s | ×veth | p50 ms | p99 ms | close req/s | ×veth | p50 ms | p99 ms | errors |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    base = http.get("veth", {})
    for path in PATHS:
        h = http.get(path)
        if h is None:
            continue
        if "skipped" in h:
            out.append("| %s | skipped: %s | | | | | | | | |" % (LABEL[path], h["skipped"]))
            continue
        cells, errs = [LABEL[path]], 0
        for k in ("ka", "close"):
            f = h.get(k, {})
            if "error" in f or not f:
                cells += ["failed: %s" % f.get("error", "not run"), "", "", ""]
                continue
            cells += ["%.0f" % f["rps"], fmt(ratio(f["rps"], base.get(k, {}).get("rps"))),
                      fmt(f["p50_ms"]), fmt(f["p99_ms"])]
            errs += f["errors"]
        cells.append(str(errs))
        out.append("| " + " | ".join(cells) + " |")
    return out


def tables(res, scale, http=None):
    out = []
    out.append("### Throughput (Gbit/s), CPU cost, latency, connection rate\n")
    out.append("send = client → server, recv = server → client (iperf3 -R); the client runs under "
               "netcon on the netcon paths (service A on vxlan), the server is the kernel on the TAP "
               "path and runs under service B on vxlan. ×veth = single stream, ratio to kernel veth "
               "at the same MTU rank in this run. CPU = seconds of CPU (both iperf3 ends + "
               "services/relays) per GiB, single stream send.\n")
    out.append("| path | MTU | 1 send | 1 recv | 4 send | 4 recv | ×veth send | ×veth recv | CPU s/GiB | p50 µs | p99 µs | conn/s | ×veth conn |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for path in PATHS:
        for mtu in mtu_rank(res, path):
            m = res[path][mtu]
            vs = peer_at(res, "veth", path, mtu, "p1_send_gbps")
            vr = peer_at(res, "veth", path, mtu, "p1_recv_gbps")
            vc = peer_at(res, "veth", path, mtu, "conn_per_s")
            cells = [LABEL[path], str(mtu),
                     fmt(m.get("p1_send_gbps")), fmt(m.get("p1_recv_gbps")),
                     fmt(m.get("p4_send_gbps")), fmt(m.get("p4_recv_gbps")),
                     fmt(ratio(m.get("p1_send_gbps"), vs)), fmt(ratio(m.get("p1_recv_gbps"), vr)),
                     fmt(m.get("p1_send_cpu_s_per_gib")),
                     fmt(m.get("p50_us"), 1), fmt(m.get("p99_us"), 1),
                     fmt(m.get("conn_per_s")), fmt(ratio(m.get("conn_per_s"), vc))]
            if m.get("errors"):
                cells[1] += " (failed: %s)" % ", ".join(m["errors"])
            out.append("| " + " | ".join(cells) + " |")
    rows = seccomp_rows(res)
    if rows:
        out.append("\n### Seccomp mode against preload mode (ratios, same run)\n")
        out.append("Each seccomp row ran right after its preload row at the same MTU, over the "
                   "same topology: `netcon intercept --mode seccomp` instead of the preloaded "
                   "library. Above 1 is better except for CPU and latency. Goals (issue 14): "
                   "single-stream throughput ≥ 0.95×, connection rate ≥ 0.7×.\n")
        out.append("| seccomp ÷ preload | MTU | 1 send | 1 recv | 4 send | 4 recv | CPU s/GiB | p50 µs | conn/s |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for sc, pre, mtu, r in rows:
            out.append("| %s | %d | %s |" % (LABEL[sc], mtu, " | ".join(fmt(r[k]) for k in (
                "p1_send_gbps", "p1_recv_gbps", "p4_send_gbps", "p4_recv_gbps",
                "p1_send_cpu_s_per_gib", "p50_us", "conn_per_s"))))
    if http:
        out.extend(http_table(http))
    if scale and scale["paths"]:
        out.append("\n### Scale: one connection while idle connections are held (MTU 1500)\n")
        out.append("Held connections opened from the client side and kept idle; then, on one more "
                   "connection, the 1-byte ping-pong and one iperf3 stream client → server. RSS and "
                   "CPU are the netcon services' (per service; two on the VXLAN path).\n")
        out.append("| path | held | time to open (s) | p50 µs | p99 µs | 1-stream Gbit/s | service RSS (KiB) | KiB per held connection | service CPU while idle |")
        out.append("|---|---:|---:|---:|---:|---:|---|---|---:|")
        for path in PATHS:
            for held, s in sorted(scale["paths"].get(path, {}).items()):
                if "error" in s and "p50_us" not in s:
                    out.append("| %s | %d | failed: %s | | | | | | |" % (LABEL[path], held, s["error"]))
                    continue
                names = [k[len("rss_kib_"):] for k in s if k.startswith("rss_kib_")]
                rss = ", ".join("%s %s" % (n, s["rss_kib_" + n]) for n in names) or "— (kernel)"
                per = ", ".join("%s %.2f" % (n, s["kib_per_conn_" + n]) for n in names
                                if "kib_per_conn_" + n in s) or "—"
                cpu = ("%.2f%%" % s["idle_cpu_pct"]) if "idle_cpu_pct" in s else "—"
                out.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (
                    LABEL[path], held, fmt(s.get("open_s")), fmt(s.get("p50_us")), fmt(s.get("p99_us")),
                    fmt(s.get("gbps")), rss, per, cpu))
    if scale and scale["lwip"]:
        out.append("\n### lwIP alone: input cost per segment against pcbs (build/lwipscale)\n")
        out.append("ns per segment fed to ip_input(): *one* connection's data, data for a connection "
                   "drawn at random (*spread*), a *SYN* to a listener; *timers*: lwIP's TCP timers' CPU "
                   "share with every pcb idle. walk = lwIP's list walk (series up to 0006), hash = "
                   "with patch 0007.\n")
        out.append("| pcbs | one: walk | one: hash | spread: walk | spread: hash | SYN: walk | SYN: hash | timers: walk | timers: hash |")
        out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        by = {}
        for r in scale["lwip"]:
            by.setdefault(r["pcbs"], {})[r["lookup"]] = r
        for n in sorted(by):
            w, h = by[n].get("walk", {}), by[n].get("hash", {})
            out.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (n, *[
                fmt(x.get(k), 0) for k in ("one_ns", "spread_ns", "syn_ns") for x in (w, h)],
                *[("%.3f%%" % x["timer_cpu_pct"]) if "timer_cpu_pct" in x else "—" for x in (w, h)]))
    if scale and (scale["paths"] or scale["lwip"]):
        out.append("\n" + targets_md(scale_targets(scale), "issue 19"))
    return "\n".join(out) + "\n"


def targets(res, scale):
    """Issue 5's targets, with the measured value; None when not measured."""
    t = []

    def at(path, rank, key):
        ms = mtu_rank(res, path)
        if not ms:
            return None
        if rank == "largest" and len(ms) < 2:
            return None
        idx = {"1500": 0, "largest": len(ms) - 1}[rank]
        return res[path][ms[idx]].get(key) if idx < len(ms) else None

    def add(what, value, ok, unit=""):
        t.append((what, value, unit, ok))

    for d in ("send", "recv"):
        k = "p1_%s_gbps" % d
        v = at("tap", "largest", k)
        add("TAP largest MTU, %s ≥ 15 Gbit/s" % d, v, v is not None and v >= 15, " Gbit/s")
        r = ratio(v, at("veth", "largest", k))
        add("TAP largest MTU, %s ≥ 40%% of veth" % d, r, r is not None and r >= 0.4, "×")
        r = ratio(v, at("slirp", "largest", k))
        add("TAP largest MTU, %s ≥ 1.5× slirp4netns 65520" % d, r, r is not None and r >= 1.5, "×")
        v = at("tap", "1500", k)
        add("TAP MTU 1500, %s ≥ 4 Gbit/s" % d, v, v is not None and v >= 4, " Gbit/s")
        r = ratio(v, at("slirp", "1500", k))
        add("TAP MTU 1500, %s ≥ 2.5× slirp4netns 1500" % d, r, r is not None and r >= 2.5, "×")
        v = at("vxlan", "largest", k)
        add("VXLAN largest MTU, %s ≥ 10 Gbit/s" % d, v, v is not None and v >= 10, " Gbit/s")
        v = at("vxlan", "1500", k)
        add("VXLAN MTU 1500, %s ≥ 2.5 Gbit/s" % d, v, v is not None and v >= 2.5, " Gbit/s")
    r = ratio(at("tap", "1500", "p50_us"), at("veth", "1500", "p50_us"))
    add("latency p50 TAP ≤ 2× veth", r, r is not None and r <= 2, "×")
    r = ratio(at("vxlan", "1500", "p50_us"), at("veth", "1500", "p50_us"))
    add("latency p50 two services ≤ 3× veth", r, r is not None and r <= 3, "×")
    for p in ("tap", "vxlan"):
        r = ratio(at(p, "1500", "conn_per_s"), at("veth", "1500", "conn_per_s"))
        add("connection rate %s ≥ 50%% of veth" % p, r, r is not None and r >= 0.5, "×")
    return t


def scale_targets(scale):
    """Issue 19's goals: flat cost as connections grow."""
    t = []
    for p in ("veth", "tap", "vxlan"):
        rows = scale["paths"].get(p, {})
        for key, what in (("p50_us", "ping-pong p50"), ("gbps", "1-stream throughput")):
            vals = [r[key] for r in rows.values() if r.get(key)]
            v = max(vals) / min(vals) if len(vals) > 1 else None
            t.append(("%s: %s within 10%% across held counts (max/min)" % (LABEL[p], what), v, "×",
                      v is not None and v <= 1.1))
        if p == "veth" or not rows:
            continue
        top = rows[max(rows)]
        per = [v for k, v in top.items() if k.startswith("kib_per_conn_")]
        v = max(per) if per else None
        t.append(("%s: ≤ 1 KiB service RSS per idle connection (%d held)" % (LABEL[p], max(rows)), v,
                  " KiB", v is not None and v <= 1))
        v = top.get("idle_cpu_pct")
        t.append(("%s: ≤ 0.5%% service CPU while idle (%d held)" % (LABEL[p], max(rows)), v, "%",
                  v is not None and v <= 0.5))
    for k, what in (("one_ns", "one connection"), ("spread_ns", "random connection"), ("syn_ns", "SYN")):
        vals = {r["pcbs"]: r[k] for r in scale["lwip"] if r.get("lookup") == "hash" and r.get(k)}
        v = max(vals.values()) / min(vals.values()) if len(vals) > 1 else None
        t.append(("lwIP input, %s: flat within 20%% from %s to %s pcbs (max/min)" % (
            what, min(vals) if vals else "?", max(vals) if vals else "?"), v, "×", v is not None and v <= 1.2))
    return t


def seccomp_targets(res, http):
    """Issue 14's goals: seccomp mode against preload mode, and hey against the kernel."""
    t = []
    for sc, pre, mtu, r in seccomp_rows(res):
        for d in ("send", "recv"):
            v = r["p1_%s_gbps" % d]
            t.append(("%s MTU %d: 1-stream %s ≥ 0.95× preload" % (LABEL[sc], mtu, d), v, "×",
                      v is not None and v >= 0.95))
        v = r["conn_per_s"]
        t.append(("%s MTU %d: connection rate ≥ 0.7× preload" % (LABEL[sc], mtu), v, "×",
                  v is not None and v >= 0.7))
    return t


def targets_md(t, issue="issue 5"):
    out = ["| target (%s) | measured | met |" % issue, "|---|---:|:---:|"]
    for what, v, unit, ok in t:
        out.append("| %s | %s | %s |" % (what, (fmt(v) + unit) if v is not None else "not measured",
                                        "yes" if ok else ("**no**" if v is not None else "—")))
    return "\n".join(out) + "\n"


def plot(res, png):
    series = [p for p in PATHS if p in res]
    if not series:
        return False
    script = ["set terminal pngcairo size 1200,520 font 'sans,10'",
              "set output '%s'" % png,
              "set multiplot layout 1,2 title 'Single-stream TCP throughput against MTU (iperf3)'",
              "set logscale x 2", "set xrange [1200:80000]",
              "set xtics ('1500' 1500, '9000' 9000, '65k' 65536)",
              "set ylabel 'Gbit/s'", "set grid", "set key below horizontal", "set yrange [0:*]"]
    for d, title in (("send", "client → server"), ("recv", "server → client (-R)")):
        curves = []
        for p in series:
            pts = ["%d %.3f" % (mtu, res[p][mtu]["p1_%s_gbps" % d]) for mtu in mtu_rank(res, p)
                   if res[p][mtu].get("p1_%s_gbps" % d) is not None]
            if pts:
                curves.append((p, pts))
        script.append("set title '%s'" % title)
        if not curves:
            script.append("set label 1 'no data' at graph 0.5, graph 0.5 center")
            script.append("plot [1200:80000] [0:1] NaN notitle")
            script.append("unset label 1")
            continue
        script.append("plot " + ", ".join("'-' with linespoints lw 2 pt 7 title '%s'" % LABEL[p] for p, _ in curves))
        for _, pts in curves:
            script.extend(pts)
            script.append("e")
    script.append("unset multiplot")
    r = subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True, capture_output=True)
    if r.returncode != 0 or "invalid" in r.stderr:
        print("report: gnuplot failed: " + r.stderr[-2000:], file=sys.stderr)
        return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--machine")
    ap.add_argument("--commands")
    ap.add_argument("--out", required=True)
    ap.add_argument("--docs")
    a = ap.parse_args()

    rows = load(a.results)
    res, scale, http = aggregate(rows)
    machine = kv(a.machine)
    cmds = kv(a.commands)
    tg = targets(res, scale)
    tg14 = seccomp_targets(res, http)
    os.makedirs(a.out, exist_ok=True)
    doc = {"machine": dict(machine),
           "paths": {p: {str(m): v for m, v in sorted(res[p].items())} for p in PATHS if p in res},
           "scale": scale,
           "http": http,
           "seccomp_vs_preload": [{"path": sc, "mtu": mtu, "ratios": r} for sc, _, mtu, r in seccomp_rows(res)],
           "targets": [{"target": w, "value": v, "met": ok} for w, v, _, ok in tg + tg14]}
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=False, ensure_ascii=False)
        f.write("\n")
    tab = tables(res, scale, http)
    tg14_md = targets_md(tg14, "issue 14") if tg14 else "not measured (no seccomp path in this run)\n"
    mach = "\n".join("- %s: %s" % kvp for kvp in machine) + "\n"
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write("# netcon benchmark results\n\n" + mach + "\n" + tab + "\n### Targets\n\n" + targets_md(tg)
                + "\n" + tg14_md)
    png = os.path.join(a.out, "throughput.png")
    plot(res, png)
    print(tab)
    print(targets_md(tg))
    print(tg14_md)
    if a.docs:
        rel = os.path.relpath(png, os.path.dirname(os.path.abspath(a.docs)))
        cmd_md = "\n".join("%s:\n\n    %s\n" % (w, c) for w, c in cmds)
        # The section "Containers" is bench/containers.sh's: kept as it is.
        keep = ""
        if os.path.exists(a.docs):
            with open(a.docs) as f:
                _, sep, rest = f.read().partition("\n## Containers\n")
            if sep:
                i = rest.find("\n## ")
                keep = "\n## Containers\n" + (rest[:i + 1] if i >= 0 else rest)
        with open(a.docs, "w") as f:
            f.write(DOC.format(machine=mach, table=tab, targets=targets_md(tg), targets14=tg14_md,
                               png=rel, commands=cmd_md))
            if keep:
                f.write("\n" + keep.lstrip("\n").rstrip("\n") + "\n")


DOC = """# Benchmarks

`make bench` (bench/run.sh) measures, in one sitting, netcon and the ways people
otherwise give a program a network — the kernel itself, slirp4netns, a socat relay — on
the same machine, and compares them as ratios to the kernel of the same run. Nothing here
is a test: no figure passes or fails a build. This page is regenerated by every full run
(`bench/results/` holds the same figures as Markdown and JSON).

    make bench                  # ~10 min: iperf3 3 s × 1 run per figure
    BENCH_FULL=1 make bench     # 10 s × median of 3 (~40 min)
    bench/run.sh --smoke        # a few seconds: checks that the scripts work
    BENCH_PATHS="veth tap" bench/run.sh --out /tmp/b   # a subset, elsewhere
    bench/run.sh --scale --out /tmp/s   # only the scale section (held connections, lwipscale)
    bench/tap_quick.sh 1500 65521   # TAP and veth single-stream throughput only (A/B)
    bench/faults.sh             # TCP through 5% loss (+ dup, reorder, corruption) beside the kernel
    build/udpbench ...          # UDP datagram cost, seccomp vs preload mode (below; by hand)

`bench/faults.sh` is run by hand (it is not part of this page's tables): one connection
each way at once through a link that loses 5% of the frames both ways. Last run
(2026-11-29, 64 MiB each way, MTU 1500): the kernel over veth (loss only, nftables)
~3 Gbit/s each way; netcon between two services with t_faults' full profile (5% loss plus
1% duplication, 1% reordering, 0.1% corruption) ~115 Mbit/s — lwIP 2.2.1 as released made 0.65 Mbit/s; what changed and why is in
[lwip-patches.md](lwip-patches.md).

`bench/udpbench.c` (`build/udpbench`: UDP in seccomp mode against preload mode) is also run by hand. Last run
(2026-12-03, two runs on this 2-core machine shared with other builds, load average 2-3):
two services over VXLAN on loopback, `udpbench echo` (recvfrom/sendto) under A and the
client under B, both sides in the same mode, each in `unshare --net`. Round trip of a
64-byte datagram, p50 over 5,000 after 200 warm-up ones: preload mode 94-112 µs; seccomp
mode 185-465 µs with sendto/recvfrom on the client (every call trapped, the source written
by the service) and 136-353 µs with connect + send/recv (the client's calls native, the
server's trapped); 1,400 bytes cost about the same. One-way flood of 200,000 datagrams of
1,400 bytes to a `udpbench sink` that receives with recvfrom: preload mode sent 49-51 k/s
with sendto (74-98 k/s connected) and the sink took 47-60 k/s; seccomp mode sent 10-29 k/s
with sendto (trapped) and 211-215 k/s connected (native writes into the pair, faster than
the service empties it: most are dropped as a full UDP buffer drops them), and the sink,
whose recvfrom is trapped, took 3-23 k/s. A trapped call handed back to the kernel
(`udpbench cont`: sendmsg + recvmsg of 1 byte on a kernel AF_UNIX pair) cost 72-93 µs a
pair against 3-8 µs natively. What a datagram costs in seccomp mode is two or three round
trips into the service per call that carries an address; TCP's data path is unaffected.

## Machine and run

{machine}
## Results

![single-stream throughput against MTU]({png})

{table}
### Against the targets of issue 5

{targets}
### Seccomp mode against preload mode (issue 14)

{targets14}
How to read these (run of 2026-12-03, `make bench`, 3 s × 1, on this 2-vCPU machine
while other jobs kept its load average at 3–5): the single-stream ratios spread from
0.59× to 2.07× in *both* directions, seccomp faster as often as slower, so no throughput
gap is measurable at this noise: none is expected, since read/write/send/recv are not
trapped and the data path is the same socketpair in both modes. The connection rate
spread too (0.22×–1.56×); by hand, 7 alternating 2 s rounds of `tcpbench connrate` over
VXLAN gave medians of 1030/s (preload) and 1074/s (seccomp), paired ratios 0.41–1.72×
(median 0.75×). What is certain is the count of round trips to the service, from
`netcon status` ("calls trapped"): tcpbench's connect → setsockopt(TCP_NODELAY) →
setsockopt(SO_RCVTIMEO) is 3 trapped calls per connection (the last handed back to the
kernel with CONTINUE) where preload mode makes 2 RPCs (it runs SO_RCVTIMEO natively
without asking); and each trapped call costs the service about 10 system calls of its
own (NOTIF_RECV, pidfd_open, ID_VALID, pidfd_getfd, fstat, close ×2, NOTIF_SEND; a
connect adds 16 getsockopt (the socket's kind, the options to carry, the timeouts) and a `/proc/PID/fdinfo` read for
close-on-exec). Go's net package makes 8 trapped calls per outgoing connection (connect,
SO_ERROR, getpeername, getsockname, TCP_NODELAY, SO_KEEPALIVE, TCP_KEEPINTVL,
TCP_KEEPIDLE) and about 6 per accepted one, which is why hey without keep-alive stays at
0.15–0.32× the kernel while keep-alive traffic reaches 0.7–0.8× (Go cannot run in
preload mode at all: its system calls bypass libc). Debian's `hey` is linked with glibc,
so `--mode auto` picks preload for it although Go makes its own system calls: the
bench says `--mode seccomp`. Use `BENCH_FULL=1` on a quiet machine before concluding on
the 0.95× and 0.7× goals.

## What is measured, and how

| path | client | server | MTUs |
|---|---|---|---|
| kernel loopback | kernel, netns | kernel, same netns; `lo` at the MTU | 1500, 9000, 65536 |
| kernel veth | kernel, netns 1 | kernel, netns 2, veth pair | 1500, 9000, 65535 |
| slirp4netns | kernel, netns whose only link is slirp4netns' tap0 | kernel, host loopback (10.0.2.2) | 1500, 9000, 65520 |
| socat relay | kernel → socat (fork) on loopback | kernel, same netns; `lo` at the MTU | 1500, 9000, 65536 |
| netcon TAP | under netcon (host netns, the subnet unreachable for the kernel) | kernel, netns holding the TAP device | 1500, 9000, 65521 |
| netcon VXLAN | under service A | under service B (VXLAN over loopback) | 1500, 9000, 65485 |
| netcon TAP, seccomp | as netcon TAP, `netcon intercept --mode seccomp` | kernel, as netcon TAP | 1500, 65521 |
| netcon VXLAN, seccomp | as netcon VXLAN, `--mode seccomp` | as netcon VXLAN, `--mode seccomp` | 1500, 65485 |

- **Throughput**: iperf3, 1 and 4 parallel streams, both directions; iperf3 itself runs
  under `netcon intercept` on the netcon paths. The figure is the receiver's rate.
- **Cost**: CPU seconds per GiB moved: both iperf3 processes (their own `getrusage`
  report) plus the services, slirp4netns or socat (`utime+stime+cutime+cstime` of their
  process groups from `/proc/PID/stat`). Kernel softirq work lands on whichever process
  it interrupted, as it does in practice.
- **Latency**: `build/tcpbench pingpong`: 1-byte TCP round trips with `TCP_NODELAY`,
  20,000 after 1,000 of warm-up; p50 and p99. (Debian's sockperf cannot run under netcon
  yet: it calls `sendto()` with an address on a connected TCP socket, which the kernel
  ignores and a Unix socketpair refuses with `EISCONN`.)
- **Connection rate**: `build/tcpbench connrate`: one connection at a time, connect →
  64-byte request → 64-byte reply → the server closes, at most 10,000 or 2 s.
- **Seccomp mode**: the same programs (iperf3, tcpbench: glibc programs, so the mode is
  forced with `--mode seccomp`) on the same topology, each seccomp row run right after
  its preload row at the same MTU, so that the seccomp/preload ratios compare figures of
  the same minutes (9000 is left out to keep the run short: the data path is the same
  native one in both modes; the control calls are what differ).
- **Go HTTP**: Debian's `hey` (`-z` the run's iperf3 time, `-c 50`) against
  `build/gohttp server` (tests/go/gohttp.go, `CGO_ENABLED=0`), 1 KiB answers, with
  keep-alive and with `-disable-keepalive` (a connection per request), at MTU 1500: on
  kernel veth, on the TAP path (hey in seccomp mode, the server the kernel's) and on the
  VXLAN path (both in seccomp mode). Both are Go programs that make their own system
  calls: preload mode cannot serve them (Debian's hey is even linked with glibc, so
  `--mode auto` would wrongly pick preload; the bench says `--mode seccomp`).
- **Scale**: on kernel veth, the TAP path and the VXLAN path (MTU 1500), `build/tcpbench
  hold` opens 5,000 and then 13,000 more idle connections from the client side (18,000:
  one process may hold at most 20,000 fds here); at 0, 5,000 and 18,000 held, after 10 s
  of sampling the services' CPU and `VmRSS` (RSS per held connection = the growth over
  the count 0), one more connection measures the 1-byte ping-pong and one iperf3 stream.
  `build/lwipscale` and `build/lwipscale-nohash` then measure lwIP's input cost per
  segment with 10 to 100,000 pcbs (1,000,000 with `BENCH_FULL=1`), with and without the
  pcb hash (bench/lwipscale.c; docs/lwip-patches.md, 0007). `bench/run.sh --scale --out
  DIR` runs this section alone.

On a 2-vCPU virtual machine the figures of a 3 s single run move by ±20% between runs,
and the 1-byte round trip is bimodal (≈20 µs or ≈110–130 µs for the same kernel path,
depending on how the two ends are scheduled): compare ratios within one run, and use
`BENCH_FULL=1` before drawing conclusions. A figure a path could not produce is shown as
"failed" in the MTU column (`bench/results/raw.jsonl` has every run).

Network traffic stays on loopback and in namespaces the script creates and removes.
The exact commands of the last run (`$TMP` is the run's temp dir):

{commands}"""

if __name__ == "__main__":
    main()
