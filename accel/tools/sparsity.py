"""N:M constrained fine-grained sparse weights: compressed layout, lossless decomposition, planner, pruning.

Layout (docs/sparse.md). A dense weight matrix W [K, N] (K = contraction, N = output columns) is cut
along K into G = ceil(K / m) groups of m consecutive rows (zero rows pad the last group). An n:m
matrix has at most n nonzeros in every group of every column. Its compressed form holds

* `values` [G * n, N]: row g * n + j is slot j of group g; a column's nonzeros of group g fill
  slots 0, 1, ... in ascending row order; unused slots hold 0;
* `index` [G * n, N]: the position 0..m-1 of each slot's weight inside its group (0 for unused slots).

Packed indices (what the hardware and `pe.load_sparse` read): each index takes b = ceil(log2 m) bits.
Row r's N indices form one little-endian bit string: column c's index occupies bits c*b .. c*b+b-1,
bit i of the string is bit i % 8 of byte i // 8. A row is ceil(N * b / 8) bytes.

Lossless decomposition (US11500962B1): any W is the exact sum of T = ceil(c_max / n) n:m matrices,
where c_max is the nonzero count of the densest group; matrix t takes the nonzeros t*n .. t*n+n-1
of every group. `plan` compares the PE-array cycles of that set with the dense matmul's.

Mixed-ratio pruning (US20230100930A1): `prune_mixed` gives each output column (a group) one of
several patterns from a cost threshold tuned to a target sparsity or an error budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from accel.model.pe_array import PETimeline
from accel.model.sparse import MAX_M, index_bits, pack_index, parse_pattern, unpack_index  # noqa: F401


def is_zero(w: np.ndarray) -> np.ndarray:
    """Zero weights: int8 0, or bf16 +0 / -0 (bit patterns 0x0000, 0x8000)."""
    if w.dtype == np.uint16:
        return (w & 0x7FFF) == 0
    return w == 0


@dataclass(frozen=True)
class SparseWeights:
    """An n:m matrix in compressed form; `k` is the dense row count before padding to G * m."""

    values: np.ndarray
    index: np.ndarray
    n: int
    m: int
    k: int

    @property
    def groups(self) -> int:
        return self.values.shape[0] // self.n

    @property
    def cols(self) -> int:
        return self.values.shape[1]

    def packed_index(self) -> np.ndarray:
        return pack_index(self.index, self.m)

    def dense(self) -> np.ndarray:
        return decompress(self.values, self.index, self.n, self.m)[:self.k]


def _pad(w: np.ndarray, m: int) -> np.ndarray:
    k = w.shape[0]
    g = max(1, -(-k // m))
    out = np.zeros((g * m, w.shape[1]), dtype=w.dtype)
    out[:k] = w
    return out


def group_counts(w: np.ndarray, m: int) -> np.ndarray:
    """Nonzeros per group: [G, N]."""
    nz = ~is_zero(_pad(np.asarray(w), m))
    return nz.reshape(-1, m, w.shape[1]).sum(axis=1)


def compress(w: np.ndarray, n: int, m: int) -> SparseWeights:
    """Dense W [K, N] (int8, or bf16 bits as uint16) that is n:m sparse -> compressed form."""
    w = np.asarray(w)
    if w.ndim != 2 or w.dtype not in (np.int8, np.uint16):
        raise ValueError(f"weights must be a 2-D int8 or bf16 (uint16 bits) array, got {w.shape} {w.dtype}")
    padded = _pad(w, m)
    groups, cols = padded.shape[0] // m, padded.shape[1]
    counts = group_counts(w, m)
    if counts.max(initial=0) > n:
        g, c = np.unravel_index(int(np.argmax(counts)), counts.shape)
        raise ValueError(f"group {g} of column {c} has {counts[g, c]} nonzeros, more than {n} ({n}:{m})")
    blocks = padded.reshape(groups, m, cols)
    nz = ~is_zero(blocks)
    rank = np.cumsum(nz, axis=1) - 1  # order of each nonzero inside its group
    values = np.zeros((groups, n, cols), dtype=w.dtype)
    index = np.zeros((groups, n, cols), dtype=np.uint8)
    for j in range(n):  # slot j: the group's j-th nonzero, if any
        hit = nz & (rank == j)
        pos = hit.argmax(axis=1)
        used = hit.any(axis=1)
        values[:, j] = np.where(used, np.take_along_axis(blocks, pos[:, None], axis=1)[:, 0], 0)
        index[:, j] = np.where(used, pos, 0)
    values, index = values.reshape(groups * n, cols), index.reshape(groups * n, cols)
    return SparseWeights(values, index, n, m, w.shape[0])


def decompress(values: np.ndarray, index: np.ndarray, n: int, m: int) -> np.ndarray:
    """Compressed [G * n, N] -> dense [G * m, N] (slots pointing at the same row: the last wins)."""
    rows, cols = values.shape
    dense = np.zeros((rows // n * m, cols), dtype=values.dtype)
    target = (np.arange(rows) // n * m)[:, None] + index.astype(np.int64)
    nonzero = ~is_zero(values)
    for c in range(cols):
        dense[target[nonzero[:, c], c], c] = values[nonzero[:, c], c]
    return dense


def decompose(w: np.ndarray, n: int, m: int) -> list[SparseWeights]:
    """Dense W -> T = ceil(c_max / n) n:m matrices summing exactly to W (disjoint supports)."""
    w = np.asarray(w)
    padded = _pad(w, m)
    counts = group_counts(w, m)
    t_count = -(-int(counts.max(initial=0)) // n)
    nz = ~is_zero(padded)
    rank = (np.cumsum(nz.reshape(-1, m, padded.shape[1]), axis=1) - 1).reshape(padded.shape)  # inside its group
    parts = []
    for t in range(t_count):
        keep = nz & (rank // n == t)
        part = np.where(keep, padded, np.zeros((), dtype=w.dtype))[:w.shape[0]]
        parts.append(compress(part, n, m))
    return parts


def gemm_cycles(k_rows: int, cols: int, m_vectors: int, rows: int, array_cols: int, passes: int = 1,
                fold_rows: int | None = None) -> int:
    """PE-array cycles (PETimeline) of `passes` weight matrices of k_rows x cols each streamed with
    m_vectors moving vectors, tiled into folds of `fold_rows` (default rows) rows and array_cols columns."""
    fold = fold_rows or rows
    tl = PETimeline(rows, array_cols)
    for _ in range(passes):
        for c0 in range(0, cols, array_cols):
            nc = min(array_cols, cols - c0)
            for k0 in range(0, k_rows, fold):
                kr = min(fold, k_rows - k0)
                tl.load(kr, nc)
                tl.matmul(kr, nc, m_vectors)
    return tl.cycles


@dataclass(frozen=True)
class Plan:
    """The planner's choice for one GEMM: 'dense' or 'sparse' with the cycles of both."""

    choice: str
    n: int
    m: int
    matrices: int
    dense_cycles: int
    sparse_cycles: int

    @property
    def speedup(self) -> float:
        return self.dense_cycles / self.sparse_cycles if self.sparse_cycles else math.inf


