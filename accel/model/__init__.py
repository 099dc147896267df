"""The golden model: one plain NumPy semantic function per opcode, registered by mnemonic.

A semantic function takes the core state and a decoded instruction. It returns None when it
has executed, or False when it cannot issue yet (a semaphore wait), in which case the
machine retries it later without any effect having happened.

Where a semantic function does bulk arithmetic it calls a named primitive through
`core.prims` (`core.prims.matmul_bf16(w, x)`), never a kernel directly: `PRIMITIVES` holds the
model's plain NumPy definitions, accel.kernels provides faster bit-identical ones under the
same names, and the machine picks the backend. So the model imports nothing above it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Semantic = Callable[[Any, Any], "bool | None"]
SEMANTICS: dict[str, Semantic] = {}


def semantics(mnemonic: str) -> Callable[[Semantic], Semantic]:
    """Register `fn` as the meaning of `mnemonic`."""

    def register(fn: Semantic) -> Semantic:
        if mnemonic in SEMANTICS:
            raise ValueError(f"two semantic functions for {mnemonic}")
        SEMANTICS[mnemonic] = fn
        return fn

    return register


PRIMITIVES: dict[str, Callable[..., Any]] = {}


def primitive(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `fn` as the model's definition of primitive `name` (accel.kernels may override it)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in PRIMITIVES:
            raise ValueError(f"two primitives named {name}")
        PRIMITIVES[name] = fn
        return fn

    return register


def all_primitives() -> dict[str, Callable[..., Any]]:
    """Every primitive of the model, by name (importing every unit module)."""
    all_semantics()
    return PRIMITIVES


def all_semantics() -> dict[str, Semantic]:
    """Import every unit module (which registers its opcodes) and return the registry."""
    from accel.model import act, dma, lut, pe_array, rng, sparse, sync, vec  # noqa: F401

    return SEMANTICS
