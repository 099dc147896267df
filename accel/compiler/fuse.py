"""Graph rewrites before placement: subgraphs that are one operator the core runs.

An exported GELU below opset 20 is the chain 0.5 x (1 + erf(x / sqrt 2)) of Div (or Mul by
1/sqrt 2), Erf, Add, Mul and Mul: node by node, Erf has no core lowering and goes to the host, which
cuts the segment twice per MLP. `fuse_gelu` replaces each such chain by one Gelu node
(approximate="none"), which `act.func fn=gelu` runs and a preceding Gemm/MatMul drains into, as
ONNX Runtime's own GELU fusion does. A chain is fused only when its inner values feed nothing else.
"""

from __future__ import annotations

import math

from accel.compiler.graph import Graph, Node
from accel.compiler.vector import _scalar  # a one-element constant's value

SQRT2 = math.sqrt(2.0)


def _other(node: Node, value: str) -> str | None:
    """The input of a binary `node` that is not `value` (None when both are, or it is not binary)."""
    rest = [i for i in node.inputs if i != value]
    return rest[0] if len(node.inputs) == 2 and len(rest) == 1 else None


def _is(graph: Graph, name: str | None, target: float) -> bool:
    v = None if name is None else _scalar(graph, name)
    return v is not None and math.isclose(v, target, rel_tol=1e-4)


def fuse_gelu(graph: Graph) -> list[tuple[str, list[str]]]:
    """Replace every erf-form GELU chain by a Gelu node; returns (gelu node, fused node names)."""
    consumers, producer = graph.consumers(), graph.producer()
    outputs = set(graph.outputs)

    def sole(value: str) -> Node | None:
        users = consumers.get(value, [])
        return users[0] if len(users) == 1 and value not in outputs else None

    fused: list[tuple[str, list[str]]] = []
    drop: set[str] = set()
    for erf in [n for n in graph.nodes if n.op == "Erf" and not n.domain]:
        scale = producer.get(erf.inputs[0])
        if scale is None or sole(scale.outputs[0]) is not erf or scale.name in drop:
            continue
        if scale.op == "Div" and len(scale.inputs) == 2 and _is(graph, scale.inputs[1], SQRT2):
            x = scale.inputs[0]
        elif scale.op == "Mul" and _is(graph, _other(scale, scale.inputs[0]), 1 / SQRT2):
            x = scale.inputs[0]
        elif scale.op == "Mul" and _is(graph, _other(scale, scale.inputs[1]), 1 / SQRT2):
            x = scale.inputs[1]
        else:
            continue
        add = sole(erf.outputs[0])
        if add is None or add.op != "Add" or not _is(graph, _other(add, erf.outputs[0]), 1.0):
            continue
        chain = _halve_times_x(graph, sole, producer, x, add.outputs[0])
        if chain is None:
            continue
        *muls, y = chain
        if graph.values[x].shape != graph.values[y].shape:
            continue
        inner = [scale, erf, add, *muls]
        drop |= {n.name for n in inner}
        gelu = Node(f"{erf.name}/gelu", "Gelu", [x], [y], {"approximate": "none"})
        fused.append((gelu.name, [n.name for n in inner]))
        at = min(graph.nodes.index(n) for n in inner)
        graph.nodes.insert(at, gelu)
    if drop:
        graph.nodes = [n for n in graph.nodes if n.name not in drop]
    return fused


def _halve_times_x(graph: Graph, sole, producer: dict[str, Node], x: str, a: str) -> list | None:
    """The Mul nodes that make 0.5 * x * a from `a` = 1 + erf(...), in any of the orders exporters
    write, and the output name: [mul, mul, y]; None when the chain is not that."""
    m1 = sole(a)
    if m1 is None or m1.op != "Mul":
        return None
    o1 = _other(m1, a)
    if o1 == x or _is(graph, o1, 0.5):  # (x * a) * 0.5  or  (a * 0.5) * x
        m2 = sole(m1.outputs[0])
        want = 0.5 if o1 == x else None
        if m2 is None or m2.op != "Mul":
            return None
        o2 = _other(m2, m1.outputs[0])
        if (want is not None and _is(graph, o2, want)) or (want is None and o2 == x):
            return [m1, m2, m2.outputs[0]]
        return None
    half = producer.get(o1) if o1 else None  # (x * 0.5) * a
    if half is not None and half.op == "Mul" and sole(half.outputs[0]) is m1 and _other(half, x) is not None \
            and _is(graph, _other(half, x), 0.5):
        return [half, m1, m1.outputs[0]]
    return None

