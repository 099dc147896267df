"""The instruction database (accel/compiler/cache.py): a warm compile (the whole-model entry) equals
a cold one and one without the database (listing, binaries, constants, bindings, placements, graph,
run outputs), so does one through the node and segment entries alone; a model with one weight
changed misses the whole-model entry, gets its own constants and values, and still finds every node
and the segment; repeated blocks hit within one compile, two processes compile into one database at
once, a version change invalidates, a hash collision never shares anything, an entry whose emit
stream differs is not used, a deleted blob is a miss, the CLI."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from accel.cli import main
from accel.compiler import cache as cache_mod
from accel.compiler import compile_model, zoo
from accel.compiler.cache import InstructionCache

ROOT = Path(__file__).resolve().parents[2]


def blocks(n: int = 6, c: int = 32, hw: int = 8, seed: int = 0) -> onnx.ModelProto:
    """n repeated residual blocks (Conv 3x3 + Relu, Conv 1x1, Add) with distinct random weights, then
    a Gemm: the shape of a ResNet stage."""
    rng = np.random.default_rng(seed)
    inits, nodes, x = [], [], "x"

    def w(name: str, *shape: int) -> str:
        inits.append(numpy_helper.from_array((rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:])))
                                             .astype(np.float32), name))
        return name

    for k in range(n):
        nodes += [helper.make_node("Conv", [x, w(f"w{k}a", c, c, 3, 3), w(f"b{k}a", c)], [f"c{k}"], f"conv{k}a",
                                   pads=[1, 1, 1, 1]),
                  helper.make_node("Relu", [f"c{k}"], [f"r{k}"], f"relu{k}"),
                  helper.make_node("Conv", [f"r{k}", w(f"w{k}b", c, c, 1, 1)], [f"d{k}"], f"conv{k}b"),
                  helper.make_node("Add", [x, f"d{k}"], [f"y{k}"], f"add{k}")]
        x = f"y{k}"
    nodes += [helper.make_node("Flatten", [x], ["f"], "flat"),
              helper.make_node("Gemm", ["f", w("fc", c * hw * hw, 10)], ["out"], "fc")]
    g = helper.make_graph(nodes, "blocks", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, hw, hw])],
                          [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 10])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def arrays_equal(a, b) -> bool:
    """Equal dtype, shape and bits (None equals None)."""
    if a is None or b is None:
        return a is None and b is None
    return a.dtype == b.dtype and a.shape == b.shape and np.ascontiguousarray(a).tobytes() == \
        np.ascontiguousarray(b).tobytes()


def same(a, b) -> None:
    """Two compiles give the same programs, listing, constants, bindings, placements and graph."""
    assert a.listing == b.listing
    assert a.options == b.options and a.config == b.config
    assert a.placement_report() == b.placement_report()
    for p, q in zip(a.placements, b.placements, strict=True):
        assert arrays_equal(p.weights, q.weights) and arrays_equal(p.bias, q.bias)
    ga, gb = a.graph, b.graph
    assert (ga.inputs, ga.outputs, ga.opset, ga.name) == (gb.inputs, gb.outputs, gb.opset, gb.name)
    assert [(n.name, n.op, n.inputs, n.outputs, n.domain) for n in ga.nodes] == \
        [(n.name, n.op, n.inputs, n.outputs, n.domain) for n in gb.nodes]
    assert ga.values.keys() == gb.values.keys()
    for k, v in ga.values.items():
        w = gb.values[k]
        assert (v.shape, v.dtype) == (w.shape, w.dtype) and arrays_equal(v.data, w.data), k
    assert [s.kind for s in a.steps] == [s.kind for s in b.steps]
    assert [(s.nodes, s.reorder) for s in a.steps] == [(s.nodes, s.reorder) for s in b.steps]
    cores = [(s, t) for s, t in zip(a.steps, b.steps, strict=True) if s.kind == "core"]
    assert cores
    for s, t in cores:
        assert s.program.to_bytes() == t.program.to_bytes()
        assert s.node_of == t.node_of
        sa, sb = s.segment, t.segment
        assert (sa.feeds, sa.results, sa.aliases, sa.dram) == (sb.feeds, sb.results, sb.aliases, sb.dram)
        assert sa.consts.keys() == sb.consts.keys()
        for k in sa.consts:
            assert np.array_equal(sa.consts[k], sb.consts[k]) and sa.consts[k].dtype == sb.consts[k].dtype
        assert sa.builder.semaphores_used == sb.builder.semaphores_used
        assert (sa.builder.sbuf.peak, sa.builder.psum.peak) == (sb.builder.sbuf.peak, sb.builder.psum.peak)


@pytest.fixture(scope="module")
def models():
    return {"blocks": blocks(), "transformer": zoo.transformer_layer(seq=16, d_model=64, heads=2, ffn=128)}


@pytest.fixture(scope="module")
def plain(models):
    return {k: compile_model(m) for k, m in models.items()}


def drop(folder: Path, *tables: str) -> None:
    """Delete every entry of these tables (to reach the node or segment entries under a model entry)."""
    db = sqlite3.connect(folder / cache_mod.DB_NAME)
    for t in tables:
        db.execute(f"DELETE FROM {t}")
    db.commit()
    db.close()


def core_nodes(cm) -> int:
    return sum(p.where == "core" for p in cm.placements)


@pytest.mark.parametrize("name", ["blocks", "transformer"])
def test_warm_equals_cold_and_uncached(tmp_path, models, plain, name, monkeypatch):
    cold = compile_model(models[name], cache=tmp_path)
    assert cold.cache_stats["model"] == "stored" and cold.cache_stats["segment_misses"] >= 1
    from accel.compiler import model as model_mod

    def boom(*_a, **_k):
        raise AssertionError("a whole-model hit imported, lowered, reordered or assembled")

    with monkeypatch.context() as mp:  # a hit does none of the work
        for name_ in ("import_onnx", "assemble"):
            mp.setattr(model_mod, name_, boom)
        mp.setattr(model_mod.planning, "place", boom)
        mp.setattr(model_mod.reorder, "improve", boom)
        warm = compile_model(models[name], cache=tmp_path)
    same(cold, plain[name])
    same(warm, plain[name])
    assert warm.cache_stats["model"] == "hit" and warm.cache_stats["broken"] == 0
    assert warm.cache_stats["hits"] == core_nodes(warm) and warm.cache_stats["misses"] == 0
    assert cold.cache_stats["misses"] >= 1 and cold.cache_stats["uncacheable"] == 0
    # below the model entry: every node and the segments from their own entries
    drop(tmp_path, "models")
    with monkeypatch.context() as mp:
        mp.setattr(model_mod.reorder, "improve", boom)
        mp.setattr(model_mod, "assemble", boom)
        nodes = compile_model(models[name], cache=tmp_path)
    same(nodes, plain[name])
    st = nodes.cache_stats
    assert st["model"] == "stored" and st["hits"] == core_nodes(nodes) and st["misses"] == 0
    assert st["segment_hits"] == sum(s.kind == "core" for s in nodes.steps) and st["segment_misses"] == 0


def test_warm_run_gives_the_same_values(tmp_path, models):
    m = models["blocks"]
    x = {"x": np.random.default_rng(1).standard_normal((1, 32, 8, 8)).astype(np.float32)}
    ref = compile_model(m).run(x, timing=False).outputs["out"]
    compile_model(m, cache=tmp_path)
    warm = compile_model(m, cache=tmp_path)
    assert warm.cache_stats["model"] == "hit"
    assert np.array_equal(warm.run(x, timing=False).outputs["out"].view(np.uint32), ref.view(np.uint32))
    timed = warm.run(x)
    assert np.array_equal(timed.outputs["out"].view(np.uint32), ref.view(np.uint32))
    assert timed.total_cycles == compile_model(m).run(x).total_cycles


@pytest.mark.parametrize("weight", ["w2a", "fc"], ids=["small-hashed", "large-compared"])
@pytest.mark.parametrize("digest", [None, lambda s: "0"], ids=["sha256", "colliding"])
def test_one_weight_changed_misses_the_model_and_finds_its_nodes(tmp_path, models, plain, digest, weight):
    """One weight of one layer changed (a conv's, below cache.WEIGHT_BLOB bytes: in the identifier by
    its SHA-256; the Gemm's, above: compared byte for byte with the entry's copy): not the whole-model
    entry (another program's constants and other values), but every node and the segment (the
    instructions do not depend on weight values)."""
    m = models["blocks"]
    size = {t.name: len(t.raw_data) for t in m.graph.initializer}[weight]
    assert (size >= cache_mod.WEIGHT_BLOB) == (weight == "fc")
    other = zoo.with_weight_changed(m, weight)
    db = InstructionCache(tmp_path, digest=digest)
    compile_model(m, cache=db)
    got = compile_model(other, cache=db)
    st = got.cache_stats
    assert st["model"] == "stored" and st["graph"] == "stored", st  # neither the compile nor the import
    assert st["hits"] == core_nodes(got) and st["misses"] == 0 and st["segment_hits"] == 1
    fresh = compile_model(other)
    same(got, fresh)
    seg, orig = got.steps[0].segment, plain["blocks"].steps[0].segment
    assert [k for k in seg.consts if not arrays_equal(seg.consts[k], orig.consts[k])]  # the changed layer's
    x = {"x": np.random.default_rng(2).standard_normal((1, 32, 8, 8)).astype(np.float32)}
    y = got.run(x, timing=False).outputs["out"]
    assert np.array_equal(y.view(np.uint32), fresh.run(x, timing=False).outputs["out"].view(np.uint32))
    assert not np.array_equal(y, plain["blocks"].run(x, timing=False).outputs["out"])
    # both are stored now, and each finds its own
    for model, ref in ((m, plain["blocks"]), (other, fresh)):
        again = compile_model(model, cache=InstructionCache(tmp_path, digest=digest))
        assert again.cache_stats["model"] == "hit"
        same(again, ref)


def test_other_options_reuse_the_import(tmp_path, models, monkeypatch):
    """The same model under other Options (or another CoreConfig) misses the whole-model entry but
    takes its import (shape inference, constant folding) from the graph entry."""
    from accel.compiler import model as model_mod
    from accel.compiler.plan import Options

    m, opts = models["transformer"], Options(reorder=False)
    compile_model(m, cache=tmp_path)

    def boom(*_a, **_k):
        raise AssertionError("imported again")

    with monkeypatch.context() as mp:
        mp.setattr(model_mod, "import_onnx", boom)
        got = compile_model(m, cache=tmp_path, options=opts)
    st = got.cache_stats
    assert st["model"] == "stored" and st["graph"] == "hit" and st["misses"] == 0
    same(got, compile_model(m, options=opts))
    other = zoo.with_weight_changed(m, "ffn.in.weight")  # other weights: not this import
    got = compile_model(other, cache=tmp_path, options=opts)
    assert got.cache_stats["graph"] == "stored"
    same(got, compile_model(other, options=opts))


def test_a_table_of_an_older_layout_is_replaced(tmp_path, models, plain):
    db = sqlite3.connect(tmp_path / cache_mod.DB_NAME)
    db.execute("CREATE TABLE models (key TEXT, ident BLOB, payload BLOB)")
    db.execute("INSERT INTO models VALUES ('k', x'00', x'00')")
    db.commit()
    db.close()
    for k in range(2):
        cm = compile_model(models["blocks"], cache=tmp_path)
        assert cm.cache_stats["model"] == ("hit" if k else "stored")
        same(cm, plain["blocks"])


def test_weights_in_an_external_file_are_not_stored_whole(tmp_path, models, plain, monkeypatch):
    """A ModelProto whose initializers are still in an external file: the file is not in the
    identifier, so no whole-model entry (the nodes and the segment are found as usual)."""
    copy = onnx.ModelProto()
    copy.CopyFrom(models["blocks"])  # saving with external data changes the proto it saves
    onnx.save(copy, str(tmp_path / "m.onnx"), save_as_external_data=True, location="m.data", size_threshold=0)
    monkeypatch.chdir(tmp_path)  # numpy_helper.to_array reads the file relative to the working folder
    m = onnx.load(str(tmp_path / "m.onnx"), load_external_data=False)
    assert any(t.data_location == onnx.TensorProto.EXTERNAL for t in m.graph.initializer)
    for k in range(2):
        cm = compile_model(m, cache=tmp_path / "db")
        assert cm.cache_stats["model"].startswith("not used") and cm.cache_stats["segment_hits"] == k
        same(cm, plain["blocks"])
    assert sqlite3.connect(tmp_path / "db" / cache_mod.DB_NAME).execute("SELECT count(*) FROM models").fetchone() \
        == (0,)


def test_a_deleted_blob_is_a_miss(tmp_path, models, plain):
    """A blob deleted under an entry: the compile runs as without it (and stores the blob again)."""
    compile_model(models["blocks"], cache=tmp_path)
    blobs = sorted((tmp_path / cache_mod.BLOB_DIR).glob("*.npy"))
    assert blobs
    blobs[0].unlink()
    again = compile_model(models["blocks"], cache=tmp_path)
    assert again.cache_stats["broken"] >= 1 and again.cache_stats["model"] == "stored"  # the blob written again
    same(again, plain["blocks"])
    third = compile_model(models["blocks"], cache=tmp_path)
    assert third.cache_stats["model"] == "hit" and third.cache_stats["broken"] == 0
    same(third, plain["blocks"])


def test_repeated_blocks_hit_within_one_compile(tmp_path, models):
    cold = compile_model(models["blocks"], cache=tmp_path)
    # later blocks repeat earlier ones with other weights: where the builder's state and the SBUF
    # offsets recur, their nodes are found (9 of 20 nodes with today's allocator)
    assert cold.cache_stats["hits"] >= 3, cold.cache_stats
    again = InstructionCache(tmp_path / "again")
    compile_model(models["blocks"], cache=again)
    found = {op for op, hits in again.db.execute("SELECT op, hits FROM nodes") if hits}
    assert found and found <= {"Conv", "Add"}


def test_version_change_invalidates(tmp_path, models, plain, monkeypatch):
    compile_model(models["blocks"], cache=tmp_path)
    monkeypatch.setattr(cache_mod, "_version", "another-version")
    other = compile_model(models["blocks"], cache=tmp_path)
    assert other.cache_stats["model"] == "stored" and other.cache_stats["segment_hits"] == 0
    assert other.cache_stats["hits"] == compile_model(models["blocks"], cache=tmp_path / "fresh").cache_stats["hits"]
    same(other, plain["blocks"])
    s = InstructionCache(tmp_path).summary()
    assert s["version"] == "another-version" and 0 < s["current_version"] < s["entries"]


def test_collision_never_shares_instructions(tmp_path, models, plain):
    """Every identifier (node, segment, whole model) hashes to the same key: the stored identifier
    is compared in full."""
    for k in range(2):
        for name in ("blocks", "transformer"):
            db = InstructionCache(tmp_path, digest=lambda s: "0")
            cm = compile_model(models[name], cache=db)
            same(cm, plain[name])
            assert cm.cache_stats["model"] == ("hit" if k else "stored")
    db = sqlite3.connect(tmp_path / cache_mod.DB_NAME)
    for table in ("nodes", "segments", "models"):
        assert {k for (k,) in db.execute(f"SELECT key FROM {table}")} == {"0"}
    assert db.execute("SELECT count(*) FROM models").fetchone() == (2,)


def test_an_entry_whose_emit_stream_differs_is_not_used(tmp_path, models, plain):
    """Give every entry the identifier of another node with another emit stream: a lookup finds the
    entry, the shadow lowering's stream differs, and the node is lowered afresh."""
    compile_model(models["blocks"], cache=tmp_path)
    drop(tmp_path, "models", "segments")
    db = sqlite3.connect(tmp_path / cache_mod.DB_NAME)
    rows = db.execute("SELECT key, ident, stream FROM nodes ORDER BY rowid").fetchall()
    streams = [r[2] for r in rows]
    for (key, ident, stream), other in zip(rows, streams[1:] + streams[:1], strict=True):
        db.execute("UPDATE nodes SET stream = ? WHERE key = ? AND ident = ? AND stream = ?",
                   (other + "|tampered", key, ident, stream))
    db.commit()
    db.close()
    again = compile_model(models["blocks"], cache=tmp_path)
    same(again, plain["blocks"])
    assert again.cache_stats["mismatches"] >= 1


