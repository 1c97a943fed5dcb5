"""The `isbnet-trt` command line: outputs read back, and bad input refused cleanly.

Bad input must give one line on stderr, exit status 2, no traceback, and nothing written.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from isbnet_trt.cli import main


@pytest.fixture()
def model_args(golden_ckpt):
    ckpt, cfg = golden_ckpt
    return ["--ckpt", str(ckpt), "--config", str(cfg)]


def run_cli(args, capsys):
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_infer_writes_every_format(tmp_path, scene_files, model_args, capsys, room):
    from matplotlib.image import imread
    from plyfile import PlyData

    _, npz = scene_files
    out = tmp_path / "out"
    old_umask = os.umask(0o027)
    try:
        rc, stdout, err = run_cli(
            ["infer", npz, *model_args, "--out", out, "--format", "npz,scannet,ply", "--png", "--timings"],
            capsys,
        )
    finally:
        os.umask(old_umask)
    assert rc == 0, err
    written = [p for p in out.rglob("*") if p.is_file()]
    assert {p.suffix for p in written} == {".npz", ".txt", ".ply", ".png"}
    assert {oct(p.stat().st_mode & 0o777) for p in written} == {oct(0o640)}  # the umask, every format
    assert "backbone" in stdout and "total" in stdout  # --timings table
    res = np.load(out / "labelled.npz")
    k, n = res["masks"].shape
    assert k > 0 and n == len(room.points)
    assert len(res["scores"]) == len(res["label_ids"]) == len(res["class_names"]) == k
    # ScanNet benchmark format, re-parsed.
    lines = (out / "labelled.txt").read_text().splitlines()
    assert len(lines) == k
    for i, line in enumerate(lines):
        rel, label, score = line.split()
        mask = np.loadtxt(out / rel, dtype=np.int64)
        assert mask.shape == (n,) and np.array_equal(mask.astype(bool), res["masks"][i])
        assert int(label) in (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 24, 28, 33, 34, 36, 39)
        assert abs(float(score) - res["scores"][i]) < 1e-4
    ply = PlyData.read(str(out / "labelled.ply"))["vertex"]
    assert len(ply) == n and set(np.unique(ply["instance"])) <= set(range(-1, k))
    img = imread(out / "labelled.png")
    assert img.ndim == 3 and img.shape[0] > 100
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary leftovers


def test_demo_segments_a_generated_room(tmp_path, capsys, monkeypatch):
    from isbnet_trt.isbnet import demo

    if not demo.demo_weights_path().is_file():
        pytest.skip("demo weights not installed")
    monkeypatch.setenv("ISBNET_TRT_CACHE", str(tmp_path / "cache"))  # its export stays in tmp
    out = tmp_path / "demo"
    rc, stdout, err = run_cli(["demo", "--points", "40000", "--seed", "3", "--out", out], capsys)
    assert rc == 0, err
    assert "warm-up" in err and "total" in stdout
    confident = int(stdout.split(" scoring >= 0.5")[0].rsplit(" ", 1)[1])
    assert confident >= 5  # the room's objects, found
    assert {p.name for p in out.iterdir()} == {"room_seed3.npz", "room_seed3.ply", "room_seed3.png"}


def test_auto_and_no_superpoints(tmp_path, scene_files, model_args, capsys):
    npy, _ = scene_files
    for mode in ("auto", "none"):
        rc, _, err = run_cli(
            ["infer", npy, *model_args, "--superpoints", mode, "--out", tmp_path / mode], capsys
        )
        assert rc == 0, err
        assert (tmp_path / mode / "room.npz").is_file()


def _spanning(metres: float) -> np.ndarray:
    """A small room stretched to span `metres` (a building in mm read as metres)."""
    points = np.random.default_rng(0).uniform(0, 1, (2000, 6))
    points[:, :3] *= metres
    points[:, 3:] *= 255
    return points


def _random_ply() -> bytes:
    header = "ply\nformat binary_little_endian 1.0\nelement vertex 1000\n"
    header += "".join(f"property float {c}\n" for c in "xyz")
    header += "".join(f"property uchar {c}\n" for c in ("red", "green", "blue")) + "end_header\n"
    return header.encode() + np.random.default_rng(0).bytes(1000 * 15)


def _write(tmp_path, name, data: bytes):
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _bad(tmp_path, name, array):
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / name
    np.save(path, array)
    return path


@pytest.mark.parametrize(
    "make, extra, message",
    [
        (lambda d: _bad(d, "a.npy", np.zeros((10, 4))), [], r"\(N, 6\) xyz\+rgb or \(N, 3\)"),
        (lambda d: _bad(d, "b.npy", np.full((10, 6), np.nan)), [], "NaN or inf"),
        (lambda d: _bad(d, "c.npy", np.zeros((0, 6))), [], "c.npy: the scene is empty"),
        (lambda d: _bad(d, "d.npy", np.zeros((10, 3))), [], "--no-color"),
        (lambda d: _bad(d, "e.npy", np.zeros((1_000_001, 6), np.float32)), [], "--max-points"),
        (lambda d: _write(d, "f.npy", b"\x93NUMPY garbage"), [], "cannot read .npy"),
        (lambda d: _write(d, "g.xyz", b"1 2 3"), [], "unsupported format"),
        (lambda d: d / "missing.npy", [], "no such file"),
        (lambda d: d.mkdir() or d, [], "is a directory; give the scene files in it"),
        (lambda d: _bad(d, "far.npy", _spanning(1e5)), [], "beyond the 21 km"),
        (lambda d: _bad(d, "far.npy", _spanning(1e5)), [], "--units cm or mm"),
        (lambda d: _write(d, "r.ply", _random_ply()), [], "r.ply: points contain NaN or inf"),
        (
            lambda d: _bad(d, "h.npy", np.zeros((10, 6))),
            ["--superpoints", "SPP"],
            "superpoints must be 10 integers",
        ),
    ],
)
def test_bad_scenes(tmp_path, model_args, capsys, make, extra, message):
    scene = make(tmp_path / "in")
    spp = tmp_path / "spp.npy"
    np.save(spp, np.zeros(9, np.int64))
    extra = [str(spp) if a == "SPP" else a for a in extra]
    out = tmp_path / "out"
    rc, _, err = run_cli(["infer", scene, *model_args, *extra, "--out", out], capsys)
    assert rc == 2
    assert err.startswith("isbnet-trt: error:") and message.replace("\\", "") in err or pytest.fail(err)
    assert len(err.strip().splitlines()) == 1  # no warning or traceback before it
    assert not out.exists()  # nothing written, not even the directory


@pytest.mark.parametrize(
    "args, message",
    [
        (["--ckpt", "MISSING"], "checkpoint not found"),
        (["--ckpt", "CKPT", "--config", "NARROWCFG"], "does not match config 'narrow'"),
        (
            ["--ckpt", "CKPT", "--config", "CFG", "--backend", "tensorrt"],
            "backend 'tensorrt' is not installed",
        ),
        (["--ckpt", "CKPT", "--config", "CFG", "--out", "FILE/sub"], "cannot write to output directory"),
        (["--ckpt", "TEXT"], "a_file.pth: not a PyTorch file"),
        (["--ckpt", "CKPT", "--config", "CFG", "--device", "bogus"], "invalid device 'bogus'"),
        (["--device", "bogus"], "invalid device 'bogus' (choose cpu, cuda or cuda:N)"),
        (["--device", "cuda"], "--device cuda applies to the torch backend"),
        (["--export", "FILE", "--device", "cuda:1"], "--device cuda:1 applies to the torch backend"),
        (["--config", "CFG"], "--config describes the checkpoint given with --ckpt"),
        (["--format", ""], "no output format given"),
        (["--format", "npz,obj"], "unknown output format obj"),
        (["--max-points", "0"], "argument --max-points: expected a positive integer, got 0"),
        (["--max-points", "-5"], "argument --max-points: expected a positive integer, got -5"),
        (["--nonsense"], "unrecognized arguments: --nonsense (see 'isbnet-trt infer --help')"),
    ],
)
def test_bad_models_and_outputs(tmp_path, scene_files, golden_ckpt, capsys, args, message):
    ckpt, cfg = golden_ckpt
    doc = yaml.safe_load(Path(cfg).read_text())
    doc["model"]["channels"] = 8  # a config the checkpoint cannot match
    (tmp_path / "narrow.yaml").write_text(yaml.safe_dump(doc))
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    subs = {
        "MISSING": str(tmp_path / "missing.pth"),
        "CKPT": str(ckpt),
        "CFG": str(cfg),
        "NARROWCFG": str(tmp_path / "narrow.yaml"),
        "FILE/sub": str(a_file / "sub"),
        "FILE": str(a_file),
        "TEXT": str(a_file.with_suffix(".pth")),
    }
    a_file.with_suffix(".pth").write_text("not a checkpoint\n")
    args = [subs.get(a, a) for a in args]
    if "tensorrt" in args:
        try:
            import tensorrt  # noqa: F401

            pytest.skip("tensorrt is installed: the missing-backend error cannot be shown")
        except ImportError:
            pass
    if "--out" not in args:
        args += ["--out", str(tmp_path / "out")]
    try:
        rc, _, err = run_cli(["infer", scene_files[0], *args], capsys)
    except SystemExit as e:  # argparse's errors
        rc, err = e.code, capsys.readouterr().err
    assert rc == 2 and err.startswith("isbnet-trt: error: ") and message in err, err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_help_of_every_command():
    for cmd in ([], ["infer"], ["demo"], ["eval"]):
        res = subprocess.run(
            [sys.executable, "-m", "isbnet_trt.cli", *cmd, "--help"], capture_output=True, text=True
        )
        assert res.returncode == 0 and "usage: isbnet-trt" in res.stdout
