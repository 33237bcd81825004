#!/usr/bin/python3
"""Export a PyTorch module to one safetensors file that Functional loads with Model.Load(path).

The file holds the module's state_dict under its own keys (float tensors as F32, integer
buffers as I64) and, in the metadata, the module's description (the parity format's
`module` JSON: see tests/Parity/FORMAT.md), PyTorch's printout and version.

  * torch.nn layers are described by their constructor arguments, read back from the
    module as it holds them; a subclass of one defined elsewhere that keeps its forward
    (torchvision's Conv3DSimple is an nn.Conv3d) by its own name and its base's arguments;
  * nn.Sequential by its layers; a Sequential subclass or one with named children by its
    own type name and its children's names;
  * any other module (a ModuleList/ModuleDict subclass with a forward, a layer subclass with
    its own forward included) by its named children and its forward, traced with torch.fx
    with the children as leaves ({"type": ..., "children": {...}, "graph": [...]}), so skip
    connections and concatenations (ResNet, UNet) arrive without hand-written code.
    Parameters and buffers read in forward become get_attr nodes; their tensors are in the
    file under their full state_dict keys (a plain tensor attribute, which state_dict does
    not hold, is stored under the key it would have).

Use from Python:          from export import export; export(model, "model.safetensors")
or for torchvision:       /usr/bin/python3 tools/export.py --torchvision resnet18 resnet18.safetensors
Runs with any PyTorch >= 1.13. A module it cannot describe fails with an ExportError naming
its path in the model and, for a forward it cannot trace, the Python line.
"""

import argparse
import contextlib
import dis
import inspect
import json
import struct
import sys
import traceback

import torch
import torch.fx
import torch.nn as nn

MODEL_FORMAT = "functional-model/1"

# Constructor parameters that PyTorch does not keep as attributes: they only shape the
# initial weights, which the state_dict carries anyway.
INIT_ONLY = {"PReLU": {"init"}, "Embedding": {"_weight", "_freeze"}, "EmbeddingBag": {"_weight"}}
# Constructor arguments a layer keeps under another form.
DERIVED = {"MultiheadAttention": {"bias": lambda m: m.in_proj_bias is not None,
                                  "add_bias_kv": lambda m: m.bias_k is not None}}
CONTAINERS = (nn.ModuleList, nn.ModuleDict, nn.ParameterList, nn.ParameterDict)


class ExportError(ValueError):
    pass


def _where(path, module):
    return f"'{path}' ({type(module).__name__})" if path else type(module).__name__


def _json_value(value, where):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list, torch.Size)):
        return [_json_value(v, where) for v in value]
    raise ExportError(f"{where}: cannot describe a value of type {type(value).__name__}: {value!r}")


def _torch_layer_class(cls):
    """The torch.nn layer class `cls` is or derives from (containers excluded), or None."""
    for base in cls.__mro__:
        if base.__module__.startswith("torch.nn.modules") and base not in (nn.Module, nn.Sequential) + CONTAINERS:
            return base
    return None


def _plain_container(module):
    return isinstance(module, CONTAINERS) and type(module).forward is nn.Module.forward


def _same_forward(cls, base):
    return cls.forward is base.forward


def describe_layer(module, type_name=None, base=None, where=None):
    """A torch.nn layer: its class name and constructor arguments as the module holds them.

    With `base`, a subclass that only changes the constructor: the arguments are the base's,
    the type its own name ("base" says which layer it is)."""
    cls = base or type(module)
    name = type_name or type(module).__name__
    where = where or name
    desc = {"type": name}
    if base is not None:
        desc["base"] = base.__name__
    skip = INIT_ONLY.get(cls.__name__, set())
    derived = DERIVED.get(cls.__name__, {})
    for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in ("device", "dtype") or p.name in skip:
            continue
        if p.name in derived:
            desc[p.name] = derived[p.name](module)
            continue
        if p.name == "bias" and isinstance(getattr(module, "bias", None), (torch.Tensor, type(None))):
            desc["bias"] = getattr(module, "bias", None) is not None
            continue
        if not hasattr(module, p.name):
            raise ExportError(f"{where}: the module keeps no attribute for constructor argument '{p.name}'")
        desc[p.name] = _json_value(getattr(module, p.name), f"{where}.{p.name}")
    return desc


# -- tracing ------------------------------------------------------------------


def _proxy_iter(self):
    """Proxy.__iter__ that finds the caller's UNPACK_SEQUENCE by byte offset.

    PyTorch 1.13 indexes the caller's instructions by f_lasti // 2, which Python 3.11's inline
    caches break: `a, b = x.chunk(2, 1)` and `n, c, h, w = x.size()` then fail to trace. Knowing
    the arity, unpacking emits one getitem node per element, as PyTorch 2 does."""
    frame = inspect.currentframe().f_back
    for inst in dis.get_instructions(frame.f_code):
        if inst.offset == frame.f_lasti:
            if inst.opname == "UNPACK_SEQUENCE":
                return (self[i] for i in range(inst.argval))
            break
    return self.tracer.iter(self)


