"""Parity cases for traced forwards that call functions (family "graph").

Small custom modules of the kind people write: F.* calls with constant arguments, view / permute /
chunk / indexing, sizes from x.shape, scalar arithmetic, reductions, matmul, parameters used in
forward, tuple and dict outputs. Their descriptions come from tools/export.py's torch.fx tracing;
each case's name says which functions it pins. Tuple unpacking is written as indexing so the
tracer of PyTorch 1.13 on Python 3.11 follows it.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class PoolsInterpolatePad(nn.Module):
    """F.max_pool2d / avg_pool2d / adaptive_avg_pool2d / adaptive_max_pool2d, F.interpolate, F.pad."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        y = self.conv(x)
        a = F.max_pool2d(y, 3, stride=2, padding=1, ceil_mode=True)
        b = F.avg_pool2d(y, 2, count_include_pad=False)
        c = F.adaptive_avg_pool2d(y, (3, 2)) + F.adaptive_max_pool2d(y, (3, 2))
        up = F.interpolate(b, size=a.shape[-2:], mode="bilinear", align_corners=False)
        near = F.interpolate(c, scale_factor=2, mode="nearest")
        return torch.cat([a + up, F.pad(near, [1, 1, 0, 0], value=0.5)[:, :, :, 1:-1].mean([2, 3], keepdim=True).expand_as(a)], 1)


