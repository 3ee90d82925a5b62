#!/usr/bin/env python3
"""Fails when a Rust crate's modules import each other in a cycle.

    python3 scripts/check-module-cycles.py backend/src [rust-game/src ...]

For every `.rs` file under a crate's `src/` it reads the paths the code
names: `use` trees (`use crate::db::{self, Db, ledger::Reason};`,
`use super::x`, `use child::Y` in a `mod.rs`), and paths in the code itself
(`crate::clock::now_ms()`, `super::trades::sweep`, `bus::LobbyBus::start`
where `bus` is a child module). Comments and string literals are ignored. A
path is resolved to the deepest module file it names, so
`crate::db::ledger::Reason` points at `db/ledger.rs` and `crate::db::Db` at
`db/mod.rs`.

Two graphs are checked:
- top-level modules (`http`, `economy`, `db`, ...; the crate root `lib.rs`
  is the composition root and is left out);
- files (a child file naming an item of its parent `mod.rs` while the
  parent uses the child is a cycle too; declaring `mod child;` is not a use).

Exit status 1 and every cycle printed when there is one, 0 otherwise.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip_comments_and_strings(text: str) -> str:
    """Removes comments, string and char literals (keeps line structure)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            continue
        m = re.match(r'b?r(#*)"', text[i:])
        if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = '"' + m.group(1)
            j = text.find(end, i + m.end())
            i = n if j < 0 else j + len(end)
            out.append('""')
            continue
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            out.append('""')
            continue
        if c == "'":
            # A char literal ('a', '\n', '\u{1F600}') but not a lifetime ('a).
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", text[i:])
            if m:
                i += m.end()
                out.append("' '")
                continue
        out.append(c)
        i += 1
    return "".join(out)


def module_path(root: Path, file: Path) -> tuple[str, ...]:
    rel = file.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def expand_use_tree(tree: str) -> list[list[str]]:
    """`a::{self, b, c::{d, e as f}}` -> [[a, self], [a, b], [a, c, d], [a, c, e]]."""
    tree = re.sub(r"\s+as\s+" + IDENT, "", tree)
    tree = re.sub(r"\s+", "", tree)
    tree = tree.removeprefix("::")

    def parse(s: str, i: int, prefix: list[str]) -> tuple[list[list[str]], int]:
        segs = list(prefix)
        while i < len(s):
            if s[i] == "{":
                i += 1
                paths: list[list[str]] = []
                while i < len(s) and s[i] != "}":
                    sub, i = parse(s, i, segs)
                    paths.extend(sub)
                    if i < len(s) and s[i] == ",":
                        i += 1
                return paths, i + 1
            m = re.match(IDENT + r"|\*", s[i:])
            if not m:
                break
            segs.append(m.group(0))
            i += m.end()
            if s.startswith("::", i):
                i += 2
                continue
            break
        return ([segs] if segs != list(prefix) else []), i

    return parse(tree, 0, [])[0]


