"""The erf-form GELU chain fused into one Gelu node (accel.compiler.fuse), in every order exporters
write it, against ONNX Runtime running the unfused chain; chains whose inner values are used
elsewhere stay as they are."""

from __future__ import annotations

import math

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from accel import CoreConfig
from accel.compiler import compile_model
from accel.compiler.fuse import fuse_gelu
from accel.compiler.graph import import_onnx
from accel.compiler.reference import compare, run_onnxruntime
from accel.timing import check_races

SMALL = CoreConfig(pe_rows=16, pe_cols=16, sbuf_partitions=16, psum_partitions=16, sbuf_partition_bytes=8192)
RNG = np.random.default_rng(3)
SCALES = {"div": ("Div", math.sqrt(2)), "mul": ("Mul", 1 / math.sqrt(2))}
# the Mul nodes after 1 + erf(..) = "a": (x * a) * 0.5, (a * 0.5) * x, (x * 0.5) * a
ORDERS = {"xa_half": [("m", "x", "a"), ("y", "m", "half")],
          "ahalf_x": [("m", "a", "half"), ("y", "x", "m")],
          "xhalf_a": [("m", "x", "half"), ("y", "m", "a")]}


def gelu_model(scale: str, order: str, extra_use: bool = False):
    """MatMul(x0, w) -> erf-form GELU -> y (and, with `extra_use`, the Erf's output as a 2nd output)."""
    op, c = SCALES[scale]
    nodes = [helper.make_node("MatMul", ["x0", "w"], ["x"]), helper.make_node(op, ["x", "c"], ["d"]),
             helper.make_node("Erf", ["d"], ["e"]), helper.make_node("Add", ["one", "e"], ["a"])]
    nodes += [helper.make_node("Mul", [p, q], [o]) for o, p, q in ORDERS[order]]
    inits = [numpy_helper.from_array(np.float32(v), n) for n, v in (("c", c), ("one", 1.0), ("half", 0.5))]
    inits.append(numpy_helper.from_array((RNG.standard_normal((24, 40)) / 5).astype(np.float32), "w"))
    outs = ["y", "e"] if extra_use else ["y"]
    g = helper.make_graph(nodes, "gelu", [helper.make_tensor_value_info("x0", TensorProto.FLOAT, [20, 24])],
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("scale", SCALES)
def test_fused_into_the_matmul_drain(scale: str, order: str) -> None:
    m = gelu_model(scale, order)
    cm = compile_model(m, SMALL)
    assert [p.where for p in cm.placements] == ["core"] and cm.placements[0].act == "gelu"
    x = {"x0": RNG.standard_normal((20, 24)).astype(np.float32)}
    run = cm.run(x)
    assert not check_races(run.timelines[0])
    e = compare(run.outputs, run_onnxruntime(m, x))["y"]
    assert e["max_rel"] <= 2 ** -6 and e["cosine"] >= 0.9999, e


def test_an_inner_value_used_elsewhere_keeps_the_chain() -> None:
    graph = import_onnx(gelu_model("div", "xa_half", extra_use=True))
    assert fuse_gelu(graph) == [] and "Erf" in [n.op for n in graph.nodes]


def test_a_wrong_constant_keeps_the_chain() -> None:
    m = gelu_model("div", "xa_half")
    m.graph.initializer[1].CopyFrom(numpy_helper.from_array(np.float32(1.1), "one"))
    graph = import_onnx(m)
    assert fuse_gelu(graph) == [] and "Erf" in [n.op for n in graph.nodes]


def test_placement_names_the_fused_nodes() -> None:
    m = gelu_model("mul", "ahalf_x")
    m.graph.node[0].output[0] = "x"
    m.graph.node.remove(m.graph.node[0])  # the GELU alone, on the graph input
    m.graph.input[0].name = "x"
    m.graph.initializer.pop()
    cm = compile_model(m, SMALL)
    (p,) = cm.placements
    assert (p.node.op, p.where, p.node.name) == ("Gelu", "core", "Erf_1/gelu")
    assert p.why == "gelu (erf-form GELU fused from Mul_0, Erf_1, Add_2, Mul_3, Mul_4)"
