"""accel.compiler.host against ONNX Runtime: every host operator as a one-node model over its
attributes (pads, strides, dilations, ceil_mode, auto_pad, count_include_pad, storage_order, axes,
broadcasting, opset-dependent meanings) on small seeded random inputs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import onnx
import pytest
from onnx import helper
from onnx.reference import ReferenceEvaluator

from accel.compiler import host

ort = pytest.importorskip("onnxruntime")
RNG = np.random.default_rng(7)


def _value_info(name: str, x: np.ndarray) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(x.dtype), list(x.shape))


def check(op: str, inputs: list[np.ndarray | None], opset: int = 17, outputs: int = 1, exact: bool = False,
          rtol: float = 1e-5, atol: float = 1e-6, oracle: str = "ort", oracle_attrs: dict | None = None,
          **attrs: object) -> list[np.ndarray]:
    """Run `op` on ONNX Runtime (or onnx.reference) and on the host, the oracle with `oracle_attrs`
    when given; assert every output agrees; return the host's."""
    inputs = [None if x is None else np.asarray(x) for x in inputs]
    names = ["" if x is None else f"in{i}" for i, x in enumerate(inputs)]
    node = helper.make_node(op, names, [f"out{i}" for i in range(outputs)], **attrs)
    oracle_node = helper.make_node(op, names, [f"out{i}" for i in range(outputs)], **(oracle_attrs or attrs))
    feeds = {n: x for n, x in zip(names, inputs, strict=True) if x is not None}
    graph = helper.make_graph([oracle_node], op, [_value_info(n, x) for n, x in feeds.items()],
                              [helper.make_empty_tensor_value_info(f"out{i}") for i in range(outputs)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    if oracle == "reference":
        want = ReferenceEvaluator(model).run(None, feeds)
    else:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 3
        session = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        want = session.run(None, feeds)
    got = host.run_node(node, inputs, opset)
    assert len(got) == outputs
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape and g.dtype == w.dtype, (op, attrs, g.shape, w.shape, g.dtype, w.dtype)
        if exact or w.dtype.kind not in "fc":
            np.testing.assert_array_equal(g, w, err_msg=f"{op} {attrs}")
        else:
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"{op} {attrs}")
    return got


def rand(*shape: int, dtype: type = np.float32) -> np.ndarray:
    return RNG.standard_normal(shape).astype(dtype)


# --- pooling --------------------------------------------------------------------------------


def explicit_pads(attrs: dict, dims: tuple[int, ...]) -> dict:
    """`attrs` with auto_pad SAME_UPPER/SAME_LOWER replaced by the explicit pads the host takes
    from the ONNX spec: total max(0, (ceil(in/stride) - 1) * stride + dilated kernel - in), the
    odd one at the end (UPPER) or the beginning (LOWER). ONNX Runtime sizes SAME padding with the
    undilated kernel and lets a negative total crop the input (kernel 1, stride 3 over 6 starts
    at 1), and onnx.reference pads the undilated way too; in those cases the oracle gets the
    explicit pads. Otherwise `attrs` unchanged, so SAME itself is checked against ONNX Runtime."""
    auto = attrs.get("auto_pad", "NOTSET")
    if not auto.startswith("SAME"):
        return attrs
    begin, end, unusual = [], [], False
    for n, k, s, d in zip(dims, attrs["kernel_shape"], attrs["strides"], attrs["dilations"], strict=True):
        total = (-(-n // s) - 1) * s + (k - 1) * d + 1 - n
        unusual |= total < 0 or d > 1
        total = max(total, 0)
        begin.append(total // 2 if auto == "SAME_UPPER" else total - total // 2)
        end.append(total - begin[-1])
    return {**{k: v for k, v in attrs.items() if k != "auto_pad"}, "pads": begin + end} if unusual else attrs


def pool_cases(dims: tuple[int, ...], count: int, seed: int) -> list[dict]:
    """Random valid pool attribute sets over inputs of spatial size `dims`: kernel, strides,
    dilations, pads (below the kernel, as ONNX Runtime requires, also once SAME is made explicit),
    ceil_mode, auto_pad."""
    rng = np.random.default_rng(seed)
    rank = len(dims)
    out: list[dict] = []
    while len(out) < count:
        k = [int(v) for v in rng.integers(1, 4, rank)]
        d = [int(v) for v in rng.integers(1, 3, rank)]
        attrs = {"kernel_shape": k, "strides": [int(v) for v in rng.integers(1, 4, rank)], "dilations": d}
        auto = str(rng.choice(["NOTSET", "NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]))
        if auto == "NOTSET":
            attrs["pads"] = [int(rng.integers(0, kk)) for kk in k] + [int(rng.integers(0, kk)) for kk in k]
            attrs["ceil_mode"] = int(rng.integers(0, 2))
        else:
            attrs["auto_pad"] = auto
            pads = explicit_pads(attrs, dims).get("pads", [0] * 2 * rank)
            if any(p >= kk for p, kk in zip(pads, k + k, strict=True)):
                continue
        out.append(attrs)
    return out


def pool(op: str, x: np.ndarray, attrs: dict, opset: int, outputs: int = 1, exact: bool = False,
         **more: object) -> None:
    """check() a pool with `attrs` and `more` attributes, the oracle's SAME padding made explicit."""
    check(op, [x], opset, outputs, exact, oracle_attrs={**explicit_pads(attrs, x.shape[2:]), **more}, **attrs, **more)


@pytest.mark.parametrize("attrs", pool_cases((7, 8), 40, 1), ids=str)
def test_max_pool_2d_values_and_indices(attrs: dict) -> None:
    pool("MaxPool", rand(2, 3, 7, 8), attrs, opset=12, outputs=2, exact=True)


def test_ort_sizes_dilated_same_padding_against_the_spec() -> None:
    """Why explicit_pads exists: if ONNX Runtime ever follows the spec, this fails."""
    attrs = {"kernel_shape": [3], "dilations": [2], "strides": [1], "auto_pad": "SAME_UPPER"}
    with pytest.raises(AssertionError, match="MaxPool"):
        check("MaxPool", [rand(1, 1, 7)], opset=12, **attrs)
    pool("MaxPool", rand(1, 1, 7), attrs, opset=12)


@pytest.mark.parametrize("dims", [(7,), (7, 6, 5)])
def test_max_pool_1d_3d(dims: tuple[int, ...]) -> None:
    for attrs in pool_cases(dims, 8, len(dims)):
        pool("MaxPool", rand(1, 2, *dims), attrs, opset=12, outputs=2, exact=True)


def test_max_pool_column_major_indices() -> None:
    for attrs in pool_cases((6, 5), 10, 3):
        pool("MaxPool", rand(2, 3, 6, 5), attrs, opset=12, outputs=2, exact=True, storage_order=1)


def test_max_pool_ties_take_the_first_maximum_and_integers() -> None:
    x = np.zeros((1, 1, 4, 4), np.float32)
    check("MaxPool", [x], opset=12, outputs=2, exact=True, kernel_shape=[2, 2], strides=[1, 1])
    xi = RNG.integers(-128, 128, (1, 2, 5, 5)).astype(np.int8)
    check("MaxPool", [xi], opset=12, exact=True, kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2])


@pytest.mark.parametrize("attrs", pool_cases((7, 8), 40, 2), ids=str)
@pytest.mark.parametrize("count_include_pad", [0, 1])
def test_average_pool_2d(attrs: dict, count_include_pad: int) -> None:
    pool("AveragePool", rand(2, 3, 7, 8), attrs, opset=19, count_include_pad=count_include_pad)


@pytest.mark.parametrize("dims", [(7,), (7, 6, 5)])
def test_average_pool_1d_3d(dims: tuple[int, ...]) -> None:
    for attrs in pool_cases(dims, 8, 20 + len(dims)):
        pool("AveragePool", rand(1, 2, *dims), attrs, opset=19, count_include_pad=1)


def test_global_pools() -> None:
    for shape in [(2, 3, 5, 4), (1, 4, 3), (1, 2, 3, 2, 2)]:
        check("GlobalAveragePool", [rand(*shape)])
        check("GlobalMaxPool", [rand(*shape)], exact=True)


def test_pool_window_larger_than_input_is_an_error() -> None:
    node = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[5, 5])
    with pytest.raises(ValueError, match="larger than the padded input"):
        host.run_node(node, [rand(1, 1, 3, 3)])


# --- normalisations -------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 3, 5])
def test_lrn(size: int) -> None:
    x = rand(2, 7, 3, 4) * 3
    check("LRN", [x], size=size)
    check("LRN", [x], size=size, alpha=0.3, beta=0.6, bias=2.0, rtol=2e-5)


@pytest.mark.parametrize("size", [2, 4])
def test_lrn_even_sizes_against_the_spec(size: int) -> None:
    """ONNX Runtime takes odd sizes only and onnx.reference's LRN loops over the batch instead of
    the channels, so even sizes are checked against the spec's formula written out in float64:
    channels max(0, c - floor((size-1)/2)) .. min(C-1, c + ceil((size-1)/2))."""
    x = rand(2, 7, 3, 4) * 3
    alpha, beta, bias = 0.3, 0.6, 2.0
    want = np.empty(x.shape)
    for c in range(x.shape[1]):
        lo, hi = max(0, c - (size - 1) // 2), min(x.shape[1] - 1, c + math.ceil((size - 1) / 2))
        square_sum = np.sum(x[:, lo:hi + 1].astype(np.float64) ** 2, axis=1)
        want[:, c] = x[:, c] / (bias + alpha / size * square_sum) ** beta
    node = helper.make_node("LRN", ["x"], ["y"], size=size, alpha=alpha, beta=beta, bias=bias)
    np.testing.assert_allclose(host.run_node(node, [x])[0], want, rtol=2e-6)


@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
def test_softmax_old_and_new_axis_meaning(opset: int, op: str) -> None:
    x = rand(2, 3, 4, 5) * 4
    check(op, [x], opset=opset)
    for axis in (0, 1, 2, -1, -3):
        check(op, [x], opset=opset, axis=axis)


def test_layer_normalization() -> None:
    x = rand(2, 3, 8) * 2 + 1
    for axis in (-1, -2, 1, 0):
        norm = x.shape[axis:] if axis >= 0 else x.shape[axis:]
        check("LayerNormalization", [x, rand(*norm), rand(*norm)], outputs=3, axis=axis)
    check("LayerNormalization", [x, rand(8)], outputs=1, epsilon=1e-3)


def test_batch_normalization() -> None:
    x = rand(2, 4, 3, 5)
    scale, bias, mean = rand(4), rand(4), rand(4)
    var = RNG.uniform(0.5, 2.0, 4).astype(np.float32)
    for opset in (9, 15):
        check("BatchNormalization", [x, scale, bias, mean, var], opset=opset, epsilon=1e-3)
    check("BatchNormalization", [rand(3, 4), scale, bias, mean, var], opset=15)
    check("BatchNormalization", [x, scale, bias, mean, var], opset=15, outputs=3, training_mode=1, momentum=0.8)


# --- element-wise ---------------------------------------------------------------------------

SHAPES = [((2, 3, 4), (3, 1)), ((1,), (2, 3)), ((4, 1, 5), (1, 3, 1)), ((), (2, 2)), ((2, 3), (2, 3))]


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div", "Pow"])
def test_binary_broadcasting(op: str) -> None:
    for a, b in SHAPES:
        x, y = rand(*a), rand(*b)
        if op == "Pow":
            x = np.abs(x) + 0.5
        check(op, [x, y])
    if op != "Pow":
        xi, yi = RNG.integers(-20, 20, (3, 4)).astype(np.int32), RNG.integers(1, 7, (4,)).astype(np.int32)
        check(op, [xi, yi * RNG.choice([-1, 1], 4).astype(np.int32)])


@pytest.mark.parametrize("op", ["Sum", "Max", "Min", "Mean"])
def test_variadic_broadcasting(op: str) -> None:
    check(op, [rand(2, 3, 4)])
    check(op, [rand(2, 3, 4), rand(3, 1), rand(4)])
    check(op, [rand(1, 3), rand(2, 1)])


@pytest.mark.parametrize("op", sorted(host._UNARY))
def test_unary(op: str) -> None:
    x = rand(3, 50) * 3
    if op in {"Log", "Sqrt"}:
        x = np.abs(x) + 1e-3
    check(op, [x], rtol=2e-6 if op == "Erf" else 1e-5)


def test_erf_far_tails_and_gelu() -> None:
    x = np.concatenate([np.linspace(-6, 6, 241, dtype=np.float32), rand(100) * 3])
    check("Erf", [x], rtol=2e-6, atol=1e-7)
    for approximate in ("none", "tanh"):
        check("Gelu", [x], opset=20, approximate=approximate, rtol=2e-6, atol=1e-6)


def test_leaky_relu_and_clip() -> None:
    x = rand(4, 5) * 3
    check("LeakyRelu", [x])
    check("LeakyRelu", [x], alpha=0.3)
    check("Clip", [x], opset=6, min=-1.0, max=0.5)
    check("Clip", [x, np.float32(-0.5), np.float32(1.0)], opset=13)
    check("Clip", [x, None, np.float32(1.0)], opset=13)
    check("Clip", [x], opset=13)


# --- layout and shape -----------------------------------------------------------------------


def test_reshape_flatten_transpose() -> None:
    x = rand(2, 3, 4)
    for shape in ([4, 6], [0, -1], [-1], [2, 0, 2, 2], [1, 24]):
        check("Reshape", [x, np.array(shape, np.int64)], exact=True)
    check("Reshape", [rand(0, 3), np.array([3, 0], np.int64)], opset=14, exact=True, allowzero=1)
    for axis in (0, 1, 2, 3, -1, -3):
        check("Flatten", [x], exact=True, axis=axis)
    check("Transpose", [x], exact=True)
    for perm in itertools.permutations(range(3)):
        check("Transpose", [x], exact=True, perm=list(perm))


def test_squeeze_unsqueeze_attribute_and_input_forms() -> None:
    x = rand(1, 3, 1, 4)
    check("Squeeze", [x], opset=11, exact=True)
    check("Squeeze", [x], opset=11, exact=True, axes=[0, -2])
    check("Squeeze", [x, np.array([2], np.int64)], opset=13, exact=True)
    check("Unsqueeze", [x], opset=11, exact=True, axes=[0, -1])
    check("Unsqueeze", [x, np.array([1, 3, -1], np.int64)], opset=13, exact=True)


def test_concat_gather_shape() -> None:
    a, b = rand(2, 3, 4), rand(2, 1, 4)
    check("Concat", [a, b, a[:, :2]], exact=True, axis=1)
    check("Concat", [a, a], exact=True, axis=-1)
    for axis in (0, 1, -1):
        idx = RNG.integers(-2, 2, (2, 3)).astype(np.int64)
        check("Gather", [a, idx], exact=True, axis=axis)
    check("Gather", [a, np.array(1, np.int64)], exact=True, axis=1)
    check("Shape", [a], exact=True)
    check("Shape", [a], opset=15, exact=True, start=1)
    check("Shape", [a], opset=15, exact=True, start=-2, end=-1)


def test_gather_index_out_of_range_is_an_error() -> None:
    node = helper.make_node("Gather", ["x", "i"], ["y"])
    with pytest.raises(ValueError, match="out of range"):
        host.run_node(node, [rand(3), np.array([3], np.int64)])


def test_constants_identity_cast() -> None:
    t = helper.make_tensor("v", onnx.TensorProto.FLOAT, [2, 2], [1, 2, 3, 4])
    check("Constant", [], exact=True, value=t)
    check("Constant", [], exact=True, value_float=2.5)
    check("Constant", [], exact=True, value_ints=[1, 2, 3])
    check("ConstantOfShape", [np.array([2, 3], np.int64)], exact=True)
    check("ConstantOfShape", [np.array([3], np.int64)], exact=True,
          value=helper.make_tensor("v", onnx.TensorProto.INT32, [1], [7]))
    check("Identity", [rand(3, 2)], exact=True)
    check("Cast", [rand(3, 2) * 10], exact=True, to=onnx.TensorProto.INT32)


def test_dropout_is_identity_at_inference() -> None:
    x = rand(3, 4)
    check("Dropout", [x], opset=9, exact=True, ratio=0.3)  # ONNX Runtime's opset-9 mask is all zeros
    check("Dropout", [x, np.float32(0.3)], opset=13, outputs=2, exact=True)
    check("Dropout", [x, np.float32(0.3), np.bool_(False)], opset=13, outputs=2, exact=True)
    node = helper.make_node("Dropout", ["x", "r", "t"], ["y"])
    with pytest.raises(ValueError, match="training mode"):
        host.run_node(node, [x, np.float32(0.3), np.bool_(True)])


def test_run_node_without_a_host_op_names_the_node() -> None:
    with pytest.raises(ValueError, match="'n1'.*no Conv"):
        host.run_node(helper.make_node("Conv", ["x", "w"], ["y"], name="n1"), [rand(1, 1, 3, 3), rand(1, 1, 1, 1)])
