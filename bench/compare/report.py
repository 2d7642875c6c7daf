#!/usr/bin/env python3
"""Aggregates bench/compare.sh raw runs (one JSON object per line) into the results markdown
and gnuplot charts.

  report.py latency-rate RAW           open-loop rate: half the slower of httpkv/nginx GET
  report.py worst RAW                  scenario with the worst httpkv/peer CPU-efficiency ratio
  report.py write RAW META STEM [PERF] STEM.md, STEM-throughput.png, STEM-latency.png
"""
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

SCENARIOS = {
    "get-ka": "GET keep-alive",
    "get-p16": "GET pipelined x16",
    "get-p16-wrk": "GET pipelined x16 (wrk)",
    "put-never": "PUT, fsync never",
    "put-everysec": "PUT, fsync everysec",
    "put-everysec-p16": "PUT, fsync everysec, pipelined x16",
    "put-always": "PUT, fsync always",
    "post-create": "POST /create",
    "mixed": "90/10 get/put, zipf 0.99",
    "latency": "open-loop GET latency",
}
SCENARIO_NOTES = {
    "get-ka": "64 connections, 1 client thread, 1 in flight each; httpkv `GET /kv/key-N` "
              "(10,000 preloaded keys, 22-byte values, uniform); limit server and nginx: fixed "
              "`GET /` answering the same 22 bytes; Redis `GET key:N` (redis-benchmark -t get "
              "-r 10000 -d 22 -P 1). The `(wrk)` rows repeat httpkv (`/kv/key-1`) and nginx with "
              "wrk -t1 -c64 as a cross-check of the load generator.",
    "get-p16": "as above with 16 requests in flight per connection (httpkv-bench --pipeline 16, "
               "redis-benchmark -P 16).",
    "put-never": "httpkv `PUT /kv/key-N` (100,000 keys, 22-byte values, uniform) with "
                 "`--fsync never` vs Redis `SET` with `appendonly yes` + `appendfsync no`.",
    "put-everysec": "`--fsync everysec` vs `appendfsync everysec`.",
    "put-everysec-p16": "as PUT, fsync everysec, with 16 requests in flight per connection "
                        "(httpkv-bench --pipeline 16, redis-benchmark -P 16).",
    "get-p16-wrk": "wrk -t1 -c64 with bench/compare/pipeline.lua (16 requests written per "
                   "round trip): httpkv `GET /kv/key-1` vs the limit server's fixed answer.",
    "put-always": "`--fsync always` vs `appendfsync always`.",
    "post-create": "httpkv `POST /create` (`key-N:value`, 100,000 keys, uniform, fresh store, "
                   "`--fsync everysec`): first 201s, then more and more 409s as keys exist, "
                   "all counted in rps and shown as non-2xx. Compared with Redis `SETNX "
                   "key:N value` (the same create-if-absent; Redis answers 0 instead of an "
                   "error, so it has no non-2xx) on a fresh store with `appendfsync everysec`.",
    "mixed": "httpkv only, `--mix get=90,put=10 --zipf 0.99`, 100,000 preloaded keys, "
             "`--fsync everysec`. redis-benchmark cannot draw Zipf keys or mix commands in one "
             "run, so Redis is left out rather than compared with a different workload.",
    "latency": "open loop (httpkv-bench --rate, latency from intended send times, 64 "
               "connections) at a rate all three sustain; same requests as GET keep-alive.",
}
SYSTEMS = {
    "httpkv": "httpkv",
    "limit": "limit server",
    "nginx": "nginx",
    "redis": "Redis",
    "httpkv-wrk": "httpkv (wrk)",
    "nginx-wrk": "nginx (wrk)",
    "limit-wrk": "limit server (wrk)",
}
PEERS = ["limit", "nginx", "redis"]  # real peers for "worst": nginx, redis


def load(raw):
    runs = [json.loads(l) for l in open(raw) if l.strip()]
    for r in runs:
        cpu = r["cpu_user_s"] + r["cpu_sys_s"]
        r["cpu_s"] = cpu
        r["rps"] = r["result"]["rps"]
        r["per_cpu"] = r["result"]["requests"] / cpu if cpu > 0 else float("nan")
        r["util"] = cpu / r["wall_s"] if r["wall_s"] > 0 else float("nan")
        r["sys_share"] = r["cpu_sys_s"] / cpu if cpu > 0 else float("nan")
        r["client_util"] = r.get("client_cpu_s", float("nan")) / r["wall_s"] if r["wall_s"] > 0 \
            else float("nan")
    return runs


