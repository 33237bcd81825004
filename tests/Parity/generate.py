#!/usr/bin/python3
"""Generate the PyTorch parity cases of Functional (see FORMAT.md beside this file).

Run with Debian's PyTorch (python3-torch, python3-numpy):

    /usr/bin/python3 tests/Parity/generate.py [--out DIR] [--only SUBSTRING]
    /usr/bin/python3 tests/Parity/generate.py --check [--out DIR] [--only SUBSTRING]

Each case is one torch.nn module, run once in eval mode under torch.no_grad(),
frozen into DIR/<family>/<case>.safetensors (DIR defaults to the cases/ folder
beside this script). Every case seeds torch with the crc32 of its name, so
regenerating gives byte-identical files. Without --only, files in the family
folders that no longer belong to a case are removed.

--check re-reads every file with a pure-Python safetensors reader, rebuilds
each module from its description with torch.nn alone, loads the stored state
dict strictly, runs the stored input and compares with the stored output and
the stored tolerances. It also runs the module in float64 and reports how much
of the tolerance PyTorch's own float32 rounding uses.
"""

import argparse
import inspect
import json
import math
import os
import struct
import sys
import zlib

import warnings

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import export  # noqa: E402  (tools/export.py: tracing of modules that are not a chain)

# PyTorch warns that padding='same' with an even kernel copies the input: expected here.
warnings.filterwarnings("ignore", message="Using padding='same' with even kernel lengths")

FORMAT = "functional-parity/1"
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "cases")
FAMILIES = ["activations", "conv", "pool"]  # plus one per cases_<family>.py module, see load_family_modules


# --------------------------------------------------------------------------
# Modules that are not in torch.nn


class ReLUSquared(nn.Module):
    """relu(x) ** 2 (the "squared ReLU" of Primer); not a torch.nn class."""

    def forward(self, x):
        return torch.square(torch.relu(x))


CUSTOM_TYPES = {"ReLUSquared": ReLUSquared}

# Modules outside torch.nn described like torch.nn ones (constructor arguments read back), by
# class name; a family module may add to it (cases_preprocess.py: torchvision's transforms).
DESCRIBED_TYPES = {}


# --------------------------------------------------------------------------
# Module description


def _json_value(value, where):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: non-finite float {value!r} cannot be described")
        return value
    if isinstance(value, (tuple, list)):
        return [_json_value(v, where) for v in value]
    raise TypeError(f"{where}: cannot describe a value of type {type(value).__name__}: {value!r}")


def describe(module):
    """The FORMAT.md description of a module, as a dict (JSON-ready).

    Generic: the constructor parameter names of the module's class, each read
    back from the module as it holds it after construction. Containers recurse.
    """
    cls = type(module)
    for name, custom in CUSTOM_TYPES.items():
        if cls is custom:
            return {"type": name}
    if cls is nn.Sequential and [name for name, _ in module.named_children()] == [str(i) for i in range(len(module))]:
        return {"type": "Sequential", "layers": [describe(child) for child in module]}
    if (getattr(nn, cls.__name__, None) is not cls and DESCRIBED_TYPES.get(cls.__name__) is not cls) or isinstance(module, nn.Sequential):
        # Any other module as tools/export.py describes it: named Sequentials and Sequential
        # subclasses by their children's names, subclasses of layers by their base's arguments,
        # the rest by its children and its torch.fx-traced forward.
        return export.describe(module, CUSTOM_TYPES)
    desc = {"type": cls.__name__}
    for pname, param in inspect.signature(cls.__init__).parameters.items():
        if pname in ("self", "device", "dtype"):
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"{cls.__name__}: cannot describe variadic parameter *{pname}")
        if pname == "bias":
            if not hasattr(module, "bias"):
                raise AttributeError(f"{cls.__name__} has no attribute 'bias'")
            desc["bias"] = module.bias is not None
            continue
        if not hasattr(module, pname):
            raise AttributeError(f"{cls.__name__} holds no attribute for constructor parameter '{pname}'")
        value = getattr(module, pname)
        # Enums (torchvision's InterpolationMode) are described by their value ("bilinear").
        desc[pname] = _json_value(getattr(value, "value", value), f"{cls.__name__}.{pname}")
    return desc


def build(desc):
    """Rebuild a module from its description with torch.nn alone (for --check)."""
    desc = dict(desc)
    typ = desc.pop("type")
    if typ in CUSTOM_TYPES:
        if desc:
            raise ValueError(f"{typ} takes no arguments, got {desc}")
        return CUSTOM_TYPES[typ]()
    if typ == "Sequential":
        layers = desc.pop("layers")
        if desc:
            raise ValueError(f"Sequential: unexpected members {desc}")
        return nn.Sequential(*[build(layer) for layer in layers])
    cls = DESCRIBED_TYPES.get(typ) or getattr(nn, typ)
    args = {k: tuple(v) if isinstance(v, list) else v for k, v in desc.items()}
    return cls(**args)


# --------------------------------------------------------------------------
# safetensors (written and read by hand: no safetensors package here)

_DTYPES = {"F32": ("<f4", 4), "I64": ("<i8", 8), "F64": ("<f8", 8), "F16": ("<f2", 2),
           "BF16": (None, 2), "I32": ("<i4", 4), "I16": ("<i2", 2), "I8": ("i1", 1),
           "U8": ("u1", 1), "BOOL": ("?", 1)}


def _tensor_bytes(t):
    t = t.detach().cpu().contiguous()
    if t.dtype == torch.float32:
        return "F32", np.ascontiguousarray(t.numpy(), dtype="<f4").tobytes()
    if t.dtype == torch.int64:
        return "I64", np.ascontiguousarray(t.numpy(), dtype="<i8").tobytes()
    raise TypeError(f"unsupported tensor dtype {t.dtype}")


def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, torch.Tensor); metadata: dict str -> str."""
    # 8-byte tensors first so that every tensor starts aligned to its element size.
    ordered = sorted(tensors, key=lambda nt: 0 if nt[1].dtype == torch.int64 else 1)
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name, t in ordered:
        dtype, data = _tensor_bytes(t)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)
    os.replace(tmp, path)


def read_safetensors(path):
    """Pure-Python reader: returns (metadata, {name: numpy array}). Validates the layout."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("file shorter than 8 bytes")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError("header length past end of file")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    metadata = header.pop("__metadata__", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise ValueError("metadata values must be strings")
    spans = []
    tensors = {}
    for name, info in header.items():
        dtype = info["dtype"]
        if dtype not in _DTYPES:
            raise ValueError(f"{name}: invalid dtype {dtype}")
        np_dtype, size = _DTYPES[dtype]
        begin, end = info["data_offsets"]
        shape = info["shape"]
        count = 1
        for s in shape:
            if not isinstance(s, int) or s < 0:
                raise ValueError(f"{name}: bad shape {shape}")
            count *= s
        if end - begin != count * size or begin < 0 or end > len(data):
            raise ValueError(f"{name}: offsets {begin}..{end} do not fit shape {shape} of {dtype}")
        spans.append((begin, end, name))
        if np_dtype is None:
            raise ValueError(f"{name}: {dtype} not expected in these cases")
        tensors[name] = np.frombuffer(data[begin:end], dtype=np_dtype).reshape(shape).copy()
    spans.sort()
    pos = 0
    for begin, end, name in spans:
        if begin != pos:
            raise ValueError(f"{name}: data does not follow on from the previous tensor (gap or overlap at {pos})")
        pos = end
    if pos != len(data):
        raise ValueError(f"tensors cover {pos} bytes of {len(data)} bytes of data")
    return metadata, tensors


