"""Static checks of a program against the machine it will run on.

Everything about a program that does not depend on data is checked here, before it runs:
operand spaces, types and ranges, every access pattern inside its memory (SBUF/PSUM partitions
and bytes of the configured sizes, DRAM patterns inside their tensor), operand shapes that must
agree, semaphores that exist, `act.func` ids that are built in or loaded earlier on the ACT
queue, and DRAM tensors that fit the configured DRAM. The assembler runs these checks as it
reads each instruction (errors get file:line:column), `Program.from_bytes` runs them on a binary
(errors name the instruction by index and mnemonic), and `Core.load` runs them on any Program.
The emulator keeps its own run-time checks; they are the definition, these report earlier.

`limits` is duck-typed: any object with CoreConfig's size fields (accel.machine.CoreConfig, or
None for the defaults of isa/isa.toml), so this layer does not import the machine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from accel.isa._table import TABLE
from accel.isa.operands import AP, DTYPES, ROLES, SPACES, DramAP, Tensor

# Function ids of act.func: the ROM's built-ins by number, then the user RAM slots.
BUILTIN_FUNCTIONS = ("exp", "log", "sigmoid", "tanh", "gelu", "gelu_tanh", "silu", "softplus", "rsqrt",
                     "reciprocal", "sqrt", "sin", "cos")
USER_SLOTS = range(16, 32)
DEFAULT_DRAM_BYTES = 1 << 32  # CoreConfig.dram_bytes: what all DRAM tensors of a program may hold together
MAX_DIM = (1 << 32) - 1  # a tensor dimension is a 32-bit field of the binary
MAX_NAME = 255  # a tensor name's length is one byte of the binary
MAX_RANK = 255  # so is its rank
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MATMUL_OUT = {"int8": "int32", "bf16": "fp32"}


class CheckError(ValueError):
    """A static check failed: the message, the instruction's index (None for the tensor table),
    the operand at fault (None for the whole instruction) and the tensor's index (tensor table)."""

    def __init__(self, msg: str, index: int | None = None, operand: str | None = None,
                 tensor: int | None = None) -> None:
        super().__init__(msg)
        self.msg, self.index, self.operand, self.tensor = msg, index, operand, tensor


@dataclass(frozen=True)
class Limits:
    """The sizes the checks need, read from a CoreConfig-like object (defaults: isa/isa.toml)."""

    sbuf_partitions: int
    sbuf_partition_bytes: int
    psum_partitions: int
    psum_partition_bytes: int
    psum_banks: int
    semaphores: int
    pe_rows: int
    pe_cols: int
    dram_bytes: int

    @classmethod
    def of(cls, config: Any = None) -> Limits:
        """The limits of `config` (any object with CoreConfig's fields; None: the defaults)."""
        if isinstance(config, Limits):
            return config
        units = TABLE["units"]
        values = {}
        for name in cls.__dataclass_fields__:
            default = DEFAULT_DRAM_BYTES if name == "dram_bytes" else units[name]
            values[name] = default if config is None else getattr(config, name, default)
        return cls(**values)

    def space(self, space: str) -> tuple[int, int]:
        """(partitions, bytes per partition) of an on-chip memory."""
        if space == "sb":
            return self.sbuf_partitions, self.sbuf_partition_bytes
        return self.psum_partitions, self.psum_partition_bytes


def _shape(ap: AP) -> str:
    return f"[{ap.pcount} partitions x {ap.free_size}]"


