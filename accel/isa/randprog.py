"""Random instructions, programs and raw words for fuzzing the encoder, decoder and RTL.

Every value is drawn from the ranges the generated table gives (field widths, spaces, dtypes,
operand constraints, unit sizes), so the generators follow the ISA when it changes. Values mix
typical ones with field extremes, negative strides, NaN/inf bit patterns, defaults and both
forms of a bias. `decode(encode(i)) == i` holds for every instruction made here.

    rng = numpy.random.default_rng(1)
    prog = random_program(rng, 100)
    text = random_pipeline(rng, chains=3, stages=5)   # a runnable, semaphore-correct program
    words = random_words(rng, 10_000)   # valid and invalid words for a decoder bench
"""

from __future__ import annotations

import functools
import struct

import numpy as np

from accel.isa._table import TABLE
from accel.isa.asm import Assembler
from accel.isa.encoding import BY_OPCODE, OPCODE, SLOTS, WORD_BITS, Instruction, encode
from accel.isa.operands import AP, DTYPES, ENGINES, MAX_DIMS, SPACES, DramAP, default_strides

INSTRUCTIONS: list[dict] = TABLE["instructions"]
UNITS: dict[str, int] = TABLE["units"]
SPACE_NAMES, DTYPE_NAMES = sorted(SPACES), sorted(DTYPES)
ENGINE_NAMES = [e.lower() for e in sorted(ENGINES)]
# bits of special binary32 values: zeros, infinities, quiet/signalling NaNs, subnormals, extremes
F32_SPECIALS = (
    0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7F800001,
    0x7FBFFFFF, 0xFFFFFFFF, 0x00000001, 0x807FFFFF, 0x00800000, 0x7F7FFFFF, 0x3F800000,
)


# (slot, sub-field) -> smallest and largest value the field holds ("" for plain slots)
LIMITS: dict[tuple[str, str], tuple[int, int]] = {
    (slot, f["name"].partition(".")[2]): (
        (-(1 << (f["width"] - 1)), (1 << (f["width"] - 1)) - 1) if f["signed"]
        else (0, (1 << f["width"]) - 1)
    )
    for slot, s in SLOTS.items() for f in s["fields"]
}


def _uniform(rng: np.random.Generator, lo: int, hi: int) -> int:
    """Uniform int in [lo, hi]; one rng.random() call is 3x cheaper than rng.integers()."""
    return lo + int(rng.random() * (hi - lo + 1))


def _pick(rng: np.random.Generator, items: list | tuple):
    return items[_uniform(rng, 0, len(items) - 1)]


def _int(rng: np.random.Generator, lo: int, hi: int, typical: tuple[int, int] | None = None) -> int:
    """An int in [lo, hi]: an extreme 1 time in 5, else mostly from `typical` when given."""
    r = rng.random()
    if r < 0.1:
        return lo
    if r < 0.2:
        return hi
    if typical is not None and r < 0.8:
        lo, hi = max(lo, typical[0]), min(hi, typical[1])
    return _uniform(rng, lo, hi)


def random_f32_bits(rng: np.random.Generator) -> int:
    """A binary32 bit pattern: specials, NaNs with random payloads, ordinary values, any bits."""
    r = rng.random()
    if r < 0.25:
        return _pick(rng, F32_SPECIALS)
    if r < 0.35:  # NaN with a random sign and payload (quiet or signalling)
        sign = _uniform(rng, 0, 1) << 31
        return sign | 0x7F800000 | _uniform(rng, 1, (1 << 23) - 1)
    if r < 0.75:
        value = rng.normal(0.0, 10.0 ** _uniform(rng, -3, 3))
        return struct.unpack("<I", struct.pack("<f", value))[0]
    return _uniform(rng, 0, (1 << 32) - 1)


def _dims(rng: np.random.Generator, slot: str, typical_n: int) -> tuple[tuple[int, int], ...]:
    """1 to MAX_DIMS dims: row-major strides half the time, else any stride incl. negative."""
    n_lo, n_hi = LIMITS[slot, "n0"]
    s_lo, s_hi = LIMITS[slot, "s0"]
    counts = [_int(rng, max(1, n_lo), n_hi, (1, typical_n))
              for _ in range(_uniform(rng, 1, MAX_DIMS))]
    if rng.random() < 0.5:
        strides = default_strides(tuple(counts))
        if all(s_lo <= s <= s_hi for s in strides):
            return tuple(zip(counts, strides, strict=True))
    strides = [_int(rng, s_lo, s_hi, (-typical_n, typical_n)) for _ in counts]
    return tuple(zip(counts, strides, strict=True))


