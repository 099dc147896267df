"""Reordering across engines (reorder.py): the reordered programs give the same bits, race-free and
never slower by the timing model; every pair of conflicting accesses keeps its order (checked pair by
pair against the footprints); the pass fills an engine's gap where one exists; the switch."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from accel import CoreConfig
from accel.compiler import compile_model
from accel.compiler.plan import Options
from accel.compiler.reorder import SYNC, dependencies, footprint, list_order
from accel.timing import check_races, schedule

SMALL = CoreConfig(pe_rows=16, pe_cols=16, sbuf_partitions=16, psum_partitions=16)
OFF = Options(row_spread=False, reorder=False)
ON = Options(row_spread=False, reorder=True)
RNG = np.random.default_rng(0)


def graph(nodes, inputs, inits, outputs=("y",), opset=17):
    g = helper.make_graph(nodes, "t", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
                          [numpy_helper.from_array(np.asarray(a, np.float32), n) for n, a in inits.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def w(*shape):
    return RNG.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))


def two_convs():
    n = [helper.make_node("Conv", ["x", "w1", "b1"], ["a"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["a"], ["r"]),
         helper.make_node("Conv", ["r", "w2", "b2"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])]
    return graph(n, [("x", [1, 8, 12, 12])], {"w1": w(24, 8, 3, 3), "b1": w(24), "w2": w(16, 24, 3, 3), "b2": w(16)})


def conv_pool_gemm():
    n = [helper.make_node("Conv", ["x", "w1", "b1"], ["a"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["a"], ["r"]),
         helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
         helper.make_node("Flatten", ["p"], ["f"]),
         helper.make_node("Gemm", ["f", "wg", "bg"], ["y"], transB=1)]
    return graph(n, [("x", [2, 4, 16, 16])], {"w1": w(8, 4, 3, 3), "b1": w(8), "wg": w(10, 128), "bg": w(10)})


def attention():
    n = [helper.make_node("MatMul", ["x", "wq"], ["q"]),
         helper.make_node("MatMul", ["x", "wk"], ["k"]),
         helper.make_node("Transpose", ["k"], ["kt"], perm=[1, 0]),
         helper.make_node("MatMul", ["q", "kt"], ["s"]),
         helper.make_node("Softmax", ["s"], ["p"], axis=-1),
         helper.make_node("MatMul", ["p", "x"], ["y"])]
    return graph(n, [("x", [64, 24])], {"wq": w(24, 24), "wk": w(24, 24)})


def dropout_add():
    n = [helper.make_node("Dropout", ["x", "ratio", "train"], ["d"], seed=7),
         helper.make_node("Add", ["d", "x"], ["s"]),
         helper.make_node("Dropout", ["s", "ratio", "train"], ["y"], seed=8)]
    m = graph(n, [("x", [3, 40, 24])], {"ratio": np.array(0.25)})
    m.graph.initializer.append(numpy_helper.from_array(np.array(True), "train"))
    return m


MODELS = {"two_convs": two_convs, "conv_pool_gemm": conv_pool_gemm, "attention": attention,
          "dropout_add": dropout_add}


@pytest.mark.parametrize("name", MODELS)
def test_reordered_bits_race_free_never_slower(name) -> None:
    m = MODELS[name]()
    feeds = {i.name: RNG.standard_normal([d.dim_value for d in i.type.tensor_type.shape.dim]).astype(np.float32)
             for i in m.graph.input}
    base = compile_model(m, SMALL, options=OFF)
    moved = compile_model(m, SMALL, options=ON)
    a, b = base.run(feeds), moved.run(feeds)
    for k in a.outputs:
        assert np.array_equal(a.outputs[k].view(np.uint32), b.outputs[k].view(np.uint32)), k
    for tl in b.timelines:
        assert not check_races(tl)
    core = [s for s in moved.steps if s.kind == "core"]
    for step, tl, before in zip(core, b.timelines, a.timelines, strict=True):
        assert step.reorder["before"] == before.total
        assert step.reorder["after"] == tl.total <= before.total


def test_conflicting_accesses_keep_their_order() -> None:
    """Every two instructions that touch a common byte (one writing it), or the same engine state,
    come in the reordered stream in their original order: checked for every pair by their
    footprints (not by reorder.py's index), on programs the pass does change."""
    for make in (two_convs, conv_pool_gemm, dropout_add):
        cm = compile_model(make(), SMALL, options=OFF)
        for step in (s for s in cm.steps if s.kind == "core"):
            prog = step.program
            ops = [i for i, ins in enumerate(prog.instructions) if ins.mnemonic not in SYNC]
            preds, prints = dependencies(prog, ops)
            order = list_order(prog, SMALL, ops, preds)
            assert sorted(order) == list(range(len(ops)))
            where = {k: pos for pos, k in enumerate(order)}
            assert order != list(range(len(ops)))  # the pass does move something here
            for j in range(len(ops)):
                rj, wj = prints[j]
                for i in range(j):
                    ri, wi = prints[i]
                    clash = any(x.meets(y) for x in wi for y in rj + wj) or any(x.meets(y) for x in ri for y in wj)
                    if clash:
                        assert where[i] < where[j], (prog.instructions[ops[i]].source, prog.instructions[ops[j]].source)


def test_footprints_cover_dram_and_engine_state() -> None:
    cm = compile_model(two_convs(), SMALL, options=OFF)
    prog = cm.steps[0].program
    spaces = {r.space for ins in prog.instructions for rs in footprint(ins, prog) for r in rs}
    assert {"sb", "psum", "pe weights"} <= spaces
    assert any(s.startswith("dram ") for s in spaces)


def test_reorder_fills_the_gap() -> None:
    """Two convs in one segment: emitted in order, the DMA queue holds the second conv's weight and
    input loads behind the first conv's stores (which wait on ACT), so DMA idles; reordered, the
    timing model counts fewer cycles."""
    cm = compile_model(two_convs(), SMALL, options=ON)
    r = cm.steps[0].reorder
    assert r["after"] < r["before"]
    assert schedule(cm.steps[0].program, SMALL).total == r["after"]