def plan(w: np.ndarray, n: int, m: int, m_vectors: int, rows: int = 128, cols: int = 128) -> Plan:
    """Decide dense or sparse for W [K, N] x X [K, m_vectors] on a rows x cols PE array.

    Sparse runs T = ceil(c_max / n) matrices of G * n physical rows (folds of whole groups); dense runs
    K rows. The cheaper by PETimeline cycles wins (dense on ties)."""
    k, ncols = w.shape
    t_count = -(-int(group_counts(w, m).max(initial=0)) // n)
    dense = gemm_cycles(k, ncols, m_vectors, rows, cols)
    g = max(1, -(-k // m))
    fold = (rows // n) * n
    if fold == 0:
        raise ValueError(f"a {n}:{m} group needs {n} rows, the array has {rows}")
    sparse = gemm_cycles(g * n, ncols, m_vectors, rows, cols, passes=t_count, fold_rows=fold) if t_count else 0
    choice = "sparse" if sparse < dense else "dense"
    return Plan(choice, n, m, t_count, dense, sparse)


def gemm_program(w: np.ndarray, n: int, m: int, m_vectors: int, rows: int = 128, cols: int = 128,
                 force: str | None = None) -> tuple[str, dict[str, np.ndarray], Plan]:
    """Generate the accel program of out [N, m_vectors] = W^T @ X for int8 or bf16 W [K, N] (US11500962B1).

    The planner decides (or `force` = 'dense' / 'sparse'); sparse runs the decomposition as
    pe.load_sparse + pe.matmul_sparse per matrix, column tile and fold of whole groups, accumulating
    in PSUM; dense as pe.load_weights + pe.matmul per fold of `rows` rows. Tensors: x [K, m_vectors]
    (input), out [N, m_vectors] (output), and one values/index pair per sparse load (inputs, returned
    with their data). SBUF regions are double buffered between the DMA and PE queues.
    """
    w = np.asarray(w)
    bf16 = w.dtype == np.uint16
    dt, acc_t, size = ("bf16", "fp32", 2) if bf16 else ("int8", "int32", 1)
    k, ncols = w.shape
    p = plan(w, n, m, m_vectors, rows, cols)
    choice = force or p.choice
    if m_vectors > 2048 // 4 or -(-ncols // cols) > 8:
        raise ValueError("the generated program keeps one PSUM bank per column tile: M' <= 512, N <= 8 tiles")
    lines = [f".tensor x {dt}[{k}, {m_vectors}] in", f".tensor out {acc_t}[{ncols}, {m_vectors}] out"]
    body: list[str] = []
    inputs: dict[str, np.ndarray] = {}
    loads: list[tuple[str, list[str], list]] = []  # per fold: tensor name, PE op templates, buffer shapes
    if choice == "sparse":
        parts = decompose(w, n, m)
        fold = (rows // n) * n
        for t, part in enumerate(parts):
            for c0 in range(0, ncols, cols):
                nc = min(cols, ncols - c0)
                packed = pack_index(part.index[:, c0:c0 + nc], m).view(np.int8)
                for f, r0 in enumerate(range(0, part.values.shape[0], fold)):
                    r1 = min(r0 + fold, part.values.shape[0])
                    kx = (r1 - r0) // n * m
                    blocks = -(-kx // 128)
                    if kx % blocks:
                        raise ValueError(f"{kx} moving rows do not split into equal blocks of <= 128 partitions")
                    pp = kx // blocks
                    name = f"w{t}_{c0 // cols}_{f}"
                    inputs[f"{name}_v"] = np.ascontiguousarray(part.values[r0:r1, c0:c0 + nc])
                    inputs[f"{name}_i"] = np.ascontiguousarray(packed[r0:r1])
                    lines += [f".tensor {name}_v {dt}[{r1 - r0}, {nc}] in",
                              f".tensor {name}_i int8[{r1 - r0}, {packed.shape[1]}] in"]
                    x0 = r0 // n * m
                    xrows = [f"x[{x0 + j * pp}:{x0 + (j + 1) * pp}, 0:{m_vectors}]" for j in range(blocks)]
                    acc = int(not (t == 0 and f == 0))
                    loads.append((name, [f"pe.load_sparse {{V}}:{dt}[{nc}], {{I}}:int8[{packed.shape[1]}], {n}, {m}",
                                         f"pe.matmul_sparse psum[0:{nc}, {2048 * (c0 // cols)}]:{acc_t}[{m_vectors}], "
                                         f"{{X}}:{dt}[{blocks * m_vectors}], acc={acc}"],
                                  [r1 - r0, packed.shape[1], pp, xrows, m_vectors]))
    else:
        for c0 in range(0, ncols, cols):
            nc = min(cols, ncols - c0)
            for f, k0 in enumerate(range(0, k, rows)):
                k1 = min(k0 + rows, k)
                name = f"w_{c0 // cols}_{f}"
                inputs[f"{name}_v"] = np.ascontiguousarray(w[k0:k1, c0:c0 + nc])
                lines.append(f".tensor {name}_v {dt}[{k1 - k0}, {nc}] in")
                loads.append((name, [f"pe.load_weights {{V}}:{dt}[{nc}]",
                                     f"pe.matmul psum[0:{nc}, {2048 * (c0 // cols)}]:{acc_t}[{m_vectors}], "
                                     f"{{X}}:{dt}[{m_vectors}], acc={int(f > 0)}"],
                              [k1 - k0, 0, k1 - k0, [f"x[{k0}:{k1}, 0:{m_vectors}]"], m_vectors]))
    region = 65536  # bytes per partition of each of the two SBUF buffers
    for q, (name, pe_ops, (vrows, ibytes, pp, xrows, mv)) in enumerate(loads):
        base = (q % 2) * region
        v, i, x = f"sb[0:{vrows}, {base}]", f"sb[0:{vrows}, {base + 4096}]", f"sb[0:{pp}, {base + 8192}]"
        if q >= 2:
            body.append("    sem.wait dma, s1")  # the PE is done with this buffer (fold q - 2)
        body.append(f"    dma.load {v}:{dt}[{inputs[name + '_v'].shape[1]}], {name}_v")
        if ibytes:
            body.append(f"    dma.load {i}:int8[{ibytes}], {name}_i")
        for j, xr in enumerate(xrows):
            body.append(f"    dma.load sb[0:{pp}, {base + 8192 + j * mv * size}]:{dt}[{mv}], {xr}")
        body += ["    sem.signal dma, s0", "    sem.wait pe, s0"]
        body += ["    " + op.format(V=v, I=i, X=x) for op in pe_ops]
        body.append("    sem.signal pe, s1")
    body += ["    sem.signal pe, s2", "    sem.wait vec, s2"]
    for j, c0 in enumerate(range(0, ncols, cols)):
        nc = min(cols, ncols - c0)
        body.append(f"    vec.copy sb[0:{nc}, {2 * region + 4 * m_vectors * j}]:{acc_t}[{m_vectors}], "
                    f"psum[0:{nc}, {2048 * j}]:{acc_t}[{m_vectors}]")
    body += ["    sem.signal vec, s3", "    sem.wait dma, s3"]
    for j, c0 in enumerate(range(0, ncols, cols)):
        nc = min(cols, ncols - c0)
        body.append(f"    dma.store out[{c0}:{c0 + nc}, 0:{m_vectors}], "
                    f"sb[0:{nc}, {2 * region + 4 * m_vectors * j}]:{acc_t}[{m_vectors}]")
    header = f"; {choice} GEMM: W [{k}, {ncols}] {n}:{m}, M' = {m_vectors} (accel.tools.sparsity.gemm_program)"
    return "\n".join([header, *lines, *body, "    halt"]) + "\n", inputs, p


# ------------------------------------------------------------------------------------------ pruning


def prune_group(col: np.ndarray, n: int, m: int) -> np.ndarray:
    """Keep the n largest magnitudes of every group of m (earlier rows win ties); float column in, out."""
    return prune_columns(np.asarray(col)[:, None], n, m)[:, 0]


def prune_columns(w: np.ndarray, n: int, m: int) -> np.ndarray:
    """`prune_group` of every column of W [K, N] at once (float64 out): a weight stays when fewer
    than n of its group come before it in the order of a stable sort by falling magnitude (NaN last)."""
    k, cols = w.shape
    padded = np.zeros((-(-k // m) * m, cols), dtype=np.float64)
    padded[:k] = w
    blocks = padded.reshape(-1, m, cols)
    key = -np.abs(blocks)
    key[np.isnan(key)] = np.inf
    rank = np.zeros(blocks.shape, np.int8)  # how many of its group sort before each weight
    for i in range(m):
        for j in range(m):
            if j != i:
                rank[:, i] += (key[:, j] <= key[:, i]) if j < i else (key[:, j] < key[:, i])
    return np.where(rank < n, blocks, 0.0).reshape(-1, cols)[:k]


@dataclass
class PruneResult:
    """Pruned weights, the pattern index of every column, achieved sparsity and relative error."""

    pruned: np.ndarray
    patterns: list[tuple[int, int]]
    assignment: np.ndarray
    threshold: float
    sparsity: float
    error: float
    reached: bool
    counts: dict[str, int] = field(default_factory=dict)


def prune_mixed(w: np.ndarray, patterns: list[tuple[int, int]], target: float | None = None,
                max_error: float | None = None) -> PruneResult:
    """Mixed-ratio pruning of W [K, N], one pattern per output column (a group).

    Patterns are ordered from the most aggressive (lowest n/m; for equal n/m, smaller m) to the
    mildest. A column's cost under a pattern is the magnitude (L1) of the weights it would remove.
    For a threshold t every column takes the first pattern whose cost is <= t, else the mildest;
    raising t only moves columns to more aggressive patterns, so sparsity grows with t. With
    `target`, t is the smallest threshold reaching that sparsity; with `max_error` (relative
    Frobenius error), the largest within it; with both, the target subject to the budget.
    """
    w = np.asarray(w, dtype=np.float64)
    if w.ndim != 2 or w.size == 0:
        raise ValueError(f"weights must be a non-empty 2-D array, got shape {w.shape}")
    if not patterns:
        raise ValueError("give at least one pattern")
    levels = sorted(set(patterns), key=lambda p: (p[0] / p[1], p[1]))
    cols = w.shape[1]
    cand = [prune_columns(w, n, m) for n, m in levels]  # per level [K, N]
    cost = np.stack([np.abs(w - c).sum(axis=0) for c in cand])  # [levels, N]
    kept = np.stack([(c != 0).sum(axis=0) for c in cand])  # [levels, N]
    sq = np.stack([((w - c) ** 2).sum(axis=0) for c in cand])
    norm = float(np.sqrt((w ** 2).sum())) or 1.0
    cidx = np.arange(cols)
    last = len(levels) - 1

    def assign(t: np.ndarray) -> np.ndarray:
        """The pattern of every column at each threshold: [len(t), N]."""
        ok = cost[None] <= t[:, None, None]
        return np.where(ok.any(axis=1), ok.argmax(axis=1), last)

    def error(a: np.ndarray) -> float:
        return float(np.sqrt(sq[a, cidx].sum())) / norm

    thresholds = np.concatenate([[-np.inf], np.unique(cost)])
    # zeros at every threshold, exactly (integers): from the mildest assignment, a column moves to
    # pattern j at t = cost[j] when j is more aggressive than where it is
    nkept = np.zeros(len(thresholds), np.int64)
    nkept[0] = kept[last].sum()
    cur = np.full(cols, last)
    for j in np.argsort(cost, axis=0, kind="stable"):  # per column, its patterns by cost (ties: in order)
        move = j < cur
        at = np.searchsorted(thresholds, cost[j, cidx][move])
        np.add.at(nkept, at, kept[j, cidx][move] - kept[cur, cidx][move])
        cur = np.where(move, j, cur)
    spars = 1.0 - np.cumsum(nkept) / w.size
    errs = None
    if max_error is not None:  # per threshold, the sum over the columns in column order, as error()
        errs = np.empty(len(thresholds))
        step = max(1, (1 << 22) // (len(levels) * cols))  # thresholds at a time: bounded memory
        for t0 in range(0, len(thresholds), step):
            errs[t0:t0 + step] = np.sqrt(sq[assign(thresholds[t0:t0 + step]), cidx].sum(axis=1)) / norm
    ok = np.ones(len(thresholds), dtype=bool) if max_error is None else errs <= max_error + 1e-12
    if not ok.any():
        ok[0] = True  # the mildest assignment is the best possible
    reached = True
    if target is not None:
        hit = ok & (spars >= target - 1e-12)
        if hit.any():
            i = int(np.argmax(hit))
        else:
            i = int(np.flatnonzero(ok)[np.argmax(spars[ok])])
            reached = False
    else:
        i = int(np.flatnonzero(ok)[-1])
    t = float(thresholds[i])
    a = assign(thresholds[i:i + 1])[0]
    pruned = np.zeros_like(w)
    for j, c in enumerate(cand):
        pruned[:, a == j] = c[:, a == j]
    spars_i, err_i = spars[i], error(a)
    counts = {f"{n}:{m}": int((a == j).sum()) for j, (n, m) in enumerate(levels)}
    return PruneResult(pruned, levels, a, t, spars_i, err_i, reached, counts)


def compress_pruned(result: PruneResult, dtype: str = "bf16") -> dict[str, np.ndarray]:
    """The arrays `accel sparsify` writes: per pattern n:m used, `p{n}_{m}_columns`, `..._values`
    (int8, or bf16 bits) and `..._index` (packed), plus `pruned` and `assignment`."""
    from accel.model import fp

    if dtype == "int8":
        q = result.pruned
        if np.any(q != np.round(q)) or q.min(initial=0) < -128 or q.max(initial=0) > 127:
            raise ValueError("int8 output needs integer weights in -128..127")
        store = q.astype(np.int8)
    else:
        store = fp.fp32_to_bf16(fp.f32_bits(result.pruned.astype(np.float32)))
    out: dict[str, np.ndarray] = {"pruned": result.pruned.astype(np.float32),
                                  "assignment": result.assignment.astype(np.int32)}
    for j, (n, m) in enumerate(result.patterns):
        cols = np.flatnonzero(result.assignment == j)
        if cols.size == 0:
            continue
        sw = compress(store[:, cols], n, m)
        key = f"p{n}_{m}"
        out[f"{key}_columns"] = cols.astype(np.int32)
        out[f"{key}_values"] = sw.values
        out[f"{key}_index"] = sw.packed_index().view(np.int8)
    return out
