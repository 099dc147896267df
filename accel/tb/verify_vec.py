"""`accel verify vec`: rtl/vec_engine.v plays whole VEC programs against accel.machine.Core
(--vectors: instructions per random program, default 300 on Icarus, 500 on Verilator).

Runs sim/test_vec_engine.py through sim/vec_engine_tb.v. Each program starts from a random
SBUF/PSUM image (random bytes with binary32 and bf16 specials); the bench runs it to `halt` and
compares the engine's final image with the image Core (CoreConfig with sbuf_partitions = psum_partitions
= --lanes, 8 KiB SBUF and 8 KiB PSUM per partition) ends with, byte for byte. Programs:

* directed: every tests/programs/cases/vec.*.s. A case that uses only the VEC engine runs as written; in
  the others (which move data with DMA and order it with semaphores) the VEC instructions run as they
  stand on the random image. Cases that do not fit the geometry (partitions beyond --lanes) are skipped.
* random: --programs programs of --vectors instructions each, over every VEC opcode: random patterns
  (1 to 3 dims, negative and zero strides, both spaces, every element type, operands on different
  partitions), specials as immediates, dropout over a p sweep with 0, 1 and ties, dropout_mask then
  dropout_apply on the same mask, save/load of lane states, get_offset, 64-bit offsets and Philox
  indices that carry into the high word. A destination overlaps no source except element for element.

A mismatch is reported with the first differing partition and byte, and the instruction that last
wrote it (in the engine and in the model).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import accel
from accel.isa import resources
from accel.isa._table import TABLE
from accel.isa.encoding import WORD_BITS, Instruction, Program, encode
from accel.isa.memfile import read_memh, write_memh
from accel.isa.operands import AP, dtype_bytes
from accel.isa.randprog import F32_SPECIALS, random_f32_bits
from accel.machine import Core, CoreConfig, MachineError
from accel.model import fp
from accel.tb.modules import sources
from accel.tb.plan import run_planned
from accel.tb.runner import BenchFailure
from accel.tb.verify_rng import P_SWEEP

TOPLEVEL = "vec_engine_tb"
SOURCES = sources(TOPLEVEL)
TEST_MODULE = "test_vec_engine"
PLAN_ENV, REPORT_ENV = "ACCEL_VEC_PLAN", "ACCEL_VEC_REPORT"
CASES_DIR = resources.CASES_DIR  # tests/programs/cases: the checkout, or the copy a wheel carries
SB_BYTES, PS_BYTES = 8192, 8192
PROG_DEPTH = 2048
DEFAULT_LANES = {"icarus": 8, "verilator": 8}
DEFAULT_PROGRAMS = {"icarus": 1, "verilator": 4}
DEFAULT_LENGTH = {"icarus": 300, "verilator": 500}
SPEC = {i["mnemonic"]: i for i in TABLE["instructions"]}
VEC_OPS = [m for m, s in SPEC.items() if s["engine"] == "VEC"]
DTYPES = ("fp32", "bf16", "int8", "int32")
BF16_SPECIALS = (0x0000, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0x7FC1, 0xFF81, 0x0001, 0x8080, 0x7F7F, 0x3F80)


def config(lanes: int) -> CoreConfig:
    """The model's geometry for a bench of `lanes` lanes."""
    return CoreConfig(pe_rows=lanes, pe_cols=lanes, sbuf_partitions=lanes, sbuf_partition_bytes=SB_BYTES,
                      psum_partitions=lanes, psum_partition_bytes=PS_BYTES, psum_banks=1)


def make(mnemonic: str, **ops: object) -> Instruction:
    """An Instruction of `mnemonic`; operands left out take their defaults."""
    spec = SPEC[mnemonic]
    full = {o["name"]: ops[o["name"]] if o["name"] in ops else o["default"] for o in spec["operands"]}
    return Instruction(spec, full)