def med(xs):
    xs = [x for x in xs if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return statistics.median(xs) if xs else None


def by(runs, scenario, system):
    return sorted((r for r in runs if r["scenario"] == scenario and r["system"] == system),
                  key=lambda r: r["round"])


def reference(system):
    """The httpkv row a system is compared against."""
    return "httpkv-wrk" if system.endswith("-wrk") else "httpkv"


def ratios(runs, scenario, system, key):
    """Median over rounds of (httpkv / system) for one metric, pairing runs by round."""
    mine = {r["round"]: r for r in by(runs, scenario, reference(system))}
    theirs = {r["round"]: r for r in by(runs, scenario, system)}
    per_round = [mine[k][key] / theirs[k][key] for k in sorted(mine.keys() & theirs.keys())
                 if theirs[k][key]]
    return med(per_round), per_round


def spread(per_round):
    """(min–max) of per-round ratios, shown next to their median."""
    if len(per_round) < 2:
        return ""
    return f"({min(per_round):.2f}–{max(per_round):.2f})"


def fmt_num(x, digits=0):
    if x is None:
        return "–"
    if digits == 0:
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def lat(r, key):
    return r["result"].get("latency_us", {}).get(key)


def summary(runs, scenario, system):
    rs = by(runs, scenario, system)
    if not rs:
        return None
    non2xx = [r["result"].get("non_2xx") for r in rs]
    reqs = [r["result"]["requests"] for r in rs]
    return {
        "rps": med([r["rps"] for r in rs]),
        "p50": med([lat(r, "p50") for r in rs]),
        "p90": med([lat(r, "p90") for r in rs]),
        "p99": med([lat(r, "p99") for r in rs]),
        "p999": med([lat(r, "p999") for r in rs]),
        "max": med([lat(r, "max") for r in rs]),
        "per_cpu": med([r["per_cpu"] for r in rs]),
        "util": med([r["util"] for r in rs]),
        "client_util": med([r["client_util"] for r in rs]),
        "sys_share": med([r["sys_share"] for r in rs]),
        "non2xx": None if any(n is None for n in non2xx) else
        med([n / q for n, q in zip(non2xx, reqs) if q]),
        "errors": sum(r["result"].get("errors", 0) or 0 for r in rs),
        "rounds": len(rs),
    }


def systems_in(runs, scenario):
    present = {r["system"] for r in runs if r["scenario"] == scenario}
    return [s for s in SYSTEMS if s in present]


def scenarios_in(runs):
    present = {r["scenario"] for r in runs}
    return [s for s in SCENARIOS if s in present]


def cmd_latency_rate(raw):
    runs = load(raw)
    vals = [summary(runs, "get-ka", s) for s in ("httpkv", "nginx")]
    vals = [v["rps"] for v in vals if v]
    if not vals:
        return
    print(max(1000, int(min(vals) * 0.5 // 1000 * 1000)))


def cmd_worst(raw):
    runs = load(raw)
    worst = None
    for sc in scenarios_in(runs):
        if sc == "latency":
            continue
        for peer in ("nginx", "redis"):
            if by(runs, sc, peer) and by(runs, sc, "httpkv"):
                r, _ = ratios(runs, sc, peer, "per_cpu")
                if r is not None and (worst is None or r < worst[0]):
                    worst = (r, sc)
    if worst:
        print(worst[1])


def gnuplot(script):
    with tempfile.NamedTemporaryFile("w", suffix=".gp", delete=False) as f:
        f.write(script)
    try:
        subprocess.run(["gnuplot", f.name], check=True)
    finally:
        os.unlink(f.name)


def throughput_chart(runs, png, title):
    cols = ["httpkv", "limit", "nginx", "redis"]
    rows = []
    for sc in scenarios_in(runs):
        if sc == "latency":
            continue
        rows.append((SCENARIOS[sc], [summary(runs, sc, s) for s in cols]))
        if sc == "get-ka" and by(runs, sc, "httpkv-wrk"):
            rows.append(("GET keep-alive (wrk)", [summary(runs, sc, "httpkv-wrk"), None,
                                                  summary(runs, sc, "nginx-wrk"), None]))
    with tempfile.NamedTemporaryFile("w", suffix=".dat", delete=False) as f:
        for name, vals in rows:
            cells = [f"{v['rps']:.0f}" if v else "?" for v in vals]
            f.write('"' + name.replace("/", "\\/") + '" ' + " ".join(cells) + "\n")
        dat = f.name
    vals = [v["rps"] for _, vs in rows for v in vs if v and v["rps"]]
    ymin = 10 ** math.floor(math.log10(min(vals))) if vals else 1
    colors = ["#1f77b4", "#7f7f7f", "#2ca02c", "#d62728"]
    plots = ", ".join(
        f"'{dat}' using {i + 2}:xtic(1) title '{SYSTEMS[c]}' lc rgb '{colors[i]}'"
        for i, c in enumerate(cols))
    gnuplot(f"""
set terminal pngcairo size 1100,520 font 'sans,10'
set output '{png}'
set title '{title}'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set datafile missing '?'
set key top left
set ylabel 'requests/s (median of rounds, log scale)'
set logscale y
set yrange [{ymin}:*]
set xrange [-0.6:{len(rows) - 0.4}]
set grid ytics
set xtics rotate by 25 right scale 0
set bmargin 7
plot {plots}
""")
    os.unlink(dat)


def latency_chart(runs, png, title):
    keys = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p999", 0.999)]
    systems = [s for s in ("httpkv", "nginx", "limit") if by(runs, "latency", s)]
    if not systems:
        return False
    files = []
    for s in systems:
        v = summary(runs, "latency", s)
        with tempfile.NamedTemporaryFile("w", suffix=".dat", delete=False) as f:
            for k, q in keys:
                if v[k] is not None:
                    f.write(f"{-math.log10(1 - q):.4f} {v[k]:.1f}\n")
            files.append((s, f.name))
    colors = {"httpkv": "#1f77b4", "nginx": "#2ca02c", "limit": "#7f7f7f"}
    plots = ", ".join(
        f"'{fn}' using 1:2 with linespoints lw 2 pt 7 lc rgb '{colors[s]}' title '{SYSTEMS[s]}'"
        for s, fn in files)
    gnuplot(f"""
set terminal pngcairo size 900,520 font 'sans,10'
set output '{png}'
set title '{title}'
set xlabel 'percentile'
set ylabel 'latency (microseconds, log scale)'
set logscale y
set grid
set key top left
set xrange [0.2:3.1]
set xtics ("p50" 0.301, "p90" 1, "p99" 2, "p99.9" 3)
plot {plots}
""")
    for _, fn in files:
        os.unlink(fn)
    return True


def profile_section(perf_flat, meta):
    lines = [l.rstrip() for l in open(perf_flat) if l.strip()]
    kernel = user = 0.0
    top = []
    for l in lines:
        parts = l.split(None, 2)
        if len(parts) < 3 or not parts[0].endswith("%"):
            continue
        pct = float(parts[0][:-1])
        if parts[1] == "[k]":
            kernel += pct
        else:
            user += pct
        if len(top) < 15:
            top.append((pct, parts[1], parts[2]))
    sc = meta.get("profile_scenario", "")
    out = ["## Profile", "",
           f"`perf record -e task-clock -g -p <httpkv-server>` for 4 s during "
           f"**{SCENARIOS.get(sc, sc)}** (the scenario where httpkv's CPU efficiency is "
           f"furthest below its peer). Self time by symbol (`perf report --no-children`): "
           f"kernel **{kernel:.0f}%**, user space **{user:.0f}%**.", "",
           "| self % | where | symbol |", "|---:|:---:|---|"]
    for pct, where, sym in top:
        out.append(f"| {pct:.1f} | {'kernel' if where == '[k]' else 'user'} | `{sym}` |")
    return out


def write(raw, meta_path, stem, perf_flat=None):
    runs = load(raw)
    meta = json.load(open(meta_path))
    base = os.path.basename(stem)
    host_title = f"{meta['host']}, {meta['date']}"
    throughput_chart(runs, stem + "-throughput.png", f"httpkv vs peers, throughput ({host_title})")
    have_lat = latency_chart(runs, stem + "-latency.png",
                             f"open-loop GET at {meta['lat_rate']} req/s, 64 connections "
                             f"({host_title})")

    md = [f"# httpkv vs peers — {meta['date']} on `{meta['host']}`", ""]
    md += ["Generated by `bench/compare.sh` (see [bench/README.md](../README.md)).", "",
           "```", meta["cmdline"], "```", "",
           f"Machine: {meta['nproc']} cores ({meta['cpu']}), {meta['mem']}, Linux "
           f"{meta['kernel']}. Peers: nginx {meta['nginx']}, Redis {meta['redis']}, wrk "
           f"{meta['wrk']}, limit server built with gcc {meta['gcc']} -O2. httpkv "
           f"{meta['git']}, {meta['source']}.", "",
           f"Method: every server runs single-threaded (httpkv `--threads 1`, nginx 1 worker, "
           f"Redis, limit server) pinned to core {meta['server_cpu']}; the load generator "
           f"(httpkv-bench `-t 1`, redis-benchmark, wrk `-t1`) is pinned to core "
           f"{meta['client_cpu']}. Each system gets a fresh process (and fresh data dir) per "
           f"run, a short unmeasured warm-up (plus preload where reads need keys), then "
           f"{meta['duration']} s measured; rounds: {meta['rounds']}, with the systems in the "
           f"same alternating order each round (A B C A B C). Numbers are medians over rounds; "
           f"ratios are the median of per-round ratios (httpkv ÷ peer, same round). "
           f"**req/CPU-s** = requests ÷ server CPU seconds (utime+stime from /proc/PID/stat, "
           f"all threads and child processes, over the whole client run); **server core** / "
           f"**client core** = CPU seconds ÷ wall seconds of the server / load generator — when "
           f"neither is near 1.0 the shared machine (other processes, loopback softirq work, "
           f"VM steal) was the limit, so compare req/CPU-s rather than rps. "
           f"Ratios > 1 mean httpkv is better. Total runtime {meta['runtime_s']} s.", ""]

    md += ["## Results", "",
           "| scenario | system | rps | p50 µs | p99 µs | req/CPU-s | server core | "
           "client core | server sys % | httpkv ÷ this, rps | httpkv ÷ this, req/CPU-s | non-2xx |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for sc in scenarios_in(runs):
        if sc == "latency":
            continue
        for s in systems_in(runs, sc):
            v = summary(runs, sc, s)
            if s in ("httpkv", "httpkv-wrk"):
                rr = cr = "1"
            else:
                r1, p1 = ratios(runs, sc, s, "rps")
                r2, p2 = ratios(runs, sc, s, "per_cpu")
                rr, cr = (f"**{fmt_num(r1, 2)}** {spread(p1)}" if r1 else "–",
                          f"**{fmt_num(r2, 2)}** {spread(p2)}" if r2 else "–")
            n2 = "n/a" if v["non2xx"] is None else f"{v['non2xx'] * 100:.0f}%"
            if v["errors"]:
                n2 += f" ({v['errors']} errors)"
            md.append(f"| {SCENARIOS[sc]} | {SYSTEMS[s]} | {fmt_num(v['rps'])} | "
                      f"{fmt_num(v['p50'])} | {fmt_num(v['p99'])} | {fmt_num(v['per_cpu'])} | "
                      f"{fmt_num(v['util'], 2)} | {fmt_num(v['client_util'], 2)} | "
                      f"{fmt_num(v['sys_share'] * 100)} | {rr} | {cr} | "
                      f"{n2} |")
    md += ["", f"![throughput]({base}-throughput.png)", ""]

    md += ["### What each scenario runs", ""]
    for sc in scenarios_in(runs):
        note = SCENARIO_NOTES[sc]
        if sc == "latency":
            note = note.replace("at a rate", f"at {meta['lat_rate']} req/s, a rate")
        md.append(f"- **{SCENARIOS[sc]}**: {note}")
    md.append("")

    if have_lat:
        md += ["## Open-loop latency", "",
               f"httpkv-bench `--rate {meta['lat_rate']}` (half of what the slower of httpkv "
               f"and nginx reached closed-loop), latency counted from intended send times.", "",
               "| system | achieved rps | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs | core |",
               "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for s in systems_in(runs, "latency"):
            v = summary(runs, "latency", s)
            md.append(f"| {SYSTEMS[s]} | {fmt_num(v['rps'])} | {fmt_num(v['p50'])} | "
                      f"{fmt_num(v['p90'])} | {fmt_num(v['p99'])} | {fmt_num(v['p999'])} | "
                      f"{fmt_num(v['max'])} | {fmt_num(v['util'], 2)} |")
        md += ["", f"![latency]({base}-latency.png)", ""]

    md += ["## Per-round numbers (noise)", "",
           "| scenario | system | rps per round | req/CPU-s per round |", "|---|---|---|---|"]
    for sc in scenarios_in(runs):
        for s in systems_in(runs, sc):
            rs = by(runs, sc, s)
            md.append(f"| {SCENARIOS[sc]} | {SYSTEMS[s]} | "
                      f"{' / '.join(fmt_num(r['rps']) for r in rs)} | "
                      f"{' / '.join(fmt_num(r['per_cpu']) for r in rs)} |")
    md.append("")

    if perf_flat and os.path.exists(perf_flat):
        md += profile_section(perf_flat, meta) + [""]

    with open(stem + ".md", "w") as f:
        f.write("\n".join(md))


def main():
    cmd = sys.argv[1]
    if cmd == "latency-rate":
        cmd_latency_rate(sys.argv[2])
    elif cmd == "worst":
        cmd_worst(sys.argv[2])
    elif cmd == "write":
        write(*sys.argv[2:])
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