def random_ap(rng: np.random.Generator, slot: str = "ap0", spaces: list[str] | None = None,
              dtypes: list[str] | None = None, bias: bool = False) -> AP:
    """An on-chip access pattern for `slot`; a bias pattern is one fp32 per partition."""
    space = _pick(rng, spaces or SPACE_NAMES)
    dtype = "fp32" if bias else _pick(rng, dtypes or DTYPE_NAMES)
    parts = UNITS["sbuf_partitions" if space == "sb" else "psum_partitions"]
    pbytes = UNITS["sbuf_partition_bytes" if space == "sb" else "psum_partition_bytes"]
    pstart = _int(rng, *LIMITS[slot, "pstart"], (0, parts - 1))
    pcount = _int(rng, 1, LIMITS[slot, "pcount"][1], (1, max(1, parts - pstart)))
    size = DTYPES[dtype]["bytes"]
    off_hi = LIMITS[slot, "offset"][1]
    offset = _int(rng, 0, off_hi, (0, pbytes - 1))
    if rng.random() < 0.8:  # aligned to the element size, as the assembler requires
        offset -= offset % size
    if bias:
        s_lo, s_hi = LIMITS[slot, "s0"]
        dims = tuple((1, _int(rng, s_lo, s_hi, (0, 1)))
                     for _ in range(_uniform(rng, 1, MAX_DIMS)))
    else:
        dims = _dims(rng, slot, 64)
    return AP(space, pstart, pcount, offset, dtype, dims)


def random_dram(rng: np.random.Generator, n_tensors: int = 4) -> DramAP:
    """A DRAM pattern over one of `n_tensors` tensors."""
    return DramAP(
        tensor=_uniform(rng, 0, n_tensors - 1),
        offset=_int(rng, *LIMITS["dram", "offset"], (0, 1 << 16)),
        pstride=_int(rng, *LIMITS["dram", "pstride"], (-4096, 4096)),
        dims=_dims(rng, "dram", 256),
    )


def _operand(rng: np.random.Generator, o: dict, n_tensors: int) -> object:
    if "default" in o and rng.random() < 0.25:
        return Assembler.default(o)
    kind, slot = o["kind"], o["slot"]
    if kind == "engine":
        return _pick(rng, ENGINE_NAMES)
    if kind == "sem":
        return _uniform(rng, 0, UNITS["semaphores"] - 1)
    if kind == "flag":
        return _uniform(rng, 0, 1)
    if kind == "uint":
        if "range" in o:  # the ISA's `range = [lo, hi]`
            return _int(rng, *o["range"])
        return _int(rng, *LIMITS[slot, ""], (0, 16))
    if kind == "f32":
        if "range" in o:  # the ISA's `range = [lo, hi]`: an end or a value between
            lo, hi = o["range"]
            value = _pick(rng, (lo, hi, lo + (hi - lo) * rng.random()))
            return int(np.array([min(max(value, lo), hi)], dtype=np.float32).view(np.uint32)[0])
        return random_f32_bits(rng)
    if kind == "bias":
        return random_ap(rng, "ap2", bias=True) if rng.random() < 0.5 else random_f32_bits(rng)
    if kind == "ap":
        return random_ap(rng, slot, o.get("spaces"), o.get("dtypes"))
    if kind == "dram":
        return random_dram(rng, n_tensors)
    raise AssertionError(f"operand kind {kind!r} has no generator")


def random_instruction(rng: np.random.Generator, n_tensors: int = 4,
                       mnemonic: str | None = None) -> Instruction:
    """A valid random instruction (of `mnemonic`, else of a uniformly chosen opcode)."""
    spec = (next(i for i in INSTRUCTIONS if i["mnemonic"] == mnemonic) if mnemonic
            else _pick(rng, INSTRUCTIONS))
    return Instruction(spec, {o["name"]: _operand(rng, o, n_tensors) for o in spec["operands"]})


def random_program(rng: np.random.Generator, n: int, n_tensors: int = 4) -> list[Instruction]:
    """`n` random instructions (a stream for the encoder/decoder, not a runnable program)."""
    return [random_instruction(rng, n_tensors) for _ in range(n)]


