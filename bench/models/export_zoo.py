#!/usr/bin/python3
"""Writes the whole-model benchmark's files: each torchvision model three ways, one set of weights.

    /usr/bin/python3 bench/models/export_zoo.py [OUT_DIR] [--only resnet18,resnet50]

For every model of ZOO (random weights, torch.manual_seed(0), eval mode) it writes into OUT_DIR
(default bench/.artifacts/zoo, gitignored):

  <name>.safetensors  tools/export.py's export(): what Functional's Model.Load reads (the user's path)
  <name>.onnx         torch.onnx.export, opset 17: ONNX Runtime's model
  <name>.pt           torch.jit.trace: libtorch's model (TorchSharp's torch.jit.load)

and zoo.json: per model its input shape, parameter count and, when a step failed, the error
("error": tools/export.py, so Functional is not timed; "peer_error": the peers' files). A model whose three files
are newer than this script and tools/export.py is kept. Needs Debian's python3-torch,
python3-torchvision (PyTorch 1.13, torchvision 0.14).
"""
import json
import os
import sys
import time

import torch
import torchvision.models as tvm

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import export  # noqa: E402  (tools/export.py)

IMAGE = [1, 3, 224, 224]
# name -> (constructor, input shape). Constructor arguments keep torchvision from downloading
# pretrained parts and drop training-only heads (GoogLeNet's auxiliary classifiers).
ZOO = {
    "resnet18": (lambda: tvm.resnet18(), IMAGE),
    "resnet50": (lambda: tvm.resnet50(), IMAGE),
    "resnext50_32x4d": (lambda: tvm.resnext50_32x4d(), IMAGE),
    "mobilenet_v2": (lambda: tvm.mobilenet_v2(), IMAGE),
    "mobilenet_v3_large": (lambda: tvm.mobilenet_v3_large(), IMAGE),
    "efficientnet_b0": (lambda: tvm.efficientnet_b0(), IMAGE),
    "densenet121": (lambda: tvm.densenet121(), IMAGE),
    "googlenet": (lambda: tvm.googlenet(aux_logits=False, init_weights=True), IMAGE),
    "squeezenet1_1": (lambda: tvm.squeezenet1_1(), IMAGE),
    "convnext_tiny": (lambda: tvm.convnext_tiny(), IMAGE),
    "r3d_18": (lambda: tvm.video.r3d_18(), [1, 3, 16, 112, 112]),
    "deeplabv3_mobilenet_v3_large": (lambda: tvm.segmentation.deeplabv3_mobilenet_v3_large(weights_backbone=None), IMAGE),
}


class OutOnly(torch.nn.Module):
    """Segmentation models return {"out": ...}: the peers' files return that tensor."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        y = self.model(x)
        return y["out"] if isinstance(y, dict) else y


def write_peers(peer, x, onnx_path, script_path):
    with torch.no_grad():
        torch.onnx.export(peer, x, onnx_path, opset_version=17, input_names=["x"], output_names=["y"])
        torch.jit.trace(peer, x, check_trace=False).save(script_path)


def fresh(paths, sources):
    return all(os.path.exists(p) for p in paths) and min(os.path.getmtime(p) for p in paths) > max(os.path.getmtime(s) for s in sources)


def main(argv):
    only = None
    if "--only" in argv:
        i = argv.index("--only")
        only = set(argv[i + 1].split(","))
        argv = argv[:i] + argv[i + 2:]
    out = argv[0] if argv else os.path.join(ROOT, "bench", ".artifacts", "zoo")
    os.makedirs(out, exist_ok=True)
    index_path = os.path.join(out, "zoo.json")
    index = json.load(open(index_path)) if os.path.exists(index_path) else {}
    sources = [os.path.abspath(__file__), os.path.join(ROOT, "tools", "export.py")]
    torch.set_num_threads(2)
    for name, (make, shape) in ZOO.items():
        if only is not None and name not in only:
            continue
        files = [os.path.join(out, name + ext) for ext in (".safetensors", ".onnx", ".pt")]
        if fresh(files, sources) and name in index and not {"error", "peer_error"} & set(index[name]):
            continue
        t0 = time.time()
        entry = {"input": shape}
        torch.manual_seed(0)
        model = make().eval()
        entry["parameters"] = sum(p.numel() for p in model.parameters())
        x = torch.randn(shape)
        peer = OutOnly(model).eval()
        # The peers' files and Functional's are made apart: a model tools/export.py cannot
        # describe yet still gets the peers' times (and the reason it was not exported).
        for key, write in (("peer_error", lambda: write_peers(peer, x, files[1], files[2])),
                           ("error", lambda: export.export(model, files[0]))):
            try:
                write()
            except Exception as e:  # report every failure by model, keep going with the others
                entry[key] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        for f in files:
            if os.path.exists(f) and os.path.getmtime(f) < t0:
                os.remove(f)
        index[name] = entry
        print(f"{name}: {entry.get('peer_error', 'peers ok')}; {entry.get('error', 'Functional ok')} ({time.time() - t0:.1f} s)", flush=True)
        with open(index_path, "w") as f:
            json.dump(index, f, indent=1)
    with open(index_path, "w") as f:
        json.dump(index, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
