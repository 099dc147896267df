"""The RNG and dropout, fast: Numba kernels mirroring accel.model.rng name for name, bit for bit
(tests/equivalence/test_rng.py).

Dropout multiplies in native binary32, which is IEEE round-to-nearest-even with subnormals kept
(no fastmath), exactly fp.mul; a NaN result is replaced by the canonical 0x7FC00000.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from accel.kernels.vec import _get, _put
from accel.model import rng as model

__all__ = ["dropout_f32", "dropout_in_memory", "dropout_philox", "philox4x32", "philox_words", "xoroshiro_outputs",
           "xoroshiro_words"]

M0, M1 = np.uint64(model.PHILOX_M[0]), np.uint64(model.PHILOX_M[1])
W0, W1 = np.uint64(model.PHILOX_W[0]), np.uint64(model.PHILOX_W[1])
LO = np.uint64(0xFFFFFFFF)
S32 = np.uint64(32)
CANONICAL_NAN = np.uint32(0x7FC00000).view(np.float32)
ZERO = np.float32(0.0)


@njit(inline="always")
def _block(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of one counter (uint64 holding 32-bit words): four uint64 words."""
    for r in range(10):
        if r:
            k0 = (k0 + W0) & LO
            k1 = (k1 + W1) & LO
        p0 = M0 * c0
        p1 = M1 * c2
        c0, c1, c2, c3 = (p1 >> S32) ^ c1 ^ k0, p1 & LO, (p0 >> S32) ^ c3 ^ k1, p0 & LO
    return c0, c1, c2, c3


@njit(cache=True)
def _philox4x32(counter, k0, k1):
    n = counter.shape[0]
    out = np.empty((n, 4), np.uint32)
    for i in range(n):
        c = _block(np.uint64(counter[i, 0]), np.uint64(counter[i, 1]), np.uint64(counter[i, 2]),
                   np.uint64(counter[i, 3]), k0, k1)
        for j in range(4):
            out[i, j] = np.uint32(c[j])
    return out


def philox4x32(counter: np.ndarray, key: tuple[int, int]) -> np.ndarray:
    """Philox4x32-10 of counters [..., 4] (uint32) under key (k0, k1): words [..., 4] (uint32)."""
    c = np.ascontiguousarray(counter, dtype=np.uint32)
    out = _philox4x32(c.reshape(-1, 4), np.uint64(key[0] & 0xFFFFFFFF), np.uint64(key[1] & 0xFFFFFFFF))
    return out.reshape(c.shape)


@njit(inline="always")
def _philox_word(index, k0, k1, o0, o1):
    """The word of one logical element index: word index % 4 of Philox block index // 4."""
    b = index >> np.uint64(2)
    c = _block(b & LO, b >> S32, o0, o1, k0, k1)
    return np.uint32(c[np.intp(index & np.uint64(3))])


@njit(cache=True, parallel=True)
def _philox_words(index, k0, k1, o0, o1):
    out = np.empty(index.size, np.uint32)
    for i in prange(index.size):
        out[i] = _philox_word(index[i], k0, k1, o0, o1)
    return out


@njit(cache=True)
def _philox_words_serial(index, k0, k1, o0, o1):
    """_philox_words on one thread, for fewer than PARALLEL_MIN elements (waking threads costs more)."""
    out = np.empty(index.size, np.uint32)
    for i in range(index.size):
        out[i] = _philox_word(index[i], k0, k1, o0, o1)
    return out


PARALLEL_MIN = 1 << 14  # elements from which a kernel runs on every core


def philox_words(seed: int, offset: int, index: np.ndarray) -> np.ndarray:
    """The 32-bit word (uint32) of every logical element index (uint64 array, any shape)."""
    idx = np.ascontiguousarray(index, dtype=np.uint64)
    kernel = _philox_words if idx.size >= PARALLEL_MIN else _philox_words_serial
    out = kernel(idx.reshape(-1), np.uint64(seed & 0xFFFFFFFF), np.uint64(seed >> 32),
                        np.uint64(offset & 0xFFFFFFFF), np.uint64((offset >> 32) & 0xFFFFFFFF))
    return out.reshape(idx.shape)


@njit(inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True, parallel=True)
def _xoroshiro(state, n, high):
    lanes = state.shape[0]
    out = np.empty((lanes, n), np.uint64)
    for lane in prange(lanes):
        s0, s1 = state[lane, 0], state[lane, 1]
        for j in range(n):
            sx = s0 ^ s1
            sa = s0 & s1
            r = sx ^ (_rotl(sa, 1) | _rotl(sa, 2))
            out[lane, j] = (r >> S32) if high else r
            s0 = _rotl(s0, 55) ^ sx ^ (sx << np.uint64(14))
            s1 = _rotl(sx, 36)
        state[lane, 0], state[lane, 1] = s0, s1
    return out


def xoroshiro_outputs(state: np.ndarray, n: int) -> np.ndarray:
    """n outputs of each of the states [L, 2] (uint64, advanced in place): uint64 [L, n]."""
    return _xoroshiro(state, n, False)


