"""Pools tile rows (accel/compiler/pool.py): a MaxPool/AveragePool whose padded input plane does not
fit an SBUF partition runs on the core in bands of output rows, each band's padded input rows (with
the window's overlap) loaded anew, against ONNX Runtime and bit-exact with the bf16 reference."""

from __future__ import annotations

import pytest
from test_ops import check, single

from accel import CoreConfig
from accel.compiler import pool
from accel.compiler.graph import import_onnx

# 4 KiB per partition: a 40 x 40 bf16 plane (3,200 bytes) does not fit beside the row tiles
TINY = CoreConfig(pe_rows=16, pe_cols=16, sbuf_partitions=16, psum_partitions=16, sbuf_partition_bytes=4096)
CASES = [
    ("MaxPool", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])),
    ("MaxPool", dict(kernel_shape=[2, 2], strides=[2, 2])),
    ("MaxPool", dict(kernel_shape=[3, 3], dilations=[2, 2], pads=[0, 2, 1, 0], strides=[1, 2])),
    ("AveragePool", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=0)),
    ("AveragePool", dict(kernel_shape=[2, 3], strides=[1, 2], ceil_mode=1)),
]


def _bands(m, config: CoreConfig = TINY) -> tuple[int, int]:
    g = import_onnx(m, {})
    node = g.nodes[0]
    p = pool._params(node, g)
    return pool._band_rows(p, pool._uniform(node, p) is None, config), p["oh"]


@pytest.mark.parametrize("op, attrs", CASES, ids=str)
def test_pool_in_bands_of_rows(op: str, attrs: dict) -> None:
    m = single(op, [(1, 20, 40, 40)], opset=19, **attrs)
    band, oh = _bands(m)
    assert 0 < band < oh  # several bands: the whole plane does not fit
    negative = op == "MaxPool"  # all inputs negative: padding must be -inf, not 0
    cm, _ = check(m, config=TINY, ulps=0 if negative else 1.0, atol=0.0 if negative else 2 ** -12,
                  negative=negative)
    loads = sum(line.split(";")[0].strip().startswith("dma.load") for line in cm.listing.splitlines())
    assert loads >= -(-oh // band) * 2  # a load per band and 16-plane chunk, at least


def test_too_wide_for_one_band_falls_back_with_the_reason() -> None:
    # 3 KiB per partition: neither the 48 x 32 plane nor three bands of one output row's 17 rows fit
    m = single("MaxPool", [(1, 2, 48, 32)], kernel_shape=[17, 2])
    cfg = CoreConfig(pe_rows=16, pe_cols=16, sbuf_partitions=16, psum_partitions=16, sbuf_partition_bytes=3072)
    assert _bands(m, cfg)[0] == 0
    g = import_onnx(m, {})
    why = pool._supported(g.nodes[0], g, cfg)
    assert why is not None and "do not fit an SBUF partition" in why
