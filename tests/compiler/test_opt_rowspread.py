"""Row spreading of convolutions (pe.spread_plan, pe._lower_conv_spread): the spread program's values
against the plain program's and a float64 oracle within the stated bound, race-free, the plan's
counts on ResNet-50's first conv, and the switch (Options, --no-row-spread)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from accel import CoreConfig
from accel.cli import main
from accel.compiler import compile_model
from accel.compiler.pe import _plain_cost, spread_plan
from accel.compiler.plan import Options
from accel.compiler.reference import to_bf16
from accel.timing import check_races

SMALL = CoreConfig(pe_rows=32, pe_cols=16, sbuf_partitions=32, psum_partitions=32)
OFF = Options(row_spread=False, reorder=False)
ON = Options(row_spread=True, reorder=False)


def conv_model(n, cin, cout, h, w, k, s, pads, dil=1, group=1, seed=0):
    rng = np.random.default_rng(seed)
    kh, kw = k if isinstance(k, tuple) else (k, k)
    wt = (rng.standard_normal((cout, cin // group, kh, kw)) / np.sqrt(cin // group * kh * kw)).astype(np.float32)
    bias = rng.standard_normal(cout).astype(np.float32)
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[kh, kw], strides=[s, s], pads=pads,
                            dilations=[dil, dil], group=group)
    relu = helper.make_node("Relu", ["y"], ["z"])
    g = helper.make_graph([node, relu], "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n, cin, h, w])],
                          [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(wt, "w"), numpy_helper.from_array(bias, "b")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), wt, bias


def conv64(x, w, b, s, pads, dil, group):
    """Float64 convolution (the oracle): sum and |sum| of products, per output."""
    n, cin, h, wd = x.shape
    cout, cg, kh, kw = w.shape
    xp = np.zeros((n, cin, h + pads[0] + pads[2], wd + pads[1] + pads[3]))
    xp[:, :, pads[0]:pads[0] + h, pads[1]:pads[1] + wd] = x
    oh = (xp.shape[2] - dil * (kh - 1) - 1) // s + 1
    ow = (xp.shape[3] - dil * (kw - 1) - 1) // s + 1
    y, mag = np.zeros((n, cout, oh, ow)), np.zeros((n, cout, oh, ow))
    og = cout // group
    for g in range(group):
        for i in range(kh):
            for j in range(kw):
                r0, c0 = i * dil, j * dil
                patch = xp[:, g * cg:(g + 1) * cg, r0:r0 + s * (oh - 1) + 1:s, c0:c0 + s * (ow - 1) + 1:s]
                wk = w[g * og:(g + 1) * og, :, i, j].astype(np.float64)
                y[:, g * og:(g + 1) * og] += np.einsum("oc,nchw->nohw", wk, patch)
                mag[:, g * og:(g + 1) * og] += np.einsum("oc,nchw->nohw", np.abs(wk), np.abs(patch))
    return y + b[None, :, None, None], mag


CASES = [  # n, cin, cout, h, w, kernel, stride, pads, dilation, group
    (1, 3, 16, 20, 20, 7, 2, [3, 3, 3, 3]),  # ResNet's stem
    (1, 3, 8, 17, 17, 3, 1, [1, 1, 1, 1]),  # VGG's first conv: the whole kernel in one matmul
    (2, 4, 24, 13, 11, 3, 1, [1, 0, 2, 1]),  # batch, asymmetric pads, output channels over two tiles of 16
    (1, 3, 8, 27, 27, 11, 4, [2, 2, 2, 2]),  # AlexNet's stem: stride 4
    (1, 4, 8, 15, 15, 3, 2, [2, 2, 2, 2], 2),  # dilation with stride
    (1, 8, 8, 12, 12, 5, 1, [2, 2, 2, 2], 1, 2),  # groups
    (1, 16, 8, 10, 10, 3, 1, [1, 1, 1, 1]),  # half the rows: part of a kernel row per matmul
    (1, 2, 8, 9, 14, (2, 5), 1, [0, 2, 1, 2]),  # non-square kernel
]


@pytest.mark.parametrize("case", CASES)
def test_spread_equals_plain_within_the_bound(case) -> None:
    """Both programs sum the same bf16 products in binary32, in another order: each is within
    gamma_n * S of the exact sum (n products, S = the sum of their magnitudes, gamma_n = n 2^-24),
    so they differ by at most 2 gamma_n S before the bias add and ReLU, plus one bf16 spacing
    (2^-7 relative) where the two land on either side of a rounding boundary. Both are checked
    against the float64 oracle on the same bf16 inputs and weights (the bias stays binary32)."""
    n, cin, cout, h, w, k, s, pads, *rest = case
    dil, group = (rest + [1, 1])[:2]
    m, wt, bias = conv_model(n, cin, cout, h, w, k, s, pads, dil, group)
    x = np.random.default_rng(1).standard_normal((n, cin, h, w)).astype(np.float32)
    outs = {}
    for label, opt in (("plain", OFF), ("spread", ON)):
        cm = compile_model(m, SMALL, options=opt)
        notes = cm.placements[0].notes
        assert (notes["spread"] is not None) == (label == "spread"), notes
        run = cm.run({"x": x})
        for tl in run.timelines:
            assert not check_races(tl)
        outs[label] = run.outputs["z"].astype(np.float64)
    want, mag = conv64(to_bf16(x), to_bf16(wt), bias, s, pads, dil, group)
    want = np.maximum(want, 0)
    terms = wt[0].size
    gamma = terms * 2.0 ** -24
    for got in outs.values():
        assert np.all(np.abs(got - want) <= gamma * mag + 2.0 ** -8 * np.abs(want) + 1e-30)
    a, b = outs["plain"], outs["spread"]
    assert np.all(np.abs(a - b) <= 2 * gamma * mag + 2.0 ** -7 * np.maximum(np.abs(a), np.abs(b)) + 1e-30)


def test_spread_catches_a_wrong_shift() -> None:
    """The oracle comparison above fails for a conv whose copies are shifted wrongly: the same check
    on the spread program's output with its kernel flipped (a shift the wrong way) is far off."""
    m, wt, bias = conv_model(1, 3, 8, 17, 17, 3, 1, [1, 1, 1, 1])
    x = np.random.default_rng(2).standard_normal((1, 3, 17, 17)).astype(np.float32)
    got = compile_model(m, SMALL, options=ON).run({"x": x}).outputs["z"].astype(np.float64)
    want, mag = conv64(to_bf16(x), to_bf16(wt), bias, 1, [1, 1, 1, 1], 1, 1)
    flipped, _ = conv64(to_bf16(x), to_bf16(wt[:, :, ::-1, ::-1]), bias, 1, [1, 1, 1, 1], 1, 1)
    assert np.abs(got - np.maximum(want, 0)).max() < 0.05
    assert np.abs(got - np.maximum(flipped, 0)).max() > 0.5