@contextlib.contextmanager
def _iterable_proxies():
    saved = torch.fx.Proxy.__iter__
    torch.fx.Proxy.__iter__ = _proxy_iter
    try:
        yield
    finally:
        torch.fx.Proxy.__iter__ = saved


class _ChildrenAsLeaves(torch.fx.Tracer):
    """Traces one module's own forward, stopping at its direct children.

    A child called with something other than a tensor (densenet's _DenseLayer takes the list of
    the block's features so far) cannot be a node of tensors: it is traced through instead, its
    own children becoming the leaves (`inlined` collects such children's qualified names)."""

    def __init__(self):
        super().__init__()
        self.record_stack_traces = True
        self.inlined = set()

    def is_leaf_module(self, m, qualified_name):
        parent = qualified_name.rpartition(".")[0]
        return parent == "" or self._transparent(parent)

    def _transparent(self, name):
        """Whether the graph calls this descendant's children directly: it was traced through, or it
        is a ModuleList/ModuleDict without a forward (ASPP's `convs`), itself a child or transparent's."""
        if name not in self.inlined and not _plain_container(self.root.get_submodule(name)):
            return False
        parent = name.rpartition(".")[0]
        return parent == "" or self._transparent(parent)

    def call_module(self, m, forward, args, kwargs):
        name = self.path_of_module(m)
        if (self.is_leaf_module(m, name) and args and not isinstance(args[0], torch.fx.Proxy)
                and _torch_layer_class(type(m)) is None and not isinstance(m, nn.Sequential)):
            self.inlined.add(name)
            return forward(*args, **kwargs)
        return super().call_module(m, forward, args, kwargs)


def _user_line(tb, module):
    """The last frame of the traceback outside torch: the user's line that failed."""
    frames = [f for f in traceback.extract_tb(tb) if "/torch/" not in f.filename.replace("\\", "/") and f.filename != __file__]
    if not frames:
        return ""
    f = frames[-1]
    return f" at {f.filename}:{f.lineno} ({(f.line or '').strip()})"


def _node_line(node):
    """The Python line that made a traced node, from torch.fx's recorded stack trace."""
    lines = [l.strip() for l in (node.stack_trace or "").strip().splitlines()]
    files = [i for i, l in enumerate(lines) if l.startswith("File ")]
    if not files:
        return ""
    code = lines[files[-1] + 1] if files[-1] + 1 < len(lines) else ""
    return f" at {lines[files[-1]][5:]}" + (f": {code}" if code else "")


def _graph_arg(a, node, where):
    if isinstance(a, torch.fx.Node):
        return {"node": a.name}
    if isinstance(a, (tuple, list)):
        return [_graph_arg(v, node, where) for v in a]
    if isinstance(a, dict):
        if not all(isinstance(k, str) for k in a):
            raise ExportError(f"{where}: graph node '{node.name}' has a dict argument with non-string keys{_node_line(node)}")
        return {"dict": {k: _graph_arg(v, node, where) for k, v in a.items()}}
    if isinstance(a, slice):
        return {"slice": [_graph_arg(v, node, where) for v in (a.start, a.stop, a.step)]}
    if a is Ellipsis:
        return {"ellipsis": True}
    if a is None or isinstance(a, (bool, int, float, str)):
        return a
    raise ExportError(f"{where}: graph node '{node.name}' ({node.op} {node.target}) has an argument of type "
                      f"{type(a).__name__} that cannot be exported: {a!r}{_node_line(node)}")


def _attribute(module, target):
    value = module
    for part in target.split("."):
        value = getattr(value, part)
    return value


def trace(module, path="", attributes=None):
    """The torch.fx graph of `module`'s own forward with its children as leaves, as JSON nodes.

    get_attr nodes read tensors of the module: they are added to `attributes` (full key ->
    tensor) under the module's path, as state_dict would name them."""
    where = _where(path, module)
    tracer = _ChildrenAsLeaves()
    try:
        with _iterable_proxies():
            graph = tracer.trace(module)
    except ExportError:
        raise
    except Exception as e:  # fx raises many types; name the module and the line either way
        raise ExportError(f"{where}: torch.fx cannot trace its forward{_user_line(e.__traceback__, module)}: "
                          f"{type(e).__name__}: {e}") from e
    nodes = []
    for n in graph.nodes:
        if n.op == "call_function":
            target = torch.fx.node._get_qualified_name(n.target)
        else:
            target = str(n.target)
        node = {"op": n.op, "name": n.name, "target": target,
                "args": _graph_arg(list(n.args), n, where), "kwargs": {k: _graph_arg(v, n, where) for k, v in n.kwargs.items()}}
        if n.op == "get_attr":
            value = _attribute(module, n.target)
            if not isinstance(value, torch.Tensor):
                raise ExportError(f"{where}: its forward uses the attribute '{n.target}' of type {type(value).__name__} "
                                  f"as a value, which cannot be exported{_node_line(n)}")
            if attributes is not None:
                attributes[f"{path}.{n.target}" if path else n.target] = value
        nodes.append(node)
    return nodes, tracer.inlined


