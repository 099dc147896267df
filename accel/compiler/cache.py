"""The instruction database (../shared/PATENTS.md, US12093801B1): instructions keyed by the subgraph
they lower, in SQLite (standard library), reused across compiles and across repeated blocks. Four
kinds of entry, from the smallest subgraph to the largest (docs/cache.md):

**Nodes.** What a node's lowering produces splits in two. Its *bindings* (the DRAM tensors it
declares, the prepared constants, which graph values they hold, the SBUF/PSUM ranges it allocates)
follow from the node and the segment; its *instructions* (the lines of the listing, with the
semaphore pairs the builder inserts) follow from the stream of `Builder.emit` calls the lowering
makes and the builder's state when it starts. That state is kept in a canonical form (`_state`):
every access record the other engines are not yet ordered after, and the clocks, with instruction
indices relative to each engine's count (the builder compares only indices of one engine with each
other, so shifting them changes no decision).

* The identifier of a node (`identifier`) is the canonical text of its operator, attributes, input
  and output shapes and dtypes, the content hash of its small constants (shapes, scalars: what can
  steer instructions; weights are bound as data), its placement (fused activation, folded weights'
  shapes), the CoreConfig, the compiler/ISA version (`version`) and the builder's canonical state.
  Its SHA-256 is the database key; the stored identifier is compared in full, so two subgraphs whose
  hashes collide never share instructions (so for the other kinds).
* A lookup that finds entries runs the node's lowering on a *shadow* of the segment (copies of its
  maps, counters and allocators; a builder that only records the emit calls): that gives the
  bindings exactly as a fresh lowering, and the emit stream. An entry is used only when its stored
  emit stream (tensor names relocated) equals this one in full; then its lines and the builder's
  exit state are exactly what a fresh lowering gives, by construction, for any weights.

**Segments** (`segment_identifier`): a core segment's listing and each instruction's node, in full,
with the CoreConfig and Options.reorder, give its final program: assembled, and reordered across
engines by reorder.py when that is faster. A hit takes the stored program (and reordered builder)
instead of assembling and reordering. Weight values are not in a listing, so a model with other
weights finds its segments.

**Whole models** (`model_identifier`): every field of the ONNX model in full but its initializers'
raw data, the CoreConfig, the Options, `strict`, the input shapes and the version; small initializers
by their SHA-256, large ones (WEIGHT_BLOB bytes and more) compared byte for byte with the entry's
own copy. A hit returns the stored CompiledModel (graph, placements, steps with their segments,
programs and prepared constants) without importing, placing, lowering, reordering or assembling.

**Graphs**: the Graph import_onnx gave (shape inference, constant folding), keyed like the whole
model without the CoreConfig, Options and `strict`: a whole-model miss for another config or other
options takes it instead of importing again.

A model or graph entry is a pickle (`_Pickler`) whose arrays of BLOB_MIN bytes and more are .npy
files named by their content's SHA-256 beside the database (`_Blobs`, mapped copy-on-write when
loaded); the model's own NodeProtos and initializers and the ISA table's entries are referenced,
not copied.

Writes are batched into one transaction per compile (WAL journal, `BEGIN IMMEDIATE`, `INSERT OR
IGNORE`); blobs are written under a temporary name and renamed. Concurrent compiles into one folder
are safe. An entry that cannot be loaded (a blob deleted) is a miss. The entries are pickles: a
cache folder is trusted like the code (whoever can write it can run code in the compiler).
"""

from __future__ import annotations

import copyreg
import dataclasses
import gc
import hashlib
import io
import json
import mmap
import os
import pickle
import re
import sqlite3
import struct
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from accel.compiler import plan as planning
from accel.compiler.builder import Allocator, Builder, Region
from accel.compiler.segment import Segment
from accel.isa.encoding import BY_MNEMONIC, Instruction

DB_NAME = "instructions.sqlite"
BLOB_DIR = "blobs"  # large arrays of the model entries (_Blobs)
SMALL_CONST = 16  # constants of at most this many elements are keyed by content (shapes, scalars)
_NAME = re.compile(r"\bt(\d+)\b")
_SEG_FIELDS = {"config", "graph", "index", "builder", "dram", "feeds", "consts", "results", "aliases", "nodes",
               "identity_at", "_n", "keep", "resident"}
_BUILDER_FIELDS = {"config", "lines", "tensors", "tensor_names", "counts", "clocks", "accesses",
                   "semaphores_used", "node", "line_nodes"}
