"""`accel verify act_engine`: rtl/act_engine.v plays whole ACT programs against accel.machine.Core and
accel.timing.schedule (--vectors: instructions per random program, default 40 on Icarus, 150 on Verilator).

Runs sim/test_act_engine.py through sim/act_engine_tb.v at --lanes lanes (default 8; CoreConfig with that
many SBUF/PSUM partitions, 12 KiB of SBUF and 8 KiB of PSUM per partition). For every program the bench
compares the engine's final SBUF/PSUM image with the image Core ends with, byte for byte, and every
instruction's start (the clock it is accepted) and end (the clock after its last write) with the
schedule of the same instructions issued back to back, exactly (both counted from the first start).
Programs:

* directed: every tests/programs/cases/act.*.s. Their partitions are folded onto the lanes: partition
  p of a pattern becomes p mod lanes, 2048 bytes further per multiple of lanes (the cases use up to 40
  partitions); the DMA, VEC and sync part runs on the model with the case's inputs over a random image,
  and the ACT instructions play on the engine from the image it leaves.
* random: --programs programs of --vectors instructions each over act.identity, act.relu, act.func
  (every built-in and loaded user slots) and act.lut.load (built-in images and the cases' x^2 table,
  placed in SBUF above the random patterns, into random slots 16..31): random patterns (1 to 3 dims,
  negative and zero strides, both spaces, every element type, operands on different partitions), bias
  immediates and bias patterns, specials as scale and bias; a third of the sources read the previous
  instruction's destination (the read-after-write interlock) and functions change often (the switch).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import accel
from accel.config import ConfigError
from accel.isa import resources
from accel.isa.encoding import WORD_BITS, Instruction, Program, encode
from accel.isa.memfile import read_memh, write_memh
from accel.isa.operands import AP
from accel.isa.randprog import random_f32_bits
from accel.machine import Core, CoreConfig, MachineError
from accel.model import lut
from accel.tb import verify_vec as vv
from accel.tb.modules import MEM_DIR, sources
from accel.tb.plan import run_planned
from accel.tb.runner import BenchFailure
from accel.timing.schedule import schedule

TOPLEVEL = "act_engine_tb"
SOURCES = sources(TOPLEVEL)
TEST_MODULE = "test_act_engine"
PLAN_ENV, REPORT_ENV = "ACCEL_ACT_ENGINE_PLAN", "ACCEL_ACT_ENGINE_REPORT"
SB_BYTES, PS_BYTES = 12288, vv.PS_BYTES  # random patterns stay below vv.SB_BYTES; images lie above
FOLD_BYTES = 2048  # a directed case's partitions p >= lanes move 2048 bytes further per multiple of lanes
IMAGE_BASE = vv.SB_BYTES  # table images of the random programs: SBUF bytes 8192.. of their partitions
PROG_DEPTH = 1024
DEFAULT_LANES = {"icarus": 8, "verilator": 8}
DEFAULT_PROGRAMS = {"icarus": 1, "verilator": 4}
DEFAULT_LENGTH = {"icarus": 40, "verilator": 150}
ACT_OPS = ("act.identity", "act.relu", "act.func", "act.lut.load")
IMAGES = ("reciprocal", "sqrt", "rsqrt", "exp")  # the built-in images the random programs load into user slots


def config(lanes: int) -> CoreConfig:
    """The model's geometry for a bench of `lanes` lanes."""
    return CoreConfig(pe_rows=lanes, pe_cols=lanes, sbuf_partitions=lanes, sbuf_partition_bytes=SB_BYTES,
                      psum_partitions=lanes, psum_partition_bytes=PS_BYTES, psum_banks=1)


# --------------------------------------------------------------------------------------------- directed cases


def fold(ins: Instruction, lanes: int, block_bytes: int | dict[str, int] = FOLD_BYTES) -> Instruction | None:
    """`ins` with every on-chip pattern's partitions folded onto `lanes`, `block_bytes` (or the pattern's
    space's entry of it) further per multiple of lanes (None when one straddles)."""
    ops = {}
    for name, v in ins.ops.items():
        if isinstance(v, AP):
            block, first = divmod(v.pstart, lanes)
            if first + v.pcount > lanes:
                return None
            step = block_bytes[v.space] if isinstance(block_bytes, dict) else block_bytes
            v = AP(v.space, first, v.pcount, v.offset + block * step, v.dtype, v.dims)
        ops[name] = v
    return Instruction(ins.spec, ops, ins.line, ins.file)


