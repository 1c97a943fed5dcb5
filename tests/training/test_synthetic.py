"""Room generator a (the default): determinism, point counts, label and superpoint consistency, geometry."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from isbnet_trt.training.synthetic import (
    CLASS_NAMES,
    IGNORE_INSTANCE,
    SyntheticScene,
    generate_room,
    load_scene,
    save_scene,
)
from isbnet_trt.training.synthetic.cli import main

SEEDS = (0, 1, 2)


def _digest(scene: SyntheticScene) -> str:
    """sha256 over the four arrays' bytes (bit-identity check)."""
    h = hashlib.sha256()
    for a in (scene.points, scene.superpoints, scene.semantic_labels, scene.instance_labels):
        h.update(a.tobytes())
    return h.hexdigest()


@pytest.fixture(scope="module", params=SEEDS)
def scene(request: pytest.FixtureRequest) -> SyntheticScene:
    return generate_room(30_000, seed=request.param)


def test_deterministic_in_process() -> None:
    a, b = generate_room(20_000, seed=5), generate_room(20_000, seed=5)
    assert _digest(a) == _digest(b)
    assert a.meta == b.meta


def test_deterministic_across_processes() -> None:
    code = (
        "import hashlib; from isbnet_trt.training.synthetic import generate_room\n"
        "s = generate_room(20000, seed=5); h = hashlib.sha256()\n"
        "for a in (s.points, s.superpoints, s.semantic_labels, s.instance_labels): h.update(a.tobytes())\n"
        "print(h.hexdigest())"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == _digest(generate_room(20_000, seed=5))


def test_different_seeds_differ() -> None:
    a, b = generate_room(10_000, seed=0), generate_room(10_000, seed=1)
    assert _digest(a) != _digest(b)
    assert a.meta["room"] != b.meta["room"]


@pytest.mark.parametrize("n", [0, 1, 7, 1000, 30_000, 150_000])
def test_exact_point_count_and_dtypes(n: int) -> None:
    s = generate_room(n, seed=3)
    assert s.points.shape == (n, 6) and s.points.dtype == np.float32
    for a in (s.superpoints, s.semantic_labels, s.instance_labels):
        assert a.shape == (n,) and a.dtype == np.int64
    assert s.meta["n_points"] == n
    assert s.class_names == CLASS_NAMES and len(CLASS_NAMES) == 20


def test_instances_have_one_object_class(scene: SyntheticScene) -> None:
    inst, sem = scene.instance_labels, scene.semantic_labels
    assert np.all((sem >= 0) & (sem < 20))
    assert np.all(inst[sem <= 1] == IGNORE_INSTANCE)  # wall and floor are background
    assert np.all(inst[sem >= 2] >= 0)
    ids = np.unique(inst[inst >= 0])
    np.testing.assert_array_equal(ids, np.arange(len(ids)))  # 0..K-1, no gaps
    assert len(ids) == len(scene.meta["objects"]) >= 3
    for obj in scene.meta["objects"]:
        mask = inst == obj["instance"]
        classes = np.unique(sem[mask])
        assert classes.tolist() == [obj["class_id"]]
        assert 2 <= obj["class_id"] <= 19 and CLASS_NAMES[obj["class_id"]] == obj["class"]
        assert obj["n_points"] == mask.sum()


def test_superpoints_contiguous_and_pure(scene: SyntheticScene) -> None:
    spp = scene.superpoints
    s = spp.max() + 1
    np.testing.assert_array_equal(np.unique(spp), np.arange(s))
    for labels in (scene.instance_labels, scene.semantic_labels):
        pairs = np.unique(np.stack([spp, labels], axis=1), axis=0)
        assert len(pairs) == s, "a superpoint spans two instances or two semantic classes"
    assert scene.meta["n_superpoints"] == s


@pytest.mark.parametrize("seed", SEEDS)
def test_superpoint_count_like_scannet(seed: int) -> None:
    s = generate_room(150_000, seed=seed)
    assert 400 <= s.n_superpoints <= 2000
    assert np.median(np.bincount(s.superpoints)) >= 30


def test_points_inside_room(scene: SyntheticScene) -> None:
    xyz, rgb = scene.points[:, :3], scene.points[:, 3:]
    room = np.array(scene.meta["room"], dtype=np.float32)
    assert np.all(xyz >= 0.0) and np.all(xyz <= room)  # z >= floor
    floor = scene.semantic_labels == CLASS_NAMES.index("floor")
    assert floor.any() and np.all(xyz[floor, 2] < 0.03)
    assert np.all((rgb >= 0) & (rgb <= 255)) and np.all(rgb == np.round(rgb))
    for obj in scene.meta["objects"]:
        pts = xyz[scene.instance_labels == obj["instance"]]
        assert np.linalg.norm(pts[:, :2].mean(0) - obj["centre"][:2]) < max(obj["size"][:2])


def test_instances_are_separated(scene: SyntheticScene) -> None:
    spatial = pytest.importorskip("scipy.spatial")
    xyz, inst = scene.points[:, :3], scene.instance_labels
    fg = inst >= 0
    tree = spatial.cKDTree(xyz[fg])
    d, j = tree.query(xyz[fg], k=32, distance_upper_bound=0.03)
    hit = np.isfinite(d)
    other = inst[fg][np.minimum(j, fg.sum() - 1)] != inst[fg][:, None]
    assert not np.any(hit & other), "points of two instances closer than 3 cm"


def test_all_classes_occur_over_a_few_rooms() -> None:
    seen = {obj["class"] for seed in range(12) for obj in generate_room(2000, seed=seed).meta["objects"]}
    assert seen == set(CLASS_NAMES[2:])


def test_options() -> None:
    s = generate_room(20_000, seed=4, room_size=(6.0, 5.0, 2.8), ceiling=True, noise=0.0)
    assert s.meta["room"] == [6.0, 5.0, 2.8]
    assert np.isclose(s.points[:, 2].max(), 2.8)
    walls = s.semantic_labels == 0
    assert (s.points[walls, 2] > 2.79).sum() > 1000  # ceiling points
    with pytest.raises(TypeError):
        generate_room(100, seed=0, no_such_option=1)
    with pytest.raises(ValueError):
        generate_room(-1)


def test_save_load_roundtrip(tmp_path) -> None:
    s = generate_room(5000, seed=6)
    save_scene(s, tmp_path / "room.npz")
    t = load_scene(tmp_path / "room.npz")
    assert _digest(s) == _digest(t)
    assert t.meta == s.meta and t.class_names == s.class_names


def test_cli_writes_scene_and_png(tmp_path, capsys) -> None:
    out, png = tmp_path / "room.npz", tmp_path / "room.png"
    assert main(["--seed", "7", "--points", "4000", "--out", str(out), "--png", str(png)]) == 0
    assert load_scene(out).points.shape == (4000, 6)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "4000 points" in capsys.readouterr().out


def test_cli_other_generator(tmp_path, capsys) -> None:
    png = tmp_path / "room.png"
    assert main(["--generator", "c", "--seed", "2", "--points", "4000", "--png", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "4000 points" in capsys.readouterr().out
