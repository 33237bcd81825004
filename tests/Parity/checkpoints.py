#!/usr/bin/python3
"""Generate the PyTorch checkpoint cases of Functional: tests/Parity/checkpoints/.

Run with Debian's PyTorch (python3-torch, python3-torchvision):

    /usr/bin/python3 tests/Parity/checkpoints.py

Each <case>.pth is written by torch.save exactly as users write checkpoints. Beside it,
<case>.safetensors holds what a reader must get out of it: every tensor, contiguous in
PyTorch's logical order and in its own dtype, named by its path through the saved dicts and
lists joined with dots (the naming of Functional's PyTorchCheckpoint). hostile_*.pth are
checkpoints a reader must refuse without executing anything; legacy_format.pth uses the
pre-1.6 non-zip format. resnet18_width4.pth is torchvision's ResNet-18 with every width
divided by 8 (same module names and forward), with resnet18_width4.io.safetensors holding an
input, PyTorch's output and printout. Everything is seeded: regenerating gives the same tensors.
"""

import collections
import io
import json
import os
import struct
import zipfile

import torch
import torch.nn as nn
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "checkpoints")

ST_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
             torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
             torch.uint8: "U8", torch.bool: "BOOL"}


def tensor_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes()  # little-endian on this machine


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, tensor) in any dtype of ST_DTYPES."""
    header = {"__metadata__": metadata} if metadata else {}
    blobs, offset = [], 0
    for name, t in tensors:
        data = tensor_bytes(t)
        header[name] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def flatten(obj, prefix=""):
    """Tensors by dotted path through dicts (keys) and lists/tuples (indices); other values skipped."""
    def child(k):
        return f"{prefix}.{k}" if prefix else f"{k}"
    if isinstance(obj, torch.Tensor):
        return [(prefix, obj)]
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += flatten(v, child(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            out += flatten(v, child(i))
    return out


def save_case(name, obj):
    path = os.path.join(OUT, name + ".pth")
    torch.save(obj, path)
    # The expectation is what torch.load gives back, so a case also checks torch.save's round trip.
    loaded = torch.load(path)
    write_safetensors(os.path.join(OUT, name + ".safetensors"), flatten(loaded))


def seeded(name):
    torch.manual_seed(sum(name.encode()))


def randomize_norms(module):
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
            m.num_batches_tracked.fill_(7)


def layers_state_dict():
    seeded("layers")
    m = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 5),
                      nn.LayerNorm(5), nn.Embedding(6, 3))
    randomize_norms(m)
    save_case("state_dict_layers", m.state_dict())


class Buffers(nn.Module):
    def __init__(self):
        super().__init__()
        base = torch.randn(2, 3, dtype=torch.float64) * 100
        self.register_buffer("f16", base.half())
        self.register_buffer("bf16", base.bfloat16())
        self.register_buffer("f64", base)
        self.register_buffer("i64", torch.tensor([[-2**40, 2**40 + 3, -1], [0, 1, 2**62]], dtype=torch.int64))
        self.register_buffer("i32", torch.tensor([-2**31, 2**31 - 1, 5], dtype=torch.int32))
        self.register_buffer("i16", torch.tensor([-32768, 32767, -3], dtype=torch.int16))
        self.register_buffer("i8", torch.tensor([-128, 127, -1], dtype=torch.int8))
        self.register_buffer("u8", torch.tensor([0, 255, 17], dtype=torch.uint8))
        self.register_buffer("mask", torch.tensor([True, False, True]))
        self.register_buffer("scalar", torch.tensor(3.25))
        self.register_buffer("empty", torch.zeros(0, 3))
        self.register_buffer("f16_transposed", torch.randn(3, 5).half().t())


def dtype_buffers():
    seeded("dtypes")
    save_case("dtypes_buffers", Buffers().state_dict())


def shared_storage():
    seeded("shared")
    base = torch.randn(24)
    grid = base.view(4, 6)
    tied = torch.randn(3, 2)
    save_case("shared_storage", collections.OrderedDict([
        ("base", base),
        ("slice", base[4:10]),            # offset into the storage
        ("grid", grid),
        ("every_other_column", grid[:, ::2]),
        ("column", grid[:, 3]),
        ("expanded", base[:4].view(4, 1).expand(4, 3)),  # stride 0
        ("tied_a", tied), ("tied_b", tied),  # one tensor saved twice (a memo reference)
    ]))


def transposed_views():
    seeded("transposed")
    lin = nn.Linear(5, 3)
    x = torch.randn(2, 3, 4, 5)
    save_case("transposed_views", {
        "weight_t": lin.weight.detach().t(),
        "permuted": x.permute(3, 1, 0, 2),
        "narrowed_t": x[1, :, 1:3, ::2].transpose(0, 2),
        "int_t": torch.arange(12, dtype=torch.int64).view(3, 4).t(),
    })


def nested_dicts():
    seeded("nested")
    enc = [nn.Linear(4, 4).state_dict() for _ in range(2)]
    save_case("nested_dicts", {
        "encoder": {"layers": enc, "scale": torch.tensor([0.5])},
        "head": nn.Linear(4, 2).state_dict(),
        "pair": (torch.ones(2), torch.zeros(1, dtype=torch.int32)),
        "note": "strings, numbers and None are skipped", "n": 3, "none": None,
    })


def parameters():
    seeded("parameters")
    m = nn.Conv1d(2, 3, 2)
    save_case("parameters", dict(m.named_parameters()))  # nn.Parameter, rebuilt by _rebuild_parameter


def full_checkpoint():
    seeded("full")
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    m.train()
    loss = m(torch.randn(8, 3)).square().mean()
    loss.backward()
    opt.step()
    m.eval()
    save_case("full_checkpoint", {"model": m.state_dict(), "optimizer": opt.state_dict(), "epoch": 3,
                                  "best_acc": 0.5, "config": {"lr": 1e-3, "name": "tiny", "sizes": [3, 4, 2]}})


def archive_folder():
    """A hand-made archive with the top folder 'archive/' (as other writers do), entries deflated."""
    src = os.path.join(OUT, "state_dict_layers.pth")
    dst = os.path.join(OUT, "archive_folder_deflated.pth")
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            top, rest = info.filename.split("/", 1)
            zout.writestr("archive/" + rest, zin.read(info.filename))
    with open(os.path.join(OUT, "state_dict_layers.safetensors"), "rb") as f:
        expected = f.read()
    with open(os.path.join(OUT, "archive_folder_deflated.safetensors"), "wb") as f:
        f.write(expected)


class System:
    """Pickles as os.system("touch <marker>"): what a malicious checkpoint does."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class Eval:
    def __reduce__(self):
        return (eval, ("__import__('os').system('touch /tmp/functional-pwned-eval')",))


