"""The exported stage graphs and manifest: ONNX checks, custom-op nodes with bodies, I/O as
documented, and the manifest's validation by the onnxruntime backend."""

from __future__ import annotations

import json
import shutil

import onnx
import pytest

from isbnet_trt.export.custom_ops import DOMAIN
from isbnet_trt.export.manifest import (
    FORMAT_VERSION,
    MANIFEST_NAME,
    ManifestError,
    read_manifest,
    write_manifest,
)
from isbnet_trt.export.stages import stage_io
from isbnet_trt.isbnet.config import ModelConfig, load_config

EXPECTED_OPS = {
    "backbone": {"SparseConv3d"},
    "aggregator": {"FarthestPointSample", "BallQuery"},
    "decoder_192": {"FarthestPointSample", "BallQuery"},
}


def test_manifest_describes_the_export(light_export, golden_ckpt):
    doc = json.loads((light_export / MANIFEST_NAME).read_text())
    assert doc["format_version"] == FORMAT_VERSION and doc["opset"] == 17
    cfg = ModelConfig.from_dict(doc["config"])
    assert cfg.name == load_config(golden_ckpt[1]).name and cfg.n_sample_rounds == (192, 128, 64)
    assert [s["name"] for s in doc["stages"]] == [
        "backbone",
        "aggregator",
        "decoder_192",
        "decoder_128",
        "decoder_64",
        "mask_head",
    ]
    assert {s["name"]: s.get("n_sample") for s in doc["stages"]}["decoder_128"] == 128
    assert len(doc["checkpoint"]["sha256"]) == 64 and len(doc["checkpoint"]["content_digest"]) == 64
    assert {"torch", "onnx", "onnxruntime"} <= doc["tools"].keys()
    io = stage_io(cfg)
    for entry in doc["stages"]:
        inputs, outputs = io[entry["name"]]
        assert entry["inputs"] == [s.to_dict() for s in inputs]
        assert entry["outputs"] == [s.to_dict() for s in outputs]
        for spec in entry["inputs"]:  # every symbolic input dim has a [min, opt, max] range
            assert all(d in doc["dims"] for d in spec["dims"] if isinstance(d, str))


@pytest.mark.parametrize("stage", ["backbone", "aggregator", "decoder_192"])
def test_stage_graph_checks_and_carries_its_custom_ops(light_export, stage):
    model = onnx.load(str(light_export / f"{stage}.onnx"))
    onnx.checker.check_model(model, full_check=True)
    onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    opsets = {o.domain: o.version for o in model.opset_import}
    assert opsets[""] == 17 and opsets[DOMAIN] == 1
    custom = {n.op_type for n in model.graph.node if n.domain == DOMAIN}
    assert custom == EXPECTED_OPS[stage]
    assert {f.name for f in model.functions if f.domain == DOMAIN} == custom  # a body per op
    manifest = read_manifest(light_export)
    spec = manifest.stages[stage]
    for value, io in ((model.graph.input, spec.inputs), (model.graph.output, spec.outputs)):
        dims = [[d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim] for v in value]
        assert [v.name for v in value] == [s.name for s in io]
        assert dims == [list(s.dims) for s in io]
    if stage == "backbone":  # BNs after sparse convs are folded: fewer BN nodes than BN modules
        n_bn = sum(n.op_type == "BatchNormalization" for n in model.graph.node)
        assert n_bn < 40
    if stage.startswith("decoder"):
        fps = next(n for n in model.graph.node if n.op_type == "FarthestPointSample")
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in fps.attribute}
        assert attrs == {"n_sample": 192, "variant": b"pointnet2"}


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_manifest_errors_are_clear(light_export, tmp_path):
    with pytest.raises(ManifestError, match="not found"):
        read_manifest(tmp_path / "nowhere")
    with pytest.raises(ManifestError, match="not an isbnet-trt export directory"):
        read_manifest(tmp_path)
    other = _copy(light_export, tmp_path / "other")
    doc = json.loads((other / MANIFEST_NAME).read_text())
    (other / MANIFEST_NAME).write_text(json.dumps({**doc, "format_version": FORMAT_VERSION + 1}))
    with pytest.raises(
        ManifestError, match=f"format version {FORMAT_VERSION + 1}.*export the checkpoint again"
    ):
        read_manifest(other)
    (other / MANIFEST_NAME).write_text(json.dumps(doc))
    (other / "decoder_64.onnx").unlink()
    with pytest.raises(ManifestError, match="lacks stage files: decoder_64.onnx"):
        read_manifest(other)
    (other / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(ManifestError, match="cannot read"):
        read_manifest(other)


def test_manifest_names_engines_built_beside_the_graphs(light_export, tmp_path):
    other = _copy(light_export, tmp_path / "other")
    doc = json.loads((other / MANIFEST_NAME).read_text())
    assert read_manifest(other).engines(fp16=False) == {}  # an ONNX-only export
    write_manifest(
        other, {**doc, "engines": {"backbone": "backbone.engine"}, "engine_options": {"fp16": True}}
    )
    manifest = read_manifest(other)
    assert manifest.engines(fp16=True) == {"backbone": other / "backbone.engine"}
    assert manifest.engines(fp16=False) == {}  # built with the other precision
    assert manifest.dims == doc["dims"]


def test_backend_refuses_a_foreign_directory(light_export, tmp_path):
    from isbnet_trt.runtime.backends.onnxruntime import OnnxRuntimeStages

    other = _copy(light_export, tmp_path / "old")
    doc = json.loads((other / MANIFEST_NAME).read_text())
    (other / MANIFEST_NAME).write_text(json.dumps({**doc, "format_version": 0}))
    with pytest.raises(ManifestError, match="format version 0"):
        OnnxRuntimeStages(other)
