"""Reference of the RTL's interfaces, read with pyverilog: ports, directions, widths, parameters.

`python -m accel.tb.rtlref` regenerates docs/RTL.md: the core's section, written by hand in docs/rtl_core.md
(block diagram, ports, DRAM protocol, driving it from a bench), then one port table per module of rtl/**/*.v;
tests/rtl/test_rtl_reference.py checks it is fresh and that the benches bind only ports and
parameters their toplevel has.

pyverilog works on the Icarus-preprocessed text, so ranges are shown with the `ACCEL_*` macros
expanded. It evaluates `$clog2` wrongly, so widths are evaluated here (at the parameters'
defaults) and the range expression is always shown as text. Needs Icarus on PATH.

    module_ports("rtl/decoder.v")["ports"][0]
    # {'name': 'instr', 'direction': 'input', 'range': '[512 - 1:0]', 'width': 512, ...}
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from accel.isa.resources import CHECKOUT, DATA_ROOT, PACKAGE_DIR, NotACheckoutError, checkout
from accel.tb.runner import INCLUDE_DIR, RTL_DIR, SIM_DIR, cache_root

COMMAND = "python -m accel.tb.rtlref"
DOC = Path("docs/RTL.md")
CORE_SECTION = Path("docs/rtl_core.md")  # hand-written: the top of DOC

_BINARY = {  # pyverilog operator class -> (Verilog text, precedence; higher binds tighter)
    "Power": ("**", 10), "Times": ("*", 9), "Divide": ("/", 9), "Mod": ("%", 9),
    "Plus": ("+", 8), "Minus": ("-", 8), "Sll": ("<<", 7), "Srl": (">>", 7),
    "Sla": ("<<<", 7), "Sra": (">>>", 7), "LessThan": ("<", 6), "GreaterThan": (">", 6),
    "LessEq": ("<=", 6), "GreaterEq": (">=", 6), "Eq": ("==", 5), "NotEq": ("!=", 5),
    "Eql": ("===", 5), "NotEql": ("!==", 5), "And": ("&", 4), "Xor": ("^", 3),
    "Xnor": ("~^", 3), "Or": ("|", 2), "Land": ("&&", 1), "Lor": ("||", 0),
}
_UNARY = {"Uplus": "+", "Uminus": "-", "Ulnot": "!", "Unot": "~", "Uand": "&", "Unand": "~&",
          "Uor": "|", "Unor": "~|", "Uxor": "^", "Uxnor": "~^"}
_EVAL = {
    "Power": lambda a, b: a ** b, "Times": lambda a, b: a * b,
    "Divide": lambda a, b: int(a / b), "Mod": lambda a, b: a % b,
    "Plus": lambda a, b: a + b, "Minus": lambda a, b: a - b,
    "Sll": lambda a, b: a << b, "Srl": lambda a, b: a >> b,
    "Sla": lambda a, b: a << b, "Sra": lambda a, b: a >> b,
    "LessThan": lambda a, b: int(a < b), "GreaterThan": lambda a, b: int(a > b),
    "LessEq": lambda a, b: int(a <= b), "GreaterEq": lambda a, b: int(a >= b),
    "Eq": lambda a, b: int(a == b), "NotEq": lambda a, b: int(a != b),
    "And": lambda a, b: a & b, "Or": lambda a, b: a | b, "Xor": lambda a, b: a ^ b,
    "Land": lambda a, b: int(bool(a and b)), "Lor": lambda a, b: int(bool(a or b)),
}


class RtlParseError(RuntimeError):
    """A Verilog file could not be preprocessed or parsed."""


def expr_text(node: Any, parent_prec: int = -1) -> str:
    """Verilog text of a pyverilog expression node."""
    kind = type(node).__name__
    if kind in ("IntConst", "FloatConst"):
        return str(node.value)
    if kind == "StringConst":
        return f'"{node.value}"'
    if kind == "Identifier":
        return node.name
    if kind in ("SystemCall", "FunctionCall"):
        name = f"${node.syscall}" if kind == "SystemCall" else expr_text(node.name)
        return f"{name}({', '.join(expr_text(a) for a in node.args)})"
    if kind in _UNARY:
        return _UNARY[kind] + expr_text(node.right, 11)
    if kind in _BINARY:
        op, prec = _BINARY[kind]
        text = f"{expr_text(node.left, prec - 1)} {op} {expr_text(node.right, prec)}"
        return f"({text})" if prec <= parent_prec else text
    if kind == "Cond":
        text = f"{expr_text(node.cond, 0)} ? {expr_text(node.true_value)} : " \
               f"{expr_text(node.false_value)}"
        return f"({text})" if parent_prec >= 0 else text
    if kind == "Concat":
        return "{" + ", ".join(expr_text(x) for x in node.list) + "}"
    if kind == "Repeat":
        return "{" + expr_text(node.times) + expr_text(node.value) + "}"
    if kind == "Partselect":
        return f"{expr_text(node.var)}[{expr_text(node.msb)}:{expr_text(node.lsb)}]"
    if kind == "Pointer":
        return f"{expr_text(node.var)}[{expr_text(node.ptr)}]"
    from pyverilog.ast_code_generator.codegen import ASTCodeGenerator

    return ASTCodeGenerator().visit(node).strip()


def _int_literal(text: str) -> int:
    text = text.replace("_", "").lower()
    if "'" not in text:
        return int(text)
    base = text.split("'", 1)[1].lstrip("s")
    return int(base[1:], {"h": 16, "d": 10, "o": 8, "b": 2}[base[0]])


def evaluate(node: Any, env: dict[str, int]) -> int:
    """Integer value of a constant expression; `$clog2` as Verilog defines it. Raises
    ValueError when the expression is not a constant the evaluator knows."""
    kind = type(node).__name__
    try:
        if kind == "IntConst":
            return _int_literal(node.value)
        if kind == "Identifier":
            return env[node.name]
        if kind == "SystemCall" and node.syscall == "clog2":
            n = evaluate(node.args[0], env)
            return max(0, (n - 1).bit_length())
        if kind == "Uminus":
            return -evaluate(node.right, env)
        if kind == "Uplus":
            return evaluate(node.right, env)
        if kind in _EVAL:
            return _EVAL[kind](evaluate(node.left, env), evaluate(node.right, env))
        if kind == "Cond":
            c = evaluate(node.cond, env)
            return evaluate(node.true_value if c else node.false_value, env)
    except (KeyError, ZeroDivisionError, IndexError) as e:
        raise ValueError(f"cannot evaluate {expr_text(node)}: {e!r}") from None
    raise ValueError(f"cannot evaluate {expr_text(node)}")


@functools.cache
def _parser() -> Any:
    from pyverilog.vparser.parser import VerilogParser

    return VerilogParser(outputdir=str(cache_root() / "pyverilog"), debug=False)


def _preprocess(path: Path) -> str:
    with tempfile.TemporaryDirectory(prefix="accel-rtlref-") as tmp:
        out = Path(tmp) / "pp.v"
        cmd = ["iverilog", "-E", "-I", str(INCLUDE_DIR), "-I", str(path.parent), "-o", str(out),
               str(path)]
        try:
            run = subprocess.run(cmd, capture_output=True, text=True)
        except FileNotFoundError:
            raise RtlParseError("pyverilog needs Icarus Verilog (iverilog) on PATH") from None
        if run.returncode != 0:
            raise RtlParseError(f"{path}: preprocessing failed:\n{run.stderr}")
        return out.read_text()


def _width(var: Any, env: dict[str, int]) -> tuple[str, int | None]:
    """(range text, width at the default parameters) of a declaration; ('', 1) for a bit."""
    w = getattr(var, "width", None)
    if w is None:
        return "", 1
    text = f"[{expr_text(w.msb)}:{expr_text(w.lsb)}]"
    try:
        return text, abs(evaluate(w.msb, env) - evaluate(w.lsb, env)) + 1
    except ValueError:
        return text, None


def _module_info(mod: Any, path: Path) -> dict:
    from pyverilog.vparser import ast as vast

    env: dict[str, int] = {}
    params: list[dict] = []
    signals: set[str] = set()
    directions: dict[str, Any] = {}

    def declare(item: Any) -> None:
        if isinstance(item, vast.Parameter):  # Localparam is a subclass
            try:
                env[item.name] = evaluate(item.value.var, env)
            except ValueError:
                pass
            signals.add(item.name)
            if not isinstance(item, vast.Localparam):
                params.append({"name": item.name, "default": expr_text(item.value.var),
                               "value": env.get(item.name)})
        elif isinstance(item, (vast.Input, vast.Output, vast.Inout)):
            directions[item.name] = item
        elif isinstance(item, vast.Variable):
            signals.add(item.name)
        elif isinstance(item, vast.InstanceList):
            signals.update(i.name for i in item.instances)

    for decl in (mod.paramlist.params if mod.paramlist else ()):
        for item in getattr(decl, "list", (decl,)):
            declare(item)
    port_names = []
    for p in mod.portlist.ports if mod.portlist else ():
        if isinstance(p, vast.Ioport):  # ANSI: the declaration is in the port list
            declare(p.first)
            port_names.append(p.first.name)
        else:
            port_names.append(p.name)
    for item in mod.items:
        for sub in getattr(item, "list", (item,)) if isinstance(item, vast.Decl) else (item,):
            declare(sub)
    ports = []
    for name in port_names:
        var = directions.get(name)
        if var is None:
            raise RtlParseError(f"{path}: module {mod.name}: port {name} has no direction")
        rng, width = _width(var, env)
        ports.append({"name": name, "direction": type(var).__name__.lower(), "range": rng,
                      "width": width, "signed": bool(var.signed)})
    signals.update(port_names)
    return {"module": mod.name, "file": _rel(path), "parameters": params, "ports": ports,
            "signals": sorted(signals)}


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(DATA_ROOT))
    except ValueError:
        return str(path)


def read_modules(path: str | Path) -> list[dict]:
    """Every module of a Verilog file: name, file, parameters (name, default text, value),
    ports (name, direction, range text, width or None, signed) and all declared names."""
    from pyverilog.vparser import ast as vast

    path = Path(path).resolve()
    text = _preprocess(path)
    try:
        tree = _parser().parse(text)
    except Exception as e:  # pyverilog raises ParseError or plain exceptions from ply
        raise RtlParseError(f"{path}: pyverilog cannot parse it: {e}") from None
    return [_module_info(m, path) for m in tree.description.definitions
            if isinstance(m, vast.ModuleDef)]


def module_ports(path: str | Path) -> dict:
    """The interface of the module a file defines (the one named after the file when there
    are several)."""
    mods = read_modules(path)
    for m in mods:
        if m["module"] == Path(path).stem or len(mods) == 1:
            return m
    raise RtlParseError(f"{path}: defines {[m['module'] for m in mods]}, none named "
                        f"{Path(path).stem}")


def rtl_files() -> list[Path]:
    return sorted(RTL_DIR.rglob("*.v"))


def module_index() -> dict[str, dict]:
    """Every module of rtl/**/*.v and sim/*.v by name (benches' toplevels live in sim/)."""
    out: dict[str, dict] = {}
    for path in [*rtl_files(), *sorted(SIM_DIR.glob("*.v"))]:
        for m in read_modules(path):
            out[m["module"]] = m
    return out


# ----------------------------------------------------------------------------- bench bindings


class _PySource:
    """Module-level constants and import aliases of a Python file, read with `ast`."""

    def __init__(self, path: Path):
        self.path = path
        self.tree = ast.parse(path.read_text(), str(path))
        self.constants: dict[str, Any] = {}
        self.aliases: dict[str, tuple[str, str | None]] = {}  # name -> (module, attribute)
        for node in self.tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                    and isinstance(node.targets[0], ast.Name):
                value = self.resolve(node.value)
                if value is not None:
                    self.constants[node.targets[0].id] = value
            elif isinstance(node, ast.Import):
                for a in node.names:
                    self.aliases[a.asname or a.name] = (a.name, None)
            elif isinstance(node, ast.ImportFrom) and node.module:
                for a in node.names:
                    self.aliases[a.asname or a.name] = (node.module, a.name)

    def resolve(self, node: ast.AST) -> Any:
        """The value of a literal, of a module-level constant (also of an imported module),
        or of a dict's string keys; None when unknown."""
        if isinstance(node, ast.Dict):
            keys = [self.resolve(k) for k in node.keys if k is not None]
            return dict.fromkeys(keys) if all(isinstance(k, str) for k in keys) else None
        if isinstance(node, ast.Name):
            if node.id in self.constants:
                return self.constants[node.id]
            module, attr = self.aliases.get(node.id, (None, None))
            return _imported_constant(module, attr) if attr else None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in self.aliases:
            module, attr = self.aliases[node.value.id]  # `import m as a` or `from p import m`
            return _imported_constant(f"{module}.{attr}" if attr else module, node.attr)
        try:
            return ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None


def _module_path(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    return Path(spec.origin) if spec and spec.origin and spec.origin.endswith(".py") else None


def _imported_constant(module: str, name: str) -> Any:
    path = _module_path(module)
    return _source(path).constants.get(name) if path else None


@functools.cache
def _source(path: Path) -> _PySource:
    return _PySource(path)


def _run_bench_calls(src: _PySource) -> list[tuple[Any, Any, Any, int]]:
    """(toplevel, test_module, parameters, line) of each run_bench(...) or run_planned(...) call in a
    file (both take them at the same places); None for a value that is not a literal or a module-level
    constant."""
    out = []
    for node in ast.walk(src.tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if (f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)) not in ("run_bench", "run_planned"):
            continue
        kw = {k.arg: k.value for k in node.keywords}
        top = node.args[1] if len(node.args) > 1 else kw.get("toplevel")
        test = node.args[3] if len(node.args) > 3 else kw.get("test_module")
        params = kw.get("parameters")
        out.append((*(None if x is None else src.resolve(x) for x in (top, test)),
                     {} if params is None else src.resolve(params), node.lineno))
    return out


def _dut_names(src: _PySource) -> dict[str, int]:
    """Names a cocotb bench reads or drives on its toplevel (`dut.<name>`), with a line."""
    names: dict[str, int] = {}
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id == "dut" and not node.attr.startswith("_"):
            names.setdefault(node.attr, node.lineno)
    return names


def check_bench_bindings(benches: list[Path] | None = None,
                         callers: list[Path] | None = None) -> tuple[list[str], list[str]]:
    """Problems (a bench binding a port, parameter or toplevel that does not exist) and a
    list of what was checked; run_bench calls whose toplevel is not in rtl/ or sim/ are left
    out. Benches default to sim/*.py; run_bench calls are looked for in
    the benches and `callers` (default accel/tb/*.py and tests/rtl/*.py). A bench's toplevel
    is its TOPLEVEL constant, else the toplevel of the run_bench calls that run it."""
    _source.cache_clear()
    index = module_index()
    problems, checked = [], []
    toplevel_of: dict[str, set[str]] = {}
    benches = sorted(SIM_DIR.glob("*.py")) if benches is None else benches
    if callers is None:
        callers = [*sorted((PACKAGE_DIR / "tb").glob("*.py")),
                   *(sorted((CHECKOUT / "tests" / "rtl").glob("*.py")) if CHECKOUT else [])]
    for path in [*benches, *callers]:
        src = _source(path)
        for top, test, params, line in _run_bench_calls(src):
            where = f"{_rel(path)}:{line}"
            if isinstance(top, str) and isinstance(test, str):
                toplevel_of.setdefault(test, set()).add(top)
            if not isinstance(top, str) or top not in index:  # unknown, or made elsewhere
                continue
            have = {p["name"] for p in index[top]["parameters"]}
            for name in params or {}:
                if name not in have:
                    problems.append(f"{where}: parameter {name} is not a parameter of {top} "
                                    f"({index[top]['file']}; it has {sorted(have) or 'none'})")
            bound = "(not a literal)" if params is None else sorted(params)
            checked.append(f"{where}: run_bench({top!r}, parameters={bound})")
    for path in benches:
        src = _source(path)
        names = _dut_names(src)
        if not names:
            continue
        declared = src.constants.get("TOPLEVEL")
        tops = {declared} if isinstance(declared, str) else toplevel_of.get(path.stem, set())
        if len(tops) != 1:
            problems.append(f"{_rel(path)}: cannot tell its toplevel (found {sorted(tops)}); "
                            'declare it, e.g. TOPLEVEL = "my_top"')
            continue
        top = tops.pop()
        if top not in index:
            problems.append(f"{_rel(path)}: TOPLEVEL {top!r} is no module of rtl/ or sim/")
            continue
        known = set(index[top]["signals"])
        for name, line in names.items():
            if name not in known:
                ports = [p["name"] for p in index[top]["ports"]]
                problems.append(f"{_rel(path)}:{line}: dut.{name}: {top} ({index[top]['file']}) "
                                f"has no port, parameter or signal {name}; ports: {ports}")
        checked.append(f"{_rel(path)}: dut.{{{', '.join(sorted(names))}}} on {top}")
    return problems, checked


def _table(rows: list[list[str]], head: list[str]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head),
            *("| " + " | ".join(r) + " |" for r in rows)]


def markdown(modules: list[dict], core_section: str = "") -> str:
    """docs/RTL.md: `core_section` (docs/rtl_core.md's text), then every module's port table."""
    out = [
        f"<!-- GENERATED from {CORE_SECTION} and rtl/**/*.v by `{COMMAND}` -- do not edit. -->",
        "# RTL",
        "",
        *([core_section.rstrip("\n"), ""] if core_section else []),
        "## Modules",
        "",
        "Ports and parameters of every module under rtl/, read with pyverilog. Ranges are the "
        "source's expressions after preprocessing (the `ACCEL_*` macros of "
        "rtl/include/accel_isa.vh appear as their values); bits are evaluated at the "
        "parameters' defaults.",
    ]
    for m in modules:
        out += ["", f"### {m['module']}", "", f"`{m['file']}`", ""]
        if m["parameters"]:
            out += _table([[f"`{p['name']}`", f"`{p['default']}`"] for p in m["parameters"]],
                          ["parameter", "default"]) + [""]
        rows = [[f"`{p['name']}`", p["direction"], f"`{p['range']}`" if p["range"] else "",
                 "?" if p["width"] is None else str(p["width"]), "yes" if p["signed"] else ""]
                for p in m["ports"]]
        out += _table(rows, ["port", "direction", "range", "bits", "signed"])
    return "\n".join(out) + "\n"


def generate(root: str | Path | None = None) -> Path:
    """Write docs/RTL.md under `root` (default: the source checkout) from the RTL and the checkout's
    docs/rtl_core.md; return its path."""
    source = checkout(COMMAND)
    root = source if root is None else root
    modules = [m for path in rtl_files() for m in read_modules(path)]
    dest = Path(root) / DOC
    dest.parent.mkdir(parents=True, exist_ok=True)
    section = (Path(source) / CORE_SECTION).read_text()
    if section.startswith("<!--"):  # its own note (edit it there), not for RTL.md
        section = section.split("-->", 1)[1].lstrip("\n")
    dest.write_text(markdown(modules, section))
    return dest


if __name__ == "__main__":
    try:
        print(generate())
    except (RtlParseError, NotACheckoutError) as e:
        sys.exit(f"rtlref: {e}")
