"""The VEC and ACT lowerings (accel.compiler.vector, reduce, pool) against ONNX Runtime over their
attributes, and against a bf16-aware reference tightly.

Tolerances. The core stores every activation as bf16 (8 significant bits: rounding to nearest is
within u = 2^-8 relative) and computes in binary32. Against ONNX Runtime (fp32) an output sees the
rounding of its inputs (each <= u/2 relative) and of itself (<= u/2), so an element-wise op is within
about 1.5 u of its output's scale; ops that amplify relative error (Div and Reciprocal near 0, Log near
1, sums with cancellation, LayerNorm's x - mean) get 2^-5 of the output's largest magnitude, the
rest 2^-6 (`rel`). Against `run_reference(bf16=True)`, which rounds the same inputs and outputs to
bf16 and computes each node in fp32 numpy, what is left is the core's binary32 arithmetic: bit-exact
where the core does the same binary32 operations (Add, Sub, Mul, Max, Min, n-ary Sum, Neg, Relu,
Clip, LeakyRelu, MaxPool, Concat, Transpose); within 1 bf16 ulp where it differs by a few binary32
ulps (the act.func tables: <= 1.8 ulp, docs/act.md; x * (1/c) for x / c; summation order of
reductions), plus an absolute 2^-12 of the output's scale for results that cancel (means, LayerNorm).
Every run's timeline must be race-free, and every tested node must be placed on the core.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from accel import CoreConfig
from accel.compiler import compile_model
from accel.compiler.reference import compare, run_onnxruntime, run_reference, to_bf16
from accel.timing import check_races

# 16 lanes and 8 KiB per partition: tiles of at most 85 elements per partition, so small shapes
# already cut partitions and free axes into several tiles
SMALL = CoreConfig(pe_rows=16, pe_cols=16, sbuf_partitions=16, psum_partitions=16, sbuf_partition_bytes=8192)
RNG = np.random.default_rng(0)
U = 2.0 ** -8


def single(op: str, shapes: list, consts: dict | None = None, opset: int = 17, outputs: int = 1,
           **attrs) -> onnx.ModelProto:
    """A one-node model: inputs x0, x1, ... (those in `consts` as initializers; int64 arrays stay int64)."""
    consts = consts or {}
    names = [f"x{k}" if s is not None else "" for k, s in enumerate(shapes)]
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in zip(names, shapes, strict=True)
              if n and n not in consts]
    inits = [numpy_helper.from_array(np.asarray(v), n) for n, v in consts.items()]
    outs = ["y"] + [f"y{k}" for k in range(1, outputs)]
    g = helper.make_graph([helper.make_node(op, names, outs, **attrs)], "t", inputs,
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def feeds_for(m: onnx.ModelProto, positive: bool = False, negative: bool = False) -> dict[str, np.ndarray]:
    inits = {t.name for t in m.graph.initializer}
    out = {}
    for v in m.graph.input:
        if v.name in inits:
            continue
        shape = [d.dim_value for d in v.type.tensor_type.shape.dim]
        x = RNG.standard_normal(shape).astype(np.float32)
        if positive:
            x = np.abs(x) + np.float32(0.25)
        if negative:
            x = -np.abs(x) - np.float32(0.25)
        out[v.name] = x
    return out


def bf16_ulps(got: np.ndarray, ref: np.ndarray, atol: float = 0.0) -> float:
    """Largest |got - ref| in bf16 ulps of ref (after subtracting an absolute allowance)."""
    a = np.abs(ref.astype(np.float64))
    ulp = 2.0 ** (np.floor(np.log2(np.maximum(a, 2.0 ** -126))) - 7)
    d = np.maximum(np.abs(got.astype(np.float64) - ref) - atol, 0.0)
    return float((d / ulp).max(initial=0.0))


def check(m: onnx.ModelProto, feeds: dict | None = None, *, rel: float = 2 ** -6, ulps: float | None = 1.0,
          atol: float = 0.0, config: CoreConfig = SMALL, **kw):
    """Compile with `config`, run, and check: every node on the core, every timeline race-free, the
    output within `rel` (of its largest magnitude) of ONNX Runtime and within `ulps` bf16 ulps
    (after an absolute `atol` times its largest magnitude) of the bf16 reference (0: bit-exact)."""
    feeds = feeds if feeds is not None else feeds_for(m, **kw)
    cm = compile_model(m, config)
    assert [p["where"] for p in cm.placement_report()] == ["core"] * len(cm.placements), cm.placement_report()
    run = cm.run(feeds)
    for t in run.timelines:
        assert not check_races(t)
    want = run_onnxruntime(m, feeds)
    err = compare(run.outputs, want)
    for name, e in err.items():
        assert e["max_rel"] <= rel, f"{name}: {e} against ONNX Runtime"
    if ulps is not None:
        ref = run_reference(m, feeds, bf16=True)
        for name, r in ref.items():
            r = np.asarray(r, np.float32)
            got = run.outputs[name]
            assert got.shape == r.shape
            scale = float(np.abs(r).max(initial=0.0))
            if ulps == 0:
                np.testing.assert_array_equal(got, r)
            else:
                assert bf16_ulps(got, r, atol * scale) <= ulps, f"{name}: {bf16_ulps(got, r, atol * scale)} ulps"
    return cm, run


# ------------------------------------------------------------------------------------- element-wise
SHAPES = [((4, 20), (4, 20)), ((2, 3, 5, 7), (1, 3, 1, 1)), ((5,), (3, 1)), ((2, 3, 4), (4,)),
          ((3, 1, 6), (1, 4, 1)), ((40, 130), (40, 130)), ((1, 20, 9), (20, 1)), ((2, 3, 4, 5, 6), (3, 1, 5, 1))]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Max", "Min"])
def test_binary_broadcast_bit_exact(op: str, shapes) -> None:
    check(single(op, list(shapes)), ulps=0)


@pytest.mark.parametrize("shapes", SHAPES[:4], ids=str)
def test_div(shapes) -> None:
    m = single("Div", list(shapes))
    f = feeds_for(m)
    f["x1"] = np.where(np.abs(f["x1"]) < 0.25, np.float32(0.5), f["x1"])  # keep the quotient's scale sane
    check(m, f, rel=2 ** -5)


def test_constants_tensor_and_scalar() -> None:
    # constants stay fp32 on the core (the bf16 reference rounds them): bf16 values compare exactly
    c = to_bf16(RNG.standard_normal((3, 1)).astype(np.float32))
    check(single("Add", [(2, 3, 4), (3, 1)], consts={"x1": c}), ulps=0)
    check(single("Mul", [(2, 3, 4), ()], consts={"x1": np.float32(-1.75)}), ulps=0)  # immediate
    check(single("Sub", [(), (2, 3, 4)], consts={"x0": np.float32(0.5)}), ulps=0)  # c - x: act.identity
    check(single("Div", [(2, 3, 4), (4,)], consts={"x1": np.array([0.5, 3, -7, 1e-3], np.float32)}))
    check(single("Div", [(), (2, 3, 4)], consts={"x0": np.float32(2.0)}), positive=True)
    cm, _ = check(single("Div", [(2, 3, 4), ()], consts={"x1": np.float32(3.0)}))
    assert "vec.muls" in cm.listing and "0.3333333" in cm.listing
    m = single("Div", [(2, 3), ()], consts={"x1": np.float32(0.0)})
    f = {"x0": np.array([[1, -2, 0], [3, 0, -1]], np.float32)}
    np.testing.assert_array_equal(compile_model(m, SMALL).run(f).outputs["y"], run_onnxruntime(m, f)["y"])


@pytest.mark.parametrize("op,ulps", [("Sum", 0), ("Max", 0), ("Min", 0), ("Mean", 1)])
def test_variadic(op: str, ulps: int) -> None:
    check(single(op, [(2, 3, 4), (3, 1), (4,)]), ulps=ulps)
    check(single(op, [(5, 6)]), ulps=0)


# ------------------------------------------------------------------------------------------ unary
@pytest.mark.parametrize("op,opset,attrs,domain,ulps", [
    ("Relu", 17, {}, None, 0), ("Neg", 17, {}, None, 0), ("Sigmoid", 17, {}, None, 1), ("Tanh", 17, {}, None, 1),
    ("Exp", 17, {}, None, 1), ("Softplus", 17, {}, None, 1), ("Log", 17, {}, "positive", 1),
    ("Sqrt", 17, {}, "positive", 1), ("Reciprocal", 17, {}, "positive", 1), ("Gelu", 20, {}, None, 1),
    ("Gelu", 20, {"approximate": "tanh"}, None, 1), ("LeakyRelu", 17, {"alpha": 0.1}, None, 0),
    ("LeakyRelu", 17, {"alpha": 3.0}, None, 0), ("Clip", 9, {"min": -0.5, "max": 0.75}, None, 0),
    ("Clip", 9, {"max": 0.75}, None, 0),
])
def test_unary(op: str, opset: int, attrs: dict, domain: str | None, ulps: int) -> None:
    kw = {domain: True} if domain else {}
    cm, _ = check(single(op, [(3, 50)], opset=opset, **attrs), rel=2 ** -5, ulps=ulps, **kw)
    if op in ("Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Reciprocal", "Gelu"):
        assert "act.func" in cm.listing


def test_clip_bounds_as_inputs() -> None:
    lo, hi = np.float32(-0.25), np.float32(1.0)
    check(single("Clip", [(7, 9), (), ()], consts={"x1": lo, "x2": hi}, opset=13), ulps=0)
    check(single("Clip", [(7, 9), None, ()], consts={"x2": hi}, opset=13), ulps=0)


@pytest.mark.parametrize("shape", [(2, 5, 6, 7), (3, 5), (1, 20, 3, 3)])
def test_batchnorm_standalone(shape) -> None:
    c = shape[1]
    stats = {"x1": RNG.standard_normal(c), "x2": RNG.standard_normal(c), "x3": RNG.standard_normal(c),
             "x4": np.abs(RNG.standard_normal(c)) + 0.1}
    # bf16 statistics, so that the reference (which rounds initializers) uses the same values
    check(single("BatchNormalization", [shape, (c,), (c,), (c,), (c,)],
                 consts={k: to_bf16(v.astype(np.float32)) for k, v in stats.items()}, epsilon=1e-3), atol=2 ** -12)


# ------------------------------------------------------------------------------------- reductions
@pytest.mark.parametrize("axes,keepdims", [([1], 1), ([0, 2], 0), ([2, 3], 1), ([1, 3], 0), ([0, 1, 2, 3], 0),
                                           ([-1], 1), ([0, 3], 1)])
@pytest.mark.parametrize("op", ["ReduceSum", "ReduceMean", "ReduceMax"])
def test_reduce_axes_as_input(op: str, axes, keepdims: int) -> None:
    m = single(op, [(2, 5, 6, 7), (len(axes),)], consts={"x1": np.array(axes, np.int64)}, opset=18,
               keepdims=keepdims)
    check(m, rel=2 ** -5, ulps=0 if op == "ReduceMax" else 1, atol=2 ** -12)


@pytest.mark.parametrize("op,opset", [("ReduceSum", 11), ("ReduceMean", 13), ("ReduceMax", 13)])
def test_reduce_axes_as_attribute(op: str, opset: int) -> None:
    check(single(op, [(3, 40, 50)], opset=opset, axes=[1]), rel=2 ** -5, atol=2 ** -12)  # 40 x 50 chunks
    check(single(op, [(3, 4, 200)], opset=opset, axes=[2], keepdims=0), rel=2 ** -5, atol=2 ** -12)


def test_reduce_three_separate_axis_groups() -> None:
    """Reduced axes 0, 2, 4 of a 5-D tensor: two in the tile, the third a loop accumulating in fp32."""
    for op in ("ReduceSum", "ReduceMax"):
        check(single(op, [(3, 4, 5, 6, 7)], opset=11, axes=[0, 2, 4], keepdims=0), rel=2 ** -5, atol=2 ** -12)


def test_reduce_empty_axes() -> None:
    check(single("ReduceSum", [(3, 4)], opset=11, keepdims=0), rel=2 ** -5, atol=2 ** -12)  # every axis
    m = single("ReduceSum", [(3, 4), (0,)], consts={"x1": np.zeros(0, np.int64)}, opset=13, noop_with_empty_axes=1)
    f = feeds_for(m)
    _, run = check(m, f, ulps=None)
    np.testing.assert_array_equal(run.outputs["y"], f["x0"])  # no reduction: the input itself (an alias)


@pytest.mark.parametrize("op", ["GlobalAveragePool", "GlobalMaxPool"])
def test_global_pool(op: str) -> None:
    check(single(op, [(2, 20, 5, 6)]), atol=2 ** -12, ulps=0 if "Max" in op else 1)


# ------------------------------------------------------------------------------ softmax, layer norm
@pytest.mark.parametrize("shape,axis,opset", [((2, 5, 6), -1, 13), ((2, 5, 6), 1, 13), ((2, 5, 6), 0, 13),
                                              ((2, 5, 6), 1, 11), ((40, 24), -1, 13), ((3, 4, 5), 1, 9)])
@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
def test_softmax(op: str, shape, axis: int, opset: int) -> None:
    check(single(op, [shape], opset=opset, axis=axis), rel=2 ** -5, atol=2 ** -12)


@pytest.mark.parametrize("shape,axis,bias", [((4, 6, 32), -1, True), ((4, 6, 32), 1, False), ((20, 16), -1, True)])
def test_layernorm(shape, axis: int, bias: bool) -> None:
    norm = shape[axis % len(shape):]
    consts = {"x1": RNG.standard_normal(norm).astype(np.float32)}
    if bias:
        consts["x2"] = RNG.standard_normal(norm).astype(np.float32)
    shapes = [shape, norm] + ([norm] if bias else [])
    consts = {k: to_bf16(v) for k, v in consts.items()}
    check(single("LayerNormalization", shapes, consts=consts, axis=axis, epsilon=1e-3), rel=2 ** -5, ulps=2,
          atol=2 ** -10)


# ------------------------------------------------------------------------------------------ pools
POOLS = [
    dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
    dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
    dict(kernel_shape=[3, 2], strides=[1, 2], pads=[0, 1, 2, 0], ceil_mode=1),
    dict(kernel_shape=[2, 2], dilations=[2, 2]),
    dict(kernel_shape=[3, 3], auto_pad="SAME_UPPER", strides=[2, 2]),
    dict(kernel_shape=[1, 1], strides=[2, 2]),
]


@pytest.mark.parametrize("attrs", POOLS, ids=str)
def test_maxpool_pads_with_minus_infinity(attrs: dict) -> None:
    # every input negative: padding with 0 instead of -inf would change the border outputs
    check(single("MaxPool", [(2, 10, 10, 10)], **attrs), ulps=0, negative=True)


@pytest.mark.parametrize("count_include_pad", [0, 1])
@pytest.mark.parametrize("attrs", POOLS, ids=str)
def test_averagepool(attrs: dict, count_include_pad: int) -> None:
    check(single("AveragePool", [(2, 10, 10, 10)], opset=19, count_include_pad=count_include_pad, **attrs),
          atol=2 ** -12)


# --------------------------------------------------------------------------------------- layout
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat(axis: int) -> None:
    shapes = [[2, 3, 5], [2, 3, 5], [2, 3, 5]]
    for k, s in enumerate(shapes):
        s[axis] += k
    c = RNG.standard_normal(shapes[2]).astype(np.float32)
    check(single("Concat", shapes, consts={"x2": c}, axis=axis), ulps=None)  # fp32 constant: ORT only
    check(single("Concat", shapes[:2], axis=axis), ulps=0)


@pytest.mark.parametrize("perm", [None, [0, 2, 3, 1], [1, 0, 2, 3], [2, 0, 3, 1], [0, 1, 3, 2]], ids=str)
def test_transpose(perm) -> None:
    attrs = {"perm": perm} if perm else {}
    check(single("Transpose", [(2, 5, 6, 7)], **attrs), ulps=0)


# -------------------------------------------------------------------------------- placement, chains
def test_fallbacks_name_their_reason() -> None:
    cm = compile_model(single("Erf", [(3, 4)]), SMALL)
    assert cm.placements[0].where != "core"
    m = single("LayerNormalization", [(4, 8), (8,)], consts={"x1": np.ones(8, np.float32)}, outputs=2)
    assert "Mean / InvStdDev" in compile_model(m, SMALL).placements[0].why
    m = single("MaxPool", [(1, 2, 6, 6)], outputs=2, kernel_shape=[2, 2])
    m.graph.output[1].type.tensor_type.elem_type = TensorProto.INT64
    assert "Indices" in compile_model(m, SMALL).placements[0].why


def test_chain_in_one_segment_and_fused_relu_kept() -> None:
    """Conv + Relu (fused into the drain), MaxPool, a residual Add of a standalone Relu, a Softmax:
    one segment, the intermediate DRAM tensors written and read in order."""
    w = (RNG.standard_normal((6, 4, 3, 3)) / 6).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Neg", ["p"], ["n"]), helper.make_node("Relu", ["n"], ["q"]),
             helper.make_node("Add", ["p", "q"], ["a"]), helper.make_node("Softmax", ["a"], ["y"], axis=1)]
    g = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(w, "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    cm, _ = check(m, rel=2 ** -5, ulps=None, config=CoreConfig())
    assert len(cm.steps) == 1
    conv = next(p for p in cm.placements if p.node.op == "Conv")
    assert conv.act == "relu" and [p.node.op for p in cm.placements].count("Relu") == 1


def test_dropout_training_on_the_hardware_rng() -> None:
    """Training-mode Dropout: the core's Philox mask, predicted from (seed, offset, flat index) with
    accel.model.rng; the kept elements are x * nearest(1 / (1 - p)) rounded to bf16, the rest 0."""
    from accel.model import fp, rng

    shape, p = (3, 37, 11), 0.3
    m = single("Dropout", [shape, (), ()], consts={"x1": np.float32(p), "x2": np.bool_(True)}, opset=13, seed=12345)
    f = feeds_for(m)
    cm = compile_model(m, SMALL)
    assert cm.placements[0].where == "core" and "Philox seed=12345 offset=0" in cm.listing
    why = cm.placement_report()[0]["why"]
    assert why == "training-mode dropout on the hardware RNG (Philox seed=12345 offset=0 p=0.3)"
    run = cm.run(f)
    assert not check_races(run.timelines[0])
    p_bits = int(fp.f32_bits(np.float32(p)))
    words = rng.philox_words(12345, 0, np.arange(np.prod(shape), dtype=np.uint64)).reshape(shape)
    keep = words.astype(np.int64) >= rng.threshold(p_bits)
    x = to_bf16(f["x0"])
    want = to_bf16(np.where(keep, x * fp.f32_value(np.uint32(rng.scale(p_bits))), np.float32(0)))
    np.testing.assert_array_equal(run.outputs["y"], want)
    assert abs(keep.mean() - (1 - p)) < 0.05
    # inference mode stays an alias (no instruction); a requested mask goes to the host
    m = single("Dropout", [shape, (), ()], consts={"x1": np.float32(p), "x2": np.bool_(False)}, opset=13)
    assert compile_model(m, SMALL).placements[0].where == "core"
    m = single("Dropout", [shape, (), ()], consts={"x1": np.float32(p), "x2": np.bool_(True)}, opset=13, outputs=2)
    m.graph.output[1].type.tensor_type.elem_type = TensorProto.BOOL
    assert "mask output" in compile_model(m, SMALL).placements[0].why
