"""Yosys generic gate counts of the RNG blocks next to one PE (opt-in: needs `yosys` on PATH).

    python benchmarks/gates_rng.py

Each block is synthesized alone with `synth -top BLOCK` (Yosys' generic cell library, no
technology mapping) and the cells of `stat` are reported: flip-flops and the rest, so users see what a
generator costs next to a processing element. Results are recorded in docs/vec.md. The vector engine
(rtl/vec_engine.v at 4 lanes) takes Yosys about half an hour on the shared 2-core machine.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

RTL = Path(__file__).resolve().parents[1] / "rtl"
BLOCKS = [
    ("rng_xoroshiro", ["rng_xoroshiro.v"], "one lane: 64 bits per clock"),
    ("rng_philox", ["rng_philox.v"], "10-stage pipeline: 128 bits per clock"),
    ("rng_philox_iter", ["rng_philox_iter.v"], "iterated, one round per clock: 128 bits per 11 clocks"),
    ("dropout_threshold", ["dropout_threshold.v"], "round(p * 2**32) from p's bits"),
    ("dropout_scale", ["dropout_scale.v"], "binary32 nearest 1/(1-p): restoring division, 2 bits a clock, 15 clocks"),
    ("splitmix64_seeder", ["splitmix64_seeder.v"], "SplitMix64 seeding, 128 lanes: 3-stage pipeline, 2 clocks a lane"),
    ("simd_lane", ["simd_lane.v", "dropout_threshold.v", *[f"fp/{p.name}" for p in sorted((RTL / "fp").glob("*.v"))]],
     "conversions in and out, fp32 add/sub/mul/min/max, cast, dropout, fill"),
    ("vec_lane", ["vec_lane.v", "rng_philox_iter.v", "rng_xoroshiro.v", "simd_lane.v", "dropout_threshold.v",
                  *[f"fp/{p.name}" for p in sorted((RTL / "fp").glob("*.v"))]],
     "one engine lane: simd_lane, rng_philox_iter + block cache, rng_xoroshiro, registers"),
    ("vec_engine", ["vec_engine.v", "vec_lane.v", "vec_ap_walk.v", "rng_philox_iter.v", "rng_xoroshiro.v",
                    "simd_lane.v", "dropout_threshold.v", "dropout_scale.v", "splitmix64_seeder.v",
                    *[f"fp/{p.name}" for p in sorted((RTL / "fp").glob("*.v"))]],
     "the whole engine at LANES = 4", {"LANES": 4}),
    ("pe", ["pe.v", "pe_mac.v", *[f"fp/{p.name}" for p in sorted((RTL / "fp").glob("*.v"))]], "one PE of the array"),
]


def cells(top: str, files: list[str], params: dict[str, int] | None = None, extra: Sequence[Path] = (),
          share: bool = True, defer: bool = False, memories: Sequence[str] = (),
          timeout: float | None = None) -> dict[str, int]:
    """Yosys `stat` cell counts by type (and 'total') of `top` built from rtl/ files plus `extra` ones;
    share=False adds -noshare (skips the SAT-based sharing of exclusive operators, slow on big units).
    defer=True reads `files` with -defer and gives `params` to `hierarchy -chparam`, so `top` is elaborated
    once at `params` (not first at its defaults: rtl/core.v's memory loops at 8192 bytes take minutes).
    `memories`: memories of `top` kept as Yosys memory cells (black boxes: SRAM in the area model) instead
    of flip-flops; their cells are left out of the counts (an error unless each named one is there).
    'total' is the generic cells (generic_total).
    `timeout`: seconds before the Yosys run is stopped (SystemExit naming the block)."""
    inc = f"-I{RTL / 'include'}"
    reads = "; ".join([*(f"read_verilog {inc} {f}" for f in extra),
                       *(f"read_verilog {'-defer ' if defer else ''}{inc} {RTL / f}" for f in files)])
    if defer:
        sets = f"hierarchy -top {top}" + "".join(f" -chparam {k} {v}" for k, v in (params or {}).items()) + "; "
    else:
        sets = "".join(f"chparam -set {k} {v} {top}; " for k, v in (params or {}).items())
    synth = f"synth -flatten{'' if share else ' -noshare'} -top {top}"
    if memories:  # synth's fine stage with memory_map on every memory but the kept ones
        kept = " ".join(f"n:{m}" for m in memories) + " %u" * (len(memories) - 1)
        synth += (f" -run :fine; opt -fast -full; memory_map t:$mem_v2 {kept} %d; opt -full; techmap; opt -fast; "
                  f"abc -fast; opt -fast; select -list t:$mem_v2; select -clear")
    try:
        out = subprocess.run(["yosys", "-p", f"{reads}; {sets}{synth}; stat"], capture_output=True, text=True,
                             check=True, timeout=timeout).stdout
    except subprocess.TimeoutExpired:
        raise SystemExit(f"yosys: {top} {params or ''} did not finish in {timeout:.0f} s") from None
    except subprocess.CalledProcessError as e:
        errors = [line for line in (e.stdout + e.stderr).splitlines() if "ERROR" in line]
        raise SystemExit(f"yosys: {top} {params or ''}: {errors[-1].strip() if errors else 'failed'}") from None
    stat = out[out.rindex("Printing statistics"):]
    counts = {m.group(1): int(m.group(2)) for m in re.finditer(r"\s+(\$_\w+_)\s+(\d+)", stat)}
    if memories:
        listed = re.findall(r"^\S+/(\S+)$", out[out.rindex("select -list"):out.rindex("Printing statistics")], re.M)
        if sorted(m.lstrip("\\") for m in listed) != sorted(memories):
            raise SystemExit(f"yosys: {top}'s memory cells are {listed}, expected {list(memories)}")
    return generic_total(counts)


def generic_total(counts: dict[str, int]) -> dict[str, int]:
    """`counts` with 'total' the sum of its generic cells (black-box instances and kept memories, which
    `stat`'s "Number of cells" includes, are not cells of the block)."""
    return {**counts, "total": sum(v for k, v in counts.items() if k.startswith("$_"))}


def print_row(top: str, what: str, counts: dict[str, int]) -> None:
    """One markdown table row: cells, flip-flops, the rest."""
    ff = sum(v for k, v in counts.items() if "DFF" in k)
    print(f"| {top} | {what} | {counts['total']} | {ff} | {counts['total'] - ff} |", flush=True)


def main() -> int:
    if shutil.which("yosys") is None:
        print("yosys is not installed (apt-get install -y yosys)", file=sys.stderr)
        return 2
    print("| block | what | cells | flip-flops | other cells |")
    print("|---|---|---|---|---|")
    for top, files, what, *params in BLOCKS:
        if not all((RTL / f).is_file() for f in files):
            continue
        print_row(top, what, cells(top, files, *params))
    return 0


if __name__ == "__main__":
    sys.exit(main())
