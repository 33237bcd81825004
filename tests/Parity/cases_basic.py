"""Parity cases of family "basic": Linear, Flatten/Unflatten/Identity, the dropouts, the softmax
family, the remaining activations and Embedding (loaded by generate.py's load_family_modules).

Three things the generic generator cannot do for these modules are supplied here, for this
family's modules only:

* describe(): four torch.nn classes do not hold every constructor argument as an attribute
  (Identity takes *args; Hardtanh drops the deprecated min_value/max_value; PReLU keeps `init`
  only in its weight; Embedding takes `_weight`). They are described by hand, with the arguments
  the module does hold (PReLU's `init` is omitted: the stored weight is what counts).
* Embedding takes int64 indices, while generate.py runs every case on a float32 input (and
  --check also runs a float64 copy). Index cases build their indices as float32 holding small
  integers; nn.Embedding.forward is wrapped, in this process only, to cast a floating input to
  int64 first; and the writer stores the input of those cases as I64, so the file holds exactly
  the LongTensor PyTorch was given (FORMAT.md: readers read it as float).
"""

import math
import os

import torch
import torch.nn as nn

FAMILY = "basic"

# Values near 0, the saturation points ±10/±30/±100 and the kinks of the piecewise activations.
SPECIALS = [0.0, -0.0, 1e-3, -1e-3, 1e-7, -1e-7, 10.0, -10.0, 30.0, -30.0, 100.0, -100.0,
            1.0, -1.0, 3.0, -3.0, 2.9999, -2.9999, 3.0001, -3.0001, 0.5, -0.5, 0.4999, 0.5001,
            -0.4999, -0.5001, 6.0, -6.0, 20.0, 19.9999, 20.0001, 5.0, 2.0, -2.0]

INDEX_CASES = set()


def kink_input(*shape, extra=(), scale=3.0):
    """randn * scale with SPECIALS (then `extra`) written over the first elements."""
    def make():
        x = torch.randn(*shape) * scale
        flat = x.view(-1)
        values = list(extra) + SPECIALS
        n = min(len(values), flat.numel())
        flat[:n] = torch.tensor(values[:n], dtype=torch.float32)
        return x
    return make