def directed_programs(r: np.random.Generator, cfg: CoreConfig) -> tuple[list[dict], list[str]]:
    """Every tests/programs/cases/act.*.s folded onto the lanes: its ACT instructions, and the image its
    other instructions leave (from the case's inputs over random bytes); the names of those that do not fit."""
    out, skipped = [], []
    lanes = cfg.sbuf_partitions
    for path in sorted(resources.CASES_DIR.glob("act.*.s")):
        prog = accel.assemble(path.read_text(), path.name)
        body = [fold(i, lanes) for i in prog.instructions]
        first = next(k for k, i in enumerate(prog.instructions) if i.mnemonic.startswith("act."))
        if any(i is None for i in body):
            skipped.append(path.stem)
            continue
        data = np.load(path.with_suffix(".npz"))
        inputs = {k[3:]: data[k] for k in data if k.startswith("in.")}
        core = Core(cfg, backend="model")
        core.load(Program(prog.tensors, body[:first] + [vv.make("halt")]), inputs)
        core.sbuf[:], core.psum[:] = vv.initial_image(r, cfg)
        try:
            core.run()
        except MachineError:
            skipped.append(path.stem)
            continue
        instrs = [i for i in body if i.mnemonic.startswith("act.")]
        out.append({"name": path.stem, "instrs": instrs, "sbuf": core.sbuf.copy(), "psum": core.psum.copy()})
    return out, skipped


# --------------------------------------------------------------------------------------------- random programs


class _ActGen(vv._Gen):
    """Random ACT instructions the model accepts, built (as verify_vec's) against a scratch model."""

    def __init__(self, r: np.random.Generator, cfg: CoreConfig, sbuf: np.ndarray, psum: np.ndarray):
        self.images = place_images(sbuf, cfg.sbuf_partitions)
        super().__init__(r, cfg, sbuf, psum)
        self.loaded: list[int] = []
        self.last_dst: AP | None = None

    def instruction(self) -> Instruction | None:
        k = self.r.random()
        if k < 0.12:
            src = self.pick(self.images)
            fn = int(self.r.integers(16, 32))
            self.loaded.append(fn)
            return vv.make("act.lut.load", src=src, fn=fn)
        m = "act.func" if k < 0.6 else "act.identity" if k < 0.8 else "act.relu"
        last = self.last_dst
        if last is not None and self.r.random() < 0.35:
            src = last  # read what the previous stream writes: the interlock
            pcount, f = src.pcount, src.free_size
        else:
            pcount, f = self.shape()
            src = self.source(pcount, f)
        ops: dict[str, object] = {"src": src}
        ops["scale"] = self.pick([0x3F800000, 0xBF800000, 0x3F000000, 0x40200000, random_f32_bits(self.r)])
        if self.r.random() < 0.35:
            ops["bias"] = self.ap("fp32", self.parts(pcount)[0], pcount, [1])
        else:
            ops["bias"] = self.pick([0, 0x80000000, 0x3E000000, random_f32_bits(self.r)])
        reads = [src] + ([ops["bias"]] if isinstance(ops["bias"], AP) else [])
        dst = self.dst_for(self.pick(vv.DTYPES), pcount, self.dims(f), reads)
        if dst is None:
            return None
        if m == "act.func":
            ops["fn"] = self.pick(self.loaded) if self.loaded and self.r.random() < 0.3 else \
                int(self.r.integers(0, len(lut.BUILTINS)))
        self.last_dst = dst
        return vv.make(m, dst=dst, **ops)


