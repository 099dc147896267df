"""`accel sparsify`: mixed-ratio N:M pruning of a weight matrix into compressed weights."""

from __future__ import annotations

import numpy as np

from accel.tools.sparsity import compress_pruned, index_bits, parse_pattern, prune_mixed


def add_sparsify_arguments(parser) -> None:
    """Arguments of `accel sparsify`."""
    parser.add_argument("weights", help="a .npy weight matrix [K, N] (K = contraction, N = outputs)")
    parser.add_argument("--patterns", default="2:4,4:8", help="comma-separated N:M ratios (default 2:4,4:8)")
    parser.add_argument("--target", type=float, help="overall sparsity to reach (fraction of zero weights)")
    parser.add_argument("--max-error", type=float, help="relative Frobenius error budget")
    parser.add_argument("--dtype", choices=["bf16", "int8"], default="bf16", help="stored values (default bf16)")
    parser.add_argument("-o", "--output", required=True, help="output .npz of compressed weights")
    parser.add_argument("--report", action="store_true", help="also print the per-column cost table summary")


def sparsify_main(args) -> int:
    """Run `accel sparsify`: prune, compress, write the npz, print the result."""
    patterns = [parse_pattern(t) for t in args.patterns.split(",") if t.strip()]
    if args.target is not None and not 0 <= args.target <= 1:
        raise ValueError(f"--target {args.target}: expected a fraction in 0..1")
    try:
        w = np.load(args.weights, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ValueError(f"{args.weights}: cannot read a .npy array ({e})") from None
    if w.ndim != 2 or not np.issubdtype(w.dtype, np.number):
        raise ValueError(f"{args.weights}: expected a numeric 2-D weight matrix, got {w.dtype} {w.shape}")
    if not np.isfinite(w.astype(np.float64)).all():
        raise ValueError(f"{args.weights}: weights must be finite")
    result = prune_mixed(w, patterns, target=args.target, max_error=args.max_error)
    arrays = compress_pruned(result, args.dtype)
    np.savez(args.output, **arrays)
    counts = ", ".join(f"{p}: {c}" for p, c in result.counts.items())
    print(f"sparsity {result.sparsity:.4f}, relative error {result.error:.4g}, columns per ratio {counts}")
    if not result.reached:
        print(f"note: target {args.target} is not reachable with {args.patterns}; the sparsest is shown")
    if args.report:
        print(f"threshold {result.threshold:.6g} (L1 magnitude a column may lose under a more aggressive ratio)")
        for j, (n, m) in enumerate(result.patterns):
            cols = np.flatnonzero(result.assignment == j)
            print(f"  {n}:{m}: {cols.size} columns, {cols.size * -(-w.shape[0] // m) * n} stored values, "
                  f"index {index_bits(m)} bits each")
    print(f"wrote {args.output}: {', '.join(arrays)}")
    return 0