# --------------------------------------------------------------------------
# Cases


class Case:
    def __init__(self, family, name, module, inputs, atol, rtol, note, call=None, generated=False, relative=False):
        assert family in FAMILIES, family
        self.relative = relative  # atol is relative to the output's scale: atol * max(1, max|output|)
        self.generated = generated  # weights from a recipe (GeneratedWeights) instead of stored tensors
        self.family = family
        self.name = name
        self.module = module      # () -> nn.Module, called after seeding
        self.inputs = inputs      # () -> Tensor | dict name -> Tensor ("input", "input.indices")
        self.atol = atol
        self.rtol = rtol
        self.note = note
        self.call = call          # dict of forward keyword arguments, or None

    @property
    def seed(self):
        return zlib.crc32(self.name.encode("utf-8"))


CASES = []
_NAMES = set()


def case(family, name, module, inputs, atol, rtol, note, call=None, generated=False, relative=False):
    if name in _NAMES:
        raise ValueError(f"duplicate case name {name}")
    if not all(c.isalnum() or c == "_" for c in name):
        raise ValueError(f"case name {name!r}: use letters, digits and _ only")
    _NAMES.add(name)
    CASES.append(Case(family, name, module, inputs, atol, rtol, note, call, generated, relative))


# -- generated weights (FORMAT.md: generated_weights) -------------------------

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def generated_values(key, seed, count, low, high):
    """SplitMix64 over (FNV-1a of key, seed, index): the same float32 values as C#'s GeneratedWeights."""
    h = 14695981039346656037
    for b in key.encode("utf-8"):
        h = ((h ^ b) * 1099511628211) & _MASK
    h ^= (seed * _GOLDEN) & _MASK
    with np.errstate(over="ignore"):
        z = np.uint64(h) + np.arange(1, count + 1, dtype=np.uint64) * np.uint64(_GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    u = (z >> np.uint64(40)).astype(np.float32) * np.float32(1.0 / 16777216.0)
    low32, high32 = np.float32(low), np.float32(high)
    return low32 + (high32 - low32) * u


def generated_range(key, tensor):
    """He-uniform weights keep activations O(1) through deep nets; norms get gentle stats."""
    if tensor.dim() >= 2:
        bound = math.sqrt(6.0 / (tensor[0].numel()))
        return -bound, bound
    if key.endswith("running_var") or key.endswith("weight"):
        return 0.5, 1.5
    return -0.2, 0.2


def apply_generated_weights(module, seed):
    """Replaces every float tensor of the state dict by its generated values; returns the recipe."""
    state = module.state_dict()
    recipe = []
    for key, value in state.items():
        if not value.is_floating_point():
            continue
        low, high = (float(np.float32(v)) for v in generated_range(key, value))
        data = generated_values(key, seed, value.numel(), low, high).reshape(tuple(value.shape))
        state[key] = torch.from_numpy(data)
        recipe.append([key, list(value.shape), low, high])
    module.load_state_dict(state, strict=True)
    return {"seed": seed, "tensors": recipe}


def tol(x):
    """A tolerance as metadata text."""
    return f"{x:.0e}" if float(f"{x:.0e}") == x else repr(x)


def nice_up(x):
    """Round up to 1, 2 or 5 times a power of ten."""
    e = math.floor(math.log10(x))
    for m in (1, 2, 5, 10):
        if m * 10 ** e >= x * (1 - 1e-12):
            return float(f"{m}e{e}")
    raise AssertionError


def randn(*shape, scale=1.0):
    return lambda: torch.randn(*shape) * scale


def rand(*shape, low=0.0, high=1.0):
    return lambda: torch.rand(*shape) * (high - low) + low


# -- activations ------------------------------------------------------------

SPECIALS = [0.0, -0.0, 1e-3, -1e-3, 1e-7, -1e-7, 10.0, -10.0, 30.0, -30.0, 100.0, -100.0,
            1.0, -1.0, 6.0, -6.0, 5.9999, 6.0001, 0.5, -0.5, 3.0, -3.0]


def act_input(*shape):
    def make():
        x = torch.randn(*shape) * 3.0
        flat = x.view(-1)
        n = min(len(SPECIALS), flat.numel())
        flat[:n] = torch.tensor(SPECIALS[:n], dtype=torch.float32)
        return x
    return make


ACTIVATIONS = [
    ("relu", lambda: nn.ReLU(), 1e-6, "ReLU"),
    ("relu6", lambda: nn.ReLU6(), 1e-6, "ReLU6: clamp to [0, 6]; inputs straddle 6"),
    ("rrelu_default", lambda: nn.RReLU(), 1e-6,
     "RReLU in eval mode uses the fixed slope (lower + upper) / 2 = (1/8 + 1/3) / 2"),
    ("rrelu_lower0p1_upper0p3", lambda: nn.RReLU(0.1, 0.3), 1e-6,
     "RReLU(0.1, 0.3) in eval mode: slope 0.2"),
    ("gelu_erf", lambda: nn.GELU(), 2e-6, "GELU, exact erf form (approximate='none')"),
    ("gelu_tanh", lambda: nn.GELU(approximate="tanh"), 1e-6, "GELU, tanh approximation"),
    ("sigmoid", lambda: nn.Sigmoid(), 1e-6, "Sigmoid: saturation at +-30, +-100"),
    ("silu", lambda: nn.SiLU(), 1e-6, "SiLU = x * sigmoid(x)"),
    ("tanh", lambda: nn.Tanh(), 1e-6, "Tanh: saturation at +-30, +-100"),
    ("elu_default", lambda: nn.ELU(), 1e-6, "ELU alpha=1"),
    ("elu_alpha0p5", lambda: nn.ELU(alpha=0.5), 1e-6, "ELU alpha=0.5"),
    ("leakyrelu_default", lambda: nn.LeakyReLU(), 1e-6, "LeakyReLU slope 0.01"),
    ("leakyrelu_slope0p2", lambda: nn.LeakyReLU(0.2), 1e-6, "LeakyReLU slope 0.2"),
    ("relu_squared", lambda: ReLUSquared(), 1e-6, "ReLUSquared (not torch.nn): relu(x)^2, 100 -> 10000"),
]

for _name, _make, _atol, _note in ACTIVATIONS:
    case("activations", f"{_name}_batched", _make, act_input(2, 3, 5, 5), _atol, 1e-5,
         f"{_note}; batched 2x3x5x5 with values near 0 and at +-10, +-30, +-100")
    case("activations", f"{_name}_unbatched", _make, act_input(4, 9), _atol, 1e-5,
         f"{_note}; unbatched 4x9 with values near 0 and at +-10, +-30, +-100")

case("activations", "sequential_relu_tanh", lambda: nn.Sequential(nn.ReLU(), nn.Tanh()),
     act_input(2, 3, 4, 4), 1e-6, 1e-5, "Sequential of two activations")
case("activations", "sequential_gelu_tanh_silu_leakyrelu0p1",
     lambda: nn.Sequential(nn.GELU(approximate="tanh"), nn.SiLU(), nn.LeakyReLU(0.1)),
     act_input(2, 5, 6), 1e-6, 1e-5, "Sequential(GELU(tanh), SiLU, LeakyReLU(0.1))")
case("activations", "sequential_nested",
     lambda: nn.Sequential(nn.Sequential(nn.ELU(0.5), nn.ReLU6()), nn.Sigmoid(),
                           nn.Sequential(nn.LeakyReLU(0.2), ReLUSquared())),
     act_input(3, 4, 5), 1e-6, 1e-5,
     "Sequential nested inside Sequential, with ReLUSquared inside a container")
case("activations", "sequential_unbatched_rrelu_gelu_erf",
     lambda: nn.Sequential(nn.RReLU(0.1, 0.3), nn.GELU()), act_input(30), 2e-6, 1e-5,
     "Sequential on a 1-d input: RReLU (eval slope) then erf GELU")


# -- convolution -------------------------------------------------------------

def conv_tol(module):
    """atol ~ 1e-5 * sqrt(terms summed into one output), rounded up to 1/2/5; rtol 1e-4."""
    fan = module.in_channels // module.groups
    for k in module.kernel_size:
        fan *= k
    return nice_up(max(1e-5, 1e-5 * math.sqrt(fan)))


def conv_case(name, make, inputs, note, call=None):
    probe = make()
    case("conv", name, make, inputs, conv_tol(probe), 1e-4, note, call)


def C(d):
    return getattr(nn, f"Conv{d}d")


def CT(d):
    return getattr(nn, f"ConvTranspose{d}d")


def nd(d, *vals):
    """A per-rank tuple: the first d of vals."""
    return tuple(vals[:d])


SP = {1: (13,), 2: (9, 8), 3: (6, 5, 7)}      # spatial sizes of the generic conv inputs
SPT = {1: (6,), 2: (4, 5), 3: (3, 4, 3)}      # spatial sizes of the generic transposed-conv inputs


def add_conv_cases():
    for d in (1, 2, 3):
        s = SP[d]
        p = f"conv{d}d"
        conv_case(f"{p}_stride2_padding1", lambda d=d: C(d)(3, 4, 3, stride=2, padding=1),
                  randn(2, 3, *s), "stride 2 with padding 1")
        conv_case(f"{p}_stride3_padding2_kernel4", lambda d=d: C(d)(2, 3, 4, stride=3, padding=2),
                  randn(1, 2, *s), "stride 3 with padding 2, even kernel: windows that end in the right padding")
        conv_case(f"{p}_dilation2_padding1", lambda d=d: C(d)(2, 3, 3, dilation=2, padding=1),
                  randn(1, 2, *s), "dilation 2")
        conv_case(f"{p}_dilation3_stride2_padding2", lambda d=d: C(d)(2, 3, 3, dilation=3, stride=2, padding=2),
                  randn(1, 2, *s), "dilation 3 with stride 2 and padding 2")
        conv_case(f"{p}_groups2", lambda d=d: C(d)(4, 6, 3, groups=2, padding=1),
                  randn(2, 4, *s), "groups 2: each half of the outputs sees one half of the inputs")
        conv_case(f"{p}_depthwise_multiplier2", lambda d=d: C(d)(3, 6, 3, groups=3, padding=1),
                  randn(1, 3, *s), "depthwise with channel multiplier 2: groups=in_channels=3, out_channels=6")
        for mode in ("zeros", "reflect", "replicate", "circular"):
            conv_case(f"{p}_padmode_{mode}", lambda d=d, mode=mode: C(d)(2, 3, 3, padding=1, padding_mode=mode),
                      randn(2, 2, *s), f"padding_mode '{mode}', padding 1")
            conv_case(f"{p}_padmode_{mode}_stride2_dilation2_padding2",
                      lambda d=d, mode=mode: C(d)(2, 3, 3, stride=2, dilation=2, padding=2, padding_mode=mode),
                      randn(1, 2, *s), f"padding_mode '{mode}' with padding 2, stride 2 and dilation 2")
            if d >= 2:
                conv_case(f"{p}_padmode_{mode}_tuple_padding_nonsquare_kernel",
                          lambda d=d, mode=mode: C(d)(2, 3, nd(d, 3, 2, 4), padding=nd(d, 2, 0, 1),
                                                      stride=nd(d, 1, 2, 1), padding_mode=mode),
                          randn(1, 2, *s),
                          f"padding_mode '{mode}' with a different padding per dim (one of them 0) "
                          "and a non-square kernel")
        conv_case(f"{p}_same_odd_kernel3", lambda d=d: C(d)(2, 3, 3, padding="same"),
                  randn(1, 2, *s), "padding='same', odd kernel: symmetric padding 1")
        conv_case(f"{p}_same_odd_kernel3_dilation2", lambda d=d: C(d)(2, 3, 3, padding="same", dilation=2),
                  randn(1, 2, *s), "padding='same', k=3 d=2: total 4, symmetric 2/2")
        conv_case(f"{p}_same_even_kernel4", lambda d=d: C(d)(2, 3, 4, padding="same"),
                  randn(1, 2, *s),
                  "padding='same', k=4: total padding 3 is split 1 before, 2 after (PyTorch puts the odd one at the end)")
        conv_case(f"{p}_same_even_kernel2_dilation3", lambda d=d: C(d)(2, 3, 2, padding="same", dilation=3),
                  randn(1, 2, *s), "padding='same', k=2 d=3: total 3, split 1 before, 2 after")
        conv_case(f"{p}_same_even_kernel4_reflect", lambda d=d: C(d)(2, 3, 4, padding="same", padding_mode="reflect"),
                  randn(1, 2, *s), "padding='same' k=4 with padding_mode reflect: reflect 1 before, 2 after")
        conv_case(f"{p}_same_even_kernel2_dilation3_circular",
                  lambda d=d: C(d)(2, 3, 2, padding="same", dilation=3, padding_mode="circular"),
                  randn(1, 2, *s), "padding='same' k=2 d=3 with padding_mode circular: wrap 1 before, 2 after")
        if d >= 2:
            conv_case(f"{p}_same_mixed_kernel_dilation",
                      lambda d=d: C(d)(2, 3, nd(d, 4, 3, 2), padding="same", dilation=nd(d, 1, 2, 3)),
                      randn(1, 2, *s), "padding='same' with a per-dim kernel/dilation: "
                      "asymmetric split in some dims, symmetric in others")
        conv_case(f"{p}_valid", lambda d=d: C(d)(2, 3, 3, padding="valid"),
                  randn(1, 2, *s), "padding='valid' (held as the string 'valid'): no padding")
        if d == 1:
            conv_case(f"{p}_tuple_padding_stride_kernel", lambda: nn.Conv1d(2, 3, (4,), stride=(2,), padding=(3,)),
                      randn(1, 2, 13), "1-tuples for kernel, stride, padding")
        else:
            conv_case(f"{p}_nonsquare_asym_stride_padding_dilation",
                      lambda d=d: C(d)(2, 3, nd(d, 3, 5, 2), stride=nd(d, 2, 1, 3), padding=nd(d, 1, 2, 0),
                                       dilation=nd(d, 1, 2, 1)),
                      randn(2, 2, *s), "non-square kernel, per-dim stride, padding and dilation (tuples)")
        conv_case(f"{p}_kernel1", lambda d=d: C(d)(4, 5, 1), randn(2, 4, *s), "1x1 kernel")
        conv_case(f"{p}_kernel1_stride2", lambda d=d: C(d)(4, 5, 1, stride=2), randn(1, 4, *s),
                  "1x1 kernel with stride 2: odd sizes keep the last element")
        small = {1: (5,), 2: (4, 5), 3: (3, 4, 2)}[d]
        pad = nd(d, 1, 0, 2)
        conv_case(f"{p}_kernel_covers_padded_input",
                  lambda d=d, k=tuple(n + 2 * q for n, q in zip(small, pad)), pad=pad: C(d)(2, 3, k, padding=pad),
                  randn(1, 2, *small), "kernel as large as the padded input: output size 1 in every dim")
        conv_case(f"{p}_unbatched", lambda d=d: C(d)(3, 4, 3, padding=1), randn(3, *s),
                  "unbatched input (C, spatial...): output has no batch dim")
        conv_case(f"{p}_unbatched_reflect", lambda d=d: C(d)(3, 4, 3, padding=1, padding_mode="reflect"),
                  randn(3, *s), "unbatched input with padding_mode reflect (circular refuses unbatched input in torch 1.13)")
        conv_case(f"{p}_batch3", lambda d=d: C(d)(2, 3, 3), randn(3, 2, *s), "batch of 3")
        conv_case(f"{p}_no_bias", lambda d=d: C(d)(2, 3, 3, padding=1, bias=False), randn(1, 2, *s), "bias=False")

    # ConvTranspose
    for d in (1, 2, 3):
        s = SPT[d]
        p = f"convtranspose{d}d"
        conv_case(f"{p}_stride2_padding1", lambda d=d: CT(d)(3, 4, 3, stride=2, padding=1),
                  randn(2, 3, *s), "transposed: stride 2, padding 1")
        conv_case(f"{p}_stride2_output_padding1", lambda d=d: CT(d)(3, 4, 3, stride=2, padding=1, output_padding=1),
                  randn(1, 3, *s), "transposed: output_padding 1 < stride 2 (one more row/column at the end)")
        conv_case(f"{p}_stride3_kernel4_output_padding2", lambda d=d: CT(d)(2, 3, 4, stride=3, output_padding=2),
                  randn(1, 2, *s), "transposed: stride 3 > kernel-1 gaps, output_padding 2 < stride")
        conv_case(f"{p}_output_padding1_lt_dilation2_stride1",
                  lambda d=d: CT(d)(2, 3, 3, stride=1, dilation=2, output_padding=1),
                  randn(1, 2, *s), "transposed: output_padding 1 allowed by dilation 2 with stride 1")
        conv_case(f"{p}_dilation2_stride2_padding2", lambda d=d: CT(d)(2, 3, 3, stride=2, dilation=2, padding=2),
                  randn(1, 2, *s), "transposed: dilation 2, stride 2, padding 2")
        conv_case(f"{p}_groups2", lambda d=d: CT(d)(4, 6, 3, stride=2, groups=2),
                  randn(2, 4, *s), "transposed: groups 2 (weight is in x out/groups x k)")
        conv_case(f"{p}_depthwise_like", lambda d=d: CT(d)(3, 6, 3, stride=2, padding=1, groups=3),
                  randn(1, 3, *s), "transposed: groups=in_channels=3, out_channels=6")
        conv_case(f"{p}_no_bias", lambda d=d: CT(d)(3, 4, 3, stride=2, bias=False), randn(1, 3, *s),
                  "transposed: bias=False")
        conv_case(f"{p}_unbatched", lambda d=d: CT(d)(3, 4, 3, stride=2, padding=1), randn(3, *s),
                  "transposed: unbatched input")
        conv_case(f"{p}_batch3", lambda d=d: CT(d)(2, 3, 3, stride=2), randn(3, 2, *s), "transposed: batch of 3")
        if d >= 2:
            conv_case(f"{p}_nonsquare_asym",
                      lambda d=d: CT(d)(2, 3, nd(d, 3, 4, 2), stride=nd(d, 2, 3, 1), padding=nd(d, 1, 2, 0),
                                        output_padding=nd(d, 1, 2, 0), dilation=nd(d, 1, 1, 2)),
                      randn(1, 2, *s), "transposed: per-dim kernel, stride, padding, output_padding, dilation")
        # forward(input, output_size=...)
        default = [(n - 1) * 2 - 2 + 3 for n in s]          # k=3, stride 2, padding 1
        conv_case(f"{p}_output_size_picks_output_padding1", lambda d=d: CT(d)(3, 4, 3, stride=2, padding=1),
                  randn(1, 3, *s),
                  "forward with output_size (spatial dims only) one larger than the default: "
                  "PyTorch derives output_padding 1",
                  call={"output_size": [n + 1 for n in default]})
        conv_case(f"{p}_output_size_with_batch_channel_dims", lambda d=d: CT(d)(3, 4, 3, stride=2, padding=1),
                  randn(2, 3, *s),
                  "forward with output_size given as (N, C_out, spatial...): the first two are dropped; "
                  "output_padding 0 in the first dim, 1 in the others",
                  call={"output_size": [2, 4] + [n if i == 0 else n + 1 for i, n in enumerate(default)]})
    s = SPT[2]
    default = [(n - 1) * 2 - 2 + 3 for n in s]
    conv_case("convtranspose2d_output_size_unbatched_with_channel_dim",
              lambda: nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1), randn(3, *s),
              "unbatched forward with output_size given as (C_out, H, W): for unbatched input "
              "PyTorch drops one leading dim",
              call={"output_size": [4] + [n + 1 for n in default]})
    conv_case("convtranspose2d_output_size_unbatched_spatial_only",
              lambda: nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1), randn(3, *s),
              "unbatched forward with spatial-only output_size",
              call={"output_size": [default[0] + 1, default[1]]})
    conv_case("convtranspose2d_output_size_stride3_picks_output_padding2",
              lambda: nn.ConvTranspose2d(2, 3, 3, stride=3), randn(1, 2, *s),
              "output_size 2 larger than the default with stride 3: output_padding 2 in H, 1 in W",
              call={"output_size": [(s[0] - 1) * 3 + 3 + 2, (s[1] - 1) * 3 + 3 + 1]})

    # Porting-table worked examples
    conv_case("conv1d_port_3_16_k3_s2_nobias_224", lambda: nn.Conv1d(3, 16, 3, stride=2, bias=False),
              randn(1, 3, 224), "porting table: Conv1d(3,16,3,stride=2,bias=False) on 1x3x224 -> 1x16x111")
    conv_case("conv2d_port_3_16_k3_s2_nobias_224", lambda: nn.Conv2d(3, 16, 3, stride=2, bias=False),
              randn(1, 3, 224, 224), "porting table: Conv2d(3,16,3,stride=2,bias=False) on 1x3x224x224 -> 1x16x111x111")
    conv_case("convtranspose1d_port_3_16_k3_s2_nobias_224", lambda: nn.ConvTranspose1d(3, 16, 3, stride=2, bias=False),
              randn(1, 3, 224), "porting table: ConvTranspose1d(3,16,3,stride=2,bias=False) on 1x3x224 -> 1x16x449")
    conv_case("convtranspose2d_port_3_16_k3_s2_nobias_64", lambda: nn.ConvTranspose2d(3, 16, 3, stride=2, bias=False),
              randn(1, 3, 64, 64),
              "porting table: ConvTranspose2d(3,16,3,stride=2,bias=False); the table's 1x3x224x224 "
              "(-> 1x16x449x449, 12.9 MB) is shrunk to 1x3x64x64 -> 1x16x129x129")
    conv_case("conv2d_port_64_64_k3_p1_16", lambda: nn.Conv2d(64, 64, 3, padding=1),
              randn(1, 64, 16, 16), "porting table: Conv2d(64,64,3,padding=1), input shrunk to 1x64x16x16")
    conv_case("conv2d_port_3_64_k7_s2_p3_64", lambda: nn.Conv2d(3, 64, 7, stride=2, padding=3),
              randn(1, 3, 64, 64), "porting table: Conv2d(3,64,7,stride=2,padding=3) (ResNet stem) on 1x3x64x64")
    conv_case("conv3d_port_3_64_k3_p1_4x16x16", lambda: nn.Conv3d(3, 64, 3, padding=1),
              randn(1, 3, 4, 16, 16), "porting table: Conv3d(3,64,3,padding=1) on 1x3x4x16x16")
    conv_case("convtranspose2d_port_128_64_k4_s2_p1_8", lambda: nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1),
              randn(1, 128, 8, 8), "porting table: ConvTranspose2d(128,64,4,stride=2,padding=1) on 1x128x8x8 -> 1x64x16x16")
    conv_case("conv2d_port_depthwise_64_k3_p1_16", lambda: nn.Conv2d(64, 64, 3, padding=1, groups=64),
              randn(1, 64, 16, 16), "porting table: depthwise Conv2d(64,64,3,padding=1,groups=64) on 1x64x16x16")