def test_two_processes_compile_at_once(tmp_path, models, plain):
    path = tmp_path / "m.onnx"
    onnx.save(models["transformer"], str(path))
    script = ("import sys; from accel.compiler import compile_model; "
              "m = compile_model(sys.argv[1], cache=sys.argv[2]); print(len(m.listing))")
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path), str(tmp_path / "db")], cwd=ROOT,
                              env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert int(outs[0][0]) == int(outs[1][0]) == len(plain["transformer"].listing)
    db = sqlite3.connect(tmp_path / "db" / cache_mod.DB_NAME)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    warm = compile_model(models["transformer"], cache=tmp_path / "db")
    same(warm, plain["transformer"])
    assert warm.cache_stats["misses"] == 0


def test_cli(tmp_path, models, capsys):
    path = tmp_path / "m.onnx"
    onnx.save(models["transformer"], str(path))
    db = str(tmp_path / "db")
    listings = []
    for k in range(2):
        assert main(["compile", str(path), "--cache-dir", db, "--listing", str(tmp_path / f"{k}.s"),
                     "-o", str(tmp_path / f"{k}.bin")]) == 0
        listings.append(capsys.readouterr().out)
    assert "0 of 22 nodes found" not in listings[1]
    assert "22 of 22 nodes found (100%), the whole model found" in listings[1]
    assert (tmp_path / "0.s").read_text() == (tmp_path / "1.s").read_text()
    assert (tmp_path / "0.bin").read_bytes() == (tmp_path / "1.bin").read_bytes()
    assert main(["compile", str(path), "--no-cache", "--cache-dir", str(tmp_path / "none")]) == 0
    assert "instruction database" not in capsys.readouterr().out and not (tmp_path / "none").exists()
    assert main(["cache", "stats", "--cache-dir", db, "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["kinds"]["model"] == {"entries": 1, "current_version": 1, "hits": 1}
    assert stats["kinds"]["segment"]["entries"] == 1 and stats["kinds"]["node"]["entries"] >= 1
    assert stats["kinds"]["graph"] == {"entries": 1, "current_version": 1, "hits": 0}
    assert stats["entries"] == sum(stats["kinds"][k]["entries"] for k in ("node", "segment", "graph", "model"))
    assert stats["bytes"] == stats["database_bytes"] + stats["blob_bytes"] > 0
    assert main(["cache", "stats", "--cache-dir", db]) == 0
    assert "model 1" in capsys.readouterr().out
    assert main(["cache", "list", "--cache-dir", db]) == 0
    text = capsys.readouterr().out
    assert "MatMul" in text and "segment 0" in text and "\nmodel " in text
    assert main(["cache", "clear", "--cache-dir", db]) == 0
    assert f"{stats['entries']} entries deleted" in capsys.readouterr().out
    assert not list((Path(db) / cache_mod.BLOB_DIR).glob("*.npy"))
    assert main(["cache", "stats", "--cache-dir", str(tmp_path / "m.onnx" / "x")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot open the instruction database" in err


def test_prune_keeps_the_folder_under_its_limit(tmp_path, models, plain, monkeypatch):
    """Over its limit the folder loses entries of another version first, then the least recently
    used model, graph and segment entries with the blobs only they name; a pruned model compiles
    afresh, exactly; unnamed blobs go once old; a compile under a tiny limit leaves no blob."""
    db = InstructionCache(tmp_path)
    compile_model(models["blocks"], cache=db)
    monkeypatch.setattr(cache_mod, "_version", "another-version")
    compile_model(models["blocks"], cache=db)
    compile_model(models["transformer"], cache=db)
    assert db.summary()["current_version"] < db.summary()["entries"]
    full = db._bytes()
    out = db.prune(full - 1)
    assert out["bytes_before"] == full and out["entries"] >= 1 and out["bytes_after"] <= full - 1
    s = db.summary()
    assert s["current_version"] == s["entries"]  # the other version's entries went first
    assert db.prune(db._bytes())["entries"] == 0  # under the limit: nothing more

    def rows() -> list:
        return db.db.execute("SELECT * FROM (SELECT 'models', name, coalesce(used, created) FROM models UNION ALL "
                             "SELECT 'graphs', name, coalesce(used, created) FROM graphs UNION ALL SELECT "
                             "'segments', name, coalesce(used, created) FROM segments) ORDER BY 3").fetchall()

    blobs = 0
    while ("models", "blocks") in [r[:2] for r in rows()]:  # the blocks' entries are the least recently used
        order = rows()
        out = db.prune(db._bytes() - 1)
        assert out["entries"] >= 1 and rows() == order[out["entries"]:]
        blobs += out["blobs"]
    assert blobs >= 1 and ("models", "transformer_layer") in [r[:2] for r in rows()]
    assert compile_model(models["transformer"], cache=db).cache_stats["model"] == "hit"
    again = compile_model(models["blocks"], cache=db)
    assert again.cache_stats["model"] == "stored" and again.cache_stats["broken"] == 0
    same(again, plain["blocks"])
    old, young = (tmp_path / cache_mod.BLOB_DIR / f"{n}.npy" for n in ("old", "young"))
    old.write_bytes(b"x" * 100)
    young.write_bytes(b"x" * 100)
    os.utime(old, (time.time() - cache_mod.KEEP_SECONDS - 1,) * 2)
    db.prune()
    assert not old.exists() and young.exists()
    tiny = InstructionCache(tmp_path / "tiny", limit=1)
    cm = compile_model(models["blocks"], cache=tiny)
    same(cm, plain["blocks"])
    assert tiny.summary()["blobs"] == 0 and tiny.summary()["kinds"]["model"]["entries"] == 0


def test_cli_prune(tmp_path, models, capsys, monkeypatch):
    db = tmp_path / "db"
    compile_model(models["blocks"], cache=db)
    assert main(["cache", "prune", "--cache-dir", str(db), "--max-size", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["entries"] >= 3 and out["blobs"] >= 1 and out["bytes_after"] < out["bytes_before"]
    assert cache_mod.parse_size("1.5K") == 1536 and cache_mod.parse_size("2G") == 2 << 30
    monkeypatch.setenv("ACCEL_CACHE_MAX_SIZE", "lots")
    assert main(["cache", "stats", "--cache-dir", str(db)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "$ACCEL_CACHE_MAX_SIZE" in err
