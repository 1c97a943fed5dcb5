"""The `isbnet::` ops as torch custom ops, for export only, and their ONNX translation.

During export the model's sparse convs and geometry ops call `torch.ops.isbnet_export.*`
(opaque to `torch.export`, shapes from the fake implementations); the translation table
(`translation_table()`) turns each into one bare `isbnet::<Op>` node with the op spec's
attributes (`docs/ops/*.md`). The eager implementations call the reference ops, so an
exporting model computes exactly what the reference does.

The torch namespace is `isbnet_export` (not `isbnet`) so that it cannot collide with torch
bindings of the CUDA kernels. Registration happens once, at import (torch's op registry is
process-wide; importing again is a no-op).
"""

from __future__ import annotations

from collections.abc import Callable

import onnx
import torch
from onnxscript import values
from torch import Tensor

from isbnet_trt.plugins import spec
from isbnet_trt.plugins.ball_query import reference as bq_reference
from isbnet_trt.plugins.farthest_point_sample import reference as fps_reference
from isbnet_trt.plugins.sparse_conv.reference import sparse_conv
from isbnet_trt.plugins.spec import DOMAIN, DOMAIN_VERSION


# ---------------------------------------------------------------------------------- torch ops
@torch.library.custom_op("isbnet_export::sparse_conv3d", mutates_args=())
def sparse_conv3d(features: Tensor, kernel_map: Tensor, weight: Tensor) -> Tensor:
    """`isbnet::SparseConv3d`: features (N_in, C_in), kernel_map (N_out, K) int32,
    weight (K, C_in, C_out) -> (N_out, C_out)."""
    return sparse_conv(features, kernel_map, weight)


@sparse_conv3d.register_fake
def _(features: Tensor, kernel_map: Tensor, weight: Tensor) -> Tensor:
    return features.new_empty(kernel_map.shape[0], weight.shape[2])


@torch.library.custom_op("isbnet_export::farthest_point_sample", mutates_args=())
def farthest_point_sample(xyz: Tensor, n_sample: int, variant: str) -> Tensor:
    """`isbnet::FarthestPointSample`: xyz (N, 3) -> int32 (n_sample,) ("isbnet") or
    (min(n_sample, N),) ("pointnet2")."""
    return fps_reference.farthest_point_sample(xyz, n_sample, variant=variant).to(torch.int32)


@farthest_point_sample.register_fake
def _(xyz: Tensor, n_sample: int, variant: str) -> Tensor:
    n_sample, variant = spec.check_farthest_point_sample(n_sample, variant)
    n_out = spec.fps_output_size(xyz.shape[0], n_sample, variant, torch.sym_min)
    return xyz.new_empty(n_out, dtype=torch.int32)


@torch.library.custom_op("isbnet_export::ball_query", mutates_args=())
def ball_query(xyz: Tensor, centres: Tensor, radius: float, n_sample: int) -> Tensor:
    """`isbnet::BallQuery`: xyz (N, 3), centres (M, 3) -> int32 (M, n_sample)."""
    return bq_reference.ball_query(xyz, centres, radius, n_sample).to(torch.int32)


@ball_query.register_fake
def _(xyz: Tensor, centres: Tensor, radius: float, n_sample: int) -> Tensor:
    _, n_sample = spec.check_ball_query(radius, n_sample)
    return xyz.new_empty(centres.shape[0], n_sample, dtype=torch.int32)


class ExportGeometry:
    """`GeometryOps` whose ops are the export custom ops (same results as the reference).

    The ops' int32 indices are widened to int64 (the reference's type; ONNX GatherND, which
    the exporter emits for tensor indexing, takes only int64)."""

    def farthest_point_sample(self, xyz: Tensor, n_sample: int, variant: str) -> Tensor:
        return torch.ops.isbnet_export.farthest_point_sample(xyz, n_sample, variant).long()

    def ball_query(self, xyz: Tensor, centres: Tensor, radius: float, n_sample: int) -> Tensor:
        return torch.ops.isbnet_export.ball_query(xyz, centres, float(radius), n_sample).long()


# ---------------------------------------------------------------------------------- ONNX schemas
def _schema(op: spec.OpSpec) -> onnx.defs.OpSchema:
    """The ONNX schema of a spec: a tensor following another's type (`same_as`) and the one it
    follows share the type variable `T`; the others name their single type."""
    typed = {t.same_as for t in (*op.inputs, *op.outputs) if t.same_as}

    def param(t: spec.TensorSpec) -> onnx.defs.OpSchema.FormalParameter:
        if t.same_as or t.name in typed:
            return onnx.defs.OpSchema.FormalParameter(t.name, "T")
        (elem,) = t.types
        return onnx.defs.OpSchema.FormalParameter(t.name, f"tensor({_tensor_type(elem)})")

    anchors = [t for t in op.inputs if t.name in typed]
    constraints = [("T", [f"tensor({_tensor_type(e)})" for e in anchors[0].types], "")] if anchors else []
    return onnx.defs.OpSchema(
        op.name,
        spec.DOMAIN,
        spec.DOMAIN_VERSION,
        inputs=[param(t) for t in op.inputs],
        outputs=[param(t) for t in op.outputs],
        type_constraints=constraints,
        attributes=[
            onnx.defs.OpSchema.Attribute(a.name, getattr(onnx.defs.OpSchema.AttrType, a.onnx_type), "")
            for a in op.attributes
        ],
    )


def _tensor_type(elem: str) -> str:
    """ONNX type-string spelling of an element type ("FLOAT16" -> "float16")."""
    name = onnx.helper.tensor_dtype_to_string(getattr(onnx.TensorProto, elem))
    return name.removeprefix("TensorProto.").lower()


#: The op specs' signatures (`plugins.spec`) as ONNX schemas.
SCHEMAS = {name: _schema(op) for name, op in spec.OPS.items()}


def translation_table() -> dict[Callable, Callable]:
    """`custom_translation_table` for `torch.onnx.export`: each export op -> one bare
    `isbnet::<Op>` node (bodies are attached after export, see `export.functions`)."""
    opset = values.Opset(DOMAIN, DOMAIN_VERSION)
    node = {name: values.Op(opset, name, schema) for name, schema in SCHEMAS.items()}

    def conv(features, kernel_map, weight):  # noqa: ANN001, ANN202 (onnxscript values)
        return node["SparseConv3d"](features, kernel_map, weight)

    def fps(xyz, n_sample: int, variant: str):  # noqa: ANN001, ANN202
        return node["FarthestPointSample"](xyz, n_sample=n_sample, variant=variant)

    def bq(xyz, centres, radius: float, n_sample: int):  # noqa: ANN001, ANN202
        return node["BallQuery"](xyz, centres, radius=radius, n_sample=n_sample)

    ops = torch.ops.isbnet_export
    return {
        ops.sparse_conv3d.default: conv,
        ops.farthest_point_sample.default: fps,
        ops.ball_query.default: bq,
    }