def random_pipeline(rng: np.random.Generator, chains: int = 3, stages: int = 4, partitions: int = 4,
                    elements: int = 16, semaphores: int = 32, engines: tuple[str, ...] = ("pe", "act", "vec")) -> str:
    """Assembly text of a runnable program: `chains` independent chains, each a DMA load, `stages`
    steps on random engines (PE matmuls, ACT and VEC ops) and a DMA store, every hand-off between
    engines ordered by the chain's own semaphore, the chains' instructions interleaved at random in
    the stream. Every chain writes its own SBUF/PSUM regions and every hand-off has its own
    semaphore, so the program is race-free and its result is the same in every order the semaphores
    allow; deleting a sem.wait or sem.signal of it breaks that (a race or a deadlock). Fits
    `partitions` partitions and a PE array of that size; ValueError if it needs more semaphores.
    `engines` are those the steps may use (a subset of pe, act, vec: e.g. ("vec",) for a core without
    the others; "sparse" adds PE steps through N:2N sparse weights, pe.load_sparse of the chain's
    weights with random indices and pe.matmul_sparse reading h twice, as J = 2 blocks)."""
    p, f = partitions, elements
    region = 4 * f  # bytes of one fp32 [p, f] operand per partition
    head = [f".tensor w bf16[{p}, {p}] in"]
    sparse = "sparse" in engines
    gbytes = -(-p // 2)  # index bytes per partition at 4 bits an index (M = 16)
    idx = -(-gbytes // 4) * 4 if sparse else 0  # bytes per partition of the indices' copy
    if sparse:
        head.append(f".tensor g int8[{p}, {gbytes}] in")
    ratios = [(n, 2 * n) for n in (1, 2, 4, 8) if p % n == 0]  # N:M with M = 2N: J = 2 blocks of p rows
    streams: list[list[str]] = []
    sems = iter(range(semaphores))

    def handoff(src: str, dst: str) -> list[str]:
        s = next(sems, None)
        if s is None:
            raise ValueError(f"{chains} chains of {stages} stages need more than {semaphores} semaphores")
        return [f"sem.signal {src}, s{s}", f"sem.wait {dst}, s{s}"]

    for c in range(chains):
        head += [f".tensor x{c} fp32[{p}, {f}] in", f".tensor h{c} bf16[{p}, {f}] in",
                 f".tensor y{c} fp32[{p}, {f}] out"]
        # the weights' copy (p bf16 per partition) may be larger than an operand: its own region
        base = c * ((stages + 2) * region + max(region, -(-2 * p // 4) * 4) + idx)
        at = [base + k * region for k in range(stages + 3)]
        wsb = base + (stages + 2) * region  # the weights' copy for this chain
        gsb = wsb + max(region, -(-2 * p // 4) * 4)  # the indices' copy (sparse only)
        lines = [f"dma.load sb[0:{p}, {at[0]}]:fp32[{f}], x{c}", f"dma.load sb[0:{p}, {at[1]}]:bf16[{f}], h{c}",
                 f"dma.load sb[0:{p}, {wsb}]:bf16[{p}], w"]
        if sparse:
            lines.append(f"dma.load sb[0:{p}, {gsb}]:int8[{gbytes}], g")
        engine, cur = "dma", f"sb[0:{p}, {at[0]}]:fp32[{f}]"
        for k in range(stages):
            nxt_engine = _pick(rng, engines)
            queue = "pe" if nxt_engine == "sparse" else nxt_engine
            if queue != engine:
                lines += handoff(engine, queue)
            dst = f"sb[0:{p}, {at[k + 1] if k else at[stages + 1]}]:fp32[{f}]"
            if queue == "pe":  # h (bf16) through the chain's weights, plus the current value
                acc = f"psum[0:{p}, {(c * stages + k) * region}]:fp32[{f}]"
                if nxt_engine == "pe":
                    pair = [f"pe.load_weights sb[0:{p}, {wsb}]:bf16[{p}]",
                            f"pe.matmul {acc}, sb[0:{p}, {at[1]}]:bf16[{f}]"]
                else:  # b = log2(M) bits an index; X = h twice (a zero outer stride), K = 2p rows
                    n, m = _pick(rng, ratios)
                    ib = -(-p * (m.bit_length() - 1) // 8)
                    pair = [f"pe.load_sparse sb[0:{p}, {wsb}]:bf16[{p}], sb[0:{p}, {gsb}]:int8[{ib}], {n}, {m}",
                            f"pe.matmul_sparse {acc}, sb[0:{p}, {at[1]}]:bf16[2@0, {f}@1]"]
                # with sparse steps the weights differ between chains (ratio, dense or not): another chain's
                # load must not come between a load and its matmul, so the pair is one item of the stream
                lines += ["\n".join(pair)] if sparse else pair
                lines += handoff("pe", "vec") + [f"vec.add {dst}, {acc}, {cur}"]
                nxt_engine = "vec"
            elif nxt_engine == "act":
                op = _pick(rng, ("act.relu {d}, {s}, scale=0.5, bias=1.0", "act.identity {d}, {s}, scale=-2.0",
                                 "act.func {d}, {s}, fn=exp, scale=0.125"))
                lines.append(op.format(d=dst, s=cur))
            else:
                op = _pick(rng, ("vec.muls {d}, {s}, 1.5", "vec.add {d}, {s}, {s}", "vec.maxs {d}, {s}, 0.25",
                                 "vec.copy {d}, {s}"))
                lines.append(op.format(d=dst, s=cur))
            engine, cur = nxt_engine, dst
        lines += handoff(engine, "dma") + [f"dma.store y{c}, {cur}"]
        streams.append(lines)
    body: list[str] = []
    pos = [0] * chains
    while any(pos[c] < len(streams[c]) for c in range(chains)):
        c = _pick(rng, [c for c in range(chains) if pos[c] < len(streams[c])])
        body.append(streams[c][pos[c]])
        pos[c] += 1
    return "\n".join(head + body + ["halt"]) + "\n"


# ----------------------------------------------------------------------------- raw words


def _mask(lsb: int, width: int) -> int:
    return ((1 << width) - 1) << lsb


def _slot_mask(slot: str) -> int:
    return _mask(SLOTS[slot]["lsb"], SLOTS[slot]["width"])


def reserved_mask(spec: dict, bias_ap: bool) -> int:
    """Bits that must be zero in a word of `spec`: its reserved runs plus, for a bias, the slot
    of the unused form (imm1 when the bias is an ap, else ap2). The rule `decode` applies."""
    m = 0
    for lsb, width in spec["reserved"]:
        m |= _mask(lsb, width)
    if spec["has_bias"]:
        m |= _slot_mask("imm1" if bias_ap else "ap2")
    return m


def bias_is_ap(word: int) -> bool:
    """Whether a word's flag slot selects the ap form of a bias."""
    return bool((word >> SLOTS["flag"]["lsb"]) & 1)


def opcode_of(word: int) -> int:
    return (word >> OPCODE["lsb"]) & ((1 << OPCODE["width"]) - 1)


def _raw_fields_word(rng: np.random.Generator) -> int:
    """A known opcode with uniformly random bits in every field it uses (reserved bits zero).

    Such words are well formed for a decoder that slices fields, though `decode` may reject
    field values (an undefined dtype code, a zero count)."""
    spec = _pick(rng, INSTRUCTIONS)
    word = int.from_bytes(rng.bytes(WORD_BITS // 8), "little")
    used = ~reserved_mask(spec, bias_is_ap(word)) & _mask(0, WORD_BITS)
    opmask = _mask(OPCODE["lsb"], OPCODE["width"])
    return (word & used & ~opmask) | (spec["opcode"] << OPCODE["lsb"])


def _set_reserved_bits(rng: np.random.Generator, word: int) -> int:
    """Set 1 to 3 (possibly equal) reserved bits of a valid word (including the unused form of a bias)."""
    bits = _reserved_bits(opcode_of(word), bias_is_ap(word))
    for _ in range(_uniform(rng, 1, 3)):
        word |= 1 << _pick(rng, bits)
    return word


@functools.cache
def _reserved_bits(opcode: int, bias_ap: bool) -> tuple[int, ...]:
    mask = reserved_mask(BY_OPCODE[opcode], bias_ap)
    return tuple(b for b in range(WORD_BITS) if mask >> b & 1)


UNKNOWN_OPCODES = [op for op in range(1 << OPCODE["width"]) if op not in BY_OPCODE]


def _unknown_opcode(rng: np.random.Generator, word: int) -> int:
    op = _pick(rng, UNKNOWN_OPCODES)
    return (word & ~_mask(OPCODE["lsb"], OPCODE["width"])) | (op << OPCODE["lsb"])


def random_words(rng: np.random.Generator, n: int) -> list[int]:
    """`n` words for a decoder bench: about half encode random valid
    instructions, 15% have random bits in every used field (reserved bits zero), and the
    rest are invalid: reserved bits set, an unknown opcode, or 512 random bits."""
    words = []
    for _ in range(n):
        r = rng.random()
        if r < 0.15:
            words.append(_raw_fields_word(rng))
            continue
        word = encode(random_instruction(rng))
        if r < 0.65:
            words.append(word)
        elif r < 0.85:
            words.append(_set_reserved_bits(rng, word))
        elif r < 0.95:
            words.append(_unknown_opcode(rng, word))
        else:
            words.append(int.from_bytes(rng.bytes(WORD_BITS // 8), "little"))
    return words
