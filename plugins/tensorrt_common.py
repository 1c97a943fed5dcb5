"""What the `isbnet::` ops' TensorRT plugin definitions (`plugins/<op>/tensorrt.py`) share: the
`@trtp.autotune` type strings generated from the spec, and the reading of attribute fields.

Attributes: the ONNX parser passes an INT attribute as a 1-element INT32 field and a FLOAT as a
1-element FLOAT32 field (onnx-tensorrt `loadFields`). `tensorrt.plugin` 10.9-10.16 converts a
field declared `int`/`float` with `int(field.data)`, which numpy >= 2.4 refuses for a 1-element
array; so the plugins declare `numpy.typing.NDArray[np.int32 | np.float32]` (exactly the parser's
field types) and read element 0 here. Imports neither tensorrt nor CUDA.
"""

from typing import Any, Tuple, Union  # noqa: UP035 - tensorrt.plugin validates typing annotations

import numpy as np

from isbnet_trt.plugins import spec

__all__ = [
    "aot_result_type",
    "TRT_TYPE",
    "type_combination",
    "element0",
    "scalar_int",
    "scalar_float",
    "at_least_one",
]

#: ONNX element type -> the TensorRT type name `@trtp.autotune` combinations spell.
TRT_TYPE = {"FLOAT": "FP32", "FLOAT16": "FP16", "INT32": "INT32"}


def type_combination(op: str) -> str:
    """The `trtp.AutoTuneCombination` type string of `op`'s plugin: per input and output, its
    types joined by `|` (positions with several types vary together)."""
    o = spec.OPS[op]
    tensors = (*o.inputs, *o.outputs, *o.plugin_outputs)
    return ", ".join("|".join(TRT_TYPE[t] for t in x.types) for x in tensors)


def element0(value: Any, name: str) -> Any:
    """The one element of a 1-element attribute array (a plain scalar passes through)."""
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(f"attribute {name!r} must hold one value, got {arr.size}")
    return arr.reshape(-1)[0].item()


def scalar_int(value: Any, name: str) -> int:
    """An INT attribute field as a Python int."""
    return int(element0(value, name))


def scalar_float(value: Any, name: str) -> float:
    """A FLOAT attribute field as a Python float."""
    return float(element0(value, name))


def at_least_one(trtp: Any, expr: Any) -> Any:
    """`max(expr, 1)` as a symbolic size: a grid of 0 blocks is an invalid launch (empty inputs)."""
    return trtp.max(expr, 1)


def aot_result_type(trtp: Any) -> Any:
    """The return annotation every `@trtp.aot_impl` must carry (`tensorrt.plugin` refuses one without
    it): (kernel name, PTX, launch parameters, scalar arguments), in NVIDIA's sample's typing form."""
    return Tuple[Union[str, bytes], Union[str, bytes], trtp.KernelLaunchParams, trtp.SymIntExprs]  # noqa: UP006, UP007
