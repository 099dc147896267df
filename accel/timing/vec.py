"""VEC engine cycle costs, exact against rtl/vec_engine.v (docs/vec.md "Cycles").

Every VEC instruction's occupancy (the clocks from the one the engine accepts it to the one it can
accept the next) is a closed form of its operands and the CoreConfig, except for rng_fill, dropout
and dropout_mask with Philox words (gen=0): each lane's Philox core (rtl/rng_philox_iter.v, one block
of 4 words per vec_philox_block_cycles) prefetches one block ahead, the lanes move in lockstep, and
a core keeps running across instruction boundaries. Their occupancy depends on the lanes' index
alignment (base, the row stride, the partitions) and on what the cores were doing when the
instruction started, so `VecTimingState` replays the lanes' Philox control clock for clock (lanes in
the same state as one group) and carries it from instruction to instruction. `replay` does that for
a whole program's VEC instructions, once per stretch the program repeats.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from accel.config import CoreConfig
from accel.isa.encoding import Instruction
from accel.isa.operands import AP

_BINARY = frozenset(f"vec.{op}" for op in ("add", "sub", "mul", "max", "min"))
_UNARY = frozenset({*(f"vec.{op}s" for op in ("add", "sub", "mul", "max", "min")), "vec.copy", "vec.cast",
                    "vec.rng_load_state"})
_REDUCE = frozenset({"vec.reduce_sum", "vec.reduce_max"})
_STREAM = frozenset({"vec.rng_get_offset", "vec.rng_save_state"})
_REGISTER = frozenset({"vec.rng_set_offset", "vec.rng_set_stride"})
_RNG = frozenset({"vec.rng_fill", "vec.dropout", "vec.dropout_mask"})  # take RNG words (gen picks which)
MASK_BITS = 32  # elements per mask word (the ISA's mask layout)
_MEMO: dict[tuple, tuple] = {}  # VecTimingState._philox_memo: key -> (cycles, next clock, groups), relative
_MEMO_SIZE = 4096


def _home(ins: Instruction) -> AP:
    """The pattern the engine walks and whose partitions are its lanes: src / a (slot ap1), else dst."""
    m = ins.spec["mnemonic"]
    name = _HOME.get(m)
    if name is None:
        slots = {o["slot"]: o["name"] for o in ins.spec["operands"]}
        name = _HOME[m] = slots.get("ap1", slots.get("ap0"))
    return ins.ops[name]


_HOME: dict[str, str] = {}  # mnemonic -> the operand _home names (the ISA table's slots)


def _is_philox(ins: Instruction) -> bool:
    return ins.mnemonic in _RNG and not ins.ops["gen"]


def philox_facts(ins: Instruction) -> tuple:
    """What the Philox replay reads of a Philox rng_fill / dropout / dropout_mask (besides the
    engine's state and the stride register): its form, elements, lanes and index phase."""
    home = _home(ins)
    return ins.mnemonic, home.free_size, home.pstart, home.pcount, ins.ops["base"] & 3


def timing_facts(ins: Instruction, cycles: int) -> tuple:
    """What VecTimingState.issue reads of a VEC instruction with operands besides the engine's state:
    instructions with equal facts change the state alike (`replay`'s memo). `cycles`: its
    fixed_cycles, -1 for a Philox form."""
    if cycles < 0:
        return philox_facts(ins)
    m = ins.spec["mnemonic"]
    return m, cycles, ins.ops["stride"] if m == "vec.rng_set_stride" else None


def _elements(ins: Instruction, config: CoreConfig) -> tuple[int, int, int]:
    """(clocks per element, elements, clocks of the instruction beyond set-up and elements)."""
    m, c = ins.mnemonic, config
    f = _home(ins).free_size
    if m in _BINARY:
        return c.vec_binary_cycles, f, 0
    if m in _UNARY:
        return c.vec_unary_cycles, f, 0
    if m in _REDUCE:
        results = f // _home(ins).dims[-1][0]
        return c.vec_unary_cycles, f, results * c.vec_result_cycles
    if m in _STREAM or m == "vec.rng_fill":
        return c.vec_stream_cycles, f, 0
    words = -(-f // MASK_BITS) * c.vec_mask_word_cycles if m in ("vec.dropout_mask", "vec.dropout_apply") else 0
    if m in ("vec.dropout", "vec.dropout_mask", "vec.dropout_apply"):
        return c.vec_unary_cycles, f, c.vec_dropout_scale_cycles + words
    raise ValueError(f"{m}: not an instruction of the VEC engine with operands")


def fixed_cycles(ins: Instruction, config: CoreConfig) -> int:
    """The occupancy of every VEC instruction whose clocks do not depend on the Philox cores: all but
    rng_fill / dropout / dropout_mask with gen=0 (those are `vec_cycles` with a state)."""
    m, c = ins.mnemonic, config
    if _is_philox(ins):
        raise ValueError(f"{m} with Philox words: its clocks depend on the lanes' Philox cores (use vec_cycles)")
    if m in _REGISTER:
        return c.vec_register_cycles
    if m == "vec.rng_seed":
        return c.vec_register_cycles + c.vec_seed_cycles + c.vec_seed_lane_cycles * c.sbuf_partitions
    per, n, extra = _elements(ins, config)
    return c.vec_setup_cycles + per * n + extra


# ------------------------------------------------------------------------------------- the lanes' Philox control

# A group of lanes in the same state (rtl/vec_lane.v's block cache, relative to the block each lane
# needs now): [lanes, active, phase (index mod 4), dc (cached block - needed), dn (the core's block -
# needed), cval (cache valid), nval (core output valid), nstale (the running block is an earlier
# instruction's), vclk (clock at which the core's last block is valid; busy before it)].
_LANES, _ACT, _PH, _DC, _DN, _CV, _NV, _NS, _VC = range(9)
_QUIET = [False, 0, 0, 0, False, False, False, -1]  # a group's state after reset and after _pre with no core running


def _merge(groups: list[list]) -> list[list]:
    """Groups with equal states joined (lanes united)."""
    out: dict[tuple, list] = {}
    for g in groups:
        key = tuple(g[1:])
        if key in out:
            out[key][_LANES] = out[key][_LANES] | g[_LANES]
        else:
            out[key] = list(g)
    return list(out.values())


@dataclass
class VecTimingState:
    """What the VEC engine's clocks depend on beyond one instruction: the row-stride register (set by
    vec.rng_set_stride) and each lane's Philox cache and core (rtl/vec_lane.v), from reset on.

    `issue(ins, start)` gives an instruction's occupancy when the engine accepts it at clock `start`
    (absolute, at least `ready`) and moves the state past it; the gap between instructions matters,
    because the lanes' cores keep running while the engine waits."""

    config: CoreConfig
    stride: int = 0  # the row-stride register
    ready: int = 0  # earliest clock the engine accepts the next instruction (0: reset and seeding done)
    _groups: list[list] = field(default_factory=list, repr=False)
    _t: int = 0  # next clock of the lanes not yet replayed
    _phx: bool = False  # the controls in force: the last accepted instruction takes Philox words

    def __post_init__(self) -> None:
        self._groups = [[frozenset(range(self.config.sbuf_partitions)), False, 0, 0, 0, False, False, False, -1]]

    def issue(self, ins: Instruction, start: int | None = None, cycles: int | None = None) -> int:
        """Occupancy of `ins` accepted at clock `start` (default `ready`); a word the engine drops
        (nop, sem.*, another engine's) takes vec_decode_cycles. `cycles`: the instruction's
        fixed_cycles when the caller has them (not for the Philox forms, whose cycles this works out)."""
        c = self.config
        a = self.ready if start is None else start
        if a < self.ready:
            raise ValueError(f"VEC instruction issued at clock {a}, before the engine is ready at {self.ready}")
        m = ins.mnemonic
        if _is_philox(ins):
            cycles = self._philox_memo(ins, a)
            self.ready = a + cycles
            return cycles
        self._advance(a + 1)  # up to and including the accepting clock, under the previous controls
        self._phx = False  # from the decode clock on: no Philox controls
        if not m.startswith("vec."):
            cycles = c.vec_decode_cycles
        else:
            if cycles is None:
                cycles = fixed_cycles(ins, c)
            if m not in _REGISTER and m != "vec.rng_seed":
                self._advance(a + c.vec_setup_cycles - 2)
                self._pre(a + c.vec_setup_cycles - 2, None)
            if m == "vec.rng_set_stride":
                self.stride = ins.ops["stride"]
        self.ready = a + cycles
        return cycles

    def quiet(self) -> bool:
        """No lane's core runs and every lane is reset under no Philox controls: the state is then the
        same, relative to the clock, whatever came before (but the stride register)."""
        return not self._phx and len(self._groups) == 1 and self._groups[0][1:] == _QUIET

    # -- replay

    def _advance(self, until: int) -> None:
        """Replay the lanes' clocks self._t .. until - 1 under the controls in force (no element steps)."""
        t = self._t
        if t >= until:
            return
        if not self._phx:  # no core starts: only the cores' valid pulses
            for g in self._groups:
                if t <= g[_VC] < until:
                    g[_NV], g[_NS] = not g[_NS], False
            self._t = until
            return
        while t < until:
            changed = self._clock(t, False)
            t += 1
            if not changed and all(g[_VC] < t for g in self._groups):
                break  # nothing can happen any more under these controls
        self._t = until

    def _clock(self, t: int, ex_state: bool) -> bool:
        """One clock of every lane (rtl/vec_lane.v) under the Philox controls; in an EX clock the step
        happens unless a lane misses. Returns whether the element stepped (ex_state) or, outside EX,
        whether any core started or block moved into a cache."""
        block = self.config.vec_philox_block_cycles
        plans = []
        stall = False
        for g in self._groups:
            pvalid, pbusy = t == g[_VC], t < g[_VC]
            swap = start = hit = False
            if g[_ACT]:
                hit = g[_CV] and g[_DC] == 0
                avail = g[_NV] or (pvalid and not g[_NS])
                nready = avail and g[_DN] == 0
                swap = not hit and nready
                stall = stall or (not hit and not nready)
                start = not pbusy and (swap or (not (avail and g[_DN] == g[_DC] + 1) if hit else not nready))
            plans.append((swap, start, hit, pvalid))
        ex = ex_state and not stall
        changed = False
        for g, (swap, start, hit, pvalid) in zip(self._groups, plans, strict=True):
            dc, dn = g[_DC], g[_DN]
            if swap:
                g[_DC], g[_CV] = dn, True
            if start:
                g[_DN] = dn + 1 if swap else dc + 1 if hit else 0
                g[_NV], g[_VC] = False, t + block
            elif pvalid:
                g[_NV] = not g[_NS]
            if pvalid:
                g[_NS] = False
            if ex and g[_ACT]:  # an inactive lane's index is set again before it can matter
                g[_PH] += 1
                if g[_PH] == 4:
                    g[_PH] = 0
                    g[_DC] -= 1
                    g[_DN] -= 1
            changed = changed or swap or start
        return ex if ex_state else changed

    def _controls(self, home: AP | None) -> None:
        """The DEC clock's controls: lanes of `home`'s partitions active (None: no Philox instruction)."""
        act = frozenset(range(home.pstart, home.pstart + home.pcount)) if home else frozenset()
        out = []
        for g in self._groups:
            for lanes, flag in ((g[_LANES] & act, True), (g[_LANES] - act, False)):
                if lanes:
                    out.append([lanes, flag, *g[2:]])
        self._groups = _merge(out)
        self._phx = home is not None

    def _pre(self, t: int, philox: tuple[AP, int, int] | None) -> None:
        """The set-up clock t: every lane's index is set, its cache and core output marked empty, a
        running core's block marked stale. `philox` = (home, base, row stride) of a Philox instruction."""
        by_phase: dict[int, set[int]] = {}
        if philox:
            home, base, row = philox
            for p in range(home.pcount):
                by_phase.setdefault((base + p * row) & 3, set()).add(home.pstart + p)
        out = []
        for g in self._groups:
            stale, vclk = t < g[_VC], g[_VC] if g[_VC] >= t else -1
            rest = g[_LANES]
            for phase, lanes in by_phase.items():
                part = rest & lanes
                if part:
                    out.append([part, True, phase, 0, 0, False, False, stale, vclk])
                    rest = rest - part
            if rest:
                out.append([rest, False, 0, 0, 0, False, False, stale, vclk])
        self._groups = _merge(out)
        self._t = t + 1

    def _philox_memo(self, ins: Instruction, a: int) -> int:
        """_philox through a memo of (instruction shape, config, state relative to clock a): programs
        repeat their Philox instructions in the same circumstances."""
        facts = philox_facts(ins)
        row = self.stride if self.stride else facts[1]
        groups, t_rel, phx = self.snapshot(a)
        key = (self.config, *facts, row & 3, t_rel, phx, tuple(sorted(groups, key=lambda g: min(g[_LANES]))))
        hit = _MEMO.get(key)
        if hit is None:
            self._advance(a + 1)
            cycles = self._philox(ins, a)
            if len(_MEMO) >= _MEMO_SIZE:
                _MEMO.clear()
            _MEMO[key] = hit = (cycles, self.snapshot(a))
        cycles, after = hit
        self.restore(after, a)
        return cycles

    def snapshot(self, a: int) -> tuple:
        """The lanes' state relative to clock a (a core's past valid clock as None): restore(snapshot(a),
        b) is the same state shifted to clock b. The stride and ready clock are not in it."""
        t = self._t
        return tuple((*g[:_VC], g[_VC] - a if g[_VC] >= t else None) for g in self._groups), t - a, self._phx

    def restore(self, snapshot: tuple, a: int) -> None:
        """Take the lanes' state of `snapshot`, shifted to clock a."""
        groups, t_rel, phx = snapshot
        self._groups = [[*g[:_VC], -1 if g[_VC] is None else g[_VC] + a] for g in groups]
        self._t, self._phx = a + t_rel, phx

    def _philox(self, ins: Instruction, a: int) -> int:
        """Replay an rng_fill / dropout / dropout_mask with Philox words accepted at clock a."""
        c = self.config
        home = _home(ins)
        per, n, _ = _elements(ins, c)
        mask = ins.mnemonic == "vec.dropout_mask"
        row = self.stride if self.stride else home.free_size
        self._controls(home)
        self._advance(a + c.vec_setup_cycles - 2)  # decode (and any further set-up clock)
        self._pre(a + c.vec_setup_cycles - 2, (home, ins.ops["base"], row))
        t = self._t
        if ins.mnemonic != "vec.rng_fill":
            t = self._idle(t, c.vec_dropout_scale_cycles)
        period = MASK_BITS  # the element loop repeats with the mask word position
        seen: dict[tuple, tuple[int, int]] = {}
        k = 0
        while k < n:
            if k % period == 0:
                sig = self._signature(t)
                if sig in seen:
                    k0, t0 = seen.pop(sig)
                    reps = (n - 1 - k) // (k - k0)
                    if reps:
                        shift = reps * (t - t0)
                        for g in self._groups:
                            if g[_VC] >= t:
                                g[_VC] += shift
                        k, t = k + reps * (k - k0), t + shift
                        seen.clear()
                seen[self._signature(t)] = (k, t)
            t = self._idle(t, per - 1)  # reads
            while not self._clock(t, True):  # EX: waits while a lane misses its block
                t += 1
            t += 1
            if mask and (k % MASK_BITS == MASK_BITS - 1 or k == n - 1):
                t = self._idle(t, c.vec_mask_word_cycles)
            k += 1
        self._clock(t, False)  # retire
        self._t = t + 1
        return self._t - a

    def _idle(self, t: int, clocks: int) -> int:
        """Clocks without an element step (scale, reads, mask words)."""
        for _ in range(clocks):
            self._clock(t, False)
            t += 1
        return t

    def _signature(self, t: int) -> tuple:
        """The lanes' state relative to clock t, with the fields that can no longer matter cleared."""
        out = []
        for g in self._groups:
            pending = g[_VC] >= t
            out.append((g[_ACT], g[_PH], g[_DC] if g[_CV] else 0, g[_DN] if g[_NV] or pending else 0, g[_CV],
                        g[_NV], g[_NS] and pending, g[_VC] - t if pending else -1))
        return tuple(out)


def vec_cycles(ins: Instruction, config: CoreConfig, state: VecTimingState | None = None,
               start: int | None = None) -> int:
    """Clocks the VEC engine is busy with `ins`, from the clock it accepts it to the clock it can accept
    the next. Only Philox rng_fill / dropout / dropout_mask need `state` (the engine's state before
    `ins`, updated in place; None: right after reset) and `start` (the clock it is accepted, default
    `state.ready`)."""
    if state is None:
        state = VecTimingState(config)
    elif state.config is not config and state.config != config:
        raise ValueError("vec_cycles: the state was made for another CoreConfig")
    if not ins.mnemonic.startswith("vec."):
        raise ValueError(f"{ins.mnemonic}: not a VEC instruction")
    return state.issue(ins, start)


@dataclass
class Replay:
    """One pass of the VEC engine's state over a program's VEC instructions with operands, in order
    (`replay`): per instruction its cycles, whether the state was quiet when the engine accepted it
    (VecTimingState.quiet), the idle clocks between the previous one's end and its accept, and the
    stride register then."""

    cycles: np.ndarray
    quiet: np.ndarray
    gaps: np.ndarray
    stride: np.ndarray


def replay(config: CoreConfig, instructions: list[Instruction], index: np.ndarray, fixed: np.ndarray,
           facts: np.ndarray, starts: np.ndarray | None = None, previous: Replay | None = None) -> Replay:
    """The cycles of instructions[index] (VEC instructions with operands, in program order) accepted at the
    later of starts[k] and the engine's ready clock (starts None: back to back); fixed[k] is the
    instruction's fixed_cycles, or -1 for a Philox form, and facts[k] numbers its timing_facts.

    A quiet state carries nothing from before it but the stride register, so what happens from one
    quiet accept to the next depends only on the stride, the instructions' facts and the idle clocks
    between them: the stretches a program repeats are replayed once (a memo of the stretch so far,
    with the state after it). Given `previous`, the pass whose cycles made `starts` (so every accept
    is its start), a stretch whose inner gaps are those of `previous` is the same again: only from the
    first stretch whose gaps differ is anything replayed. While no lane's core runs, an instruction
    only moves the clock, which is done without the replay."""
    n = index.size
    cycles = np.zeros(n, dtype=np.int64)
    quiet = np.zeros(n, dtype=bool)
    gaps = np.zeros(n, dtype=np.int64)
    stride = np.zeros(n, dtype=np.int64)
    state = VecTimingState(config)
    k0 = 0
    if previous is not None and starts is not None and n:
        gaps[1:] = starts[1:] - starts[:-1] - previous.cycles[:-1]
        moved = np.flatnonzero(~previous.quiet & (gaps != previous.gaps))
        if not moved.size:
            return Replay(previous.cycles.copy(), previous.quiet, gaps, previous.stride)
        k0 = int(np.flatnonzero(previous.quiet[:moved[0] + 1])[-1])  # the quiet accept that stretch starts at
        cycles[:k0], quiet[:k0], stride[:k0] = previous.cycles[:k0], previous.quiet[:k0], previous.stride[:k0]
        if k0:
            state.stride = int(previous.stride[k0])
            state.ready = state._t = int(starts[k0 - 1] + previous.cycles[k0 - 1])
    setup = config.vec_setup_cycles
    begin = None if starts is None else starts.tolist()
    fx, keys, index_list = fixed.tolist(), facts.tolist(), index.tolist()
    # The stretches seen, as a tree: memo[(stretch so far, facts, gap)] = that stretch with one more
    # instruction, an index into `after` (the cycles, state, quiet flag and stride after it); a
    # stretch's root, before its first instruction, is -1 - stride.
    memo: dict[tuple[int, int, int], int] = {}
    after: list[tuple] = []
    node: int | None = None  # the stretch so far; None: too long to keep
    depth = 0
    pending = None  # (snapshot, clock, quiet) of the state after a memo hit, not restored yet
    for k in range(k0, n):
        f = fx[k]
        a = state.ready if begin is None else max(begin[k], state.ready)
        gap = a - state.ready
        gaps[k], stride[k] = gap, state.stride
        q = quiet[k] = pending[2] if pending else state.quiet()
        if q:
            node, depth, gap = -1 - state.stride, 0, 0
        elif depth >= _STRETCH_MAX:
            node = None
        if node is not None:
            step = (node, keys[k], gap)
            child = memo.get(step)
            if child is not None:
                c, snapshot, q_after, state.stride = after[child]
                cycles[k], state.ready, pending = c, a + c, (snapshot, a, q_after)
                node, depth = child, depth + 1
                continue
        if pending:
            state.restore(pending[0], pending[1])
            pending = None
        ins = instructions[index_list[k]]
        if f >= 0 and q:
            m = ins.spec["mnemonic"]  # as issue(): _advance(a + 1), then _pre at the set-up clock
            if m in _REGISTER or m == "vec.rng_seed":
                state._t = max(state._t, a + 1)
                if m == "vec.rng_set_stride":
                    state.stride = ins.ops["stride"]
            else:
                state._t = a + setup - 1
            c = f
            state.ready = a + f
        else:
            c = state.issue(ins, a, f if f >= 0 else None)
        cycles[k] = c
        if node is not None:
            memo[step] = node = len(after)
            after.append((c, state.snapshot(a), state.quiet(), state.stride))
            depth += 1
    return Replay(cycles, quiet, gaps, stride)


_STRETCH_MAX = 64  # instructions a memo key holds: longer stretches without a quiet accept are replayed
