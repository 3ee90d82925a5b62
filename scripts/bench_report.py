#!/usr/bin/env python3
"""Turns the raw figures of `scripts/bench.sh` (target/bench/) into
docs/BENCHMARKS.md and docs/bench/*.svg.

Usage: bench_report.py RAW_DIR DOCS_DIR

Reads env.txt, loads.txt, zone_tick.log, criterion/zone_tick/*/new/*.json,
load-{sqlite,postgres}.json, godot-field-{debug,release}.json, client.txt,
perf/*.txt and the shipped build's figures (scripts/bench_shipped_report.py); includes docs/bench/notes.md (hand-written reading of the
profiles) verbatim when it exists.
"""

import json
import os
import re
import statistics
import sys

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams["svg.hashsalt"] = "cots-bench"  # stable ids: smaller diffs
plt.rcParams["svg.fonttype"] = "none"

RAW, DOCS = sys.argv[1], sys.argv[2]
PLOTS = os.path.join(DOCS, "bench")
os.makedirs(PLOTS, exist_ok=True)


def read(path, default=None):
    try:
        with open(os.path.join(RAW, path)) as f:
            return f.read()
    except OSError:
        return default


def read_json(path):
    text = read(path)
    return json.loads(text) if text else None


env = {}
for line in (read("env.txt") or "").splitlines():
    key, _, value = line.partition(" ")
    env[key] = value
loads = {}
for line in (read("loads.txt") or "").splitlines():
    parts = line.split()
    if len(parts) >= 4:
        loads[parts[0]] = " / ".join(parts[1:4])

out = []
verdicts = []  # (target, figure, met)


def verdict(target, figure, met):
    verdicts.append((target, figure, met))


def fmt(x, digits=1):
    if x is None:
        return "n/a"
    if isinstance(x, float):
        if abs(x) >= 100:
            return f"{x:,.0f}"
        return f"{x:.{digits}f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def load_of(step):
    return f"load {loads[step]}" if step in loads else "load n/a"


# --- 1. Zone tick --------------------------------------------------------------
zone_rows = []
crit_dir = os.path.join(RAW, "criterion", "zone_tick")
if os.path.isdir(crit_dir):
    for name in os.listdir(crit_dir):
        if not name.isdigit():
            continue
        est = read_json(f"criterion/zone_tick/{name}/new/estimates.json")
        sample = read_json(f"criterion/zone_tick/{name}/new/sample.json")
        if not est:
            continue
        per_iter = [t / i for t, i in zip(sample["times"], sample["iters"])] if sample else []
        n = int(name)
        median = est["median"]["point_estimate"]
        zone_rows.append(
            {
                "debris": n,
                "median_ns": median,
                "lo_ns": est["median"]["confidence_interval"]["lower_bound"],
                "hi_ns": est["median"]["confidence_interval"]["upper_bound"],
                "min_ns": min(per_iter) if per_iter else None,
                "max_ns": max(per_iter) if per_iter else None,
                "samples": len(per_iter),
            }
        )
zone_rows.sort(key=lambda r: r["debris"])
summary_ns = {}
for m in re.finditer(r"^\s+(\d+) debris:\s+([\d.]+) us/tick\s+([\d.]+) ns/debris/tick", read("zone_tick.log") or "", re.M):
    summary_ns[int(m.group(1))] = float(m.group(3))
components = re.findall(r"^\s+\d+ debris: drift .*$", read("zone_tick.log") or "", re.M)

