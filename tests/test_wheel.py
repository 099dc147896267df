"""A plain `pip install` gives a working package (issue 11, part 2).

Builds the sdist from a copy of this working tree, the wheel from the unpacked sdist (so both
must carry isa/, rtl/ and sim/), installs the wheel into a fresh venv and runs the installed
`accel` from a folder outside the checkout: the demo, a program using act.func (the function
tables come from the wheel), `accel isa` and `accel verify fp --sim icarus`. The venv sees the
system site-packages (numpy, numba, cocotb are not reinstalled), never the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

import accel
from accel.isa import resources
from accel.tb.runner import simulator_available

pytestmark = pytest.mark.slow
CHECKOUT = Path(__file__).resolve().parents[1]
# Folders of a working tree that are no part of a source tree (caches, builds, VCS).
NOT_SOURCE = shutil.ignore_patterns(".git", ".sim_cache", "build", "dist", "*.egg-info", "__pycache__",
                                    ".pytest_cache", ".ruff_cache", ".hypothesis", "_data", "sim_build", "*.vcd")
ACT_PROGRAM = """\
.tensor x fp32[4, 16] in
.tensor y fp32[4, 16] out
.tensor z bf16[4, 16] out
    dma.load sb[0:4, 0]:fp32[16], x
    sem.signal dma, s0
    sem.wait act, s0
    act.func sb[8:12, 0]:fp32[16], sb[0:4, 0]:fp32[16], fn=0, scale=1.0, bias=0.0
    act.func sb[8:12, 128]:bf16[16], sb[0:4, 0]:fp32[16], fn=2, scale=-2.5, bias=0.125
    sem.signal act, s1
    sem.wait dma, s1
    dma.store y, sb[8:12, 0]:fp32[16]
    dma.store z, sb[8:12, 128]:bf16[16]
    halt
