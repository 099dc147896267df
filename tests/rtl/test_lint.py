"""One lint test for the whole RTL: every module of rtl/ and every bench wrapper of sim/ is silent under
`verilator --lint-only -Wall`, built from exactly the files accel.tb.sources() lists for it (so the
file lists are checked too), at its default parameters and at the extra parameter sets below (edge
shapes of the arrays). Every Verilog file starts with a timescale, and the blocks' header comments
state their latency."""

from __future__ import annotations

import subprocess

import pytest

from accel.tb import rtl_modules, sources
from accel.tb.runner import INCLUDE_DIR, RTL_DIR, SIM_DIR

# Parameter sets linted besides the defaults; LANES=16 stands in for the 128-lane default, which
# takes 15 s to elaborate.
PARAMETERS: dict[str, list[dict[str, int]]] = {
    "psum_acc": [{"C": 8}],
    "pe_array": [{"R": 1, "C": 1}, {"R": 4, "C": 8}, {"R": 16, "C": 16}],
    "pe_array_tb": [{"R": 3, "C": 5}, {"R": 4, "C": 3, "SPARSE": 1, "N": 2, "M": 8, "IW": 3}],
    "pe": [{"M": 4, "IW": 2}, {"M": 16, "IW": 4}],
    "core": [{"SYNC_CYCLES": 2, "DISPATCH_CYCLES": 2, "QUEUE_DEPTH": 1, "DMA_QUEUES": 1, "DMA_BEAT": 16}],
    "sparse_array": [{"R": 4, "C": 4, "N": 2, "M": 4, "IW": 2}, {"R": 3, "C": 1, "N": 1, "M": 2, "IW": 1},
                     {"R": 8, "C": 8, "N": 4, "M": 16, "IW": 4}],
}
DEFAULT_OVERRIDES = {"vec_engine": {"LANES": 16}, "vec_engine_tb": {"LANES": 16}, "act_engine": {"LANES": 8}}
CASES = [(m, DEFAULT_OVERRIDES.get(m, {})) for m in rtl_modules()] + \
        [(m, p) for m, sets in PARAMETERS.items() for p in sets]
LATENCY_STATED = [*sorted((RTL_DIR / "fp").glob("*.v")),
                  *(RTL_DIR / f"{n}.v" for n in ("rng_philox", "rng_philox_iter", "rng_xoroshiro", "simd_lane",
                                                  "dropout_threshold", "dropout_scale", "splitmix64_seeder",
                                                  "vec_engine", "vec_lane", "vec_ap_walk", "act_func", "lut_unit",
                                                  "act_engine", "act_lane", "act_image_mem", "act_func_core"))]


@pytest.mark.rtl
@pytest.mark.parametrize("module,params", CASES,
                         ids=[f"{m}{''.join(f'-{k}{v}' for k, v in p.items())}" for m, p in CASES])
def test_lint_clean(verilator: str, module: str, params: dict[str, int]) -> None:
    cmd = [verilator, "--lint-only", "-Wall", f"-I{INCLUDE_DIR}", "--top-module", module,
           *(f"-G{k}={v}" for k, v in params.items()), *map(str, sources(module))]
    out = subprocess.run(cmd, capture_output=True, text=True)
    warnings = [line for line in out.stderr.splitlines() if line.startswith("%")]
    assert out.returncode == 0 and not warnings, "\n".join(warnings) or out.stderr


@pytest.mark.parametrize("path", [*sorted(RTL_DIR.rglob("*.v")), *sorted(SIM_DIR.glob("*.v"))],
                         ids=lambda p: p.name)
def test_starts_with_a_timescale(path) -> None:
    assert path.read_text().startswith("`timescale 1ns/1ps"), f"{path} must start with `timescale 1ns/1ps"


@pytest.mark.parametrize("path", LATENCY_STATED, ids=lambda p: p.name)
def test_header_states_the_latency(path) -> None:
    assert "atency" in path.read_text(), f"{path}: the header comment states no latency"
