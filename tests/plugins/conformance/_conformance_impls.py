"""Every implementation of the `isbnet::` ops, as numpy-in numpy-out callables: the only module of
the conformance suite that imports implementation code, so a move of the ops is one edit here.

`IMPLS[op]` lists them, the reference first (the judge of cases without a spec-fixed value).
Each takes `(inputs, attrs)`: the inputs by the spec's names and the op's attributes, exactly as
an ONNX node would carry them, and returns the op's single output as numpy, unconverted (a wrong
dtype is a finding, not something to paper over; the one exception is the PyTorch reference's
int64 indices, see `_torch_indices`). An implementation that cannot run here has a
`skip` reason; one whose modules fail to import fails its tests instead (a broken import is a
bug, not an absence). Implementation modules are imported on first use.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from isbnet_trt.plugins import spec

FPS, BQ, CONV = "FarthestPointSample", "BallQuery", "SparseConv3d"
Inputs = Mapping[str, np.ndarray]
Attrs = Mapping[str, Any]

_NUMPY = {"FLOAT": np.float32, "FLOAT16": np.float16, "INT32": np.int32}


@dataclass(frozen=True)
class Impl:
    """One implementation of one op.

    run: `(inputs, attrs) -> output`. skip: why it cannot run here (None: it runs).
    slow: onnxruntime Loops (one iteration per sample or centre): only the small cases.
    float_types: the float element types it takes (SparseConv3d's T); others are skipped.
    unchecked: why invalid attributes are not refused by this layer itself (refusal cases skip).
    """

    name: str
    run: Callable[[Inputs, Attrs], np.ndarray]
    skip: str | None = None
    slow: bool = False
    float_types: tuple[type, ...] = (np.float32, np.float16)
    unchecked: str | None = None


def output_spec(op: str, inputs: Inputs, attrs: Attrs) -> tuple[tuple[int, ...], np.dtype]:
    """The spec's output shape and dtype (`plugins/spec.py`: shapes rule and element types)."""
    op_spec = spec.OPS[op]
    shapes = [np.shape(inputs[t.name]) for t in op_spec.inputs]
    (shape,) = spec.output_shape(op, shapes, attrs)
    out = op_spec.outputs[0]
    dtype = inputs[out.same_as].dtype if out.same_as else np.dtype(_NUMPY[out.types[0]])
    return tuple(int(s) for s in shape), np.dtype(dtype)


def input_names(op: str) -> list[str]:
    return [t.name for t in spec.OPS[op].inputs]


# ------------------------------------------------------------------------------- availability
def _missing(*modules: str) -> str | None:
    absent = [m for m in modules if importlib.util.find_spec(m) is None]
    return f"{', '.join(absent)} not installed" if absent else None


@functools.cache
def _cuda_skip() -> str | None:
    import torch

    if not torch.cuda.is_available():
        return "no CUDA GPU on this machine (torch.cuda.is_available() is False)"
    return None


_BODY_UNCHECKED = (
    "an ONNX function body cannot raise: invalid attributes are refused where the node is written "
    "(export.custom_ops -> spec.check_*), and this hand-built node bypasses that"
)
_TRT_SKIP = (
    "TensorRT plugins never run here (TensorRT cannot be installed on the development machines); "
    "their contract is tests/plugins/test_trt_plugin_contract.py"
)


def _mod(name: str) -> Any:
    return importlib.import_module(f"isbnet_trt.{name}")


# ------------------------------------------------------------------------------- reference
def _torch(a: np.ndarray) -> Any:
    import torch

    return torch.from_numpy(np.ascontiguousarray(a))


def _torch_indices(t: Any) -> np.ndarray:
    """The PyTorch reference returns torch's index type, int64 (what the model indexes with); the
    op's int32 is what the export's torch op (`export.custom_ops`) casts it to. Cast the same way,
    after checking the values survive it."""
    out = t.numpy()
    assert out.dtype == np.int64, f"the reference returned {out.dtype} indices, not int64"
    assert out.size == 0 or (out.min() >= 0 and out.max() <= np.iinfo(np.int32).max)
    return out.astype(np.int32)


def _ref_fps(inputs: Inputs, attrs: Attrs) -> np.ndarray:
    fps = _mod("plugins.farthest_point_sample.reference")
    return _torch_indices(
        fps.farthest_point_sample(_torch(inputs["xyz"]), attrs["n_sample"], attrs["variant"])
    )


def _ref_bq(inputs: Inputs, attrs: Attrs) -> np.ndarray:
    bq = _mod("plugins.ball_query.reference")
    xyz, centres = _torch(inputs["xyz"]), _torch(inputs["centres"])
    return _torch_indices(bq.ball_query(xyz, centres, attrs["radius"], attrs["n_sample"]))


def _ref_conv(inputs: Inputs, attrs: Attrs) -> np.ndarray:
    sparse_conv = _mod("plugins.sparse_conv.reference")
    f, km, w = (_torch(inputs[k]) for k in ("features", "kernel_map", "weight"))
    return sparse_conv.sparse_conv(f, km, w).numpy()


# ---------------------------------------------------------------------- ONNX body (plain onnxruntime)
_ONNX_TYPES = {np.dtype(np.float32): 1, np.dtype(np.int32): 6, np.dtype(np.float16): 10}


@functools.cache
def _onnx_session(op: str, attrs: tuple[tuple[str, Any], ...], dtypes: tuple[str, ...], pyop: bool) -> Any:
    """A one-node model of `op` with the given attributes and input element types: with the op's
    function body attached (plain onnxruntime runs it), or (pyop) as the CPU kernel's
    onnxruntime-extensions Python op."""
    import onnx
    import onnxruntime as ort
    from onnx import helper

    names = input_names(op)
    ins = [
        helper.make_tensor_value_info(n, _ONNX_TYPES[np.dtype(d)], [None] * (3 if n == "weight" else 2))
        for n, d in zip(names, dtypes, strict=True)
    ]
    op_spec = spec.OPS[op]
    out_t = op_spec.outputs[0]
    out_type = ins[names.index(out_t.same_as)].type.tensor_type.elem_type if out_t.same_as else 6
    rank = 1 if op == FPS else 2
    outs = [helper.make_tensor_value_info("out", out_type, [None] * rank)]
    so = ort.SessionOptions()
    so.log_severity_level = 3
    if pyop:
        ortx = _mod("plugins.onnxruntime_ops")
        node = helper.make_node(ortx.PYOP_NAMES[op], names, ["out"], domain=ortx.PYOP_DOMAIN, **dict(attrs))
        opsets = [helper.make_opsetid("", 17), helper.make_opsetid(ortx.PYOP_DOMAIN, 1)]
        functions = []
        so.register_custom_ops_library(ortx.library_path())
    else:
        node = helper.make_node(op, names, ["out"], domain=spec.DOMAIN, **dict(attrs))
        opsets = [
            helper.make_opsetid("", _mod("plugins.onnx_body").BODY_OPSET),
            helper.make_opsetid(spec.DOMAIN, 1),
        ]
        functions = [_onnx_function(op)]
    model = helper.make_model(
        helper.make_graph([node], op, ins, outs), opset_imports=opsets, functions=functions
    )
    if not pyop:
        onnx.checker.check_model(model, full_check=True)
    return ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])


