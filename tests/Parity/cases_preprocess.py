"""Parity cases of the "preprocess" family: torchvision 0.14's tensor transforms Resize (bilinear,
bicubic, nearest; with and without antialias; torchvision's size rules: int = shorter side,
max_size, (h, w), same size passes through), CenterCrop (round half to even, zero padding when the
crop is larger), Normalize and ToTensor (an H x W x C array to C x H x W), and the ImageNet
pipeline Resize >> CenterCrop >> Normalize.
"""

import numpy as np
import torch
import torch.nn as nn
import torchvision.transforms as T
import torchvision.transforms.functional as F

FAMILY = "preprocess"
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


class Resize(T.Resize):
    """T.Resize that also accepts the interpolation by its value ("bilinear"), as a description gives it."""

    def __init__(self, size, interpolation="bilinear", max_size=None, antialias=None):
        if isinstance(interpolation, str):
            interpolation = T.InterpolationMode(interpolation)
        super().__init__(size, interpolation, max_size, antialias)


class ToTensor(nn.Module):
    """T.ToTensor as a module: F.to_tensor of the input as an H x W (x C) NumPy array."""

    def forward(self, x):
        return F.to_tensor(x.numpy())


def image(*shape):
    """An image in [0, 1] holding 8-bit values (k / 255 in float32, as F.to_tensor makes them)."""
    return lambda: torch.randint(0, 256, shape, dtype=torch.uint8).float().div(255)


def add_cases(g):
    g.DESCRIBED_TYPES.update({"Resize": Resize, "CenterCrop": T.CenterCrop, "Normalize": T.Normalize})
    g.CUSTOM_TYPES["ToTensor"] = ToTensor

    def case(name, make, inputs, note, atol=1e-6, rtol=1e-5):
        # Bicubic sums taps with negative weights: cancellation leaves ~1e-6 of float rounding.
        if "bicubic" in name:
            atol = max(atol, 1e-5)
        g.case(FAMILY, name, make, inputs, atol, rtol, note)

    # -- Resize ------------------------------------------------------------------
    for mode in ("bilinear", "bicubic"):
        for aa in (False, True):
            q = f"resize_{mode}_{'aa' if aa else 'noaa'}"
            case(f"{q}_shorter_side_down", lambda mode=mode, aa=aa: Resize(20, mode, antialias=aa), image(3, 37, 50),
                 f"{mode}, antialias={aa}: an int resizes the shorter side (37 -> 20), the longer to int(20*50/37) = 27")
            case(f"{q}_upscale", lambda mode=mode, aa=aa: Resize(20, mode, antialias=aa), image(3, 9, 12),
                 f"{mode}, antialias={aa}, upscaling: the antialias filter keeps its unit width")
            case(f"{q}_size_hw_mixed", lambda mode=mode, aa=aa: Resize((15, 31), mode, antialias=aa), image(3, 37, 20),
                 f"{mode}, antialias={aa}, (h, w) = (15, 31): shrinks the height, grows the width")
            case(f"{q}_factor_9", lambda mode=mode, aa=aa: Resize(7, mode, antialias=aa), image(2, 64, 80),
                 f"{mode}, antialias={aa}, shrinking ~9x: the antialias filter spans ~{'18' if mode == 'bilinear' else '36'} input pixels")
    case("resize_nearest_shorter_side", lambda: Resize(13, "nearest"), image(3, 29, 40),
         "nearest (align_corners=None), an int resizes the shorter side")
    case("resize_bilinear_portrait", lambda: Resize(16, antialias=True), image(3, 50, 30),
         "w <= h: the width is the shorter side (30 -> 16), the height int(16*50/30) = 26")
    case("resize_max_size", lambda: Resize(10, max_size=25, antialias=True), image(3, 20, 60),
         "max_size=25 caps the longer side (30 -> 25); the shorter becomes int(25*10/30) = 8")
    case("resize_same_size_passthrough", lambda: Resize(16, antialias=True), image(3, 16, 20),
         "the image already has the output size: returned unchanged")
    case("resize_batched_aa", lambda: Resize(17, antialias=True), image(2, 3, 30, 40),
         "a batch (N, C, H, W), bilinear with antialias")
    case("resize_default_antialias_none", lambda: Resize(24), image(3, 40, 47),
         "antialias=None means False for tensors in torchvision 0.14 (and prints None)")

    # -- CenterCrop ----------------------------------------------------------------
    case("centercrop_round_half_even", lambda: T.CenterCrop((20, 21)), image(3, 37, 50),
         "top = round(17/2) = 8, left = round(29/2) = 14: Python rounds halves to even")
    case("centercrop_square_int", lambda: T.CenterCrop(8), image(2, 3, 12, 15),
         "an int crops a square; a batch of images")
    case("centercrop_larger_pads", lambda: T.CenterCrop((15, 13)), image(3, 10, 12),
         "a crop larger than the image pads with zeros: (15-10)//2 = 2 rows above, 3 below")
    case("centercrop_pad_one_axis", lambda: T.CenterCrop((7, 17)), image(3, 10, 12),
         "crops the height, pads the width")

    # -- Normalize and ToTensor ----------------------------------------------------------
    case("normalize_imagenet", lambda: T.Normalize(MEAN, STD), image(3, 8, 9),
         "ImageNet's mean and std: subtracted, then divided, in float32")
    case("normalize_batched_broadcast", lambda: T.Normalize([0.5], [0.25]), image(2, 3, 5, 6),
         "one mean and std for every channel, on a batch")
    case("totensor_hwc", lambda: ToTensor(), image(9, 11, 3),
         "an H x W x C image to C x H x W, values unchanged; its input holds bytes / 255, so the tests "
         "also feed the same pixels as RGB, BGR and RGBA bytes (with row padding) to ToTensor.FromPixels")
    case("totensor_hw_gray", lambda: ToTensor(), image(6, 7),
         "an H x W image gets one channel")

    # -- the ImageNet pipeline ---------------------------------------------------------------
    case("pipeline_imagenet", lambda: nn.Sequential(Resize(32, antialias=True), T.CenterCrop(28), T.Normalize(MEAN, STD)),
         image(1, 3, 45, 60), "Resize(32, antialias=True) >> CenterCrop(28) >> Normalize(ImageNet): the classifiers' input")
