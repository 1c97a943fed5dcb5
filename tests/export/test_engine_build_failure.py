"""A failed TensorRT engine build does not cost the export (issue 14, item 8): the ONNX stages
and a manifest without engines are written, the full error goes to a file beside them, and the
command prints one line and exits 2, without a traceback. TensorRT is simulated: its builder
raises the errors `build_engines` raises. The ONNX stages are the session's export of the same
checkpoint (`light_export`), copied, to keep the test short."""

from __future__ import annotations

import json
import shutil

import pytest

from isbnet_trt.export import build, tensorrt_engines
from isbnet_trt.export.manifest import MANIFEST_NAME, read_manifest
from isbnet_trt.plugins.trt_plugins import TensorRTUnavailableError


@pytest.mark.parametrize(
    "error",
    [
        tensorrt_engines.EngineBuildError(
            "stage 'backbone': TensorRT could not parse backbone.onnx:\nnode 'fps' (FarthestPointSample): x"
        ),
        TensorRTUnavailableError("TensorRT 10.8.0 is too old: the isbnet plugins need >= 10.9"),
        ValueError("workspace_mib must be >= 1, got 0"),
    ],
    ids=["parse", "too-old", "value"],
)
def test_engine_failure_keeps_the_onnx_export(
    tmp_path, capsys, golden_ckpt, light_export, monkeypatch, error
):
    monkeypatch.setattr(build, "_tensorrt_installed", lambda: True)

    def reuse_export(model, out_dir, opset, log):  # the session's export of the same checkpoint
        for f in light_export.iterdir():
            if f.is_file() and f.name != MANIFEST_NAME:
                shutil.copy(f, out_dir / f.name)
        doc = json.loads((light_export / MANIFEST_NAME).read_text())
        doc.pop("checkpoint", None)
        return doc

    monkeypatch.setattr(build, "export_model", reuse_export)

    def failing_build(manifest, out_dir, fp16, workspace_mib):
        (out_dir / "backbone.engine").write_bytes(b"half-built")  # a stage built before the failure
        raise error

    monkeypatch.setattr(tensorrt_engines, "build_engines", failing_build)
    ckpt, cfg = golden_ckpt
    out = tmp_path / "out"
    code = build.main(["--ckpt", str(ckpt), "--config", str(cfg), "--out", str(out)])
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert code == 2
    assert "\n" not in err and err.startswith("error: wrote the ONNX stages to")
    assert str(error).splitlines()[0] in err and "Traceback" not in captured.out + captured.err
    manifest = read_manifest(out)  # a complete, readable ONNX export
    assert "engines" not in manifest.raw and all((out / f"{s}.onnx").is_file() for s in manifest.stages)
    assert not list(out.glob("*.engine"))
    details = (out / build.ENGINE_ERROR_FILE).read_text()
    assert "Traceback" in details and str(error) in details
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left
