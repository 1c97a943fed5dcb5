"""TensorRT plugins of the `isbnet::` ops: registration, its state, and the tables the export and
the engine builder read. Each op's plugin is defined with the op, in `plugins/<op>/tensorrt.py`
(`define(trt, trtp, ptx, constants)`); their shared pieces are in `plugins/tensorrt_common.py`.

Quickly deployable plugins with AOT implementations, one plugin per op, named as the ONNX node
(`isbnet::SparseConv3d`, `isbnet::FarthestPointSample`, `isbnet::BallQuery`; namespace `isbnet`,
version "1") with the op spec's attributes (`docs/ops/*.md`). Each is registered with
`tensorrt.plugin` (TensorRT >= 10.9, the first release with `aot_impl` and with
`QuickPluginCreationRequest`, i.e. Python AOT plugins in the ONNX parser; the 10.8.0.43 bindings
have neither):

* `@trtp.register`: output shapes from input shapes and attributes only (the specs need no
  data-dependent shapes, hence no size tensors);
* `@trtp.autotune`: the I/O types the kernels take (geometry float32; the conv float32 or
  float16 throughout, index tensors int32);
* `@trtp.aot_impl`: the kernel name, the PTX of `plugins/cuda/isbnet_kernels.cu` for the build
  GPU's compute capability (`cuda_build`), launch parameters as symbolic shape expressions and the
  int32 scalar arguments. The engine embeds the PTX, so it deserialises and runs from C++
  (trtexec, a C++ runtime) without Python and without this module. Its return annotation is
  mandatory (`tensorrt.plugin` refuses an `aot_impl` without one: "No return annotation found").

Attributes: the ONNX parser passes an INT attribute as a 1-element INT32 field and a FLOAT as a
1-element FLOAT32 field (onnx-tensorrt `loadFields`). `tensorrt.plugin` 10.9-10.16 converts a
field declared `int`/`float` with `int(field.data)`, which numpy >= 2.4 refuses for a 1-element
array; so `n_sample` and `radius` are declared `numpy.typing.NDArray[np.int32 | np.float32]`
(exactly the parser's field types) and element 0 is read (`tensorrt_common.element0`). `variant`
is a string (CHAR).

`isbnet::FarthestPointSample` declares a second output, a float32 `(N,)` scratch buffer for the
running minima (an AOT plugin launches one kernel and has no workspace). The exported ONNX node
has one output; since onnx-tensorrt 10.6 `parseNode` requires a node to name exactly as many
outputs as its layer has, so `export.tensorrt_engines.prepare_onnx` gives the node a second,
unused output (named `<indices output>` + `spec.FPS_SCRATCH_SUFFIX`).

Docs followed (TensorRT 10 Python API):
https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/python-api/infer/tensorrt.plugin/trt_plugin_register.html,
.../tensorrt.plugin/trt_plugin_aot_impl/index.html (return value: kernel name, PTX,
`KernelLaunchParams`, `SymIntExprs` of the scalars that sit between the input and the output
pointers), .../tensorrt.plugin/trt_plugin_aot_impl/KernelLaunchParams.html,
.../python-api/pluginGuide.html, and NVIDIA/TensorRT `samples/python/quickly_deployable_plugins`
(README: an ONNX node maps to a plugin by op type = plugin name plus a `plugin_namespace`
attribute, and an `aot` attribute selects the AOT implementation).

NOT RUN ON TENSORRT: TensorRT cannot be installed where this was written. What is checked
(`tests/plugins/test_trt_plugin_contract.py`): NVIDIA's own `tensorrt.plugin` Python sources of
several releases (from the `tensorrt-cu12/cu13-bindings` wheels), loaded over a small stub of the
compiled core, register these plugins and drive them as the parser and builder would. That is a
contract test of these modules against NVIDIA's Python layer, not a run of TensorRT. The
`plugins/<op>/tensorrt.py` files must not use `from __future__ import annotations`:
`tensorrt.plugin` inspects the annotations at runtime.
"""

import os
import threading

from isbnet_trt.errors import IsbnetError
from isbnet_trt.plugins import cuda_build, spec
from isbnet_trt.plugins.ball_query import tensorrt as bq_trt
from isbnet_trt.plugins.cuda_driver import compute_capability
from isbnet_trt.plugins.farthest_point_sample import tensorrt as fps_trt
from isbnet_trt.plugins.sparse_conv import tensorrt as sparse_conv_trt
from isbnet_trt.plugins.spec import PLUGIN_NAMESPACE, PLUGIN_VERSION
from isbnet_trt.plugins.tensorrt_common import type_combination

__all__ = [
    "PLUGIN_NAMESPACE",
    "PLUGIN_VERSION",
    "type_combination",
    "OPS",
    "TensorRTUnavailableError",
    "tensorrt_available",
    "register_plugins",
    "plugin_arch",
    "MIN_TENSORRT",
    "PLUGIN_OUTPUTS",
    "ATTRIBUTE_TYPES",
    "INPUT_TYPES",
]