def _onnx_function(op: str) -> Any:
    """The op's ONNX function body, from its folder (`plugins/<op>/onnx_function.py`)."""
    folder, body = {
        FPS: ("farthest_point_sample", "farthest_point_sample_body"),
        BQ: ("ball_query", "ball_query_body"),
        CONV: ("sparse_conv", "sparse_conv3d_body"),
    }[op]
    return getattr(_mod(f"plugins.{folder}.onnx_function"), body)()


def _session_key(op: str, inputs: Inputs, attrs: Attrs) -> tuple:
    return tuple(sorted(attrs.items())), tuple(inputs[n].dtype.str for n in input_names(op))


def _onnx_body(op: str) -> Callable[[Inputs, Attrs], np.ndarray]:
    def run(inputs: Inputs, attrs: Attrs) -> np.ndarray:
        sess = _onnx_session(op, *_session_key(op, inputs, attrs), pyop=False)
        return sess.run(None, {n: inputs[n] for n in input_names(op)})[0]

    return run


def _ortx(op: str) -> Callable[[Inputs, Attrs], np.ndarray]:
    """The CPU kernel as an onnxruntime-extensions op; its error slot is read after the run (the op
    returns zeros instead of raising, see `onnxruntime_ops`)."""

    def run(inputs: Inputs, attrs: Attrs) -> np.ndarray:
        ortx = _mod("plugins.onnxruntime_ops")
        sess = _onnx_session(op, *_session_key(op, inputs, attrs), pyop=True)
        ortx.take_error()
        out = sess.run(None, {n: inputs[n] for n in input_names(op)})[0]
        error = ortx.take_error()
        if error is not None:
            raise RuntimeError(error)
        return out

    return run


