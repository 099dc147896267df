"""CoreConfig: every size and every timing constant of one core, with the allowed ranges.

The defaults come from isa/isa.toml [units] (sizes) and from our RTL where it exists (timing
constants: docs/timing.md names the source of each). A bad value is a ConfigError naming the field
and its allowed range.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accel.isa._table import TABLE
from accel.isa.check import DEFAULT_DRAM_BYTES

_UNITS = TABLE["units"]


class ConfigError(ValueError):
    """A CoreConfig field is out of range; names the field and the allowed range."""


# Allowed ranges: the ISA's field widths bound partitions (8-bit start, 9-bit count) and
# byte offsets (20 bits).
_RANGES: dict[str, tuple[int, int]] = {
    "pe_rows": (1, 256),
    "pe_cols": (1, 256),
    "sbuf_partitions": (1, 256),
    "sbuf_partition_bytes": (4, 1 << 20),
    "psum_partitions": (1, 256),
    "psum_partition_bytes": (4, 1 << 20),
    "psum_banks": (1, 64),
    "semaphores": (1, 256),
    "dma_bytes_per_cycle": (1, 1 << 16),
    "dram_bytes": (1, 1 << 40),
    # timing (docs/timing.md)
    "dispatch_cycles": (1, 64),
    "queue_depth": (1, 4096),
    "sync_cycles": (1, 64),
    "dma_latency_cycles": (0, 1 << 16),
    "dma_queues": (1, 64),
    "act_setup_cycles": (0, 1024),
    "act_latency_cycles": (1, 1024),
    "act_element_cycles": (1, 64),
    "act_bias_cycles": (0, 1024),
    "act_lut_word_cycles": (1, 64),
    "vec_decode_cycles": (2, 64),
    "vec_setup_cycles": (4, 1024),
    "vec_register_cycles": (1, 1024),
    "vec_binary_cycles": (1, 64),
    "vec_unary_cycles": (1, 64),
    "vec_stream_cycles": (1, 64),
    "vec_result_cycles": (0, 64),
    "vec_mask_word_cycles": (0, 64),
    "vec_dropout_scale_cycles": (0, 1024),
    "vec_seed_cycles": (0, 1024),
    "vec_seed_lane_cycles": (0, 64),
    "vec_philox_block_cycles": (1, 1024),
}


@dataclass(frozen=True)
class CoreConfig:
    """Every size and timing constant of the machine. Sizes default to isa/isa.toml [units]; timing
    constants (cycles) to our RTL where it exists (docs/timing.md, "The cost model")."""

    pe_rows: int = _UNITS["pe_rows"]
    pe_cols: int = _UNITS["pe_cols"]
    sbuf_partitions: int = _UNITS["sbuf_partitions"]
    sbuf_partition_bytes: int = _UNITS["sbuf_partition_bytes"]
    psum_partitions: int = _UNITS["psum_partitions"]
    psum_partition_bytes: int = _UNITS["psum_partition_bytes"]
    psum_banks: int = _UNITS["psum_banks"]
    semaphores: int = _UNITS["semaphores"]
    dma_bytes_per_cycle: int = _UNITS["dma_bytes_per_cycle"]
    dram_bytes: int = DEFAULT_DRAM_BYTES  # all of a program's DRAM tensors together, checked before allocating
    # --- timing (docs/timing.md): the sequencer and the queues
    dispatch_cycles: int = 1  # sequencer: cycles per instruction put into a queue
    queue_depth: int = 16  # entries per engine queue; a full queue stalls dispatch
    sync_cycles: int = 1  # sem.signal, sem.wait and nop occupy their engine this long
    # --- DMA: a fixed latency, then bytes over the DRAM bandwidth shared by every queue
    dma_latency_cycles: int = 64  # from issue to the first beat (DRAM access start and descriptor set-up)
    dma_queues: int = 4  # transfers in flight at once
    # --- ACT: the function-unit pipeline of rtl/act_func.v, one element per clock per lane (docs/act.md "Cycles")
    act_setup_cycles: int = 4  # decode and access-pattern set-up, as the vector engine's
    act_latency_cycles: int = 22  # rtl/act_func.v pipeline stages: in_valid to out_valid
    act_element_cycles: int = 1  # clocks per element of a partition entering the pipeline
    act_bias_cycles: int = 1  # a bias pattern: each lane reads its bias word before the stream
    act_lut_word_cycles: int = 1  # act.lut.load: clocks per image word written (rtl/lut_mem.v's write port)
    # --- VEC: rtl/vec_engine.v as measured (docs/vec.md "Cycles"); per element = per element of a partition
    vec_decode_cycles: int = 2  # accept and decode: all a word the engine drops (nop, sem.*) takes
    vec_setup_cycles: int = 4  # accept, decode, pattern set-up and retire of an instruction with operands
    vec_register_cycles: int = 3  # accept, decode and retire of rng_set_offset, rng_set_stride, rng_seed
    vec_binary_cycles: int = 3  # per element of vec.add .. vec.min: read a, read b, compute and write
    vec_unary_cycles: int = 2  # per element of tensor-scalar, copy, cast, reductions, dropout*, rng_load_state
    vec_stream_cycles: int = 1  # per element of rng_fill, rng_get_offset, rng_save_state (no read)
    vec_result_cycles: int = 1  # per result of a reduction (its write)
    vec_mask_word_cycles: int = 1  # per mask word dropout_mask writes or dropout_apply reads
    vec_dropout_scale_cycles: int = 17  # rtl/dropout_scale.v: its 15-clock latency, start and done
    vec_seed_cycles: int = 4  # rng_seed (and reset): rtl/splitmix64_seeder.v beyond its lanes, start and done
    vec_seed_lane_cycles: int = 2  # rng_seed: clocks per lane seeded
    vec_philox_block_cycles: int = 11  # per lane: one Philox block (4 words) per this many clocks (rng_philox_iter)

    def __post_init__(self) -> None:
        for name, (lo, hi) in _RANGES.items():
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                raise ConfigError(f"CoreConfig.{name} = {v!r}: allowed integers {lo}..{hi}")
        for name in ("sbuf_partition_bytes", "psum_partition_bytes"):
            if getattr(self, name) % 4:
                raise ConfigError(f"CoreConfig.{name} = {getattr(self, name)}: must be a multiple of 4")
        bank = self.psum_partition_bytes // self.psum_banks
        if self.psum_partition_bytes % self.psum_banks or bank % 4:
            raise ConfigError(
                f"CoreConfig.psum_banks = {self.psum_banks}: must divide psum_partition_bytes "
                f"({self.psum_partition_bytes}) into banks of a multiple of 4 bytes"
            )
        if self.pe_rows > self.sbuf_partitions:
            raise ConfigError(f"CoreConfig.pe_rows = {self.pe_rows}: allowed 1..sbuf_partitions "
                              f"({self.sbuf_partitions})")
        if self.pe_cols > self.psum_partitions:
            raise ConfigError(f"CoreConfig.pe_cols = {self.pe_cols}: allowed 1..psum_partitions "
                              f"({self.psum_partitions})")

    @property
    def psum_bank_bytes(self) -> int:
        return self.psum_partition_bytes // self.psum_banks

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CoreConfig:
        """A config from a mapping of field names to values; ConfigError for anything else."""
        if not isinstance(d, Mapping):
            raise ConfigError(f"a CoreConfig is made from a dict of field names, not {type(d).__name__} {d!r}")
        return cls(**_known_fields(d))

    @classmethod
    def from_toml(cls, path: str | Path) -> CoreConfig:
        """Read a config file (UTF-8 TOML): CoreConfig fields at the top level, or all of them in one
        [core] table. Any other section or key is an error, never silently ignored."""
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            raise ConfigError(f"{path}: {e.strerror or e}") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            line = data[:e.start].count(b"\n") + 1
            raise ConfigError(f"{path}:{line}: byte {data[e.start]:#04x} is not UTF-8 text (config files are UTF-8 "
                              "TOML)") from None
        try:
            d = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: {e}") from None
        if "core" in d:
            core = d["core"]
            if not isinstance(core, dict):
                raise ConfigError(f"{path}: core = {core!r}: expected a [core] table of CoreConfig fields")
            others = [k for k in d if k != "core"]
            if others:
                what = f"section [{others[0]}]" if isinstance(d[others[0]], dict) else f"key {others[0]!r}"
                raise ConfigError(f"{path}: {what} beside the [core] table; put every CoreConfig field in [core]")
            d = core
        tables = [k for k, v in d.items() if isinstance(v, dict)]
        if tables:
            raise ConfigError(f"{path}: unknown section [{tables[0]}]; a config file holds CoreConfig fields, "
                              "at the top level or in one [core] table")
        try:
            return cls.from_dict(d)
        except ConfigError as e:
            raise ConfigError(f"{path}: {e}") from None


_FIELDS = tuple(f.name for f in dataclasses.fields(CoreConfig))


def _known_fields(d: Mapping[str, Any]) -> Mapping[str, Any]:
    """`d` if every key names a CoreConfig field; else ConfigError naming the key and close matches."""
    for key in d:
        if key not in _FIELDS:
            near = difflib.get_close_matches(str(key), _FIELDS, n=2)
            hint = f" (did you mean {' or '.join(near)}?)" if near else ""
            raise ConfigError(f"unknown CoreConfig field {key!r}{hint}; known: {', '.join(_FIELDS)}")
    return d


def _checked_init(init):
    """CoreConfig's dataclass __init__, with ConfigError (not TypeError) for unknown or extra arguments."""

    @functools.wraps(init)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(_FIELDS):
            raise ConfigError(f"CoreConfig takes at most {len(_FIELDS)} fields ({', '.join(_FIELDS)}), "
                              f"got {len(args)} positional values")
        _known_fields(kwargs)
        taken = [name for name in _FIELDS[:len(args)] if name in kwargs]
        if taken:
            raise ConfigError(f"CoreConfig field {taken[0]!r} given twice (by position and by name)")
        init(self, *args, **kwargs)

    return __init__


CoreConfig.__init__ = _checked_init(CoreConfig.__init__)  # type: ignore[method-assign]


def as_config(config: CoreConfig | Mapping[str, Any] | None) -> CoreConfig:
    """A CoreConfig from a CoreConfig, a dict of its fields, or None (the defaults)."""
    if config is None:
        return CoreConfig()
    if isinstance(config, CoreConfig):
        return config
    if isinstance(config, Mapping):
        return CoreConfig.from_dict(config)
    raise ConfigError(f"config must be a CoreConfig or a dict of its fields, not {type(config).__name__}")