def initial_image(r: np.random.Generator, cfg: CoreConfig) -> tuple[np.ndarray, np.ndarray]:
    """Random SBUF and PSUM bytes; a quarter of the words are binary32 specials, some halves bf16 ones."""
    out = []
    for parts, nbytes in ((cfg.sbuf_partitions, cfg.sbuf_partition_bytes),
                          (cfg.psum_partitions, cfg.psum_partition_bytes)):
        img = r.integers(0, 256, (parts, nbytes), dtype=np.uint8)
        words = img.view(np.uint32)
        pick = r.random(words.shape) < 0.25
        words[pick] = np.array(F32_SPECIALS, np.uint32)[r.integers(0, len(F32_SPECIALS), int(pick.sum()))]
        halves = img.view(np.uint16)
        pick = r.random(halves.shape) < 0.1
        halves[pick] = np.array(BF16_SPECIALS, np.uint16)[r.integers(0, len(BF16_SPECIALS), int(pick.sum()))]
        out.append(img)
    return out[0], out[1]


def model_core(cfg: CoreConfig, instrs: list[Instruction], sbuf: np.ndarray, psum: np.ndarray) -> Core:
    """A Core (the plain model, backend="model") loaded with the program and the initial image."""
    core = Core(cfg, backend="model")
    core.load(Program([], instrs))
    core.sbuf[:] = sbuf
    core.psum[:] = psum
    return core


def image_words(sbuf: np.ndarray, psum: np.ndarray) -> np.ndarray:
    """The bench's memory layout: per partition its SBUF words, then its PSUM words."""
    return np.concatenate([sbuf.view("<u4"), psum.view("<u4")], axis=1).reshape(-1)


# --------------------------------------------------------------------------------------------- random programs


