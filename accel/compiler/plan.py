"""Placement and segments: which node runs where, and the programs and host steps of a model.

Hierarchical partitioning with host fallback (../shared/PATENTS.md, US20210158131A1): each node goes
to the core when a lowering supports it, else to the host (accel.compiler.host: our NumPy
implementations), else to the framework (onnx.reference). Consecutive core nodes form one segment,
one accel program; segments are joined by DRAM tensors. Before placement, a BatchNormalization after
a Conv folds into its weights, and an activation that is the only consumer of a Conv/Gemm/MatMul
fuses into the ACT step that drains PSUM.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accel.compiler import pe, sparse, vector
from accel.compiler.graph import CompileError, Graph, Node
from accel.compiler.segment import Segment
from accel.config import CoreConfig

# activations ACT applies while it drains PSUM: ONNX op -> act.func name ("relu": act.relu)
FUSED_ACTIVATIONS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Gelu": "gelu", "Exp": "exp"}
LAYOUT = ("Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout")


@dataclass(frozen=True)
class Options:
    """The compiler's optimizations, each switchable so its gain is measurable side by side
    (docs/compiler.md, "Optimizations"): row spreading of convolutions that use few PE rows
    (pe.spread_plan), reordering each segment's instructions across engines (reorder.py), and
    keeping a tensor in SBUF between the layers of a segment instead of a DRAM round trip (residency,
    accel.compiler.resident). `sparsity`: N:M patterns ((2, 4), (4, 8)) for Gemm/MatMul/Conv weights
    (accel.compiler.sparse; empty: dense), pruned to `sparsity_target` zeros by the mixed-ratio
    planner (None: only weights that already meet a pattern run sparse, losslessly)."""

    row_spread: bool = True
    reorder: bool = True
    residency: bool = True
    sparsity: tuple[tuple[int, int], ...] = ()
    sparsity_target: float | None = None
    # (node, choice): accel.compiler.tune's choice, "plain" | "dense" | "rows" | "cols" | "spread", with
    # "/T" for a tile of T PSUM elements a matmul (choice_parts)
    tuned: tuple[tuple[str, str], ...] = ()


@dataclass
class Placement:
    node: Node
    where: str  # "core", "host", "framework"
    why: str  # the lowering, or why not the core
    act: str | None = None  # fused activation
    fused: list[str] = field(default_factory=list)  # names of nodes folded into this one
    weights: np.ndarray | None = None
    bias: np.ndarray | None = None
    row_spread: bool = True  # Options.row_spread, for pe.lower_conv
    notes: dict[str, Any] = field(default_factory=dict)  # what the lowering did (pe.lower_conv's notes)
    sparse: dict[str, Any] | None = None  # the N:M decision of sparse.prepare (Options.sparsity)
    layout: str | None = None  # Gemm/MatMul "rows" / "cols" chosen by tuning (None: pe.rows_layout decides)
    tile: int | None = None  # PSUM elements a matmul chosen by tuning (None: a whole bank; pe.lower_conv's tile)


def _gemm_operands(node: Node, graph: Graph) -> tuple[np.ndarray | None, np.ndarray, float]:
    """(B as [K, N] if constant, bias [N], alpha) of a Gemm; CompileError when C is not a per-column bias."""
    b = graph.const(node.inputs[1])
    if b is not None and node.attr("transB", 0):
        b = b.T
    n = graph.values[node.outputs[0]].shape[-1]
    bias = np.zeros(n, np.float32)
    if len(node.inputs) > 2 and node.inputs[2]:
        c = graph.const(node.inputs[2])
        if c is None or c.size not in (1, n) or (c.ndim == 2 and c.shape[0] != 1):
            raise CompileError(f"node {node.name} (Gemm): C is not a constant per-column bias")
        bias = np.broadcast_to(c.reshape(-1) * node.attr("beta", 1.0), (n,)).astype(np.float32)
    return b, bias, float(node.attr("alpha", 1.0))


def _core_reason(node: Node, graph: Graph, config: CoreConfig) -> str | None:
    """None when a core lowering takes the node, else why not."""
    op = node.op
    if node.domain:
        return f"domain {node.domain}"
    if op == "Conv":
        return pe.conv_supported(node, graph, config)
    if op == "Gemm":
        if node.attr("transA", 0):
            return "transA"
        if graph.const(node.inputs[1]) is None and node.attr("transB", 0):
            return "transB of a non-constant B"
        try:
            _gemm_operands(node, graph)
        except CompileError as e:
            return str(e).split(": ", 1)[1]
        return None
    if op == "MatMul":
        return pe.matmul_supported(node, graph, config)
    if op in LAYOUT:
        if op == "Dropout" and _training(node, graph):
            return vector.dropout_supported(node, graph, config)
        if op == "Dropout" and len(node.outputs) > 1 and node.outputs[1]:
            return "Dropout mask output"
        return None
    if op in vector.LOWERINGS:
        return vector.LOWERINGS[op][0](node, graph, config)
    return "no core lowering for this operator"


def _training(node: Node, graph: Graph) -> bool:
    if len(node.inputs) > 2 and node.inputs[2]:
        t = graph.const(node.inputs[2])
        return t is None or bool(t)
    return False


def place(graph: Graph, config: CoreConfig, host_ops: dict[str, Callable], strict: bool = False,
          options: Options = Options()) -> list[Placement]:
    """Every node's placement, with BatchNorm folding and activation fusion applied."""
    consumers = graph.consumers()
    producer = graph.producer()
    outputs = set(graph.outputs)
    folded: set[str] = set()
    plans: dict[str, Placement] = {}

    def sole(value: str) -> Node | None:
        users = consumers.get(value, [])
        return users[0] if len(users) == 1 and value not in outputs else None

    for node in graph.nodes:
        if node.name in folded:
            continue
        why = _core_reason(node, graph, config)
        if why is None:
            choice, tile = choice_parts(dict(options.tuned).get(node.name))  # tuning's (tune.py) over the heuristics
            plan = Placement(node, "core", node.op.lower(), row_spread=options.row_spread and choice != "plain",
                             tile=tile)
            if choice in ("rows", "cols"):
                plan.layout = choice
            if node.op == "Conv":
                w = graph.const(node.inputs[1]).astype(np.float64)
                cout = w.shape[0]
                bias = (graph.const(node.inputs[2]).astype(np.float64) if len(node.inputs) > 2 and node.inputs[2]
                        else np.zeros(cout))
                nxt = sole(node.outputs[0])
                if nxt is not None and nxt.op == "BatchNormalization" and all(
                        graph.const(i) is not None for i in nxt.inputs[1:5]) and not nxt.attr("training_mode", 0):
                    gamma, beta, mean, var = (graph.const(i).astype(np.float64) for i in nxt.inputs[1:5])
                    k = gamma / np.sqrt(var + nxt.attr("epsilon", 1e-5))
                    w = w * k[:, None, None, None]
                    bias = (bias - mean) * k + beta
                    folded.add(nxt.name)
                    plan.fused.append(nxt.name)
                    _rename_output(node, nxt)
                plan.weights, plan.bias = w.astype(np.float32), bias.astype(np.float32)
            if node.op in ("Gemm", "MatMul"):  # + a constant bias over the last axis: into the drain
                nxt = sole(node.outputs[0])
                n = graph.values[node.outputs[0]].shape[-1]
                other = None if nxt is None or nxt.op != "Add" else next(
                    (i for i in nxt.inputs if i != node.outputs[0]), None)
                c = graph.const(other) if other else None
                if c is not None and c.size == n and c.shape[-1:] == (n,) and len(c.shape) <= len(
                        graph.values[node.outputs[0]].shape):
                    plan.bias = c.reshape(n).astype(np.float32)
                    folded.add(nxt.name)
                    plan.fused.append(nxt.name)
                    _rename_output(node, nxt)
            if node.op in ("Conv", "Gemm", "MatMul"):
                nxt = sole(node.outputs[0])
                if nxt is not None and nxt.op in FUSED_ACTIVATIONS and not nxt.domain:
                    plan.act = FUSED_ACTIVATIONS[nxt.op]
                    folded.add(nxt.name)
                    plan.fused.append(nxt.name)
                    _rename_output(node, nxt)
            if node.op == "Dropout" and _training(node, graph):  # the stream, for the report
                seed, offset, ratio = vector.dropout_stream(node, graph)
                plan.why = f"training-mode dropout on the hardware RNG (Philox seed={seed} offset={offset} p={ratio:g})"
            if options.sparsity and node.op in ("Conv", "Gemm", "MatMul"):
                sparse.prepare(plan, graph, config, options)
            plans[node.name] = plan
        elif strict:
            raise CompileError(f"node {node.name} ({node.op}): not supported on the core ({why}); without --strict "
                               "it would run on the host")
        elif node.op in host_ops:
            plans[node.name] = Placement(node, "host", f"host NumPy ({why})")
        else:
            plans[node.name] = Placement(node, "framework", f"onnx.reference ({why})")
    del producer
    return [plans[n.name] for n in graph.nodes if n.name in plans]


