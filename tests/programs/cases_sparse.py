# ruff: noqa: F821 -- run by make_cases.py, which provides case, Prog, sb, psum and the data helpers
"""Directed cases of the sparse multiplier (issue 7), run by make_cases.py with its names in scope
(case, Prog, sb, psum, the data helpers, wrap32, widen, narrow, F32).

The oracle is independent of accel: it packs and unpacks indices bit by bit in Python, picks each
weight's moving element with numpy indexing, and sums in physical row order with numpy float32
(one IEEE add per step) or exact int64 arithmetic wrapped to int32.
"""

import numpy as np


def _bits_per_index(m: int) -> int:
    b = 1
    while (1 << b) < m:
        b += 1
    return b


def _pack(index: np.ndarray, m: int) -> np.ndarray:
    """Bit c*b+i of a row's little-endian bit string = bit i of column c's index."""
    b = _bits_per_index(m)
    rows, cols = index.shape
    out = np.zeros((rows, (cols * b + 7) // 8), np.uint8)
    for r in range(rows):
        for c in range(cols):
            for i in range(b):
                if (int(index[r, c]) >> i) & 1:
                    pos = c * b + i
                    out[r, pos // 8] |= 1 << (pos % 8)
    return out.view(np.int8)


def _unpack(packed: np.ndarray, cols: int, m: int) -> np.ndarray:
    b = _bits_per_index(m)
    raw = packed.view(np.uint8)
    out = np.zeros((raw.shape[0], cols), np.int64)
    for r in range(raw.shape[0]):
        for c in range(cols):
            out[r, c] = sum(((int(raw[r, (c * b + i) // 8]) >> ((c * b + i) % 8)) & 1) << i for i in range(b))
    return out


def _sparse_operands(rng, groups: int, cols: int, n: int, m: int, dtype: str, edge: bool = True):
    """Values [groups*n, cols] and indices: per group a random ascending subset of at most n positions;
    with `edge`, column 0 is all zero groups and column 1 has exactly one nonzero per group."""
    gen = int8_data if dtype == "int8" else (lambda r, s: bf16_data(r, s, specials=False, spread=6))
    values = np.zeros((groups * n, cols), STORAGE[dtype])
    index = np.zeros((groups * n, cols), np.int64)
    dense = gen(rng, (groups * n, cols))
    if dtype == "int8":
        dense[dense == 0] = 1  # a stored zero only where a slot is unused
    for g in range(groups):
        for c in range(cols):
            count = int(rng.integers(0, n + 1))
            if edge and c == 0:
                count = 0
            elif edge and c == 1:
                count = 1
            elif c == cols - 1:
                count = n
            pos = np.sort(rng.choice(m, count, replace=False))
            values[g * n:g * n + count, c] = dense[g * n:g * n + count, c]
            index[g * n:g * n + count, c] = pos
    return values, index


def _load_sparse(p, values, index, n: int, m: int) -> None:
    if p.emit("PE", f"pe.load_sparse {values}, {index}, {n}, {m}"):
        p.sparse = (values.dtype, p.read(values), _unpack(p.read(index), values.index().size, m), n, m)


def _matmul_sparse(p, dst, src, acc: int | None = None) -> None:
    text = f"pe.matmul_sparse {dst}, {src}" + ("" if acc is None else f", acc={acc}")
    if not p.emit("PE", text):
        return
    dtype, values, index, n, m = p.sparse
    mv = dst.index().size
    raw = p.read(src)
    x = np.concatenate([raw[:, j * mv:(j + 1) * mv] for j in range(raw.shape[1] // mv)], axis=0)  # block j below j-1
    rows, cols = values.shape
    sel = (np.arange(rows) // n * m)[:, None] + index  # [rows, cols] moving row of each PE
    if dtype == "int8":
        out = np.zeros((cols, mv), np.int64)
        for r in range(rows):
            out += values[r].astype(np.int64)[:, None] * x[sel[r]].astype(np.int64)
        out = wrap32(out)
        if acc:
            out = wrap32(p.read(dst).astype(np.int64) + out)
    else:
        wf, xf = widen(values, "bf16"), widen(x, "bf16")
        out = np.zeros((cols, mv), F32)
        for r in range(rows):
            out = out + wf[r][:, None] * xf[sel[r]]
        if acc:
            out = p.f32(dst) + out
        out = narrow(out, "fp32")
    p.write(dst, out)
    p.macs += rows * cols * mv


@case("pe.load_sparse", "1-, 2-, 3- and 4-bit packed indices (1:2, 2:4, 2:8 crossing bytes, 4:16); weights latch "
      "at load time; all-zero groups and groups with fewer than N nonzeros; int8 then bf16")
def _load_sparse_case(p, rng) -> None:
    outs = []
    plans = [("int8", 1, 2, 6, 5, 9), ("int8", 2, 4, 4, 11, 6), ("bf16", 2, 8, 3, 7, 5), ("bf16", 4, 16, 2, 6, 3)]
    for k, (dtype, n, m, groups, cols, mv) in enumerate(plans):
        values, index = _sparse_operands(rng, groups, cols, n, m, dtype)
        packed = _pack(index, m)
        rows, K = groups * n, groups * m
        xdata = int8_data(rng, (K, mv)) if dtype == "int8" else bf16_data(rng, (K, mv), specials=False, spread=6)
        tv = p.tensor(f"v{k}", dtype, values.shape, "in", values)
        ti = p.tensor(f"i{k}", "int8", packed.shape, "in", packed)
        tx = p.tensor(f"x{k}", dtype, (K, mv), "in", xdata)
        base = 1024 * k
        vap = sb(0, rows, base, dtype, cols)
        iap = sb(64, 64 + rows, base, "int8", packed.shape[1])
        xap = sb(0, K, base + 512, dtype, mv)
        p.load(vap, p.whole(tv))
        p.load(iap, p.whole(ti))
        p.load(xap, p.whole(tx))
        p.handoff("dma", "pe")
        _load_sparse(p, vap, iap, n, m)
        p.handoff("pe", "vec")
        p.comment("overwrite the SBUF copy of the values: the array keeps what it loaded")
        p.vec_scalar("mul", vap, vap, "0.0")
        p.handoff("vec", "pe")
        acc_t = "int32" if dtype == "int8" else "fp32"
        dst = psum(0, cols, 2048 * k, acc_t, mv)
        _matmul_sparse(p, dst, xap)
        p.handoff("pe", "vec")
        out_ap = sb(0, cols, 4096 + 512 * k, acc_t, mv)
        p.copy(out_ap, dst)
        outs.append((out_ap, p.tensor(f"y{k}", acc_t, (cols, mv), "out")))
    p.handoff("vec", "dma")
    for ap, t in outs:
        p.store(p.whole(t), ap)
    p.halt()


@case("pe.matmul_sparse", "int8 1:4 with K = 256 as two side-by-side blocks, acc chains wrapping near 2**31; "
      "bf16 4:8 over 128 physical rows with subnormal/huge products and ordered sums; strided dst")
def _matmul_sparse_case(p, rng) -> None:
    # int8 1:4: 64 groups (64 physical rows) cover K = 256 moving rows stored as 2 blocks of 128 partitions
    n, m, groups, cols, mv = 1, 4, 64, 8, 6
    values, index = _sparse_operands(rng, groups, cols, n, m, "int8")
    values[:, 2] = -128
    packed = _pack(index, m)
    x = int8_data(rng, (groups * m, mv))
    x[:, 0] = -128
    seed = np.array([[2**31 - 1 - 5000 * i - j for j in range(mv)] for i in range(cols)], np.int32)
    tv = p.tensor("vq", "int8", values.shape, "in", values)
    ti = p.tensor("iq", "int8", packed.shape, "in", packed)
    tx = p.tensor("xq", "int8", (128, 2 * mv), "in", np.concatenate([x[:128], x[128:]], axis=1))
    ts = p.tensor("s", "int32", (cols, mv), "in", seed)
    p.load(sb(0, groups, 0, "int8", cols), p.whole(tv))
    p.load(sb(0, groups, 16, "int8", packed.shape[1]), p.whole(ti))
    p.load(sb(0, 128, 32, "int8", 2 * mv), p.whole(tx))
    p.load(sb(0, cols, 64, "int32", mv), p.whole(ts))
    p.handoff("dma", "vec")
    p.copy(psum(0, cols, 0, "int32", mv), sb(0, cols, 64, "int32", mv))
    p.handoff("vec", "pe")
    _load_sparse(p, sb(0, groups, 0, "int8", cols), sb(0, groups, 16, "int8", packed.shape[1]), n, m)
    _matmul_sparse(p, psum(0, cols, 0, "int32", mv), sb(0, 128, 32, "int8", 2 * mv), acc=1)
    _matmul_sparse(p, psum(0, cols, 0, "int32", mv), sb(0, 128, 32, "int8", 2 * mv), acc=1)
    _matmul_sparse(p, psum(8, 8 + cols, 0, "int32", mv), sb(0, 128, 32, "int8", 2 * mv))
    # bf16 4:8: 32 groups -> 128 physical rows, K = 256 as 2 blocks
    n, m, groups, cols, mv = 4, 8, 32, 12, 5
    values, index = _sparse_operands(rng, groups, cols, n, m, "bf16")
    values[:, 3] = (values[:, 3].astype(np.uint32) & 0x807F | (20 << 7)).astype(np.uint16)  # ~2**-107
    values[5, 4], values[9, 5] = 0x7F80, 0xFF80
    packed = _pack(index, m)
    xb = bf16_data(rng, (groups * m, mv), specials=False, spread=10)
    xb[:, 2] = (xb[:, 2].astype(np.uint32) & 0x807F | (40 << 7)).astype(np.uint16)  # ~2**-87: products underflow
    tv = p.tensor("vb", "bf16", values.shape, "in", values)
    ti = p.tensor("ib", "int8", packed.shape, "in", packed)
    tx = p.tensor("xb", "bf16", (128, 2 * mv), "in", np.concatenate([xb[:128], xb[128:]], axis=1))
    p.load(sb(0, 128, 256, "bf16", cols), p.whole(tv))
    p.load(sb(0, 128, 320, "int8", packed.shape[1]), p.whole(ti))
    p.load(sb(0, 128, 384, "bf16", 2 * mv), p.whole(tx))
    p.handoff("dma", "pe")
    _load_sparse(p, sb(0, 128, 256, "bf16", cols), sb(0, 128, 320, "int8", packed.shape[1]), n, m)
    bank2 = psum(16, 16 + cols, 2 * 2048, "fp32", mv)
    _matmul_sparse(p, bank2, sb(0, 128, 384, "bf16", 2 * mv), acc=0)
    _matmul_sparse(p, bank2, sb(0, 128, 384, "bf16", 2 * mv), acc=1)
    _matmul_sparse(p, psum(32, 32 + cols, 2 * 2048 + 4 * (mv - 1), "fp32", (mv, -1)), sb(0, 128, 384, "bf16", 2 * mv))
    p.handoff("pe", "vec")
    p.copy(sb(0, 8, 1024, "int32", mv), psum(0, 8, 0, "int32", mv))
    p.copy(sb(8, 16, 1024, "int32", mv), psum(8, 16, 0, "int32", mv))
    p.copy(sb(16, 16 + cols, 1024, "fp32", mv), bank2)
    p.copy(sb(32, 32 + cols, 1024, "fp32", mv), psum(32, 32 + cols, 2 * 2048, "fp32", mv))
    p.handoff("vec", "dma")
    p.store(p.whole(p.tensor("yq", "int32", (8, mv), "out")), sb(0, 8, 1024, "int32", mv))
    p.store(p.whole(p.tensor("yq0", "int32", (8, mv), "out")), sb(8, 16, 1024, "int32", mv))
    p.store(p.whole(p.tensor("yb", "fp32", (cols, mv), "out")), sb(16, 16 + cols, 1024, "fp32", mv))
    p.store(p.whole(p.tensor("yb_rev", "fp32", (cols, mv), "out")), sb(32, 32 + cols, 1024, "fp32", mv))
    p.halt()
