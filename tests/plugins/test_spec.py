"""`plugins.spec`: the one statement of the ops' contract, and the tables generated from it."""

import subprocess
import sys

import pytest

from isbnet_trt.plugins import cuda_build, spec


def test_spec_imports_neither_torch_nor_onnx():
    code = "import sys, isbnet_trt.plugins.spec; print([m for m in ('torch', 'onnx') if m in sys.modules])"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"


def test_kernel_header_repeats_the_spec_constants():
    c = cuda_build.launch_constants()
    assert c["ISBNET_FPS_CAP_ISBNET"] == spec.FPS_BLOCK_CAP["isbnet"]
    assert c["ISBNET_FPS_CAP_POINTNET2"] == spec.FPS_BLOCK_CAP["pointnet2"]


@pytest.mark.parametrize(
    "op, shapes, attrs, want",
    [
        ("SparseConv3d", [(5, 4), (7, 27), (27, 4, 16)], {}, [(7, 16)]),
        ("FarthestPointSample", [(10, 3)], {"n_sample": 64, "variant": "isbnet"}, [(64,)]),
        ("FarthestPointSample", [(10, 3)], {"n_sample": 64, "variant": "pointnet2"}, [(10,)]),
        ("FarthestPointSample", [(0, 3)], {"n_sample": 4, "variant": "isbnet"}, [(4,)]),
        ("FarthestPointSample", [(0, 3)], {"n_sample": 4, "variant": "pointnet2"}, [(0,)]),
        ("FarthestPointSample", [(10, 3)], {"n_sample": 0, "variant": "isbnet"}, [(0,)]),
        ("BallQuery", [(10, 3), (4, 3)], {"radius": 0.2, "n_sample": 0}, [(4, 0)]),
    ],
)
def test_output_shape(op, shapes, attrs, want):
    assert spec.output_shape(op, shapes, attrs) == want


def test_rules():
    assert spec.check_farthest_point_sample(0, "isbnet") == (0, "isbnet")
    assert spec.check_ball_query(1, 0) == (1.0, 0)
    with pytest.raises(ValueError, match=">= 0"):
        spec.check_farthest_point_sample(-1, "isbnet")
    with pytest.raises(ValueError, match="variant"):
        spec.check_farthest_point_sample(4, "other")
    with pytest.raises(ValueError, match=">= 0"):
        spec.check_ball_query(0.1, -2)
    with pytest.raises(ValueError, match="shape mismatch"):
        spec.check_sparse_conv3d((5, 4), (7, 8), (27, 4, 16))
    with pytest.raises(ValueError, match="expected features"):
        spec.check_sparse_conv3d((5,), (7, 8), (27, 4, 16))


def test_generated_tables():
    from isbnet_trt.plugins import onnxruntime_ops, trt_plugins

    assert list(trt_plugins.OPS) == list(spec.OPS) == list(onnxruntime_ops.PYOP_NAMES)
    assert trt_plugins.OPS["BallQuery"] == ("radius", "n_sample")
    assert trt_plugins.PLUGIN_OUTPUTS == {"SparseConv3d": 1, "FarthestPointSample": 2, "BallQuery": 1}
    assert trt_plugins.ATTRIBUTE_TYPES["FarthestPointSample"] == {"n_sample": "INT", "variant": "STRING"}
    assert trt_plugins.type_combination("SparseConv3d") == "FP32|FP16, INT32, FP32|FP16, FP32|FP16"
    assert trt_plugins.type_combination("FarthestPointSample") == "FP32, INT32, FP32"
    assert trt_plugins.type_combination("BallQuery") == "FP32, FP32, INT32"
