"""`accel verify core`: rtl/core.v runs whole programs against accel.Core and accel.timing.schedule.

Runs sim/test_core.py through sim/core_tb.v (the core's DRAM, loader, trace recorder and image dumper).
For every program the bench compares, after the core is done, the final DRAM, SBUF and PSUM images with
those accel.Core ends with, byte for byte, and every instruction's start and end cycle (from the core's
trace port) with the schedule's, exactly. Programs:

* directed: the DMA-bound table and the serial chain of docs/timing.md, strided and transposing
  transfers (several descriptors, several beats), semaphores with counts, nops and a full VEC queue,
  the PE array's overlap rules (int8 and bf16, strided patterns, swaps, loads beside streams,
  accumulation chains) with PSUM-bank waits against VEC, the sparse forms (1:2, 2:8, 1:16), on the
  configuration;
* cases: every tests/programs/cases/*.s that fits (act.* included);
* examples: isa/examples/*.s likewise (today they need 128 partitions, so they are skipped and listed);
* random: --programs programs of accel.isa.randprog.random_pipeline over every engine (DMA loads and
  stores, PE matmuls, ACT and VEC steps, a semaphore per hand-off; chains interleaved at random);
* compiled: the core segments of small ONNX graphs compiled by accel.compiler (`compiled`; the CLI
  only, as the compiler's import and compile take seconds).

The core is built with the sparse PE forms (PE_SPARSE_M = SPARSE_M) unless `sparse=False`. A program
the core does not run (sparse forms on a dense core, or it does not fit the configuration) is skipped
and listed with the reason. A mismatch names the program, the instruction (file:line), its
engine and the cycle or the byte.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from accel.config import CoreConfig
from accel.isa import resources
from accel.isa.asm import AsmError, assemble
from accel.isa.disasm import disassemble_program
from accel.isa.encoding import WORD_BITS, Program, encode
from accel.isa.memfile import read_memh, write_memh
from accel.isa.operands import AP, NP_STORAGE, dtype_bytes
from accel.isa.randprog import random_pipeline
from accel.machine import Core
from accel.tb.modules import MEM_DIR, sources
from accel.tb.plan import run_planned
from accel.tb.runner import BenchFailure
from accel.tb.verify_act_engine import fold
from accel.timing.schedule import byte_span
from accel.timing.timeline import ENGINES

TOPLEVEL = "core_tb"
SOURCES = sources(TOPLEVEL)
TEST_MODULE = "test_core"
PLAN_ENV, REPORT_ENV = "ACCEL_CORE_PLAN", "ACCEL_CORE_REPORT"
PROG_DEPTH = 1024
DRAM_BYTES = 1 << 16
TENSOR_ALIGN = 64  # DRAM bytes: each tensor starts at a multiple
SPARSE_FORMS = frozenset({"pe.load_sparse", "pe.matmul_sparse"})  # run by a core built with PE_SPARSE_M
SPARSE_M = 16  # PE_SPARSE_M of a sparse-capable core: every N:M of the ISA (M <= 16)
RANDOM_ENGINES = ("pe", "act", "vec")  # the random pipelines' step engines
DEFAULT_PROGRAMS = {"icarus": 4, "verilator": 40}
# the RTL's FAULT parameter: planted faults (mutation tests)
FAULTS = {"sem_early": 1, "dma_stride": 2, "psum_late": 3, "no_bank_wait": 4, "vec_ignores_act_bank": 5}


def config(partitions: int, **fields: int) -> CoreConfig:
    """The model's configuration for a core of `partitions` partitions (PE array of that size, 4 KiB of
    SBUF and PSUM per partition), with any CoreConfig fields changed."""
    base = dict(pe_rows=partitions, pe_cols=partitions, sbuf_partitions=partitions, sbuf_partition_bytes=4096,
                psum_partitions=partitions, psum_partition_bytes=4096, psum_banks=1)
    return CoreConfig(**{**base, **fields})


def parameters(cfg: CoreConfig, fault: int = 0, queue_depth: int | None = None,
               sparse: bool = True) -> dict[str, int]:
    """rtl/core.v's parameters (through sim/core_tb.v) for `cfg`; `queue_depth` overrides the queue depth
    the RTL gets (a mutation test: the model keeps cfg's); `sparse`: the PE array takes the sparse forms
    (rtl/sparse_array.v with SPARSE_M lanes a row) or only the dense ones (rtl/pe_array.v)."""
    if cfg.psum_partitions != cfg.sbuf_partitions:
        raise ValueError("the core's vector engine has one lane per partition: psum_partitions must equal "
                         f"sbuf_partitions ({cfg.psum_partitions} != {cfg.sbuf_partitions})")
    return {"PARTITIONS": cfg.sbuf_partitions, "SB_BYTES": cfg.sbuf_partition_bytes,
            "PS_BYTES": cfg.psum_partition_bytes, "PSUM_BANKS": cfg.psum_banks, "PE_ROWS": cfg.pe_rows,
            "PE_COLS": cfg.pe_cols, "SEMAPHORES": cfg.semaphores,
            "QUEUE_DEPTH": cfg.queue_depth if queue_depth is None else queue_depth,
            "DISPATCH_CYCLES": cfg.dispatch_cycles, "SYNC_CYCLES": cfg.sync_cycles, "DMA_QUEUES": cfg.dma_queues,
            "DMA_LATENCY": cfg.dma_latency_cycles, "DMA_BEAT": cfg.dma_bytes_per_cycle, "PROG_DEPTH": PROG_DEPTH,
            "DRAM_BYTES": DRAM_BYTES, "PE_SPARSE_M": SPARSE_M if sparse else 0, "FAULT": fault,
            "MEM_DIR": f'"{MEM_DIR}/"'}


@dataclass
class Case:
    """One program to play: its name, the assembled program and its DRAM inputs by tensor name."""

    name: str
    program: Program
    inputs: dict[str, np.ndarray] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------- programs

DIRECTED = {
    # docs/timing.md "DMA-bound": four contiguous 4 x 512 bf16 loads, the DRAM port sets the pace (total 321)
    "dma-bound": """
        .tensor a bf16[4, 512] in
        dma.load sb[0:4, 0]:bf16[512], a
        dma.load sb[0:4, 1024]:bf16[512], a
        dma.load sb[0:4, 2048]:bf16[512], a
        dma.load sb[0:4, 3072]:bf16[512], a
        halt
    """,
    # descriptors: a transposing load (one beat per element), a strided DRAM side with runs of 3, a strided
    # SBUF side, a store through negative strides, a 1-partition run longer than a beat
    "dma-patterns": """
        .tensor x bf16[8, 24] in
        .tensor t fp32[4, 40] in
        .tensor y bf16[4, 24] out
        .tensor z fp32[2, 40] out
        dma.load sb[0:4, 0]:bf16[8], x(0)[4@1, 8@24]
        dma.load sb[0:4, 64]:fp32[2, 3], t(1)[4@40, 2@7, 3@1]
        dma.load sb[0:2, 128]:bf16[6@2], x(48)[2@24, 6@1]
        dma.load sb[0:1, 256]:fp32[40], t(80)[1@0, 40@1]
        sem.signal dma, s0
        sem.wait dma, s0
        dma.store y(23)[4@24, 3@-1, 8@-2], sb[0:4, 0]:bf16[24]
        dma.store z, sb[0:2, 256]:fp32[40]
        halt
    """,
    # semaphores with counts, waits on several engines' queues, nops; the VEC queue fills (20 VEC
    # instructions of 4 + 2 * 8 cycles each behind a wait) and stalls the sequencer, so the independent
    # dma.load after them starts when the queue has made room (docs/timing.md "Full queue")
    "sync-and-queues": """
        .tensor a fp32[4, 8] in
        .tensor y fp32[4, 8] out
        dma.load sb[0:4, 0]:fp32[8], a
        dma.load sb[0:4, 32]:fp32[8], a
        sem.signal dma, s1, count=3
        nop pe
        sem.wait pe, s1, count=2
        sem.signal pe, s2
        sem.wait act, s1
        sem.signal act, s2, count=2
        sem.wait vec, s2, count=3
        vec.adds sb[0:4, 64]:fp32[8], sb[0:4, 0]:fp32[8], 1.0
        vec.muls sb[0:4, 64]:fp32[8], sb[0:4, 64]:fp32[8], 0.5
        vec.adds sb[0:4, 64]:fp32[8], sb[0:4, 64]:fp32[8], 1.0
        vec.muls sb[0:4, 64]:fp32[8], sb[0:4, 64]:fp32[8], 0.5
        vec.adds sb[0:4, 64]:fp32[8], sb[0:4, 64]:fp32[8], 1.0
        vec.muls sb[0:4, 64]:fp32[8], sb[0:4, 64]:fp32[8], 0.5
        vec.adds sb[0:4, 64]:fp32[8], sb[0:4, 64]:fp32[8], 1.0
        vec.muls sb[0:4, 64]:fp32[8], sb[0:4, 64]:fp32[8], 0.5
        vec.adds sb[0:4, 64]:fp32[8], sb[0:4, 64]:fp32[8], 1.0
        vec.muls sb[0:4, 64]:fp32[8], sb[0:4, 64]:fp32[8], 0.5
        vec.adds sb[0:4, 64]:fp32[8], sb[0:4, 64]:fp32[8], 1.0
        vec.muls sb[0:4, 64]:fp32[8], sb[0:4, 64]:fp32[8], 0.5
        vec.adds sb[0:4, 64]:fp32[8], sb[0:4, 64]:fp32[8], 1.0
        vec.muls sb[0:4, 64]:fp32[8], sb[0:4, 64]:fp32[8], 0.5
        vec.adds sb[0:4, 64]:fp32[8], sb[0:4, 64]:fp32[8], 1.0
        vec.muls sb[0:4, 64]:fp32[8], sb[0:4, 64]:fp32[8], 0.5
        vec.adds sb[0:4, 64]:fp32[8], sb[0:4, 64]:fp32[8], 1.0
        vec.muls sb[0:4, 64]:fp32[8], sb[0:4, 64]:fp32[8], 0.5
        vec.add sb[0:4, 96]:fp32[8], sb[0:4, 64]:fp32[8], sb[0:4, 32]:fp32[8]
        vec.copy psum[0:4, 0]:fp32[8], sb[0:4, 96]:fp32[8]
        vec.max sb[0:4, 128]:fp32[8], psum[0:4, 0]:fp32[8], sb[0:4, 0]:fp32[8]
        dma.load sb[0:4, 256]:fp32[8], a
        sem.signal vec, s3
        sem.wait dma, s3
        dma.store y, sb[0:4, 128]:fp32[8]
        halt
    """,
    # docs/timing.md "Serial chain": two loads, a signal, PE's wait, a load of weights, a matmul (ends 93)
    "pe-serial-chain": """
        .tensor x bf16[4, 8] in
        .tensor w bf16[4, 4] in
        dma.load sb[0:4, 0]:bf16[8], x
        dma.load sb[0:4, 64]:bf16[4], w
        sem.signal dma, s0
        sem.wait pe, s0
        pe.load_weights sb[0:4, 64]:bf16[4]
        pe.matmul psum[0:4, 0]:fp32[8], sb[0:4, 0]:bf16[8]
        sem.signal pe, s1
        halt
    """,
    # the PE array's rules: int8 weights K = 3 from partition 1 through a strided pattern, a transposing
    # moving pattern, a matmul reusing the active weights (acc=1 through a strided destination) while the
    # next load (bf16, N = 3) starts at the swap's S + N; back-to-back M = 1 accumulations into one PSUM
    # word (a PSUM write a cycle late reads a stale word), a negative-stride destination; VEC writing and
    # reading PSUM beside the matmuls (one bank: PSUM-bank waits both ways; two banks: none), a PE signal
    # after the matmuls' ends, VEC copying their results to SBUF
    "pe-overlap": """
        .tensor wa int8[3, 4] in
        .tensor xa int8[3, 12] in
        .tensor wb bf16[4, 3] in
        .tensor xb bf16[4, 20] in
        .tensor s fp32[4, 6] in
        dma.load sb[1:4, 0]:int8[4], wa
        dma.load sb[1:4, 16]:int8[12], xa
        dma.load sb[0:4, 64]:bf16[3], wb
        dma.load sb[0:4, 128]:bf16[20], xb
        dma.load sb[0:4, 256]:fp32[6], s
        sem.signal dma, s0, count=2
        sem.wait pe, s0
        pe.load_weights sb[1:4, 0]:int8[2@1, 2@2]
        pe.matmul psum[0:4, 0]:int32[12], sb[1:4, 16]:int8[4@1, 3@4]
        pe.matmul psum[0:4, 0]:int32[6@2], sb[1:4, 16]:int8[6], acc=1
        pe.load_weights sb[0:4, 64]:bf16[3]
        pe.matmul psum[1:4, 512]:fp32[20], sb[0:4, 128]:bf16[20]
        pe.matmul psum[1:4, 512]:fp32[1], sb[0:4, 130]:bf16[1], acc=1
        pe.matmul psum[1:4, 512]:fp32[1], sb[0:4, 132]:bf16[1], acc=1
        nop pe
        pe.matmul psum[1:4, 600]:fp32[4@-1], sb[0:4, 128]:bf16[4@2], acc=1
        sem.signal pe, s1
        sem.wait vec, s0
        vec.copy psum[0:4, 2048]:fp32[6], sb[0:4, 256]:fp32[6]
        vec.adds psum[0:4, 2048]:fp32[6], psum[0:4, 2048]:fp32[6], 1.0
        pe.load_weights sb[1:4, 0]:int8[4]
        pe.matmul psum[0:4, 2560]:int32[2], sb[1:4, 16]:int8[2], acc=1
        sem.wait vec, s1
        vec.copy sb[0:4, 1024]:int32[12], psum[0:4, 0]:int32[12]
        vec.copy sb[1:4, 1088]:fp32[20], psum[1:4, 512]:fp32[20]
        halt
    """,
    # the sparse forms on 4 rows: 1:2 int8 (1-bit indices) over J = 2 moving blocks, then again through a
    # strided moving pattern with acc=1; 2:8 bf16 (3-bit indices crossing a byte) over J = 4 blocks; 1:16
    # int8 (4-bit indices, K = 64 rows of X in J = 16 blocks) into PSUM partitions 1..2; then dense
    # weights again (their indices back to 0). One PSUM bank: a VEC read of PSUM waits for the sparse
    # matmuls (and the dense one) to end, a sparse matmul waits for VEC's PSUM write and wins the tie
    # after it against VEC's next
    "pe-sparse": """
        .tensor v0 int8[4, 3] in
        .tensor i0 int8[4, 1] in
        .tensor x0 int8[4, 10] in
        .tensor v1 bf16[4, 4] in
        .tensor i1 int8[4, 2] in
        .tensor x1 bf16[4, 12] in
        .tensor v2 int8[4, 2] in
        .tensor i2 int8[4, 1] in
        .tensor x2 int8[4, 32] in
        dma.load sb[0:4, 0]:int8[3], v0
        dma.load sb[0:4, 16]:int8[1], i0
        dma.load sb[0:4, 32]:int8[10], x0
        dma.load sb[0:4, 64]:bf16[4], v1
        dma.load sb[0:4, 80]:int8[2], i1
        dma.load sb[0:4, 96]:bf16[12], x1
        dma.load sb[0:4, 160]:int8[2], v2
        dma.load sb[0:4, 176]:int8[1], i2
        dma.load sb[0:4, 192]:int8[32], x2
        sem.signal dma, s0, count=2
        sem.wait pe, s0
        sem.wait vec, s0
        vec.muls sb[0:4, 256]:fp32[4], sb[0:4, 0]:fp32[4], 3.0
        vec.copy sb[0:4, 272]:fp32[4], psum[0:4, 2048]:fp32[4]
        vec.copy psum[0:4, 3072]:fp32[8], sb[0:4, 256]:fp32[8]
        pe.load_sparse sb[0:4, 0]:int8[3], sb[0:4, 16]:int8[1], 1, 2
        pe.matmul_sparse psum[0:3, 0]:int32[5], sb[0:4, 32]:int8[10]
        pe.matmul_sparse psum[0:3, 0]:int32[5], sb[0:4, 32]:int8[2@1, 5@2], acc=1
        pe.load_sparse sb[0:4, 64]:bf16[4], sb[0:4, 80]:int8[2], 2, 8
        pe.matmul_sparse psum[0:4, 256]:fp32[3], sb[0:4, 96]:bf16[12]
        pe.load_sparse sb[0:4, 160]:int8[2], sb[0:4, 176]:int8[1], 1, 16
        pe.matmul_sparse psum[1:3, 512]:int32[2], sb[0:4, 192]:int8[32]
        pe.load_weights sb[0:4, 0]:int8[3]
        pe.matmul psum[0:3, 768]:int32[4], sb[0:4, 32]:int8[4]
        sem.signal pe, s1
        pe.load_sparse sb[0:4, 64]:bf16[4], sb[0:4, 80]:int8[2], 2, 8
        pe.matmul_sparse psum[0:4, 1536]:fp32[3], sb[0:4, 96]:bf16[12]
        halt
    """,
    # the ACT engine in the core: PSUM drained by act.identity after a matmul, in a tie on the PSUM bank
    # with the next matmul (PE first), a VEC copy on that bank waiting for both (ACT before VEC); a relu
    # with a bias pattern, a tanh reading it while it drains (the read-after-write interlock, a function
    # switch), a second tanh streaming behind it, a nop on the ACT queue while they drain, a user table
    # loaded (waits for the drain) and used, ACT writing PSUM beside a later VEC instruction on that bank;
    # a signal on ACT after its last write, then PE and DMA
    "act": """
        .tensor x fp32[4, 16] in
        .tensor bias fp32[4, 1] in
        .tensor w bf16[4, 4] in
        .tensor m bf16[4, 8] in
        .tensor image int32[1, 94] in
        .tensor y fp32[4, 16] out
        .tensor z bf16[4, 16] out
        dma.load sb[0:4, 0]:fp32[16], x
        dma.load sb[0:4, 64]:fp32[1], bias
        dma.load sb[0:4, 128]:bf16[4], w
        dma.load sb[0:4, 160]:bf16[8], m
        dma.load sb[0:1, 1024]:int32[94], image
        sem.signal dma, s0, count=3
        sem.wait pe, s0
        pe.load_weights sb[0:4, 128]:bf16[4]
        pe.matmul psum[0:4, 0]:fp32[8], sb[0:4, 160]:bf16[8]
        sem.signal pe, s1, count=2
        pe.matmul psum[0:4, 2048]:fp32[8], sb[0:4, 160]:bf16[8]
        sem.wait act, s0
        sem.wait act, s1
        act.identity sb[0:4, 640]:fp32[8], psum[0:4, 0]:fp32[8], scale=1.0
        act.relu sb[0:4, 256]:fp32[16], sb[0:4, 0]:fp32[16], scale=0.5, bias=sb[0:4, 64]:fp32[1]
        act.func sb[0:4, 384]:bf16[16], sb[0:4, 256]:fp32[16], fn=tanh, scale=1.0
        act.func sb[0:4, 448]:fp32[16], sb[0:4, 0]:fp32[16], fn=tanh, scale=-0.5, bias=0.25
        nop act
        act.lut.load sb[0:1, 1024]:int32[94], fn=16
        act.func sb[0:4, 512]:fp32[16], sb[0:4, 0]:fp32[16], fn=16, scale=0.5, bias=-0.25
        act.identity psum[0:4, 1024]:fp32[16], sb[0:4, 512]:fp32[16], scale=1.0
        sem.signal act, s2, count=2
        sem.wait vec, s1
        vec.copy psum[0:4, 512]:fp32[8], sb[0:4, 0]:fp32[8]
        sem.wait vec, s0
        vec.muls sb[0:4, 704]:fp32[16], sb[0:4, 0]:fp32[16], 3.0
        vec.muls sb[0:4, 704]:fp32[16], sb[0:4, 704]:fp32[16], 3.0
        vec.muls sb[0:4, 704]:fp32[16], sb[0:4, 704]:fp32[16], 3.0
        vec.muls sb[0:4, 704]:fp32[16], sb[0:4, 704]:fp32[16], 3.0
        vec.muls sb[0:4, 704]:fp32[16], sb[0:4, 704]:fp32[16], 3.0
        vec.muls sb[0:4, 704]:fp32[16], sb[0:4, 704]:fp32[16], 3.0
        vec.adds psum[0:4, 768]:fp32[8], sb[0:4, 704]:fp32[8], 1.0
        sem.wait pe, s2
        pe.matmul psum[0:4, 1536]:fp32[8], sb[0:4, 160]:bf16[8]
        sem.wait dma, s2
        dma.store y, sb[0:4, 448]:fp32[16]
        dma.store z, sb[0:4, 384]:bf16[16]
        halt
    """,
}
# directed programs' inputs that must not be random: the user table (x**2 on (-2, 2)) of the act.lut.load case
DIRECTED_INPUTS = {"act": {"image": ("act.lut.load", "in.image")}}


def engine_mix(program: Program) -> dict[str, int]:
    """How many instructions of `program` each engine has (PE's dense and sparse forms apart; sync/halt:
    sem.*, nop and halt), for a bench's report."""
    names = {"dma": "DMA", "pe": "PE dense", "act": "ACT", "vec": "VEC"}
    mix: dict[str, int] = {}
    for i in program.instructions:
        m = i.mnemonic
        key = "PE sparse" if m in SPARSE_FORMS else names.get(m.split(".")[0], "sync/halt")
        mix[key] = mix.get(key, 0) + 1
    return mix


def random_inputs(r: np.random.Generator, program: Program) -> dict[str, np.ndarray]:
    """Random values for every in/inout tensor: normal floats, full-range integers."""
    out = {}
    for t in program.tensors:
        if t.role not in ("in", "inout"):
            continue
        if t.dtype in ("fp32", "bf16"):
            out[t.name] = r.standard_normal(t.shape).astype(np.float32)
        else:
            info = np.iinfo(NP_STORAGE[t.dtype])
            out[t.name] = r.integers(info.min, info.max, t.shape, endpoint=True).astype(NP_STORAGE[t.dtype])
    return out


def _assemble(text: str, name: str, cfg: CoreConfig) -> Program | str:
    try:
        return assemble(text, name, cfg)
    except AsmError as e:
        return str(e).splitlines()[0]


def fold_case(path: Path, cfg: CoreConfig) -> Program | str:
    """The case at `path` with its partitions folded onto cfg's (verify_act_engine.fold: partition p to
    p mod P, one block further per multiple of P, a block being the case's highest byte in that space
    rounded up to TENSOR_ALIGN, so the folded blocks do not overlap), reassembled for cfg; or why it does
    not fold.
    The folded program is not the case (its expected outputs do not apply): the core is checked on it
    against the model like any program."""
    prog = _assemble(path.read_text(), path.name, CoreConfig())
    if isinstance(prog, str):
        return prog
    aps = [v for i in prog.instructions for v in i.ops.values() if isinstance(v, AP)]
    block = {space: -(-max((byte_span(a)[1] + 1 for a in aps if a.space == space), default=1)
                      // TENSOR_ALIGN) * TENSOR_ALIGN for space in ("sb", "psum")}
    body = [fold(i, cfg.sbuf_partitions, block) for i in prog.instructions]
    bad = next((k for k, f in enumerate(body) if f is None), None)
    if bad is not None:
        return f"{_ins_text(prog, bad)}: a pattern straddles a multiple of {cfg.sbuf_partitions} partitions"
    return _assemble(disassemble_program(Program(prog.tensors, body)), f"{path.stem}-folded.s", cfg)


def programs(cfg: CoreConfig, n_random: int, seed: int, sparse: bool = True,
             engines: tuple[str, ...] = RANDOM_ENGINES,
             fold_cases: bool = False) -> tuple[list[Case], list[tuple[str, str]]]:
    """The programs to play on `cfg` (a core with the sparse PE forms or not; the random pipelines' steps
    on `engines`, see random_pipeline; with `fold_cases` a case that does not fit is also played folded
    onto the partitions, see fold_case) and the (name, reason) of those skipped."""
    r = np.random.default_rng([seed, 15])
    cases: list[Case] = []
    skipped: list[tuple[str, str]] = []

    def add(name: str, prog: Program | str, inputs: dict | None = None) -> None:
        why = prog if isinstance(prog, str) else skip_reason(prog, cfg, sparse)
        if why:
            skipped.append((name, why))
        else:
            cases.append(Case(name, prog, inputs if inputs is not None else random_inputs(r, prog)))

    for name, text in DIRECTED.items():
        prog = _assemble(text, name, cfg)
        fixed = {t: np.load(resources.CASES_DIR / f"{case}.npz")[key]
                 for t, (case, key) in DIRECTED_INPUTS.get(name, {}).items()}
        add(name, prog, {**random_inputs(r, prog), **fixed} if fixed and not isinstance(prog, str) else None)
    for path in sorted(resources.CASES_DIR.glob("*.s")):
        prog = _assemble(path.read_text(), path.name, cfg)
        data = np.load(path.with_suffix(".npz")) if path.with_suffix(".npz").is_file() else {}
        inputs = {k[3:]: data[k] for k in data if k.startswith("in.")}
        if isinstance(prog, str) and fold_cases:
            add(f"{path.stem} folded", fold_case(path, cfg), inputs)
        add(path.stem, prog, inputs)
    for path in sorted(resources.EXAMPLES_DIR.glob("*.s")):
        add(path.name, _assemble(path.read_text(), path.name, cfg))
    p = cfg.sbuf_partitions
    for k in range(n_random):
        text = random_pipeline(r, chains=int(r.integers(1, 4)), stages=int(r.integers(1, 5)), partitions=p,
                               elements=int(r.choice([4, 8, 16, 24])), semaphores=cfg.semaphores,
                               engines=engines)
        add(f"random {k}", _assemble(text, f"random{k}.s", cfg))
    return cases, skipped


def compiled(cfg: CoreConfig, seed: int) -> tuple[list[Case], list[tuple[str, str]]]:
    """Small ONNX graphs compiled by accel.compiler for `cfg`, every core segment a program (inputs: the
    graph's random inputs and the segment's constants), and the (name, reason) of those skipped. The
    compiler drains every matmul's PSUM through act.identity."""
    from onnx import TensorProto, helper, numpy_helper

    from accel.compiler import compile_model

    r = np.random.default_rng([seed, 16])
    p = cfg.sbuf_partitions
    graphs = {  # name: (nodes, inputs and their shapes, initializers)
        "matmul": ([helper.make_node("MatMul", ["x", "w"], ["y"])], {"x": [p, 2 * p]},
                   {"w": r.standard_normal((2 * p, p))}),
        "mul-add-maxpool": ([helper.make_node("Mul", ["x", "x"], ["h"]), helper.make_node("Add", ["h", "z"], ["s"]),
                             helper.make_node("MaxPool", ["s"], ["y"], kernel_shape=[2, 2], strides=[2, 2])],
                            {"x": [1, p, 6, 6], "z": [1, p, 6, 6]}, {}),
    }
    cases: list[Case] = []
    skipped: list[tuple[str, str]] = []
    for name, (nodes, shapes, inits) in graphs.items():
        g = helper.make_graph(nodes, name, [helper.make_tensor_value_info(n, TensorProto.FLOAT, v)
                                            for n, v in shapes.items()],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(np.asarray(a, np.float32), n) for n, a in inits.items()])
        model = compile_model(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), cfg)
        values = {n: r.standard_normal(v).astype(np.float32) for n, v in shapes.items()}
        for k, step in enumerate(st for st in model.steps if st.kind == "core"):
            label = f"compiled {name} segment {k}"
            why = skip_reason(step.program, cfg)
            if why:
                skipped.append((label, why))
                continue
            seg = step.segment
            inputs = {t: values[v].reshape(-1) for t, v in seg.feeds.items()}
            cases.append(Case(label, step.program, {**inputs, **seg.consts}))
    return cases, skipped


def skip_reason(program: Program, cfg: CoreConfig, sparse: bool = True) -> str:
    """Why the core (with the sparse PE forms or not) cannot run `program` on `cfg` (empty when it can)."""
    body = program.instructions
    halt = next((k for k, i in enumerate(body) if i.mnemonic == "halt"), len(body))
    sparse_used = sorted({i.mnemonic for i in body[:halt]} & SPARSE_FORMS)
    if sparse_used and not sparse:
        return f"uses {', '.join(sparse_used)}: this core is built without the sparse forms (PE_SPARSE_M = 0)"
    if halt >= PROG_DEPTH:
        return f"{halt} instructions: the bench holds {PROG_DEPTH - 1} and halt"
    if dram_layout(program)[1] > DRAM_BYTES:
        return f"its tensors need more than the bench's {DRAM_BYTES} DRAM bytes"
    return ""


def dram_layout(program: Program) -> tuple[list[int], int]:
    """Base byte address of every tensor (in declaration order, each aligned to TENSOR_ALIGN) and the
    bytes they take."""
    bases, at = [], 0
    for t in program.tensors:
        bases.append(at)
        at += -(-t.size * dtype_bytes(t.dtype) // TENSOR_ALIGN) * TENSOR_ALIGN
    return bases, at


def _dram_image(program: Program, dram: dict[str, np.ndarray]) -> np.ndarray:
    img = np.zeros(DRAM_BYTES, dtype=np.uint8)
    for t, base in zip(program.tensors, dram_layout(program)[0], strict=True):
        raw = np.ascontiguousarray(dram[t.name]).view(np.uint8).reshape(-1)
        img[base:base + raw.size] = raw
    return img


# --------------------------------------------------------------------------------------------- comparing


def _ins_text(program: Program, i: int) -> str:
    ins = program.instructions[i]
    where = ins.where() or f"instruction {i}"
    return f"{where}: {ins.source.strip() if ins.source else ins.mnemonic}"


def _writer(program: Program, n: int, space: str, part: int, byte: int) -> str:
    """The last instruction (of the first n) whose destination pattern's span covers the byte."""
    for i in range(n - 1, -1, -1):
        dst = program.instructions[i].ops.get("dst")
        if isinstance(dst, AP) and dst.space == space and dst.pstart <= part < dst.pstart + dst.pcount:
            lo, hi = byte_span(dst)
            if lo <= byte <= hi:
                return _ins_text(program, i)
    return "none"


def compare(case: Case, cfg: CoreConfig, folder: Path, expected: dict) -> list[str]:
    """Every difference between the core's results in `folder` (the files sim/core_tb.v writes) and the
    model's (`expected`, see model_run), in words: compare_images on those files."""
    got = {"dram": read_memh(folder / "core_dram_final.hex", 8).astype(np.uint8),
           "sb": read_memh(folder / "core_sb_final.hex", 8).astype(np.uint8).reshape(-1, cfg.sbuf_partition_bytes),
           "psum": read_memh(folder / "core_ps_final.hex", 8).astype(np.uint8).reshape(-1, cfg.psum_partition_bytes),
           "start": read_memh(folder / "core_start.hex", 32), "end": read_memh(folder / "core_end.hex", 32)}
    return compare_images(case, got, expected)


def compare_images(case: Case, got: dict, expected: dict) -> list[str]:
    """Every difference between the core's final images and trace (`got`: "dram" bytes, "sb" and "psum"
    [partition, byte] arrays, "start" and "end" cycles per instruction, all ones for never; "start" and
    "end" may be left out) and the model's (`expected`, see model_run), in words: the first differing byte
    of each memory and every instruction whose start or end differs. One comparison for the files of
    sim/core_tb.v (compare) and the arrays of a cocotb bench of rtl/core.v (accel.tb.core_bench)."""
    prog = case.program
    out = []
    n = len(expected["start"])
    got_dram = np.asarray(got["dram"], dtype=np.uint8)
    if got_dram.shape != expected["dram"].shape:
        return [f"DRAM: the core's image has {got_dram.size} bytes, the model's {expected['dram'].size}"]
    bad = np.flatnonzero(got_dram != expected["dram"])
    if bad.size:
        b = int(bad[0])
        bases = dram_layout(prog)[0]
        t = max((k for k, base in enumerate(bases) if base <= b), default=0)
        tensor = prog.tensors[t]
        writer = next((_ins_text(prog, i) for i in range(n - 1, -1, -1)
                       if prog.instructions[i].mnemonic == "dma.store"
                       and prog.instructions[i].ops["dst"].tensor == t), "none")
        out.append(f"DRAM: {bad.size} bytes differ; first: byte {b - bases[t]} of tensor {tensor.name}: core "
                   f"{got_dram[b]:#04x}, model {expected['dram'][b]:#04x} (last store to it: {writer})")
    for space in ("sb", "psum"):
        mem = np.asarray(got[space], dtype=np.uint8)
        want = expected[space]
        if mem.shape != want.shape:
            out.append(f"{space.upper()}: the core's image is {mem.shape}, the model's {want.shape}")
            continue
        bad = np.argwhere(mem != want)
        if bad.size:
            part, byte = (int(v) for v in bad[0])
            out.append(f"{space.upper()}: {len(bad)} bytes differ; first: partition {part} byte {byte}: core "
                       f"{mem[part, byte]:#04x}, model {want[part, byte]:#04x} (last written by "
                       f"{_writer(prog, n, space, part, byte)})")
    if "start" not in got:
        return out
    start = np.asarray(got["start"])[:n]
    end = np.asarray(got["end"])[:n]
    for i in np.flatnonzero((start != expected["start"]) | (end != expected["end"])):
        eng = ENGINES[expected["engine"][i]]
        out.append(f"cycle: {_ins_text(prog, int(i))} on {eng}: core start {_cyc(start[i])} end {_cyc(end[i])}, "
                   f"model start {expected['start'][i]} end {expected['end'][i]}")
    return out


def _cyc(v: int) -> str:
    return "never" if v == 0xFFFFFFFF else str(int(v))


# --------------------------------------------------------------------------------------------- running


def model_run(case: Case, cfg: CoreConfig) -> tuple[np.ndarray, dict]:
    """The DRAM image (DRAM_BYTES, dram_layout's bases) a case starts from, and what accel.Core (the model
    backend) ends with: "dram", "sb", "psum" and the timeline's "start", "end", "engine", "total" (the
    `expected` of compare_images)."""
    core = Core(cfg, backend="model")
    core.load(case.program, case.inputs)
    dram0 = _dram_image(case.program, core.dram)
    tl = core.run().timeline
    return dram0, {"dram": _dram_image(case.program, core.dram), "sb": core.sbuf.copy(), "psum": core.psum.copy(),
                   "start": tl.start, "end": tl.end, "engine": tl.engine, "total": tl.total}


def max_cycles(expected: dict) -> int:
    """A bench's cycle limit for a program the model runs in expected["total"] cycles."""
    return 10 * expected["total"] + 20_000


def bench(sim: str, cfg: CoreConfig, cases: list[Case], fault: int = 0, queue_depth: int | None = None,
          sparse: bool = True) -> dict:
    """Play `cases` on rtl/core.v built for `cfg` (with a planted `fault` / RTL `queue_depth`, with the
    sparse PE forms or not, see parameters); returns {"results": [per program: name, cycles, seconds,
    mismatches (texts)], "seconds", "build_seconds"}."""
    with tempfile.TemporaryDirectory(prefix="accel-core-") as tmp:
        plan, expected = [], []
        for k, case in enumerate(cases):
            dram0, want = model_run(case, cfg)
            expected.append(want)
            folder = Path(tmp) / f"p{k}"
            folder.mkdir()
            body = [encode(i) for i in case.program.instructions]
            write_memh(folder / "core_prog.hex", body or [0], WORD_BITS)
            bases = dram_layout(case.program)[0]
            write_memh(folder / "core_ttab.hex", np.array(bases + [0] * (256 - len(bases)), dtype=np.uint32), 32)
            write_memh(folder / "core_dram.hex", dram0, 8)
            plan.append({"name": case.name, "dir": str(folder), "nprog": len(body),
                         "max_cycles": max_cycles(want)})
        run = run_planned(sim, TOPLEVEL, SOURCES, TEST_MODULE, {"programs": plan}, PLAN_ENV, REPORT_ENV,
                          parameters=parameters(cfg, fault, queue_depth, sparse))
        results = run.report or []
        for res, case, entry, want in zip(results, cases, plan, expected, strict=False):
            res["instructions"] = len(want["start"])
            if not res["finished"]:
                res["mismatches"] = [f"did not finish within {entry['max_cycles']} cycles"]
            elif res["err"]:
                res["mismatches"] = [f"the core stopped at {_ins_text(case.program, res['err_pc'])}: not supported"]
            else:
                res["mismatches"] = compare(case, cfg, Path(entry["dir"]), want)
        if run.error and not results:
            raise BenchFailure(run.error)
        return {"results": results, "seconds": run.seconds, "build_seconds": run.build_seconds,
                "error": run.error if len(results) < len(cases) else None}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--programs (random pipelines), --partitions."""
    parser.add_argument("--programs", type=int, default=None,
                        help="random multi-engine programs (default: 4 icarus, 40 verilator)")
    parser.add_argument("--partitions", type=int, default=4, help="partitions (= VEC lanes; default 4)")


def run(args: argparse.Namespace) -> dict:
    """`accel verify core` on args.sim."""
    cfg = config(args.partitions)
    n = DEFAULT_PROGRAMS[args.sim] if args.programs is None else args.programs
    cases, skipped = programs(cfg, n, args.seed)
    more, more_skipped = compiled(cfg, args.seed)
    cases, skipped = cases + more, skipped + more_skipped
    out = bench(args.sim, cfg, cases)
    results = out["results"]
    bad = [r for r in results if r["mismatches"]]
    instrs = sum(r["instructions"] for r in results)
    sim_s = sum(r["seconds"] for r in results)
    first = f"{bad[0]['name']}: {bad[0]['mismatches'][0]}" if bad else None
    return {"unit": "core", "sim": args.sim, "partitions": args.partitions, "vectors": instrs,
            "mismatches": sum(len(r["mismatches"]) for r in results) + len(cases) - len(results),
            "vectors_per_s": round(instrs / sim_s) if sim_s else 0, "seconds": round(out["seconds"], 1),
            "programs": len(results), "cycles": sum(r["cycles"] for r in results),
            "skipped": [f"{name}: {why}" for name, why in skipped], "first": first, "error": out["error"]}

