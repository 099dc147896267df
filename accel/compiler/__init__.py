"""The compiler: ONNX models to accel programs, with host fallback (docs/compiler.md).

    import accel
    model = accel.compile("resnet50.onnx", config=accel.CoreConfig())
    run = model.run({"data": x})         # outputs, each core segment's timeline, host time
    model.layer_report(run)               # per ONNX node: cycles, engines, DRAM bytes
"""

from accel.compiler.graph import CompileError
from accel.compiler.model import CompiledModel, ModelRun, compile_model

compile = compile_model  # noqa: A001 - accel.compiler.compile(model), as the issue's API names it

__all__ = ["CompileError", "CompiledModel", "ModelRun", "compile", "compile_model"]