def xoroshiro_words(state: np.ndarray, n: int) -> np.ndarray:
    """The 32-bit words (high halves) of n outputs per lane: uint32 [L, n]; advances `state`."""
    return _xoroshiro(state, n, True).astype(np.uint32)


@njit(inline="always")
def _drop(x, word, t, s):
    """(result, kept) of dropout on one element: x * s (canonical NaN) if word >= t, else +0."""
    k = np.int64(word) >= t
    v = x * s
    return (CANONICAL_NAN if v != v else v) if k else ZERO, k


@njit(cache=True, parallel=True)
def _dropout_f32(x, words, t, s):
    y = np.empty(x.size, np.float32)
    keep = np.empty(x.size, np.bool_)
    for i in prange(x.size):
        y[i], keep[i] = _drop(x[i], words[i], t, s)
    return y, keep


@njit(cache=True)
def _dropout_f32_serial(x, words, t, s):
    """_dropout_f32 on one thread, for fewer than PARALLEL_MIN elements."""
    y = np.empty(x.size, np.float32)
    keep = np.empty(x.size, np.bool_)
    for i in range(x.size):
        y[i], keep[i] = _drop(x[i], words[i], t, s)
    return y, keep


def dropout_f32(x: np.ndarray, words: np.ndarray, p_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """(result bits, keep) of dropout on binary32 bits x with its elements' words (as the model)."""
    xb = np.ascontiguousarray(x, dtype=np.uint32)
    s = np.uint32(model.scale(p_bits)).view(np.float32)
    kernel = _dropout_f32 if xb.size >= PARALLEL_MIN else _dropout_f32_serial
    y, keep = kernel(xb.reshape(-1).view(np.float32), np.ascontiguousarray(words, np.uint32).reshape(-1),
                           np.int64(model.threshold(p_bits)), s)
    return y.view(np.uint32).reshape(xb.shape), keep.reshape(xb.shape)


@njit(cache=True)
def dropout_in_memory(out, pd, cd, a, pa, ca, P, F, base, stride, k0, k1, o0, o1, t, s):  # pragma: no cover
    """vec.dropout with Philox words of a memory run, stored into a run (accel.kernels.vec's in-memory
    form): element (p, f) has logical index base + p * stride + f (uint64) and word philox_words of it
    under key (k0, k1) and offset (o0, o1); kept if word >= t, then times s. Every result is computed
    before any is stored."""
    r = np.empty((P, F), np.float32)
    for p in range(P):
        row = base + np.uint64(p) * stride
        for f in range(F):
            word = _philox_word(row + np.uint64(f), k0, k1, o0, o1)
            r[p, f] = _drop(_get(a, pa + p, ca + f), word, t, s)[0]
    for p in range(P):
        for f in range(F):
            _put(out, pd + p, cd + f, r[p, f])


CHUNK_BLOCKS = 2048  # Philox blocks per parallel chunk


@njit(cache=True, parallel=True)
def _dropout_philox(x, base, k0, k1, o0, o1, t, s, y):
    n = x.size
    first = np.uint64(base) >> np.uint64(2)
    lead = np.intp(np.uint64(base) & np.uint64(3))  # element k: word (lead + k) % 4 of block first + (lead + k) // 4
    nblk = (lead + n + 3) // 4
    for ch in prange((nblk + CHUNK_BLOCKS - 1) // CHUNK_BLOCKS):
        b0 = ch * CHUNK_BLOCKS
        m = min(nblk, b0 + CHUNK_BLOCKS) - b0
        words = np.empty((4, m), np.uint64)
        for j in range(m):  # a straight loop of independent blocks: LLVM vectorizes the multiplies
            blk = first + np.uint64(b0 + j)
            c = _block(blk & LO, blk >> S32, o0, o1, k0, k1)
            words[0, j], words[1, j], words[2, j], words[3, j] = c[0], c[1], c[2], c[3]
        for j in range(m):
            for q in range(4):
                i = 4 * (b0 + j) + q - lead
                if 0 <= i < n:
                    if np.int64(words[q, j]) >= t:
                        v = x[i] * s
                        y[i] = CANONICAL_NAN if v != v else v
                    else:
                        y[i] = ZERO


def dropout_philox(x: np.ndarray, seed: int, offset: int, p: float, base: int = 0) -> np.ndarray:
    """Dropout of a float32 tensor whose element k (row-major) has logical index base + k, with
    Philox words: the result's binary32 bits, identical to `vec.dropout` on any tiling of it."""
    xf = np.ascontiguousarray(x, dtype=np.float32)
    p_bits = int(np.float32(p).view(np.uint32))
    y = np.empty(xf.size, np.float32)
    _dropout_philox(xf.reshape(-1), np.uint64(base), np.uint64(seed & 0xFFFFFFFF), np.uint64(seed >> 32),
                    np.uint64(offset & 0xFFFFFFFF), np.uint64((offset >> 32) & 0xFFFFFFFF),
                    np.int64(model.threshold(p_bits)), np.uint32(model.scale(p_bits)).view(np.float32), y)
    return y.view(np.uint32).reshape(xf.shape)
