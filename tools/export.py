#!/usr/bin/python3
"""Export a PyTorch module to one safetensors file that Functional loads with Model.Load(path).

The file holds the module's state_dict under its own keys (float tensors as F32, integer
buffers as I64) and, in the metadata, the module's description (the parity format's
`module` JSON: see tests/Parity/FORMAT.md), PyTorch's printout and version.

  * torch.nn layers are described by their constructor arguments, read back from the
    module as it holds them;
  * nn.Sequential by its layers;
  * any other module by its named children and its forward, traced with torch.fx with the
    children as leaves ({"type": ..., "children": {...}, "graph": [...]}), so skip
    connections and concatenations (ResNet, UNet) arrive without hand-written code.

Use from Python:          from export import export; export(model, "model.safetensors")
or for torchvision:       /usr/bin/python3 tools/export.py --torchvision resnet18 resnet18.safetensors
Runs with any PyTorch >= 1.13. A module it cannot describe fails with a message naming it.
"""

import argparse
import enum
import inspect
import json
import struct
import sys

import torch
import torch.fx
import torch.nn as nn

MODEL_FORMAT = "functional-model/1"

# Constructor parameters that PyTorch does not keep as attributes: they only shape the
# initial weights, which the state_dict carries anyway.
INIT_ONLY = {"PReLU": {"init"}, "Embedding": {"_weight", "_freeze"}, "EmbeddingBag": {"_weight"}}
CONTAINERS = (nn.ModuleList, nn.ModuleDict, nn.ParameterList, nn.ParameterDict)


class ExportError(ValueError):
    pass


def _json_value(value, where):
    if isinstance(value, enum.Enum):  # torchvision's InterpolationMode: by its value, "bilinear"
        return _json_value(value.value, where)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list, torch.Size)):
        return [_json_value(v, where) for v in value]
    raise ExportError(f"{where}: cannot describe a value of type {type(value).__name__}: {value!r}")


# torchvision's tensor transforms that Functional rebuilds as layers, so a preprocessing
# pipeline can be exported in front of a model: nn.Sequential(T.Resize(256), ..., model).
TRANSFORMS = {"Resize", "CenterCrop", "Normalize"}


def _is_torch_layer(module):
    cls = type(module)
    if cls.__module__ == "torchvision.transforms.transforms" and cls.__name__ in TRANSFORMS:
        return True
    return cls.__module__.startswith("torch.nn.modules") and not isinstance(module, (nn.Sequential,) + CONTAINERS)


def describe_layer(module, type_name=None):
    """A torch.nn layer: its class name and constructor arguments as the module holds them."""
    cls = type(module)
    name = type_name or cls.__name__
    desc = {"type": name}
    skip = INIT_ONLY.get(name, set())
    for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in ("device", "dtype") or p.name in skip:
            continue
        if p.name == "bias" and isinstance(getattr(module, "bias", None), (torch.Tensor, type(None))):
            desc["bias"] = module.bias is not None
            continue
        if not hasattr(module, p.name):
            raise ExportError(f"{name}: the module keeps no attribute for constructor argument '{p.name}'")
        desc[p.name] = _json_value(getattr(module, p.name), f"{name}.{p.name}")
    return desc


def _graph_arg(a):
    if isinstance(a, torch.fx.Node):
        return {"node": a.name}
    if isinstance(a, (tuple, list)):
        return [_graph_arg(v) for v in a]
    if a is None or isinstance(a, (bool, int, float, str)):
        return a
    raise ExportError(f"graph argument of type {type(a).__name__} is not supported: {a!r}")


class _ChildrenAsLeaves(torch.fx.Tracer):
    """Traces one module's own forward, stopping at its direct children."""

    def is_leaf_module(self, m, qualified_name):
        return "." not in qualified_name


def trace(module):
    try:
        graph = _ChildrenAsLeaves().trace(module)
    except Exception as e:  # fx raises many types; name the module either way
        raise ExportError(f"{type(module).__name__}: torch.fx cannot trace its forward ({type(e).__name__}: {e})") from e
    nodes = []
    for n in graph.nodes:
        if n.op == "get_attr":
            raise ExportError(f"{type(module).__name__}: its forward reads the attribute '{n.target}' directly, which cannot be exported")
        if n.op == "call_function":
            target = torch.fx.node._get_qualified_name(n.target)
        else:
            target = str(n.target)
        nodes.append({"op": n.op, "name": n.name, "target": target,
                      "args": _graph_arg(list(n.args)), "kwargs": {k: _graph_arg(v) for k, v in n.kwargs.items()}})
    return nodes


def describe(module, custom_types=None):
    """The module description of any module: layers, Sequentials, and traced modules."""
    custom_types = custom_types or {}
    for name, cls in custom_types.items():
        if type(module) is cls:
            return describe_layer(module, name)
    if isinstance(module, nn.Sequential):
        return {"type": "Sequential", "layers": [describe(m, custom_types) for m in module]}
    if isinstance(module, CONTAINERS):
        raise ExportError(f"{type(module).__name__} has no forward of its own: describe the module that uses it")
    if _is_torch_layer(module):
        return describe_layer(module)
    return {"type": type(module).__name__,
            "children": {name: describe(child, custom_types) for name, child in module.named_children()},
            "graph": trace(module)}


def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, torch.Tensor); metadata: dict str -> str."""
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name, t in tensors:
        t = t.detach().contiguous().cpu()
        if t.is_floating_point():
            t, dtype = t.float(), "F32"
        else:
            t, dtype = t.long(), "I64"
        data = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def export(module, path, custom_types=None):
    """Writes `module` (put in eval mode) to `path` for Functional's Model.Load."""
    module.eval()
    desc = describe(module, custom_types)
    metadata = {"format": MODEL_FORMAT, "module": json.dumps(desc, separators=(", ", ": ")),
                "repr": repr(module), "torch_version": torch.__version__}
    write_safetensors(path, list(module.state_dict().items()), metadata)
    return desc


def main():
    parser = argparse.ArgumentParser(description="Export a torchvision model for Functional's Model.Load.")
    parser.add_argument("--torchvision", required=True, help="a torchvision.models constructor name, e.g. resnet18")
    parser.add_argument("--seed", type=int, default=0, help="seed for the random initialisation")
    parser.add_argument("out", help="output .safetensors path")
    args = parser.parse_args()
    import torchvision
    torch.manual_seed(args.seed)
    model = getattr(torchvision.models, args.torchvision)()
    export(model, args.out)
    print(f"wrote {args.out}: {sum(p.numel() for p in model.parameters()):,} parameters")


if __name__ == "__main__":
    try:
        main()
    except ExportError as e:
        sys.exit(f"export: {e}")