add_conv_cases()


# -- pooling -----------------------------------------------------------------

P_ATOL, P_RTOL = 1e-6, 1e-6
LP_ATOL, LP_RTOL = 1e-6, 1e-5


def pool_case(name, make, inputs, note, call=None, atol=P_ATOL, rtol=P_RTOL):
    case("pool", name, make, inputs, atol, rtol, note, call)


def MP(d):
    return getattr(nn, f"MaxPool{d}d")


def AP(d):
    return getattr(nn, f"AvgPool{d}d")


def shp(d, *vals):
    return tuple(vals[:d])


def tie_input(*shape):
    # small integers: many ties inside each window
    return lambda: torch.randint(0, 3, shape).float()


def unpool_input(pool, *shape):
    def make():
        x = torch.randn(*shape)
        values, indices = pool(x)
        return {"input": values, "input.indices": indices}
    return make


def add_pool_cases():
    for d in (1, 2, 3):
        mp, ap = f"maxpool{d}d", f"avgpool{d}d"
        base = shp(d, 11, 9, 7)
        six = shp(d, 6, 6, 6)
        five = shp(d, 5, 5, 5)
        for kind, M, extra in (("max", MP(d), {}), ("avg", AP(d), {})):
            p = f"{kind}pool{d}d"
            pool_case(f"{p}_stride_default", lambda M=M: M(3), randn(2, 3, *base),
                      "stride not given (None): the module holds stride = kernel_size "
                      + ("(an int for MaxPool)" if kind == "max" else
                         "(a 1-tuple for AvgPool1d, the int for AvgPool2d/3d)"))
            pool_case(f"{p}_ceil_window_hangs_past_input", lambda M=M: M(3, stride=2, ceil_mode=True),
                      randn(1, 2, *six),
                      "ceil_mode: size 6, k=3, s=2 gives 3 windows; the last covers 4..6 and hangs one past the input"
                      + ("" if kind == "max" else "; its divisor is the clipped window (2 per dim), not 3"))
            pool_case(f"{p}_ceil_last_window_dropped", lambda M=M: M(2, stride=2, padding=1, ceil_mode=True),
                      randn(1, 2, *five),
                      "ceil_mode: size 5, k=2, s=2, p=1: ceil gives 4 windows but the 4th would start at 6-1=5, "
                      "in the right padding, so PyTorch drops it: 3 windows")
            pool_case(f"{p}_padding_half_kernel", lambda M=M: M(4, stride=3, padding=2), randn(1, 2, *base),
                      "padding = kernel/2, the largest PyTorch allows"
                      + ("" if kind == "max" else " (count_include_pad default True: padding counts in the divisor)"))
            if d >= 2:
                pool_case(f"{p}_nonsquare_kernel_stride",
                          lambda M=M, d=d: M(shp(d, 2, 3, 2), stride=shp(d, 1, 2, 3), padding=shp(d, 1, 0, 1)),
                          randn(2, 2, *base), "non-square kernel, per-dim stride and padding (tuples)")
            pool_case(f"{p}_unbatched", lambda M=M: M(3, stride=2, padding=1), randn(3, *base),
                      "unbatched input (C, spatial...)")
            pool_case(f"{p}_batch2", lambda M=M: M(2), randn(2, 3, *base), "batch 2, odd sizes: trailing element dropped")

        pool_case(f"{mp}_padding1_dilation2", lambda d=d: MP(d)(3, stride=1, padding=1, dilation=2),
                  randn(1, 2, *base), "max pool with padding 1 and dilation 2")
        pool_case(f"{mp}_padding1_dilation3_stride2_ceil", lambda d=d: MP(d)(3, stride=2, padding=1, dilation=3,
                                                                              ceil_mode=True),
                  randn(1, 2, *base), "max pool with padding 1, dilation 3, stride 2 and ceil_mode")
        pool_case(f"{mp}_return_indices", lambda d=d: MP(d)(2, stride=2, return_indices=True),
                  randn(2, 2, *base), "return_indices: indices are flat within each (n, c) plane of the input")
        pool_case(f"{mp}_return_indices_padding_ceil",
                  lambda d=d: MP(d)(3, stride=2, padding=1, ceil_mode=True, return_indices=True),
                  randn(1, 2, *six), "return_indices with padding and ceil_mode: indices are into the unpadded input")
        pool_case(f"{mp}_return_indices_unbatched", lambda d=d: MP(d)(3, stride=2, return_indices=True),
                  randn(2, *base), "return_indices on unbatched input")
        pool_case(f"{mp}_ties_first_index", lambda d=d: MP(d)(3, stride=1, return_indices=True),
                  tie_input(1, 2, *shp(d, 9, 6, 5)),
                  "ties inside a window (input values 0, 1, 2): PyTorch keeps the first maximum in scan order")

        pool_case(f"{ap}_padding_count_include_pad", lambda d=d: AP(d)(3, stride=2, padding=1, count_include_pad=True),
                  randn(1, 2, *base), "count_include_pad=True: padded zeros count in the divisor")
        pool_case(f"{ap}_padding_exclude_pad", lambda d=d: AP(d)(3, stride=2, padding=1, count_include_pad=False),
                  randn(1, 2, *base), "count_include_pad=False: divisor counts only real elements")
        pool_case(f"{ap}_ceil_padding_count_include_pad",
                  lambda d=d: AP(d)(3, stride=2, padding=1, ceil_mode=True, count_include_pad=True),
                  randn(1, 2, *six),
                  "ceil_mode + padding + count_include_pad=True: size 6, k=3, s=2, p=1 gives 4 windows; the last "
                  "covers 5, the pad at 6 and 7 past it: divisor counts input and padding (2 per dim), "
                  "not the part past the padding")
        pool_case(f"{ap}_ceil_padding_exclude_pad",
                  lambda d=d: AP(d)(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
                  randn(1, 2, *six), "ceil_mode + padding + count_include_pad=False: last window divisor 1 per dim")
        if d >= 2:
            pool_case(f"{ap}_divisor_override", lambda d=d: AP(d)(3, stride=2, padding=1, divisor_override=5),
                      randn(1, 2, *base), "divisor_override=5: every window sum divided by 5 "
                      "(sums of up to 27 terms over a small divisor: tolerance 2e-6)", atol=2e-6, rtol=2e-6)
            pool_case(f"{ap}_divisor_override_ceil",
                      lambda d=d: AP(d)(3, stride=2, ceil_mode=True, divisor_override=2),
                      randn(1, 2, *six), "divisor_override=2 with ceil_mode: clipped windows also divided by 2 "
                      "(sums of up to 27 terms over a small divisor: tolerance 2e-6)", atol=2e-6, rtol=2e-6)

    # Adaptive pools
    for d in (1, 2, 3):
        for kind in ("avg", "max"):
            M = getattr(nn, f"Adaptive{kind.capitalize()}Pool{d}d")
            p = f"adaptive{kind}pool{d}d"
            ri = {"return_indices": True} if kind == "max" else {}
            base = shp(d, 7, 10, 5)
            pool_case(f"{p}_output1", lambda M=M: M(1), randn(2, 3, *shp(d, 9, 6, 4)), "output size 1: global pool")
            pool_case(f"{p}_output_equals_input", lambda M=M, d=d: M(shp(d, 6, 5, 4) if d > 1 else 6),
                      randn(1, 2, *shp(d, 6, 5, 4)), "output size equal to the input: identity windows")
            pool_case(f"{p}_nondivisible_7to3" + ("_10to4" if d > 1 else ""),
                      lambda M=M, d=d, ri=ri: M(shp(d, 3, 4, 2) if d > 1 else 3, **ri),
                      randn(1, 2, *base), "non-divisible sizes: windows floor(i*L/out) .. ceil((i+1)*L/out), overlapping"
                      + (" (return_indices=True)" if ri else ""))
            if d == 1:
                pool_case(f"{p}_nondivisible_10to4", lambda M=M, ri=ri: M(4, **ri), randn(1, 2, 10),
                          "non-divisible 10 -> 4: windows of 3 and 4" + (" (return_indices=True)" if ri else ""))
            if kind == "max":
                pool_case(f"{p}_nondivisible_no_indices", lambda M=M, d=d: M(shp(d, 3, 4, 2) if d > 1 else 3),
                          randn(1, 2, *base), "non-divisible sizes, return_indices=False")
                pool_case(f"{p}_ties_first_index", lambda M=M, d=d: M(shp(d, 3, 4, 2) if d > 1 else 3,
                                                                         return_indices=True),
                          tie_input(1, 2, *base), "ties (values 0, 1, 2): the first maximum in scan order")
            if d >= 2:
                pool_case(f"{p}_none_in_output_size", lambda M=M, d=d, ri=ri: M((None, 3) if d == 2 else (3, None, 2), **ri),
                          randn(1, 2, *base), "None in output_size keeps that input dim"
                          + (" (return_indices=True)" if ri else ""))
            pool_case(f"{p}_unbatched", lambda M=M, d=d, ri=ri: M(shp(d, 3, 4, 2) if d > 1 else 3, **ri),
                      randn(3, *base), "unbatched input" + (" (return_indices=True)" if ri else ""))

    # LPPool (1d, 2d)
    for d in (1, 2):
        L = getattr(nn, f"LPPool{d}d")
        p = f"lppool{d}d"
        base = shp(d, 11, 9)
        eight = shp(d, 8, 8)

        def lp(name, make, inputs, note):
            pool_case(f"{p}_{name}", make, inputs, note, atol=LP_ATOL, rtol=LP_RTOL)

        lp("norm1_signed_sum", lambda L=L: L(1, 3), randn(1, 2, *base),
           "norm_type 1 on signed input: PyTorch returns the signed window sum (no abs): "
           "sign(s)*relu(|s|) is s, and s^(1/1) keeps the sign")
        lp("norm2", lambda L=L: L(2, 3), randn(2, 2, *base), "norm_type 2 (int): sqrt of the window sum of squares")
        lp("norm2_float_stride2", lambda L=L: L(2.0, 3, stride=2), randn(1, 2, *base),
           "norm_type 2.0 (float) with stride 2")
        lp("norm3_positive", lambda L=L: L(3, 2), rand(1, 2, *base, low=0.1, high=2.0),
           "norm_type 3 on positive input (negative cube sums give NaN in PyTorch)")
        lp("norm1p5_positive_stride2", lambda L=L: L(1.5, 3, stride=2), rand(1, 2, *base, low=0.1, high=2.0),
           "norm_type 1.5 on positive input (negative input gives NaN from x^1.5), stride 2")
        lp("norm2_ceil_partial_window_rescaled", lambda L=L: L(2, 3, stride=2, ceil_mode=True),
           randn(1, 2, *eight),
           "ceil_mode: size 8, k=3, s=2: the last window holds 2 elements; PyTorch computes avg_pool "
           "(divided by the clipped count 2) times the full kernel size 3, so the partial sum is scaled by 3/2")
        lp("norm3_ceil_stride2_positive", lambda L=L: L(3, 3, stride=2, ceil_mode=True),
           rand(1, 2, *eight, low=0.1, high=2.0), "norm_type 3, stride 2, ceil_mode on positive input")
        if d == 2:
            lp("nonsquare_kernel_stride", lambda: nn.LPPool2d(2, (2, 3), stride=(1, 2)), randn(1, 2, *base),
               "non-square kernel and per-dim stride")
        lp("unbatched", lambda L=L: L(2, 2), randn(3, *base), "unbatched input; stride None stays None in the module")

    # MaxUnpool
    for d in (1, 2, 3):
        U = getattr(nn, f"MaxUnpool{d}d")
        pool = MP(d)(2, return_indices=True)
        p = f"maxunpool{d}d"
        even = shp(d, 8, 6, 4)
        odd = shp(d, 9, 7, 5)
        pool_case(f"{p}_default_size", lambda U=U: U(2), unpool_input(pool, 2, 2, *even),
                  "unpool MaxPool(2)'s indices to the default size (in-1)*stride + k - 2*padding")
        pool_case(f"{p}_output_size_spatial", lambda U=U: U(2), unpool_input(pool, 1, 2, *odd),
                  "unpool to an odd original size with output_size (spatial dims only)",
                  call={"output_size": list(odd)})
        pool_case(f"{p}_output_size_with_batch_channel_dims", lambda U=U: U(2), unpool_input(pool, 1, 2, *odd),
                  "output_size given as (N, C, spatial...): the first two are dropped",
                  call={"output_size": [1, 2] + list(odd)})
    pool3 = nn.MaxPool2d(3, stride=2, padding=1, return_indices=True)
    pool_case("maxunpool2d_kernel3_stride2_padding1", lambda: nn.MaxUnpool2d(3, stride=2, padding=1),
              unpool_input(pool3, 1, 2, 7, 7),
              "MaxUnpool2d(3, 2, 1) of MaxPool2d(3, 2, 1) on 7x7: default size (4-1)*2+3-2 = 7 by 7")
    pool_case("maxunpool2d_kernel3_stride2_padding1_output_size", lambda: nn.MaxUnpool2d(3, stride=2, padding=1),
              unpool_input(pool3, 1, 2, 8, 8),
              "MaxUnpool2d(3, 2, 1) of MaxPool2d(3, 2, 1) on 8x8 (pooled 4x4, default unpool size 7x7) "
              "back to 8x8 with output_size",
              call={"output_size": [8, 8]})
    pool_case("maxunpool1d_unbatched", lambda: nn.MaxUnpool1d(2), unpool_input(nn.MaxPool1d(2, return_indices=True), 2, 9),
              "unbatched 1-d unpool with output_size", call={"output_size": [9]})
    pool_case("maxunpool2d_unbatched", lambda: nn.MaxUnpool2d(2), unpool_input(nn.MaxPool2d(2, return_indices=True), 2, 4, 6),
              "unbatched 2-d unpool, default size")

    # Porting-table worked examples
    pool_case("maxpool2d_port_k3_s2_224", lambda: nn.MaxPool2d(3, stride=2), randn(1, 3, 224, 224),
              "porting table: MaxPool2d(3, stride=2) on 1x3x224x224 -> 1x3x111x111")
    pool_case("avgpool2d_port_k3_s2_224", lambda: nn.AvgPool2d(3, stride=2), randn(1, 3, 224, 224),
              "porting table: AvgPool2d(3, stride=2) on 1x3x224x224 -> 1x3x111x111")
    pool_case("maxpool2d_port_k3_s2_p1_64x28", lambda: nn.MaxPool2d(3, 2, padding=1), randn(1, 64, 28, 28),
              "porting table: MaxPool2d(3, 2, padding=1) on 1x64x28x28 -> 1x64x14x14")


add_pool_cases()


def load_family_modules():
    """More families live in cases_<family>.py beside this script: each defines
    add_cases(g), where g is this module (case, randn, describe, CUSTOM_TYPES, ...).
    A module may register custom (non-torch.nn) module types in g.CUSTOM_TYPES."""
    import importlib.util
    for file in sorted(os.listdir(HERE)):
        if file.startswith("cases_") and file.endswith(".py"):
            family = file[len("cases_"):-len(".py")]
            spec = importlib.util.spec_from_file_location(f"cases_{family}", os.path.join(HERE, file))
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            FAMILIES.append(family)
            module.add_cases(sys.modules[__name__])


load_family_modules()
CASE_BY_NAME = {c.name: c for c in CASES}


# --------------------------------------------------------------------------
# Running


def as_inputs(value):
    if isinstance(value, torch.Tensor):
        return {"input": value}
    return dict(value)


def forward(module, inputs, call):
    args = [inputs["input"]]
    if "input.indices" in inputs:
        args.append(inputs["input.indices"])
    return module(*args, **(call or {}))


def split_output(result):
    """(output, indices): a pool's (values, indices), else the first tensor of a tuple or dict output (FORMAT.md)."""
    if isinstance(result, dict):
        return next(iter(result.values())), None
    if isinstance(result, (tuple, list)):
        if len(result) == 2 and isinstance(result[1], torch.Tensor) and result[1].dtype == torch.int64:
            return result[0], result[1]
        return result[0], None
    return result, None


def run_case(c):
    torch.manual_seed(c.seed)
    module = c.module()
    module.eval()
    recipe = apply_generated_weights(module, c.seed) if c.generated else None
    with torch.no_grad():
        inputs = {k: v.detach().contiguous() for k, v in as_inputs(c.inputs()).items()}
        assert inputs["input"].dtype == torch.float32
        output, indices = split_output(forward(module, inputs, c.call))
    desc = describe(module)
    if torch.isnan(output).any():
        print(f"warning: {c.name}: PyTorch output contains NaN", file=sys.stderr)
    tensors = [("input", inputs["input"])]
    if "input.indices" in inputs:
        tensors.append(("input.indices", inputs["input.indices"]))
    tensors.append(("output", output.contiguous()))
    if indices is not None:
        tensors.append(("indices", indices.contiguous()))
    for key, value in module.state_dict().items():
        if recipe is not None:
            break
        if value.is_floating_point():
            value = value.float()
        elif value.dtype != torch.int64:
            value = value.long()
        tensors.append((f"module.{key}", value))
    atol = float(f"{c.atol * max(1.0, output.abs().max().item()):.3g}") if c.relative else c.atol
    metadata = {
        "format": FORMAT,
        "module": json.dumps(desc, separators=(", ", ": ")),
        "atol": tol(atol),
        "rtol": tol(c.rtol),
        "torch_version": torch.__version__,
        "note": c.note,
        "repr": repr(module),
    }
    if c.call:
        metadata["call"] = json.dumps(c.call, separators=(", ", ": "))
    if recipe is not None:
        metadata["generated_weights"] = json.dumps(recipe, separators=(",", ":"))
    return tensors, metadata


def selected(only):
    return [c for c in CASES if not only or only in c.name]


def generate(out, only):
    written = set()
    counts = {f: 0 for f in FAMILIES}
    for c in selected(only):
        tensors, metadata = run_case(c)
        folder = os.path.join(out, c.family)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, c.name + ".safetensors")
        write_safetensors(path, tensors, metadata)
        written.add(os.path.abspath(path))
        counts[c.family] += 1
    if not only:
        for family in FAMILIES:
            folder = os.path.join(out, family)
            if not os.path.isdir(folder):
                continue
            for fname in sorted(os.listdir(folder)):
                path = os.path.abspath(os.path.join(folder, fname))
                if fname.endswith(".safetensors") and path not in written:
                    print(f"removing stale case {path}")
                    os.remove(path)
    print("generated: " + ", ".join(f"{f} {n}" for f, n in counts.items()) + f", total {sum(counts.values())}")


