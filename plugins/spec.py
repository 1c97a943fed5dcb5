"""The `isbnet::` ops, specified once in code: what `docs/ops/*.md` states in prose.

Every implementation reads its contract from here: the ONNX schemas (`export.custom_ops`), the
onnxruntime registration (`onnxruntime_ops`), the TensorRT plugins (`plugins/<op>/tensorrt.py`,
registered by `trt_plugins`), the references and the CPU/CUDA kernels (their attribute and size
rules: `check_*`, and their output sizes: `output_shape`). Pure Python: importing it imports
neither torch nor onnx.

Element types are ONNX `TensorProto` names ("FLOAT", "FLOAT16", "INT32"). An input or output
with `same_as` has the element type of that input (one type variable, `T` in the docs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "DOMAIN",
    "DOMAIN_VERSION",
    "PLUGIN_NAMESPACE",
    "PLUGIN_VERSION",
    "OPS",
    "OpSpec",
    "TensorSpec",
    "AttributeSpec",
    "FPS_VARIANTS",
    "FPS_BLOCK_CAP",
    "FPS_INIT",
    "FPS_PN2_ORIGIN_EPS",
    "FPS_SCRATCH_SUFFIX",
    "output_shape",
    "fps_output_size",
    "check_farthest_point_sample",
    "check_ball_query",
    "check_sparse_conv3d",
]

#: ONNX domain and opset version of the custom ops.
DOMAIN = "isbnet"
DOMAIN_VERSION = 1
#: TensorRT plugins: registered as `<namespace>::<op>`, version string.
PLUGIN_NAMESPACE = DOMAIN
PLUGIN_VERSION = str(DOMAIN_VERSION)

# ---- FarthestPointSample constants (docs/ops/FarthestPointSample.md; official_semantics §3, §5)
FPS_VARIANTS = ("isbnet", "pointnet2")
#: Block-size caps of the official kernels' `opt_n_threads` (TOTAL_THREADS of each extension's
#: cuda_utils.h), which define the tie rule. `plugins/cuda/launch_config.h` repeats them for the
#: kernels (ISBNET_FPS_CAP_*; a test checks they agree).
FPS_BLOCK_CAP = {"isbnet": 1024, "pointnet2": 512}
#: §0: the running minimum starts at fl32(1e10) (exactly 1e10; numpy.float32 it at use).
FPS_INIT = 1e10
#: §5: pointnet2 skips points with (double) fmaf-magnitude <= 1e-3 (a double literal).
FPS_PN2_ORIGIN_EPS = 1e-3
#: The TensorRT FPS plugin's second output is a float32 (N,) scratch buffer for the running
#: minima (an AOT plugin launches one kernel and has no workspace); the engine builder names it
#: `<indices output><FPS_SCRATCH_SUFFIX><i>` on the ONNX node.
FPS_SCRATCH_SUFFIX = "__isbnet_fps_scratch"


@dataclass(frozen=True)
class TensorSpec:
    """An input or output: name, allowed element types, and the input whose type it follows."""

    name: str
    types: tuple[str, ...]
    same_as: str | None = None


@dataclass(frozen=True)
class AttributeSpec:
    """An attribute: name and kind ("int", "float" or "string"; ONNX INT, FLOAT, STRING)."""

    name: str
    kind: str

    @property
    def onnx_type(self) -> str:
        return self.kind.upper()


@dataclass(frozen=True)
class OpSpec:
    """One op's signature. `plugin_outputs`: extra outputs of its TensorRT plugin (scratch)."""

    name: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    attributes: tuple[AttributeSpec, ...] = ()
    plugin_outputs: tuple[TensorSpec, ...] = ()

    @property
    def attribute_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes)


_FLOATS = ("FLOAT", "FLOAT16")

#: The ops, in registration order; attributes in the order TensorRT plugins receive them.
OPS: dict[str, OpSpec] = {
    op.name: op
    for op in (
        OpSpec(
            "SparseConv3d",
            inputs=(
                TensorSpec("features", _FLOATS),
                TensorSpec("kernel_map", ("INT32",)),
                TensorSpec("weight", _FLOATS, same_as="features"),
            ),
            outputs=(TensorSpec("output", _FLOATS, same_as="features"),),
        ),
        OpSpec(
            "FarthestPointSample",
            inputs=(TensorSpec("xyz", ("FLOAT",)),),
            outputs=(TensorSpec("indices", ("INT32",)),),
            attributes=(AttributeSpec("n_sample", "int"), AttributeSpec("variant", "string")),
            plugin_outputs=(TensorSpec("scratch", ("FLOAT",)),),
        ),
        OpSpec(
            "BallQuery",
            inputs=(TensorSpec("xyz", ("FLOAT",)), TensorSpec("centres", ("FLOAT",))),
            outputs=(TensorSpec("indices", ("INT32",)),),
            attributes=(AttributeSpec("radius", "float"), AttributeSpec("n_sample", "int")),
        ),
    )
}


