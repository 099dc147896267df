"""The instruction database (../shared/PATENTS.md, US12093801B1): instructions keyed by the subgraph
they lower, in SQLite (standard library), reused across compiles and across repeated blocks.

What a node's lowering produces splits in two. Its *bindings* (the DRAM tensors it declares, the
prepared constants, which graph values they hold, the SBUF/PSUM ranges it allocates) follow from the
node and the segment; its *instructions* (the lines of the listing, with the semaphore pairs the
builder inserts) follow from the stream of `Builder.emit` calls the lowering makes and the builder's
state when it starts. That state is kept in a canonical form (`_state`): every access record the
other engines are not yet ordered after, and the clocks, with instruction indices relative to each
engine's count (the builder compares only indices of one engine with each other, so shifting them
changes no decision).

* The identifier of a node (`identifier`) is the canonical text of its operator, attributes, input
  and output shapes and dtypes, the content hash of its small constants (shapes, scalars: what can
  steer instructions; weights are bound as data), its placement (fused activation, folded weights'
  shapes), the CoreConfig, the compiler/ISA version (`VERSION`: a hash of the compiler's and the
  ISA's sources) and the builder's canonical state. Its SHA-256 is the database key; the stored
  identifier is compared in full, so two subgraphs whose hashes collide never share instructions.
* A lookup that finds entries runs the node's lowering on a *shadow* of the segment (copies of its
  maps, counters and allocators; a builder that only records the emit calls): that gives the
  bindings exactly as a fresh lowering, and the emit stream. An entry is used only when its stored
  emit stream (tensor names relocated) equals this one in full; then its lines (tensor names
  relocated, the node's label put back) and the builder's exit state are exactly what a fresh
  lowering gives, by construction, for any weights. Otherwise the node is lowered for real and a
  new entry is stored.
* Segments are assembled from the listing as without the database (decoding a stored binary is
  slower than the assembler's fast paths).

Repeated blocks (ResNet bottlenecks, transformer projections) hit because their identifiers and emit
streams agree up to tensor names. Writes are batched into one transaction per compile (WAL journal,
`BEGIN IMMEDIATE`, `INSERT OR IGNORE`), so concurrent compiles into one folder are safe.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import sqlite3
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from accel.compiler import plan as planning
from accel.compiler.builder import Allocator, Builder, Region
from accel.compiler.segment import Segment

DB_NAME = "instructions.sqlite"
SMALL_CONST = 16  # constants of at most this many elements are keyed by content (shapes, scalars)
_NAME = re.compile(r"\bt(\d+)\b")
_SEG_FIELDS = {"config", "graph", "index", "builder", "dram", "feeds", "consts", "results", "aliases", "nodes",
               "identity_at", "_n", "keep", "resident"}
_BUILDER_FIELDS = {"config", "lines", "tensors", "tensor_names", "counts", "clocks", "accesses",
                   "semaphores_used", "node", "line_nodes"}
_version: str | None = None


def version() -> str:
    """The compiler/ISA version entries are valid for: a hash of the sources that decide a listing
    (accel/compiler, accel/isa, accel/config.py, isa/isa.toml) and the package version."""
    global _version
    if _version is None:
        import accel
        from accel.isa import resources

        root = Path(__file__).resolve().parents[1]
        files = sorted([*(root / "compiler").glob("*.py"), *(root / "isa").glob("*.py"), root / "config.py",
                        resources.ISA_TOML])
        h = hashlib.sha256(accel.__version__.encode())
        for f in files:
            h.update(f.name.encode() + b"\0" + f.read_bytes())
        _version = h.hexdigest()[:16]
    return _version


def default_dir() -> Path:
    """The user's cache folder: $ACCEL_CACHE_DIR, else $XDG_CACHE_HOME/accel, else ~/.cache/accel."""
    if os.environ.get("ACCEL_CACHE_DIR"):
        return Path(os.environ["ACCEL_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "accel"


# ------------------------------------------------------------------------------------------ identifiers
def _json(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"shape": list(value.shape), "dtype": str(value.dtype), "sha256": _content(value)}
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, np.generic):
        return value.item()
    return repr(value)


def _content(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).view(np.uint8).data).hexdigest()


