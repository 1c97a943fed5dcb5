"""A small stand-in for TensorRT's compiled core (`tensorrt.tensorrt`), enough to load NVIDIA's real
`tensorrt.plugin` Python package over it and drive plugins as the ONNX parser and the builder do.

Written from what `tensorrt.plugin` (10.9-11.x) touches: enums (DataType, TensorFormat,
PluginFieldType, DimensionOperation, QuickPluginCreationRequest, ...), PluginField(Collection),
plugin and creator base classes, a plugin registry, and symbolic dimension expressions.

The expressions here carry a concrete value: every input dimension of a "build" is a named
symbol bound to the size of a real stage shape, and `IExprBuilder.operation` computes the value
of the result as TensorRT would at run time (SUM, PROD, CEIL_DIV, MAX, ...). That lets a test
evaluate output shapes and AOT launch parameters for real shapes. Nothing here is TensorRT: it
is a test double of the C++ layer, so these tests check our plugin code against NVIDIA's Python
plugin layer, not against the builder.
"""

from __future__ import annotations

import enum
import sys
import types
from dataclasses import dataclass, field

import numpy as np


class DataType(enum.Enum):
    FLOAT = 0
    HALF = 1
    INT8 = 2
    INT32 = 3
    BOOL = 4
    UINT8 = 5
    FP8 = 6
    BF16 = 7
    INT64 = 8
    INT4 = 9
    FP4 = 10


class TensorFormat(enum.Enum):
    LINEAR = 0
    CHW2 = 1
    HWC8 = 2
    CHW4 = 3
    CHW16 = 4
    CHW32 = 5
    DHWC8 = 6
    CDHW32 = 7
    HWC = 8
    DLA_LINEAR = 9
    DLA_HWC4 = 10
    HWC16 = 11
    DHWC = 12


class PluginFieldType(enum.Enum):
    FLOAT16 = 0
    FLOAT32 = 1
    FLOAT64 = 2
    INT8 = 3
    INT16 = 4
    INT32 = 5
    CHAR = 6
    DIMS = 7
    UNKNOWN = 8
    BF16 = 9
    INT64 = 10
    FP8 = 11
    INT4 = 12
    FP4 = 13


#: numpy dtype of a field's `data` as the Python bindings return it.
FIELD_NUMPY = {
    PluginFieldType.FLOAT16: np.float16,
    PluginFieldType.FLOAT32: np.float32,
    PluginFieldType.FLOAT64: np.float64,
    PluginFieldType.INT8: np.int8,
    PluginFieldType.INT16: np.int16,
    PluginFieldType.INT32: np.int32,
    PluginFieldType.INT64: np.int64,
    PluginFieldType.CHAR: np.int8,
    PluginFieldType.UNKNOWN: np.uint8,
}


class DimensionOperation(enum.Enum):
    SUM = 0
    PROD = 1
    MAX = 2
    MIN = 3
    SUB = 4
    EQUAL = 5
    LESS = 6
    FLOOR_DIV = 7
    CEIL_DIV = 8


class QuickPluginCreationRequest(enum.Enum):
    UNKNOWN = 0
    PREFER_JIT = 1
    PREFER_AOT = 2
    STRICT_JIT = 3
    STRICT_AOT = 4


class TensorRTPhase(enum.Enum):
    BUILD = 0
    RUNTIME = 1


class PluginArgType(enum.Enum):
    INT = 0


class PluginArgDataType(enum.Enum):
    INT8 = 0
    INT16 = 1
    INT32 = 2


class PluginCapabilityType(enum.Enum):
    CORE = 0
    BUILD = 1
    RUNTIME = 2


class Logger:
    INTERNAL_ERROR, ERROR, WARNING, INFO, VERBOSE = range(5)

    def __init__(self, severity: int = 2) -> None:
        self.severity = severity
        self.messages: list[tuple[int, str]] = []

    def log(self, severity: int, msg: str) -> None:
        self.messages.append((severity, msg))


