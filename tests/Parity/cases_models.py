"""Parity cases for whole models that are not a plain chain (family "models").

Their descriptions come from tools/export.py's torch.fx tracing ({type, children, graph}).
Large models use generated weights (FORMAT.md: generated_weights) so the repository holds
only their input and output.
"""

import torch
import torch.nn as nn


class SkipNet(nn.Module):
    """A residual add, a concatenation with a side branch, a flatten: the graph ops in small."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.act = nn.ReLU()
        self.body = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.GELU(), nn.Conv2d(8, 8, 1))
        self.side = nn.Conv2d(3, 4, 1)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        y = self.act(self.stem(x))
        y = y + self.body(y)
        y = torch.cat([y, self.side(x)], dim=1)
        return torch.flatten(self.pool(y), 1)


def add_cases(g):
    g.case("models", "skipnet_residual_concat_flatten", SkipNet, g.randn(2, 3, 8, 8), 1e-5, 1e-4,
           "torch.fx graph: residual add, cat with a side branch, flatten; stored weights")
    g.case("models", "skipnet_generated_weights", SkipNet, g.randn(1, 3, 6, 6), 1e-5, 1e-4,
           "the same graph with generated_weights instead of stored tensors", generated=True)