def params(cin, h, k, s, pad, cout=64):
    oh = (h + 2 * pad - k) // s + 1
    return dict(n=1, cin=cin, h=h, w=h, cout=cout, cin_g=cin, cout_g=cout, kh=k, kw=k, g=1, sh=s, sw=s, dh=1, dw=1,
                pt=pad, pl=pad, pb=pad, pr=pad, oh=oh, ow=oh, hp=h + 2 * pad, wp=h + 2 * pad)


def test_resnet50_stem_plan() -> None:
    """ResNet-50's first conv (3 x 224 x 224, 7 x 7, stride 2) on 128 rows: the plan stacks whole
    kernel rows of filter elements on the rows, more than 10 times fewer matmuls than 49 per chunk,
    and every block's copy stays in the padded input."""
    c = CoreConfig()
    p = params(3, 224, 7, 2, 3)
    plan, plain = spread_plan(p, c), _plain_cost(p, c)
    assert plan is not None and plain.rows == 3 and plain.matmuls == 28 * 49
    assert plan.rows >= 42 and plan.bw == 7 and plan.matmuls * 10 <= plain.matmuls
    assert plan.estimate < plain.estimate
    # a 1 x 1 conv or one whose channels fill the rows is not spread
    assert spread_plan(params(3, 56, 1, 1, 0), c) is None
    assert spread_plan(params(96, 56, 3, 1, 1), c) is None


def test_switch_through_the_cli(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("ACCEL_CACHE_DIR", str(tmp_path / "cache"))
    m, _, _ = conv_model(1, 3, 8, 17, 17, 3, 1, [1, 1, 1, 1])
    path = tmp_path / "conv.onnx"
    path.write_bytes(m.SerializeToString())
    for flag, spread in (([], True), (["--no-row-spread"], False)):
        assert main(["compile", str(path), "--json", *flag]) == 0
        notes = json.loads(capsys.readouterr().out)["placement"][0]["lowering"]
        assert (notes["spread"] is not None) == spread
        assert notes["matmuls"] < 9 if spread else notes["matmuls"] == 9