_version: str | None = None
_COLUMNS = {"models": ["key", "ident", "weights", "name", "version", "payload", "blobs", "created", "hits", "used"],
            "graphs": ["key", "ident", "weights", "name", "version", "payload", "blobs", "created", "hits", "used"],
            "segments": ["key", "ident", "name", "version", "payload", "blobs", "created", "hits", "used"]}
MAX_BYTES = 5 << 30  # the folder's size limit when $ACCEL_CACHE_MAX_SIZE does not set one
KEEP_SECONDS = 3600  # an unreferenced blob younger than this may belong to a compile still running
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str) -> int:
    """Bytes of a size such as 500M, 5G or 1048576 (K, M, G, T: powers of 1024)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*", text, re.IGNORECASE)
    if not m:
        raise ValueError(f"size {text!r}: expected a number of bytes with an optional K, M, G or T (e.g. 5G)")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def max_bytes() -> int:
    """The folder's size limit: $ACCEL_CACHE_MAX_SIZE (e.g. 2G), else MAX_BYTES."""
    env = os.environ.get("ACCEL_CACHE_MAX_SIZE")
    try:
        return parse_size(env) if env else MAX_BYTES
    except ValueError as e:
        raise ValueError(f"$ACCEL_CACHE_MAX_SIZE: {e}") from None


def version() -> str:
    """The compiler/ISA version entries are valid for: a hash of the sources that decide what a compile
    gives (accel/compiler, accel/isa, accel/model, accel/timing (reorder.py's judge), the sparsity
    planner, accel/config.py, isa/isa.toml), the package version and the onnx (shape inference,
    folding), numpy and Python versions (the model and segment entries are pickles)."""
    global _version
    if _version is None:
        import accel
        from accel.isa import resources

        root = Path(__file__).resolve().parents[1]
        files = sorted([*(root / "compiler").glob("*.py"), *(root / "isa").glob("*.py"), *(root / "model").glob("*.py"),
                        *(root / "timing").glob("*.py"), root / "tools" / "sparsity.py", root / "config.py",
                        root / "errors.py", resources.ISA_TOML])
        h = hashlib.sha256(f"{accel.__version__} onnx {onnx.__version__} numpy {np.__version__} python "
                           f"{sys.version_info[:3]}".encode())
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


# ------------------------------------------------------------------------------------------ whole models
def _fields(msg: Any, skip: str = "") -> tuple[bytes, Any]:
    """A message's fields as canonical bytes (number, length, value per item) without field `skip`,
    and the value of `skip` (None when unset): one pass, so a tensor's raw data is read once."""
    out, skipped = [], None
    for fd, v in msg.ListFields():
        if fd.name == skip:
            skipped = v
            continue
        for x in (v if fd.is_repeated else [v]):
            b = x.SerializeToString(deterministic=True) if fd.message_type is not None else repr(x).encode()
            out.append(struct.pack("<II", fd.number, len(b)) + b)
    return b"".join(out), skipped


def model_identifier(proto: onnx.ModelProto, config: Any, options: planning.Options, strict: bool,
                     input_shapes: dict[str, tuple[int, ...]] | None) -> tuple[str, str, list[bytes | None]]:
    """The canonical texts that identify a whole compile and the model's import (with the weights
    they name): every field of the model (the graph's structure, its initializers' metadata) in full,
    the input shapes and the version, and for the compile also the CoreConfig, the Options and
    `strict`; an initializer's raw data by its SHA-256 when small, by its length when large
    (WEIGHT_BLOB bytes and more: those are compared byte for byte with the entry's copy,
    `InstructionCache._find`, which is faster than hashing them); and each initializer's raw data
    (None: none), read once."""
    g = proto.graph
    inits, raws = [], []
    for t in g.initializer:
        meta, raw = _fields(t, "raw_data")
        data = None if raw is None else len(raw) if len(raw) >= WEIGHT_BLOB else hashlib.sha256(raw).hexdigest()
        inits.append([meta.hex(), data])
        raws.append(raw)
    model = {"version": version(), "input_shapes": sorted((k, list(v)) for k, v in (input_shapes or {}).items()),
             "model": _fields(proto, "graph")[0].hex(), "graph": _fields(g, "initializer")[0].hex(),
             "initializers": inits}
    whole = {**model, "kind": "model", "config": dataclasses.asdict(config), "options": repr(options), "strict": strict}
    return (json.dumps(whole, sort_keys=True, separators=(",", ":")),
            json.dumps({**model, "kind": "graph"}, sort_keys=True, separators=(",", ":")), raws)


