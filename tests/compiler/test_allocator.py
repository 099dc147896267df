"""The SBUF/PSUM allocator's failure names what did not fit, the memory, how much is in use and the largest
free range, so free bytes scattered over ranges too small to take the allocation read as what they are."""

from __future__ import annotations

import pytest

from accel.compiler.builder import Allocator
from accel.compiler.graph import CompileError


def test_a_fragmented_memory_says_its_largest_free_range() -> None:
    sb = Allocator("sb", 512, delay=0)
    a, b, c, d = (sb.alloc(128, f"t{k}") for k in range(4))
    assert [a, b, c, d] == [0, 128, 256, 384]
    sb.free(a, 128)
    sb.free(c, 100)  # frees 128: sizes are taken in alignment units of 64
    with pytest.raises(CompileError) as e:  # 256 bytes free in all, in two ranges of 128
        sb.alloc(192, "node n1: weights")
    assert str(e.value) == ("node n1: weights: 192 bytes per partition do not fit sb (256 of 512 bytes in use, "
                            "the largest free range 128 bytes)")
    assert sb.alloc(128, "t4") == 0  # what a range can take still fits
