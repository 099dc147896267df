"""N:M compressed layout, lossless decomposition, planner and mixed-ratio pruning (accel.tools.sparsity), and the
sparse array's model against the dense array's on decompressed weights."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accel.model import pe_array as dense
from accel.model import sparse as model
from accel.tools import sparsity as sp

PATTERNS = [(1, 2), (2, 4), (1, 4), (2, 8), (4, 8), (4, 16), (3, 5)]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def unstructured(rng: np.random.Generator, k: int, n: int, density: float, bf16: bool) -> np.ndarray:
    if bf16:
        w = (rng.standard_normal((k, n)).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
        w[rng.random((k, n)) >= density] = rng.choice([0x0000, 0x8000])
    else:
        w = rng.integers(-128, 128, (k, n)).astype(np.int8)
        w[rng.random((k, n)) >= density] = 0
    return w


def test_parse_pattern() -> None:
    assert sp.parse_pattern(" 2:4") == (2, 4)
    for bad in ("4:4", "0:4", "2-4", "x:y", "2:17"):
        with pytest.raises(ValueError, match="pattern"):
            sp.parse_pattern(bad)
    assert [sp.index_bits(m) for m in (2, 3, 4, 5, 8, 9, 16)] == [1, 2, 2, 3, 3, 4, 4]


def test_packed_layout_is_little_endian_bit_string() -> None:
    index = np.array([[1, 2, 3, 0, 5]], np.uint8)  # m = 8: 3 bits each -> 15 bits, 2 bytes
    packed = sp.pack_index(index, 8)
    bits = 1 | 2 << 3 | 3 << 6 | 0 << 9 | 5 << 12
    assert packed.tolist() == [[bits & 0xFF, bits >> 8]]
    assert (sp.unpack_index(packed, 5, 8) == index).all()


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), pattern=st.sampled_from(PATTERNS), k=st.integers(1, 40),
       n=st.integers(1, 9), density=st.floats(0, 1), bf16=st.booleans())
def test_decomposition_sums_back_exactly(seed: int, pattern, k: int, n: int, density: float, bf16: bool) -> None:
    rng = np.random.default_rng(seed)
    w = unstructured(rng, k, n, density, bf16)
    nn, m = pattern
    parts = sp.decompose(w, nn, m)
    counts = sp.group_counts(w, m)
    assert len(parts) == -(-int(counts.max(initial=0)) // nn)
    total = np.zeros(w.shape, np.int64)
    for part in parts:
        assert sp.group_counts(part.dense(), m).max() <= nn
        assert (sp.unpack_index(part.packed_index(), n, m) == part.index).all()
        d = part.dense()
        assert not (~sp.is_zero(d) & (total != 0)).any(), "supports overlap"
        total += d.astype(np.int64) if not bf16 else d.astype(np.int64) * ~sp.is_zero(d)
    want = w.astype(np.int64) * ~sp.is_zero(w)
    assert (total == want).all()


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), pattern=st.sampled_from(PATTERNS), groups=st.integers(1, 8),
       n=st.integers(1, 6), mv=st.integers(1, 6), density=st.floats(0, 1))
def test_decomposed_set_through_sparse_array_equals_dense_int8(seed, pattern, groups, n, mv, density) -> None:
    """Running every matrix of the decomposition (accumulating in PSUM) equals the dense matmul, int8 exactly."""
    rng = np.random.default_rng(seed)
    nn, m = pattern
    k = groups * m
    w = unstructured(rng, k, n, density, False)
    x = rng.integers(-128, 128, (k, mv)).astype(np.int8)
    ops = []
    for i, part in enumerate(sp.decompose(w, nn, m)):
        ops += [model.LoadSparse(part.values, part.index, nn, m), model.MatmulSparse(x, 0, acc=i > 0)]
    psum = np.zeros((n, mv), np.int32)
    got = model.run_ops(ops, groups * nn, n, psum).psum
    assert (got == dense.matmul_int8(w, x)).all()


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), pattern=st.sampled_from(PATTERNS), groups=st.integers(1, 6),
       n=st.integers(1, 5), mv=st.integers(1, 5))
def test_sparse_bf16_equals_dense_on_decompressed_weights(seed, pattern, groups, n, mv) -> None:
    """With finite moving data the sparse row-order sum equals the dense array's bit for bit."""
    rng = np.random.default_rng(seed)
    nn, m = pattern
    w = unstructured(rng, groups * m, n, 1.0, True)
    w = sp.decompose(w, nn, m)[0].dense()
    x = (rng.standard_normal((groups * m, mv)).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    s = sp.compress(w, nn, m)
    assert (model.matmul_sparse(s.values, s.index, x, nn, m) == dense.matmul_bf16(w, x)).all()


def test_compress_rejects_too_dense_groups() -> None:
    w = np.array([[1], [2], [3], [0]], np.int8)
    with pytest.raises(ValueError, match="3 nonzeros, more than 2"):
        sp.compress(w, 2, 4)
    assert sp.compress(w, 3, 4).values.ravel().tolist() == [1, 2, 3]


def test_planner_picks_sparse_only_when_cheaper() -> None:
    rng = np.random.default_rng(1)
    w = unstructured(rng, 512, 256, 1.0, False)
    pruned = sp.decompose(w, 1, 4)[0].dense()  # exactly 1:4
    p = sp.plan(pruned, 1, 4, m_vectors=512)
    assert p.choice == "sparse" and p.matrices == 1 and p.speedup > 3
    p = sp.plan(w, 2, 4, m_vectors=512)  # dense: needs 2 matrices of 2:4, no gain
    assert p.choice == "dense" and p.matrices == 2
    two = sp.decompose(w, 1, 4)[0].dense() + sp.decompose(w, 1, 4)[1].dense()
    p = sp.plan(two, 1, 4, m_vectors=512)  # 2 nonzeros per group: two 1:4 passes, still half the dense cost
    assert p.choice == "sparse" and p.matrices == 2
    assert sp.plan(np.zeros((64, 8), np.int8), 2, 4, 16).sparse_cycles == 0


def test_prune_mixed_reaches_target_and_respects_budget() -> None:
    rng = np.random.default_rng(2)
    w = rng.standard_normal((64, 40)) * rng.uniform(0.1, 2, 40)
    r = sp.prune_mixed(w, [(2, 4), (1, 4)], target=0.6)
    assert r.reached and r.sparsity >= 0.6 and sum(r.counts.values()) == 40
    assert 0 < r.counts["1:4"] < 40
    for j, (n, m) in enumerate(r.patterns):
        cols = r.assignment == j
        assert sp.group_counts(r.pruned[:, cols], m).max(initial=0) <= n
    loose = sp.prune_mixed(w, [(2, 4), (1, 4)], max_error=0.9)
    tight = sp.prune_mixed(w, [(2, 4), (1, 4)], max_error=r.error)
    assert loose.sparsity == 0.75 and tight.error <= r.error and tight.sparsity >= r.sparsity
    unreachable = sp.prune_mixed(w, [(2, 4), (4, 8)], target=0.6)
    assert not unreachable.reached and unreachable.sparsity == 0.5
    arrays = sp.compress_pruned(r)
    cols = arrays["p1_4_columns"]
    idx = sp.unpack_index(arrays["p1_4_index"].view(np.uint8), cols.size, 4)
    got = sp.decompress(arrays["p1_4_values"], idx, 1, 4)
    from accel.model import fp

    want = fp.fp32_to_bf16(fp.f32_bits(r.pruned[:, cols].astype(np.float32)))
    assert (got[:64] == want).all()


def prune_column_reference(col: np.ndarray, n: int, m: int) -> np.ndarray:
    """The n largest magnitudes of every group of m, one column at a time: a stable sort by falling
    magnitude (NaN last), earlier rows first among equals."""
    padded = np.zeros(-(-col.size // m) * m)
    padded[:col.size] = col
    blocks = padded.reshape(-1, m)
    order = np.argsort(-np.abs(blocks), axis=1, kind="stable")[:, :n]
    out = np.zeros_like(blocks)
    np.put_along_axis(out, order, np.take_along_axis(blocks, order, axis=1), axis=1)
    return out.reshape(-1)[:col.size]


def prune_mixed_reference(w: np.ndarray, patterns, target=None, max_error=None):
    """prune_mixed's definition as a loop over columns and thresholds: (pruned, assignment,
    threshold, sparsity, error)."""
    levels = sorted(set(patterns), key=lambda p: (p[0] / p[1], p[1]))
    cols = w.shape[1]
    cand = np.stack([np.stack([prune_column_reference(w[:, c], n, m) for c in range(cols)], axis=1)
                     for n, m in levels])
    cost, kept, sq = np.abs(w - cand).sum(axis=1), (cand != 0).sum(axis=1), ((w - cand) ** 2).sum(axis=1)
    norm = float(np.sqrt((w ** 2).sum())) or 1.0

    def assign(t):
        ok = cost <= t
        return np.where(ok.any(axis=0), ok.argmax(axis=0), len(levels) - 1)

    ts = np.concatenate([[-np.inf], np.unique(cost)])
    res = [(1.0 - kept[a, np.arange(cols)].sum() / w.size, float(np.sqrt(sq[a, np.arange(cols)].sum())) / norm)
           for a in (assign(t) for t in ts)]
    spars, errs = np.array([r[0] for r in res]), np.array([r[1] for r in res])
    ok = np.ones(len(ts), bool) if max_error is None else errs <= max_error + 1e-12
    ok[0] |= not ok.any()
    hit = ok & (spars >= (target if target is not None else 2) - 1e-12)
    i = (int(np.argmax(hit)) if hit.any() else int(np.flatnonzero(ok)[np.argmax(spars[ok])])) if target is not None \
        else int(np.flatnonzero(ok)[-1])
    a = assign(ts[i])
    return cand[a, :, np.arange(cols)].T, a, float(ts[i]), *res[i]


def test_vectorized_pruning_equals_the_per_column_definition() -> None:
    """prune_columns (all columns at once) and prune_mixed (every threshold at once) give the bits
    of the per-column, per-threshold loops on random matrices: Gaussian, small integers (ties and
    zeros), equal columns (equal costs), with a target, an error budget, both, an unreachable
    target; and prune_columns on NaN, +-inf and +-0."""
    rng = np.random.default_rng(11)
    pattern_sets = [[(2, 4), (4, 8)], [(2, 4), (1, 4)], [(1, 2)], [(1, 4), (2, 8), (4, 16)], [(3, 8), (1, 3)]]
    for trial in range(40):
        k, c = int(rng.integers(1, 70)), int(rng.integers(1, 40))
        w = [rng.standard_normal((k, c)) * rng.uniform(0.1, 2, c), rng.integers(-3, 4, (k, c)).astype(np.float64),
             np.repeat(rng.standard_normal((k, 1)), c, axis=1)][trial % 3]
        pats = pattern_sets[trial % len(pattern_sets)]
        for target, max_error in ((0.5, None), (0.6, None), (None, 0.3), (0.7, 0.4), (0.99, None)):
            got = sp.prune_mixed(w, pats, target=target, max_error=max_error)
            want = prune_mixed_reference(w, pats, target, max_error)
            assert np.ascontiguousarray(got.pruned).tobytes() == np.ascontiguousarray(want[0]).tobytes()
            assert np.array_equal(got.assignment, want[1])
            assert [np.float64(v).tobytes() for v in (got.threshold, got.sparsity, got.error)] == \
                [np.float64(v).tobytes() for v in want[2:]]
    specials = np.array([0.0, -0.0, 1.0, -1.0, 2.0, np.nan, np.inf, -np.inf, 0.5, -0.5])
    for n, m in ((1, 2), (2, 4), (4, 8), (3, 8), (4, 16), (7, 16), (2, 3)):
        w = rng.choice(specials, (int(rng.integers(1, 50)), 6))
        want = np.stack([prune_column_reference(w[:, j], n, m) for j in range(6)], axis=1)
        assert np.ascontiguousarray(sp.prune_columns(w, n, m)).tobytes() == want.tobytes()


def test_cli_sparsify(tmp_path, capsys) -> None:
    from accel.cli import main

    rng = np.random.default_rng(3)
    np.save(tmp_path / "w.npy", rng.standard_normal((32, 24)) * rng.uniform(0.1, 2, 24))
    out = tmp_path / "out.npz"
    assert main(["sparsify", str(tmp_path / "w.npy"), "--patterns", "1:4,2:4", "--target", "0.6", "-o", str(out),
                 "--report"]) == 0
    text = capsys.readouterr().out
    assert "sparsity 0.6" in text and "1:4:" in text and "relative error" in text
    with np.load(out) as z:
        assert {"pruned", "assignment", "p1_4_values", "p1_4_index", "p1_4_columns"} <= set(z.files)
    assert main(["sparsify", str(tmp_path / "missing.npy"), "-o", str(out)]) == 1
    assert main(["sparsify", str(tmp_path / "w.npy"), "--patterns", "4:4", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("accel: error:") == 2


@pytest.mark.parametrize("pattern,density,k,ncols", [((2, 4), 0.5, 256, 40), ((1, 4), 0.25, 512, 200),
                                                     ((4, 16), 0.1, 96, 8)])
def test_generated_program_runs_on_the_emulator(pattern, density, k: int, ncols: int) -> None:
    """The planner's program (sparse set or dense) computes the dense int8 GEMM exactly in the cycles it planned."""
    import accel

    rng = np.random.default_rng(4)
    n, m = pattern
    w = unstructured(rng, k, ncols, density, False)
    x = rng.integers(-128, 128, (k, 24)).astype(np.int8)
    for force in ("sparse", "dense"):
        text, inputs, p = sp.gemm_program(w, n, m, 24, force=force)
        result = accel.Core().run(text, {"x": x, **inputs})
        assert (result.outputs["out"] == dense.matmul_int8(w, x)).all()
        assert result.stats.pe_cycles == (p.sparse_cycles if force == "sparse" else p.dense_cycles)


def test_sparse_instruction_errors_are_readable() -> None:
    import accel
    from accel.machine import MachineError

    head = ".tensor v int8[4, 4] in\n.tensor i int8[4, 1] in\n"
    load = ("    dma.load sb[0:4, 0]:int8[4], v\n    dma.load sb[0:4, 64]:int8[1], i\n"
            "    sem.signal dma, s0\n    sem.wait pe, s0\n")
    ins = {"v": np.ones((4, 4), np.int8), "i": np.zeros((4, 1), np.int8)}
    cases = {
        "pe.matmul_sparse psum[0:4, 0]:int32[2], sb[0:8, 128]:int8[2]": "no sparse weights loaded",
        "pe.load_sparse sb[0:4, 0]:int8[4], sb[0:4, 64]:int8[1], 3, 4": "not whole groups",
        "pe.load_sparse sb[0:4, 0]:int8[4], sb[0:4, 64]:int8[2], 2, 4": "index must be [4 x 1] bytes",
        "pe.load_sparse sb[0:4, 0]:int8[4], sb[0:4, 64]:int8[1], 2, 4\n"
        "    pe.matmul_sparse psum[0:4, 0]:int32[2], sb[0:4, 128]:int8[2]": "not J blocks",
        "pe.load_sparse sb[0:4, 0]:int8[4], sb[0:4, 64]:int8[1], 2, 4\n"
        "    pe.matmul psum[0:4, 0]:int32[2], sb[0:8, 128]:int8[2]": "no weights loaded",
    }
    for text, msg in cases.items():
        with pytest.raises(MachineError, match=re.escape(msg)):
            accel.Core().run(head + load + "    " + text + "\n", ins)