def choice_parts(choice: str | None) -> tuple[str | None, int | None]:
    """A tuning choice ("cols/256") as (lowering, tile elements); (choice, None) without a tile."""
    if choice is None or "/" not in choice:
        return choice, None
    name, tile = choice.split("/")
    return name, int(tile)


def _rename_output(node: Node, fused: Node) -> None:
    """`node` now produces what `fused` produced."""
    node.outputs = [fused.outputs[0]] + node.outputs[1:]


def lower(plan: Placement, seg: Segment) -> None:
    """Emit the instructions of one core node into its segment."""
    node, graph = plan.node, seg.graph
    seg.builder.node = node.name if not plan.fused else f"{node.name} (+{', '.join(plan.fused)})"
    seg.nodes.append(node.name)
    if node.op == "Conv":
        if not sparse.lower(plan, seg):
            plan.notes = pe.lower_conv(seg, node, plan.act, plan.weights, plan.bias, spread=plan.row_spread,
                                       tile=plan.tile)
    elif node.op == "Gemm":
        b, bias, alpha = _gemm_operands(node, graph)
        if plan.bias is not None:  # a fused Add after it: Y = alpha A B + beta C + bias
            bias = bias + plan.bias
        if not sparse.lower(plan, seg, bias, alpha):
            pe.lower_matmul(seg, node, plan.act, node.inputs[0], node.inputs[1], b, bias, alpha, plan.layout, plan.tile)
    elif node.op == "MatMul":
        n = graph.values[node.outputs[0]].shape[-1]
        bias = plan.bias if plan.bias is not None else np.zeros(n, np.float32)
        if not sparse.lower(plan, seg, bias):
            pe.lower_matmul(seg, node, plan.act, node.inputs[0], node.inputs[1], graph.const(node.inputs[1]), bias,
                            layout=plan.layout, tile=plan.tile)
    elif node.op == "Dropout" and _training(node, graph):
        vector.lower_dropout(seg, node)
    elif node.op in LAYOUT:
        seg.alias(node.outputs[0], node.inputs[0])
    elif node.op in vector.LOWERINGS:
        vector.LOWERINGS[node.op][1](seg, node)
    else:  # pragma: no cover - place() admits only the operators above
        raise CompileError(f"node {node.name} ({node.op}): no core lowering")
