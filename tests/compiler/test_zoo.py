"""accel.compiler.zoo: the wheel's ImageNet networks at reduced size load, pass the checker and run on
ONNX Runtime with random weights that differ per channel and keep activations O(1); the smallest
sizes are the smallest; the transformer layer computes what a NumPy transcription of it does."""

from __future__ import annotations

import math

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from accel.compiler import reference, zoo

pytest.importorskip("onnxruntime")
# the size each network is tested at: its smallest, but 32 for those that shrink to 1x1 at 1
SIZE = {name: zoo.MIN_SIZE[name] if zoo.MIN_SIZE[name] > 1 else 32 for name in zoo.IMAGENET}


@pytest.fixture(scope="module", params=zoo.IMAGENET)
def net(request: pytest.FixtureRequest) -> tuple[str, onnx.ModelProto]:
    return request.param, zoo.imagenet(request.param, SIZE[request.param])


def test_reduced_model_checks_and_runs(net: tuple[str, onnx.ModelProto]) -> None:
    name, model = net
    onnx.checker.check_model(model)
    g = model.graph
    assert [i.name for i in g.input] == [g.input[0].name]
    assert [d.dim_value for d in g.input[0].type.tensor_type.shape.dim] == [1, 3, SIZE[name], SIZE[name]]
    assert not {t.name for t in g.initializer} & {i.name for i in g.input}
    assert "ConstantOfShape" not in {n.op_type for n in g.node}
    out = next(iter(reference.run_onnxruntime(model, reference.random_inputs(model)).values()))
    assert out.shape[:2] == (1, 1000) and math.prod(out.shape) == 1000
    assert np.all(np.isfinite(out)) and np.ptp(out) > 0


def test_weights_are_random_and_differ_per_channel(net: tuple[str, onnx.ModelProto]) -> None:
    """No two output channels of a weight are equal (their float64 sums all differ), and no
    per-channel vector (bias, BN statistics) is constant."""
    for t in net[1].graph.initializer:
        w = numpy_helper.to_array(t)
        if w.dtype != np.float32 or w.size < 2:
            continue
        w = w.reshape([d for d in w.shape if d != 1])  # inception_v1's classifier is 1x1x1000x1024
        if w.ndim > 1:
            sums = w.reshape(w.shape[0], -1).sum(axis=1, dtype=np.float64)
            assert np.unique(sums).size == w.shape[0], t.name
        else:
            assert np.unique(w).size > w.size // 2, t.name


def test_activations_neither_vanish_nor_explode(net: tuple[str, onnx.ModelProto]) -> None:
    """Every intermediate tensor's rms lies in [0.02, 50] on an N(0, 1) image: the weight scales
    follow the propagated statistics, so 50 layers and 16 residual sums stay O(1)."""
    name, model = net
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    outputs = {o.name for o in probe.graph.output}
    probe.graph.output.extend(v for v in model.graph.value_info
                              if v.name not in outputs and v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT)
    values = reference.run_onnxruntime(probe, reference.random_inputs(model, seed=3))
    rms = {k: float(np.sqrt(np.mean(np.square(v, dtype=np.float64)))) for k, v in values.items() if k not in outputs}
    low, high = min(rms, key=rms.get), max(rms, key=rms.get)
    assert rms[low] > 0.02 and rms[high] < 50, (name, low, rms[low], high, rms[high])


@pytest.mark.parametrize("name", zoo.IMAGENET)
def test_smallest_size_is_the_smallest(name: str) -> None:
    smallest = zoo.MIN_SIZE[name]
    with pytest.raises(ValueError, match=f"smallest size is {smallest}|out of range {smallest}"):
        zoo.imagenet(name, smallest - 1)
    if SIZE[name] != smallest:  # the others ran at their smallest size above
        model = zoo.imagenet(name, smallest)
        out = next(iter(reference.run_onnxruntime(model, reference.random_inputs(model)).values()))
        assert np.all(np.isfinite(out))


