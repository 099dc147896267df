# ruff: noqa: F821 -- run by make_cases.py, which provides case, Prog, sb, psum and the data helpers
"""Directed programs for the RNG and dropout instructions (issue 5), run by make_cases.py with its names in scope.

The oracle here is written from the published algorithms, independently of accel.model.rng:
Philox4x32-10 per block with Python integers (Salmon et al. 2011 / Random123, checked against its
known-answer vectors on import), xoroshiro128aox and SplitMix64 with Python integers, the dropout
threshold round(p * 2**32) with integer arithmetic, the scale as the float32 neighbour of the float64
quotient nearest 1/(1-p) (exact Fraction comparison), and numpy float32 multiplication.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

M32, M64 = 0xFFFFFFFF, (1 << 64) - 1


def philox_block(ctr: list[int], key: list[int]) -> list[int]:
    """Philox4x32-10: ten rounds of two 32x32 multiplies, the key bumped between rounds."""
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for rnd in range(10):
        a, b = 0xD2511F53 * c0, 0xCD9E8D57 * c2
        c0, c1, c2, c3 = (b >> 32) ^ c1 ^ k0, b & M32, (a >> 32) ^ c3 ^ k1, a & M32
        if rnd < 9:
            k0, k1 = (k0 + 0x9E3779B9) & M32, (k1 + 0xBB67AE85) & M32
    return [c0, c1, c2, c3]


# Random123's kat_vectors for philox4x32 10 (counter, key -> output)
for _ctr, _key, _out in [
    ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([M32] * 4, [M32, M32], [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
     [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
]:
    assert philox_block(_ctr, _key) == _out, "the oracle's Philox fails a Random123 known answer"


def rotl64(x: int, k: int) -> int:
    return ((x << k) | (x >> (64 - k))) & M64


class RngOracle:
    """Seed, offset, row stride and per-lane xoroshiro128aox states, as the ISA manual describes them."""

    def __init__(self, lanes: int = 128) -> None:
        self.lanes = lanes
        self.offset = 0
        self.stride = 0
        self.seed(0)

    def seed(self, s: int) -> None:
        self.key = s
        x, outs = s, []
        for _ in range(2 * self.lanes):  # SplitMix64
            x = (x + 0x9E3779B97F4A7C15) & M64
            z = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            outs.append(z ^ (z >> 31))
        self.state = [[outs[2 * lane], outs[2 * lane + 1]] for lane in range(self.lanes)]

    def philox_word(self, i: int) -> int:
        blk = i >> 2
        ctr = [blk & M32, blk >> 32, self.offset & M32, self.offset >> 32]
        return philox_block(ctr, [self.key & M32, self.key >> 32])[i & 3]

    def xoro_next(self, lane: int) -> int:
        s0, s1 = self.state[lane]
        sx, sa = s0 ^ s1, s0 & s1
        res = sx ^ (rotl64(sa, 1) | rotl64(sa, 2))
        self.state[lane] = [rotl64(s0, 55) ^ sx ^ ((sx << 14) & M64), rotl64(sx, 36)]
        return res

    def words(self, ap, base: int, gen: int) -> np.ndarray:
        free = ap.index().size
        stride = self.stride or free
        out = np.zeros((ap.pcount, free), np.uint32)
        for p in range(ap.pcount):
            for f in range(free):
                if gen == 0:
                    out[p, f] = self.philox_word(base + p * stride + f)
                else:
                    out[p, f] = self.xoro_next(ap.p0 + p) >> 32
        return out


def p_value(text: str) -> np.float32:
    return imm_value(text)


def drop_threshold(p: np.float32) -> int:
    """round(p * 2**32) ties to even, from p's integer significand and exponent."""
    m, e = math.frexp(float(p))  # p = m * 2**e exactly, m in [0.5, 1)
    num = int(m * 2**53)  # p = num * 2**(e - 53)
    shift = e - 53 + 32
    if shift >= 0:
        return num << shift
    q, r = divmod(num, 1 << -shift)
    half = 1 << (-shift - 1)
    return q + (1 if r > half or (r == half and q & 1) else 0)


