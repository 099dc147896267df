"""The hardware RNG of the vector engine: Philox4x32-10, xoroshiro128aox, and their instructions.

Two generators (docs/vec.md):

* Philox4x32-10 (Salmon et al., SC'11; cuRAND's PHILOX4_32_10): counter-based. The key is the
  64-bit seed; the counter of logical element index i is (lo(i >> 2), hi(i >> 2), lo(offset),
  hi(offset)) and element i takes word i & 3 of that block, so a word depends only on (seed,
  offset, i), never on tiling, lane count or instruction split.
* xoroshiro128aox (Hanlon and Felix, IEEE TC 2023; the Graphcore IPU's generator): one 128-bit
  state per lane, stepped once per element; 32-bit words are the high halves of its outputs.
  `vec.rng_seed` seeds lane L with outputs 2L and 2L+1 of SplitMix64 started at the seed.

Element (p, f) of an instruction's pattern has logical index base + p * stride + f.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache

import numpy as np

from accel.model import fp, primitive, semantics

U64 = np.uint64
MASK32 = 0xFFFFFFFF
MASK64 = (1 << 64) - 1
PHILOX_M = (0xD2511F53, 0xCD9E8D57)
PHILOX_W = (0x9E3779B9, 0xBB67AE85)
PHILOX_ROUNDS = 10
GOLDEN64 = 0x9E3779B97F4A7C15
PHILOX, XOROSHIRO = 0, 1


# --------------------------------------------------------------------------------------------- Philox4x32-10


def philox4x32(counter: np.ndarray, key: tuple[int, int], rounds: int = PHILOX_ROUNDS) -> np.ndarray:
    """Philox4x32-R of counters [..., 4] (uint32) under key (k0, k1): output words [..., 4] (uint32)."""
    c = [np.asarray(counter, dtype=np.uint32)[..., j].astype(U64) for j in range(4)]
    k0, k1 = U64(key[0] & MASK32), U64(key[1] & MASK32)
    m0, m1, mask = U64(PHILOX_M[0]), U64(PHILOX_M[1]), U64(MASK32)
    for r in range(rounds):
        if r:  # the key schedule: bump before every round but the first
            k0, k1 = (k0 + U64(PHILOX_W[0])) & mask, (k1 + U64(PHILOX_W[1])) & mask
        p0, p1 = m0 * c[0], m1 * c[2]  # 32 x 32 -> 64 bits, exact in uint64
        c = [(p1 >> U64(32)) ^ c[1] ^ k0, p1 & mask, (p0 >> U64(32)) ^ c[3] ^ k1, p0 & mask]
    return np.stack(c, axis=-1).astype(np.uint32)


def philox_counters(block: np.ndarray, offset: int) -> np.ndarray:
    """Counters [..., 4] of block numbers (uint64) at a 64-bit offset."""
    block = np.asarray(block, dtype=U64)
    out = np.empty(block.shape + (4,), dtype=np.uint32)
    out[..., 0] = block & U64(MASK32)
    out[..., 1] = block >> U64(32)
    out[..., 2] = offset & MASK32
    out[..., 3] = (offset >> 32) & MASK32
    return out


@primitive("philox_words")
def philox_words(seed: int, offset: int, index: np.ndarray) -> np.ndarray:
    """The 32-bit word (uint32) of every logical element index (uint64 array, any shape)."""
    index = np.asarray(index, dtype=U64)
    blocks = philox4x32(philox_counters(index >> U64(2), offset), (seed & MASK32, seed >> 32))
    return np.take_along_axis(blocks, (index & U64(3)).astype(np.intp)[..., None], axis=-1)[..., 0]


# --------------------------------------------------------------------------------------------- xoroshiro128aox


def _rotl(x: np.ndarray, k: int) -> np.ndarray:
    return (x << U64(k)) | (x >> U64(64 - k))


def xoroshiro_step(state: np.ndarray) -> np.ndarray:
    """Advance states [..., 2] (uint64, s0 and s1) in place by one step; returns the outputs."""
    s0, s1 = state[..., 0].copy(), state[..., 1].copy()
    sx, sa = s0 ^ s1, s0 & s1
    out = sx ^ (_rotl(sa, 1) | _rotl(sa, 2))  # the AOX scrambler
    state[..., 0] = _rotl(s0, 55) ^ sx ^ (sx << U64(14))
    state[..., 1] = _rotl(sx, 36)
    return out


@primitive("xoroshiro_outputs")
def xoroshiro_outputs(state: np.ndarray, n: int) -> np.ndarray:
    """n outputs of each of the states [L, 2] (advanced in place): uint64 [L, n]."""
    out = np.empty((state.shape[0], n), dtype=U64)
    for j in range(n):
        out[:, j] = xoroshiro_step(state)
    return out


def splitmix64(seed: int, n: int) -> list[int]:
    """The first n outputs of SplitMix64 started at `seed` (Python ints)."""
    out, x = [], seed & MASK64
    for _ in range(n):
        x = (x + GOLDEN64) & MASK64
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        out.append(z ^ (z >> 31))
    return out


def lane_states(seed: int, lanes: int) -> np.ndarray:
    """The seeding rule: lane L starts at (s0, s1) = SplitMix64 outputs 2L and 2L+1; uint64 [lanes, 2]."""
    return np.array(splitmix64(seed, 2 * lanes), dtype=U64).reshape(lanes, 2)


# --------------------------------------------------------------------------------------------- dropout numbers


@cache
def threshold(p_bits: int) -> int:
    """round(p * 2**32), ties to even, for binary32 p in [0, 1]: an integer 0..2**32."""
    return round(Fraction(float(fp.f32_value(np.uint32(p_bits)))) * (1 << 32))


def nearest_f32(q: Fraction) -> int:
    """Bits of the binary32 value nearest a positive rational (ties to even), for normal results."""
    e = q.numerator.bit_length() - q.denominator.bit_length()
    if Fraction(2) ** e > q:
        e -= 1
    m = round(q / Fraction(2) ** (e - 23))  # 24-bit significand, ties to even
    if m == 1 << 24:
        m, e = m >> 1, e + 1
    return ((e + 127) << 23) | (m - (1 << 23))


@cache
def scale(p_bits: int) -> int:
    """Bits of the binary32 value nearest 1/(1-p) (p < 1); 0 for p = 1 (nothing survives)."""
    p = Fraction(float(fp.f32_value(np.uint32(p_bits))))
    return 0 if p == 1 else nearest_f32(1 / (1 - p))


def uniform_f32(words: np.ndarray) -> np.ndarray:
    """32-bit words -> binary32 bits of (w >> 8) * 2**-24, exactly, in [0, 1)."""
    return fp.f32_bits((np.asarray(words, dtype=np.uint32) >> np.uint32(8)).astype(np.float32) * np.float32(2**-24))


@primitive("dropout_f32")
def dropout_f32(x: np.ndarray, words: np.ndarray, p_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """(result bits, keep) of dropout on binary32 bits x with the words of its elements."""
    keep = np.asarray(words, dtype=np.uint32).astype(np.int64) >= threshold(p_bits)
    scaled = fp.mul(x, np.full_like(x, scale(p_bits)))
    return np.where(keep, scaled, np.uint32(0)).astype(np.uint32), keep


def pack_mask(keep: np.ndarray) -> np.ndarray:
    """keep [P, F] -> uint32 words [P, ceil(F/32)]: bit f % 32 of word f // 32."""
    P, F = keep.shape
    padded = np.zeros((P, -(-F // 32) * 32), dtype=np.uint64)
    padded[:, :F] = keep
    weights = U64(1) << np.arange(32, dtype=U64)
    return (padded.reshape(P, -1, 32) * weights).sum(axis=-1).astype(np.uint32)


def unpack_mask(words: np.ndarray, F: int) -> np.ndarray:
    """uint32 words [P, W] -> keep [P, F] (the inverse of pack_mask)."""
    bits = (np.asarray(words, dtype=np.uint32)[:, :, None] >> np.arange(32, dtype=np.uint32)) & np.uint32(1)
    return bits.reshape(bits.shape[0], -1)[:, :F].astype(bool)


# --------------------------------------------------------------------------------------------- machine state


@dataclass
class RNGState:
    """Generator registers of one core: seed, Philox offset, row stride, per-lane xoroshiro states."""

    lanes: int
    seed: int = 0
    offset: int = 0
    stride: int = 0
    xoro: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.xoro = lane_states(self.seed, self.lanes)

    def reseed(self, seed: int) -> None:
        self.seed = seed & MASK64
        self.xoro = lane_states(self.seed, self.lanes)

    def indices(self, pcount: int, free: int, base: int) -> np.ndarray:
        """Logical indices [pcount, free] (uint64): base + p * stride + f."""
        stride = self.stride or free
        return (base + np.arange(pcount, dtype=U64)[:, None] * U64(stride) + np.arange(free, dtype=U64)).astype(U64)

    def words(self, core, pstart: int, pcount: int, free: int, base: int, gen: int) -> np.ndarray:
        """32-bit words [pcount, free] for an instruction's elements (advances xoroshiro lanes)."""
        words_of, outputs_of = core.prims.philox_words, core.prims.xoroshiro_outputs
        if gen == PHILOX:
            return words_of(self.seed, self.offset, self.indices(pcount, free, base))
        self.check_lanes(core, pstart, pcount)
        lanes = self.xoro[pstart:pstart + pcount].copy()
        out = outputs_of(lanes, free)
        self.xoro[pstart:pstart + pcount] = lanes
        return (out >> U64(32)).astype(np.uint32)

    def check_lanes(self, core, pstart: int, pcount: int) -> None:
        if pstart + pcount > self.lanes:
            raise core.error(f"partitions {pstart}..{pstart + pcount - 1} have no RNG lane (lanes 0..{self.lanes - 1})")


def _words_u32(core, ap) -> np.ndarray:
    return core.read(ap).view(np.uint32)


def _write_u32(core, ap, words: np.ndarray) -> None:
    core.write(ap, np.asarray(words, dtype=np.uint32).view(np.int32))


# --------------------------------------------------------------------------------------------- semantics


@semantics("vec.rng_seed")
def vec_rng_seed(core, ins) -> None:
    core.rng.reseed(ins.ops["lo"] | (ins.ops["hi"] << 32))


@semantics("vec.rng_set_offset")
def vec_rng_set_offset(core, ins) -> None:
    core.rng.offset = ins.ops["lo"] | (ins.ops["hi"] << 32)


@semantics("vec.rng_get_offset")
def vec_rng_get_offset(core, ins) -> None:
    dst = ins.ops["dst"]
    if (dst.pcount, dst.free_size) != (1, 2):
        raise core.error(f"dst holds [{dst.pcount} x {dst.free_size}], the offset needs [1 x 2] ([lo, hi])")
    off = core.rng.offset
    _write_u32(core, dst, np.array([[off & MASK32, off >> 32]], dtype=np.uint32))


@semantics("vec.rng_set_stride")
def vec_rng_set_stride(core, ins) -> None:
    core.rng.stride = ins.ops["stride"]


@semantics("vec.rng_save_state")
def vec_rng_save_state(core, ins) -> None:
    dst = ins.ops["dst"]
    if dst.free_size != 4:
        raise core.error(f"dst holds {dst.free_size} elements per partition, a lane state needs 4")
    core.rng.check_lanes(core, dst.pstart, dst.pcount)
    s = core.rng.xoro[dst.pstart:dst.pstart + dst.pcount]
    words = np.stack([s[:, 0] & U64(MASK32), s[:, 0] >> U64(32), s[:, 1] & U64(MASK32), s[:, 1] >> U64(32)], 1)
    _write_u32(core, dst, words.astype(np.uint32))


@semantics("vec.rng_load_state")
def vec_rng_load_state(core, ins) -> None:
    src = ins.ops["src"]
    if src.free_size != 4:
        raise core.error(f"src holds {src.free_size} elements per partition, a lane state needs 4")
    core.rng.check_lanes(core, src.pstart, src.pcount)
    w = _words_u32(core, src).astype(U64)
    s = np.stack([w[:, 0] | (w[:, 1] << U64(32)), w[:, 2] | (w[:, 3] << U64(32))], 1)
    zero = np.flatnonzero((s == 0).all(axis=1))
    if zero.size:
        raise core.error(f"lane {src.pstart + int(zero[0])}: an all-zero xoroshiro state would only give zeros")
    core.rng.xoro[src.pstart:src.pstart + src.pcount] = s


@semantics("vec.rng_fill")
def vec_rng_fill(core, ins) -> None:
    dst = ins.ops["dst"]
    words = core.rng.words(core, dst.pstart, dst.pcount, dst.free_size, ins.ops["base"], ins.ops["gen"])
    _write_u32(core, dst, words if dst.dtype == "int32" else uniform_f32(words))
    core.stats.count_elements("VEC", dst.size)


def _dropout(core, ins) -> np.ndarray:
    dst, src = ins.ops["dst"], ins.ops["src"]
    if (dst.pcount, dst.free_size) != (src.pcount, src.free_size):
        raise core.error(f"operands differ in shape: dst [{dst.pcount} partitions x {dst.free_size}], "
                         f"src [{src.pcount} partitions x {src.free_size}]")
    core.check_stream_order(dst, {"src": src}, {"mask": ins.ops["mask"]} if "mask" in ins.ops else None)
    words = core.rng.words(core, src.pstart, src.pcount, src.free_size, ins.ops["base"], ins.ops["gen"])
    y, keep = core.prims.dropout_f32(core.prims.to_f32(core.read(src), src.dtype), words, ins.ops["p"])
    core.write(dst, core.prims.from_f32(y, dst.dtype))
    core.stats.count_elements("VEC", dst.size)
    return keep


def _check_mask(core, mask, pcount: int, free: int) -> None:
    want = (pcount, -(-free // 32))
    if (mask.pcount, mask.free_size) != want:
        raise core.error(f"mask holds [{mask.pcount} x {mask.free_size}] int32 words, {free} elements per "
                         f"partition need [{want[0]} x {want[1]}]")


@semantics("vec.dropout")
def vec_dropout(core, ins) -> None:
    _dropout(core, ins)


@semantics("vec.dropout_mask")
def vec_dropout_mask(core, ins) -> None:
    src, mask = ins.ops["src"], ins.ops["mask"]
    _check_mask(core, mask, src.pcount, src.free_size)
    _write_u32(core, mask, pack_mask(_dropout(core, ins)))


@semantics("vec.dropout_apply")
def vec_dropout_apply(core, ins) -> None:
    dst, src, mask = ins.ops["dst"], ins.ops["src"], ins.ops["mask"]
    if (dst.pcount, dst.free_size) != (src.pcount, src.free_size):
        raise core.error(f"operands differ in shape: dst [{dst.pcount} partitions x {dst.free_size}], "
                         f"src [{src.pcount} partitions x {src.free_size}]")
    _check_mask(core, mask, src.pcount, src.free_size)
    core.check_stream_order(dst, {"src": src}, {"mask": mask})
    keep = unpack_mask(_words_u32(core, mask), src.free_size) & (threshold(ins.ops["p"]) < 1 << 32)
    scaled = core.prims.vec_scalar("mul", core.read(src), src.dtype, scale(ins.ops["p"]), "fp32")
    y = np.where(keep, scaled, np.uint32(0)).astype(np.uint32)
    core.write(dst, core.prims.from_f32(y, dst.dtype))
    core.stats.count_elements("VEC", dst.size)
