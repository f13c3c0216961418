"""The op table: every elementwise op the IR knows, as backend-neutral data.

One row per op says its arity, its dtype rule (how the tensor layer picks the
result dtype), the operand kinds it is defined for, its public names (the
Tensor method and lazyt function, their aliases, the in-place methods) and its
gradient rule. The tensor layer binds its methods from these rows
(lazyt/elementwise.py); each backend renders the op its own way (the LLVM
text lives in lazyt/codegen/llvm_ops.py). Adding an op means one row here, one
template per backend and one gradient rule (lazyt/autograd/rules.py);
tests/ir/test_op_table.py checks that every row has all three.

Operand kinds: "f" float, "i" signed int, "u" unsigned int, "b" bool.
"""

from __future__ import annotations

from dataclasses import dataclass

# The `grad` of a row whose op has no derivative (comparisons, bitwise ops,
# predicates): recording it never makes a backward node.
NOT_DIFFERENTIABLE = "not differentiable"


@dataclass(frozen=True, slots=True)
class OpDef:
    name: str  # the op in IR nodes and kernel expressions
    arity: int
    # "same": result = promoted operand dtype; "float": ints/bools promote to the
    # default float; "bool": result is bool (comparisons, predicates);
    # "integral": ints and bools only (bitwise ops).
    dtype_rule: str
    # Operand kinds the op computes in; any other kind is "not implemented for
    # 'Bool'" (PyTorch's message) at the API boundary.
    kinds: str
    # Key of the op's rule in lazyt/autograd/rules.py RULES, or NOT_DIFFERENTIABLE.
    grad: str
    # The Tensor method and lazyt function, when PyTorch's name differs from the op's.
    method: str | None = None
    aliases: tuple[str, ...] = ()  # more names for the same method and function
    inplace: tuple[str, ...] = ()  # Tensor methods writing into self: `add_`, alias's too

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the op is bound under, as a Tensor method and a lazyt function."""
        return (self.method or self.name, *self.aliases)


_FLOAT = "f"
_NUMBERS = "fiu"
_ALL = "fiub"


def _unary_float(name: str, aliases: tuple[str, ...] = ()) -> OpDef:
    """A differentiable float function: ints/bools compute in the default float."""
    return OpDef(name, 1, "float", _FLOAT, grad=name, aliases=aliases,
                 inplace=tuple(n + "_" for n in (name, *aliases)))


def _special(name: str, grad: str = NOT_DIFFERENTIABLE) -> OpDef:
    """A torch.special-only function (lazyt/special.py names it): bound under a private
    name, as PyTorch has no Tensor method or top-level function for it."""
    return OpDef(name, 1, "float", _FLOAT, grad=grad, method="_special_" + name)


def _comparison(name: str, aliases: tuple[str, ...] = ()) -> OpDef:
    return OpDef(name, 2, "bool", _ALL, grad=NOT_DIFFERENTIABLE, aliases=aliases,
                 inplace=(name + "_", *(alias + "_" for alias in aliases)))


_ROWS = [
    # --- unary -----------------------------------------------------------
    OpDef("neg", 1, "same", _NUMBERS, grad="neg", aliases=("negative",),
          inplace=("neg_", "negative_")),
    OpDef("abs", 1, "same", _ALL, grad="abs", aliases=("absolute",),
          inplace=("abs_", "absolute_")),
    _unary_float("exp"),
    _unary_float("exp2"),
    _unary_float("log"),
    _unary_float("log2"),
    _unary_float("log10"),
    _unary_float("log1p"),
    _unary_float("expm1"),
    _unary_float("sqrt"),
    _unary_float("rsqrt"),
    _unary_float("sin"),
    _unary_float("cos"),
    _unary_float("tan"),
    _unary_float("asin", aliases=("arcsin",)),
    _unary_float("acos", aliases=("arccos",)),
    _unary_float("atan", aliases=("arctan",)),
    _unary_float("sinh"),
    _unary_float("cosh"),
    _unary_float("tanh"),
    _unary_float("sigmoid"),
    _unary_float("erf"),
    _unary_float("erfc"),
    _unary_float("reciprocal"),
    _unary_float("acosh", aliases=("arccosh",)),
    _unary_float("asinh", aliases=("arcsinh",)),
    _unary_float("atanh", aliases=("arctanh",)),
    _unary_float("lgamma"),
    _unary_float("digamma"),
    _unary_float("erfinv"),
    _unary_float("i0"),
    OpDef("i1", 1, "float", _FLOAT, grad="i1"),  # torch.special.i1 only: no in-place method
    _special("erfcx", grad="erfcx"),
    _special("i0e", grad="i0e"),
    _special("i1e", grad="i1e"),
    _special("bessel_j0"),
    _special("bessel_j1"),
    _special("bessel_y0"),
    _special("bessel_y1"),
    _special("modified_bessel_k0"),
    _special("modified_bessel_k1"),
    _special("scaled_modified_bessel_k0"),
    _special("scaled_modified_bessel_k1"),
    _special("airy_ai"),
    # frexp's two results (lazyt/real_math.py), exact from the float's bits
    OpDef("_frexp_mantissa", 1, "same", _FLOAT, grad="_frexp_mantissa"),
    OpDef("_frexp_exponent", 1, "same", _FLOAT, grad=NOT_DIFFERENTIABLE),
    OpDef("relu", 1, "same", _NUMBERS, grad="relu", inplace=("relu_",)),
    OpDef("sign", 1, "same", _ALL, grad="sign", inplace=("sign_",)),
    OpDef("floor", 1, "same", _ALL, grad="floor", inplace=("floor_",)),
    OpDef("ceil", 1, "same", _ALL, grad="ceil", inplace=("ceil_",)),
    OpDef("round", 1, "same", _ALL, grad="round", inplace=("round_",)),
    OpDef("trunc", 1, "same", _ALL, grad="trunc", aliases=("fix",), inplace=("trunc_",)),
    OpDef("frac", 1, "same", _FLOAT, grad="frac", inplace=("frac_",)),
    OpDef("bitwise_not", 1, "integral", "iub", grad=NOT_DIFFERENTIABLE,
          inplace=("bitwise_not_",)),
    OpDef("isnan", 1, "bool", _FLOAT, grad=NOT_DIFFERENTIABLE),
    OpDef("isinf", 1, "bool", _FLOAT, grad=NOT_DIFFERENTIABLE),
    OpDef("isfinite", 1, "bool", _FLOAT, grad=NOT_DIFFERENTIABLE),
    # --- binary ----------------------------------------------------------
    OpDef("add", 2, "same", _ALL, grad="add", inplace=("add_",)),
    OpDef("sub", 2, "same", _NUMBERS, grad="sub", aliases=("subtract",),
          inplace=("sub_", "subtract_")),
    OpDef("mul", 2, "same", _ALL, grad="mul", aliases=("multiply",),
          inplace=("mul_", "multiply_")),
    OpDef("div", 2, "float", _FLOAT, grad="div", aliases=("divide",),
          inplace=("div_", "divide_")),
    OpDef("floordiv", 2, "same", _NUMBERS, grad="floordiv", method="floor_divide",
          inplace=("floor_divide_",)),
    OpDef("remainder", 2, "same", _NUMBERS, grad="remainder", inplace=("remainder_",)),
    OpDef("fmod", 2, "same", _NUMBERS, grad="fmod", inplace=("fmod_",)),
    OpDef("pow", 2, "same", _NUMBERS, grad="pow", inplace=("pow_",)),
    OpDef("atan2", 2, "float", _FLOAT, grad="atan2", aliases=("arctan2",),
          inplace=("atan2_", "arctan2_")),
    OpDef("copysign", 2, "float", _FLOAT, grad="copysign", inplace=("copysign_",)),
    OpDef("maximum", 2, "same", _ALL, grad="maximum", inplace=("maximum_",)),
    OpDef("minimum", 2, "same", _ALL, grad="minimum", inplace=("minimum_",)),
    # fmax/fmin ignore a NaN operand (C's fmax); maximum/minimum propagate it.
    OpDef("fmax", 2, "same", _ALL, grad="fmax"),
    OpDef("fmin", 2, "same", _ALL, grad="fmin"),
    OpDef("hypot", 2, "same", _FLOAT, grad="hypot", inplace=("hypot_",)),
    OpDef("logaddexp", 2, "same", _FLOAT, grad="logaddexp"),
    OpDef("logaddexp2", 2, "same", _FLOAT, grad="logaddexp2"),
    OpDef("nextafter", 2, "same", _FLOAT, grad=NOT_DIFFERENTIABLE, inplace=("nextafter_",)),
    # Hurwitz zeta(s, q): torch.special.zeta; polygamma is built on it.
    OpDef("zeta", 2, "float", _FLOAT, grad="zeta"),
    # The regularised incomplete gamma functions P(a, x) and Q(a, x) (floats only, as in
    # PyTorch: "igamma_cpu" not implemented for 'Long').
    OpDef("igamma", 2, "same", _FLOAT, grad="igamma", inplace=("igamma_",)),
    OpDef("igammac", 2, "same", _FLOAT, grad="igammac", inplace=("igammac_",)),
    _comparison("eq"),
    _comparison("ne", aliases=("not_equal",)),
    _comparison("lt", aliases=("less",)),
    _comparison("le", aliases=("less_equal",)),
    _comparison("gt", aliases=("greater",)),
    _comparison("ge", aliases=("greater_equal",)),
    OpDef("bitwise_and", 2, "integral", "iub", grad=NOT_DIFFERENTIABLE,
          inplace=("bitwise_and_",)),
    OpDef("bitwise_or", 2, "integral", "iub", grad=NOT_DIFFERENTIABLE,
          inplace=("bitwise_or_",)),
    OpDef("bitwise_xor", 2, "integral", "iub", grad=NOT_DIFFERENTIABLE,
          inplace=("bitwise_xor_",)),
    OpDef("bitwise_left_shift", 2, "integral", "iu", grad=NOT_DIFFERENTIABLE,
          inplace=("bitwise_left_shift_",)),
    OpDef("bitwise_right_shift", 2, "integral", "iu", grad=NOT_DIFFERENTIABLE,
          inplace=("bitwise_right_shift_",)),
    # --- ternary ---------------------------------------------------------
    OpDef("where", 3, "same", _ALL, grad="where"),
]

OPS: dict[str, OpDef] = {row.name: row for row in _ROWS}