def test_inception_v2_sizes_where_its_branches_disagree_are_refused() -> None:
    """Its stride-2 branches pad differently, so only sizes 32k-1 .. 32k+6 concatenate."""
    with pytest.raises(ValueError, match="inception_v2 at size 39: .*Concat"):
        zoo.imagenet("inception_v2", 39)


def test_seeded_and_named() -> None:
    a, b, c = (zoo.imagenet("squeezenet", 31, seed=s) for s in (0, 0, 1))
    wa, wb, wc = ([numpy_helper.to_array(t) for t in m.graph.initializer] for m in (a, b, c))
    assert all(np.array_equal(x, y) for x, y in zip(wa, wb, strict=True))
    assert not any(np.array_equal(x, y) for x, y in zip(wa, wc, strict=True) if x.dtype == np.float32)
    with pytest.raises(ValueError, match="unknown network 'lenet'.*resnet50"):
        zoo.imagenet("lenet")
    with pytest.raises(ValueError, match="size 225 out of range"):
        zoo.imagenet("vgg19", 225)


def numpy_layer(model: onnx.ModelProto, x: np.ndarray, heads: int) -> np.ndarray:
    """The encoder layer written out in float64 from the model's initializers."""
    w = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}

    def linear(v: np.ndarray, name: str) -> np.ndarray:
        return v @ w[f"{name}.weight"] + w[f"{name}.bias"]

    def layernorm(v: np.ndarray, name: str) -> np.ndarray:
        mu, var = v.mean(-1, keepdims=True), v.var(-1, keepdims=True)
        return (v - mu) / np.sqrt(var + 1e-5) * w[f"{name}.scale"] + w[f"{name}.bias"]

    x = x[0].astype(np.float64)
    seq, d = x.shape
    dh = d // heads
    q, k, v = (linear(x, f"attn.{p}").reshape(seq, heads, dh).transpose(1, 0, 2) for p in "qkv")
    s = q @ k.transpose(0, 2, 1) / math.sqrt(dh)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    ctx = (p @ v).transpose(1, 0, 2).reshape(seq, d)
    h = layernorm(x + linear(ctx, "attn.out"), "ln1")
    f = linear(h, "ffn.in")
    f = 0.5 * f * (1 + np.vectorize(math.erf)(f / math.sqrt(2)))
    return layernorm(h + linear(f, "ffn.out"), "ln2")[None]


@pytest.mark.parametrize("gelu,opset", [("op", 20), ("erf", 17)])
def test_transformer_layer_against_numpy(gelu: str, opset: int) -> None:
    model = zoo.transformer_layer(seq=8, d_model=32, heads=4, ffn=64, seed=2, gelu=gelu, opset=opset)
    assert model.opset_import[0].version == opset
    ops = {n.op_type for n in model.graph.node}
    assert ("Gelu" in ops) == (gelu == "op") and ("Erf" in ops) == (gelu == "erf")
    x = reference.random_inputs(model)
    y = reference.run_onnxruntime(model, x)["y"]
    np.testing.assert_allclose(y, numpy_layer(model, x["x"], 4), rtol=1e-4, atol=1e-4)
    assert y.std() > 0.5  # LayerNorm output with scale ~1


def test_transformer_layer_bert_base_and_bad_arguments() -> None:
    model = zoo.transformer_layer()
    assert [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim] == [1, 128, 768]
    assert sum(numpy_helper.to_array(t).size for t in model.graph.initializer) > 7_000_000
    with pytest.raises(ValueError, match="not a multiple"):
        zoo.transformer_layer(d_model=100, heads=12)
    with pytest.raises(ValueError, match="opset 17 too old.*gelu='erf'"):
        zoo.transformer_layer(opset=17)
    with pytest.raises(ValueError, match="choose 'op' or 'erf'"):
        zoo.transformer_layer(gelu="tanh")