"""


def require(ok: bool, what: str) -> None:
    """Skip when a tool is missing; fail instead under CI=true (as tests/rtl/conftest.py does)."""
    if not ok:
        if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
            pytest.fail(f"required under CI=true: {what}")
        pytest.skip(what)


class Installed:
    """A venv with accel installed, and a work folder outside the checkout to run it in."""

    def __init__(self, root: Path, name: str) -> None:
        self.venv = root / f"venv-{name}"
        self.work = root / f"work-{name}"
        self.cache = root / f"cache-{name}"
        self.work.mkdir()
        _build([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(self.venv)], root)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ACCEL_SIM_CACHE", "VIRTUAL_ENV")}
        self.env = {**env, "XDG_CACHE_HOME": str(self.cache), "PYTHONNOUSERSITE": "1"}

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run a program of the venv's bin/ (accel, python) in the work folder."""
        out = subprocess.run([str(self.venv / "bin" / argv[0]), *argv[1:]], cwd=self.work, env=self.env,
                             capture_output=True, text=True, timeout=300)
        if check and out.returncode:
            pytest.fail(f"{' '.join(argv)} exited {out.returncode}:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
        return out

    def install(self, *args: str) -> None:
        """pip install into the venv (the system site-packages it sees may hold accel itself,
        e.g. editable: reinstall)."""
        _build([sys.executable, "-m", "pip", "--python", str(self.venv / "bin" / "python"), "install", "-q",
                "--no-deps", "--no-build-isolation", "--force-reinstall", *args], self.venv.parent)


def _build(cmd: list[str], cwd: Path) -> None:
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)
    if out.returncode:
        pytest.fail(f"{' '.join(cmd)} failed in {cwd}:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this working tree's sources (what a fresh clone with these edits would hold)."""
    tree = tmp_path_factory.mktemp("wheel") / "tree"
    shutil.copytree(CHECKOUT, tree, ignore=NOT_SOURCE)
    return tree


@pytest.fixture(scope="module")
def installed(tree: Path) -> Installed:
    """The wheel built from the sdist of `tree`, installed into a fresh venv."""
    try:
        import wheel  # noqa: F401  (setuptools needs it to build a wheel without build isolation)
    except ImportError:
        require(False, "the `wheel` package (pip install -e '.[test]')")
    root = tree.parent
    py = sys.executable
    _build([py, "-c", "import sys; from setuptools import build_meta as b; b.build_sdist(sys.argv[1])",
            str(root / "sdist")], tree)
    (sdist,) = (root / "sdist").glob("accel-*.tar.gz")
    with tarfile.open(sdist) as tar:  # the "data" filter where this Python has it (3.11.4 and later)
        tar.extractall(root / "unpacked", **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    (src,) = (root / "unpacked").iterdir()
    _build([py, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(root / "dist"), "."], src)
    (whl,) = (root / "dist").glob("accel-*.whl")
    inst = Installed(root, "wheel")
    inst.install(str(whl))
    return inst


def test_the_installed_package_is_not_the_checkout(installed: Installed) -> None:
    code = ("import json, accel, accel.isa.resources as r, accel.tb.runner as t; print(json.dumps({"
            "'file': accel.__file__, 'checkout': str(r.CHECKOUT), 'data': str(r.DATA_ROOT), 'rtl': str(t.RTL_DIR), "
            "'sim': str(t.SIM_DIR)}))")
    info = json.loads(installed.run("python", "-c", code).stdout)
    venv = installed.venv.resolve()
    assert Path(info["file"]).resolve().is_relative_to(venv), info
    assert info["checkout"] == "None" and Path(info["data"]).resolve().is_relative_to(venv), info
    assert (Path(info["rtl"]) / "act_func.v").is_file() and (Path(info["sim"]) / "fp_top.v").is_file(), info


def test_the_wheel_carries_isa_rtl_and_sim(installed: Installed) -> None:
    """Every runtime file of the checkout's isa/, rtl/, sim/ (and the VEC cases) is in the wheel, byte for byte."""
    code = "import accel.isa.resources as r; print(r.DATA_ROOT)"
    data = Path(installed.run("python", "-c", code).stdout.strip())
    wanted = [*resources.ISA_DIR.glob("*.toml"), resources.ISA_MANUAL, *resources.EXAMPLES_DIR.glob("*.s"),
              *resources.RTL_DIR.rglob("*.v"), *resources.INCLUDE_DIR.glob("*.vh"), *resources.MEM_DIR.glob("*.hex"),
              *resources.SIM_DIR.glob("*.v"), *resources.SIM_DIR.glob("test_*.py"),
              *resources.CASES_DIR.glob("vec.*.s")]
    assert len(wanted) > 90
    for path in wanted:
        rel = path.relative_to(CHECKOUT)
        assert (data / rel).is_file(), f"{rel} is not in the wheel"
        assert (data / rel).read_bytes() == path.read_bytes(), f"{rel} differs in the wheel"
    code = "from accel.tb.verify_vec import CASES_DIR; print(len(list(CASES_DIR.glob('vec.*.s'))))"
    assert int(installed.run("python", "-c", code).stdout) == len(list(resources.CASES_DIR.glob("vec.*.s")))


def test_demo(installed: Installed) -> None:
    report = json.loads(installed.run("accel", "demo", "--json").stdout)
    assert report["result"] == "PASS"


def test_act_func_program(installed: Installed) -> None:
    """exp and sigmoid through the installed function tables: the same bits as in the checkout."""
    work = installed.work
    (work / "act.s").write_text(ACT_PROGRAM)
    x = np.random.default_rng(11).uniform(-4, 4, (4, 16)).astype(np.float32)
    np.save(work / "x.npy", x)
    installed.run("accel", "run", "act.s", "--in", "x=x.npy", "--out", "y=y.npy", "--out", "z=z.npy")
    want = accel.run(ACT_PROGRAM, {"x": x}).outputs
    y, z = np.load(work / "y.npy"), np.load(work / "z.npy")
    assert y.tobytes() == np.asarray(want["y"]).tobytes()
    assert z.tobytes() == np.asarray(want["z"]).tobytes()
    np.testing.assert_allclose(y, np.exp(x.astype(np.float64)), rtol=1e-5)


def test_isa_manual(installed: Installed) -> None:
    out = installed.run("accel", "isa").stdout
    manual = Path(out.splitlines()[0].removeprefix("manual: "))
    assert manual.is_file() and manual.resolve().is_relative_to(installed.venv.resolve()), out
    assert "act.func" in out and "dma.load" in out, out


def test_isa_gen_refuses_outside_a_checkout(installed: Installed) -> None:
    out = installed.run("accel", "isa", "gen", check=False)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "source checkout" in out.stderr, out.stderr


def test_verify_fp_on_icarus(installed: Installed) -> None:
    ok, why = simulator_available("icarus")
    require(ok, f"icarus: {why}")
    out = installed.run("accel", "verify", "fp", "--sim", "icarus", "--vectors", "200", "--json")
    (report,) = json.loads(out.stdout)  # one report per simulator
    assert report["unit"] == "fp" and report["mismatches"] == 0 and report["vectors"] > 0, report
    builds = list((installed.cache / "accel" / "icarus").glob("fp_top-*"))
    assert builds, "the build is not in the per-user cache ($XDG_CACHE_HOME/accel)"
    site = installed.venv / "lib"
    assert not list(site.rglob(".sim_cache")) and not list(site.rglob("fp_top-*")), "a build went into the venv"


def test_editable_install_reads_the_checkout(tree: Path) -> None:
    """`pip install -e` (what `make test` uses) imports the tree itself and copies no data."""
    inst = Installed(tree.parent, "editable")
    inst.install("-e", str(tree))
    code = ("import json, accel, accel.isa.resources as r, accel.tb.runner as t; print(json.dumps({"
            "'file': accel.__file__, 'checkout': str(r.CHECKOUT), 'cache': str(t.cache_root())}))")
    info = json.loads(inst.run("python", "-c", code).stdout)
    assert info == {"file": str(tree / "accel" / "__init__.py"), "checkout": str(tree),
                    "cache": str(tree / ".sim_cache")}, info
    assert inst.run("accel", "isa").stdout.startswith(f"manual: {tree / 'isa' / 'ISA.md'}\n")
    assert not (tree / "accel" / "_data").exists()