if zone_rows:
    fig, ax = plt.subplots(figsize=(6.4, 4))
    xs = [r["debris"] for r in zone_rows]
    ax.errorbar(
        xs,
        [r["median_ns"] / 1e3 for r in zone_rows],
        yerr=[
            [(r["median_ns"] - (r["min_ns"] or r["median_ns"])) / 1e3 for r in zone_rows],
            [((r["max_ns"] or r["median_ns"]) - r["median_ns"]) / 1e3 for r in zone_rows],
        ],
        marker="o",
        capsize=4,
        label="one tick (median, bars: min-max sample)",
    )
    ax.axhline(1000, color="tab:red", linestyle="--", label="target for 100k: 1 ms")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("debris in the zone")
    ax.set_ylabel("µs per tick (one core)")
    ax.set_title("Zone simulation tick cost (game crate, criterion)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(PLOTS, "zone_tick.svg"))
    plt.close(fig)
    r100k = next((r for r in zone_rows if r["debris"] == 100_000), None)
    if r100k:
        verdict("100k debris <= 1 ms/tick on one core", f"{r100k['median_ns'] / 1e3:.0f} µs", r100k["median_ns"] <= 1e6)

# --- 3-5. Backend load -------------------------------------------------------
load = {db: read_json(f"load-{db}.json") for db in ("sqlite", "postgres")}
PHASE_TITLES = [
    ("state_read", "state read (GET /player)"),
    ("collect", "collect (1 claim/request)"),
    ("sell", "sell (1 item/request)"),
    ("purchase", "purchase"),
    ("login_storm", "state read during login storm"),
    ("login_storm_logins", "logins of the storm (argon2id)"),
    ("trade_offer", "trade offer"),
    ("trade_accept", "trade accept"),
    ("trades", "completed trades (offer + accept)"),
]

for db, data in load.items():
    if not data:
        continue
    p = data["phases"]
    sr = p.get("state_read", {})
    verdict(f"state read >= 15k req/s, p99 < 5 ms ({db})", f"{sr.get('rps', 0):,.0f} req/s, p99 {sr.get('p99_ms', 0):.1f} ms",
            sr.get("rps", 0) >= 15000 and sr.get("p99_ms", 99) < 5)
    ew = data.get("economy_writes", {})
    verdict(f"economy writes >= 3k/s ({db})", f"{ew.get('rps', 0):,.0f}/s (collect {p['collect']['rps']:,.0f}, sell {p['sell']['rps']:,.0f}, purchase {p['purchase']['rps']:,.0f})",
            ew.get("rps", 0) >= 3000)
    ls = p.get("login_storm", {})
    verdict(f"state-read p99 < 20 ms during a login storm ({db})", f"p99 {ls.get('p99_ms', 0):.1f} ms ({p.get('login_storm_logins', {}).get('rps', 0):.0f} logins/s)",
            ls.get("p99_ms", 99) < 20)
    tr = p.get("trades", {})
    if db == "postgres":
        verdict("trades >= 1k/s (PostgreSQL)", f"{tr.get('rps', 0):,.0f}/s", tr.get("rps", 0) >= 1000)
        verdict("`backend audit` passes after the trades (PostgreSQL)", "passed" if data.get("audit", {}).get("passed") else "FAILED", bool(data.get("audit", {}).get("passed")))
    rss = max(v.get("rss_max_mb", 0) for v in p.values())
    verdict(f"backend RSS < 50 MB under load ({db})", f"max {rss:.0f} MB", rss < 50)

if any(load.values()):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, (db, data) in zip(axes, load.items()):
        if not data:
            continue
        names = [k for k, _ in PHASE_TITLES if k in data["phases"] and data["phases"][k]["requests"]]
        pct = ["p50_ms", "p90_ms", "p99_ms", "p999_ms"]
        width = 0.2
        for j, key in enumerate(pct):
            ax.bar([i + (j - 1.5) * width for i in range(len(names))],
                   [max(data["phases"][n][key], 0.01) for n in names], width, label=key.replace("_ms", ""))
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=35, ha="right", fontsize=8)
        ax.set_yscale("log")
        ax.set_title(f"{db}: latency percentiles, {data['connections']} connections")
        ax.grid(True, axis="y", which="both", alpha=0.3)
    axes[0].set_ylabel("ms (log)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(PLOTS, "backend_latency.svg"))
    plt.close(fig)

# --- 2. Godot field ------------------------------------------------------------
field = {fl: read_json(f"godot-field-{fl}.json") for fl in ("debug", "release")}
field_rows = []
for fl, data in field.items():
    if not data:
        continue
    by = {(f["kind"], f["debris"]): f for f in data["fields"]}
    for n in sorted({f["debris"] for f in data["fields"]}):
        rust, gd = by.get(("rust", n)), by.get(("gdscript", n))
        if rust and gd:
            field_rows.append((fl, n, rust, gd))
if field_rows:
    fig, ax = plt.subplots(figsize=(6.4, 4))
    labels, rust_v, gd_v = [], [], []
    for fl, n, rust, gd in field_rows:
        labels.append(f"{n // 1000}k, {fl} ext.")
        rust_v.append(rust["process_plus_physics_ms"]["median"])
        gd_v.append(gd["process_plus_physics_ms"]["median"])
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], gd_v, 0.4, label="GDScript, node per piece")
    ax.bar([x + 0.2 for x in xs], rust_v, 0.4, label="Rust Zone node")
    ax.axhline(16.7, color="tab:red", linestyle="--", label="60 fps frame budget")
    ax.set_yscale("log")
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel("process + physics ms per frame (median, log)")
    ax.set_title("Debris field in headless Godot")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(PLOTS, "godot_field.svg"))
    plt.close(fig)

