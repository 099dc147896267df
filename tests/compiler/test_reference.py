"""accel.compiler.reference: the two oracles agree with each other (also on opset-9 models, where
onnx.reference alone misreads BatchNormalization and Softmax), the bf16 reference rounds what it
says it rounds, bf16 vs fp32 stays inside the documented tolerance, and compare() measures what
its docstring says."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from accel.compiler import reference, zoo

pytest.importorskip("onnxruntime")
RNG = np.random.default_rng(5)


def one_node(op: str, shape: list[int], opset: int, inits: dict[str, np.ndarray], **attrs: object) -> onnx.ModelProto:
    node = helper.make_node(op, ["x", *inits], ["y"], **attrs)
    graph = helper.make_graph([node], op, [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(v, k) for k, v in inits.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=7)


def test_opset_9_batchnorm_and_softmax_match_onnxruntime() -> None:
    """onnx.reference 1.23 alone would use batch statistics for BatchNormalization-9 and reduce
    Softmax-9 over the last axis only; run_reference converts such models first."""
    c = 4
    stats = {"s": RNG.uniform(0.5, 1.5, c), "b": RNG.normal(size=c), "m": RNG.normal(size=c),
             "v": RNG.uniform(0.5, 2, c)}
    bn = one_node("BatchNormalization", [2, c, 3, 3], 9, {k: v.astype(np.float32) for k, v in stats.items()})
    sm = one_node("Softmax", [2, 3, 4, 5], 9, {})
    for model, shape in ((bn, (2, c, 3, 3)), (sm, (2, 3, 4, 5))):
        x = {"x": RNG.normal(size=shape).astype(np.float32)}
        want = reference.run_onnxruntime(model, x)
        got = reference.run_reference(model, x)
        np.testing.assert_allclose(got["y"], want["y"], rtol=1e-5, atol=1e-6)
    assert np.allclose(want["y"].reshape(2, -1).sum(axis=1), 1)  # Softmax-9: over all axes from 1


def test_lrn_matches_onnxruntime() -> None:
    """With a large alpha, so that onnx.reference's own LRN (channels from N on unnormalised) fails."""
    model = one_node("LRN", [2, 7, 3, 3], 13, {}, size=3, alpha=0.5, beta=0.75, bias=1.0)
    x = {"x": RNG.normal(size=(2, 7, 3, 3)).astype(np.float32) * 2}
    np.testing.assert_allclose(reference.run_reference(model, x)["y"], reference.run_onnxruntime(model, x)["y"],
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,size", [("squeezenet", 31), ("resnet50", 16), ("inception_v1", 61)])
def test_oracles_agree_on_zoo_networks(name: str, size: int) -> None:
    model = zoo.imagenet(name, size)
    x = reference.random_inputs(model)
    err = reference.compare(reference.run_reference(model, x), reference.run_onnxruntime(model, x))
    assert all(e["max_rel"] < 1e-3 and e["cosine"] > 0.999999 for e in err.values()), err


def test_to_bf16_rounds_to_nearest_even() -> None:
    """Against the bit trick (add 0x7FFF plus the kept lsb, truncate) on random and special values."""
    x = np.concatenate([RNG.normal(size=5000) * 10.0 ** RNG.integers(-40, 38, 5000),
                        [0.0, -0.0, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.4e38, 1e-45, np.inf, -np.inf]]).astype(np.float32)
    bits = x.view(np.uint32).astype(np.uint64)
    want = (((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16).astype(np.uint32).view(np.float32)
    np.testing.assert_array_equal(reference.to_bf16(x), want)
    assert reference.to_bf16(np.float32([1 + 2 ** -8, 1 + 3 * 2 ** -8])).tolist() == [1.0, 1 + 2 ** -6]
    assert np.isnan(reference.to_bf16(np.float32([np.nan])))[0]
    ints = np.arange(3)
    assert reference.to_bf16(ints) is ints


def test_bf16_reference_rounds_initializers_inputs_and_every_node_output() -> None:
    """y = ((x + a) * c): x = 1 + 2^-9 and a = 2^-9 + 2^-12 round away in bf16 (to 1 and 2^-9),
    x + a = 1 + 2^-8 ties to 1, so y = c; in fp32 nothing rounds away."""
    a, c = np.float32(2 ** -9 + 2 ** -12), np.float32(3.0)
    nodes = [helper.make_node("Add", ["x", "a"], ["t"]), helper.make_node("Mul", ["t", "c"], ["y"])]
    inits = [numpy_helper.from_array(np.array([a]), "a"), numpy_helper.from_array(np.array([c]), "c")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    x = {"x": np.float32([1 + 2 ** -9])}
    assert reference.run_reference(model, x, bf16=True)["y"].tolist() == [3.0]
    assert reference.run_reference(model, x)["y"].tolist() == [float((x["x"][0] + a) * c)]
    assert reference.run_onnxruntime(model, x)["y"].tolist() == [float((x["x"][0] + a) * c)]


@pytest.mark.parametrize("name,size", [("squeezenet", 31), ("resnet50", 32)])
def test_bf16_against_fp32_within_the_documented_tolerance(name: str, size: int) -> None:
    model = zoo.imagenet(name, size)
    x = reference.random_inputs(model)
    err = next(iter(reference.compare(reference.run_reference(model, x, bf16=True),
                                      reference.run_onnxruntime(model, x)).values()))
    assert err["cosine"] >= 0.999 and err["rms_rel"] <= 0.05, err
    assert err["rms_rel"] > 2 ** -12  # and the rounding did happen


def test_bf16_transformer_layer_within_the_documented_tolerance() -> None:
    model = zoo.transformer_layer(seq=16, d_model=64, heads=4, ffn=128)
    x = reference.random_inputs(model)
    err = reference.compare(reference.run_reference(model, x, bf16=True), reference.run_onnxruntime(model, x))["y"]
    assert err["cosine"] >= 0.999 and 2 ** -12 < err["rms_rel"] <= 0.02, err


def test_compare_measures() -> None:
    w = np.array([[1.0, -2.0], [0.5, 4.0]], np.float32)
    assert reference.compare({"y": w}, {"y": w})["y"] == {"max_abs": 0.0, "max_rel": 0.0, "rms_rel": 0.0, "cosine": 1.0}
    e = reference.compare({"y": 2 * w}, {"y": w})["y"]
    assert e["max_abs"] == 4.0 and e["max_rel"] == 1.0 and np.isclose(e["rms_rel"], 1.0) and np.isclose(e["cosine"], 1)
    e = reference.compare({"y": w + np.float32([[0, 0], [0.04, 0]])}, {"y": w})["y"]
    assert np.isclose(e["max_rel"], 0.01)  # relative to max |want| = 4, not to the 0.5 it sits on
    e = reference.compare({"y": -w}, {"y": w})["y"]
    assert np.isclose(e["cosine"], -1.0)
    zero = np.zeros(3, np.float32)
    assert reference.compare({"y": zero}, {"y": zero})["y"]["max_rel"] == 0.0
    assert reference.compare({"y": zero + 1}, {"y": zero})["y"]["max_rel"] == np.inf
    nan = np.float32([np.nan, 1.0, np.inf])
    assert reference.compare({"y": nan}, {"y": nan})["y"]["max_abs"] == 0.0
    assert reference.compare({"y": np.float32([1, 1, np.inf])}, {"y": nan})["y"]["max_abs"] == np.inf
    with pytest.raises(ValueError, match=r"output 'y': shape \[3\], want \[2, 2\]"):
        reference.compare({"y": zero}, {"y": w})
    with pytest.raises(ValueError, match="output 'y' missing"):
        reference.compare({}, {"y": w})


def test_random_inputs() -> None:
    model = zoo.transformer_layer(seq=4, d_model=8, heads=2, ffn=16)
    x = reference.random_inputs(model, seed=1)
    assert list(x) == ["x"] and x["x"].shape == (1, 4, 8) and x["x"].dtype == np.float32
    assert np.array_equal(x["x"], reference.random_inputs(model, seed=1)["x"])
    dynamic = one_node("Relu", ["n", 3], 17, {})
    with pytest.raises(ValueError, match="input 'x' has a dynamic shape"):
        reference.random_inputs(dynamic)
