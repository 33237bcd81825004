#!/usr/bin/python3
"""Writes samples/Tour/unet.safetensors with tools/export.py: the small UNet of the parity cases,
seeded, in eval mode, with an input and PyTorch's output stored beside it for the tour to compare.

    /usr/bin/python3 samples/Tour/export_sample.py
"""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "..", "tools"), os.path.join(HERE, "..", "..", "tests", "Parity")]
import export  # noqa: E402
from cases_models import UNet  # noqa: E402

torch.manual_seed(0)
model = UNet().eval()
# Give the norms non-trivial running statistics, as a trained model would have.
for m in model.modules():
    if isinstance(m, torch.nn.BatchNorm2d):
        m.running_mean.uniform_(-0.2, 0.2)
        m.running_var.uniform_(0.5, 1.5)
path = os.path.join(HERE, "unet.safetensors")
export.export(model, path)
x = torch.randn(1, 3, 32, 32)
with torch.no_grad():
    y = model(x)
export.write_safetensors(os.path.join(HERE, "unet.io.safetensors"), [("input", x), ("output", y)],
                         {"torch_version": torch.__version__})
print(f"wrote {path}: {sum(p.numel() for p in model.parameters()):,} parameters")