class ActivationsSoftmaxNormalize(nn.Module):
    """Functional activations, softmax / log_softmax over dims, F.normalize, dropout as identity."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 8)

    def forward(self, x):
        y = self.fc(x)
        y = F.gelu(y) + F.silu(y) * 0.5 - F.hardswish(y) + F.hardsigmoid(y)
        y = torch.sigmoid(y) * torch.tanh(y) + F.leaky_relu(y, 0.2) + F.elu(y) + F.relu6(y * 3) + F.hardtanh(y, -0.5, 0.5)
        y = F.dropout(y, 0.3, self.training) + F.mish(y) + F.softplus(y, beta=2.0)
        s = F.softmax(y, dim=-1) + F.log_softmax(y, 1) + y.softmax(0)
        return F.normalize(s, dim=1) + y.relu().sqrt() - torch.rsqrt(y.abs() + 1) + (-y).exp() * 0.01


class ViewPermuteChunkShapeArithmetic(nn.Module):
    """x.shape / x.size() arithmetic, view, permute, transpose, contiguous, chunk / split indexed, flatten."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 8, 1)

    def forward(self, x):
        n, c = x.size(0), x.shape[1]
        h, w = x.shape[2], x.shape[3]
        y = self.conv(x)
        # channel shuffle (shufflenet): view, transpose, contiguous, view
        y = y.view(n, 2, (2 * c) // 2, h, w).transpose(1, 2).contiguous().view(n, -1, h, w)
        a = torch.chunk(y, 2, dim=1)[0]
        b = y.chunk(2, 1)[1]
        s = torch.split(y, [3, 5], dim=1)[1]
        t = y.split(4, 1)[-1]
        z = a * b - 1 + s[:, 1:5] / (t.abs() + 1)
        z = z.permute(0, 2, 3, 1).reshape(n, h * w, -1)
        return torch.flatten(z.transpose(1, 2), 1) + 2 / (z.flatten(1) ** 2 + 1)


class ReductionsSqueezeStackMatmul(nn.Module):
    """mean / sum / amax over dims with keepdim, squeeze / unsqueeze, stack, matmul / @ / bmm, indexing with None and ..."""

    def __init__(self):
        super().__init__()
        self.q = nn.Linear(4, 4)
        self.k = nn.Linear(4, 4)

    def forward(self, x):
        q, k = self.q(x), self.k(x)
        att = torch.softmax(q @ k.transpose(-2, -1) / 2.0, dim=-1)
        v = torch.bmm(att, x)
        m = v.mean(1, keepdim=True) + v.sum(dim=[1], keepdim=True) * 0.1 - v.amax(1, keepdim=True)
        st = torch.stack([v, x], dim=1).sum(1)
        sq = m.squeeze(1).unsqueeze(-1)
        return torch.matmul(st, sq)[..., 0] + x.mean([1, 2])[:, None] + v[:, -1, None, 2].squeeze()[..., None]


class DictOutput(nn.Module):
    """A forward returning a dict, as torchvision's segmentation models: Forward gives "out"."""

    def __init__(self):
        super().__init__()
        self.body = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Conv2d(4, 2, 1)
        self.aux = nn.Conv2d(4, 2, 1)

    def forward(self, x):
        f = F.relu(self.body(x))
        size = x.shape[-2:]
        out = F.interpolate(self.head(F.max_pool2d(f, 2)), size=size, mode="bilinear", align_corners=False)
        return {"out": out, "aux": self.aux(f)}


class TupleOutput(nn.Module):
    """A forward returning a tuple: Forward gives its first element."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 3)

    def forward(self, x):
        y = self.fc(x)
        return y * 2 + 1, y.sum(-1), x.shape[0]


class ParametersInForward(nn.Module):
    """Parameters and buffers read in forward (get_attr): F.conv2d / conv_transpose2d / linear with the
    module's weights, convnext's LayerNorm2d (permute, F.layer_norm, permute back) and layer scale,
    F.batch_norm with running statistics, F.group_norm, a class token concatenated."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(6, 3, 3, 3) * 0.3)
        self.bias = nn.Parameter(torch.randn(6) * 0.1)
        self.up = nn.Parameter(torch.randn(6, 4, 2, 2) * 0.3)
        self.norm_weight = nn.Parameter(1 + 0.1 * torch.randn(4))
        self.norm_bias = nn.Parameter(0.1 * torch.randn(4))
        self.layer_scale = nn.Parameter(torch.full((4, 1, 1), 0.5) + 0.1 * torch.randn(4, 1, 1))
        self.register_buffer("running_mean", 0.1 * torch.randn(4))
        self.register_buffer("running_var", 1 + 0.2 * torch.rand(4))
        self.class_token = nn.Parameter(torch.randn(1, 1, 4))
        self.proj = nn.Parameter(torch.randn(3, 4) * 0.5)

    def forward(self, x):
        y = F.conv2d(x, self.weight, self.bias, stride=1, padding=1)
        y = F.conv_transpose2d(F.relu(y), self.up, None, stride=2)
        z = F.layer_norm(y.permute(0, 2, 3, 1), (4,), self.norm_weight, self.norm_bias, 1e-6).permute(0, 3, 1, 2)
        z = y + self.layer_scale * z
        z = F.batch_norm(z, self.running_mean, self.running_var, self.norm_weight, self.norm_bias, False, 0.1, 1e-5)
        z = F.group_norm(z, 2, self.norm_weight, self.norm_bias)
        tokens = z.flatten(2).transpose(1, 2)
        tokens = torch.cat([self.class_token.expand(x.shape[0], -1, -1), tokens], dim=1)
        return F.linear(tokens, self.proj)[:, 0]


def add_cases(g):
    g.case("graph", "pools_interpolate_pad_functional", PoolsInterpolatePad, g.randn(2, 3, 9, 7), 1e-5, 1e-4,
           "F.max_pool2d (ceil_mode), F.avg_pool2d (count_include_pad=False), F.adaptive_avg/max_pool2d, "
           "F.interpolate to x.shape[-2:] and by scale, F.pad with value, slicing, mean keepdim, expand_as")
    g.case("graph", "activations_softmax_normalize_functional", ActivationsSoftmaxNormalize, g.randn(3, 6), 1e-5, 1e-4,
           "F.gelu/silu/hardswish/hardsigmoid/leaky_relu/elu/relu6/hardtanh/mish/softplus, sigmoid, tanh, F.dropout in eval, "
           "softmax/log_softmax over dims, F.normalize, relu/sqrt/rsqrt/abs/exp methods, scalar arithmetic")
    g.case("graph", "view_permute_chunk_split_shape_arithmetic", ViewPermuteChunkShapeArithmetic, g.randn(2, 4, 3, 5), 1e-5, 1e-4,
           "x.size(0), x.shape[i], int arithmetic, view/transpose/contiguous channel shuffle, chunk and split (sizes and list) "
           "indexed, slicing, permute, reshape with -1, flatten, pow, scalar / tensor")
    g.case("graph", "reductions_stack_matmul_bmm_indexing", ReductionsSqueezeStackMatmul, g.randn(2, 3, 4), 1e-5, 1e-4,
           "@ with transpose(-2, -1), torch.softmax, bmm, matmul, mean/sum/amax over dims keepdim, stack, squeeze/unsqueeze, "
           "indexing with ..., None and negative ints")
    g.case("graph", "parameters_in_forward_conv_norms_class_token", ParametersInForward, g.randn(2, 3, 5, 4), 1e-5, 1e-4,
           "get_attr: F.conv2d/conv_transpose2d/linear with the module's parameters, permute + F.layer_norm (LayerNorm2d), "
           "layer scale, F.batch_norm with buffers, F.group_norm, a class token expanded to the batch and concatenated")
    g.case("graph", "dict_output_first_entry", DictOutput, g.randn(1, 3, 8, 6), 1e-5, 1e-4,
           "a dict output (segmentation's {'out', 'aux'}): output holds 'out'; F.relu, F.max_pool2d, F.interpolate to x.shape[-2:]")
    g.case("graph", "tuple_output_first_element", TupleOutput, g.randn(4, 5), 1e-5, 1e-4,
           "a tuple output with a tensor, a reduction and an int: output holds the first element")
