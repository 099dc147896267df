"""The compiler's test models at full size: build time of each zoo model (224 x 224, batch 1; the
transformer layer at BERT-base sizes), ONNX Runtime's time for one run, the activations' rms
range, and the bf16 reference's error against fp32 ONNX Runtime (the tolerance argument of
accel/compiler/reference.py, measured).

    python benchmarks/bench_zoo.py                      # resnet50 vgg19 bvlc_alexnet squeezenet inception_v1 bert
    python benchmarks/bench_zoo.py --models resnet50 --no-bf16
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import onnx

from accel.compiler import reference, zoo

DEFAULT = ["resnet50", "vgg19", "bvlc_alexnet", "squeezenet", "inception_v1", "bert"]


def build(name: str, size: int) -> onnx.ModelProto:
    return zoo.transformer_layer() if name == "bert" else zoo.imagenet(name, size)


def rms_range(model: onnx.ModelProto, x: dict[str, np.ndarray]) -> tuple[float, float]:
    """Smallest and largest rms over every intermediate float tensor (ONNX Runtime)."""
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    outs = {o.name for o in probe.graph.output}
    probe.graph.output.extend(v for v in model.graph.value_info
                              if v.name not in outs and v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT)
    values = reference.run_onnxruntime(probe, x)
    rms = [float(np.sqrt(np.mean(np.square(v, dtype=np.float64)))) for k, v in values.items() if k not in outs]
    return min(rms), max(rms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=DEFAULT, help=f"from {list(zoo.IMAGENET) + ['bert']}")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--no-bf16", action="store_true", help="skip the (slow) bf16 reference run")
    args = parser.parse_args()
    print("| model | params | build s | ORT run s | rms min | rms max | bf16 ref s | max_rel | rms_rel | cosine |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.models:
        t = time.perf_counter()
        model = build(name, args.size)
        t_build = time.perf_counter() - t
        params = sum(int(np.prod(i.dims)) for i in model.graph.initializer)
        x = reference.random_inputs(model)
        t = time.perf_counter()
        want = reference.run_onnxruntime(model, x)
        t_ort = time.perf_counter() - t
        lo, hi = rms_range(model, x)
        row = f"| {name} | {params / 1e6:.1f}M | {t_build:.2f} | {t_ort:.3f} | {lo:.3g} | {hi:.3g} |"
        if args.no_bf16:
            print(row + " - | - | - | - |")
            continue
        t = time.perf_counter()
        got = reference.run_reference(model, x, bf16=True)
        t_ref = time.perf_counter() - t
        err = next(iter(reference.compare(got, want).values()))
        print(row + f" {t_ref:.1f} | {err['max_rel']:.2e} | {err['rms_rel']:.2e} | {err['cosine']:.6f} |", flush=True)


if __name__ == "__main__":
    main()
