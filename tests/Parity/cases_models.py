"""Parity cases for whole models that are not a plain chain (family "models").

Their descriptions come from tools/export.py's torch.fx tracing ({type, children, graph}).
Large models use generated weights (FORMAT.md: generated_weights) so the repository holds
only their input and output.
"""

from collections import OrderedDict

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
    add_more_cases(g)


class UNet(nn.Module):
    """A two-level UNet: MaxPool down, ConvTranspose2d up, skips concatenated, BatchNorm."""

    def __init__(self, c_in=3, c_out=2, width=8):
        super().__init__()

        def block(i, o):
            return nn.Sequential(nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True),
                                 nn.Conv2d(o, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True))

        self.enc1 = block(c_in, width)
        self.enc2 = block(width, 2 * width)
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = block(2 * width, 4 * width)
        self.up2 = nn.ConvTranspose2d(4 * width, 2 * width, 2, stride=2)
        self.dec2 = block(4 * width, 2 * width)
        self.up1 = nn.ConvTranspose2d(2 * width, width, 2, stride=2)
        self.dec1 = block(2 * width, width)
        self.head = nn.Conv2d(width, c_out, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        b = self.bottleneck(self.pool(e2))
        d2 = self.dec2(torch.cat([self.up2(b), e2], dim=1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
        return self.head(d1)


class DCGANGenerator(nn.Module):
    """DCGAN's generator (Radford et al.), scaled down: latent 16 -> 3x32x32."""

    def __init__(self, nz=16, ngf=8, nc=3):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z):
        return self.main(z)


class ECGClassifier(nn.Module):
    """A 1-D conv net for single-lead ECG windows (1 x 256 samples) into 5 rhythm classes."""

    def __init__(self, classes=5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(1, 16, 7, padding=3), nn.BatchNorm1d(16), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(16, 32, 5, padding=2, dilation=1), nn.BatchNorm1d(32), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(32, 32, 3, padding=2, dilation=2), nn.BatchNorm1d(32), nn.ReLU(),
            nn.AdaptiveAvgPool1d(1))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(32, classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class TinyC3D(nn.Module):
    """C3D (Tran et al.) in miniature: 3-D convolutions and pools over 8 frames of 16x16."""

    def __init__(self, classes=4):
        super().__init__()
        self.conv1 = nn.Conv3d(3, 8, 3, padding=1)
        self.pool1 = nn.MaxPool3d((1, 2, 2))
        self.conv2 = nn.Conv3d(8, 16, 3, padding=1)
        self.pool2 = nn.MaxPool3d(2)
        self.conv3 = nn.Conv3d(16, 16, 3, padding=1)
        self.pool3 = nn.AdaptiveAvgPool3d(1)
        self.fc = nn.Linear(16, classes)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.pool1(self.relu(self.conv1(x)))
        x = self.pool2(self.relu(self.conv2(x)))
        x = self.pool3(self.relu(self.conv3(x)))
        return self.fc(torch.flatten(x, 1))


class ScaledConv(nn.Conv2d):
    """A layer subclass that keeps nn.Conv2d's forward: described by Conv2d's arguments, printed under its own name."""


class ConvBlock(nn.Sequential):
    """A Sequential subclass: PyTorch prints it under its own name."""

    def __init__(self, c):
        super().__init__(ScaledConv(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU())


class Gather(nn.Module):
    """Takes a list of tensors (as densenet's _DenseLayer does): traced through its caller's graph."""

    def __init__(self, c_in, c_out):
        super().__init__()
        self.proj = nn.Conv2d(c_in, c_out, 1)

    def forward(self, inputs):
        return self.proj(torch.cat(inputs, 1))


class Stages(nn.ModuleDict):
    """A ModuleDict with its own forward (as torchvision's IntermediateLayerGetter)."""

    def __init__(self, c):
        super().__init__(OrderedDict([("first", ConvBlock(c)), ("second", nn.Conv2d(c, c, 1))]))

    def forward(self, x):
        for module in self.values():
            x = module(x)
        return x


class UserParts(nn.Module):
    """What users write beyond torch.nn: a parameter read in forward, a named Sequential, the
    modules above, a ModuleList of branches."""

    def __init__(self, c=4):
        super().__init__()
        self.stem = nn.Sequential(OrderedDict([("conv", nn.Conv2d(3, c, 3, padding=1)), ("act", nn.ReLU())]))
        self.stages = Stages(c)
        self.branches = nn.ModuleList([nn.Conv2d(c, c, 1), nn.Conv2d(c, c, 3, padding=1)])
        self.gather = Gather(3 * c, c)
        self.scale = nn.Parameter(torch.randn(1, c, 1, 1))

    def forward(self, x):
        x = self.stages(self.stem(x))
        y = self.gather([x] + [b(x) for b in self.branches])
        return y * self.scale + x


def _resnet18():
    import torchvision
    return torchvision.models.resnet18()


def add_more_cases(g):
    g.case("models", "user_parts_subclasses_named_sequential_get_attr", UserParts, g.randn(1, 3, 8, 8), 1e-5, 1e-4,
           "tools/export.py on what users write: a Conv2d subclass, a Sequential subclass, a named Sequential, a ModuleDict "
           "with a forward, a ModuleList of branches, a child taking a list (traced through), a parameter read in forward (get_attr)",
           generated=True)
    g.case("models", "unet_two_levels_concat_skips", UNet, g.randn(1, 3, 16, 16), 1e-4, 1e-4,
           "UNet: ConvTranspose2d up-sampling, skips concatenated, BatchNorm with generated running stats", generated=True)
    g.case("models", "dcgan_generator", DCGANGenerator, g.randn(2, 16, 1, 1), 1e-5, 1e-4,
           "DCGAN generator: a chain of ConvTranspose2d + BatchNorm2d + ReLU, Tanh", generated=True)
    g.case("models", "ecg_classifier_1d", ECGClassifier, g.randn(3, 1, 256), 1e-4, 1e-4,
           "1-D ECG classifier: Conv1d with dilation, BatchNorm1d, MaxPool1d, AdaptiveAvgPool1d, Flatten, Linear", generated=True)
    g.case("models", "tiny_c3d_video", TinyC3D, g.randn(1, 3, 8, 16, 16), 1e-4, 1e-4,
           "tiny C3D: Conv3d, MaxPool3d with a (1, 2, 2) kernel, AdaptiveAvgPool3d, Linear", generated=True)
    g.case("models", "resnet18_torchvision", _resnet18, g.randn(1, 3, 224, 224), 1e-4, 1e-4,
           "torchvision resnet18() in eval mode with generated weights (11,689,512 parameters); the DSL ResNet-18 "
           "in samples/Models is checked against this case too", generated=True)
