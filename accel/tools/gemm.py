"""A tiled, pipelined GEMM program for any PE array size: C^T = (A B)^T, bf16 in, fp32 out.

The shape an architect times first (docs/timing.md): A^T [K, M] and B [K, N] stream into SBUF one
K tile at a time (the PE starts on a tile as soon as it is in), the PE array accumulates each
[N tile, M chunk] output over the K tiles in one PSUM bank, ACT drains the bank to SBUF and DMA
stores it, while the PE goes on in the next bank. Semaphores: s0 (a K tile is loaded), s1 (an
output is in PSUM), s2 (it is in SBUF), s3 (its bank is free again).
"""

from __future__ import annotations

from accel.config import CoreConfig


def gemm_program(m: int, k: int, n: int, config: CoreConfig | None = None) -> str:
    """Assembly text of C^T[n, m] = sum_k B[k, n] A^T[k, m] tiled for `config`'s array."""
    c = config or CoreConfig()
    kt, nt = min(c.pe_rows, k), min(c.pe_cols, n)
    mc = min(m, c.psum_bank_bytes // 4)
    if k % kt or n % nt or m % mc:
        raise ValueError(f"GEMM {m} x {k} x {n}: K, N, M must be multiples of the tiles {kt}, {nt}, {mc}")
    k_tiles, n_tiles, m_chunks = k // kt, n // nt, m // mc
    a_at = 0  # A^T tile t: bf16 [kt, m] at a_at + 2 m t
    b_at = a_at + 2 * m * k_tiles  # B tile t: bf16 [kt, n] at b_at + 2 n t
    c_at = b_at + 2 * n * k_tiles  # output j: fp32 [nt, mc] at c_at + 4 mc j
    outputs = n_tiles * m_chunks
    if c_at + 4 * mc * outputs > c.sbuf_partition_bytes:
        raise ValueError(f"GEMM {m} x {k} x {n} needs {c_at + 4 * mc * outputs} bytes per SBUF partition, "
                         f"the config has {c.sbuf_partition_bytes}")
    banks = c.psum_banks
    lines = [f"; GEMM M={m} K={k} N={n} on a {c.pe_rows} x {c.pe_cols} PE array (accel.tools.gemm)",
             f".tensor at bf16[{k}, {m}] in", f".tensor b bf16[{k}, {n}] in", f".tensor ct fp32[{n}, {m}] out"]
    dma = []
    for t in range(k_tiles):
        k0 = t * kt
        dma += [f"dma.load sb[0:{kt}, {a_at + 2 * m * t}]:bf16[{m}], at[{k0}:{k0 + kt}, 0:{m}]",
                f"dma.load sb[0:{kt}, {b_at + 2 * n * t}]:bf16[{n}], b[{k0}:{k0 + kt}, 0:{n}]",
                "sem.signal dma, s0"]
    pe, act = [], []
    j = 0
    for nj in range(n_tiles):
        for mj in range(m_chunks):
            bank = (j % banks) * c.psum_bank_bytes
            if j >= banks:
                pe.append("sem.wait pe, s3")  # ACT has drained the bank's previous output
            for t in range(k_tiles):
                if j == 0:
                    pe.append("sem.wait pe, s0")
                pe.append(f"pe.load_weights sb[0:{kt}, {b_at + 2 * n * t + 2 * nt * nj}]:bf16[{nt}]")
                pe.append(f"pe.matmul psum[0:{nt}, {bank}]:fp32[{mc}], sb[0:{kt}, {a_at + 2 * m * t + 2 * mc * mj}]"
                          f":bf16[{mc}], acc={int(t > 0)}")
            pe.append("sem.signal pe, s1")
            out = c_at + 4 * mc * j
            act += ["sem.wait act, s1", f"act.identity sb[0:{nt}, {out}]:fp32[{mc}], psum[0:{nt}, {bank}]:fp32[{mc}]",
                    "sem.signal act, s2", "sem.signal act, s3"]
            dma += ["sem.wait dma, s2",
                    f"dma.store ct[{nj * nt}:{nj * nt + nt}, {mj * mc}:{mj * mc + mc}], sb[0:{nt}, {out}]:fp32[{mc}]"]
            j += 1
    # one stream: the sequencer dispatches in this order, so interleave the engines' work as a
    # compiler would (loads first, then per output its PE, ACT and DMA parts)
    lines += dma[:3 * k_tiles]
    lines += _interleave(pe, act, dma[3 * k_tiles:], outputs)
    lines.append("halt")
    return "\n".join(lines) + "\n"


def _interleave(pe: list[str], act: list[str], dma: list[str], outputs: int) -> list[str]:
    """The engines' instruction lists in one stream, output by output (each list splits evenly per
    output after its first part)."""
    out: list[str] = []
    pe_parts = _split(pe, "sem.signal pe, s1")
    act_parts = [act[4 * j:4 * j + 4] for j in range(outputs)]
    dma_parts = [dma[2 * j:2 * j + 2] for j in range(outputs)]
    for j in range(outputs):
        out += pe_parts[j] + act_parts[j] + dma_parts[j]
    return out


def _split(lines: list[str], last: str) -> list[list[str]]:
    parts, cur = [], []
    for line in lines:
        cur.append(line)
        if line == last:
            parts.append(cur)
            cur = []
    return parts
