"""The golden model: one plain NumPy semantic function per opcode, registered by mnemonic.

A semantic function takes the core state and a decoded instruction. It returns None when it
has executed, or False when it cannot issue yet (a semaphore wait), in which case the
machine retries it later without any effect having happened.
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


def all_semantics() -> dict[str, Semantic]:
    """Import every unit module (which registers its opcodes) and return the registry."""
    from accel.model import act, dma, lut, pe_array, rng, simd, sparse, sync  # noqa: F401

    return SEMANTICS