# ---- attribute and size rules: one function per op, called by every implementation
def _count(value: object, name: str) -> int:
    """A non-negative int attribute (a 0 is valid: empty outputs)."""
    if isinstance(value, bool) or not isinstance(value, int) and not hasattr(value, "__index__"):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    count = int(value)  # type: ignore[arg-type]
    if count < 0:
        raise ValueError(f"{name} must be >= 0, got {count}")
    return count


def check_farthest_point_sample(n_sample: object, variant: str) -> tuple[int, str]:
    """Rules of `isbnet::FarthestPointSample`'s attributes: `n_sample >= 0` (0: empty output),
    `variant` in `FPS_VARIANTS`. Any N >= 0 is valid (rule 6). Returns (n_sample, variant)."""
    if variant not in FPS_VARIANTS:
        raise ValueError(f"variant must be 'isbnet' or 'pointnet2', got {variant!r}")
    return _count(n_sample, "n_sample"), variant


def check_ball_query(radius: float, n_sample: object) -> tuple[float, int]:
    """Rules of `isbnet::BallQuery`'s attributes: `n_sample >= 0` (0: rows of length 0); any
    radius (`r2 = fl32(r * r)`; a radius with `r2 <= 0` or NaN accepts no point). N, M >= 0."""
    return float(radius), _count(n_sample, "n_sample")


def check_sparse_conv3d(
    features: Sequence[int], kernel_map: Sequence[int], weight: Sequence[int]
) -> tuple[int, int]:
    """Shape rules of `isbnet::SparseConv3d`: features (N_in, C_in), kernel_map (N_out, K),
    weight (K, C_in, C_out). Returns (N_out, C_out)."""
    if len(features) != 2 or len(kernel_map) != 2 or len(weight) != 3:
        raise ValueError(
            "expected features (N_in, C_in), kernel_map (N_out, K), weight (K, C_in, C_out); "
            f"got {tuple(features)}, {tuple(kernel_map)}, {tuple(weight)}"
        )
    k, c_in, c_out = weight
    if k != kernel_map[1]:
        raise ValueError(
            f"shape mismatch: weight has K={k} offsets but the kernel map has {kernel_map[1]} columns"
        )
    if c_in != features[1]:
        raise ValueError(f"shape mismatch: features have {features[1]} channels, weight expects C_in={c_in}")
    return kernel_map[0], c_out


# ---- output shapes: functions of input shapes and attributes only (no data-dependent shapes)
def fps_output_size(n_points, n_sample, variant: str, minimum=min):  # noqa: ANN001, ANN201 (symbolic too)
    """Length of FPS's indices: `n_sample` ("isbnet"), `min(n_sample, N)` ("pointnet2").

    Works on ints, and on symbolic sizes given their `minimum` (`trtp.min`, `torch.sym_min`)."""
    return n_sample if variant == "isbnet" else minimum(n_sample, n_points)


def output_shape(
    op: str, input_shapes: Sequence[Sequence[int]], attrs: Mapping[str, object]
) -> list[tuple[int, ...]]:
    """The shapes of `op`'s outputs (ONNX outputs only, not the plugin's scratch). input_shapes:
    one shape per input, in spec order. Sizes only: the rules are `check_*`'s."""
    if op == "SparseConv3d":
        return [(input_shapes[1][0], input_shapes[2][2])]  # (N_out, C_out)
    if op == "FarthestPointSample":
        n_sample = int(attrs["n_sample"])  # type: ignore[call-overload]
        return [(fps_output_size(input_shapes[0][0], n_sample, str(attrs["variant"])),)]
    if op == "BallQuery":
        return [(input_shapes[1][0], int(attrs["n_sample"]))]  # type: ignore[call-overload]  # (M, n_sample)
    raise ValueError(f"unknown op isbnet::{op} (known: {sorted(OPS)})")
