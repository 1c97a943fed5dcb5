"""The ONNX function bodies of the `isbnet::` ops, by op type: what the export attaches.

Every exported `isbnet::` node carries its body as a model-local function (`onnx_export.finalize`
attaches the ones a stage uses), so plain onnxruntime (or any ONNX tool) runs the graphs with
nothing of ours installed. The bodies follow the op specs (`docs/ops/*.md`) exactly, index
outputs included; each lives with its op in `plugins/<op>/onnx_function.py`, built from
`plugins/onnx_body.py`.
"""

from __future__ import annotations

import onnx

from isbnet_trt.plugins.ball_query.onnx_function import ball_query_body
from isbnet_trt.plugins.farthest_point_sample.onnx_function import farthest_point_sample_body
from isbnet_trt.plugins.sparse_conv.onnx_function import sparse_conv3d_body

__all__ = ["all_bodies"]


def all_bodies() -> dict[str, onnx.FunctionProto]:
    """Op type -> its function body."""
    return {
        "SparseConv3d": sparse_conv3d_body(),
        "FarthestPointSample": farthest_point_sample_body(),
        "BallQuery": ball_query_body(),
    }