class Crate:
    def __init__(self, root: Path):
        self.root = root
        self.files: dict[tuple[str, ...], Path] = {}
        for file in sorted(root.rglob("*.rs")):
            if file.name == "main.rs" and (root / "lib.rs").exists() and file.parent == root:
                continue  # the binary is a separate crate that uses the library
            if file.parent.name == "bin":
                continue
            self.files[module_path(root, file)] = file
        self.sources = {m: strip_comments_and_strings(f.read_text()) for m, f in self.files.items()}
        self.root_reexports = self._root_reexports()

    def _root_reexports(self) -> dict[str, tuple[str, ...]]:
        """`pub use config::Config;` in lib.rs: `crate::Config` -> `config`."""
        out: dict[str, tuple[str, ...]] = {}
        text = self.sources.get((), "")
        for m in re.finditer(r"pub\s+use\s+([^;]+);", text):
            for path in expand_use_tree(m.group(1)):
                path = [p for p in path if p not in ("crate", "self")]
                if path and path[-1] != "*":
                    out[path[-1]] = tuple(path)
        return out

    def reexports(self, module: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        """`pub use child::Item;` in `module`: `Item` -> the child's path."""
        if module == ():
            return self.root_reexports
        cache = self.__dict__.setdefault("_reexports", {})
        if module not in cache:
            cache[module] = {}
            out = {}
            for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", self.sources[module]):
                for segs in expand_use_tree(m.group(1)):
                    absolute = self.absolute(module, segs)
                    if absolute and segs[-1] != "*":
                        out[segs[-1]] = absolute
            cache[module] = out
        return cache[module]

    def resolve(self, segs: tuple[str, ...], depth: int = 0) -> tuple[str, ...]:
        """Deepest module file that `segs` (absolute) names, following
        re-exports (`pub use`) to where the item is defined."""
        best: tuple[str, ...] | None = None
        for k in range(len(segs), -1, -1):
            if segs[:k] in self.files:
                best = segs[:k]
                break
        if best is None:
            return ()
        rest = segs[len(best):]
        if rest and depth < 8:
            target = self.reexports(best).get(rest[0])
            if target is not None:
                return self.resolve(target + rest[1:], depth + 1)
        return best

    def absolute(self, module: tuple[str, ...], segs: list[str]) -> tuple[str, ...] | None:
        if not segs:
            return None
        head = segs[0]
        if head == "crate":
            return tuple(s for s in segs[1:] if s != "self")
        if head in ("super", "self"):
            base = list(module)
            while segs and segs[0] in ("super", "self"):
                if segs[0] == "super":
                    base = base[:-1]
                segs = segs[1:]
            return tuple(base + [s for s in segs if s != "self"])
        # A child module named by its bare name (2018 uniform paths).
        child = module + (head,)
        if child in self.files or child in self.inline.get(module, ()):
            return child + tuple(s for s in segs[1:] if s != "self")
        return None

    def inline_modules(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, name) of every inline `mod name { ... }`."""
        out = []
        for m in re.finditer(r"\bmod\s+(" + IDENT + r")\s*\{", text):
            depth, i = 1, m.end()
            while i < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            out.append((m.end(), i, m.group(1)))
        return out

    def edges(self) -> dict[tuple[str, ...], set[tuple[str, ...]]]:
        graph: dict[tuple[str, ...], set[tuple[str, ...]]] = {m: set() for m in self.files}
        self.inline = {}
        for module, text in self.sources.items():
            blocks = self.inline_modules(text)
            self.inline[module] = {module + (name,) for _, _, name in blocks}

            def context(pos: int) -> tuple[str, ...]:
                inner = [(s, name) for s, e, name in blocks if s <= pos < e]
                return module + tuple(name for _, name in sorted(inner))

            named: list[tuple[tuple[str, ...], list[str]]] = []
            for m in re.finditer(r"\buse\s+([^;]+);", text):
                for segs in expand_use_tree(m.group(1)):
                    named.append((context(m.start()), segs))
            body = re.sub(r"\buse\s+[^;]+;", lambda m: " " * len(m.group(0)), text)
            for m in re.finditer(r"(?<![A-Za-z0-9_:])((?:" + IDENT + r")(?:::(?:" + IDENT + r"))+)", body):
                named.append((context(m.start()), m.group(1).split("::")))
            for where, segs in named:
                absolute = self.absolute(where, segs)
                if absolute is None:
                    continue
                target = self.resolve(absolute)
                if target and target != module and target in self.files:
                    graph[module].add(target)
        return graph


def sccs(graph: dict) -> list[list]:
    """Tarjan's strongly connected components (iterative)."""
    index: dict = {}
    low: dict = {}
    on_stack: set = set()
    stack: list = []
    out: list[list] = []
    counter = [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in graph:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def shortest_cycle(graph: dict, comp: list) -> list:
    """A shortest cycle through the component's first node (BFS)."""
    members = set(comp)
    start = comp[0]
    parent = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node]):
            if nxt == start:
                path = [node]
                while parent[path[-1]] is not None:
                    path.append(parent[path[-1]])
                return list(reversed(path)) + [start]
            if nxt in members and nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    return [start]


def check(root: Path) -> int:
    crate = Crate(root)
    files = crate.edges()
    top: dict[str, set[str]] = {}
    for src, targets in files.items():
        if not src:
            continue
        top.setdefault(src[0], set())
        for t in targets:
            if t and t[0] != src[0]:
                top[src[0]].add(t[0])
    for t in list(top.values()):
        for name in t:
            top.setdefault(name, set())

    def file_name(m):
        return str(crate.files[m].relative_to(root))

    failures = 0
    top_cycles = sccs(top)
    file_cycles = sccs({m: t for m, t in files.items() if m})
    print(f"{root}: {len(crate.files)} files, {len(top)} top-level modules, "
          f"{sum(len(t) for t in files.values())} file imports")
    for comp in top_cycles:
        failures += 1
        print("  module cycle: " + " -> ".join(shortest_cycle(top, comp)))
        print("    modules in the cycle: " + ", ".join(comp))
        for src in comp:
            for t in sorted(top[src] & set(comp)):
                why = sorted(file_name(f) for f, ts in files.items()
                             if f and f[0] == src and any(x and x[0] == t for x in ts))
                print(f"      {src} -> {t}: {', '.join(why)}")
    for comp in file_cycles:
        failures += 1
        print("  file cycle:   " + " -> ".join(file_name(m) for m in shortest_cycle(files, comp)))
        if len(comp) > 2:
            print(f"    {len(comp)} files in the cycle: " + ", ".join(file_name(m) for m in comp))
    if not failures:
        print("  no cycles")
    return failures


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    failures = sum(check(Path(arg)) for arg in argv[1:])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