def _span(offset: int, dims: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """Smallest and largest element index a pattern reaches from `offset`."""
    lo = hi = offset
    for n, s in dims:
        lo += min(0, (n - 1) * s)
        hi += max(0, (n - 1) * s)
    return lo, hi


def ap_bounds(ap: AP, limits: Limits) -> str | None:
    """Why an on-chip pattern leaves its memory (the emulator's own wording), or None."""
    size = DTYPES[ap.dtype]["bytes"]
    nparts, nbytes = limits.space(ap.space)
    if ap.offset % size:
        return f"{ap}: byte offset {ap.offset} is not aligned to {ap.dtype} ({size} bytes)"
    if ap.pstart + ap.pcount > nparts:
        return (f"{ap}: partitions {ap.pstart}..{ap.pstart + ap.pcount - 1} outside "
                f"{ap.space}'s 0..{nparts - 1}")
    lo, hi = _span(ap.offset // size, ap.dims)
    if lo < 0 or (hi + 1) * size > nbytes:
        return f"{ap}: bytes {lo * size}..{(hi + 1) * size - 1} outside {ap.space}'s partition bytes 0..{nbytes - 1}"
    return None


def dram_bounds(t: Tensor, d: DramAP, pcount: int) -> str | None:
    """Why a DRAM pattern of `pcount` partitions leaves its tensor, or None."""
    lo, hi = _span(d.offset, ((pcount, d.pstride),) + d.dims)
    if lo < 0 or hi >= t.size:
        return f"pattern reaches elements {lo}..{hi} of tensor {t.name}, which has {t.size} (0..{t.size - 1})"
    return None


def check_tensor(t: Tensor, k: int, seen: set[str]) -> None:
    """One declaration (number `k`) on its own; `seen` holds the names declared before it."""
    if not NAME_RE.fullmatch(t.name) or len(t.name) > MAX_NAME:
        raise CheckError(f"tensor {k}: name {t.name!r} is not an identifier of at most {MAX_NAME} characters",
                         tensor=k)
    if t.name in SPACES:
        raise CheckError(f"tensor {k}: {t.name!r} names an on-chip memory", tensor=k)
    if t.name in seen:
        raise CheckError(f"tensor {t.name!r} is declared twice", tensor=k)
    if t.dtype not in DTYPES or t.role not in ROLES:
        raise CheckError(f"tensor {t.name}: element type {t.dtype!r} / role {t.role!r} is not defined", tensor=k)
    if not 1 <= len(t.shape) <= MAX_RANK:
        raise CheckError(f"tensor {t.name}: rank {len(t.shape)}, allowed 1..{MAX_RANK}", tensor=k)
    bad = [n for n in t.shape if not 1 <= n <= MAX_DIM]
    if bad:
        raise CheckError(f"tensor {t.name}: dimension {bad[0]}, allowed 1..{MAX_DIM}", tensor=k)


class Checker:
    """Checks instructions one by one in program order (the ACT queue's loaded tables are state).

    Every instruction must be well formed: operand spaces, element types, alignment, ranges and
    tensor numbers that the assembler's syntax allows. Instructions after the first `halt` are
    never dispatched, so the checks of what the machine would do (bounds, shapes, semaphores,
    functions) apply to the instructions before it only, as the emulator's run-time checks do.
    """

    def __init__(self, limits: Any = None) -> None:
        self.tensors: list[Tensor] = []
        self.limits = Limits.of(limits)
        self.loaded: set[int] = set()  # user slots an earlier act.lut.load fills
        self.dram_bytes = 0  # what the tensors declared so far take
        self.halted = False  # a halt came before: what follows is never dispatched
        self._verdicts: dict[tuple[int, int], tuple[AP, str | None, str | None]] = {}  # _ap's, by identity

    def tensor(self, t: Tensor) -> None:
        """Declare the next tensor; CheckError(tensor=its number) if it is invalid or overflows DRAM."""
        k = len(self.tensors)
        check_tensor(t, k, {u.name for u in self.tensors})
        self.dram_bytes += t.size * DTYPES[t.dtype]["bytes"]
        if self.dram_bytes > self.limits.dram_bytes:
            raise CheckError(f"tensor {t.name} ({t.dtype}[{', '.join(map(str, t.shape))}]) brings the program's "
                             f"DRAM tensors to {self.dram_bytes:,} bytes; the configured DRAM holds "
                             f"{self.limits.dram_bytes:,} (CoreConfig.dram_bytes)", tensor=k)
        self.tensors.append(t)

    def instruction(self, ins: Any, index: int | None = None) -> None:
        """Raise CheckError(msg, index, operand) if the instruction cannot run on these limits."""
        try:
            self._operands(ins)
            if not self.halted:
                self._shapes(ins)
        except CheckError as e:
            e.index = index
            raise
        self.repeat(ins)

    def repeat(self, ins: Any) -> None:
        """An instruction equal to one that passed `instruction` earlier in this program: it passes again,
        since the state only ever weakens the checks in program order (tables get loaded, tensors
        declared, and a halt drops the run-time checks), so only its effect on that state applies."""
        mn = ins.spec["mnemonic"]
        if mn == "act.lut.load":
            self.loaded.add(ins.ops["fn"])
        elif mn == "halt":
            self.halted = True

    # ------------------------------------------------------------------ one operand at a time
    def _operands(self, ins: Any) -> None:
        lim, ops = self.limits, ins.ops
        for name, kind, o, rng, pattern in _operand_plan(ins.spec):
            v = ops[name]
            t = type(v)
            if pattern:  # ap, bias, dram: only a pattern value has checks
                if t is AP:
                    self._ap(ins, o, v)
                elif t is DramAP:
                    self._dram(ins, name, v)
                elif t is not int and isinstance(v, AP | DramAP):  # a subclass
                    self._ap(ins, o, v) if isinstance(v, AP) else self._dram(ins, name, v)
                continue
            if kind == "sem" and not self.halted and not 0 <= v < lim.semaphores:
                raise CheckError(f"semaphore s{v} does not exist (s0..s{lim.semaphores - 1})", operand=name)
            if rng is not None:
                if kind in ("uint", "flag") and not rng[0] <= v <= rng[1]:
                    raise CheckError(f"{name} = {v}: allowed {rng[0]}..{rng[1]}", operand=name)
            if kind == "flag" and v not in (0, 1):
                raise CheckError(f"{name} = {v}: expected 0 or 1", operand=name)
            if kind == "f32" and rng is not None:
                value = float(np.array([v], dtype=np.uint32).view(np.float32)[0])
                if not rng[0] <= value <= rng[1]:  # NaN fails too
                    raise CheckError(f"{name} = {value}: allowed {rng[0]}..{rng[1]}", operand=name)
            if t is AP:
                self._ap(ins, o, v)
            elif t is DramAP:
                self._dram(ins, name, v)
            elif t is not int and isinstance(v, AP | DramAP):  # a subclass
                self._ap(ins, o, v) if isinstance(v, AP) else self._dram(ins, name, v)

    def _ap(self, ins: Any, o: dict, ap: AP) -> None:
        """The pattern's own checks (space, type, alignment, bias form, then bounds unless after halt),
        each verdict worked out once per (operand, pattern object): programs repeat patterns."""
        key = (id(o), id(ap))
        hit = self._verdicts.get(key)
        if hit is None or hit[0] is not ap:
            if len(self._verdicts) >= _VERDICTS:
                self._verdicts.clear()
            form = _ap_form(ins.mnemonic, o, ap)
            hit = self._verdicts[key] = (ap, form, None if form else ap_bounds(ap, self.limits))
        _, form, bounds = hit
        name = o["name"]
        if form:
            raise CheckError(form, operand=name)
        if self.halted:
            return
        if o["kind"] == "bias" and ap.pcount != ins.ops["src"].pcount:
            raise CheckError(f"bias has {ap.pcount} partitions, src {ins.ops['src'].pcount}", operand=name)
        if bounds:
            raise CheckError(bounds, operand=name)

    def _dram(self, ins: Any, name: str, d: DramAP) -> None:
        if d.tensor >= len(self.tensors):
            raise CheckError(f"tensor number {d.tensor}, but the program declares {len(self.tensors)}", operand=name)
        if self.halted:
            return
        t = self.tensors[d.tensor]
        ap = ins.ops["src" if name == "dst" else "dst"]
        if t.dtype != ap.dtype:
            raise CheckError(f"tensor {t.name} holds {t.dtype} but the SBUF side is {ap.dtype}; "
                             "DMA copies bits (use vec.cast to convert)", operand=name)
        if d.free_size != ap.free_size:
            raise CheckError(f"DRAM side has {d.free_size} elements per partition, SBUF side {ap.free_size}",
                             operand=name)
        why = dram_bounds(t, d, ap.pcount)
        if why:
            raise CheckError(why, operand=name)

    # ------------------------------------------------------------------ operands that must agree
    def _shapes(self, ins: Any) -> None:
        mn, ops = ins.mnemonic, ins.ops
        rule = _SHAPE_RULES.get(mn)
        if rule is not None:
            rule(self, ins, ops)
        elif mn in _SAME_SHAPE:
            same_shape(ops, _SAME_SHAPE[mn])

    def _reduce(self, ins: Any, ops: dict) -> None:
        dst, src = ops["dst"], ops["src"]
        last = src.dims[-1][0]
        if dst.pcount != src.pcount or dst.free_size * last != src.free_size:
            raise CheckError(f"dst holds [{dst.pcount} x {dst.free_size}] but reducing src [{src.pcount} x "
                             f"{src.free_size}] over its last dim ({last}) gives [{src.pcount} x "
                             f"{src.free_size // last}]", operand="dst")

    def _copy(self, ins: Any, ops: dict) -> None:
        same_shape(ops, ("dst", "src"))
        if ops["dst"].dtype != ops["src"].dtype:
            raise CheckError(f"vec.copy copies bits between equal types, got {ops['src'].dtype} -> "
                             f"{ops['dst'].dtype}; use vec.cast", operand="dst")

    def _func(self, ins: Any, ops: dict) -> None:
        same_shape(ops, ("dst", "src"))
        fn = ops["fn"]
        if fn >= len(BUILTIN_FUNCTIONS) and fn not in self.loaded:
            raise CheckError(not_loaded(fn), operand="fn")

    def _matmul(self, ins: Any, ops: dict) -> None:
        dst, src = ops["dst"], ops["src"]
        want = _MATMUL_OUT[src.dtype]
        if dst.dtype != want:
            raise CheckError(f"a {src.dtype} matmul writes {want} to PSUM, dst is {dst.dtype}", operand="dst")
        if ins.mnemonic == "pe.matmul" and dst.free_size != src.free_size:
            raise CheckError(f"dst holds {dst.free_size} elements per partition, moving data M = {src.free_size}",
                             operand="dst")
        size = DTYPES[dst.dtype]["bytes"]
        bank = self.limits.psum_partition_bytes // self.limits.psum_banks
        lo, hi = _span(dst.offset // size, dst.dims)
        first, last = lo * size // bank, ((hi + 1) * size - 1) // bank
        if first != last:
            raise CheckError(f"{dst}: crosses PSUM banks {first} and {last} (bank = {bank} bytes per partition)",
                             operand="dst")

    def _load_weights(self, ins: Any, ops: dict) -> None:
        src, lim = ops["src"], self.limits
        if src.pcount > lim.pe_rows or src.free_size > lim.pe_cols:
            raise CheckError(f"weights [{src.pcount} x {src.free_size}] do not fit the {lim.pe_rows} x "
                             f"{lim.pe_cols} PE array", operand="src")

    def _load_sparse(self, ins: Any, ops: dict) -> None:
        if not 1 <= ops["n"] < ops["m"]:
            raise CheckError(f"pattern {ops['n']}:{ops['m']}: need 1 <= N < M", operand="n")

    def _lanes(self, ap: AP, name: str) -> None:
        lanes = self.limits.sbuf_partitions
        if ap.pstart + ap.pcount > lanes:
            raise CheckError(f"partitions {ap.pstart}..{ap.pstart + ap.pcount - 1} have no RNG lane "
                             f"(lanes 0..{lanes - 1})", operand=name)

    def _get_offset(self, ins: Any, ops: dict) -> None:
        dst = ops["dst"]
        if (dst.pcount, dst.free_size) != (1, 2):
            raise CheckError(f"dst holds [{dst.pcount} x {dst.free_size}], the offset needs [1 x 2] ([lo, hi])",
                             operand="dst")

    def _state(self, ins: Any, ops: dict) -> None:
        name = "dst" if "dst" in ops else "src"
        ap = ops[name]
        if ap.free_size != 4:
            raise CheckError(f"{name} holds {ap.free_size} elements per partition, a lane state needs 4", operand=name)
        self._lanes(ap, name)

    def _fill(self, ins: Any, ops: dict) -> None:
        if ops["gen"]:
            self._lanes(ops["dst"], "dst")

    def _dropout(self, ins: Any, ops: dict) -> None:
        same_shape(ops, ("dst", "src"))
        src = ops["src"]
        if ops.get("gen"):
            self._lanes(src, "src")
        if "mask" in ops:
            mask = ops["mask"]
            want = (src.pcount, -(-src.free_size // 32))
            if (mask.pcount, mask.free_size) != want:
                raise CheckError(f"mask holds [{mask.pcount} x {mask.free_size}] int32 words, {src.free_size} "
                                 f"elements per partition need [{want[0]} x {want[1]}]", operand="mask")


_VERDICTS = 1 << 16  # pattern verdicts a Checker keeps
_PLANS: dict[int, tuple[dict, tuple[tuple[str, str, dict, Any, bool], ...]]] = {}


def _operand_plan(spec: dict) -> tuple[tuple[str, str, dict, Any, bool], ...]:
    """(name, kind, entry, range or None, whether a pattern kind) of each operand of a table entry,
    worked out once per entry."""
    hit = _PLANS.get(id(spec))
    if hit is None or hit[0] is not spec:
        plan = tuple((o["name"], o["kind"], o, o.get("range"), o["kind"] in ("ap", "bias", "dram"))
                     for o in spec["operands"])
        hit = _PLANS[id(spec)] = (spec, plan)
    return hit[1]


def _ap_form(mn: str, o: dict, ap: AP) -> str | None:
    """Why an on-chip pattern is the wrong kind for its operand (space, type, alignment, bias form), or None."""
    name = o["name"]
    if "spaces" in o and ap.space not in o["spaces"]:
        return f"{mn} {name} must be in {' or '.join(o['spaces'])}, not {ap.space}"
    if "dtypes" in o and ap.dtype not in o["dtypes"]:
        return f"{mn} {name} must hold {' or '.join(o['dtypes'])}, not {ap.dtype}"
    size = DTYPES[ap.dtype]["bytes"]
    if ap.offset % size:
        return f"{ap}: byte offset {ap.offset} is not aligned to {ap.dtype} ({size} bytes)"
    if o["kind"] == "bias" and (ap.dtype != "fp32" or ap.free_size != 1):
        return ("a bias pattern holds one fp32 per partition (like sb[0:64, 0]:fp32[1]), "
                f"got {ap.dtype}[{ap.free_size}]")
    return None


def same_shape(ops: dict, names: tuple[str, ...]) -> None:
    """Operands `names` must all span the same partitions x elements; the caret goes to the first
    one that differs from the first."""
    first = ops[names[0]]
    pcount, free = first.pcount, first.free_size
    for odd in names:
        ap = ops[odd]
        if ap.pcount != pcount or ap.free_size != free:
            desc = ", ".join(f"{n} {_shape(ops[n])}" for n in names)
            raise CheckError(f"operands differ in shape: {desc}", operand=odd)


def not_loaded(fn: int) -> str:
    """The message for an act.func id that names no table (shared with the emulator's check)."""
    return (f"function id {fn} is not loaded (built-ins 0..{len(BUILTIN_FUNCTIONS) - 1}, "
            f"user slots {USER_SLOTS.start}..{USER_SLOTS.stop - 1} after act.lut.load)")


_SAME_SHAPE: dict[str, tuple[str, ...]] = {
    **{f"vec.{op}": ("dst", "a", "b") for op in ("add", "sub", "mul", "max", "min")},
    **{f"vec.{op}s": ("dst", "a") for op in ("add", "sub", "mul", "max", "min")},
    "vec.cast": ("dst", "src"), "act.identity": ("dst", "src"), "act.relu": ("dst", "src"),
}
_SHAPE_RULES = {
    "vec.reduce_sum": Checker._reduce, "vec.reduce_max": Checker._reduce, "vec.copy": Checker._copy,
    "act.func": Checker._func, "pe.matmul": Checker._matmul, "pe.matmul_sparse": Checker._matmul,
    "pe.load_weights": Checker._load_weights, "pe.load_sparse": Checker._load_sparse,
    "vec.rng_get_offset": Checker._get_offset, "vec.rng_save_state": Checker._state,
    "vec.rng_load_state": Checker._state, "vec.rng_fill": Checker._fill, "vec.dropout": Checker._dropout,
    "vec.dropout_mask": Checker._dropout, "vec.dropout_apply": Checker._dropout,
}


def check_program(program: Any, limits: Any = None) -> None:
    """Every static check of a Program (tensors, then instructions in order); raises CheckError."""
    checker = Checker(limits)
    for t in program.tensors:
        checker.tensor(t)
    for k, ins in enumerate(program.instructions):
        checker.instruction(ins, k)
