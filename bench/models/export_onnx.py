#!/usr/bin/python3
"""Writes the ONNX Runtime peer's models and the weights all three engines share.

For each benchmark workload this writes, next to itself:
  <id>.onnx         the module exported by torch.onnx.export (opset 17), weights inside;
  <id>.safetensors  the same module's state_dict, which the benchmark loads into Functional
                    (Weights.Load) and into libtorch (TorchSharp tensors from the same arrays),
                    so all three engines run the same weights.
The benchmark makes the input itself (seeded) and hands the same array to all three.

Run with Debian's PyTorch (apt-get install -y python3-torch python3-numpy):
    /usr/bin/python3 bench/models/export_onnx.py
The files are committed; rerun only when a workload changes. Standard library + torch + numpy.
"""
import io
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))

# id -> (module factory, input shape). Keep in step with bench/Bench/Workloads.cs.
# (The resnet18 workload is not here: its weights are generated, not committed, and its .onnx is
# made at run time by export_resnet18.py.)
WORKLOADS = {
    "a": (lambda: nn.Conv1d(3, 16, 3, stride=2, bias=False), (1, 3, 224)),
    "b": (lambda: nn.Conv2d(3, 16, 3, stride=2, bias=False), (1, 3, 224, 224)),
    "c": (lambda: nn.ConvTranspose1d(3, 16, 3, stride=2, bias=False), (1, 3, 224)),
    "d": (lambda: nn.ConvTranspose2d(3, 16, 3, stride=2, bias=False), (1, 3, 224, 224)),
    "e1": (lambda: nn.MaxPool2d(3, stride=2), (1, 3, 224, 224)),
    "e2": (lambda: nn.AvgPool2d(3, stride=2), (1, 3, 224, 224)),
    "f1": (lambda: nn.Conv2d(64, 64, 3, padding=1), (1, 64, 56, 56)),
    "f8": (lambda: nn.Conv2d(64, 64, 3, padding=1), (8, 64, 56, 56)),
    "g": (lambda: nn.Conv2d(3, 64, 7, stride=2, padding=3), (1, 3, 224, 224)),
    "h": (lambda: nn.Conv3d(3, 64, 3, padding=1), (1, 3, 16, 112, 112)),
    "i": (lambda: nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1), (1, 128, 32, 32)),
    "j": (lambda: nn.MaxPool2d(3, 2, padding=1), (1, 64, 112, 112)),
    "k1": (lambda: nn.ReLU(), (1, 64, 112, 112)),
    "k2": (lambda: nn.GELU(), (1, 64, 112, 112)),
    "k3": (lambda: nn.SiLU(), (1, 64, 112, 112)),
    "l": (lambda: nn.Conv2d(64, 64, 3, padding=1, groups=64), (1, 64, 56, 56)),
    "net": (lambda: nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1), nn.ReLU(), nn.Conv2d(64, 64, 3, 1, 1), nn.MaxPool2d(2)),
            (1, 3, 224, 224)),
}


def write_safetensors(path, tensors, metadata):
    """The safetensors format: u64 header length, JSON header, then the raw little-endian data."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4"))
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def main(only):
    for index, (wid, (make, shape)) in enumerate(WORKLOADS.items()):
        if only and wid not in only:
            continue
        torch.manual_seed(1000 + index)
        module = make().eval()
        x = torch.randn(*shape)
        meta = {"workload": wid, "module": repr(module).replace("\n", " "), "input_shape": json.dumps(list(shape)),
                "torch": torch.__version__}
        write_safetensors(os.path.join(HERE, f"{wid}.safetensors"), dict(module.state_dict()), meta)
        buf = io.BytesIO()
        with torch.no_grad():
            torch.onnx.export(module, x, buf, opset_version=17, input_names=["x"], output_names=["y"],
                              do_constant_folding=True)
        with open(os.path.join(HERE, f"{wid}.onnx"), "wb") as f:
            f.write(buf.getvalue())
        print(f"{wid:4} {str(tuple(shape)):22} {meta['module']}")


if __name__ == "__main__":
    main(set(sys.argv[1:]))