WEIGHT_BLOB = 1 << 16  # initializers of at least this many bytes are kept as blobs and compared, not hashed


def _external(g: onnx.GraphProto) -> bool:
    """Whether a tensor of the graph (an initializer, an attribute, in a subgraph too) still has its
    data in an external file (a ModelProto loaded without its external data): the file's bytes are
    not in the identifier, so such a model is not stored whole."""
    ext = onnx.TensorProto.EXTERNAL
    if any(t.data_location == ext for t in g.initializer):
        return True
    for n in g.node:
        for a in n.attribute:
            if a.HasField("t") and a.t.data_location == ext or any(t.data_location == ext for t in a.tensors):
                return True
            if (a.HasField("g") and _external(a.g)) or any(_external(x) for x in a.graphs):
                return True
    return False


# element types whose array is their raw data as it is (numpy_helper.to_array's frombuffer case)
_PLAIN = {getattr(onnx.TensorProto, n) for n in ("FLOAT", "DOUBLE", "FLOAT16", "BFLOAT16", "BOOL", "INT8", "INT16",
                                                   "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64")}


def _initializer(t: onnx.TensorProto, raw: bytes | None) -> np.ndarray:
    """numpy_helper.to_array(t), from raw data already read (`raw`) where that is what it does."""
    if (raw is not None and sys.byteorder == "little" and t.data_type in _PLAIN
            and t.data_location != onnx.TensorProto.EXTERNAL):
        return np.frombuffer(raw, dtype=onnx.helper.tensor_dtype_to_np_dtype(t.data_type)).reshape(t.dims)
    return numpy_helper.to_array(t)


