"""Residency (accel/compiler/resident.py): a Conv's output read only by a plain Conv of the same
segment stays in SBUF (no store, no load); the values are bit-identical to the spilled program, the
race checker finds nothing; a tensor with two consumers, a model output or one that does not fit
spills; the instruction database never hands one placement's instructions to the other; the switch."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from accel import CoreConfig
from accel.cli import main
from accel.compiler import compile_model
from accel.compiler.cache import InstructionCache
from accel.compiler.plan import Options
from accel.timing import check_races

SMALL = CoreConfig(pe_rows=16, pe_cols=16, sbuf_partitions=16, psum_partitions=16)
OFF, ON = Options(residency=False), Options(residency=True)
RNG = np.random.default_rng(3)


def w(*shape):
    return (RNG.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))).astype(np.float32)


def chain():
    """A: 3x3 (2 output tiles on 16 columns) + Relu, read by B and by the Add (spills); B: 3x3 padded,
    read by C only (kept, zero border); C: 1x1 stride 1, read by the Add only (kept in the Add's tiles,
    [channels, H x W]); the Add's output, read by D (an element-wise output read by a conv: spills);
    D: stride 2 with uneven pads, read by E only (kept); E: dilation 2, the model output (spills).
    Two images."""
    conv = helper.make_node
    nodes = [conv("Conv", ["x", "wa", "ba"], ["a"], "A", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             conv("Relu", ["a"], ["ra"], "relu"),
             conv("Conv", ["ra", "wb", "bb"], ["b"], "B", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             conv("Conv", ["b", "wc"], ["c"], "C", kernel_shape=[1, 1]),
             conv("Add", ["c", "ra"], ["s"], "add"),
             conv("Conv", ["s", "wd", "bd"], ["d"], "D", kernel_shape=[3, 3], strides=[2, 2], pads=[0, 1, 1, 0]),
             conv("Conv", ["d", "we", "be"], ["y"], "E", kernel_shape=[3, 3], dilations=[2, 2], pads=[2, 2, 2, 2])]
    inits = {"wa": w(24, 8, 3, 3), "ba": w(24), "wb": w(20, 24, 3, 3), "bb": w(20), "wc": w(24, 20, 1, 1),
             "wd": w(18, 24, 3, 3), "bd": w(18), "we": w(12, 18, 3, 3), "be": w(12)}
    g = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8, 12, 12])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(a, n) for n, a in inits.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def ffn():
    """MatMul + Gelu (fused) read only by a MatMul (+ its bias Add), 2 batches of 80 rows: the rows
    layout (pe.rows_layout), 5 blocks of 16 rows each."""
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"], "in"), helper.make_node("Gelu", ["h"], ["g"], "gelu"),
             helper.make_node("MatMul", ["g", "w2"], ["o"], "out"), helper.make_node("Add", ["o", "b2"], ["y"], "bias")]
    inits = {"w1": w(24, 40), "w2": w(40, 24), "b2": w(24)}
    return model_of(nodes, [2, 80, 24], inits), {"g"}


def gemms():
    """Gemm (transB, bias) + Relu read only by a Gemm with alpha, whose output is the model output."""
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], "g1", transB=1), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Gemm", ["r", "w2", "b2"], ["y"], "g2", alpha=0.5)]
    inits = {"w1": w(36, 24), "b1": w(36), "w2": w(36, 20), "b2": w(20)}
    return model_of(nodes, [70, 24], inits), {"r"}


def residual():
    """A MatMul read only by a residual Add (kept as its row blocks, the Add's tiles), the Add read
    only by a Relu (kept), the Relu the model output."""
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"], "mm"), helper.make_node("Add", ["x", "h"], ["s"], "add"),
             helper.make_node("Relu", ["s"], ["y"], "relu")]
    return model_of(nodes, [2, 80, 24], {"w1": w(24, 24)}), {"h", "s"}


def model_of(nodes, shape, inits):
    g = helper.make_graph(nodes, "m", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(a, n) for n, a in inits.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 20)])


@pytest.mark.parametrize("make", [ffn, gemms, residual])
def test_kept_matmul_rows_give_the_same_bits_race_free(make) -> None:
    m, kept = make()
    x = {"x": RNG.standard_normal([d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim])
         .astype(np.float32)}
    base, cm = compile_model(m, SMALL, options=OFF), compile_model(m, SMALL, options=ON)
    assert [p.where for p in cm.placements] == ["core"] * len(cm.placements)
    seg = next(s.segment for s in cm.steps if s.kind == "core")
    assert set(seg.keep) == kept
    a, b = base.run(x), cm.run(x)
    assert np.array_equal(a.outputs["y"].view(np.uint32), b.outputs["y"].view(np.uint32))
    for tl in b.timelines:
        assert not check_races(tl)
    dram = [sum(int(t.dram_bytes.sum()) for t in r.timelines) for r in (a, b)]
    size = sum(int(np.prod(cm.graph.values[v].shape)) for v in kept)
    assert dram[0] - dram[1] >= 2 * size * 2  # their stores and loads, bf16


def elementwise_chain(shape=(2, 24, 10, 10)):
    """Add -> Relu -> Mul by a scalar -> Sub (the model output): a, r and m kept, each read by the
    next; Sigmoid read by an Add that broadcasts a per-channel bias: spills."""
    mk = helper.make_node
    nodes = [mk("Add", ["x", "x2"], ["a"], "add"), mk("Relu", ["a"], ["r"], "relu"),
             mk("Mul", ["r", "half"], ["m"], "mul"), mk("Sub", ["m", "x"], ["s"], "sub"),
             mk("Sigmoid", ["s"], ["g"], "sigmoid"), mk("Add", ["g", "bias"], ["y"], "bias")]
    inits = {"half": np.array(0.5, np.float32), "bias": w(1, 24, 1, 1)}
    g = helper.make_graph(nodes, "ew", [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(shape))
                                        for n in ("x", "x2")],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(a, n) for n, a in inits.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def test_kept_elementwise_tiles_give_the_same_bits_race_free(tmp_path) -> None:
    m = elementwise_chain()
    x = {n: RNG.standard_normal((2, 24, 10, 10)).astype(np.float32) for n in ("x", "x2")}
    base, cm = compile_model(m, SMALL, options=OFF), compile_model(m, SMALL, options=ON)
    seg = next(s.segment for s in cm.steps if s.kind == "core")
    assert set(seg.keep) == {"a", "r", "m", "s"}
    a, b = base.run(x), cm.run(x)
    assert np.array_equal(a.outputs["y"].view(np.uint32), b.outputs["y"].view(np.uint32))
    for tl in b.timelines:
        assert not check_races(tl)
    assert stores(base) - stores(cm) >= 4
    # through the database, twice: each compile equals the fresh one
    for _ in range(2):
        assert compile_model(m, SMALL, options=ON, cache=tmp_path).listing == cm.listing
    # 4 KiB per partition, a tensor of 9,600 bytes per partition: the kept tiles would not fit, they spill
    big = elementwise_chain((2, 24, 40, 40))
    tiny = CoreConfig(pe_rows=16, pe_cols=16, sbuf_partitions=16, psum_partitions=16, sbuf_partition_bytes=4096)
    spill = compile_model(big, tiny, options=ON)
    assert not next(s.segment for s in spill.steps if s.kind == "core").keep
    x = {n: RNG.standard_normal((2, 24, 40, 40)).astype(np.float32) for n in ("x", "x2")}
    want = compile_model(big, tiny, options=OFF).run(x, timing=False).outputs["y"]
    assert np.array_equal(spill.run(x, timing=False).outputs["y"], want)


def blocks():
    """Two ResNet bottleneck-like blocks, 24 channels (2 tiles of 16), two images. Block outputs r0
    (a conv's) and r1 (a Relu's) are read by a 1 x 1 conv and by the residual Add or the downsample
    conv: kept once as channel tiles by whole planes, freed by the last reader."""
    mk = helper.make_node
    nodes = [mk("Conv", ["x", "w0"], ["h0"], "c0", kernel_shape=[1, 1]), mk("Relu", ["h0"], ["r0"], "relu0"),
             mk("Conv", ["r0", "wa1"], ["ha1"], "a1", kernel_shape=[1, 1]), mk("Relu", ["ha1"], ["a1r"], "relua1"),
             mk("Conv", ["a1r", "wb1"], ["hb1"], "b1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             mk("Relu", ["hb1"], ["b1r"], "relub1"),
             mk("Conv", ["b1r", "wc1"], ["c1"], "c1", kernel_shape=[1, 1]), mk("Add", ["c1", "r0"], ["s1"], "add1"),
             mk("Relu", ["s1"], ["r1"], "relu1"),
             mk("Conv", ["r1", "wa2"], ["ha2"], "a2", kernel_shape=[1, 1]), mk("Relu", ["ha2"], ["a2r"], "relua2"),
             mk("Conv", ["a2r", "wc2"], ["c2"], "c2", kernel_shape=[1, 1], strides=[2, 2]),
             mk("Conv", ["r1", "wd2"], ["d2"], "d2", kernel_shape=[1, 1], strides=[2, 2]),
             mk("Add", ["d2", "c2"], ["s2"], "add2"), mk("Relu", ["s2"], ["y"], "relu2")]
    inits = {"w0": w(24, 8, 1, 1), "wa1": w(12, 24, 1, 1), "wb1": w(12, 12, 3, 3), "wc1": w(24, 12, 1, 1),
             "wa2": w(12, 24, 1, 1), "wc2": w(24, 12, 1, 1), "wd2": w(24, 24, 1, 1)}
    return model_of(nodes, [2, 8, 8, 8], inits)


def test_shared_block_outputs_give_the_same_bits_race_free(tmp_path) -> None:
    m = blocks()
    x = {"x": RNG.standard_normal((2, 8, 8, 8)).astype(np.float32)}
    base, cm = compile_model(m, SMALL, options=OFF), compile_model(m, SMALL, options=ON)
    seg = next(s.segment for s in cm.steps if s.kind == "core")
    assert set(seg.keep) == {"r0", "a1r", "b1r", "c1", "s1", "r1", "a2r", "c2", "d2", "s2"}
    assert (seg.keep["r0"].last, seg.keep["r1"].last) == ("add1", "d2")
    a, b = base.run(x), cm.run(x)
    assert np.array_equal(a.outputs["y"].view(np.uint32), b.outputs["y"].view(np.uint32))
    for tl in b.timelines:
        assert not check_races(tl)
    assert stores(cm) == 2 * 2 * 1  # only the output: per image, 2 channel tiles, 1 chunk
    for _ in range(2):
        assert compile_model(m, SMALL, options=ON, cache=tmp_path).listing == cm.listing


def stores(cm) -> int:
    return sum(line.split(";")[0].strip().startswith("dma.store") for line in cm.listing.splitlines())


@pytest.fixture(scope="module")
def model():
    return chain()


@pytest.fixture(scope="module")
def feeds():
    return {"x": RNG.standard_normal((2, 8, 12, 12)).astype(np.float32)}


@pytest.fixture(scope="module")
def spilled(model, feeds):
    cm = compile_model(model, SMALL, options=OFF)
    return cm, cm.run(feeds)


@pytest.mark.parametrize("reorder", [False, True])
def test_kept_tensors_give_the_same_bits_race_free(model, feeds, spilled, reorder) -> None:
    base, ref = spilled
    cm = compile_model(model, SMALL, options=Options(residency=True, reorder=reorder))
    seg = next(s.segment for s in cm.steps if s.kind == "core")
    assert set(seg.keep) == {"b", "c", "d"}  # ra: two consumers; s: an Add's, read by a conv; y: the output
    assert not {"b", "c", "d"} & set(seg.dram)  # no DRAM tensor for a kept value
    run = cm.run(feeds)
    assert np.array_equal(run.outputs["y"].view(np.uint32), ref.outputs["y"].view(np.uint32))
    for tl in run.timelines:
        assert not check_races(tl)
    assert stores(cm) < stores(base)
    dram = [sum(int(t.dram_bytes.sum()) for t in r.timelines) for r in (ref, run)]
    # each kept tensor saves its store and its load: 2 images x (20 + 24) x 12 x 12 and 2 x 18 x 6 x 6, bf16
    assert dram[0] - dram[1] >= 2 * 2 * (2 * 44 * 12 * 12 + 2 * 18 * 6 * 6)
    assert base.options.residency is False and cm.options.residency is True


def test_a_tensor_that_does_not_fit_spills(model, feeds, spilled) -> None:
    """11 KiB per partition: every conv fits, the kept planes beside both convs' buffers do not."""
    cfg = CoreConfig(pe_rows=16, pe_cols=16, sbuf_partitions=16, psum_partitions=16, sbuf_partition_bytes=11264)
    cm = compile_model(model, cfg, options=ON)
    assert [p.where for p in cm.placements] == ["core"] * len(cm.placements)
    kept = next(s.segment for s in cm.steps if s.kind == "core").keep
    assert set(kept) < {"b", "c", "d"}
    assert np.array_equal(cm.run(feeds, timing=False).outputs["y"], spilled[1].outputs["y"])


def test_the_database_keeps_placements_apart(tmp_path, model, feeds, spilled) -> None:
    """A database filled by the spilled compile, then the resident one, then both again: every compile
    equals a fresh one of its placement (a hit never returns the other placement's instructions)."""
    fresh = {False: spilled[0], True: compile_model(model, SMALL, options=ON)}
    db = InstructionCache(tmp_path)
    for res in (False, True, False, True):
        cm = compile_model(model, SMALL, options=Options(residency=res), cache=db)
        assert cm.listing == fresh[res].listing
    assert cm.cache_stats["hits"] >= 1


def test_cli_switch(tmp_path, model, capsys) -> None:
    import onnx

    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    texts = []
    for flag in ([], ["--no-residency"]):
        assert main(["compile", str(path), "--no-cache", "--listing", str(tmp_path / "m.s"), *flag]) == 0
        texts.append((tmp_path / "m.s").read_text())
    capsys.readouterr()
    count = [sum(ln.split(";")[0].strip().startswith("dma.store") for ln in t.splitlines()) for t in texts]
    assert count[0] < count[1]