def _array(a: np.ndarray | None, content: bool) -> Any:
    if a is None:
        return None
    out = {"shape": list(a.shape), "dtype": str(a.dtype)}
    if content or a.size <= SMALL_CONST:
        out["sha256"] = _content(a)
    return out


def _state(b: Builder) -> dict[str, Any]:
    """The builder's canonical state (records every engine is ordered after dropped, indices relative)."""
    b._prune()
    c = b.counts
    return {"accesses": [[r.space, r.p0, r.p1, r.lo, r.hi, f, int(w), i - c[f]] for (r, f, w), i in b.accesses.items()],
            "clocks": [[b.clocks[e][f] - c[f] for f in range(4)] for e in range(4)]}


def identifier(plan: planning.Placement, seg: Segment, state: dict[str, Any]) -> str:
    """The canonical text that identifies a node's lowering at this point of its segment."""
    node, g = plan.node, seg.graph
    inputs = []
    for name in node.inputs:
        v = g.values.get(name) if name else None
        if v is None:
            inputs.append(None)
            continue
        t = seg.dram.get(name)
        where = "absent" if t is None else "result" if t in seg.results else "feed"
        inputs.append({"shape": list(v.shape), "dtype": str(v.dtype), "const": _array(v.data, False), "dram": where,
                       "sbuf": seg.resident.get(name), "kept": repr(seg.keep.get(name))})
    # an output kept in SBUF (accel.compiler.resident) is drained into its consumer's planes, not stored
    outputs = [[list(g.values[o].shape), repr(seg.keep.get(o))] if o in g.values else None for o in node.outputs]
    extra = {f.name: getattr(plan, f.name) for f in dataclasses.fields(plan)
             if f.name not in ("node", "fused", "weights", "bias")}
    ident = {"version": version(), "config": dataclasses.asdict(seg.config), "opset": g.opset, "op": node.op,
             "domain": node.domain, "attrs": sorted(node.attrs.items()), "inputs": inputs, "outputs": outputs,
             "placement": {**extra, "fused": len(plan.fused), "weights": _array(plan.weights, False),
                           "bias": _array(plan.bias, False)},
             "identity_at": seg.identity_at, "state": state}
    return json.dumps(ident, sort_keys=True, default=_json, separators=(",", ":"))


# ------------------------------------------------------------------------------------------ recording
class _Names:
    """Relocation of DRAM tensor names: the node's new tensors are N1, N2, ... (after the segment's
    counter at its start), the tensors of its inputs I0, I1, ...; any other name makes it uncacheable."""

    def __init__(self, seg: Segment, inputs: list[str]) -> None:
        self.n0 = seg._n
        self.slots = {seg.dram[v]: f"I{j}" for j, v in enumerate(inputs) if v in seg.dram}
        self.ok = True

    def relocate(self, text: str) -> str:
        def sub(m: re.Match) -> str:
            k = int(m.group(1))
            if k > self.n0:
                return f"\x00N{k - self.n0}\x00"
            slot = self.slots.get(m.group(0))
            if slot is None:
                self.ok = False
                return m.group(0)
            return f"\x00{slot}\x00"
        return _NAME.sub(sub, text)


def _place(text: str, n0: int, inputs: list[str], seg: Segment) -> str:
    """A stored text with the tensor names of this node in this segment."""
    parts = text.split("\x00")
    for k in range(1, len(parts), 2):
        p = parts[k]
        parts[k] = f"t{n0 + int(p[1:])}" if p[0] == "N" else seg.dram[inputs[int(p[1:])]]
    return "".join(parts)


