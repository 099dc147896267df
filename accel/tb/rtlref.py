"""Reference of the RTL's interfaces, read with pyverilog: ports, directions, widths, parameters.

`python -m accel.tb.rtlref` regenerates docs/RTL.md (one port table per module of rtl/**/*.v);
tests/rtl/test_rtl_reference.py checks it is fresh and that the benches bind only ports and
parameters their toplevel has.

pyverilog works on the Icarus-preprocessed text, so ranges are shown with the `ACCEL_*` macros
expanded. It evaluates `$clog2` wrongly, so widths are evaluated here (at the parameters'
defaults) and the range expression is always shown as text. Needs Icarus on PATH.

    module_ports("rtl/decoder.v")["ports"][0]
    # {'name': 'instr', 'direction': 'input', 'range': '[512 - 1:0]', 'width': 512, ...}
"""

from __future__ import annotations

import functools
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from accel.tb.runner import INCLUDE_DIR, REPO_ROOT, RTL_DIR, SIM_DIR, cache_root

COMMAND = "python -m accel.tb.rtlref"
DOC = Path("docs/RTL.md")

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
        return str(path.resolve().relative_to(REPO_ROOT))
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


def _table(rows: list[list[str]], head: list[str]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head),
            *("| " + " | ".join(r) + " |" for r in rows)]


def markdown(modules: list[dict]) -> str:
    out = [
        f"<!-- GENERATED from rtl/**/*.v by `{COMMAND}` -- do not edit. -->",
        "# RTL modules",
        "",
        "Ports and parameters of every module under rtl/, read with pyverilog. Ranges are the "
        "source's expressions after preprocessing (the `ACCEL_*` macros of "
        "rtl/include/accel_isa.vh appear as their values); bits are evaluated at the "
        "parameters' defaults.",
    ]
    for m in modules:
        out += ["", f"## {m['module']}", "", f"`{m['file']}`", ""]
        if m["parameters"]:
            out += _table([[f"`{p['name']}`", f"`{p['default']}`"] for p in m["parameters"]],
                          ["parameter", "default"]) + [""]
        rows = [[f"`{p['name']}`", p["direction"], f"`{p['range']}`" if p["range"] else "",
                 "?" if p["width"] is None else str(p["width"]), "yes" if p["signed"] else ""]
                for p in m["ports"]]
        out += _table(rows, ["port", "direction", "range", "bits", "signed"])
    return "\n".join(out) + "\n"


def generate(root: str | Path = REPO_ROOT) -> Path:
    """Write docs/RTL.md under `root` from the RTL of this repository; return its path."""
    modules = [m for path in rtl_files() for m in read_modules(path)]
    dest = Path(root) / DOC
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(markdown(modules))
    return dest


if __name__ == "__main__":
    try:
        print(generate())
    except RtlParseError as e:
        sys.exit(f"rtlref: {e}")
