"""Parity cases for a model written the way users write forward() (family "user"): F.* calls,
tuple unpacking of chunk and x.shape, view/permute, parameters used directly in forward."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class GatedMixer(nn.Module):
    def __init__(self, c=8):
        super().__init__()
        self.stem = nn.Conv2d(3, 2 * c, 3, padding=1)
        self.bn = nn.BatchNorm2d(2 * c)
        self.c = c
        self.dw_weight = nn.Parameter(torch.randn(c, 1, 3, 3) * 0.3)
        self.scale = nn.Parameter(torch.rand(1, c, 1, 1) + 0.5)
        self.proj = nn.Linear(c, c)
        self.head = nn.Linear(2 * c, 5)

    def forward(self, x):
        y = F.relu(self.bn(self.stem(x)))
        a, b = y.chunk(2, dim=1)
        a = F.conv2d(a, self.dw_weight, padding=1, groups=self.c)
        y = a * torch.sigmoid(b) * self.scale + (1 - torch.sigmoid(b)) * 0.5
        n, c, h, w = y.shape
        t = y.view(n, c, h * w).permute(0, 2, 1)           # tokens: n, h*w, c
        t = t + self.proj(F.layer_norm(t, (c,)))
        attn = torch.softmax(t @ t.transpose(1, 2) / c ** 0.5, dim=-1)
        t = attn @ t
        y = t.permute(0, 2, 1).reshape(n, c, h, w)
        up = F.interpolate(F.max_pool2d(y, 2), scale_factor=2, mode="nearest")
        z = torch.cat([y, up], dim=1)
        return self.head(F.adaptive_avg_pool2d(z, 1).flatten(1)) + z.mean([2, 3], keepdim=False)[:, :5]


def add_cases(g):
    g.case("user", "gated_mixer_chunk_shape_unpack_attention_params_in_forward", GatedMixer,
           g.randn(2, 3, 8, 8), 1e-5, 1e-4,
           "a user-written forward: F.conv2d with a parameter, chunk and x.shape unpacking, view/permute, "
           "layer_norm, attention with @ and softmax, interpolate, cat, mean over dims")
