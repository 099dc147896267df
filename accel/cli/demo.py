"""`accel demo` / `make demo`: the two-layer bf16 MLP, run on the emulator, checked against NumPy.

The reference is float64 NumPy on the same bf16-rounded inputs. The check is a rigorous
bound, not a loose tolerance: the program rounds the hidden layer to bf16 (half an ulp,
2^-9 relative) and accumulates in binary32 (at most K * 2^-24 relative to the sum of
magnitudes), so each output must lie within the propagated bound.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from accel.cli.report import format_stats, format_timing, stats_dict
from accel.isa.asm import assemble_file
from accel.isa.encoding import Program
from accel.isa.resources import DATA_ROOT, EXAMPLES_DIR
from accel.machine import Core, Stats
from accel.model import fp

EXAMPLE = EXAMPLES_DIR / "mlp.s"  # from the checkout, or the copy a wheel carries
U32 = 2.0**-24  # unit roundoff of binary32
U16 = 2.0**-8   # unit roundoff of bf16


def bf16_round(a: np.ndarray) -> np.ndarray:
    """float64 values of `a` rounded to bf16 (via the reference conversion)."""
    bits = fp.fp32_to_bf16(fp.f32_bits(np.asarray(a, dtype=np.float32)))
    return fp.f32_value(fp.bf16_to_fp32(bits)).astype(np.float64)


def reference(x, w1, b1, w2, b2) -> tuple[np.ndarray, np.ndarray]:
    """float64 y and the elementwise error bound the emulator must meet."""
    d, h_units = w1.shape
    pre = x @ w1 + b1.T
    h = np.maximum(pre, 0)
    err_pre = (d + 1) * U32 * (np.abs(x) @ np.abs(w1) + np.abs(b1.T))
    err_h = err_pre + U16 * (h + err_pre)           # bf16 rounding of the hidden layer
    y = h @ w2 + b2.T
    err_y = err_h @ np.abs(w2) + (h_units + 1) * U32 * ((h + err_h) @ np.abs(w2) + np.abs(b2.T))
    return y, err_y


def check_mlp(prog: Program, seed: int = 0) -> tuple[dict, np.ndarray, np.ndarray]:
    """Run an MLP program on random inputs; the report (statistics, timing, error), the outputs and
    the reference."""
    rng = np.random.default_rng(seed)
    shapes = {t.name: t.shape for t in prog.tensors}
    inputs = {
        "x": rng.standard_normal(shapes["x"]),
        "w1": rng.standard_normal(shapes["w1"]) / np.sqrt(shapes["w1"][0]),
        "b1": rng.standard_normal(shapes["b1"]) * 0.1,
        "w2": rng.standard_normal(shapes["w2"]) / np.sqrt(shapes["w2"][0]),
        "b2": rng.standard_normal(shapes["b2"]) * 0.1,
    }
    start = time.perf_counter()
    result = Core().run(prog, inputs)
    seconds = time.perf_counter() - start
    ref_in = {k: (bf16_round(v) if k.startswith(("x", "w")) else v.astype(np.float32).astype(np.float64))
              for k, v in inputs.items()}
    y_ref, bound = reference(**ref_in)
    y = result.outputs["y"].astype(np.float64)
    err = np.abs(y - y_ref)
    ok = bool(np.all(err <= bound))
    report = {
        "program": prog.source_name,
        "stats": stats_dict(result.stats),  # the layout of `accel run --json`
        "timing": result.timing,  # as `accel run --json` (without the per-instruction records)
        "max_abs_error": float(err.max()),
        "max_error_over_bound": float((err / bound).max()),
        "seconds": seconds,
        "result": "PASS" if ok else "FAIL",
    }
    return report, y, y_ref


def run_demo(seed: int = 0, as_json: bool = False, plot: str | None = None) -> int:
    """`accel demo`: assemble isa/examples/mlp.s, run it, check it, print the report."""
    prog = assemble_file(str(EXAMPLE.relative_to(DATA_ROOT)) if Path.cwd() == DATA_ROOT else str(EXAMPLE))
    report, y, y_ref = check_mlp(prog, seed)
    if plot:
        _plot(y_ref, y, plot)
        report["plot"] = plot
    if as_json:
        print(json.dumps(report, indent=2))
        return 0 if report["result"] == "PASS" else 1
    print(f"accel demo: {report['program']} (two-layer MLP, bf16, batch {y.shape[0]})")
    print(format_stats(Stats(**report["stats"])))
    print(format_timing(report["timing"]))
    print(f"max error     {report['max_abs_error']:.3g} (at most {report['max_error_over_bound']:.2f}"
          " of the bf16/fp32 rounding bound)")
    print(f"emulated in   {report['seconds'] * 1e3:.1f} ms")
    if plot:
        print(f"plot          {plot}")
    print(report["result"])
    return 0 if report["result"] == "PASS" else 1


def _plot(ref: np.ndarray, got: np.ndarray, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(ref.ravel(), got.ravel(), s=6)
    lim = [min(ref.min(), got.min()), max(ref.max(), got.max())]
    ax.plot(lim, lim, lw=0.8, color="gray")
    ax.set_xlabel("NumPy float64 reference")
    ax.set_ylabel("accel emulator")
    ax.set_title("MLP outputs")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