def drop_scale(p: np.float32) -> np.float32:
    """float32 nearest 1/(1-p): the float64 quotient's float32 and its neighbours, compared exactly."""
    if p == 1:
        return F32(0.0)
    q = 1 / (1 - Fraction(float(p)))
    c = F32(float(q))
    cands = [c, np.nextafter(c, F32(0)), np.nextafter(c, F32(np.inf))]
    best = min(cands, key=lambda v: (abs(Fraction(float(v)) - q), int(bits_of_f32(v)) & 1))
    return best


def dropout_values(x: np.ndarray, words: np.ndarray, p: np.float32) -> tuple[np.ndarray, np.ndarray]:
    """float32 results (NaN canonicalized by narrow) and the keep flags."""
    keep = words.astype(np.int64) >= drop_threshold(p)
    with np.errstate(all="ignore"):
        y = np.where(keep, x * drop_scale(p), F32(0.0)).astype(F32)
    return y, keep


def pack(keep: np.ndarray) -> np.ndarray:
    """Bit f % 32 of word f // 32, as int32 storage."""
    P, F = keep.shape
    W = (F + 31) // 32
    out = np.zeros((P, W), np.int64)
    for f in range(F):
        out[:, f // 32] |= keep[:, f].astype(np.int64) << (f % 32)
    return out.astype(np.uint32).view(np.int32)


def unpack(words: np.ndarray, F: int) -> np.ndarray:
    w = words.view(np.uint32).astype(np.int64)
    return np.stack([(w[:, f // 32] >> (f % 32)) & 1 for f in range(F)], axis=1).astype(bool)


# ------------------------------------------------------------------------------------------ Prog helpers


def _orc(p: Prog) -> RngOracle:
    if not hasattr(p, "rng_oracle"):
        p.rng_oracle = RngOracle()
    return p.rng_oracle


def _u32_write(p: Prog, ap, words: np.ndarray) -> None:
    p.write(ap, np.asarray(words, np.uint32).view(np.int32))


def rng_seed(p: Prog, seed: int) -> None:
    hi = seed >> 32
    if p.emit("VEC", f"vec.rng_seed {seed & M32:#x}" + (f", hi={hi:#x}" if hi else "")):
        _orc(p).seed(seed)


def rng_set_offset(p: Prog, off: int) -> None:
    hi = off >> 32
    if p.emit("VEC", f"vec.rng_set_offset {off & M32}" + (f", hi={hi}" if hi else "")):
        _orc(p).offset = off


def rng_get_offset(p: Prog, dst) -> None:
    if p.emit("VEC", f"vec.rng_get_offset {dst}"):
        off = _orc(p).offset
        _u32_write(p, dst, np.array([[off & M32, off >> 32]], np.uint32))


def rng_set_stride(p: Prog, stride: int) -> None:
    if p.emit("VEC", f"vec.rng_set_stride {stride}"):
        _orc(p).stride = stride


def rng_save_state(p: Prog, dst) -> None:
    if p.emit("VEC", f"vec.rng_save_state {dst}"):
        st = _orc(p).state
        w = [[s0 & M32, s0 >> 32, s1 & M32, s1 >> 32] for s0, s1 in st[dst.p0:dst.p1]]
        _u32_write(p, dst, np.array(w, np.uint32))


def rng_load_state(p: Prog, src) -> None:
    if p.emit("VEC", f"vec.rng_load_state {src}"):
        w = p.read(src).view(np.uint32).astype(object)
        for k in range(src.pcount):
            _orc(p).state[src.p0 + k] = [int(w[k, 0]) | int(w[k, 1]) << 32, int(w[k, 2]) | int(w[k, 3]) << 32]


def _opts(base: int, gen: int) -> str:
    return (f", base={base}" if base else "") + (f", gen={gen}" if gen else "")


def rng_fill(p: Prog, dst, base: int = 0, gen: int = 0) -> None:
    if p.emit("VEC", f"vec.rng_fill {dst}{_opts(base, gen)}"):
        w = _orc(p).words(dst, base, gen)
        if dst.dtype == "int32":
            _u32_write(p, dst, w)
        else:
            p.write(dst, bits_of_f32((w >> 8).astype(F32) * F32(2.0**-24)))


def dropout(p: Prog, dst, src, pval: str, base: int = 0, gen: int = 0, mask=None) -> None:
    mn = "vec.dropout" if mask is None else "vec.dropout_mask"
    ops = f"{dst}, {src}" + ("" if mask is None else f", {mask}") + f", {pval}{_opts(base, gen)}"
    if p.emit("VEC", f"{mn} {ops}"):
        w = _orc(p).words(src, base, gen)
        y, keep = dropout_values(p.f32(src), w, p_value(pval))
        p.write(dst, narrow(y, dst.dtype))
        if mask is not None:
            p.write(mask, pack(keep))


def dropout_apply(p: Prog, dst, src, mask, pval: str) -> None:
    if p.emit("VEC", f"vec.dropout_apply {dst}, {src}, {mask}, {pval}"):
        pv = p_value(pval)
        keep = unpack(p.read(mask), src.index().size) & (pv != 1)
        with np.errstate(all="ignore"):
            y = np.where(keep, p.f32(src) * drop_scale(pv), F32(0.0)).astype(F32)
        p.write(dst, narrow(y, dst.dtype))


def _out(p: Prog, name: str, ap) -> None:
    p.store(p.whole(p.tensor(name, ap.dtype, (ap.pcount, ap.index().size), "out")), ap)


# ------------------------------------------------------------------------------------------ cases


@case("vec.rng_seed", "two seeds (one 64-bit) change Philox words and every lane's xoroshiro stream; re-seeding "
      "restarts the lanes; reset state is seed 0")
def _rng_seed(p: Prog, rng) -> None:
    outs = []
    k = 0
    for seed in (None, 0xDEADBEEF, 0x0123456789ABCDEF, 0xDEADBEEF):
        if seed is not None:
            rng_seed(p, seed)
        a, b = sb(0, 16, 256 * k, "int32", 24), sb(0, 16, 256 * k + 128, "int32", 24)
        rng_fill(p, a)
        rng_fill(p, b, gen=1)
        outs += [a, b]
        k += 1
    p.handoff("vec", "dma")
    for j, ap in enumerate(outs):
        _out(p, f"w{j}", ap)
    p.halt()


@case("vec.rng_set_offset", "offsets 0, 1, 2**32 + 7 and 2**64 - 1 give distinct streams; back to 1 repeats; "
      "xoroshiro ignores the offset")
def _rng_set_offset(p: Prog, rng) -> None:
    rng_seed(p, 0x5EED)
    outs = []
    for k, off in enumerate((0, 1, (1 << 32) + 7, M64, 1)):
        if k:
            rng_set_offset(p, off)
        ap = sb(0, 8, 128 * k, "int32", 20)
        rng_fill(p, ap, base=3 * k)
        outs.append(ap)
    p.handoff("vec", "dma")
    for j, ap in enumerate(outs):
        _out(p, f"w{j}", ap)
    p.halt()


@case("vec.rng_get_offset", "reads back the reset offset, a 64-bit offset and one with hi = 0 as [lo, hi] words")
def _rng_get_offset(p: Prog, rng) -> None:
    outs = []
    for k, off in enumerate((None, 0xFEDCBA9876543210, 0xFFFFFFFF)):
        if off is not None:
            rng_set_offset(p, off)
        ap = sb(5 + k, 6 + k, 64, "int32", 2)
        rng_get_offset(p, ap)
        outs.append(ap)
    p.handoff("vec", "dma")
    for j, ap in enumerate(outs):
        _out(p, f"off{j}", ap)
    p.halt()


@case("vec.rng_set_stride", "an [8, 64] tensor filled whole, as two column tiles (stride 64, base 0 and 32) and as "
      "four row tiles: identical words; stride 100 then back to 0")
def _rng_set_stride(p: Prog, rng) -> None:
    rng_seed(p, 77)
    rng_set_offset(p, 9)
    rng_fill(p, sb(0, 8, 0, "int32", 64))
    rng_set_stride(p, 64)
    rng_fill(p, sb(0, 8, 256, "int32", 32), base=0)
    rng_fill(p, sb(0, 8, 384, "int32", 32), base=32)
    for t in range(4):
        rng_fill(p, sb(2 * t, 2 * t + 2, 512, "int32", 64), base=128 * t)
    rng_set_stride(p, 100)
    rng_fill(p, sb(0, 8, 768, "fp32", 16), base=5)
    rng_set_stride(p, 0)
    rng_fill(p, sb(0, 8, 832, "fp32", 16), base=5)
    p.handoff("vec", "dma")
    for j, ap in enumerate([sb(0, 8, 0, "int32", 64), sb(0, 8, 256, "int32", 64), sb(0, 8, 512, "int32", 64),
                            sb(0, 8, 768, "fp32", 16), sb(0, 8, 832, "fp32", 16)]):
        _out(p, f"w{j}", ap)
    p.halt()


@case("vec.rng_save_state", "lane states after seeding and after 37 steps of lanes 3..10, saved from partitions "
      "0..128 and 3..11")
def _rng_save_state(p: Prog, rng) -> None:
    rng_seed(p, 0xC0FFEE)
    rng_save_state(p, sb(0, 128, 0, "int32", 4))
    rng_fill(p, sb(3, 11, 64, "int32", 37), gen=1)
    rng_save_state(p, sb(0, 128, 16, "int32", 4))
    rng_save_state(p, sb(3, 11, 32, "int32", 4))
    p.handoff("vec", "dma")
    _out(p, "s_seeded", sb(0, 128, 0, "int32", 4))
    _out(p, "s_stepped", sb(0, 128, 16, "int32", 4))
    _out(p, "s_part", sb(3, 11, 32, "int32", 4))
    p.halt()


@case("vec.rng_load_state", "a saved state restored reproduces the lane stream; states loaded from DRAM (one "
      "with s0 = 0) drive fill and dropout")
def _rng_load_state(p: Prog, rng) -> None:
    st = rng.integers(0, 2**32, (16, 4), dtype=np.uint64).astype(np.uint32)
    st[2, :2] = 0  # s0 = 0 is allowed as long as s1 != 0
    s = p.tensor("s", "int32", (16, 4), "in", st.view(np.int32))
    x = p.tensor("x", "fp32", (16, 40), "in", f32_data(rng, (16, 40)))
    p.load(sb(0, 16, 1024, "int32", 4), p.whole(s))
    p.load(sb(0, 16, 2048, "fp32", 40), p.whole(x))
    p.handoff("dma", "vec")
    rng_seed(p, 4242)
    rng_fill(p, sb(0, 16, 0, "int32", 5), gen=1)
    rng_save_state(p, sb(0, 16, 64, "int32", 4))
    rng_fill(p, sb(0, 16, 128, "int32", 30), gen=1)
    rng_load_state(p, sb(0, 16, 64, "int32", 4))
    rng_fill(p, sb(0, 16, 256, "int32", 30), gen=1)
    rng_load_state(p, sb(0, 16, 1024, "int32", 4))
    rng_fill(p, sb(0, 16, 384, "fp32", 30), gen=1)
    dropout(p, sb(0, 16, 512, "fp32", 40), sb(0, 16, 2048, "fp32", 40), "0.25", gen=1)
    p.handoff("vec", "dma")
    _out(p, "first", sb(0, 16, 128, "int32", 30))
    _out(p, "again", sb(0, 16, 256, "int32", 30))
    _out(p, "loaded", sb(0, 16, 384, "fp32", 30))
    _out(p, "dropped", sb(0, 16, 512, "fp32", 40))
    p.halt()


@case("vec.rng_fill", "int32 words and fp32 uniforms from both generators; base, partitions 3..12, 2-D "
      "strided and PSUM destinations")
def _rng_fill(p: Prog, rng) -> None:
    rng_seed(p, 0x1234_5678_9ABC_DEF0)
    rng_set_offset(p, 3)
    outs = [
        (sb(3, 12, 0, "int32", 50), 0, 0),
        (sb(3, 12, 256, "fp32", 50), 1000, 0),
        (sb(3, 12, 512, "int32", 50), 0, 1),
        (sb(3, 12, 768, "fp32", 50), 0, 1),
        (sb(0, 4, 1024 + 4 * 18, "fp32", (4, -6), (6, 1)), 2**32 - 9, 0),
    ]
    for ap, base, gen in outs:
        rng_fill(p, ap, base=base, gen=gen)
    rng_fill(p, psum(0, 4, 0, "fp32", 24), gen=0)
    p.copy(sb(0, 4, 2048, "fp32", 24), psum(0, 4, 0, "fp32", 24))
    p.handoff("vec", "dma")
    for j, (ap, _b, _g) in enumerate(outs[:4]):
        _out(p, f"w{j}", ap)
    _out(p, "w4", sb(0, 4, 1024, "fp32", 24))
    _out(p, "wpsum", sb(0, 4, 2048, "fp32", 24))
    p.halt()


# p: 0, -0, 1, 0.5, 0.1 (threshold rounds), tiny values whose p * 2**32 is a tie / not an integer,
# the largest p below 1 (scale 2**24), 0.3 with bf16 and int8 data
_P_SWEEP = ["0.0", "-0.0", "1.0", "0.5", "0.1", "0.3", "0.99999994", "0.75"]


def _rounding_ps(orc: RngOracle, ap, base: int) -> list[str]:
    """p values around the smallest word w < 2**23 of an instruction: p * 2**32 = w - 0.5, w + 0.25, w + 0.5,
    w + 0.75 (exact in binary32), so rounding the threshold (ties to even) decides whether w is kept."""
    w = int(orc.words(ap, base, 0).min())
    assert 0 < w < 2**23, "pick another base"
    return [f"bits({int(bits_of_f32(F32((w + d) / 2**32))):#010x})" for d in (-0.5, 0.25, 0.5, 0.75)]


@case("vec.dropout", "p sweep 0, -0, 1, 0.5, 0.1, 1 - 2**-24, and p * 2**32 = w - 1/2, w + 1/4, w + 1/2, w + 3/4 "
      "around an actual word w (threshold rounding, ties to even); "
      "fp32 specials; bf16/int8 in and out; xoroshiro; PSUM source; tiled over rows and columns")
def _dropout(p: Prog, rng) -> None:
    P, F = 16, 48
    x = p.tensor("x", "fp32", (P, F), "in", f32_data(rng, (P, F)))
    h = p.tensor("h", "bf16", (P, F), "in", bf16_data(rng, (P, F)))
    q = p.tensor("q", "int8", (P, F), "in", int8_data(rng, (P, F)))
    p.load(sb(0, P, 0, "fp32", F), p.whole(x))
    p.load(sb(0, P, 256, "bf16", F), p.whole(h))
    p.load(sb(0, P, 384, "int8", F), p.whole(q))
    p.handoff("dma", "vec")
    rng_seed(p, 2024)
    rng_set_offset(p, 11)
    outs = []
    rounding = [(pv, base) for base in (3 * 768, 10 * 768)  # an odd and an even smallest word
                for pv in _rounding_ps(_orc(p), sb(0, P, 0, "fp32", F), base)]
    for k, (pv, base) in enumerate([(pv, 1000 * k) for k, pv in enumerate(_P_SWEEP)] + rounding):
        dst = sb(16, 16 + P, 256 * k, "fp32", F)
        dropout(p, dst, sb(0, P, 0, "fp32", F), pv, base=base)
        outs.append(dst)
    dst = sb(32, 32 + P, 0, "bf16", F)
    dropout(p, dst, sb(0, P, 256, "bf16", F), "0.3", gen=1)
    outs.append(dst)
    dst = sb(32, 32 + P, 256, "int8", F)
    dropout(p, dst, sb(0, P, 384, "int8", F), "0.3")
    outs.append(dst)
    p.copy(psum(0, P, 0, "fp32", F), sb(0, P, 0, "fp32", F))
    dst = sb(32, 32 + P, 512, "fp32", F)
    dropout(p, dst, psum(0, P, 0, "fp32", F), "0.2", base=7)
    outs.append(dst)
    p.comment("the same tensor as four tiles (2 row x 2 column blocks, stride 48) equals the whole")
    rng_set_stride(p, F)
    for r in range(2):
        for c in range(2):
            dropout(p, sb(48 + 8 * r, 56 + 8 * r, 24 * 4 * c, "fp32", 24), sb(8 * r, 8 * r + 8, 96 * c, "fp32", 24),
                    "0.2", base=7 + 8 * r * F + 24 * c)
    outs.append(sb(48, 48 + P, 0, "fp32", F))
    p.handoff("vec", "dma")
    for j, ap in enumerate(outs):
        _out(p, f"y{j}", ap)
    p.halt()


@case("vec.dropout_mask", "bit-packed masks for 40 and 70 elements per partition (padding bits 0), p = 0 / 1 / "
      "0.5 / 0.1, both generators, bf16 destination")
def _dropout_mask(p: Prog, rng) -> None:
    P = 8
    x = p.tensor("x", "fp32", (P, 70), "in", f32_data(rng, (P, 70)))
    p.load(sb(0, P, 0, "fp32", 70), p.whole(x))
    p.handoff("dma", "vec")
    rng_seed(p, 99)
    outs = []
    for k, (F, pv, gen, dt) in enumerate([(40, "0.5", 0, "fp32"), (70, "0.1", 0, "bf16"), (70, "0.0", 0, "fp32"),
                                          (40, "1.0", 0, "fp32"), (70, "0.5", 1, "fp32")]):
        dst = sb(8, 8 + P, 512 * k, dt, F)
        mask = sb(16, 16 + P, 64 * k, "int32", (F + 31) // 32)
        dropout(p, dst, sb(0, P, 0, "fp32", F), pv, base=17 * k, gen=gen, mask=mask)
        outs += [dst, mask]
    p.handoff("vec", "dma")
    for j, ap in enumerate(outs):
        _out(p, f"o{j}", ap)
    p.halt()


@case("vec.dropout_apply", "backward: the stored mask applied to a gradient equals regenerating it with "
      "vec.dropout; a DRAM mask with padding bits set; p = 1 and p = 0")
def _dropout_apply(p: Prog, rng) -> None:
    P, F = 8, 45
    x = p.tensor("x", "fp32", (P, F), "in", f32_data(rng, (P, F)))
    g = p.tensor("g", "fp32", (P, F), "in", f32_data(rng, (P, F)))
    mw = rng.integers(0, 2**32, (P, 2), dtype=np.uint64).astype(np.uint32)
    m = p.tensor("m", "int32", (P, 2), "in", mw.view(np.int32))
    p.load(sb(0, P, 0, "fp32", F), p.whole(x))
    p.load(sb(0, P, 256, "fp32", F), p.whole(g))
    p.load(sb(0, P, 512, "int32", 2), p.whole(m))
    p.handoff("dma", "vec")
    rng_seed(p, 31337)
    rng_set_offset(p, 5)
    dropout(p, sb(8, 16, 0, "fp32", F), sb(0, P, 0, "fp32", F), "0.4", base=100, mask=sb(8, 16, 512, "int32", 2))
    outs = []
    for k, (mask, pv) in enumerate([(sb(8, 16, 512, "int32", 2), "0.4"), (sb(0, P, 512, "int32", 2), "0.7"),
                                    (sb(0, P, 512, "int32", 2), "1.0"), (sb(0, P, 512, "int32", 2), "0.0")]):
        dst = sb(16, 16 + P, 256 * k, "fp32" if k != 1 else "bf16", F)
        dropout_apply(p, dst, sb(0, P, 256, "fp32", F), mask, pv)
        outs.append(dst)
    regen = sb(24, 32, 0, "fp32", F)
    dropout(p, regen, sb(0, P, 256, "fp32", F), "0.4", base=100)
    outs.append(regen)
    p.handoff("vec", "dma")
    for j, ap in enumerate(outs):
        _out(p, f"y{j}", ap)
    p.halt()