# --- 6. Client ---------------------------------------------------------------
boot = {}
quit_ms = {}
for line in (read("client.txt") or "").splitlines():
    parts = line.split()
    if parts[0] == "boot_to_login_ms":
        boot.setdefault(parts[1], []).append((int(parts[2]), int(parts[3]), int(parts[4])))
    elif parts[0] == "quit_ms":
        quit_ms.setdefault((parts[1], parts[2]), []).append(int(parts[3]))


def spread(values):
    if not values:
        return "n/a"
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}–{max(values):,.0f})"


# --- 7. The shipped build ------------------------------------------------------
from bench_shipped_report import shipped_section  # noqa: E402

shipped_lines, shipped_verdicts = shipped_section(RAW)
for v in shipped_verdicts:
    verdict(*v)

# --- The page ------------------------------------------------------------------
out.append("# Benchmarks\n")
out.append(
    "Generated by `make bench` (`scripts/bench.sh`, then `scripts/bench_report.py`); "
    "do not edit by hand — the notes at the end come from `docs/bench/notes.md`.\n"
)
out.append("| | |\n|---|---|")
for key, title in [("date", "date (UTC)"), ("commit", "commit"), ("cpu", "CPU"), ("cores", "cores"), ("ram_gb", "RAM, GB"),
                   ("os", "OS"), ("rustc", "Rust"), ("godot", "Godot"), ("postgres", "PostgreSQL client"),
                   ("bench_seconds", "`make bench` after the builds, s"), ("build_seconds", "set-up and builds, s")]:
    out.append(f"| {title} | {env.get(key, 'n/a')} |")
out.append(
    "\nThe load average (1/5/15 min) is given next to each part: figures taken on a busy machine are "
    "slower and noisier than on a quiet one.\n"
)

out.append("## Targets\n")
out.append("| target | figure | met |\n|---|---|---|")
for target, figure, met in verdicts:
    out.append(f"| {target} | {figure} | {'yes' if met else '**no**'} |")
out.append("")

out.append(f"## 1. Zone simulation ({load_of('zone_tick')})\n")
out.append(
    "`cargo bench -p game --bench zone_tick` (criterion, release profile, one thread). A tick is everything the "
    "game does at 60 Hz: drift of every piece, spawning, grid upkeep, ship physics, a manual collection query "
    "every tick, the level-3 cargo magnet, hub checks. Spread: criterion's 95 % interval of the median, and the "
    "fastest and slowest sample.\n"
)
out.append("| debris | median per tick | 95 % CI of median | min–max sample | ns per debris per tick |\n|---|---|---|---|---|")
for r in zone_rows:
    out.append(
        f"| {r['debris']:,} | {r['median_ns'] / 1e3:,.1f} µs | {r['lo_ns'] / 1e3:,.1f}–{r['hi_ns'] / 1e3:,.1f} µs | "
        f"{(r['min_ns'] or 0) / 1e3:,.1f}–{(r['max_ns'] or 0) / 1e3:,.1f} µs | {r['median_ns'] / r['debris']:.2f} |"
    )
if components:
    out.append("\nComponents (same run):\n\n```\n" + "\n".join(c.strip() for c in components) + "\n```")
out.append("\n![tick cost vs debris](bench/zone_tick.svg)\n")

out.append("## 2. The debris field in Godot: Rust node against GDScript\n")
out.append(
    "One headless Godot run (`godot-project/bench/run_bench.gd`, `--fixed-fps 60`: one physics tick and one "
    "process step per frame, as fast as the machine goes) per extension build. **Rust**: `scenes/zone.tscn` "
    "flying a local run of zone 1 with exactly N pieces (`Zone.start_local_run_with_debris`), plus one "
    "`nearest_debris` query per frame from GDScript. **GDScript**: `bench/gd_field.gd`, one `Sprite2D` per piece "
    "moving in its own `_process`, and a nearest-piece query that scans every piece each frame. Time per frame = "
    "Godot's `TIME_PROCESS` + `TIME_PHYSICS_PROCESS` over 600 frames after 60 warm-up frames. Headless, so neither "
    "side pays for drawing. The Godot binary is an editor build, which always loads the `debug` entry of the "
    ".gdextension file: the **debug** rows are what `make editor` and the in-engine tests load (dependencies at "
    "opt-level 2, our crates at opt-level 0); the **release** rows point that entry at the release library. "
    "What players run (and `make run` plays), the release template with the release library, is section 7.\n"
)
out.append("| extension | debris | Rust median (p99) ms | GDScript median (p99) ms | GDScript / Rust | Rust frame wall ms | GDScript frame wall ms | RSS Rust / GDScript, MB | load |\n|---|---|---|---|---|---|---|---|---|")
for fl, n, rust, gd in field_rows:
    r, g = rust["process_plus_physics_ms"], gd["process_plus_physics_ms"]
    ratio = g["median"] / r["median"] if r["median"] > 0 else float("nan")
    out.append(
        f"| {fl} | {n:,} | {r['median']:.3f} ({r['p99']:.3f}) | {g['median']:.3f} ({g['p99']:.3f}) | {ratio:.1f}× | "
        f"{rust['frame_wall_ms']['median']:.2f} | {gd['frame_wall_ms']['median']:.2f} | {rust['rss_mb']:.0f} / {gd['rss_mb']:.0f} | "
        f"{loads.get('godot_field_' + fl, 'n/a')} |"
    )