class _Gen:
    """Random VEC instructions that the model accepts, built against a scratch model that runs each
    one as it is made (so a load_state never meets an all-zero state)."""

    def __init__(self, r: np.random.Generator, cfg: CoreConfig, sbuf: np.ndarray, psum: np.ndarray):
        check_branches(VEC_OPS)
        self.r, self.cfg, self.lanes = r, cfg, cfg.sbuf_partitions
        self.core = model_core(cfg, [], sbuf, psum)
        self.masks: list[tuple[AP, AP, int]] = []  # (src, mask, p) of dropout_mask instructions
        self.saves: list[AP] = []

    def pick(self, items):
        return items[int(self.r.integers(0, len(items)))]

    def parts(self, pcount: int | None = None) -> tuple[int, int]:
        n = pcount or int(self.r.integers(1, self.lanes + 1))
        return int(self.r.integers(0, self.lanes - n + 1)), n

    def dims(self, free: int, last: int | None = None) -> list[int]:
        """Counts (outermost first) whose product is `free`; the innermost is `last` when given."""
        counts = [last] if last else []
        rest = free // last if last else free
        while rest > 1 and len(counts) < 3 and self.r.random() < 0.6:
            divisors = [d for d in range(2, rest + 1) if rest % d == 0]
            d = self.pick(divisors)
            counts.insert(0, d)
            rest //= d
        if rest > 1 or not counts:
            if len(counts) == 3:
                counts[0] *= rest
            else:
                counts.insert(0, rest)
        return counts

    def ap(self, dtype: str, pstart: int, pcount: int, counts: list[int], space: str | None = None,
           injective: bool = False) -> AP:
        """A pattern of these counts placed at random inside a partition."""
        space = space or ("psum" if self.r.random() < 0.2 else "sb")
        nbytes = SB_BYTES if space == "sb" else PS_BYTES
        size = dtype_bytes(dtype)
        for _ in range(50):
            if self.r.random() < 0.5:
                strides, run = [], 1
                for n in reversed(counts):
                    strides.insert(0, run)
                    run *= n
            else:
                strides = [int(self.r.integers(-6, 7)) for _ in counts]
            dims = tuple(zip(counts, strides, strict=True))
            lo = sum(min(0, (n - 1) * s) for n, s in dims)
            hi = sum(max(0, (n - 1) * s) for n, s in dims)
            room = nbytes // size - (hi - lo + 1)
            if room < 0:
                continue
            ap = AP(space, pstart, pcount, (int(self.r.integers(0, room + 1)) - lo) * size, dtype, dims)
            if not injective or len(set(ap.element_offsets().tolist())) == ap.free_size:
                return ap
        return AP(space, pstart, pcount, 0, dtype, ((int(np.prod(counts)), 1),))

    @staticmethod
    def overlap(a: AP, b: AP) -> bool:
        """Whether two patterns touch a common byte."""
        if a.space != b.space or a.pstart >= b.pstart + b.pcount or b.pstart >= a.pstart + a.pcount:
            return False

        def spans(ap: AP) -> set[int]:
            size = dtype_bytes(ap.dtype)
            starts = ap.offset + size * ap.element_offsets()
            return {int(s) + k for s in starts for k in range(size)}

        return bool(spans(a) & spans(b))

    def dst_for(self, dtype: str, pcount: int, counts: list[int], sources: list[AP],
                disjoint: tuple[AP, ...] = ()) -> AP | None:
        """A destination that overlaps no source, or (sometimes) an element-for-element in-place source;
        it shares no byte with the `disjoint` patterns (a dropout mask) in either case."""
        same = [s for s in sources if s.dtype == dtype and len(set(s.element_offsets().tolist())) == s.free_size
                and s.free_size == int(np.prod(counts))]
        if same and self.r.random() < 0.15:
            cand = self.pick(same)
            if all(s == cand or not self.overlap(cand, s) for s in sources) and \
                    not any(self.overlap(cand, s) for s in disjoint):
                return cand
        for _ in range(30):
            d = self.ap(dtype, self.parts(pcount)[0], pcount, counts)
            if not any(self.overlap(d, s) for s in (*sources, *disjoint)):
                return d
        return None

    def free(self) -> int:
        return int(self.pick([1, 2, 3, 4, 5, 7, 8, 12, 16, 24, 31, 32, 33, 40, 48, 64, 70, 96]))

    def instruction(self) -> Instruction | None:
        """One random VEC instruction (None when no placement was found this time)."""
        m = self.pick(VEC_OPS)
        return BRANCHES[m](self, m)

    # One generator per opcode (BRANCHES below maps each VEC mnemonic to one of these); each returns an
    # Instruction of mnemonic m, or None when no placement was found this time.

    def rng_register(self, m: str) -> Instruction:
        """vec.rng_seed, vec.rng_set_offset: a 64-bit value whose high word is often 0, 1 or all ones."""
        lo = int(self.r.integers(0, 2**32))
        hi = self.pick([0, 1, 0xFFFFFFFF, int(self.r.integers(0, 2**32))])
        return make(m, lo=lo, hi=hi)

    def rng_set_stride(self, m: str) -> Instruction:
        return make(m, stride=self.pick([0, 0, 1, 7, 64, 1000, 2**31 + 3, 2**32 - 1]))

    def rng_get_offset(self, m: str) -> Instruction:
        ps, _ = self.parts(1)
        return make(m, dst=self.ap("int32", ps, 1, [2]))

    def rng_save_state(self, m: str) -> Instruction:
        ps, n = self.parts()
        ap = self.ap("int32", ps, n, self.dims(4), injective=True)
        self.saves.append(ap)
        return make(m, dst=ap)

    def rng_load_state(self, m: str) -> Instruction | None:
        """Mostly a block an earlier save wrote; never an all-zero lane state (the model rejects it)."""
        ps, n = self.parts()
        if self.saves and self.r.random() < 0.7:
            ap = self.pick(self.saves)
        else:
            ap = self.ap("int32", ps, n, self.dims(4), injective=True)
        w = self.core.read(ap).view(np.uint32)
        if not w.any(axis=1).all():
            return None
        return make(m, src=ap)

    def rng_fill(self, m: str) -> Instruction:
        ps, n = self.parts()
        dst = self.ap(self.pick(["int32", "fp32"]), ps, n, self.dims(self.free()))
        return make(m, dst=dst, base=self.base(), gen=int(self.r.integers(0, 2)))

    def shape(self) -> tuple[int, int]:
        """(partitions, free elements) of an elementwise or reducing instruction."""
        pcount = self.parts()[1]
        return pcount, self.free()

    def source(self, pcount: int, f: int) -> AP:
        """A source of any element type on `pcount` partitions with `f` elements each."""
        return self.ap(self.pick(DTYPES), self.parts(pcount)[0], pcount, self.dims(f))

    def reduce(self, m: str) -> Instruction | None:
        """vec.reduce_sum, vec.reduce_max: the innermost dim (any divisor of the size) is reduced."""
        pcount, f = self.shape()
        last = self.pick([d for d in range(1, f + 1) if f % d == 0])
        src = self.ap(self.pick(DTYPES), self.parts(pcount)[0], pcount, self.dims(f, last))
        dst = self.dst_for(self.pick(DTYPES), pcount, self.dims(f // last), [src])
        return dst and make(m, dst=dst, src=src)

    def binary(self, m: str) -> Instruction | None:
        """vec.add, sub, mul, max, min: two sources of any types and layouts."""
        pcount, f = self.shape()
        a = self.source(pcount, f)
        b = self.source(pcount, f)
        dst = self.dst_for(self.pick(DTYPES), pcount, self.dims(f), [a, b])
        return dst and make(m, dst=dst, a=a, b=b)

    def scalar(self, m: str) -> Instruction | None:
        """vec.adds, subs, muls, maxs, mins: any binary32 immediate, specials included."""
        pcount, f = self.shape()
        a = self.source(pcount, f)
        dst = self.dst_for(self.pick(DTYPES), pcount, self.dims(f), [a])
        return dst and make(m, dst=dst, a=a, scalar=random_f32_bits(self.r))

    def copy(self, m: str) -> Instruction | None:
        pcount, f = self.shape()
        src = self.source(pcount, f)
        dst = self.dst_for(src.dtype, pcount, self.dims(f), [src])
        return dst and make(m, dst=dst, src=src)

    def cast(self, m: str) -> Instruction | None:
        pcount, f = self.shape()
        src = self.source(pcount, f)
        dst = self.dst_for(self.pick(DTYPES), pcount, self.dims(f), [src])
        return dst and make(m, dst=dst, src=src)

    def dropout(self, m: str) -> Instruction | None:
        pcount, f = self.shape()
        src = self.source(pcount, f)
        p = self.p()
        dst = self.dst_for(self.pick(DTYPES), pcount, self.dims(f), [src])
        return dst and make(m, dst=dst, src=src, p=p, base=self.base(), gen=int(self.r.integers(0, 2)))

    def dropout_mask(self, m: str) -> Instruction | None:
        """A fresh mask; remembered so that a later dropout_apply can reuse it with its source and p."""
        pcount, f = self.shape()
        src = self.source(pcount, f)
        p = self.p()
        masked = self.masked(src, None)
        if masked is None:
            return None
        dst, mask = masked
        self.masks.append((src, mask, p))
        return make(m, dst=dst, src=src, mask=mask, p=p, base=self.base(), gen=int(self.r.integers(0, 2)))

    def dropout_apply(self, m: str) -> Instruction | None:
        """Mostly the mask, source and p of an earlier dropout_mask, else a mask of random bits."""
        pcount, f = self.shape()
        src = self.source(pcount, f)
        p = self.p()
        mask = None
        if self.masks and self.r.random() < 0.7:
            src, mask, p = self.pick(self.masks)
        masked = self.masked(src, mask)
        if masked is None:
            return None
        dst, mask = masked
        return make(m, dst=dst, src=src, mask=mask, p=p)

    def masked(self, src: AP, mask: AP | None) -> tuple[AP, AP] | None:
        """(dst, mask) for a masked dropout of `src`: a new mask when none is given."""
        if mask is None:
            mask = self.dst_for("int32", src.pcount, [-(-src.free_size // 32)], [], disjoint=(src,))
            if mask is None:
                return None
        dst = self.dst_for(self.pick(DTYPES), src.pcount, self.dims(src.free_size), [src], disjoint=(mask,))
        return None if dst is None else (dst, mask)

    def base(self) -> int:
        return self.pick([0, 0, 17, int(self.r.integers(0, 2**32)), 2**32 - 5, 2**32 - 64])

    def p(self) -> int:
        if self.r.random() < 0.7:
            return int(fp.f32_bits(np.float32(self.pick(P_SWEEP))))
        return int(fp.f32_bits(np.float32(self.r.random())))

    def program(self, n: int) -> list[Instruction]:
        """n instructions, each executed on the scratch model as it is made; every opcode appears."""
        out: list[Instruction] = []
        while len(out) < n:
            ins = self.instruction()
            if ins is None:
                continue
            self.core.current = ins
            self.core.semantics[ins.mnemonic](self.core, ins)
            out.append(ins)
        return out


BRANCHES = {
    "vec.rng_seed": _Gen.rng_register, "vec.rng_set_offset": _Gen.rng_register,
    "vec.rng_set_stride": _Gen.rng_set_stride, "vec.rng_get_offset": _Gen.rng_get_offset,
    "vec.rng_save_state": _Gen.rng_save_state, "vec.rng_load_state": _Gen.rng_load_state,
    "vec.rng_fill": _Gen.rng_fill, "vec.reduce_sum": _Gen.reduce, "vec.reduce_max": _Gen.reduce,
    **{f"vec.{op}": _Gen.binary for op in ("add", "sub", "mul", "max", "min")},
    **{f"vec.{op}s": _Gen.scalar for op in ("add", "sub", "mul", "max", "min")},
    "vec.copy": _Gen.copy, "vec.cast": _Gen.cast, "vec.dropout": _Gen.dropout,
    "vec.dropout_mask": _Gen.dropout_mask, "vec.dropout_apply": _Gen.dropout_apply,
}
"""The random-program generator of every VEC opcode; check_branches keeps it equal to the ISA's list."""


def check_branches(ops: list[str]) -> None:
    """Raise ValueError unless BRANCHES has exactly one generator per opcode of `ops` (the ISA's VEC
    opcodes): a new opcode must get its own generator, never fall through to another's."""
    missing = [m for m in ops if m not in BRANCHES]
    extra = sorted(set(BRANCHES) - set(ops))
    if missing:
        raise ValueError(f"accel/tb/verify_vec.py: no random-program generator for VEC opcode(s) "
                         f"{', '.join(missing)}; add one to BRANCHES")
    if extra:
        raise ValueError(f"accel/tb/verify_vec.py: BRANCHES has generators for {', '.join(extra)}, "
                         f"which the ISA does not list as VEC opcodes")


# --------------------------------------------------------------------------------------------- directed cases


def directed_programs(r: np.random.Generator, cfg: CoreConfig) -> tuple[list[dict], list[str]]:
    """Programs of every tests/programs/cases/vec.*.s that runs on the geometry from a random image
    (name, instrs, sbuf, psum); the names of those that do not fit."""
    out, skipped = [], []
    for path in sorted(CASES_DIR.glob("vec.*.s")):
        prog = accel.assemble(path.read_text(), path.name)
        pure = all(i.engine in ("VEC", "SEQ") and not i.mnemonic.startswith("sem.") for i in prog.instructions)
        instrs = [i for i in prog.instructions if i.mnemonic.startswith("vec.")]
        sbuf, psum = initial_image(r, cfg)
        try:
            model_core(cfg, instrs, sbuf, psum).run()
        except MachineError:
            skipped.append(path.stem)
            continue
        out.append({"name": f"{path.stem}{'' if pure else ' (VEC part)'}", "instrs": instrs, "sbuf": sbuf,
                    "psum": psum})
    return out, skipped


# --------------------------------------------------------------------------------------------- running


def _write_program(folder: Path, instrs: list[Instruction], sbuf: np.ndarray, psum: np.ndarray,
                   want: np.ndarray) -> None:
    folder.mkdir(parents=True)
    words = [encode(i) for i in instrs] + [encode(make("halt"))]
    write_memh(folder / "vec_prog.hex", words, WORD_BITS)
    for name, img in (("vec_init.hex", image_words(sbuf, psum)), ("vec_exp.hex", want)):
        write_memh(folder / name, np.asarray(img, dtype=np.uint32), 32)


def _read_hex(path: Path) -> np.ndarray:
    """32-bit words of a $readmemh/$writememh file (address comments skipped)."""
    return read_memh(path, 32).astype(np.uint32)


def _clock_bound(ins: Instruction, lanes: int) -> int:
    """A generous bound on the clocks one instruction takes (the bench's time limit)."""
    free = max((ap.free_size for ap in ins.ops.values() if isinstance(ap, AP)), default=0)
    return 10 * free + 3 * lanes + 80


def _locate(byte: int) -> dict:
    """Bench image byte -> space, partition, byte offset in the partition."""
    part, at = divmod(byte, SB_BYTES + PS_BYTES)
    return {"space": "sb", "partition": part, "byte": at} if at < SB_BYTES else \
        {"space": "psum", "partition": part, "byte": at - SB_BYTES}


def _model_writer(cfg: CoreConfig, instrs: list[Instruction], sbuf: np.ndarray, psum: np.ndarray,
                  where: dict) -> str:
    """The last instruction whose execution changed the byte in the model (or 'none')."""
    core = model_core(cfg, instrs, sbuf, psum)
    mem = (lambda: core.sbuf) if where["space"] == "sb" else (lambda: core.psum)
    last, k = "none (initial value)", 0
    while True:
        before = int(mem()[where["partition"], where["byte"]])
        ins = core.step()
        if ins is None:
            return last
        if int(mem()[where["partition"], where["byte"]]) != before:
            last = f"#{k} {ins}"
        k += 1


def bench(sim: str, lanes: int, programs: list[dict], flip: tuple[int, int] | None = None,
          timing: bool = False) -> tuple[list, float]:
    """Play programs [{name, instrs, sbuf, psum}] on the engine; returns (results, seconds).

    `flip` = (program index, image byte) corrupts one expected byte (the bench's self-test). With
    `timing` each result also has "clocks": for every instruction the clocks from its acceptance to the
    next one's (measured by the bench at the instruction port), which is its occupancy plus the next
    instruction's gap: a program's optional "gaps" are idle clocks before each instruction, the bench
    holding the word back although the engine is ready."""
    cfg = config(lanes)
    longest = max((len(p["instrs"]) for p in programs), default=0)
    if longest >= PROG_DEPTH:
        raise ValueError(f"a program of {longest} instructions: the bench holds {PROG_DEPTH - 1} and halt")
    with tempfile.TemporaryDirectory(prefix="accel-vec-") as tmp:
        plan = []
        for k, p in enumerate(programs):
            core = model_core(cfg, p["instrs"], p["sbuf"], p["psum"])
            result = core.run()
            want = image_words(core.sbuf, core.psum)
            p["elements"] = result.stats.elements["VEC"]
            if flip and flip[0] == k:
                want = want.copy()
                want.view(np.uint8)[flip[1]] ^= np.uint8(0x5A)
            folder = Path(tmp) / f"p{k}"
            _write_program(folder, p["instrs"], p["sbuf"], p["psum"], want)
            budget = 100_000 + sum(_clock_bound(i, lanes) for i in p["instrs"])
            plan.append({"name": p["name"], "dir": str(folder), "nprog": len(p["instrs"]) + 1,
                         "max_cycles": budget + sum(p.get("gaps", ())), "timing": timing,
                         "gaps": p.get("gaps")})
        run = run_planned(sim, TOPLEVEL, SOURCES, TEST_MODULE, {"programs": plan}, PLAN_ENV, REPORT_ENV,
                          parameters={"LANES": lanes, "SB_WORDS": SB_BYTES // 4, "PS_WORDS": PS_BYTES // 4,
                                      "PROG_DEPTH": PROG_DEPTH})
        results, error, seconds = run.report, run.error, run.seconds
        for res, p, entry in zip(results, programs, plan, strict=False):
            res["instructions"] = len(p["instrs"])
            res["elements"] = p["elements"]
            if "accepts" in res:  # the program's instructions and the closing halt
                res["clocks"] = np.diff(res.pop("accepts")).tolist()
            final = Path(entry["dir"]) / "vec_final.hex"
            if final.is_file():  # the Python side of the comparison: must agree with the bench's count
                got, want = _read_hex(final), _read_hex(Path(entry["dir"]) / "vec_exp.hex")
                res["python_mismatches"] = int((got.view(np.uint8) != want.view(np.uint8)).sum())
            if res.get("mismatches"):
                where = _locate(res["first_byte"])
                pc = res["first_pc"]
                res["first"] = {**where, "got": f"{res['first_got']:#04x}", "want": f"{res['first_want']:#04x}",
                                "engine_writer": f"#{pc} {p['instrs'][pc]}" if pc < len(p["instrs"]) else "none",
                                "model_writer": _model_writer(cfg, p["instrs"], p["sbuf"], p["psum"], where)}
        if error and not results:
            raise BenchFailure(error)
        return results, seconds


def plan_programs(lanes: int, n_programs: int, length: int, seed: int, directed: bool = True) -> tuple[list, list]:
    """The directed cases that fit and n_programs random programs of `length` instructions."""
    cfg = config(lanes)
    r = np.random.default_rng([seed, 5])
    programs, skipped = [], []
    if directed:
        programs, skipped = directed_programs(r, cfg)
    for k in range(n_programs):
        sbuf, psum = initial_image(r, cfg)
        instrs = _Gen(r, cfg, sbuf, psum).program(length)
        programs.append({"name": f"random {k}", "instrs": instrs, "sbuf": sbuf, "psum": psum})
    return programs, skipped


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--lanes, --programs (random programs); --vectors is the instructions per random program."""
    parser.add_argument("--lanes", type=int, default=None, help="engine lanes (default 8)")
    parser.add_argument("--programs", type=int, default=None, help="random programs (default: 1 icarus, 4 verilator)")
    parser.add_argument("--no-directed", action="store_true", help="leave out tests/programs/cases")


def run(args: argparse.Namespace) -> dict:
    """`accel verify vec` on args.sim."""
    lanes = args.lanes or DEFAULT_LANES[args.sim]
    n = DEFAULT_PROGRAMS[args.sim] if args.programs is None else args.programs
    length = DEFAULT_LENGTH[args.sim] if args.vectors is None else args.vectors
    programs, skipped = plan_programs(lanes, n, length, args.seed, not getattr(args, "no_directed", False))
    results, seconds = bench(args.sim, lanes, programs)
    instrs = sum(r["instructions"] for r in results)
    mism = sum(r["mismatches"] for r in results) + sum(not r["done"] for r in results) + len(programs) - len(results)
    sim_s = sum(r["seconds"] for r in results)
    bad = next((r for r in results if r["mismatches"] or not r["done"]), None)
    ops = sorted({i.mnemonic for p in programs for i in p["instrs"]})
    return {"unit": "vec", "sim": args.sim, "lanes": lanes, "vectors": instrs, "mismatches": mism,
            "vectors_per_s": round(instrs / sim_s) if sim_s else 0, "seconds": round(seconds, 1),
            "programs": len(results), "skipped_cases": skipped, "opcodes": len(ops),
            "elements": sum(r["elements"] for r in results), "cycles": sum(r["cycles"] for r in results),
            "sim_seconds": round(sim_s, 1), "first": bad and (bad.get("first") or bad), "error": None}