def _capture(b: Builder, real: bool) -> list[tuple]:
    """Record every emit and comment of `b` (and still perform them when `real`)."""
    log: list[tuple] = []
    emit, comment = Builder.emit, Builder.comment

    def rec_emit(engine: str, text: str, reads: tuple[Region, ...] = (), writes: tuple[Region, ...] = ()) -> None:
        log.append((engine, text, tuple(reads), tuple(writes)))
        if real:
            emit(b, engine, text, reads, writes)

    def rec_comment(text: str) -> None:
        log.append(("#", text, (), ()))
        if real:
            comment(b, text)

    b.emit, b.comment = rec_emit, rec_comment  # type: ignore[method-assign]
    return log


def _release(b: Builder) -> None:
    del b.emit, b.comment


def _stream(log: list[tuple], names: _Names) -> str:
    """The emit stream as canonical text, tensor names relocated."""
    return "\n".join(f"{e}|{names.relocate(t)}|{[(r.space, r.p0, r.p1, r.lo, r.hi) for r in rd]}|"
                     f"{[(w.space, w.p0, w.p1, w.lo, w.hi) for w in wr]}" for e, t, rd, wr in log)


def _copy_alloc(a: Allocator) -> Allocator:
    out = Allocator(a.space, a.size, a.align, a.delay)
    out.free_list, out.pending, out.peak = list(a.free_list), list(a.pending), a.peak
    return out


def _shadow(seg: Segment) -> Segment:
    """A segment in the same state whose builder only records (no semaphores, no lines)."""
    s = Segment.__new__(Segment)
    s.config, s.graph, s.index = seg.config, seg.graph, seg.index
    s.dram, s.feeds, s.results = dict(seg.dram), dict(seg.feeds), {k: list(v) for k, v in seg.results.items()}
    s.aliases, s.consts, s.nodes = dict(seg.aliases), {}, list(seg.nodes)
    s.identity_at, s._n = seg.identity_at, seg._n
    s.keep, s.resident = dict(seg.keep), {k: list(v) for k, v in seg.resident.items()}
    real, b = seg.builder, Builder(seg.config)
    b.tensor_names, b.semaphores_used = set(real.tensor_names), real.semaphores_used
    b.counts, b.clocks, b.accesses = list(real.counts), [list(c) for c in real.clocks], dict(real.accesses)
    b.sbuf, b.psum = _copy_alloc(real.sbuf), _copy_alloc(real.psum)
    s.builder = b
    return s


# ------------------------------------------------------------------------------------------ the database
@dataclass
class CacheStats:
    """Per compile: node hits (found and applied), misses (lowered, then stored unless uncacheable),
    lookups that found entries whose emit stream differed (mismatches: lowered as a miss)."""

    hits: int = 0
    misses: int = 0
    mismatches: int = 0
    uncacheable: int = 0
    disabled: str = ""

    @property
    def hit_rate(self) -> float:
        n = self.hits + self.misses
        return self.hits / n if n else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "hit_rate": self.hit_rate}