def hostile():
    import argparse
    seeded("hostile")
    w = torch.randn(2)
    torch.save({"weight": w, "payload": System("touch /tmp/functional-pwned")}, os.path.join(OUT, "hostile_posix_system.pth"))
    torch.save({"weight": w, "payload": Eval()}, os.path.join(OUT, "hostile_builtins_eval.pth"))
    # A checkpoint with an object that torch.load(weights_only=True) refuses too.
    torch.save({"model": {"weight": w}, "args": argparse.Namespace(lr=0.1)}, os.path.join(OUT, "hostile_namespace.pth"))
    torch.save({"weight": w}, os.path.join(OUT, "legacy_format.pth"), _use_new_zipfile_serialization=False)


def narrow_resnet18(width):
    """torchvision's resnet18 with every channel count divided by 64/width: same names, same forward."""
    m = torchvision.models.resnet18(num_classes=10)
    scale = 64 // width

    def narrow(c):
        return c if c == 3 else c // scale
    for parent in list(m.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Conv2d):
                setattr(parent, name, nn.Conv2d(narrow(child.in_channels), narrow(child.out_channels), child.kernel_size,
                                                child.stride, child.padding, bias=child.bias is not None))
            elif isinstance(child, nn.BatchNorm2d):
                setattr(parent, name, nn.BatchNorm2d(narrow(child.num_features)))
            elif isinstance(child, nn.Linear):
                setattr(parent, name, nn.Linear(narrow(child.in_features), child.out_features))
    return m


def resnet():
    seeded("resnet18_width4")
    m = narrow_resnet18(4)
    randomize_norms(m)
    m.eval()
    torch.save(m.state_dict(), os.path.join(OUT, "resnet18_width4.pth"))
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        y = m(x)
    write_safetensors(os.path.join(OUT, "resnet18_width4.io.safetensors"), [("input", x), ("output", y)],
                      {"repr": repr(m), "atol": "1e-4", "torch_version": torch.__version__})


def main():
    os.makedirs(OUT, exist_ok=True)
    layers_state_dict()
    dtype_buffers()
    shared_storage()
    transposed_views()
    nested_dicts()
    parameters()
    full_checkpoint()
    archive_folder()
    hostile()
    resnet()
    for f in sorted(os.listdir(OUT)):
        print(f"{os.path.getsize(os.path.join(OUT, f)):>9}  {f}")


if __name__ == "__main__":
    main()