def wide_input(*shape):
    """randn * 3 with rows that mix +100, -100, 99.7 and -30 (softmax overflow / underflow)."""
    def make():
        x = torch.randn(*shape) * 3.0
        flat = x.view(-1)
        vals = [100.0, -100.0, 99.7, -30.0, 30.0, 0.0, -100.0, 100.0]
        step = max(1, flat.numel() // len(vals))
        for i, v in enumerate(vals):
            if i * step < flat.numel():
                flat[i * step] = v
        return x
    return make


def with_weight(make, low, high):
    """The module from `make` with its weight redrawn uniform in [low, high] (seeded by the case)."""
    def build():
        m = make()
        with torch.no_grad():
            m.weight.uniform_(low, high)
        return m
    return build


def no_mutation(make):
    """An inplace=True module run on a copy: PyTorch would otherwise overwrite the input that
    run_case then stores (an instance attribute, so describe() and repr() are unchanged)."""
    def build():
        m = make()
        forward = m.forward
        m.forward = lambda x: forward(x.clone())
        return m
    return build


def index_input(high, *shape, must=()):
    """Integer indices in [0, high) as float32 (see the module docstring), with `must` written first."""
    def make():
        idx = torch.randint(0, high, shape if shape else ())
        flat = idx.view(-1)
        for i, v in enumerate(must[:flat.numel()]):
            flat[i] = v
        return idx.float()
    return make


def install(g):
    generic = g.describe

    def describe(module):
        t = type(module)
        if t is nn.Identity:
            return {"type": "Identity"}
        if t is nn.Hardtanh:
            return {"type": "Hardtanh", "min_val": g._json_value(module.min_val, "Hardtanh.min_val"),
                    "max_val": g._json_value(module.max_val, "Hardtanh.max_val"), "inplace": module.inplace}
        if t is nn.PReLU:
            return {"type": "PReLU", "num_parameters": module.num_parameters}
        if t is nn.Embedding:
            return {"type": "Embedding", "num_embeddings": module.num_embeddings,
                    "embedding_dim": module.embedding_dim, "padding_idx": module.padding_idx,
                    "max_norm": g._json_value(module.max_norm, "Embedding.max_norm"),
                    "norm_type": g._json_value(module.norm_type, "Embedding.norm_type"),
                    "scale_grad_by_freq": module.scale_grad_by_freq, "sparse": module.sparse}
        return generic(module)

    g.describe = describe

    embedding_forward = nn.Embedding.forward

    def forward(self, input):
        if input.is_floating_point():
            as_long = input.long()
            assert torch.equal(as_long.to(input.dtype), input), "Embedding index cases hold integers"
            input = as_long
        return embedding_forward(self, input)

    nn.Embedding.forward = forward

    # run_case is defined after the family modules load, so the I64 conversion hooks the writer.
    write_safetensors = g.write_safetensors

    def write_index_aware(path, tensors, metadata):
        if os.path.basename(path)[: -len(".safetensors")] in INDEX_CASES:
            tensors = [(n, t.long() if n == "input" else t) for n, t in tensors]
        write_safetensors(path, tensors, metadata)

    g.write_safetensors = write_index_aware


def add_cases(g):
    install(g)

    def case(name, make, inputs, note, atol=1e-6, rtol=1e-5):
        g.case(FAMILY, name, make, inputs, atol, rtol, note)

    def index_case(name, make, inputs, note, atol=0.0, rtol=0.0):
        INDEX_CASES.add(name)
        case(name, make, inputs, note, atol, rtol)

    def lin_tol(k):
        return g.nice_up(max(1e-5, 1e-5 * math.sqrt(max(k, 1))))

    # -- Linear ---------------------------------------------------------------
    def linear(name, i, o, shape, note, bias=True):
        case(name, lambda: nn.Linear(i, o, bias=bias), g.randn(*shape), note, atol=lin_tol(i), rtol=1e-4)

    linear("linear_bias_2d", 16, 8, (4, 16), "Linear(16, 8) on [4, 16] (few rows: one dot product per output)")
    linear("linear_no_bias_2d", 16, 8, (4, 16), "bias=False: no bias key, printout bias=False", bias=False)
    linear("linear_1d_input", 10, 5, (10,), "a 1-D input [in] gives [out]")
    linear("linear_3d_input", 12, 7, (2, 3, 12), "two leading dimensions: [2, 3, 12] -> [2, 3, 7]")
    linear("linear_4d_input_gemm", 6, 5, (2, 3, 4, 6), "three leading dimensions, 24 rows: the packed-GEMM path")
    linear("linear_gemm_bias", 64, 40, (32, 64), "32 rows: packed GEMM, bias added per row")
    linear("linear_gemm_no_bias", 64, 40, (32, 64), "32 rows: packed GEMM without bias", bias=False)
    linear("linear_gemm_k300", 300, 40, (16, 300), "in_features 300 > one 256-deep GEMM block")
    linear("linear_k300_few_rows", 300, 50, (3, 300), "in_features 300 on 3 rows (dot products)")
    linear("linear_in_features_1", 1, 6, (5, 1), "in_features 1: an outer product plus bias")
    linear("linear_in_features_1_many_rows", 1, 6, (20, 1), "in_features 1 with many rows (never the GEMM's depthwise path)")
    linear("linear_out_features_1", 9, 1, (20, 9), "out_features 1")
    linear("linear_empty_batch", 4, 3, (0, 4), "zero rows: output [0, 3]")

    def linear_in0():
        m = nn.Linear(0, 3)
        with torch.no_grad():
            m.bias.normal_()
        return m

    case("linear_in_features_0", linear_in0, g.randn(2, 0), "in_features 0: an empty sum, every row is the bias")

    # -- Flatten / Unflatten / Identity ---------------------------------------
    case("flatten_default", lambda: nn.Flatten(), g.randn(2, 3, 4, 5), "Flatten(): dims 1..-1 merged, [2, 3, 4, 5] -> [2, 60]")
    case("flatten_start0", lambda: nn.Flatten(0), g.randn(2, 3, 4), "Flatten(0): everything into one dim")
    case("flatten_start2_end3", lambda: nn.Flatten(2, 3), g.randn(2, 3, 4, 5, 2), "dims 2..3 merged: [2, 3, 20, 2]")
    case("flatten_negative_dims", lambda: nn.Flatten(-3, -2), g.randn(2, 3, 4, 5), "negative start/end: dims 1..2 of a 4-D input")
    case("flatten_same_dim", lambda: nn.Flatten(1, 1), g.randn(2, 3, 4), "start_dim == end_dim: shape unchanged")
    case("flatten_1d_all", lambda: nn.Flatten(0, -1), g.randn(7), "1-D input, Flatten(0, -1)")
    case("unflatten_dim1", lambda: nn.Unflatten(1, (2, 3)), g.randn(4, 6), "Unflatten(1, (2, 3)): [4, 6] -> [4, 2, 3]")
    case("unflatten_negative_dim_inferred", lambda: nn.Unflatten(-1, (4, -1)), g.randn(2, 3, 12),
         "dim -1 with one size inferred from -1: [2, 3, 12] -> [2, 3, 4, 3]")
    case("unflatten_single_size", lambda: nn.Unflatten(1, (6,)), g.randn(2, 6, 2), "a one-element size tuple prints as (6,)")
    case("unflatten_dim0_three", lambda: nn.Unflatten(0, (2, 1, 2)), g.randn(4, 3), "dim 0 into three sizes with a 1")
    case("identity", lambda: nn.Identity(), g.randn(3, 4), "Identity returns its input")
    case("identity_ignores_args", lambda: nn.Identity(54, unused_argument=0.1), g.randn(2, 5),
         "Identity(54, unused_argument=0.1): PyTorch accepts and drops the arguments")

    # -- Dropouts (identity in eval mode, printouts as PyTorch) ---------------
    case("dropout_default", lambda: nn.Dropout(), g.randn(3, 5), "Dropout(p=0.5) in eval mode: identity, no 1/(1-p) scaling")
    case("dropout_p0p2_inplace", lambda: nn.Dropout(0.2, inplace=True), g.randn(2, 3, 4), "inplace=True prints, changes nothing")
    case("dropout_p1_int", lambda: nn.Dropout(1), g.randn(4), "p=1 given as an int prints p=1; eval is still the identity")
    case("dropout_p0_int", lambda: nn.Dropout(0), g.randn(2, 2), "p=0 (int)")
    case("dropout1d_batched", lambda: nn.Dropout1d(0.3), g.randn(2, 3, 5), "Dropout1d on (N, C, L)")
    case("dropout1d_unbatched", lambda: nn.Dropout1d(), g.randn(3, 5), "Dropout1d on (C, L)")
    case("dropout2d", lambda: nn.Dropout2d(0.25), g.randn(2, 3, 4, 4), "Dropout2d on (N, C, H, W)")
    case("dropout3d", lambda: nn.Dropout3d(), g.randn(1, 2, 3, 3, 3), "Dropout3d on (N, C, D, H, W)")
    case("alpha_dropout", lambda: nn.AlphaDropout(0.1), g.randn(3, 6), "AlphaDropout in eval mode: identity")
    case("feature_alpha_dropout_inplace", lambda: nn.FeatureAlphaDropout(0.4, inplace=True), g.randn(2, 3, 4),
         "FeatureAlphaDropout in eval mode: identity")

    # -- Softmax family --------------------------------------------------------
    for kind, cls in (("softmax", nn.Softmax), ("logsoftmax", nn.LogSoftmax), ("softmin", nn.Softmin)):
        case(f"{kind}_dim1_wide", lambda cls=cls: cls(dim=1), wide_input(6, 10),
             f"{cls.__name__}(dim=1) on rows mixing +-100, 99.7, +-30: max subtracted first")
        case(f"{kind}_dim_neg1_3d", lambda cls=cls: cls(dim=-1), wide_input(2, 3, 7), f"{cls.__name__}(dim=-1), last dim")
        case(f"{kind}_dim0_wide", lambda cls=cls: cls(dim=0), wide_input(6, 5),
             f"{cls.__name__}(dim=0): strided reduction with +-100")
        case(f"{kind}_dim_neg2_4d", lambda cls=cls: cls(dim=-2), wide_input(2, 3, 5, 4), f"{cls.__name__}(dim=-2) on 4-D")
        case(f"{kind}_dim_none_3d", lambda cls=cls: cls(), g.randn(3, 4, 5),
             f"{cls.__name__}(dim=None) on 3-D: PyTorch's legacy _get_softmax_dim picks dim 0")
        case(f"{kind}_dim_none_4d", lambda cls=cls: cls(), g.randn(2, 3, 2, 2),
             f"{cls.__name__}(dim=None) on 4-D: legacy rule picks dim 1")
    case("softmax_dim_none_1d", lambda: nn.Softmax(), wide_input(9), "Softmax(dim=None) on 1-D: dim 0")
    case("softmax_dim_none_2d", lambda: nn.Softmax(), g.randn(3, 4), "Softmax(dim=None) on 2-D: dim 1")
    case("softmax_all_equal_minus100", lambda: nn.Softmax(dim=1), lambda: torch.full((2, 5), -100.0),
         "every element -100: exp(-100) would underflow without the max shift; uniform 0.2")
    case("logsoftmax_all_plus100", lambda: nn.LogSoftmax(dim=-1), lambda: torch.full((3, 4), 100.0),
         "every element +100: exp(100) would overflow without the max shift; log(1/4)")
    case("softmax_rank0", lambda: nn.Softmax(dim=0), lambda: torch.tensor(2.5), "a 0-d input is one element: 1.0")
    case("softmax_single_element_dim", lambda: nn.Softmax(dim=1), g.randn(3, 1, 2), "the reduced dim has size 1: all ones")
    case("softmax2d_batched", lambda: nn.Softmax2d(), wide_input(2, 3, 4, 4), "Softmax2d: softmax over channels (dim -3)")
    case("softmax2d_unbatched", lambda: nn.Softmax2d(), g.randn(3, 4, 5), "Softmax2d on (C, H, W): dim -3 = 0")

    # -- Activations -----------------------------------------------------------
    def act(name, make, note, extra=(), atol=1e-6):
        case(f"{name}_batched", make, kink_input(2, 3, 5, 5, extra=extra), f"{note}; batched 2x3x5x5 with values near 0, "
             "at +-10, +-30, +-100 and at the kinks", atol=atol)
        case(f"{name}_unbatched", make, kink_input(4, 11, extra=extra), f"{note}; 4x11", atol=atol)

    act("hardtanh_default", lambda: nn.Hardtanh(), "Hardtanh(-1.0, 1.0): kinks at +-1")
    act("hardtanh_int_bounds_inplace", no_mutation(lambda: nn.Hardtanh(-2, 3, inplace=True)),
        "Hardtanh(-2, 3) with ints: printed as ints, as PyTorch; inplace=True", extra=(3.0, -2.0))
    act("hardtanh_float_bounds", lambda: nn.Hardtanh(-0.25, 2.5), "Hardtanh(-0.25, 2.5)", extra=(-0.25, 2.5, -0.2501, 2.5001))
    act("hardswish", lambda: nn.Hardswish(), "Hardswish x*relu6(x+3)/6: kinks at +-3")
    act("hardsigmoid", lambda: nn.Hardsigmoid(), "Hardsigmoid relu6(x+3)/6: kinks at +-3")
    act("hardswish_inplace", no_mutation(lambda: nn.Hardswish(inplace=True)), "Hardswish(inplace=True) prints as Hardswish()")
    act("mish", lambda: nn.Mish(), "Mish x*tanh(softplus(x)): no NaN at +100")
    act("softplus_default", lambda: nn.Softplus(), "Softplus(beta=1, threshold=20): x itself above 20 (19.9999, 20, 20.0001)")
    act("softplus_beta2_threshold10", lambda: nn.Softplus(2, 10), "Softplus(2, 10): switch at x*beta > 10, i.e. x > 5",
        extra=(5.0, 4.9999, 5.0001))
    act("softplus_beta0p5_threshold5_float", lambda: nn.Softplus(0.5, 5.0), "Softplus(0.5, 5.0): floats print as floats",
        extra=(10.0, 9.9999, 10.0001))
    act("selu", lambda: nn.SELU(), "SELU with PyTorch's alpha and scale")
    act("celu_default", lambda: nn.CELU(), "CELU(alpha=1.0)")
    act("celu_alpha2_int_inplace", no_mutation(lambda: nn.CELU(2, inplace=True)), "CELU(alpha=2) given as an int, inplace=True")
    act("celu_alpha0p5", lambda: nn.CELU(0.5), "CELU(alpha=0.5): exp(x/alpha) at -100 is exp(-200)")
    act("softsign", lambda: nn.Softsign(), "Softsign x/(1+|x|)")
    act("softshrink_default", lambda: nn.Softshrink(), "Softshrink(0.5): kinks at +-0.5 (0.4999, 0.5001)")
    act("softshrink_lambd1_int", lambda: nn.Softshrink(1), "Softshrink(1) with an int prints Softshrink(1)")
    act("softshrink_lambd0", lambda: nn.Softshrink(0.0), "Softshrink(0.0): the identity")
    act("hardshrink_default", lambda: nn.Hardshrink(), "Hardshrink(0.5): exactly +-0.5 is zeroed (closed interval)")
    act("hardshrink_lambd2", lambda: nn.Hardshrink(2.0), "Hardshrink(2.0): +-2 zeroed, +-2.0001 kept", extra=(2.0001, -2.0001, 1.9999))
    act("tanhshrink", lambda: nn.Tanhshrink(), "Tanhshrink x - tanh(x)")
    act("logsigmoid", lambda: nn.LogSigmoid(), "LogSigmoid stable form: -100 -> -100, +100 -> ~0")
    act("threshold_0p25_20", lambda: nn.Threshold(0.25, 20), "Threshold(0.25, 20): x <= 0.25 becomes 20 (int)",
        extra=(0.25, 0.25001, 0.24999))
    act("threshold_int_float_inplace", no_mutation(lambda: nn.Threshold(-1, -2.5, inplace=True)), "Threshold(-1, -2.5, inplace=True): -1 itself replaced")
    act("seq_logsigmoid_softsign_tanhshrink", lambda: nn.Sequential(nn.LogSigmoid(), nn.Softsign(), nn.Tanhshrink()),
        "Sequential(LogSigmoid, Softsign, Tanhshrink)")

    # PReLU: the channel is dimension 1 whatever the rank; 1-D inputs have one channel.
    case("prelu_1param_batched", with_weight(lambda: nn.PReLU(), -0.5, 1.5), kink_input(2, 3, 4, 4),
         "PReLU() one shared slope on (N, C, H, W)")
    case("prelu_3params_batched", with_weight(lambda: nn.PReLU(3), -0.5, 1.5), kink_input(2, 3, 4, 4),
         "PReLU(3) per channel (dim 1) on (N, C, H, W)")
    case("prelu_3params_2d", with_weight(lambda: nn.PReLU(3), -0.5, 1.5), kink_input(5, 3),
         "PReLU(3) on (N, C): slopes along the rows")
    case("prelu_1param_unbatched", with_weight(lambda: nn.PReLU(), -0.5, 1.5), kink_input(3, 4, 4),
         "PReLU() on an unbatched (C, H, W) input")
    case("prelu_4params_unbatched_reads_dim1", with_weight(lambda: nn.PReLU(4), -0.5, 1.5), kink_input(3, 4, 5),
         "PReLU(4) on a (3, 4, 5) input: PyTorch takes the channel from dim 1 even for unbatched input")
    case("prelu_1param_1d", with_weight(lambda: nn.PReLU(), -0.5, 1.5), kink_input(17),
         "PReLU() on a 1-D input (one channel: num_parameters must be 1)")
    case("prelu_default_init", lambda: nn.PReLU(2), kink_input(3, 2, 3), "PReLU(2) with its init weight 0.25")

    # GLU
    case("glu_default_last_dim", lambda: nn.GLU(), kink_input(3, 4, 6), "GLU(): halves the last dim, a * sigmoid(b)")
    case("glu_dim1", lambda: nn.GLU(1), kink_input(2, 6, 3), "GLU(1): halves dim 1")
    case("glu_dim0", lambda: nn.GLU(0), kink_input(4, 5), "GLU(0): halves dim 0")
    case("glu_dim_neg2", lambda: nn.GLU(-2), kink_input(2, 8, 3), "GLU(-2)")
    case("glu_1d", lambda: nn.GLU(), kink_input(10), "GLU on a 1-D input")

    # -- Embedding -------------------------------------------------------------
    index_case("embedding_basic", lambda: nn.Embedding(10, 4), index_input(10, 2, 5, must=(0, 9)),
               "Embedding(10, 4): rows looked up for [2, 5] indices incl. first and last row")
    index_case("embedding_padding_idx", lambda: nn.Embedding(10, 4, padding_idx=0), index_input(10, 3, 4, must=(0, 1, 0)),
               "padding_idx=0: the (zero-initialised) row is looked up like any other in eval")
    index_case("embedding_negative_padding_idx", lambda: nn.Embedding(7, 3, padding_idx=-2), index_input(7, 6, must=(5,)),
               "padding_idx=-2 is stored and printed as 5")
    index_case("embedding_scalar_index", lambda: nn.Embedding(5, 3), index_input(5, must=(3,)),
               "a 0-d index gives one row of shape [3]")
    index_case("embedding_3d_indices", lambda: nn.Embedding(20, 2), index_input(20, 2, 3, 2),
               "indices [2, 3, 2] -> [2, 3, 2, 2]")
    index_case("embedding_training_only_args", lambda: nn.Embedding(6, 3, norm_type=3.0, scale_grad_by_freq=True, sparse=True),
               index_input(6, 4), "norm_type (used only with max_norm), scale_grad_by_freq and sparse: printed, no effect")
    index_case("embedding_sequential_mlp",
               lambda: nn.Sequential(nn.Embedding(12, 4), nn.Flatten(), nn.Linear(20, 6), nn.Tanh(), nn.Linear(6, 3), nn.LogSoftmax(dim=1)),
               index_input(12, 3, 5), "Embedding >> Flatten >> Linear >> Tanh >> Linear >> LogSoftmax", atol=1e-5, rtol=1e-4)

    # -- Sequentials -----------------------------------------------------------
    case("seq_flatten_linear_relu_linear_logsoftmax",
         lambda: nn.Sequential(nn.Flatten(), nn.Linear(18, 16), nn.ReLU(), nn.Linear(16, 10), nn.LogSoftmax(dim=1)),
         g.randn(4, 2, 3, 3), "Flatten >> Linear >> ReLU >> Linear >> LogSoftmax", atol=1e-5, rtol=1e-4)
    case("seq_linear_hardswish_dropout_linear_softmax",
         lambda: nn.Sequential(nn.Linear(8, 12), nn.Hardswish(), nn.Dropout(0.1), nn.Linear(12, 5), nn.Softmax(dim=-1)),
         g.randn(2, 3, 8, scale=2.0), "3-D input through Linear >> Hardswish >> Dropout >> Linear >> Softmax(-1)",
         atol=1e-5, rtol=1e-4)
    case("seq_linear_unflatten_prelu_glu_flatten_identity",
         lambda: nn.Sequential(nn.Linear(8, 24), nn.Unflatten(1, (3, 8)), nn.PReLU(3), nn.GLU(-1), nn.Flatten(), nn.Identity()),
         g.randn(5, 8), "Linear >> Unflatten(1, (3, 8)) >> PReLU(3) >> GLU(-1) >> Flatten >> Identity", atol=1e-5, rtol=1e-4)
    case("seq_mish_softplus_selu_celu_softmin",
         lambda: nn.Sequential(nn.Linear(6, 6), nn.Mish(), nn.Softplus(2, 5), nn.SELU(), nn.CELU(0.7), nn.Softmin(dim=1)),
         g.randn(4, 6, scale=3.0), "smooth activations chained after a Linear, then Softmin", atol=1e-5, rtol=1e-4)
    case("seq_nested_dropouts_hardtanh",
         lambda: nn.Sequential(nn.Sequential(nn.Dropout2d(0.2), nn.Hardtanh(-2, 2)), nn.Sequential(nn.Flatten(1), nn.AlphaDropout(0.3)),
                               nn.Hardsigmoid()),
         kink_input(2, 3, 4), "nested Sequentials with dropouts (identity) and hard activations")
