"""The compiler core: Conv and Gemm/MatMul lowerings against ONNX Runtime over their attributes,
BatchNorm folding and activation fusion, placement and host fallback, the listing, the errors."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from accel import CoreConfig, assemble
from accel.compiler import CompileError, compile_model
from accel.model import fp
from accel.timing import check_races

SMALL = CoreConfig(pe_rows=16, pe_cols=16, sbuf_partitions=16, psum_partitions=16)


def bf16(x: np.ndarray) -> np.ndarray:
    """float32 values rounded to bf16 (nearest even), as the core stores them."""
    x = np.asarray(x, np.float32)
    return fp.f32_value(fp.fp32_to_bf16(fp.f32_bits(x)).astype(np.uint32) << 16).reshape(x.shape)


def model(nodes, inputs, outputs, inits, opset=17) -> onnx.ModelProto:
    g = helper.make_graph(nodes, "t", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
                          [numpy_helper.from_array(np.asarray(a, np.float32), n) for n, a in inits.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def ort_run(m: onnx.ModelProto, feeds: dict) -> list[np.ndarray]:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(m.SerializeToString(), opts, providers=["CPUExecutionProvider"]).run(None, feeds)


def check(m: onnx.ModelProto, feeds: dict, config: CoreConfig = SMALL, rel: float = 2 ** -6):
    """Compile, run, compare with ONNX Runtime (relative to the output's largest magnitude: bf16
    storage of inputs, weights and output), check every segment is race-free; the compiled model."""
    cm = compile_model(m, config)
    run = cm.run(feeds)
    want = ort_run(m, feeds)
    for name, w in zip([o.name for o in m.graph.output], want, strict=True):
        got = run.outputs[name]
        assert got.shape == w.shape, name
        err = np.abs(got - w).max() / max(np.abs(w).max(), 1e-30)
        assert err <= rel, f"{name}: relative error {err:.2e} > {rel:.2e}"
    for tl in run.timelines:
        assert not check_races(tl)
    return cm, run


RNG = np.random.default_rng(0)


@pytest.mark.parametrize("kernel,stride,pads,dilation,group,cin,cout,hw", [
    (3, 1, [1, 1, 1, 1], 1, 1, 8, 16, 10),
    (3, 2, [1, 1, 1, 1], 1, 1, 8, 16, 11),
    (1, 1, [0, 0, 0, 0], 1, 1, 24, 20, 7),  # input and output channels over one tile of 16
    (5, 1, [2, 1, 0, 2], 1, 1, 3, 8, 9),  # asymmetric pads
    (3, 1, [2, 2, 2, 2], 2, 1, 4, 8, 9),  # dilation
    (3, 1, [1, 1, 1, 1], 1, 4, 8, 8, 8),  # groups
    (3, 1, [1, 1, 1, 1], 1, 8, 8, 8, 8),  # depthwise
    ((1, 3), (2, 1), [0, 1, 0, 1], 1, 1, 4, 4, 6),  # non-square kernel and stride
])
def test_conv(kernel, stride, pads, dilation, group, cin, cout, hw) -> None:
    kh, kw = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    sh, sw = stride if isinstance(stride, tuple) else (stride, stride)
    w = RNG.standard_normal((cout, cin // group, kh, kw)) / np.sqrt(cin // group * kh * kw)
    b = RNG.standard_normal(cout)
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[kh, kw], strides=[sh, sw], pads=pads,
                            dilations=[dilation, dilation], group=group)
    m = model([node], [("x", [1, cin, hw, hw])], ["y"], {"w": w, "b": b})
    check(m, {"x": RNG.standard_normal((1, cin, hw, hw)).astype(np.float32)})


@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER", "VALID"])
def test_conv_auto_pad(auto_pad: str) -> None:
    w = RNG.standard_normal((4, 3, 3, 3)) / 3
    node = helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3], strides=[2, 2], auto_pad=auto_pad)
    m = model([node], [("x", [1, 3, 8, 8])], ["y"], {"w": w})
    check(m, {"x": RNG.standard_normal((1, 3, 8, 8)).astype(np.float32)})


def test_conv_batchnorm_relu_fold_and_fuse() -> None:
    c = 8
    inits = {"w": RNG.standard_normal((c, 4, 3, 3)) / 6, "g": RNG.uniform(0.5, 2, c), "beta": RNG.standard_normal(c),
             "mean": RNG.standard_normal(c), "var": RNG.uniform(0.5, 2, c)}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "g", "beta", "mean", "var"], ["n"], epsilon=1e-3),
             helper.make_node("Relu", ["n"], ["y"])]
    m = model(nodes, [("x", [1, 4, 6, 6])], ["y"], inits)
    cm, _ = check(m, {"x": RNG.standard_normal((1, 4, 6, 6)).astype(np.float32)})
    (p,) = [p for p in cm.placement_report() if p["op"] == "Conv"]
    assert p["fused"] == ["BatchNormalization_1", "Relu_2"] and p["activation"] == "relu"
    assert "act.relu" in cm.listing and "; Conv_0 (+BatchNormalization_1, Relu_2)" in cm.listing


def test_conv_matches_a_bf16_reference_tightly() -> None:
    """Against float64 on the bf16-rounded input and weights, the result is within one bf16 rounding
    (the fp32 accumulation adds far less): the lowering computes exactly the intended products."""
    w = RNG.standard_normal((16, 8, 3, 3)).astype(np.float32)
    x = RNG.standard_normal((1, 8, 6, 6)).astype(np.float32)
    m = model([helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])], [("x", [1, 8, 6, 6])], ["y"],
              {"w": w})
    got = compile_model(m, SMALL).run({"x": x}).outputs["y"]
    xp = np.pad(bf16(x).astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    wb = bf16(w).astype(np.float64)
    want = np.zeros((1, 16, 6, 6))
    for i in range(3):
        for j in range(3):
            want[0] += np.einsum("oc,chw->ohw", wb[:, :, i, j], xp[0, :, i:i + 6, j:j + 6])
    np.testing.assert_allclose(got, want, rtol=2 ** -8, atol=1e-6 * np.abs(want).max())


@pytest.mark.parametrize("m_,k_,n_,trans_b,alpha,beta,bias", [
    (1, 40, 24, False, 1.0, 1.0, "n"),
    (20, 16, 8, True, 0.5, 2.0, "1n"),
    (5, 33, 17, False, 1.0, 1.0, None),
])
def test_gemm(m_, k_, n_, trans_b, alpha, beta, bias) -> None:
    b = RNG.standard_normal((n_, k_) if trans_b else (k_, n_)) / np.sqrt(k_)
    inits = {"b": b}
    ins = ["a", "b"]
    if bias:
        inits["c"] = RNG.standard_normal((n_,) if bias == "n" else (1, n_))
        ins.append("c")
    node = helper.make_node("Gemm", ins, ["y"], transB=int(trans_b), alpha=alpha, beta=beta)
    m = model([node], [("a", [m_, k_])], ["y"], inits)
    check(m, {"a": RNG.standard_normal((m_, k_)).astype(np.float32)})


def test_matmul_batched_and_activation_fused() -> None:
    nodes = [helper.make_node("MatMul", ["a", "b"], ["p"]), helper.make_node("Sigmoid", ["p"], ["y"])]
    m = model(nodes, [("a", [3, 6, 20]), ("b", [3, 20, 5])], ["y"], {})
    cm, _ = check(m, {"a": RNG.standard_normal((3, 6, 20)).astype(np.float32),
                      "b": RNG.standard_normal((3, 20, 5)).astype(np.float32)}, rel=2 ** -7)
    assert "fn=sigmoid" in cm.listing


def test_listing_reassembles_to_the_programs() -> None:
    w = RNG.standard_normal((8, 4, 3, 3))
    m = model([helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["r"]),
               helper.make_node("Flatten", ["r"], ["f"]), helper.make_node("Gemm", ["f", "g"], ["y"])],
              [("x", [1, 4, 5, 5])], ["y"], {"w": w, "g": RNG.standard_normal((200, 3))})
    cm, _ = check(m, {"x": RNG.standard_normal((1, 4, 5, 5)).astype(np.float32)})
    (step,) = [s for s in cm.steps if s.kind == "core"]  # Flatten is a layout alias: one segment
    assert assemble(step.listing, config=SMALL).to_bytes() == step.program.to_bytes()


def test_host_fallback_and_strict() -> None:
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]), helper.make_node("LRN", ["c"], ["l"], size=3),
             helper.make_node("Conv", ["l", "w2"], ["y"])]
    m = model(nodes, [("x", [1, 4, 5, 5])], ["y"], {"w": RNG.standard_normal((4, 4, 1, 1)),
                                                      "w2": RNG.standard_normal((4, 4, 1, 1))})
    cm, run = check(m, {"x": RNG.standard_normal((1, 4, 5, 5)).astype(np.float32)})
    kinds = [s.kind for s in cm.steps]
    assert kinds[0] == "core" and kinds[-1] == "core" and kinds[1] in ("host", "framework")
    assert len(run.timelines) == 2 and run.total_cycles == sum(t.total for t in run.timelines)
    with pytest.raises(CompileError, match=r"node LRN_1 \(LRN\): not supported on the core"):
        compile_model(m, SMALL, strict=True)


def test_bad_models_are_clear_errors(tmp_path) -> None:
    with pytest.raises(CompileError, match="no such model file"):
        compile_model(tmp_path / "missing.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(CompileError, match="not an ONNX model"):
        compile_model(tmp_path / "junk.onnx")
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "d",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    dyn = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(CompileError, match=r"input x: dimension 0 \(batch\) is dynamic"):
        compile_model(dyn)
    cm = compile_model(dyn, input_shapes={"x": (2, 4)})
    assert cm.graph.values["x"].shape == (2, 4)
    with pytest.raises(CompileError, match="input x: shape"):
        cm.run({"x": np.zeros((3, 4), np.float32)})


@pytest.mark.parametrize("m_,k_,n_,alpha,bias,act", [
    (70, 40, 600, 1.0, True, None),  # rows over one block of 16, N over one PSUM bank
    (64, 33, 20, 0.5, True, "Relu"),
    (96, 16, 40, 2.0, False, "Sigmoid"),
])
def test_matmul_with_rows_on_partitions(m_, k_, n_, alpha, bias, act) -> None:
    """From pe.ROWS_LAYOUT_MIN rows on: A^T by PE transposes, B streamed, Y stored by rows."""
    from accel.compiler import pe

    assert m_ >= pe.ROWS_LAYOUT_MIN
    inits = {"b": RNG.standard_normal((k_, n_)) / np.sqrt(k_)}
    ins = ["a", "b"]
    if bias:
        inits["c"] = RNG.standard_normal(n_)
        ins.append("c")
    nodes = [helper.make_node("Gemm", ins, ["g" if act else "y"], alpha=alpha)]
    if act:
        nodes.append(helper.make_node(act, ["g"], ["y"]))
    m = model(nodes, [("a", [m_, k_])], ["y"], inits)
    cm, _ = check(m, {"a": RNG.standard_normal((m_, k_)).astype(np.float32)})
    assert ("vec.add" in cm.listing) == bias  # the bias row is added on VEC


def test_matmul_add_bias_and_activation_fuse() -> None:
    """MatMul + Add(constant [N]) + Relu: one lowering, the bias and ReLU in its drain."""
    nodes = [helper.make_node("MatMul", ["a", "w"], ["p"]), helper.make_node("Add", ["p", "c"], ["q"]),
             helper.make_node("Relu", ["q"], ["y"])]
    for m_ in (8, 80):  # both layouts
        m = model(nodes, [("a", [1, m_, 24])], ["y"], {"w": RNG.standard_normal((24, 20)) / 5,
                                                        "c": RNG.standard_normal(20)})
        cm, _ = check(m, {"a": RNG.standard_normal((1, m_, 24)).astype(np.float32)})
        (p,) = cm.placement_report()
        assert p["fused"] == ["Add_1", "Relu_2"] and p["activation"] == "relu"


def test_conv_streams_its_weights_when_they_do_not_fit_resident() -> None:
    """A 3x3 conv of 64 -> 264 channels on a 16 x 16 array: its 4 input-channel tiles' weights for all 264
    output channels (4,752 bytes a tile) and planes need 19,712 bytes a partition, more than 16 KiB, so
    each output-channel tile's weights (the last one 8 channels) are loaded in turn; the result still
    matches ONNX Runtime, as the resident lowering does at 32 KiB, with the same matmuls."""
    w = RNG.standard_normal((264, 64, 3, 3)) / np.sqrt(64 * 9)
    b = RNG.standard_normal(264)
    m = model([helper.make_node("Conv", ["x", "w", "b"], ["y"], name="c", pads=[1, 1, 1, 1])],
              [("x", [1, 64, 6, 6])], ["y"], {"w": w, "b": b})
    x = {"x": RNG.standard_normal((1, 64, 6, 6)).astype(np.float32)}
    weights = {}
    for size in (16384, 32768):
        cm, _ = check(m, x, CoreConfig(pe_rows=16, pe_cols=16, sbuf_partitions=16, psum_partitions=16,
                                       sbuf_partition_bytes=size))
        (p,) = cm.placement_report()
        weights[size] = p["lowering"]["weights"]
        assert cm.listing.count("pe.matmul") == 4 * 17 * 9  # input tiles x output tiles x kernel positions
    assert weights == {16384: "streamed per output-channel tile", 32768: "resident"}