def place_images(sbuf: np.ndarray, lanes: int) -> list[AP]:
    """Write table images into SBUF above the random patterns (one image per partition, or the first
    split over two); the int32 patterns that hold them."""
    out = []
    for k, name in enumerate(IMAGES):
        words = lut.builtin(name).image()
        part = k % lanes
        rows = 2 if k == 0 and lanes > 1 and words.size % 2 == 0 else 1
        per = words.size // rows
        for j in range(rows):
            sbuf[part + j, IMAGE_BASE:IMAGE_BASE + 4 * per] = words[j * per:(j + 1) * per].view(np.uint8)
        out.append(AP("sb", part, rows, IMAGE_BASE, "int32", ((per, 1),)))
    return out


def plan_programs(lanes: int, n_programs: int, length: int, seed: int, directed: bool = True) -> tuple[list, list]:
    """The directed cases that fit and n_programs random programs of `length` instructions."""
    cfg = config(lanes)
    r = np.random.default_rng([seed, 15])
    programs, skipped = directed_programs(r, cfg) if directed else ([], [])
    for k in range(n_programs):
        sbuf, psum = vv.initial_image(r, cfg)
        instrs = _ActGen(r, cfg, sbuf, psum).program(length)
        programs.append({"name": f"random {k}", "instrs": instrs, "sbuf": sbuf, "psum": psum})
    return programs, skipped


# --------------------------------------------------------------------------------------------- running


def _write_program(folder: Path, instrs: list[Instruction], sbuf: np.ndarray, psum: np.ndarray,
                   want: np.ndarray) -> None:
    folder.mkdir(parents=True)
    write_memh(folder / "act_prog.hex", [encode(i) for i in instrs] + [encode(vv.make("halt"))], WORD_BITS)
    for name, img in (("act_init.hex", vv.image_words(sbuf, psum)), ("act_exp.hex", want)):
        write_memh(folder / name, np.asarray(img, dtype=np.uint32), 32)


def model_times(cfg: CoreConfig, instrs: list[Instruction]) -> tuple[np.ndarray, np.ndarray]:
    """Start and end cycles of the instructions in accel.timing.schedule, counted from the first start."""
    t = schedule(Program([], list(instrs)), cfg)
    return t.start - t.start[0], t.end - t.start[0]


def _locate(byte: int) -> dict:
    """Bench image byte -> space, partition, byte offset in the partition."""
    part, at = divmod(byte, SB_BYTES + PS_BYTES)
    return {"space": "sb", "partition": part, "byte": at} if at < SB_BYTES else \
        {"space": "psum", "partition": part, "byte": at - SB_BYTES}


def bench(sim: str, lanes: int, programs: list[dict], flip: tuple[int, int] | None = None) -> tuple[list, float]:
    """Play programs [{name, instrs, sbuf, psum}] on the engine; returns (results, seconds). Each result
    has the bench's counters, "python_mismatches" (the image compared again here), "start"/"end" (the
    engine's, from the first start) and "timing_mismatches" (instructions whose start or end differs
    from the schedule's; "first_timing" names the first). `flip` = (program index, image byte) corrupts
    one expected byte (the bench's self-test)."""
    cfg = config(lanes)
    longest = max((len(p["instrs"]) for p in programs), default=0)
    if longest >= PROG_DEPTH:
        raise ValueError(f"a program of {longest} instructions: the bench holds {PROG_DEPTH - 1} and halt")
    with tempfile.TemporaryDirectory(prefix="accel-act-") as tmp:
        plan = []
        for k, p in enumerate(programs):
            core = vv.model_core(cfg, p["instrs"], p["sbuf"], p["psum"])
            core.run()
            want = vv.image_words(core.sbuf, core.psum)
            if flip and flip[0] == k:
                want = want.copy()
                want.view(np.uint8)[flip[1]] ^= np.uint8(0x5A)
            folder = Path(tmp) / f"p{k}"
            _write_program(folder, p["instrs"], p["sbuf"], p["psum"], want)
            budget = 2000 + sum(60 + 2 * max(ap.size for ap in i.ops.values() if isinstance(ap, AP))
                                for i in p["instrs"])
            plan.append({"name": p["name"], "dir": str(folder), "nprog": len(p["instrs"]) + 1, "max_cycles": budget})
        run = run_planned(sim, TOPLEVEL, SOURCES, TEST_MODULE, {"programs": plan}, PLAN_ENV, REPORT_ENV,
                          parameters={"LANES": lanes, "SB_WORDS": SB_BYTES // 4, "PS_WORDS": PS_BYTES // 4,
                                      "PROG_DEPTH": PROG_DEPTH, "MEM_DIR": f'"{MEM_DIR}/"'})
        results, error, seconds = run.report, run.error, run.seconds
        for res, p, entry in zip(results, programs, plan, strict=False):
            _check(res, p, entry, cfg)
        if error and not results:
            raise BenchFailure(error)
        return results, seconds


