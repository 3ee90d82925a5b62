#!/usr/bin/env python3
"""Section "7. The shipped build" of docs/BENCHMARKS.md, from the raw figures
of scripts/bench-shipped.sh (bundle.txt, client-shipped.txt,
godot-field-shipped.json, loads.txt).

scripts/bench_report.py includes it in the full page (`make bench`). Run on
its own, it replaces that section and the shipped build's rows of the
Targets table in an existing page, leaving the rest as it was:

    bench_shipped_report.py RAW_DIR DOCS_DIR
"""

import json
import os
import re
import statistics
import sys

HEADING = "## 7. The shipped build"
TARGETS = {
    "ratio": "player's build >= 100x the GDScript field per frame at 10k debris",
    "100k": "player's build: 100k debris <= 2 ms process + physics per frame",
}


def _read(raw, name):
    try:
        with open(os.path.join(raw, name)) as f:
            return f.read()
    except OSError:
        return None


def shipped_section(raw):
    """(markdown lines, [(target, figure, met)]); ([], []) without figures."""
    bundle = {}
    parts = []
    for line in (_read(raw, "bundle.txt") or "").splitlines():
        key, _, value = line.partition(" ")
        if key == "part":
            name, _, size = value.partition(" ")
            parts.append((name, int(size)))
        else:
            bundle[key] = value
    field_text = _read(raw, "godot-field-shipped.json")
    if not bundle or not field_text:
        return [], []
    field = json.loads(field_text)
    loads = {}
    for line in (_read(raw, "loads.txt") or "").splitlines():
        p = line.split()
        if len(p) >= 4:
            loads[p[0]] = " / ".join(p[1:4])
    boots = {"first": [], "again": []}
    for line in (_read(raw, "client-shipped.txt") or "").splitlines():
        p = line.split()
        if p and p[0] == "boot_to_login_ms" and p[1] == "shipped":
            boots[p[5] if len(p) > 5 else "again"].append((int(p[2]), int(p[3])))

    mb = lambda b: int(b) / 1048576  # noqa: E731
    out = [f"{HEADING} (load {loads.get('shipped_field', 'n/a')})\n"]
    out.append(
        "What a player downloads: `make dist` (scripts/dist.sh) exports the project with Godot's own pipeline and "
        "Debian sid's **release export template**, with the **release** build of the extension, and bundles the "
        "loader and library closure the template needs. `scripts/bench-shipped.sh` unpacks the tarball into an "
        "empty folder and runs everything below through the bundle's launcher with an empty HOME, headless. "
        "`make run` plays this same build.\n"
    )
    out.append("| | |\n|---|---|")
    out.append(f"| bundle | `{bundle.get('name', '?')}`, {bundle.get('version', '?')} |")
    out.append(f"| download (tar.gz) | {mb(bundle['tarball_bytes']):.1f} MB |")
    out.append(f"| unpacked | {mb(bundle['unpacked_bytes']):.1f} MB: "
               + ", ".join(f"{name} {mb(size):.1f} MB" for name, size in parts) + " |")

    def spread(values):
        if not values:
            return "n/a"
        if len(values) == 1:
            return f"{values[0]:,.0f}"
        return f"{statistics.median(values):,.0f} ({min(values):,.0f}–{max(values):,.0f})"

    first, again = boots["first"], boots["again"]
    out.append(f"| start to login screen, first run after unpacking | {spread([b[0] for b in first])} ms "
               f"(engine clock {spread([b[1] for b in first])} ms) |")
    out.append(f"| start to login screen, next {len(again)} runs (median, min–max) | {spread([b[0] for b in again])} ms "
               f"(engine clock {spread([b[1] for b in again])} ms) |")
    kind = "a debug build" if field.get("debug_build") else "release template, not a debug build"
    out.append(f"| Godot | {field.get('engine', '?')}, {kind} |")
    out.append("")
    out.append(
        "Start: from starting the launcher to the login screen being the current scene, with an empty HOME (no "
        "stored session) and no backend answering. The debris field: `godot-project/bench/field_bench.gd`, as in "
        "section 2 (`--fixed-fps 60`, process + physics time per frame over 600 frames after 60 warm-up frames, "
        "headless so nothing is drawn), run by `godot-project/bench/in_bundle.gd` once the login screen is up; "
        "the release template takes no `--script`, so that script is an autoload added to the unpacked copy's "
        "`bin/override.cfg`. RSS: the game process with the field loaded.\n"
    )
    out.append("| debris | Rust zone median (p99) ms | GDScript median (p99) ms | GDScript / Rust | Rust frame wall ms | "
               "GDScript frame wall ms | RSS Rust / GDScript, MB |\n|---|---|---|---|---|---|---|")
    by = {(f["kind"], f["debris"]): f for f in field["fields"]}
    verdicts = []
    for n in sorted({f["debris"] for f in field["fields"]}):
        rust, gd = by.get(("rust", n)), by.get(("gdscript", n))
        if not (rust and gd):
            continue
        r, g = rust["process_plus_physics_ms"], gd["process_plus_physics_ms"]
        ratio = g["median"] / r["median"] if r["median"] > 0 else float("inf")
        out.append(
            f"| {n:,} | {r['median']:.3f} ({r['p99']:.3f}) | {g['median']:.3f} ({g['p99']:.3f}) | {ratio:.0f}× | "
            f"{rust['frame_wall_ms']['median']:.2f} | {gd['frame_wall_ms']['median']:.2f} | "
            f"{rust['rss_mb']:.0f} / {gd['rss_mb']:.0f} |"
        )
        if n == 10000:
            verdicts.append((TARGETS["ratio"], f"{ratio:.0f}× ({r['median']:.3f} ms vs {g['median']:.2f} ms)", ratio >= 100))
        if n == 100000:
            verdicts.append((TARGETS["100k"], f"{r['median']:.3f} ms (p99 {r['p99']:.3f} ms)", r["median"] <= 2.0))
    out.append("")
    return out, verdicts


def splice(docs):
    """Replaces section 7 and the shipped Targets rows of DOCS/BENCHMARKS.md."""
    raw = sys.argv[1]
    lines, verdicts = shipped_section(raw)
    if not lines:
        sys.exit(f"bench_shipped_report: no shipped-build figures in {raw}")
    path = os.path.join(docs, "BENCHMARKS.md")
    with open(path) as f:
        page = f.read()
    section = "\n".join(lines) + "\n"
    start = page.find(HEADING)
    if start >= 0:
        end = page.find("\n## ", start + len(HEADING))
        end = page.find("\n<details>", start) if end < 0 else end
        page = page[:start] + section + (page[end + 1:] if end >= 0 else "")
    else:
        # Before the profiles, or before the notes (their first bold line).
        anchor = min((i for i in (page.find("## Profiles"), page.find("\n**")) if i >= 0), default=len(page))
        page = page[:anchor] + section + page[anchor:]
    rows = [row for row in page.splitlines() if row.startswith("| player's build")]
    for row in rows:
        page = page.replace(row + "\n", "")
    new_rows = "".join(f"| {t} | {fig} | {'yes' if met else '**no**'} |\n" for t, fig, met in verdicts)
    m = re.search(r"## Targets\n\n\| target \| figure \| met \|\n\|---\|---\|---\|\n((?:\|.*\n)*)", page)
    if m:
        page = page[:m.end()] + new_rows + page[m.end():]
    with open(path, "w") as f:
        f.write(page)
    print(f"bench_shipped_report: section 7 and {len(verdicts)} target rows written to {path}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    splice(sys.argv[2])