class _Blobs:
    """Large arrays as .npy files named by the SHA-256 of their dtype, shape and bytes, in `folder`
    (written to a temporary name, then renamed: a reader never sees half a file; equal content, equal
    name, so concurrent writers agree); loaded memory-mapped copy-on-write (writable, never written back)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, a: np.ndarray) -> tuple:
        """Store `a`; its reference: (name, dtype, shape, fortran order, offset of the data in the file)."""
        fortran = a.flags.f_contiguous and not a.flags.c_contiguous
        c = np.asfortranarray(a) if fortran else np.ascontiguousarray(a)
        h = hashlib.sha256(f"{c.dtype.str}{c.shape}{fortran}".encode())
        h.update(c.reshape(-1, order="A").view(np.uint8).data)
        name = h.hexdigest()
        path = self.folder / f"{name}.npy"
        if not path.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    np.save(f, c, allow_pickle=False)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return name, c.dtype.str, c.shape, fortran, path.stat().st_size - c.nbytes

    def get(self, name: str, dtype: str, shape: tuple[int, ...], fortran: bool, offset: int) -> np.ndarray:
        """The array `put` stored, mapped copy-on-write (the .npy header not parsed again: the reference
        says where the data start; a file of another size is an OSError)."""
        dt = np.dtype(dtype)
        n = int(np.prod(shape, dtype=np.int64))
        with open(self.folder / f"{name}.npy", "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size != offset + n * dt.itemsize:
                raise OSError(f"blob {name}: {size} bytes, expected {offset + n * dt.itemsize}")
            if n == 0:
                return np.zeros(shape, dt, order="F" if fortran else "C")
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
        return np.frombuffer(mm, dt, n, offset).reshape(shape, order="F" if fortran else "C")

    def equal(self, ref: tuple, data: bytes) -> bool:
        """Whether the blob `ref` (a `put` of bytes as uint8) holds exactly `data` (8 MB at a time)."""
        a = self.get(*ref)
        if a.nbytes != len(data):
            return False
        b = np.frombuffer(data, np.uint8)
        step = 1 << 23
        return all(np.array_equal(a[k:k + step], b[k:k + step]) for k in range(0, len(data), step))


BLOB_MIN = 1 << 16  # arrays of at least this many bytes go to blobs; smaller ones stay in the pickle


def _ref(kind: str, ref: Any) -> Any:
    """Stands for a reference in a stored pickle; _Unpickler.find_class resolves it to its own loader."""
    raise pickle.UnpicklingError(f"a stored compile's {kind} reference read outside the instruction database")


_INSTRUCTION_FIELDS = tuple(f.name for f in dataclasses.fields(Instruction))


class _Pickler(pickle.Pickler):
    """Pickles a compile's objects with shared parts by reference (a reduction per type, so the
    other objects cost nothing extra): instructions with their ISA table entry by mnemonic (an
    assembled instruction's `spec` is the table's own dict, and stays so), large arrays as blobs,
    and with a model (`proto`, `graph`) its NodeProtos and the arrays equal to an initializer by
    position."""

    def __init__(self, file: io.BytesIO, blobs: _Blobs, proto: onnx.ModelProto | None = None,
                 graph: Any = None) -> None:
        super().__init__(file, protocol=5)
        self.blobs, self.names = blobs, []
        self.dispatch_table = {**copyreg.dispatch_table, np.ndarray: self._array, Instruction: self._instruction,
                               onnx.NodeProto: self._node}
        nodes = list(proto.graph.node) if proto is not None else []
        self.nodes = {id(n): k for k, n in enumerate(nodes)}
        self.keep: list[Any] = nodes  # what an id refers to stays alive, so the id stays its own
        self.inits: dict[int, int] = {}
        if proto is not None:
            last = {t.name: k for k, t in enumerate(proto.graph.initializer)}  # a later duplicate wins, as in import
            for name, k in last.items():
                v = graph.values.get(name)
                if v is None or v.data is None:
                    continue
                fresh = numpy_helper.to_array(proto.graph.initializer[k])
                if (v.data.dtype == fresh.dtype and v.data.shape == fresh.shape and v.data.flags.c_contiguous
                        and np.array_equal(v.data.reshape(-1).view(np.uint8), fresh.reshape(-1).view(np.uint8))):
                    self.inits[id(v.data)] = k

    def _array(self, a: np.ndarray) -> tuple:
        if id(a) in self.inits:
            return _ref, ("init", self.inits[id(a)])
        if a.nbytes >= BLOB_MIN and not a.dtype.hasobject and a.dtype.isnative:
            ref = self.blobs.put(a)
            self.names.append(ref[0])
            return _ref, ("blob", ref)
        return a.__reduce_ex__(5)

    def _instruction(self, ins: Instruction) -> tuple:
        values = [getattr(ins, f) for f in _INSTRUCTION_FIELDS]
        mn = ins.spec.get("mnemonic")
        if BY_MNEMONIC.get(mn) is ins.spec:
            values[0] = mn
        return _ref, ("instruction", tuple(values))

    def _node(self, n: onnx.NodeProto) -> tuple:
        if id(n) in self.nodes:
            return _ref, ("node", self.nodes[id(n)])
        return n.__reduce_ex__(5)


class _Unpickler(pickle.Unpickler):
    """Loads what _Pickler stored, its references resolved in the ISA table, this compile's model
    (`raws`: each initializer's raw data, as model_identifier read it) and the blobs."""

    def __init__(self, file: io.BytesIO, blobs: _Blobs, proto: onnx.ModelProto | None = None,
                 raws: list[bytes | None] | None = None) -> None:
        super().__init__(file)
        self.proto, self.raws, self.blobs = proto, raws, blobs

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == "_ref":
            return self.resolve
        return super().find_class(module, name)

    def resolve(self, kind: str, ref: Any) -> Any:
        if kind == "instruction":
            spec = BY_MNEMONIC[ref[0]] if type(ref[0]) is str else ref[0]
            return Instruction(spec, *ref[1:])
        if kind == "blob":
            return self.blobs.get(*ref)
        if kind == "node" and self.proto is not None:
            return self.proto.graph.node[ref]
        if kind == "init" and self.proto is not None:
            return _initializer(self.proto.graph.initializer[ref], self.raws[ref])
        raise pickle.UnpicklingError(f"unknown reference {kind}")


def _dumps(obj: Any, blobs: _Blobs, proto: onnx.ModelProto | None = None, graph: Any = None) -> tuple[bytes, list[str]]:
    """`obj` pickled by _Pickler and compressed; the names of the blobs it refers to."""
    f = io.BytesIO()
    p = _Pickler(f, blobs, proto, graph)
    p.dump(obj)
    return zlib.compress(f.getvalue(), 1), p.names


def _loads(payload: bytes, blobs: _Blobs, proto: onnx.ModelProto | None = None,
           raws: list[bytes | None] | None = None) -> Any:
    """What _dumps stored. The cyclic garbage collector is off meanwhile (as in the assembler): the
    load makes many objects and no garbage, and each collection would walk every live object."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _Unpickler(io.BytesIO(zlib.decompress(payload)), blobs, proto, raws).load()
    finally:
        if enabled:
            gc.enable()


def segment_identifier(seg: Segment, listing: str, reorder: bool) -> str:
    """The canonical text that identifies what finishing a segment gives (its program, reordered or
    not): the listing and each instruction's node in full, the CoreConfig, Options.reorder, the version."""
    head = json.dumps({"kind": "segment", "version": version(), "config": dataclasses.asdict(seg.config),
                       "reorder": reorder}, sort_keys=True)
    return "\0".join([head, listing, "\n".join(seg.builder.line_nodes)])


# ------------------------------------------------------------------------------------------ the database
@dataclass
class CacheStats:
    """Per compile: node hits (found and applied; with a whole-model hit every core node counts as
    found), misses (lowered, then stored unless uncacheable), lookups that found entries whose emit
    stream differed (mismatches: lowered as a miss); the whole-model and segment entries."""

    hits: int = 0
    misses: int = 0
    mismatches: int = 0
    uncacheable: int = 0
    disabled: str = ""
    model: str = ""  # the whole-model entry: "hit", "stored", "miss" (not storable: the reason), "" (not looked up)
    graph: str = ""  # the import's entry (after a whole-model miss): "hit", "stored", ""
    segment_hits: int = 0  # segments whose program (reordered) came from the database
    segment_misses: int = 0
    broken: int = 0  # entries found but not loadable (a blob deleted, a damaged pickle): treated as misses

    @property
    def hit_rate(self) -> float:
        n = self.hits + self.misses
        return self.hits / n if n else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "hit_rate": self.hit_rate}