class IDimensionExpr:
    """A dimension expression with a known value (what TensorRT would compute at run time)."""

    def __init__(self, value: int, constant: bool, text: str) -> None:
        self.value = int(value)
        self.constant = constant
        self.text = text

    def is_constant(self) -> bool:
        return self.constant

    def get_constant_value(self) -> int:
        if not self.constant:
            raise RuntimeError(f"{self.text} is not a build-time constant")
        return self.value

    def is_size_tensor(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"Expr({self.text}={self.value})"


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


_OPS = {
    DimensionOperation.SUM: (lambda a, b: a + b, "+"),
    DimensionOperation.PROD: (lambda a, b: a * b, "*"),
    DimensionOperation.MAX: (max, "max"),
    DimensionOperation.MIN: (min, "min"),
    DimensionOperation.SUB: (lambda a, b: a - b, "-"),
    DimensionOperation.EQUAL: (lambda a, b: int(a == b), "=="),
    DimensionOperation.LESS: (lambda a, b: int(a < b), "<"),
    DimensionOperation.FLOOR_DIV: (lambda a, b: a // b, "//"),
    DimensionOperation.CEIL_DIV: (_ceil_div, "cdiv"),
}


class IExprBuilder:
    def __init__(self) -> None:
        self.made = 0

    def constant(self, value: int) -> IDimensionExpr:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"IExprBuilder.constant takes an int, got {type(value).__name__}")
        if not -(2**31) <= value < 2**31:
            raise OverflowError(f"constant {value} does not fit int32")
        self.made += 1
        return IDimensionExpr(value, True, str(value))

    def operation(self, op: DimensionOperation, a: IDimensionExpr, b: IDimensionExpr) -> IDimensionExpr:
        if not isinstance(a, IDimensionExpr) or not isinstance(b, IDimensionExpr):
            raise TypeError(f"operation {op} on {a!r}, {b!r}: both must be IDimensionExpr")
        fn, sym = _OPS[op]
        self.made += 1
        return IDimensionExpr(fn(a.value, b.value), a.constant and b.constant, f"({a.text} {sym} {b.text})")

    def declare_size_tensor(self, *args):  # pragma: no cover - the isbnet plugins have no size tensors
        raise NotImplementedError


class DimsExprs(list):
    def __init__(self, n: int) -> None:
        super().__init__([None] * n)


class Dims(tuple):
    MAX_DIMS = 8

    def __new__(cls, shape=()):
        if isinstance(shape, int):
            shape = (0,) * shape
        return super().__new__(cls, tuple(int(d) for d in shape))


@dataclass
class PluginTensorDesc:
    dims: Dims = field(default_factory=Dims)
    type: DataType = DataType.FLOAT
    format: TensorFormat = TensorFormat.LINEAR
    scale: float = 1.0


@dataclass
class DynamicPluginTensorDesc:
    desc: PluginTensorDesc
    min: Dims = field(default_factory=Dims)
    opt: Dims = field(default_factory=Dims)
    max: Dims = field(default_factory=Dims)


class PluginField:
    """name, data (a numpy array of the field type, as the bindings return it), type, size."""

    def __init__(self, name: str, data=None, type: PluginFieldType = PluginFieldType.UNKNOWN) -> None:
        self.name = name
        self.type = type
        if data is None:
            data = np.array([], dtype=FIELD_NUMPY.get(type, np.uint8))
        if isinstance(data, bytes | bytearray):
            self.data = np.frombuffer(bytes(data), dtype=FIELD_NUMPY.get(type, np.uint8)).copy()
        else:
            self.data = np.asarray(data).astype(FIELD_NUMPY.get(type, np.asarray(data).dtype))
        self.size = int(self.data.size)


class PluginFieldCollection(list):
    def __init__(self, fields=()) -> None:
        super().__init__(fields)


class ITensor:  # only used in isinstance checks of tensorrt.plugin's network-building path
    pass


class ISymExpr:
    def __init__(self) -> None:
        pass


class _Interface:
    def __init__(self) -> None:
        pass


class IPluginV3(_Interface):
    pass


class IPluginV3QuickCore(_Interface):
    pass


class IPluginV3QuickBuild(_Interface):
    pass


class IPluginV3QuickRuntime(_Interface):
    pass


class IPluginV3QuickAOTBuild(_Interface):
    pass


class IPluginCreatorV3Quick(_Interface):
    pass


class PluginRegistry:
    def __init__(self) -> None:
        self.creators: dict[tuple[str, str, str], object] = {}

    def register_creator(self, creator, namespace: str) -> bool:
        key = (creator.name, creator.plugin_version, namespace)
        if key in self.creators:
            return False
        self.creators[key] = creator
        return True

    def get_creator(self, name: str, version: str, namespace: str = ""):
        return self.creators.get((name, version, namespace))


class KernelLaunchParams:
    """What `IPluginV3QuickAOTBuild.get_launch_params` fills in (each a SymExprImpl-like object)."""

    grid_x = grid_y = grid_z = block_x = block_y = block_z = shared_mem = None


class SymExprs:
    """The symbolic-expression setter TensorRT passes to `get_launch_params`."""

    def __init__(self) -> None:
        self.nbSymExprs = 0  # noqa: N815 - the binding's attribute name
        self.items: dict[int, object] = {}

    def __setitem__(self, index: int, value) -> None:
        if not 0 <= index < self.nbSymExprs:
            raise IndexError(index)
        self.items[index] = value


def make_module(version: str) -> types.ModuleType:
    """A fresh `tensorrt` stub module reporting `version`."""
    m = types.ModuleType("tensorrt")
    m.__version__ = version
    m.__path__ = []  # a package, so that `tensorrt.plugin` can live below it
    for obj in (
        DataType,
        TensorFormat,
        PluginFieldType,
        DimensionOperation,
        QuickPluginCreationRequest,
        TensorRTPhase,
        PluginArgType,
        PluginArgDataType,
        PluginCapabilityType,
        Logger,
        IDimensionExpr,
        IExprBuilder,
        DimsExprs,
        Dims,
        PluginTensorDesc,
        DynamicPluginTensorDesc,
        PluginField,
        PluginFieldCollection,
        ITensor,
        ISymExpr,
        IPluginV3,
        IPluginV3QuickCore,
        IPluginV3QuickBuild,
        IPluginV3QuickRuntime,
        IPluginV3QuickAOTBuild,
        IPluginCreatorV3Quick,
    ):
        setattr(m, obj.__name__, obj)
    m.float32, m.float16, m.int8, m.int32 = DataType.FLOAT, DataType.HALF, DataType.INT8, DataType.INT32
    m.int64, m.bool, m.uint8, m.bfloat16 = DataType.INT64, DataType.BOOL, DataType.UINT8, DataType.BF16
    m.fp8, m.int4, m.fp4 = DataType.FP8, DataType.INT4, DataType.FP4
    registry = PluginRegistry()
    m.get_plugin_registry = lambda: registry
    numpy_of = {
        DataType.FLOAT: np.float32,
        DataType.HALF: np.float16,
        DataType.INT8: np.int8,
        DataType.INT32: np.int32,
        DataType.INT64: np.int64,
        DataType.BOOL: np.bool_,
        DataType.UINT8: np.uint8,
    }

    def nptype(dt):
        if dt in numpy_of:
            return numpy_of[dt]
        raise TypeError("Could not resolve TensorRT datatype to an equivalent numpy datatype.")

    m.nptype = nptype
    return m


def installed_modules() -> dict[str, types.ModuleType]:
    """The `tensorrt*` entries of sys.modules (saved and restored around a contract test)."""
    return {k: v for k, v in sys.modules.items() if k == "tensorrt" or k.startswith("tensorrt.")}
