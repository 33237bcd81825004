"""Parity cases of the "resample" family: Upsample (every mode, align_corners both ways, size and
scale_factor incl. non-integer and downsampling factors, 1-3 spatial dims), UpsamplingNearest2d,
UpsamplingBilinear2d, PixelShuffle, PixelUnshuffle and the padding layers PyTorch 1.13 has.
"""

import torch
import torch.nn as nn

FAMILY = "resample"

# Spatial input sizes per rank: odd and even, non-square.
SP = {1: (7,), 2: (5, 6), 3: (3, 4, 5)}
MODES = {1: ["nearest", "nearest-exact", "linear", "area"],
         2: ["nearest", "nearest-exact", "bilinear", "bicubic", "area"],
         3: ["nearest", "nearest-exact", "trilinear", "area"]}
INTERP = ("linear", "bilinear", "bicubic", "trilinear")


def add_cases(g):
    def case(name, make, inputs, note, atol=1e-6, rtol=1e-5):
        # Bicubic sums 16 taps with negative weights: cancellation leaves ~1e-6 of float rounding
        # (PyTorch's build may also fuse the cubic polynomials into FMAs), so it gets 1e-5.
        if "bicubic" in name:
            atol = max(atol, 1e-5)
        g.case(FAMILY, name, make, inputs, atol, rtol, note)

    # -- Upsample ---------------------------------------------------------------
    for d in (1, 2, 3):
        s = SP[d]
        for mode in MODES[d]:
            m = mode.replace("-", "_")
            p = f"upsample{d}d_{m}"
            acs = (False, True) if mode in INTERP else (None,)
            for ac in acs:
                q = p + ("" if ac is None else ("_ac" if ac else "_noac"))
                kw = {} if ac is None else {"align_corners": ac}
                note = f"mode={mode}" + ("" if ac is None else f", align_corners={ac}")
                case(f"{q}_scale2", lambda mode=mode, kw=kw: nn.Upsample(scale_factor=2, mode=mode, **kw),
                     g.randn(2, 2, *s), note + ", scale_factor=2")
                case(f"{q}_scale1p5", lambda mode=mode, kw=kw: nn.Upsample(scale_factor=1.5, mode=mode, **kw),
                     g.randn(1, 2, *s), note + ", scale_factor=1.5: the source coordinate uses 1/1.5, not in/out")
                case(f"{q}_scale0p6_down", lambda mode=mode, kw=kw: nn.Upsample(scale_factor=0.6, mode=mode, **kw),
                     g.randn(1, 2, *s), note + ", scale_factor=0.6 (downsampling)")
                size = tuple(x * 2 - 1 for x in s)
                case(f"{q}_size", lambda mode=mode, kw=kw, size=size: nn.Upsample(size=size, mode=mode, **kw),
                     g.randn(1, 2, *s), note + f", size={size} (ratio in/out)")
                if mode != "area":
                    case(f"{q}_scale1p5_recompute", lambda mode=mode, kw=kw: nn.Upsample(scale_factor=1.5, mode=mode,
                                                                                        recompute_scale_factor=True, **kw),
                         g.randn(1, 2, *s), note + ", scale_factor=1.5 with recompute_scale_factor=True: ratio in/out")
                    case(f"{q}_scale1p1_same_size", lambda mode=mode, kw=kw: nn.Upsample(scale_factor=1.1, mode=mode, **kw),
                         g.randn(1, 2, *([5] * d)), note + ", scale_factor=1.1 on size 5 gives size 5: "
                         "linear modes copy; nearest (2 channels), nearest-exact and bicubic use 1/1.1")
                    case(f"{q}_scale2p1_double_size", lambda mode=mode, kw=kw: nn.Upsample(scale_factor=2.1, mode=mode, **kw),
                         g.randn(1, 3, *([5] * d)), note + ", scale_factor=2.1 on size 5 gives size 10 (3 channels): 1/2.1")
                    if mode == "nearest" and d >= 2:
                        case(f"{q}_one_channel_scale1p1_same_size", lambda: nn.Upsample(scale_factor=1.1),
                             g.randn(2, 1, *([5] * d)), "one channel: the input is also channels-last contiguous, "
                             "and PyTorch 1.13's channels-last nearest kernel copies when out = in")
                        case(f"{q}_one_channel_scale2p1_double_size", lambda: nn.Upsample(scale_factor=2.1),
                             g.randn(1, 1, *([5] * d)), "one channel (channels-last contiguous): "
                             "PyTorch 1.13 takes dst/2 when out = 2 in, not dst/2.1")
                        case(f"{q}_one_pixel_many_channels", lambda: nn.Upsample(scale_factor=2.1),
                             g.randn(1, 4, *([1] * d)), "a single spatial position with 4 channels is channels-last "
                             "contiguous too: the dst/2 shortcut, which from one pixel changes nothing visible")
            if d >= 2:
                sf = (1.5, 2.0) if d == 2 else (2.0, 0.5, 1.5)
                kw = {"align_corners": True} if mode in INTERP else {}
                case(f"{p}_scale_tuple", lambda mode=mode, kw=kw, sf=sf: nn.Upsample(scale_factor=sf, mode=mode, **kw),
                     g.randn(1, 2, *s), f"mode={mode}, scale_factor={sf} per dimension")
                sz = (4, 9) if d == 2 else (5, 2, 7)
                case(f"{p}_size_tuple_mixed", lambda mode=mode, sz=sz: nn.Upsample(size=sz, mode=mode),
                     g.randn(1, 2, *s), f"mode={mode}, size={sz}: up in some dims, down in others")
    case("upsample1d_nearest_one_channel_scale1p1_same_size", lambda: nn.Upsample(scale_factor=1.1), g.randn(2, 1, 5),
         "1-d nearest has no shortcut even with one channel: 5 -> 5 with scale 1/1.1 repeats index 0")
    case("upsample2d_bicubic_overshoot", lambda: nn.Upsample(scale_factor=3, mode="bicubic"),
         lambda: (torch.rand(1, 1, 4, 4) > 0.5).float() * 10, "bicubic on a 0/10 step image overshoots below 0 and above 10",
         atol=1e-4)
    case("upsample2d_bilinear_size1_ac", lambda: nn.Upsample(size=(1, 4), mode="bilinear", align_corners=True),
         g.randn(1, 2, 3, 3), "align_corners=True with output size 1: scale 0, takes the first row")
    case("upsample2d_bicubic_size_from1", lambda: nn.Upsample(size=(3, 4), mode="bicubic"),
         g.randn(1, 2, 1, 2), "bicubic from a size-1 dimension: all taps clamp to index 0")
    case("upsample1d_nearest_int_size", lambda: nn.Upsample(size=11), g.randn(2, 3, 4), "size as an int")
    case("upsample2d_bilinear_scale_int", lambda: nn.Upsample(scale_factor=3, mode="bilinear"), g.randn(1, 1, 3, 3),
         "an int scale_factor is stored and printed as 3.0")
    case("upsample2d_nearest_large_values", lambda: nn.Upsample(scale_factor=2), g.randn(1, 2, 3, 3, scale=1e4),
         "nearest copies values exactly")
    case("upsamplingnearest2d_scale2", lambda: nn.UpsamplingNearest2d(scale_factor=2), g.randn(1, 2, 3, 4),
         "UpsamplingNearest2d(scale_factor=2)")
    case("upsamplingnearest2d_size", lambda: nn.UpsamplingNearest2d(size=(5, 7)), g.randn(1, 2, 3, 4),
         "UpsamplingNearest2d(size=(5, 7))")
    case("upsamplingbilinear2d_scale2", lambda: nn.UpsamplingBilinear2d(scale_factor=2), g.randn(1, 2, 3, 4),
         "UpsamplingBilinear2d: bilinear with align_corners=True")
    case("upsamplingbilinear2d_size", lambda: nn.UpsamplingBilinear2d(size=5), g.randn(1, 2, 3, 4),
         "UpsamplingBilinear2d(size=5)")

    # -- PixelShuffle / PixelUnshuffle -------------------------------------------
    case("pixelshuffle_r2", lambda: nn.PixelShuffle(2), g.randn(2, 12, 3, 4), "(2, 12, 3, 4) -> (2, 3, 6, 8)")
    case("pixelshuffle_r3", lambda: nn.PixelShuffle(3), g.randn(1, 18, 2, 3), "upscale_factor=3")
    case("pixelshuffle_unbatched", lambda: nn.PixelShuffle(2), g.randn(8, 3, 2), "unbatched (C, H, W)")
    case("pixelshuffle_5d", lambda: nn.PixelShuffle(2), g.randn(2, 2, 4, 2, 3), "two leading dims")
    case("pixelshuffle_r1", lambda: nn.PixelShuffle(1), g.randn(1, 3, 2, 2), "factor 1 is the identity")
    case("pixelunshuffle_r2", lambda: nn.PixelUnshuffle(2), g.randn(2, 3, 6, 8), "(2, 3, 6, 8) -> (2, 12, 3, 4)")
    case("pixelunshuffle_r3", lambda: nn.PixelUnshuffle(3), g.randn(1, 2, 6, 9), "downscale_factor=3")
    case("pixelunshuffle_unbatched", lambda: nn.PixelUnshuffle(2), g.randn(2, 4, 6), "unbatched (C, H, W)")
    case("pixelunshuffle_5d", lambda: nn.PixelUnshuffle(2), g.randn(2, 2, 1, 4, 6), "two leading dims")

    # -- padding ------------------------------------------------------------------
    pad_in = {1: (2, 3, 6), 2: (2, 2, 5, 6), 3: (1, 2, 4, 5, 6)}

    def pads(d, *vals):
        return tuple(vals[:2 * d])

    for d in (1, 2, 3):
        x = pad_in[d]
        for kind in ("Reflection", "Replication"):
            M = getattr(nn, f"{kind}Pad{d}d")
            p = f"{kind.lower()}pad{d}d"
            case(f"{p}_int", lambda M=M: M(2), g.randn(*x), f"{kind}Pad{d}d(2): int padding on every side")
            case(f"{p}_tuple", lambda M=M, d=d: M(pads(d, 1, 3, 2, 0, 3, 1)), g.randn(*x), "uneven tuple, last dim first")
            case(f"{p}_negative", lambda M=M, d=d: M(pads(d, -1, 2, 3, -2, 1, -1)), g.randn(*x),
                 "negative entries crop the other side's reflection source")
            case(f"{p}_unbatched", lambda M=M, d=d: M(pads(d, 2, 1, 1, 2, 1, 1)), g.randn(*x[1:]), "unbatched input")
            if kind == "Reflection":
                case(f"{p}_max", lambda M=M, d=d: M(pads(d, 5, 5, 4, 4, 3, 3)), g.randn(*x),
                     "the largest reflection padding: size - 1")
        C = getattr(nn, f"ConstantPad{d}d")
        p = f"constantpad{d}d"
        case(f"{p}_int_float_value", lambda C=C: C(2, 3.5), g.randn(*x), "int padding, value=3.5")
        case(f"{p}_tuple_int_value", lambda C=C, d=d: C(pads(d, 1, 3, 2, 0, 3, 1), 0), g.randn(*x),
             "value=0 (an int) prints as 0")
        case(f"{p}_negative", lambda C=C, d=d: C(pads(d, -2, 1, 1, -3, -1, 2), -1.25), g.randn(*x),
             "negative padding crops; value=-1.25")
        case(f"{p}_crop_to_zero", lambda C=C, d=d: C(pads(d, -3, -3, 0, 0, 0, 0), 1.0), g.randn(*x),
             "cropping a dimension to size 0")
        case(f"{p}_unbatched", lambda C=C, d=d: C(pads(d, 1, 2, 0, 1, 2, 0), 2.0), g.randn(*x[1:]), "unbatched")
        case(f"{p}_exact_rank_input", lambda C=C, d=d: C(1, 7.0), g.randn(*x[-d:]),
             "an input with exactly as many dims as are padded (constant padding accepts it)")
    case("zeropad2d_int", lambda: nn.ZeroPad2d(2), g.randn(1, 2, 3, 4), "ZeroPad2d(2)")
    case("zeropad2d_tuple", lambda: nn.ZeroPad2d((1, 1, 2, 0)), g.randn(2, 2, 3, 4), "ZeroPad2d((1, 1, 2, 0))")
    case("zeropad2d_negative", lambda: nn.ZeroPad2d((-1, 2, 1, -2)), g.randn(1, 2, 4, 5), "negative padding crops")
    case("zeropad2d_unbatched", lambda: nn.ZeroPad2d((0, 1, 2, 3)), g.randn(2, 3, 4), "unbatched (C, H, W)")
    case("zeropad2d_2d_input", lambda: nn.ZeroPad2d(1), g.randn(3, 4), "a plain (H, W) matrix")
    case("zeropad2d_5d_input", lambda: nn.ZeroPad2d((1, 0, 0, 1)), g.randn(1, 2, 2, 3, 4), "three leading dims")