# ------------------------------------------------------------------------------- CPU kernels (numba)
def _cpu_fps(inputs: Inputs, attrs: Attrs) -> np.ndarray:
    return _mod("plugins.farthest_point_sample.cpu").farthest_point_sample(
        inputs["xyz"], attrs["n_sample"], attrs["variant"]
    )


def _cpu_bq(inputs: Inputs, attrs: Attrs) -> np.ndarray:
    bq = _mod("plugins.ball_query.cpu")
    return bq.ball_query(inputs["xyz"], inputs["centres"], attrs["radius"], attrs["n_sample"])


def _cpu_conv(inputs: Inputs, attrs: Attrs) -> np.ndarray:
    conv = _mod("plugins.sparse_conv.cpu")
    return conv.sparse_conv3d(inputs["features"], inputs["kernel_map"], inputs["weight"])


# ------------------------------------------------------------------------------- CUDA kernels
def _cuda(
    fn: str, names: Sequence[str], attr_names: Sequence[str], **options: str
) -> Callable[[Inputs, Attrs], np.ndarray]:
    """The op's PyTorch CUDA binding `fn` of `plugins/<op>/cuda.py` (the folder named like `fn`);
    options: a kernel choice (`algorithm`), so that every kernel variant meets every case."""

    def run(inputs: Inputs, attrs: Attrs) -> np.ndarray:
        cuda = _mod(f"plugins.{fn}.cuda")
        args = [_torch(inputs[n]).cuda() for n in names]
        return getattr(cuda, fn)(*args, *(attrs[a] for a in attr_names), **options).cpu().numpy()

    return run


def _unavailable(*_: Any) -> np.ndarray:
    raise AssertionError("unreachable: skipped implementation")


# ------------------------------------------------------------------------------- the table
_NO_ORTX = _missing("numba", "onnxruntime_extensions")
_NO_NUMBA = _missing("numba")


def _impls() -> dict[str, list[Impl]]:
    cuda = _cuda_skip()
    f32 = (np.float32,)
    return {
        FPS: [
            Impl("reference", _ref_fps),
            Impl("onnx_body", _onnx_body(FPS), slow=True, unchecked=_BODY_UNCHECKED),
            Impl("cpu", _cpu_fps, skip=_NO_NUMBA),
            Impl("cpu_onnxruntime", _ortx(FPS), skip=_NO_ORTX),
            Impl("cuda", _cuda("farthest_point_sample", ["xyz"], ["n_sample", "variant"]), skip=cuda),
            # Both kernels on every case (auto picks the multi-block one only for large N).
            Impl(
                "cuda_grid",
                _cuda("farthest_point_sample", ["xyz"], ["n_sample", "variant"], algorithm="grid"),
                skip=cuda,
            ),
            Impl("tensorrt", _unavailable, skip=_TRT_SKIP),
        ],
        BQ: [
            Impl("reference", _ref_bq),
            Impl("onnx_body", _onnx_body(BQ), slow=True, unchecked=_BODY_UNCHECKED),
            Impl("cpu", _cpu_bq, skip=_NO_NUMBA),
            Impl("cpu_onnxruntime", _ortx(BQ), skip=_NO_ORTX),
            Impl("cuda", _cuda("ball_query", ["xyz", "centres"], ["radius", "n_sample"]), skip=cuda),
            Impl("tensorrt", _unavailable, skip=_TRT_SKIP),
        ],
        CONV: [
            Impl("reference", _ref_conv),
            Impl("onnx_body", _onnx_body(CONV), unchecked=_BODY_UNCHECKED),
            Impl("cpu", _cpu_conv, skip=_NO_NUMBA),
            Impl("cpu_onnxruntime", _ortx(CONV), skip=_NO_ORTX, float_types=f32),
            Impl("cuda", _cuda("sparse_conv", ["features", "kernel_map", "weight"], []), skip=cuda),
            Impl(
                "cuda_splitk",
                _cuda("sparse_conv", ["features", "kernel_map", "weight"], [], algorithm="splitk"),
                skip=cuda,
            ),
            Impl("tensorrt", _unavailable, skip=_TRT_SKIP),
        ],
    }


IMPLS: dict[str, list[Impl]] = _impls()