def _check(res: dict, p: dict, entry: dict, cfg: CoreConfig) -> None:
    """Add the Python-side image comparison and the cycle comparison to one program's result."""
    n = len(p["instrs"])
    res["instructions"] = n
    final = Path(entry["dir"]) / "act_final.hex"
    if final.is_file():  # must agree with the bench's own count
        got = read_memh(final, 32).astype(np.uint32)
        want = read_memh(Path(entry["dir"]) / "act_exp.hex", 32).astype(np.uint32)
        res["python_mismatches"] = int((got.view(np.uint8) != want.view(np.uint8)).sum())
    accepts, retires = res.pop("accepts"), res.pop("retires")
    start_m, end_m = model_times(cfg, p["instrs"])
    bad = []
    if len(accepts) < n or len(retires) != n:
        bad.append(f"{len(accepts)} accepts and {len(retires)} ends for {n} instructions")
    else:
        t0 = accepts[0]
        res["start"] = [a - t0 for a in accepts[:n]]
        res["end"] = [e + 1 - t0 for e in retires]
        for k, ins in enumerate(p["instrs"]):
            if (res["start"][k], res["end"][k]) != (int(start_m[k]), int(end_m[k])):
                bad.append(f"#{k} {ins}: engine start {res['start'][k]} end {res['end'][k]}, "
                           f"schedule start {int(start_m[k])} end {int(end_m[k])}")
    res["timing_mismatches"] = len(bad)
    if bad:
        res["first_timing"] = bad[0]
    if res.get("mismatches"):
        where = _locate(res["first_byte"])
        pc = res["first_pc"]
        res["first"] = {**where, "got": f"{res['first_got']:#04x}", "want": f"{res['first_want']:#04x}",
                        "engine_writer": f"#{pc} {p['instrs'][pc]}" if pc < n else "none"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--lanes, --programs (random programs), --no-directed; --vectors is the instructions per random program."""
    parser.add_argument("--lanes", type=int, default=None, help="engine lanes (default 8)")
    parser.add_argument("--programs", type=int, default=None, help="random programs (default: 1 icarus, 4 verilator)")
    parser.add_argument("--no-directed", action="store_true", help="leave out tests/programs/cases")


def run(args: argparse.Namespace) -> dict:
    """`accel verify act_engine` on args.sim."""
    lanes = DEFAULT_LANES[args.sim] if args.lanes is None else args.lanes
    if not 1 <= lanes <= 128:
        raise ConfigError(f"--lanes {lanes}: the engine has 1 to 128 lanes (one per partition)")
    n = DEFAULT_PROGRAMS[args.sim] if args.programs is None else args.programs
    length = DEFAULT_LENGTH[args.sim] if args.vectors is None else args.vectors
    programs, skipped = plan_programs(lanes, n, length, args.seed, not getattr(args, "no_directed", False))
    results, seconds = bench(args.sim, lanes, programs)
    instrs = sum(r["instructions"] for r in results)
    mism = sum(r["mismatches"] + r["timing_mismatches"] + (not r["done"]) for r in results) + \
        len(programs) - len(results)
    sim_s = sum(r["seconds"] for r in results)
    bad = next((r for r in results if r["mismatches"] or r["timing_mismatches"] or not r["done"]), None)
    return {"unit": "act_engine", "sim": args.sim, "lanes": lanes, "vectors": instrs, "mismatches": mism,
            "vectors_per_s": round(instrs / sim_s) if sim_s else 0, "seconds": round(seconds, 1),
            "programs": len(results), "skipped_cases": skipped, "cycles": sum(r["cycles"] for r in results),
            "sim_seconds": round(sim_s, 1), "first": bad and (bad.get("first") or bad.get("first_timing") or bad),
            "error": None}
