"""The CPU kernels registered with onnxruntime (onnxruntime-extensions Python ops)."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from isbnet_trt.plugins import onnxruntime_ops

pytestmark = pytest.mark.skipif(
    not onnxruntime_ops.available(), reason="numba / onnxruntime-extensions not installed"
)


def _session(nodes: list[onnx.NodeProto], inputs, outputs) -> ort.InferenceSession:
    graph = helper.make_graph(nodes, "g", inputs, outputs)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(onnxruntime_ops.PYOP_DOMAIN, 1)],
    )
    so = ort.SessionOptions()
    so.register_custom_ops_library(onnxruntime_ops.library_path())
    return ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])


def test_registration_is_idempotent():
    assert onnxruntime_ops.library_path() == onnxruntime_ops.library_path()


def test_the_three_ops_run_in_onnxruntime_like_the_kernels():
    from isbnet_trt.plugins.ball_query.cpu import ball_query
    from isbnet_trt.plugins.farthest_point_sample.cpu import farthest_point_sample
    from isbnet_trt.plugins.sparse_conv.cpu import sparse_conv3d

    d, names = onnxruntime_ops.PYOP_DOMAIN, onnxruntime_ops.PYOP_NAMES
    vi = helper.make_tensor_value_info
    sess = _session(
        [
            helper.make_node(names["SparseConv3d"], ["f", "km", "w"], ["y"], domain=d),
            helper.make_node(
                names["FarthestPointSample"], ["xyz"], ["i"], domain=d, n_sample=40, variant="pointnet2"
            ),
            helper.make_node(names["BallQuery"], ["xyz", "xyz"], ["b"], domain=d, radius=0.3, n_sample=8),
        ],
        [
            vi("f", TensorProto.FLOAT, [None, 16]),
            vi("km", TensorProto.INT32, [None, 27]),
            vi("w", TensorProto.FLOAT, [27, 16, 32]),
            vi("xyz", TensorProto.FLOAT, [None, 3]),
        ],
        [
            vi("y", TensorProto.FLOAT, None),
            vi("i", TensorProto.INT32, None),
            vi("b", TensorProto.INT32, None),
        ],
    )
    rng = np.random.default_rng(0)
    f = rng.standard_normal((500, 16)).astype(np.float32)
    km = rng.integers(-1, 500, (300, 27)).astype(np.int32)
    w = rng.standard_normal((27, 16, 32)).astype(np.float32)
    xyz = rng.random((200, 3)).astype(np.float32)
    y, i, b = sess.run(None, {"f": f, "km": km, "w": w, "xyz": xyz})
    assert np.array_equal(y, sparse_conv3d(f, km, w))
    assert i.dtype == np.int32 and np.array_equal(i, farthest_point_sample(xyz, 40, "pointnet2"))
    assert b.shape == (200, 8) and np.array_equal(b, ball_query(xyz, xyz, 0.3, 8))
    # A kernel error must not abort the process: the op returns zeros and reports the error.
    assert onnxruntime_ops.take_error() is None
    y, _, _ = sess.run(None, {"f": f[:10], "km": km, "w": w, "xyz": xyz})
    assert y.shape == (300, 32) and not y.any()
    assert "outside" in onnxruntime_ops.take_error()
    assert onnxruntime_ops.take_error() is None
