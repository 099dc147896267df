"""The example programs compute what they claim, and the demo's check can fail."""

from __future__ import annotations

import numpy as np
import pytest

import accel
from accel.cli.demo import EXAMPLE, check_mlp
from accel.isa.spec import REPO_ROOT


@pytest.mark.parametrize("seed", range(4))
def test_mlp_within_rounding_bound(seed: int):
    report, _, _ = check_mlp(accel.assemble_file(str(EXAMPLE)), seed)
    assert report["result"] == "PASS", report
    assert report["stats"]["macs"] == 32 * 128 * 64 + 32 * 64 * 10
    assert report["stats"]["bytes_sbuf_to_dram"] == 32 * 10 * 4


@pytest.mark.parametrize(
    ("original", "mutant"),
    [
        ("act.relu ", "act.identity "),                              # relu dropped
        ("bias=sb[0:O, B2]:fp32[1]", "bias=0.0"),                    # output bias dropped
        ("pe.load_weights sb[0:H, W2]:bf16[O]",                     # w2 read one column off
         "pe.load_weights sb[0:H, W2+2]:bf16[O]"),
        ("act.relu  sb[0:H, HT]:bf16[B]", "act.relu  sb[0:H, HT]:bf16[B-1]"),  # shape error -> no PASS
    ],
)
def test_demo_check_catches_wrong_programs(original: str, mutant: str):
    """A check that cannot fail is a defect: mutated programs must FAIL."""
    text = EXAMPLE.read_text()
    assert original in text
    try:  # a shape error is now found by the assembler's static checks
        report, _, _ = check_mlp(accel.assemble(text.replace(original, mutant, 1), "mutant.s"), seed=1)
    except (accel.AsmError, accel.MachineError):
        return
    assert report["result"] == "FAIL"


def test_int8_gemm_example():
    prog = accel.assemble_file(str(REPO_ROOT / "isa" / "examples" / "int8_gemm.s"))
    rng = np.random.default_rng(5)
    a = rng.integers(-128, 128, (64, 256)).astype(np.int8)
    w = rng.integers(-128, 128, (256, 96)).astype(np.int8)
    a[0, :] = -128
    w[:, 0] = -128  # the largest products: 256 * 2^14 stays far inside int32
    r = accel.run(prog, {"a": a, "w": w})
    ref = (a.astype(np.int64) @ w.astype(np.int64)).T
    np.testing.assert_array_equal(r.outputs["c"], ref)
    np.testing.assert_array_equal(r.outputs["cmax"][:, 0], (ref.astype(np.float32) * np.float32(0.5)).max(axis=1))
    assert r.stats.macs == 2 * 128 * 96 * 64
