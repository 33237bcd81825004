"""Parity cases for the torchvision zoo (family "zoo"): one case per architecture family.

Each is a torchvision 0.14 model in eval mode as tools/export.py describes it, with generated
weights (FORMAT.md: generated_weights; BatchNorm running statistics included, so they are not
the trivial 0/1) and a small input where the architecture allows, so the whole suite stays
fast. The tolerance is relative to the output's scale: atol = 1e-4 * max(1, max|y|), the
issue's measure max|diff| / max(1, max|y|) <= 1e-4.
"""

import torch

# name, constructor (a torchvision.models path), keyword arguments, input shape, what it pins
ZOO = [
    ("resnet50", "resnet50", {}, (1, 3, 64, 64), "bottleneck blocks, downsample Sequential"),
    ("resnext50_32x4d", "resnext50_32x4d", {}, (1, 3, 64, 64), "grouped 3x3 convolutions (32 groups)"),
    ("vgg11_bn", "vgg11_bn", {}, (1, 3, 64, 64), "plain Sequential features with BatchNorm, adaptive pool up-sampling 2x2 to 7x7"),
    ("alexnet", "alexnet", {}, (1, 3, 64, 64), "11x11 stride-4 stem, adaptive pool 1x1 to 6x6"),
    ("squeezenet1_1", "squeezenet1_1", {}, (1, 3, 64, 64), "Fire modules: concatenated expand branches, ceil_mode pools"),
    ("densenet121", "densenet121", {}, (1, 3, 64, 64), "_DenseLayer traced through its block (it takes a list), named Sequential features"),
    ("googlenet", "googlenet", {"aux_logits": False, "init_weights": False}, (1, 3, 64, 64), "Inception branches concatenated"),
    ("inception_v3", "inception_v3", {"aux_logits": False, "init_weights": False}, (1, 3, 75, 75), "F.max_pool2d / F.avg_pool2d in forward, asymmetric kernels; 75x75 is its smallest input"),
    ("mobilenet_v2", "mobilenet_v2", {}, (1, 3, 64, 64), "inverted residuals, ReLU6, F.adaptive_avg_pool2d in forward"),
    ("mobilenet_v3_small", "mobilenet_v3_small", {}, (1, 3, 64, 64), "squeeze-excitation, Hardswish, Conv2dNormActivation printout"),
    ("mnasnet0_5", "mnasnet0_5", {}, (1, 3, 64, 64), "x.mean([2, 3]) in forward"),
    ("shufflenet_v2_x0_5", "shufflenet_v2_x0_5", {}, (1, 3, 64, 64), "chunk and x.size() unpacking, view/transpose channel shuffle"),
    ("efficientnet_b0", "efficientnet_b0", {}, (1, 3, 64, 64), "MBConv with stochastic depth (identity in eval), SiLU"),
    ("regnet_x_400mf", "regnet_x_400mf", {}, (1, 3, 64, 64), "named Sequential blocks (block1-1), AnyStage Sequential subclass"),
    ("regnet_y_400mf", "regnet_y_400mf", {}, (1, 3, 64, 64), "regnet with squeeze-excitation"),
    ("convnext_tiny", "convnext_tiny", {}, (1, 3, 64, 64), "LayerNorm2d (a LayerNorm with its own forward), layer_scale read in forward, permute"),
    ("fcn_resnet50", "segmentation.fcn_resnet50", {"weights_backbone": None}, (1, 3, 64, 64), "IntermediateLayerGetter, F.interpolate to x.shape[-2:], dict output (out)"),
    ("deeplabv3_mobilenet_v3_large", "segmentation.deeplabv3_mobilenet_v3_large", {"weights_backbone": None}, (1, 3, 64, 64), "ASPP: ModuleList branches, image pooling interpolated back"),
    ("lraspp_mobilenet_v3_large", "segmentation.lraspp_mobilenet_v3_large", {"weights_backbone": None}, (1, 3, 64, 64), "LR-ASPP: two feature levels, sigmoid gate, dict output"),
    ("r3d_18", "video.r3d_18", {}, (1, 3, 4, 16, 16), "Conv3DSimple (an nn.Conv3d subclass) described by its base's arguments"),
    ("mc3_18", "video.mc3_18", {}, (1, 3, 4, 16, 16), "Conv3DNoTemporal and Conv3DSimple mixed"),
    ("r2plus1d_18", "video.r2plus1d_18", {}, (1, 3, 4, 16, 16), "R2Plus1dStem and Conv2Plus1D Sequential subclasses"),
]

REL_TOL = 1e-4


def _model(path, kwargs):
    def make():
        import torchvision
        m = torchvision.models
        for part in path.split("."):
            m = getattr(m, part)
        return m(**kwargs)
    return make


def add_cases(g):
    for name, path, kwargs, shape, what in ZOO:
        g.case("zoo", name, _model(path, kwargs), g.randn(*shape), REL_TOL, 0.0,
               f"torchvision {path} in eval mode, generated weights and BatchNorm statistics: {what}",
               generated=True, relative=True)
