"""Every exported stage is what the TensorRT ONNX parser and our plugins expect (checked without
TensorRT, see `_trt_stage_check`): the golden checkpoint's export and the demo weights' here,
the five official configs in `test_official_configs` (on the export that test makes anyway)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

sys.path.insert(0, str(Path(__file__).parent))
from _trt_stage_check import isbnet_nodes, stage_problems, tensorrt_problems  # noqa: E402


def _export_of(request, tmp_path_factory, ckpt: Path, cfg: Path) -> Path:
    """The session's export of (ckpt, cfg) where the suite shares one, else a new one."""
    try:
        return request.getfixturevalue("onnx_export")(ckpt, cfg)
    except pytest.FixtureLookupError:
        from isbnet_trt.export.build import export_checkpoint

        out = tmp_path_factory.mktemp("export") / "demo"
        return export_checkpoint(ckpt, out, cfg, backends=("onnx",), log=lambda _: None)


def test_golden_export_is_ready_for_tensorrt(light_export):
    assert tensorrt_problems(light_export) == {name: [] for name in tensorrt_problems(light_export)}
    assert set(isbnet_nodes(light_export)) == {"SparseConv3d", "FarthestPointSample", "BallQuery"}


def test_demo_weights_export_is_ready_for_tensorrt(request, tmp_path_factory):
    from isbnet_trt.isbnet.demo import demo_config_path, demo_weights_path

    export = _export_of(request, tmp_path_factory, demo_weights_path(), demo_config_path())
    problems = tensorrt_problems(export)
    assert all(not p for p in problems.values()), problems
    assert set(isbnet_nodes(export)) == {"SparseConv3d", "FarthestPointSample", "BallQuery"}


def test_the_check_finds_what_would_stop_the_parser():
    def model(*nodes, inits=()):
        graph = helper.make_graph(
            list(nodes),
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
            initializer=list(inits),
        )
        return helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("isbnet", 1)]
        )

    bq = helper.make_node("BallQuery", ["x", "x"], ["y"], domain="isbnet", radius=0.1, n_sample=4)
    assert stage_problems(model(bq)) == []
    bad_attr = helper.make_node("BallQuery", ["x", "x"], ["y"], domain="isbnet", radius=0.1, n_sample=4, k=1)
    assert "attributes" in stage_problems(model(bad_attr))[0]
    assert "casts to DOUBLE" in stage_problems(model(helper.make_node("Cast", ["x"], ["y"], to=11)))[0]
    assert "not in onnx-tensorrt" in stage_problems(model(helper.make_node("Unique", ["x"], ["y"])))[0]
    cumsum = helper.make_node("CumSum", ["x", "axis"], ["y"])
    assert "build-time constant" in stage_problems(model(cumsum))[0]
    axis = onnx.numpy_helper.from_array(np.array(0, np.int64), "axis")
    assert stage_problems(model(cumsum, inits=[axis])) == []
    to_int = helper.make_node("Cast", ["x"], ["xi"], to=TensorProto.INT32)
    bq_int = helper.make_node("BallQuery", ["xi", "x"], ["y"], domain="isbnet", radius=0.1, n_sample=4)
    assert stage_problems(model(to_int, bq_int)) == [
        "node 'y' (isbnet::BallQuery): input 'xi' is INT32, plugin takes ('FLOAT',)"
    ]
    squeeze = helper.make_node("Squeeze", ["x", "axes"], ["y"])  # axes from data
    assert "input 1 must be a build-time constant" in stage_problems(model(squeeze))[0]
    assert stage_problems(model(helper.make_node("Squeeze", ["x"], ["y"]))) == []  # no axes input
    scatter = helper.make_node("ScatterND", ["x", "x", "x"], ["y"], reduction="add")
    assert "reduction 'add'" in stage_problems(model(scatter))[0]