class InstructionCache:
    """The database in `folder` (default: the user's cache folder). `digest` maps an identifier to
    its key (SHA-256; tests pass a colliding one)."""

    def __init__(self, folder: str | Path | None = None, digest: Callable[[str], str] | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / DB_NAME
        self.db = sqlite3.connect(self.path, timeout=120, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS nodes (key TEXT, ident TEXT, stream TEXT, op TEXT, version TEXT, "
            "payload BLOB, created REAL, hits INTEGER DEFAULT 0, PRIMARY KEY (key, ident, stream));"
            "CREATE TABLE IF NOT EXISTS tuning (key TEXT PRIMARY KEY, choice TEXT, created REAL);")
        self.digest = digest or (lambda s: hashlib.sha256(s.encode()).hexdigest())
        self.stats = CacheStats()
        self._writes: list[tuple[str, tuple]] = []
        self._fresh: dict[tuple[str, str], list[tuple[str, bytes]]] = {}  # stored by this compile, not yet written

    def begin(self) -> None:
        """Start a compile: its statistics from zero."""
        self.stats = CacheStats()

    # ------------------------------------------------------------------ nodes
    def lower(self, plan: planning.Placement, seg: Segment) -> None:
        """planning.lower(plan, seg), through the database."""
        why = _unsupported(seg)
        if why:
            self.stats.disabled = why
            planning.lower(plan, seg)
            return
        b, inputs = seg.builder, [i for i in plan.node.inputs]
        entry_counts = list(b.counts)
        ident = identifier(plan, seg, _state(b))
        key = self.digest(ident)
        rows = self._fresh.get((key, ident), []) + self.db.execute(
            "SELECT stream, payload FROM nodes WHERE key = ? AND ident = ?", (key, ident)).fetchall()
        if rows:
            shadow = _shadow(seg)
            names = _Names(shadow, inputs)
            log = _capture(shadow.builder, real=False)
            planning.lower(plan, shadow)
            stream = _stream(log, names)
            for stored, payload in rows:
                if stored == stream and names.ok:
                    self._apply(seg, shadow, json.loads(zlib.decompress(payload)), inputs, entry_counts, names.n0)
                    self.stats.hits += 1
                    self._writes.append(("UPDATE nodes SET hits = hits + 1 WHERE key = ? AND ident = ? AND stream = ?",
                                         (key, ident, stream)))
                    return
            self.stats.mismatches += 1
        self.stats.misses += 1
        names = _Names(seg, inputs)
        line0, sems0 = len(b.lines), b.semaphores_used
        log = _capture(b, real=True)
        try:
            planning.lower(plan, seg)
        finally:
            _release(b)
        stream = _stream(log, names)
        payload = self._payload(b, line0, sems0, entry_counts, names)
        if payload is None or not names.ok:
            self.stats.uncacheable += 1
            return
        blob = zlib.compress(json.dumps(payload).encode())
        self._fresh.setdefault((key, ident), []).append((stream, blob))
        self._writes.append(("INSERT OR IGNORE INTO nodes (key, ident, stream, op, version, payload, created) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (key, ident, stream, plan.node.op, version(), blob, time.time())))

    @staticmethod
    def _payload(b: Builder, line0: int, sems0: int, entry: list[int], names: _Names) -> dict[str, Any] | None:
        """The node's lines (tensor names relocated, label removed) and the builder's exit state."""
        label = b.node
        suffix = f" ; {label}"
        lines = []
        for line in b.lines[line0:]:
            if line.startswith(";"):
                lines.append(["#", names.relocate(line)])
                continue
            if not label or not line.endswith(suffix):
                return None
            text = line[4:-len(suffix)].rstrip()
            if f"    {text:<72}{suffix}" != line:
                return None
            lines.append(["i", names.relocate(text)])
        state = _state(b)
        return {"lines": lines, "counts": [b.counts[f] - entry[f] for f in range(4)],
                "accesses": [[*a[:-1], a[-1] + b.counts[a[5]] - entry[a[5]]] for a in state["accesses"]],
                "clocks": [[state["clocks"][e][f] + b.counts[f] - entry[f] for f in range(4)] for e in range(4)],
                "semaphores": b.semaphores_used if b.semaphores_used > sems0 else 0}

    @staticmethod
    def _apply(seg: Segment, shadow: Segment, payload: dict[str, Any], inputs: list[str], entry: list[int],
               n0: int) -> None:
        """Take the shadow's bindings and the stored instructions and exit state into `seg`."""
        b, sb = seg.builder, shadow.builder
        seg.dram, seg.feeds, seg.results, seg.aliases = shadow.dram, shadow.feeds, shadow.results, shadow.aliases
        seg.consts.update(shadow.consts)
        seg.nodes, seg.identity_at, seg._n = shadow.nodes, shadow.identity_at, shadow._n
        seg.keep, seg.resident = shadow.keep, shadow.resident
        b.tensors.extend(sb.tensors)
        b.tensor_names = sb.tensor_names
        b.sbuf, b.psum, b.node = sb.sbuf, sb.psum, sb.node
        label = sb.node
        for kind, text in payload["lines"]:
            text = _place(text, n0, inputs, seg)
            if kind == "#":
                b.lines.append(text)
            else:
                b.lines.append(f"    {text:<72} ; {label}")
                b.line_nodes.append(label)
        b.counts = [entry[f] + payload["counts"][f] for f in range(4)]
        b.clocks = [[entry[f] + payload["clocks"][e][f] for f in range(4)] for e in range(4)]
        b.accesses = {(Region(*a[:5]), a[5], bool(a[6])): entry[a[5]] + a[7] for a in payload["accesses"]}
        b.semaphores_used = max(b.semaphores_used, payload["semaphores"])

    # ------------------------------------------------------------------ housekeeping
    # ------------------------------------------------------------------ tuning (accel.compiler.tune)
    def tuned(self, key: str) -> dict[str, Any] | None:
        """The choice tuning stored for a layer key (its cycles per alternative and the pick), or None."""
        row = self.db.execute("SELECT choice FROM tuning WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def store_tuned(self, key: str, choice: dict[str, Any]) -> None:
        """Store a layer's tuning choice (written now: tuning runs before the compile's own flush)."""
        self.db.execute("INSERT OR REPLACE INTO tuning (key, choice, created) VALUES (?, ?, ?)",
                        (key, json.dumps(choice, sort_keys=True), time.time()))

    def flush(self) -> None:
        """Write what this compile found and made, in one transaction."""
        if not self._writes:
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for sql, args in self._writes:
                self.db.execute(sql, args)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self._writes, self._fresh = [], {}

    def close(self) -> None:
        self.flush()
        self.db.close()

    def entries(self) -> list[dict[str, Any]]:
        """Every stored entry: kind, operator, version, hits, bytes, when stored."""
        rows = self.db.execute("SELECT op, version, hits, length(payload) + length(ident) + length(stream), created "
                               "FROM nodes ORDER BY created")
        return [dict(zip(("op", "version", "hits", "bytes", "created"), r, strict=True)) for r in rows]

    def summary(self) -> dict[str, Any]:
        """Entries (all, of this version), recorded hits, size on disk."""
        cur = version()
        out: dict[str, Any] = {"path": str(self.path), "version": cur}
        n, h, nc = self.db.execute("SELECT count(*), coalesce(sum(hits), 0), coalesce(sum(version = ?), 0) "
                                   "FROM nodes", (cur,)).fetchone()
        out.update(entries=n, current_version=nc, hits=h)
        out["bytes"] = sum(p.stat().st_size for p in self.folder.glob(DB_NAME + "*"))
        return out

    def clear(self) -> int:
        """Delete every entry; the number deleted."""
        self.db.execute("BEGIN IMMEDIATE")
        n = self.db.execute("DELETE FROM nodes").rowcount
        self.db.execute("DELETE FROM tuning")
        self.db.execute("COMMIT")
        self.db.execute("VACUUM")
        return n


def _unsupported(seg: Segment) -> str:
    """Why the cache cannot capture this segment's state ('' when it can): a Segment or Builder field
    it does not know (added after it was written) could carry state the identifier misses."""
    fs = {f.name for f in dataclasses.fields(seg)}
    fb = {f.name for f in dataclasses.fields(seg.builder)}
    if fs != _SEG_FIELDS or fb != _BUILDER_FIELDS:
        return f"Segment/Builder fields {sorted((fs ^ _SEG_FIELDS) | (fb ^ _BUILDER_FIELDS))} are not captured"
    return ""