out.append("\n![frame time, Rust vs GDScript](bench/godot_field.svg)\n")

out.append("## 3-5. Backend under load\n")
out.append(
    "`backend/benches/load.rs`: the release `backend serve` as its own process, the generator (one thread, "
    "hyper HTTP/1.1, one request in flight per connection) in a second process on loopback; both share the "
    "machine's cores. 256 players registered and logged in through the API; 64 connections; each phase "
    "measured for the configured seconds after 1 s of warm-up. Collect claims are planned with `game::verify` "
    "(real pieces of the server-seeded runs, reachable in time) and sent no earlier than the run clock allows; "
    "economy phases run in rounds (fill every hold one claim per request, sell one item per request, buy what "
    "is affordable); every write carries its own Idempotency-Key. Login storm: a quarter of the connections "
    "log in (argon2id) while the rest read the state. Trades: lobbies of 8, offer 1 credit, receiver accepts. "
    "Server settings: defaults, except `RUST_LOG=warn` and the per-IP auth limit and per-user trade-offer quota "
    "raised (all traffic comes from one IP and a few hundred users; with the shipped quota of 10 offers per "
    "user per minute 256 players cannot make more than ~43 trades/s). RSS: the backend's resident set, "
    "sampled every 100 ms. CPU columns (from /proc over the phase): CPU time of the backend process per "
    "successful request and its kernel share, the generator's own CPU per request, context switches of all "
    "backend threads per request, and how busy the whole machine was (every process, both cores; on PostgreSQL "
    "the database server's CPU is outside the backend's figure but inside the machine's). The CPU of a window "
    "is divided by the row's own count: for the three trade rows that is per completed trade (offer and accept "
    "together), and the storm's two rows share one window (reads and logins together).\n"
)
def cpu_cells(ph):
    c = ph.get("cpu")
    if not c:
        return "n/a | n/a | n/a | n/a"
    return (
        f"{c['backend_cpu_us_per_req']:,.0f} ({c['backend_kernel_share'] * 100:.0f} %) | "
        f"{c['generator_cpu_us_per_req']:,.0f} | {c['backend_switches_per_req']:.1f} | {c['machine_busy_share'] * 100:.0f} %"
    )


