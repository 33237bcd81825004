"""Parity cases of the "norm" family: BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d, LayerNorm, GroupNorm.

Every flag both ways; running statistics and affine parameters are set to random non-trivial
values after construction (PyTorch initialises them to 0/1, which would hide a swapped buffer).
"""

import torch
import torch.nn as nn

FAMILY = "norm"


def randomise(module):
    """Random weight/bias and running statistics, in place; returns the module."""
    with torch.no_grad():
        if getattr(module, "weight", None) is not None:
            module.weight.uniform_(0.5, 1.5)
        if getattr(module, "bias", None) is not None:
            module.bias.uniform_(-0.5, 0.5)
        if getattr(module, "running_mean", None) is not None:
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
            module.num_batches_tracked.fill_(7)
    return module


def shifted(*shape, scale=1.0, offset=0.0):
    """randn * scale + offset: large offsets test the cancellation in mean and variance."""
    return lambda: torch.randn(*shape) * scale + offset


def add_cases(g):
    def case(name, make, inputs, note, atol=1e-5, rtol=1e-4):
        g.case(FAMILY, name, lambda: randomise(make()), inputs, atol, rtol, note)

    spatial = {1: (7,), 2: (5, 4), 3: (3, 4, 5)}

    # -- BatchNorm --------------------------------------------------------------
    for d in (1, 2, 3):
        B = getattr(nn, f"BatchNorm{d}d")
        p = f"batchnorm{d}d"
        s = spatial[d]
        for affine in (True, False):
            for trs in (True, False):
                tag = f"{'affine' if affine else 'noaffine'}_{'running' if trs else 'batchstats'}"
                case(f"{p}_{tag}", lambda B=B, a=affine, t=trs: B(3, affine=a, track_running_stats=t),
                     g.randn(4, 3, *s), f"affine={affine}, track_running_stats={trs}"
                     + ("" if trs else ": eval mode normalises with the batch's own statistics"))
        case(f"{p}_eps1em3_momentum_none", lambda B=B: B(4, eps=1e-3, momentum=None), g.randn(2, 4, *s),
             "eps=1e-3 and momentum=None (printed as None)")
        case(f"{p}_eps0p1_running", lambda B=B: B(4, eps=0.1), g.randn(2, 4, *s), "eps=0.1 with running stats")
        case(f"{p}_large_magnitude_running", lambda B=B: B(3), shifted(2, 3, *s, scale=100.0, offset=1000.0),
             "values around 1000 +- 100 with running stats", atol=1e-3)
        case(f"{p}_large_offset_batchstats", lambda B=B: B(3, track_running_stats=False),
             shifted(3, 3, *s, scale=1.0, offset=1000.0),
             "batch statistics of values 1000 + N(0, 1): the variance needs a centred sum", atol=5e-4, rtol=1e-3)
    case("batchnorm1d_2d_input_running", lambda: nn.BatchNorm1d(5), g.randn(6, 5), "BatchNorm1d on (N, C)")
    case("batchnorm1d_2d_input_batchstats", lambda: nn.BatchNorm1d(5, track_running_stats=False), g.randn(6, 5),
         "BatchNorm1d on (N, C) with batch statistics")
    case("batchnorm1d_momentum_int_eps_int", lambda: nn.BatchNorm1d(3, eps=1, momentum=1), g.randn(2, 3, 4),
         "eps and momentum given as ints print as ints")
    case("batchnorm2d_batch1_batchstats", lambda: nn.BatchNorm2d(3, affine=False, track_running_stats=False),
         g.randn(1, 3, 4, 4), "one sample: statistics over the spatial positions alone")

    # -- InstanceNorm -----------------------------------------------------------
    for d in (1, 2, 3):
        I = getattr(nn, f"InstanceNorm{d}d")
        p = f"instancenorm{d}d"
        s = spatial[d]
        for affine in (False, True):
            for trs in (False, True):
                tag = f"{'affine' if affine else 'noaffine'}_{'running' if trs else 'inputstats'}"
                case(f"{p}_{tag}", lambda I=I, a=affine, t=trs: I(3, affine=a, track_running_stats=t),
                     g.randn(2, 3, *s), f"affine={affine}, track_running_stats={trs}"
                     + (": eval mode normalises with the running statistics" if trs else ""))
        case(f"{p}_unbatched", lambda I=I: I(3), g.randn(3, *s), "unbatched (C, ...) input")
        case(f"{p}_unbatched_affine_running", lambda I=I: I(3, affine=True, track_running_stats=True),
             g.randn(3, *s), "unbatched input with affine and running statistics")
        case(f"{p}_eps1em2", lambda I=I: I(2, eps=1e-2), g.randn(2, 2, *s), "eps=1e-2")
        case(f"{p}_large_offset", lambda I=I: I(3, affine=True), shifted(2, 3, *s, scale=1.0, offset=1000.0),
             "values 1000 + N(0, 1): per-plane statistics need a centred sum", atol=5e-4, rtol=1e-3)
    case("instancenorm1d_channel_mismatch_plain", lambda: nn.InstanceNorm1d(3), g.randn(2, 5, 6),
         "no affine, no running stats: PyTorch only warns when C != num_features and normalises anyway")

    # -- LayerNorm --------------------------------------------------------------
    case("layernorm_int_shape", lambda: nn.LayerNorm(8), g.randn(3, 5, 8), "normalized_shape given as an int")
    case("layernorm_two_dims", lambda: nn.LayerNorm((4, 5)), g.randn(2, 3, 4, 5), "over the last two dims")
    case("layernorm_three_dims", lambda: nn.LayerNorm([2, 3, 4]), g.randn(2, 2, 3, 4), "over the last three dims (a list)")
    case("layernorm_no_affine", lambda: nn.LayerNorm(6, elementwise_affine=False), g.randn(4, 6), "elementwise_affine=False")
    case("layernorm_eps1em3", lambda: nn.LayerNorm(6, eps=1e-3), g.randn(4, 6), "eps=1e-3")
    case("layernorm_eps0p5_no_affine", lambda: nn.LayerNorm((2, 3), eps=0.5, elementwise_affine=False), g.randn(3, 2, 3),
         "large eps=0.5 visibly shrinks the output")
    case("layernorm_whole_input", lambda: nn.LayerNorm((3, 4)), g.randn(3, 4), "input shape equals normalized_shape")
    case("layernorm_large_offset", lambda: nn.LayerNorm(16), shifted(4, 16, scale=1.0, offset=1000.0),
         "values 1000 + N(0, 1): the variance needs a centred sum; PyTorch's x*rstd - mean*rstd cancels", atol=2e-3, rtol=1e-3)
    case("layernorm_large_scale", lambda: nn.LayerNorm(32), g.randn(4, 32, scale=1e4), "values of magnitude 1e4")
    case("layernorm_constant_row", lambda: nn.LayerNorm(5), lambda: torch.full((2, 5), 3.0),
         "a constant row: variance 0, output = bias")

    # -- GroupNorm --------------------------------------------------------------
    case("groupnorm_2_groups", lambda: nn.GroupNorm(2, 6), g.randn(2, 6, 4, 3), "2 groups of 3 channels")
    case("groupnorm_1_group", lambda: nn.GroupNorm(1, 4), g.randn(2, 4, 5), "1 group: like LayerNorm over (C, *) with per-channel affine")
    case("groupnorm_groups_eq_channels", lambda: nn.GroupNorm(4, 4), g.randn(2, 4, 3, 3), "groups = channels: instance norm")
    case("groupnorm_no_affine", lambda: nn.GroupNorm(3, 6, affine=False), g.randn(2, 6, 5), "affine=False")
    case("groupnorm_eps1em2", lambda: nn.GroupNorm(2, 4, eps=1e-2), g.randn(1, 4, 3, 3), "eps=1e-2")
    case("groupnorm_2d_input", lambda: nn.GroupNorm(2, 8), g.randn(3, 8), "(N, C) input: each group holds C/G values")
    case("groupnorm_5d_input", lambda: nn.GroupNorm(2, 4), g.randn(1, 4, 2, 3, 4), "(N, C, D, H, W) input")
    case("groupnorm_large_offset", lambda: nn.GroupNorm(2, 4), shifted(2, 4, 6, scale=1.0, offset=1000.0),
         "values 1000 + N(0, 1)", atol=2e-3, rtol=1e-3)
    case("groupnorm_no_affine_channels_differ", lambda: nn.GroupNorm(2, 4, affine=False), g.randn(2, 6, 3),
         "affine=False: PyTorch checks only divisibility by num_groups, not num_channels")

    # -- in a Sequential ---------------------------------------------------------
    g.case(FAMILY, "sequential_conv_batchnorm_relu",
           lambda: randomise_all(nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())),
           g.randn(2, 3, 6, 6), 2e-5, 1e-4, "Conv2d -> BatchNorm2d (running stats) -> ReLU: buffers under 1.running_mean")


def randomise_all(module):
    for m in module.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
            randomise(m)
    return module
