"""dieharder smoke run on both hardware generators' 32-bit word streams (opt-in: needs the Debian
package `dieharder`; results are recorded in docs/vec.md).

    python benchmarks/dieharder_rng.py                      # birthdays, 32x32 rank, 6x8 rank, bitstream
    python benchmarks/dieharder_rng.py --tests 0 2 --psamples 50

Streams, fed to `dieharder -g 200` (raw stdin) as little-endian uint32:
  philox     the words of logical indices 0, 1, 2, ... under one seed and offset (what vec.rng_fill writes)
  xoroshiro  the high 32 bits of lane 0's outputs, seeded by vec.rng_seed's rule
Both come from accel.kernels.rng (bit-exact with the model and the RTL).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator

import numpy as np

from accel.kernels import rng as krng
from accel.model import rng as mrng

CHUNK = 1 << 22
SEED, OFFSET = 0x0123456789ABCDEF, 1


def philox_stream() -> Iterator[bytes]:
    start = 0
    while True:
        idx = np.arange(start, start + CHUNK, dtype=np.uint64)
        yield krng.philox_words(SEED, OFFSET, idx).astype("<u4").tobytes()
        start += CHUNK


def xoroshiro_stream() -> Iterator[bytes]:
    state = mrng.lane_states(SEED, 1)
    while True:
        yield krng.xoroshiro_words(state, CHUNK)[0].astype("<u4").tobytes()


STREAMS = {"philox": philox_stream, "xoroshiro": xoroshiro_stream}


def run(stream: str, test: int, psamples: int | None) -> list[tuple[str, str, str]]:
    """(test name, p-value, assessment) rows of one dieharder test on one stream."""
    cmd = ["dieharder", "-g", "200", "-d", str(test)] + (["-p", str(psamples)] if psamples else [])
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdin is not None
    try:
        for chunk in STREAMS[stream]():
            proc.stdin.write(chunk)
    except BrokenPipeError:  # dieharder has read what it needs
        pass
    out = proc.communicate()[0].decode()
    rows = []
    for line in out.splitlines():
        m = re.match(r"\s*(\S+)\|\s*\d+\|\s*\d+\|\s*\d+\|([0-9.]+)\|\s*(\w+)", line)
        if m:
            rows.append((m.group(1), m.group(2), m.group(3)))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tests", type=int, nargs="+", default=[0, 2, 3, 4], help="dieharder -d numbers")
    ap.add_argument("--psamples", type=int, default=None, help="dieharder -p (default: the test's own)")
    args = ap.parse_args(argv)
    if shutil.which("dieharder") is None:
        print("dieharder is not installed (apt-get install -y dieharder)", file=sys.stderr)
        return 2
    print("| stream | test | p-value | assessment |")
    print("|---|---|---|---|")
    for stream in STREAMS:
        for test in args.tests:
            for name, p, verdict in run(stream, test, args.psamples):
                print(f"| {stream} | {name} | {p} | {verdict} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