class InstructionCache:
    """The database in `folder` (default: the user's cache folder). `digest` maps an identifier to
    its key (SHA-256; tests pass a colliding one)."""

    def __init__(self, folder: str | Path | None = None, digest: Callable[[str], str] | None = None,
                 limit: int | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_dir()
        self.limit = max_bytes() if limit is None else limit  # bytes the folder may hold (see prune)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / DB_NAME
        self.db = sqlite3.connect(self.path, timeout=120, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        for table, columns in _COLUMNS.items():  # a table of an older layout holds nothing this one reads
            have = [r[1] for r in self.db.execute(f"PRAGMA table_info({table})")]
            if have and have != columns:
                self.db.execute(f"DROP TABLE {table}")
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS nodes (key TEXT, ident TEXT, stream TEXT, op TEXT, version TEXT, "
            "payload BLOB, created REAL, hits INTEGER DEFAULT 0, PRIMARY KEY (key, ident, stream));"
            "CREATE TABLE IF NOT EXISTS tuning (key TEXT PRIMARY KEY, choice TEXT, created REAL);"
            "CREATE TABLE IF NOT EXISTS models (key TEXT, ident BLOB, weights TEXT, name TEXT, version TEXT, "
            "payload BLOB, blobs TEXT, created REAL, hits INTEGER DEFAULT 0, used REAL, "
            "PRIMARY KEY (key, ident, weights));"
            "CREATE TABLE IF NOT EXISTS graphs (key TEXT, ident BLOB, weights TEXT, name TEXT, version TEXT, "
            "payload BLOB, blobs TEXT, created REAL, hits INTEGER DEFAULT 0, used REAL, "
            "PRIMARY KEY (key, ident, weights));"
            "CREATE TABLE IF NOT EXISTS segments (key TEXT, ident BLOB, name TEXT, version TEXT, payload BLOB, "
            "blobs TEXT, created REAL, hits INTEGER DEFAULT 0, used REAL, PRIMARY KEY (key, ident));")
        self.blobs = _Blobs(self.folder / BLOB_DIR)
        self.digest = digest or (lambda s: hashlib.sha256(s.encode()).hexdigest())
        self.stats = CacheStats()
        self._writes: list[tuple[str, tuple]] = []
        self._fresh: dict[tuple[str, str], list[tuple[str, bytes]]] = {}  # stored by this compile, not yet written
        self._model: tuple | None = None  # this compile's model key, identifier (compressed), proto
        self._graph: tuple | None = None  # its import's key and identifier
        self._imported: Any = None  # the Graph found for it
        self._refs: list[tuple] | None = None  # blobs of its large initializers

    def begin(self) -> None:
        """Start a compile: its statistics from zero."""
        self.stats = CacheStats()
        self._model = self._graph = self._imported = self._refs = None

    # ------------------------------------------------------------------ whole models
    def compiled(self, proto: onnx.ModelProto, config: Any, options: planning.Options, strict: bool,
                 input_shapes: dict[str, tuple[int, ...]] | None) -> Any:
        """The CompiledModel stored for exactly this model (structure and weights), config, options
        and version, or None: then `imported` gives the Graph stored for this model's import, if
        any, and `store_imported` / `store_compiled` store this compile's."""
        if _external(proto.graph):
            self.stats.model = "not used (tensors in external files the identifier cannot see)"
            return None
        ident, gident, raws = model_identifier(proto, config, options, strict, input_shapes)
        big = [k for k, r in enumerate(raws) if r is not None and len(r) >= WEIGHT_BLOB]
        self._model = (self.digest(ident), zlib.compress(ident.encode(), 1), proto)
        self._graph = (self.digest(gident), zlib.compress(gident.encode(), 1))
        found = self._find("models", *self._model[:2], proto, raws, big)
        if found is not None:
            cm, _ = found
            self.stats.model, self.stats.hits = "hit", sum(p.where == "core" for p in cm.placements)
            return cm
        self.stats.model = "miss"
        found = self._find("graphs", *self._graph, proto, raws, big)
        if found is not None:
            self._imported, weights = found
            self._refs = [tuple(r) for r in json.loads(weights)]
            self.stats.graph = "hit"
        return None  # the raw data is read again when storing: not held through the compile

    def _find(self, table: str, key: str, packed: bytes, proto: onnx.ModelProto, raws: list[bytes | None],
              big: list[int]) -> tuple[Any, str] | None:
        """The object stored in `table` under this identifier whose copies of the large initializers
        (`big`: their positions) equal this model's byte for byte, and its row's weights; None."""
        rows = self.db.execute(f"SELECT weights, payload FROM {table} WHERE key = ? AND ident = ?", (key, packed))
        for weights, payload in rows.fetchall():
            try:
                refs = [tuple(r) for r in json.loads(weights)]
                if len(refs) != len(big) or not all(
                        self.blobs.equal(r, raws[k]) for r, k in zip(refs, big, strict=True)):
                    continue  # the same model with other weights
                obj = _loads(payload, self.blobs, proto, raws)
            except (OSError, EOFError, ValueError, zlib.error, pickle.UnpicklingError, AttributeError, IndexError,
                    KeyError, TypeError):
                self.stats.broken += 1  # a blob deleted under it, a damaged row: compile as without it
                continue
            self._writes.append((f"UPDATE {table} SET hits = hits + 1, used = ? WHERE key = ? AND ident = ? "
                                 "AND weights = ?", (time.time(), key, packed, weights)))
            return obj, weights
        return None

    def imported(self) -> Any:
        """The Graph `compiled` found stored for this model's import (a fresh copy), or None."""
        graph, self._imported = self._imported, None
        return graph

    def _weight_refs(self, proto: onnx.ModelProto) -> list[tuple]:
        """Blobs of the model's large initializers' raw data (read again one at a time, so the
        copies are never all in memory at once); once per compile."""
        if self._refs is None:
            self._refs = []
            for t in proto.graph.initializer:
                raw = _fields(t, "raw_data")[1]
                if raw is not None and len(raw) >= WEIGHT_BLOB:
                    self._refs.append(self.blobs.put(np.frombuffer(raw, np.uint8)))
        return self._refs

    def _store(self, table: str, key: str, packed: bytes, proto: onnx.ModelProto, obj: Any, graph: Any,
               name: str) -> str:
        """Store `obj` (a CompiledModel, a Graph) under an identifier of `compiled`: 'stored', or why not."""
        try:
            payload, names = _dumps(obj, self.blobs, proto, graph)
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            return f"miss (not storable: {type(e).__name__}: {e})"
        refs = self._weight_refs(proto)
        self._writes.append((f"INSERT OR IGNORE INTO {table} (key, ident, weights, name, version, payload, blobs, "
                             "created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (key, packed, json.dumps(refs), name, version(), payload,
                              " ".join(sorted(set(names + [r[0] for r in refs]))), time.time())))
        return "stored"

    def store_imported(self, graph: Any) -> None:
        """Store the Graph import_onnx gave for this model (before placement changes it)."""
        if self._model is not None and self._graph is not None:
            self.stats.graph = self._store("graphs", *self._graph, self._model[2], graph, graph, graph.name)

    def store_compiled(self, cm: Any) -> None:
        """Store a compile's CompiledModel under the identifier `compiled` computed, with copies of
        the model's large weights (all large arrays as blobs)."""
        if self._model is None:
            return
        key, packed, proto = self._model
        stats, cm.cache_stats = cm.cache_stats, None
        try:
            self.stats.model = self._store("models", key, packed, proto, cm, cm.graph, cm.graph.name)
        finally:
            cm.cache_stats = stats

    # ------------------------------------------------------------------ segments (assembly and reorder.py)
    def finished(self, seg: Segment, ident: str) -> dict[str, Any] | None:
        """What finishing a segment gave for this identifier (segment_identifier): its program, the
        reordered builder (None: the order was kept), cycles before and after; None when not stored."""
        key, packed = self.digest(ident), zlib.compress(ident.encode(), 1)
        for (payload,) in self.db.execute("SELECT payload FROM segments WHERE key = ? AND ident = ?", (key, packed)):
            try:
                out = _loads(payload, self.blobs)
            except (OSError, EOFError, ValueError, zlib.error, pickle.UnpicklingError, AttributeError, KeyError):
                self.stats.broken += 1
                continue
            self.stats.segment_hits += 1
            self._writes.append(("UPDATE segments SET hits = hits + 1, used = ? WHERE key = ? AND ident = ?",
                                 (time.time(), key, packed)))
            return out
        self.stats.segment_misses += 1
        return None

    def store_finished(self, seg: Segment, ident: str, result: dict[str, Any]) -> None:
        """Store what finishing a segment gave (see `finished`)."""
        key, packed = self.digest(ident), zlib.compress(ident.encode(), 1)
        payload, names = _dumps(result, self.blobs)
        name = f"segment {seg.index} ({len(seg.nodes)} nodes)"
        self._writes.append(("INSERT OR IGNORE INTO segments (key, ident, name, version, payload, blobs, created) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (key, packed, name, version(), payload, " ".join(sorted(set(names))), time.time())))

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
        stored = any(sql.startswith("INSERT") for sql, _ in self._writes)
        self._writes, self._fresh = [], {}
        if stored and self._bytes() > self.limit:
            self.prune()

    def _bytes(self) -> int:
        """Bytes the folder holds: the database's pages in use and the blobs."""
        pages, free, size = (self.db.execute(f"PRAGMA {p}").fetchone()[0]
                             for p in ("page_count", "freelist_count", "page_size"))
        blobs = self.blobs.folder.glob("*.npy") if self.blobs.folder.is_dir() else []
        return (pages - free) * size + sum(self._blob_size(p.stem) for p in blobs)

    def prune(self, limit: int | None = None) -> dict[str, int]:
        """Bring the folder under `limit` bytes (default: self.limit, $ACCEL_CACHE_MAX_SIZE or 5 GiB):
        entries of another version first (no compile can find them again), then model, graph and
        segment entries least recently used first, each with the blobs no other entry names; blobs
        that no entry names and older than KEEP_SECONDS (a compile that stopped before storing its
        entry) too. A compile running meanwhile that was about to name a deleted blob finds it
        missing later, a miss. Node entries (small) go only with their version; tuning choices stay.
        What was deleted and the bytes before and after."""
        limit = self.limit if limit is None else limit
        out = {"entries": 0, "blobs": 0, "bytes_before": self._bytes()}
        if out["bytes_before"] > limit:
            self.db.execute("BEGIN IMMEDIATE")
            out["entries"] += sum(self.db.execute(f"DELETE FROM {t} WHERE version != ?", (version(),)).rowcount
                                  for t in ("nodes", "segments", "graphs", "models"))
            self.db.execute("COMMIT")
        named: dict[str, int] = {}
        for t in ("models", "graphs", "segments"):
            for (blobs,) in self.db.execute(f"SELECT blobs FROM {t}"):
                for b in (blobs or "").split():
                    named[b] = named.get(b, 0) + 1
        now = time.time()
        for p in (self.blobs.folder.glob("*.npy") if self.blobs.folder.is_dir() else []):
            if p.stem not in named and now - p.stat().st_mtime > KEEP_SECONDS:
                p.unlink(missing_ok=True)
                out["blobs"] += 1
        lru = ("SELECT * FROM (SELECT 'models', rowid, blobs, coalesce(used, created) FROM models UNION ALL "
               "SELECT 'graphs', rowid, blobs, coalesce(used, created) FROM graphs UNION ALL "
               "SELECT 'segments', rowid, blobs, coalesce(used, created) FROM segments) ORDER BY 4 LIMIT 1")
        while self._bytes() > limit:
            row = self.db.execute(lru).fetchone()
            if row is None:
                break
            table, rowid, blobs, _ = row
            self.db.execute(f"DELETE FROM {table} WHERE rowid = ?", (rowid,))
            out["entries"] += 1
            for b in (blobs or "").split():
                named[b] -= 1
                if not named[b]:
                    (self.blobs.folder / f"{b}.npy").unlink(missing_ok=True)
                    out["blobs"] += 1
        out["bytes_after"] = self._bytes()
        return out

    def close(self) -> None:
        self.flush()
        self.db.close()

    def entries(self) -> list[dict[str, Any]]:
        """Every stored entry: kind (node, segment, graph, model), operator or name, version, hits,
        bytes in the database (a graph's or model's blobs: blob_bytes), when stored."""
        out = []
        for kind, sql in (("node", "SELECT op, version, hits, length(payload) + length(ident) + length(stream), "
                                   "created, '' FROM nodes"),
                          ("segment", "SELECT name, version, hits, length(payload) + length(ident), created, '' "
                                      "FROM segments"),
                          ("graph", "SELECT name, version, hits, length(payload) + length(ident), created, blobs "
                                    "FROM graphs"),
                          ("model", "SELECT name, version, hits, length(payload) + length(ident), created, blobs "
                                    "FROM models")):
            for op, ver, hits, size, created, blobs in self.db.execute(sql):
                row = {"kind": kind, "op": op, "version": ver, "hits": hits, "bytes": size, "created": created}
                if kind in ("graph", "model"):
                    row["blob_bytes"] = sum(self._blob_size(b) for b in blobs.split())
                out.append(row)
        return sorted(out, key=lambda r: r["created"])

    def _blob_size(self, name: str) -> int:
        try:
            return (self.blobs.folder / f"{name}.npy").stat().st_size
        except OSError:
            return 0

    def summary(self) -> dict[str, Any]:
        """Entries (all, of this version; per kind), recorded hits, size on disk (database and blobs)."""
        cur = version()
        out: dict[str, Any] = {"path": str(self.path), "version": cur, "entries": 0, "current_version": 0, "hits": 0,
                               "kinds": {}}
        for kind, table in (("node", "nodes"), ("segment", "segments"), ("graph", "graphs"), ("model", "models")):
            n, h, nc = self.db.execute(f"SELECT count(*), coalesce(sum(hits), 0), coalesce(sum(version = ?), 0) "
                                       f"FROM {table}", (cur,)).fetchone()
            out["kinds"][kind] = {"entries": n, "current_version": nc, "hits": h}
            out["entries"] += n
            out["current_version"] += nc
            out["hits"] += h
        out["kinds"]["tuning"] = {"entries": self.db.execute("SELECT count(*) FROM tuning").fetchone()[0]}
        blobs = list(self.blobs.folder.glob("*.npy")) if self.blobs.folder.is_dir() else []
        out["database_bytes"] = sum(p.stat().st_size for p in self.folder.glob(DB_NAME + "*"))
        out["blobs"], out["blob_bytes"] = len(blobs), sum(p.stat().st_size for p in blobs)
        out["bytes"] = out["database_bytes"] + out["blob_bytes"]
        out["limit"] = self.limit
        return out

    def clear(self) -> int:
        """Delete every entry (nodes, segments, graphs, models, tuning choices) and every blob; the
        number of node, segment, graph and model entries deleted."""
        self.db.execute("BEGIN IMMEDIATE")
        n = sum(self.db.execute(f"DELETE FROM {t}").rowcount for t in ("nodes", "segments", "graphs", "models"))
        self.db.execute("DELETE FROM tuning")
        self.db.execute("COMMIT")
        self.db.execute("VACUUM")
        if self.blobs.folder.is_dir():
            for p in self.blobs.folder.iterdir():
                p.unlink(missing_ok=True)
        return n


def _unsupported(seg: Segment) -> str:
    """Why the cache cannot capture this segment's state ('' when it can): a Segment or Builder field
    it does not know (added after it was written) could carry state the identifier misses."""
    fs = {f.name for f in dataclasses.fields(seg)}
    fb = {f.name for f in dataclasses.fields(seg.builder)}
    if fs != _SEG_FIELDS or fb != _BUILDER_FIELDS:
        return f"Segment/Builder fields {sorted((fs ^ _SEG_FIELDS) | (fb ^ _BUILDER_FIELDS))} are not captured"
    return ""