#: op name -> the attributes its ONNX node must carry (docs/ops/*.md), in registration order.
OPS = {name: op.attribute_names for name, op in spec.OPS.items()}
#: op name -> number of outputs of its plugin (FPS: indices + scratch; see the module docstring).
PLUGIN_OUTPUTS = {name: len(op.outputs) + len(op.plugin_outputs) for name, op in spec.OPS.items()}
#: op name -> attribute -> the ONNX attribute type the node must carry (what the parser turns into
#: the plugin field type the plugin declares: INT -> INT32, FLOAT -> FLOAT32, STRING -> CHAR).
ATTRIBUTE_TYPES = {name: {a.name: a.onnx_type for a in op.attributes} for name, op in spec.OPS.items()}
#: op name -> per input, the ONNX element types its plugin takes (what `@trtp.autotune` offers).
INPUT_TYPES = {name: tuple(t.types for t in op.inputs) for name, op in spec.OPS.items()}

#: op name -> the definition of its plugin (`plugins/<op>/tensorrt.py`).
_DEFINE = {
    "SparseConv3d": sparse_conv_trt.define,
    "FarthestPointSample": fps_trt.define,
    "BallQuery": bq_trt.define,
}

#: First TensorRT release whose ONNX parser imports Python AOT plugins.
MIN_TENSORRT = (10, 9)


class TensorRTUnavailableError(IsbnetError, RuntimeError):
    """TensorRT (with `tensorrt.plugin` AOT support) is not installed."""


def tensorrt_available() -> bool:
    """Whether `tensorrt` with `tensorrt.plugin.aot_impl` imports here."""
    try:
        _import_tensorrt()
    except TensorRTUnavailableError:
        return False
    return True


def _import_tensorrt():
    try:
        import tensorrt as trt
        import tensorrt.plugin as trtp
    except ImportError as e:
        raise TensorRTUnavailableError(
            f"TensorRT is not installed ({e}); install NVIDIA's TensorRT >= 10.9 Python package"
        ) from None
    version = _version_tuple(getattr(trt, "__version__", "0"))
    if version < MIN_TENSORRT or not hasattr(trtp, "aot_impl"):
        raise TensorRTUnavailableError(
            f"TensorRT {getattr(trt, '__version__', '?')} is too old: the isbnet plugins need >= 10.9 "
            "(Python AOT plugins in the ONNX parser)"
        )
    return trt, trtp


def _version_tuple(version: str) -> tuple[int, ...]:
    out = []
    for part in version.split(".")[:2]:
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out)


_lock = threading.Lock()
_state: dict = {}  # "arch": int | None once registered (None = the build GPU's, resolved lazily)


def plugin_arch() -> int:
    """Compute capability the AOT plugins compile PTX for: `register_plugins(arch=...)`, else
    `$ISBNET_TRT_PTX_ARCH` (e.g. 87), else that of CUDA device 0 (the engine-building GPU)."""
    arch = _state.get("arch")
    if arch is None:
        env = os.environ.get("ISBNET_TRT_PTX_ARCH")
        arch = int(env) if env else compute_capability(0)
        _state["arch"] = arch
    return arch


def _ptx() -> bytes:
    return cuda_build.compile_kernels(plugin_arch(), "ptx").image


def register_plugins(arch: int | None = None) -> None:
    """Register the three plugins with TensorRT's plugin registry (idempotent, thread-safe).

    Call before parsing an ONNX model with `isbnet::` nodes. Deserialising an engine built with
    these AOT plugins does not need it. arch: compute capability for the PTX (default: see
    `plugin_arch`). Raises `TensorRTUnavailableError` without TensorRT >= 10.9. A failed
    registration (e.g. an error raised by `tensorrt.plugin`) is not retried in this process:
    `tensorrt.plugin` keeps the definitions made before the failure, and a second attempt would
    only fail with "already has a definition"; the first error is raised again instead.
    """
    with _lock:
        if "registered" in _state:
            if arch is not None and _state.get("arch") not in (None, arch):
                raise ValueError(f"plugins already registered for sm_{_state['arch']}, not sm_{arch}")
            if arch is not None:
                _state["arch"] = arch
            return
        if "failed" in _state:
            raise _state["failed"]
        trt, trtp = _import_tensorrt()
        if arch is not None:
            cuda_build._check_arch(arch)
            _state["arch"] = arch
        try:
            _define_plugins(trt, trtp)
        except Exception as e:
            failed = TensorRTUnavailableError(f"registering the isbnet TensorRT plugins failed: {e}")
            _state["failed"] = failed
            raise failed from e
        _state["registered"] = True


def _define_plugins(trt, trtp) -> None:  # noqa: ANN001
    """Define the three plugins, in the spec's order (each op's: `plugins/<op>/tensorrt.py`)."""
    constants = cuda_build.launch_constants()

    def ptx() -> bytes:
        return _ptx()  # looked up at build time (the contract test replaces `_ptx`)

    for name in spec.OPS:
        _DEFINE[name](trt, trtp, ptx, constants)
