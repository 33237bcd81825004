#!/usr/bin/python3
"""Freezes PyTorch's view of two models' layer calls into tests/Parity/summary_oracle.json, the
oracle of the Summary tests: every module call in order (forward hooks, containers included) with
its state_dict name path, class name, depth, output shape and, for modules without children,
their parameter count and torchinfo's multiply-adds (each weight/bias numel times the batch, and
for a convolution times the output positions too).

    /usr/bin/python3 tests/Parity/summary_oracle.py
"""
import json
import math
import os
import sys

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cases_models import UNet  # noqa: E402


def calls(model, input_shape):
    rows, stack = [], []
    names = {m: n for n, m in model.named_modules()}

    def pre(m, _):
        name = names[m]
        rows.append({"name": name, "type": type(m).__name__, "depth": len(stack)})
        stack.append(len(rows) - 1)

    def post(m, _, out):
        row = rows[stack.pop()]
        row["output"] = list(out.shape)
        if not list(m.children()):
            params = {n: p.numel() for n, p in m.named_parameters()}
            row["params"] = sum(params.values())
            direct = sum(v for n, v in params.items() if n in ("weight", "bias"))
            positions = math.prod(out.shape[2:]) if "Conv" in type(m).__name__ else 1
            row["mult_adds"] = direct * out.shape[0] * positions

    for m in model.modules():
        m.register_forward_pre_hook(pre)
        m.register_forward_hook(post)
    with torch.no_grad():
        model.eval()(torch.zeros(input_shape))
    return rows


def main():
    torch.manual_seed(0)
    oracle = {
        "resnet18": {"input": [1, 3, 224, 224], "rows": calls(torchvision.models.resnet18(), (1, 3, 224, 224))},
        "unet": {"input": [1, 3, 32, 32], "rows": calls(UNet(), (1, 3, 32, 32))},
    }
    with open(os.path.join(HERE, "summary_oracle.json"), "w") as f:
        json.dump(oracle, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