def close(actual, expected, atol, rtol):
    """abs(actual - expected) <= atol + rtol * abs(expected), NaN only where PyTorch gave NaN."""
    a = actual.double()
    e = expected.double()
    nan_e = torch.isnan(e)
    if not torch.equal(torch.isnan(a), nan_e):
        return False, float("inf")
    diff = (a - e).abs()[~nan_e]
    bound = (atol + rtol * e.abs())[~nan_e]
    if diff.numel() == 0:
        return True, 0.0
    ratio = (diff / bound).max().item()
    return bool((diff <= bound).all()), ratio


def check(out, only):
    files = []
    for family in FAMILIES:
        folder = os.path.join(out, family)
        if os.path.isdir(folder):
            files += [(family, os.path.join(folder, f)) for f in sorted(os.listdir(folder)) if f.endswith(".safetensors")]
    if only:
        files = [(f, p) for f, p in files if only in os.path.basename(p)]
    failures = 0
    worst64 = []
    sizes = []
    counts = {f: 0 for f in FAMILIES}
    for family, path in files:
        name = os.path.basename(path)[: -len(".safetensors")]
        try:
            meta, tensors = read_safetensors(path)
            if meta.get("format") != FORMAT:
                raise ValueError(f"format {meta.get('format')!r}")
            for key in ("module", "atol", "rtol", "torch_version", "note"):
                if key not in meta:
                    raise ValueError(f"metadata lacks {key}")
            for key, arr in tensors.items():
                want = np.int64 if key in ("indices", "input.indices") or arr.dtype == np.int64 else np.float32
                if arr.dtype != want:
                    raise ValueError(f"{key} has dtype {arr.dtype}")
            desc = json.loads(meta["module"])
            call = json.loads(meta["call"]) if "call" in meta else {}
            atol, rtol = float(meta["atol"]), float(meta["rtol"])
            if "graph" in json.dumps(desc):
                # A traced module cannot be rebuilt from torch.nn alone: rebuild it from its case.
                torch.manual_seed(CASE_BY_NAME[name].seed)
                module = CASE_BY_NAME[name].module()
            else:
                module = build(desc)
            if describe(module) != desc:
                raise ValueError(f"rebuilt module describes differently: {describe(module)} vs {desc}")
            if "generated_weights" in meta:
                recipe = json.loads(meta["generated_weights"])
                if apply_generated_weights(module, recipe["seed"]) != recipe:
                    raise ValueError("generated_weights recipe does not match the module's state dict")
            else:
                state = {k[len("module."):]: torch.from_numpy(v) for k, v in tensors.items() if k.startswith("module.")}
                module.load_state_dict(state, strict=True)
            module.eval()
            extra = {k for k in tensors if not k.startswith("module.")} - {"input", "input.indices", "output", "indices"}
            if extra:
                raise ValueError(f"unexpected tensors {sorted(extra)}")
            inputs = {k: torch.from_numpy(tensors[k]) for k in ("input", "input.indices") if k in tensors}
            with torch.no_grad():
                output, indices = split_output(forward(module, inputs, call))
                expected = torch.from_numpy(tensors["output"])
                if tuple(output.shape) != tuple(expected.shape):
                    raise ValueError(f"output shape {tuple(output.shape)} != stored {tuple(expected.shape)}")
                ok, ratio = close(output, expected, atol, rtol)
                if not ok:
                    raise ValueError(f"output off by {ratio:.3g} x tolerance")
                if (indices is None) != ("indices" not in tensors):
                    raise ValueError("indices present in only one of module output and file")
                if indices is not None and not torch.equal(indices, torch.from_numpy(tensors["indices"])):
                    raise ValueError("indices differ")
                # How much of the tolerance PyTorch's own float32 rounding uses (vs float64).
                m64 = module.double()
                in64 = dict(inputs)
                in64["input"] = inputs["input"].double()
                out64, _ = split_output(forward(m64, in64, call))
                _, ratio64 = close(expected, out64, atol, rtol)
                worst64.append((ratio64, name))
            counts[family] += 1
            sizes.append((os.path.getsize(path), name))
        except Exception as exc:  # report every failing case
            failures += 1
            print(f"FAIL {family}/{name}: {type(exc).__name__}: {exc}")
    total = sum(s for s, _ in sizes)
    print("checked: " + ", ".join(f"{f} {n}" for f, n in counts.items()) + f", total {sum(counts.values())}")
    if sizes:
        big = max(sizes)
        print(f"size: {total / 1e6:.2f} MB in {len(sizes)} files; biggest {big[1]} ({big[0] / 1e6:.2f} MB)")
    if worst64:
        worst64.sort(reverse=True)
        print("largest |float32 PyTorch - float64| / tolerance: "
              + ", ".join(f"{n} {r:.3f}" for r, n in worst64[:12]))
    print(f"{sum(counts.values())} passed, {failures} failed")
    return failures == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: cases/ beside this script)")
    parser.add_argument("--only", default=None, help="only cases whose name contains this")
    parser.add_argument("--check", action="store_true", help="verify the files instead of generating them")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.check:
        sys.exit(0 if check(args.out, args.only) else 1)
    generate(args.out, args.only)


if __name__ == "__main__":
    main()
