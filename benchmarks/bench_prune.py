"""Mixed-ratio pruning (accel.tools.sparsity.prune_mixed) on a whole network's weights, as
`accel compile --sparsity 2:4,4:8 --target 0.5` prunes them: every Conv weight as W [kh kw cin,
cout] (kernel position major, the compiler's K order; BatchNorm not folded, which changes no
shape) and every Gemm weight as [K, N], with the patterns and the target given. Prints the matrices,
their weights and the CPU seconds (process time, so a shared machine's load counts less) of
prune_mixed over all of them, best of --repeat runs.

    PYTHONPATH=. python benchmarks/bench_prune.py                          # ResNet-50, 2:4,4:8, 0.5
    PYTHONPATH=OLD_TREE python benchmarks/bench_prune.py --model resnet50   # the same at another commit

It uses prune_mixed's public signature only, so the same script times an older tree.
"""

from __future__ import annotations

import argparse
import time

import bench_models
import numpy as np
from onnx import numpy_helper

from accel.compiler.sparse import parse_patterns
from accel.tools.sparsity import prune_mixed


def matrices(name: str) -> list[np.ndarray]:
    """The network's Conv and Gemm weights as the compiler's W [K, N] (float64)."""
    model = bench_models.build(name, 224)
    inits = {t.name: t for t in model.graph.initializer}
    out = []
    for node in model.graph.node:
        if node.op_type not in ("Conv", "Gemm") or node.input[1] not in inits:
            continue
        w = numpy_helper.to_array(inits[node.input[1]]).astype(np.float64)
        if node.op_type == "Conv":
            w = w.transpose(2, 3, 1, 0).reshape(-1, w.shape[0])
        elif any(a.name == "transB" and a.i for a in node.attribute):
            w = w.T
        out.append(w)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="resnet50")
    ap.add_argument("--sparsity", default="2:4,4:8")
    ap.add_argument("--target", type=float, default=0.5)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    ws, patterns = matrices(args.model), list(parse_patterns(args.sparsity))
    best = None
    for _ in range(args.repeat):
        start = time.process_time()
        for w in ws:
            prune_mixed(w, patterns, target=args.target)
        spent = time.process_time() - start
        best = spent if best is None else min(best, spent)
    print(f"{args.model}: {len(ws)} matrices, {sum(w.size for w in ws):,} weights, prune_mixed "
          f"{args.sparsity} to {args.target}: {best:.2f} s CPU (best of {args.repeat})")


if __name__ == "__main__":
    main()
