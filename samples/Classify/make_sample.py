#!/usr/bin/python3
"""Makes the Classify sample's committed files with PyTorch 1.13 and torchvision 0.14:

  tiny_classifier.safetensors  a small ImageNet-shaped classifier (3x224x224 -> 1000 logits,
                               18k parameters, seeded random weights: no pretrained weights are
                               downloaded here), exported with tools/export.py
  sample.ppm                   a synthetic 200x150 RGB image (binary PPM)
  imagenet_classes.txt         torchvision's 1000 ImageNet class names, one per line
  expected.txt                 PyTorch's top-5 (class index, probability) for that image through
                               torchvision's Resize(256, antialias=True), CenterCrop(224),
                               Normalize(ImageNet) and the model: the sample's --expect check

    /usr/bin/python3 samples/Classify/make_sample.py
"""

import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision.transforms.functional as F
from torchvision.models._meta import _IMAGENET_CATEGORIES

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
from export import export  # noqa: E402

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def tiny_classifier():
    torch.manual_seed(13)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 1000))
    with torch.no_grad():
        bn = model[1]
        bn.running_mean.uniform_(-0.2, 0.2)
        bn.running_var.uniform_(0.5, 1.5)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.2, 0.2)
        model[7].weight.mul_(8)  # spread the logits so the top-5 stand apart
    return model.eval()


def image(width=200, height=150):
    """Smooth gradients, a disc and stripes: edges for the resize to get right."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 255 * x / (width - 1)
    g = 255 * y / (height - 1)
    b = 128 + 127 * np.sin(x / 7.0) * np.cos(y / 11.0)
    disc = (x - 120) ** 2 + (y - 70) ** 2 < 40 ** 2
    r[disc], g[disc], b[disc] = 250, 40, 30
    stripes = (x.astype(int) // 6) % 2 == 0
    band = (y > 110) & (y < 135)
    r[band & stripes], g[band & stripes], b[band & stripes] = 20, 20, 20
    return np.stack([r, g, b], axis=-1).round().clip(0, 255).astype(np.uint8)


def main():
    model = tiny_classifier()
    export(model, os.path.join(HERE, "tiny_classifier.safetensors"))
    pixels = image()
    h, w, _ = pixels.shape
    with open(os.path.join(HERE, "sample.ppm"), "wb") as f:
        f.write(f"P6\n{w} {h}\n255\n".encode("ascii"))
        f.write(pixels.tobytes())
    with open(os.path.join(HERE, "imagenet_classes.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(_IMAGENET_CATEGORIES) + "\n")
    x = F.to_tensor(pixels)
    x = F.resize(x, [256], antialias=True)
    x = F.center_crop(x, [224])
    x = F.normalize(x, MEAN, STD)
    with torch.no_grad():
        probs = model(x.unsqueeze(0)).softmax(1)[0]
    top = probs.topk(5)
    with open(os.path.join(HERE, "expected.txt"), "w", encoding="utf-8") as f:
        f.write(f"# top-5 of sample.ppm by PyTorch {torch.__version__}: class index, probability\n")
        for p, i in zip(top.values.tolist(), top.indices.tolist()):
            f.write(f"{i} {p!r}\n")
    print(open(os.path.join(HERE, "expected.txt")).read())


if __name__ == "__main__":
    main()