def _traced(module, path, custom_types, attributes):
    nodes, inlined = trace(module, path, attributes)
    desc = {"type": type(module).__name__,
            "children": _children(module, path, custom_types, attributes, inlined),
            "graph": nodes}
    return _with_printout(desc, module)


def _children(module, path, custom_types, attributes, inlined, prefix=""):
    """The named children's descriptions; a child traced into its parent's graph (`inlined`) is
    described by its own children only, marked "inline"."""
    children = {}
    for name, child in module.named_children():
        qualified = prefix + name
        if qualified in inlined or _plain_container(child):
            children[name] = _with_printout({"type": type(child).__name__, "inline": True, "children": _children(
                child, _join(path, name), custom_types, attributes, inlined, qualified + ".")}, child)
        else:
            children[name] = describe(child, custom_types, _join(path, name), attributes)
    return children


def _with_printout(desc, module):
    """What a module that is not a torch.nn layer prints beyond its children: its own __repr__ (kept
    whole) or its extra_repr line."""
    if type(module).__repr__ is not nn.Module.__repr__:
        desc["repr"] = repr(module)
    elif module.extra_repr():
        desc["extra_repr"] = module.extra_repr()
    return desc


def _join(path, name):
    return f"{path}.{name}" if path else name


def describe(module, custom_types=None, path="", attributes=None):
    """The module description of any module: layers, Sequentials, and traced modules.

    `path` is the module's place in the model (for error messages and get_attr keys);
    `attributes` collects the tensors get_attr nodes read, by full key."""
    custom_types = custom_types or {}
    cls = type(module)
    for name, custom in custom_types.items():
        if cls is custom:
            return describe_layer(module, name)
    if isinstance(module, nn.Sequential) and _same_forward(cls, nn.Sequential):
        names = [name for name, _ in module.named_children()]
        children = [describe(child, custom_types, _join(path, name), attributes) for name, child in module.named_children()]
        if cls is nn.Sequential and names == [str(i) for i in range(len(names))]:
            return {"type": "Sequential", "layers": children}
        desc = {"type": cls.__name__}
        if cls is not nn.Sequential:
            desc["base"] = "Sequential"
        desc["children"] = dict(zip(names, children))
        return _with_printout(desc, module)
    if _plain_container(module):
        raise ExportError(f"{_where(path, module)} has no forward of its own: describe the module that uses it")
    base = _torch_layer_class(cls)
    if base is not None and _same_forward(cls, base):
        try:
            return describe_layer(module, base=base if base is not cls else None, where=_where(path, module))
        except ExportError:
            raise
        except Exception as e:  # a layer's attributes read back in an unexpected way
            raise ExportError(f"{_where(path, module)}: cannot describe it as a {base.__name__}: {type(e).__name__}: {e}") from e
    return _traced(module, path, custom_types, attributes)


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


def describe_with_tensors(module, custom_types=None):
    """The description and every tensor the file holds: the state_dict, plus tensors that forward
    reads as plain attributes (not in state_dict), under the key state_dict would give them."""
    attributes = {}
    desc = describe(module, custom_types, "", attributes)
    state = module.state_dict()
    tensors = list(state.items()) + [(k, v) for k, v in attributes.items() if k not in state]
    return desc, tensors


def export(module, path, custom_types=None):
    """Writes `module` (put in eval mode) to `path` for Functional's Model.Load."""
    module.eval()
    desc, tensors = describe_with_tensors(module, custom_types)
    metadata = {"format": MODEL_FORMAT, "module": json.dumps(desc, separators=(", ", ": ")),
                "repr": repr(module), "torch_version": torch.__version__}
    write_safetensors(path, tensors, metadata)
    return desc


def main():
    parser = argparse.ArgumentParser(description="Export a torchvision model for Functional's Model.Load.")
    parser.add_argument("--torchvision", required=True,
                        help="a torchvision.models constructor name, e.g. resnet18 (segmentation.fcn_resnet50, video.r3d_18)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the random initialisation")
    parser.add_argument("out", help="output .safetensors path")
    args = parser.parse_args()
    import torchvision
    torch.manual_seed(args.seed)
    try:
        build = _attribute(torchvision.models, args.torchvision)
    except AttributeError:
        raise ExportError(f"torchvision.models has no constructor '{args.torchvision}'") from None
    # Random weights throughout: segmentation models would otherwise download an ImageNet backbone.
    kwargs = {"weights_backbone": None} if "weights_backbone" in inspect.signature(build).parameters else {}
    model = build(**kwargs)
    export(model, args.out)
    print(f"wrote {args.out}: {sum(p.numel() for p in model.parameters()):,} parameters")


if __name__ == "__main__":
    try:
        main()
    except ExportError as e:
        sys.exit(f"export: {e}")