for db, data in load.items():
    if not data:
        continue
    out.append(f"### {db} ({load_of('load_' + db)})\n")
    out.append("| phase | ok | errors | req/s | p50 ms | p90 ms | p99 ms | max ms | backend RSS max MB | backend CPU µs/req (kernel) | generator CPU µs/req | backend context switches/req | machine busy |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for key, title in PHASE_TITLES:
        ph = data["phases"].get(key)
        if not ph:
            continue
        errors = f"{ph['errors']:,}"
        if ph["error_kinds"]:
            errors += " (" + ", ".join(f"{k}: {v}" for k, v in ph["error_kinds"].items()) + ")"
        out.append(
            f"| {title} | {ph['ok']:,} | {errors} | {ph['rps']:,.0f} | {ph['p50_ms']:.2f} | {ph['p90_ms']:.2f} | "
            f"{ph['p99_ms']:.2f} | {ph['max_ms']:.1f} | {ph['rss_max_mb']:.0f} | {cpu_cells(ph)} |"
        )
    ew = data.get("economy_writes", {})
    audit = data.get("audit", {})
    out.append(
        f"\nEconomy writes together: {ew.get('ok', 0):,} in {ew.get('seconds', 0):.1f} s = **{ew.get('rps', 0):,.0f}/s**. "
        f"Accounts set-up (256 × register + login): {data.get('accounts_setup_seconds', 0):.1f} s. "
        f"`backend audit` afterwards: **{'passed' if audit.get('passed') else 'FAILED'}** "
        f"(`{'; '.join(audit.get('output', []) + audit.get('stderr', []))}`).\n"
    )
out.append("![latency percentiles](bench/backend_latency.svg)\n")

out.append(f"## 6. Client ({load_of('client')})\n")
out.append(
    f"Headless, {max((len(v) for v in boot.values()), default=0)} runs each, median (min–max). Boot to login: from "
    "starting the process to the login scene being current (`bench/boot_probe.gd` opens the main scene as the "
    "game does, no stored session, no backend). Extension load: a project holding only the extension against "
    "the same empty project without it, each quitting after its first frame. RSS in the zone with 10k debris: "
    "the game process in section 2 (editor build of Godot, headless).\n"
)
def ext_text(ext, without):
    """The extension's load time, or "below the noise" when the difference of
    the two medians is smaller than the spread of the runs without it."""
    if ext is None:
        return "n/a"
    noise = (max(without) - min(without)) if without else 0
    if abs(ext) < noise:
        return f"below the noise ({fmt(ext, 0)}, runs spread {fmt(noise, 0)})"
    return fmt(ext, 0)


out.append("| extension | boot to login, ms | of which engine clock, ms | extension load, ms | RSS in zone with 10k debris, MB |\n|---|---|---|---|---|")
for fl in ("debug", "release"):
    b = boot.get(fl, [])
    with_ext, without = quit_ms.get((fl, "1"), []), quit_ms.get((fl, "0"), [])
    ext = statistics.median(with_ext) - statistics.median(without) if with_ext and without else None
    rss = next((rust["rss_mb"] for f, n, rust, gd in field_rows if f == fl and n == 10000), None)
    out.append(
        f"| {fl} | {spread([x[0] for x in b])} | {spread([x[1] for x in b])} | "
        f"{ext_text(ext, without)} (with {spread(with_ext)}, without {spread(without)}) | {fmt(rss, 0)} |"
    )
out.append("")

out.extend(shipped_lines)

# --- 8. Reconnect storm --------------------------------------------------------
storms = [s for s in (read_json(f"reconnect-storm-{db}.json") for db in ("sqlite", "postgres")) if s]
if storms:
    out.append("## Reconnect storm
")
    out.append(
        "`cargo bench -p backend --bench reconnect_storm`: players in rooms of eight hold the game's lobby "
        "socket (the `client` crate, shipped backoff 0.5 s doubling to 10 s, each wait jittered 0.5x-1.5x); "
        "the backend is killed (SIGKILL), stays down 2 s and is started again on the same address. Times "
        "are from its `listening` line to each socket's fresh snapshot.\n"
    )
    out.append("| database | sockets | p50, s | p95, s | all back, s | attempts per socket (mean / max) | restart to listening, s |\n|---|---|---|---|---|---|---|")
    for s in storms:
        out.append(
            f"| {s['db']} | {s['back']}/{s['sockets']} | {fmt(s['back_p50_s'], 2)} | {fmt(s['back_p95_s'], 2)} | "
            f"{fmt(s['all_back_s'], 2)} | {fmt(s['attempts_mean'], 1)} / {s['attempts_max']} | {fmt(s['restart_to_listening_s'], 2)} |"
        )
    out.append("")

profiles = sorted(f for f in os.listdir(os.path.join(RAW, "perf")) if f.endswith(".txt")) if os.path.isdir(os.path.join(RAW, "perf")) else []
if profiles:
    out.append("## Profiles\n")
    out.append("`perf record -F 499` of the backend process during the phase (flat, self time, top entries by DSO and symbol).\n")
    for name in profiles:
        raw = read(os.path.join("perf", name)) or ""
        # perf pads every row to the terminal width and ends it with empty
        # parent columns ("-  -"): keep percentage, DSO and symbol.
        text = "\n".join(re.sub(r"(\s+-)+\s*$", "", line).rstrip() for line in raw.splitlines()).strip("\n")
        if not text:
            continue
        out.append(f"<details><summary>{name[:-4]}</summary>\n\n```\n{text}\n```\n</details>\n")

notes_path = os.path.join(DOCS, "bench", "notes.md")
if os.path.exists(notes_path):
    with open(notes_path) as f:
        out.append(f.read().rstrip() + "\n")

with open(os.path.join(DOCS, "BENCHMARKS.md"), "w") as f:
    f.write("\n".join(out))
print(f"bench_report: wrote {os.path.join(DOCS, 'BENCHMARKS.md')} and {PLOTS}/*.svg")
