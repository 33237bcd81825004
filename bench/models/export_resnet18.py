#!/usr/bin/python3
"""Writes the ONNX Runtime peer's model of the `resnet18` workload: torchvision's ResNet-18.

ResNet-18's 46 MB of weights are not committed. They are generated from the recipe of the
committed parity case tests/Parity/cases/models/resnet18_torchvision.safetensors
(`__metadata__.generated_weights`, see tests/Parity/FORMAT.md) with tests/Parity/generate.py's
`apply_generated_weights`, bit for bit the values the benchmark's Functional and libtorch
engines get from C#'s `Functional.Parity.GeneratedWeights.Create(recipe)`.

    /usr/bin/python3 bench/models/export_resnet18.py [OUT.onnx]

OUT defaults to bench/.artifacts/resnet18.onnx (gitignored); bench/run.sh runs this when that
file is missing or older than this script or the parity case. Before exporting, the model is
checked: its float state_dict keys, shapes and ranges equal the recipe's, and on the case's
stored input it gives the case's stored output within the case's tolerance.
Needs Debian's python3-torch, python3-torchvision and python3-numpy.
"""
import io
import json
import os
import struct
import sys

import numpy as np
import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CASE = os.path.join(ROOT, "tests", "Parity", "cases", "models", "resnet18_torchvision.safetensors")
DEFAULT_OUT = os.path.join(ROOT, "bench", ".artifacts", "resnet18.onnx")

sys.path.insert(0, os.path.join(ROOT, "tests", "Parity"))
import generate  # noqa: E402  (registers its cases on import; writes nothing unless its main() runs)


def read_safetensors(path):
    """(metadata, {name: float32 array}) of a safetensors file."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, e in header.items():
        assert e["dtype"] == "F32", (name, e["dtype"])
        lo, hi = e["data_offsets"]
        tensors[name] = np.frombuffer(data[lo:hi], dtype="<f4").reshape(e["shape"])
    return meta, tensors


def main(out):
    meta, stored = read_safetensors(CASE)
    recipe = json.loads(meta["generated_weights"])

    model = torchvision.models.resnet18()
    made = generate.apply_generated_weights(model, recipe["seed"])
    model.eval()
    float_keys = [k for k, v in model.state_dict().items() if v.is_floating_point()]
    listed = [t[0] for t in recipe["tensors"]]
    if float_keys != listed:
        sys.exit(f"export_resnet18: the state dict's float keys differ from the recipe's: "
                 f"missing {sorted(set(listed) - set(float_keys))}, extra {sorted(set(float_keys) - set(listed))}")
    if made != recipe:
        bad = [a[0] for a, b in zip(made["tensors"], recipe["tensors"]) if a != b]
        sys.exit(f"export_resnet18: shapes or ranges differ from the recipe's for {bad or 'the seed'}")

    with torch.no_grad():
        y = model(torch.from_numpy(stored["input"].copy())).numpy()
    atol = float(meta["atol"])
    worst = float(np.max(np.abs(y - stored["output"])))
    if not worst <= atol + float(meta["rtol"]) * float(np.max(np.abs(stored["output"]))):
        sys.exit(f"export_resnet18: output differs from the parity case's by {worst:g} (atol {atol:g})")

    x = torch.randn(1, 3, 224, 224)
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(model, x, buf, opset_version=17, input_names=["x"], output_names=["y"],
                          do_constant_folding=True)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(buf.getvalue())
    os.replace(tmp, out)  # never a half-written model for a concurrent run
    print(f"resnet18: {len(listed)} generated tensors (seed {recipe['seed']}), "
          f"parity-case output max |diff| {worst:.2g}; wrote {os.path.relpath(out, ROOT)} "
          f"(torch {torch.__version__}, torchvision {torchvision.__version__})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT)
