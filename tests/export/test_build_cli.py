"""`export/build_engine.py` / `export.build.main`: clear one-line failures (exit 2) that leave
nothing behind, config inference, atomic replacement of a previous export."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from isbnet_trt.export import build
from isbnet_trt.export.manifest import MANIFEST_NAME, read_manifest

SCRIPT = Path(build.__file__).with_name("build_engine.py")


def _run(capsys, *args) -> tuple[int, str]:
    code = build.main([str(a) for a in args])
    err = capsys.readouterr().err.strip()
    return code, err


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_script_runs_from_its_folder():
    """`python export/build_engine.py` puts export/ first on sys.path: no module there may
    shadow a package it imports (onnx, torch, tensorrt...)."""
    res = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "--ckpt" in res.stdout and "--backends" in res.stdout


def test_bad_checkpoint(tmp_path, capsys, golden_ckpt):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    out = tmp_path / "out"
    code, err = _run(capsys, "--ckpt", bad, "--config", golden_ckpt[1], "--out", out)
    assert code == 2 and err.startswith("error: cannot read checkpoint") and "\n" not in err
    assert not out.exists() and not _leftovers(tmp_path)
    code, err = _run(capsys, "--ckpt", tmp_path / "missing.pth", "--config", golden_ckpt[1], "--out", out)
    assert code == 2 and "checkpoint not found" in err


def test_config_mismatch(tmp_path, capsys, golden_ckpt, narrow_ckpt):
    out = tmp_path / "out"
    code, err = _run(capsys, "--ckpt", golden_ckpt[0], "--config", narrow_ckpt[1], "--out", out)
    assert code == 2 and "does not match config 'narrow'" in err and "\n" not in err
    assert not out.exists() and not _leftovers(tmp_path)


def test_no_config_found(tmp_path, capsys, narrow_ckpt, monkeypatch):
    monkeypatch.delenv("ISBNET_TRT_CONFIGS", raising=False)
    ckpt = tmp_path / "model.pth"
    shutil.copy(narrow_ckpt[0], ckpt)
    code, err = _run(capsys, "--ckpt", ckpt, "--out", tmp_path / "out")
    assert code == 2 and "no known config matches" in err and "--config" in err


def test_unwritable_destinations(tmp_path, capsys, golden_ckpt):
    ckpt, cfg = golden_ckpt
    code, err = _run(capsys, "--ckpt", ckpt, "--config", cfg, "--out", tmp_path / "no" / "such" / "dir")
    assert code == 2 and "does not exist" in err
    (tmp_path / "file").write_text("x")
    code, err = _run(capsys, "--ckpt", ckpt, "--config", cfg, "--out", tmp_path / "file")
    assert code == 2 and "not a directory" in err
    user_dir = tmp_path / "mine"
    user_dir.mkdir()
    (user_dir / "notes.txt").write_text("keep me")
    code, err = _run(capsys, "--ckpt", ckpt, "--config", cfg, "--out", user_dir)
    assert code == 2 and "refusing to replace" in err and (user_dir / "notes.txt").exists()


def test_bad_options(tmp_path, capsys, golden_ckpt):
    ckpt, cfg = golden_ckpt
    assert _run(capsys, "--ckpt", ckpt, "--config", cfg, "--out", tmp_path / "o", "--opset", "13")[0] == 2
    code, err = _run(
        capsys, "--ckpt", ckpt, "--config", cfg, "--out", tmp_path / "o", "--backends", "tensorrt"
    )
    assert code == 2 and "must list onnx" in err
    assert build.main(["--out", str(tmp_path)]) == 2  # argparse: --ckpt missing
    assert not (tmp_path / "o").exists()


def test_failure_midway_leaves_nothing(tmp_path, capsys, golden_ckpt, monkeypatch, light_export):
    """A failing stage export: nothing written, a previous export in DIR left untouched."""
    out = tmp_path / "out"
    shutil.copytree(light_export, out)
    before = sorted(p.name for p in out.iterdir())

    def fail(model, name, path, opset):  # noqa: ANN001
        if name == "aggregator":
            raise build.ExportError("stage 'aggregator': simulated failure")
        path.write_bytes(b"partial")

    monkeypatch.setattr(build, "export_stage", fail)
    code, err = _run(capsys, "--ckpt", golden_ckpt[0], "--config", golden_ckpt[1], "--out", out)
    assert code == 2 and "simulated failure" in err
    assert sorted(p.name for p in out.iterdir()) == before and not _leftovers(tmp_path)


@pytest.mark.slow
def test_inferred_config_and_replacement(tmp_path, capsys, narrow_ckpt, light_export, monkeypatch):
    """The config next to the checkpoint is found; an existing export is replaced; without
    TensorRT one line says so and the ONNX stages are written. (An architecture of no bundled
    config: the demo weights would match both `model.yaml` and the bundled `demo.yaml`.)"""
    monkeypatch.delenv("ISBNET_TRT_CONFIGS", raising=False)
    ckpt = tmp_path / "model.pth"
    shutil.copy(narrow_ckpt[0], ckpt)
    shutil.copy(narrow_ckpt[1], tmp_path / "model.yaml")
    out = tmp_path / "out"
    shutil.copytree(light_export, out)
    (out / "stale.onnx").write_bytes(b"old")
    code = build.main(["--ckpt", str(ckpt), "--out", str(out)])
    stdout = capsys.readouterr().out
    assert code == 0
    manifest = read_manifest(out)
    assert manifest.config.name == "model" and not (out / "stale.onnx").exists()
    assert (out / MANIFEST_NAME).is_file() and not _leftovers(tmp_path)
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        assert "TensorRT is not installed" in stdout


def test_exporter_crash_is_one_line(tmp_path, light_model, monkeypatch):
    """An exception inside torch.onnx.export becomes an ExportError naming the stage."""
    from isbnet_trt.export import onnx_export

    def boom(*args, **kwargs):  # noqa: ANN002, ANN003
        raise RuntimeError("Failed to export the model with torch.export.\nlong details")

    monkeypatch.setattr(onnx_export.torch.onnx, "export", boom)
    with pytest.raises(
        build.ExportError, match=r"^stage 'aggregator': torch.onnx.export failed: Failed to export"
    ):
        onnx_export.export_stage(light_model, "aggregator", tmp_path / "a.onnx")
    assert not (tmp_path / "a.onnx").exists()
