"""Parity cases of the "extreme" family: values near float32's limit (±1.5e38), ±Inf and NaN through
every convolution path of src/Kernels/Convolution (Winograd, GEMM, direct, depthwise planes and
rows, few-positions, 1×1, transposed stride 1 and sub-pixel). A fast path may reorder the sum but
must not overflow where the direct sum does not, nor turn PyTorch's ±Inf into NaN.

The comparison (Tensor.FirstMismatch): NaN only where PyTorch gives NaN, an infinity only where
PyTorch gives the same one, finite values within atol + rtol·|expected|. Near 1e38, float rounding
of nine products is ~1e31 and cancellation can leave results far smaller than their terms, so the
"big" cases carry an atol of 1e33 (1e-5 of the inputs' scale).
"""

import torch
import torch.nn as nn

FAMILY = "extreme"
BIG = 1.5e38

# (name, module, input shape, which path the C# dispatch takes for it)
PATHS = [
    ("winograd16", lambda: nn.Conv2d(16, 16, 3, padding=1), (1, 16, 8, 8),
     "Winograd F(2x2,3x3): 3x3 stride 1, 16 channels, 16 tiles"),
    ("winograd32", lambda: nn.Conv2d(32, 16, 3, padding=1), (1, 32, 8, 8),
     "Winograd F(2x2,3x3): 32 -> 16 channels"),
    ("gemm", lambda: nn.Conv2d(6, 4, 3, stride=2), (1, 6, 12, 12),
     "im2col + packed GEMM: 6 input channels, stride 2"),
    ("direct", lambda: nn.Conv2d(3, 8, 3, padding=1), (1, 3, 20, 20),
     "direct kernel: 3 input channels, rows of 20"),
    ("depthwise_planes", lambda: nn.Conv2d(8, 8, 3, padding=1, groups=8), (1, 8, 10, 10),
     "depthwise 3x3 stride 1 (whole planes)"),
    ("depthwise_rows", lambda: nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8), (1, 8, 10, 10),
     "depthwise stride 2 (rows)"),
    ("few_positions", lambda: nn.Conv2d(8, 48, 3, stride=2, padding=1), (1, 8, 14, 14),
     "few positions: 49 outputs, 48 output channels, positions as GEMM rows"),
    ("pointwise", lambda: nn.Conv2d(16, 16, 1), (1, 16, 8, 8),
     "1x1 stride 1: the input multiplied as it lies"),
    ("transposed", lambda: nn.ConvTranspose2d(8, 8, 3, padding=1), (1, 8, 6, 6),
     "transposed stride 1: GEMM + col2im"),
    ("transposed_subpixel", lambda: nn.ConvTranspose2d(8, 8, 4, stride=2, padding=1), (1, 8, 6, 6),
     "transposed stride 2: sub-pixel phases"),
]


def big_channel0(shape):
    """The issue's reproduction: channel 0 at 1.5e38, every other value 0."""
    def make():
        x = torch.zeros(*shape)
        x[:, 0] = BIG
        return x
    return make


def big_sprinkled(shape):
    """Random inputs with ±1.5e38 at a few positions, of both signs."""
    def make():
        x = torch.randn(*shape)
        flat = x.view(-1)
        idx = torch.randperm(flat.numel())[:max(3, flat.numel() // 50)]
        flat[idx] = BIG * torch.sign(torch.randn(idx.numel()))
        return x
    return make


def special(shape, values):
    """Random inputs with the given special values at distinct random positions."""
    def make():
        x = torch.randn(*shape)
        flat = x.view(-1)
        idx = torch.randperm(flat.numel())[:len(values)]
        for i, v in zip(idx.tolist(), values):
            flat[i] = v
        return x
    return make


INF, NAN = float("inf"), float("nan")
INPUTS = [
    ("big_channel0", big_channel0, 1e33, "channel 0 at 1.5e38, the rest 0"),
    ("big_sprinkled", big_sprinkled, 1e33, "±1.5e38 at 2 % of the positions"),
    ("pos_inf", lambda s: special(s, [INF]), 1e-4, "one +Inf"),
    ("neg_inf", lambda s: special(s, [-INF]), 1e-4, "one -Inf"),
    ("both_inf", lambda s: special(s, [INF, -INF]), 1e-4, "one +Inf and one -Inf (NaN where both reach one output)"),
    ("nan", lambda s: special(s, [NAN]), 1e-4, "one NaN"),
]


def add_cases(g):
    for path, make, shape, why in PATHS:
        for kind, inputs, atol, what in INPUTS:
            g.case(FAMILY, f"{path}_{kind}", make, inputs(shape), atol, 1e-4, f"{why}; input: {what}")
