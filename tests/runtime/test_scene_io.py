"""Scene readers: every supported format, and a one-line error for every broken file."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from isbnet_trt.runtime.scene_io import InputError, load_scene, load_superpoints


def test_npy_and_npz(scene_files, room):
    npy, npz = scene_files
    a = load_scene(npy)
    assert a.name == "room" and np.array_equal(a.points, room.points) and a.superpoints is None
    b = load_scene(npz)
    assert np.array_equal(b.superpoints, room.superpoints)
    assert np.array_equal(b.instance_labels, room.instance_labels)


def test_ply_roundtrip(tmp_path, room):
    from plyfile import PlyData, PlyElement

    v = np.empty(
        len(room.points),
        dtype=[("x", "f4"), ("y", "f4"), ("z", "f4"), ("red", "u1"), ("green", "u1"), ("blue", "u1")],
    )
    for i, c in enumerate(["x", "y", "z", "red", "green", "blue"]):
        v[c] = room.points[:, i]
    path = tmp_path / "scan.ply"
    PlyData([PlyElement.describe(v, "vertex")]).write(str(path))
    s = load_scene(path)
    np.testing.assert_allclose(s.points, room.points, atol=1e-6)
    assert s.points.dtype == np.float32  # float32 coordinates stay so (their precision is judged later)


def test_xyz_only_ply(tmp_path):
    from plyfile import PlyData, PlyElement

    v = np.zeros(5, dtype=[("x", "f4"), ("y", "f4"), ("z", "f4")])
    path = tmp_path / "xyz.ply"
    PlyData([PlyElement.describe(v, "vertex")]).write(str(path))
    assert load_scene(path).points.shape == (5, 3)


def test_official_preprocessed_pth(tmp_path, room):
    xyz = room.points[:, :3].astype(np.float64)
    xyz -= xyz.mean(0)
    rgb = room.points[:, 3:] / 127.5 - 1
    path = tmp_path / "scene0011_00_inst_nostuff.pth"
    torch.save(
        (xyz, rgb, room.semantic_labels.astype(np.float64), room.instance_labels.astype(np.float64)), path
    )
    s = load_scene(path)
    assert s.name == "scene0011_00" and s.centred
    np.testing.assert_array_equal(s.points[:, :3], xyz)
    np.testing.assert_array_equal(s.instance_labels, room.instance_labels)
    assert s.superpoints is None
    spp_path = tmp_path / "spp.pth"
    torch.save(room.superpoints, spp_path)
    np.testing.assert_array_equal(load_superpoints(spp_path, len(xyz)), room.superpoints)


def test_official_layout_superpoints_are_found(tmp_path, room):
    """`<root>/val/<scan>_inst_nostuff.pth` takes `<root>/superpoints/<scan>.pth`, where the
    official loaders read them; one of the wrong length is refused by name."""
    (tmp_path / "val").mkdir()
    (tmp_path / "superpoints").mkdir()
    path = tmp_path / "val" / "scene0011_00_inst_nostuff.pth"
    torch.save((room.points[:, :3].astype(np.float64), room.points[:, 3:] / 127.5 - 1), path)
    torch.save(room.superpoints, tmp_path / "superpoints" / "scene0011_00.pth")
    np.testing.assert_array_equal(load_scene(path).superpoints, room.superpoints)
    torch.save(room.superpoints[1:], tmp_path / "superpoints" / "scene0011_00.pth")
    with pytest.raises(InputError, match="scene0011_00.pth: superpoints must be"):
        load_scene(path)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.npy", b"", "cannot read .npy"),
        ("junk.npz", b"PK\x03\x04 truncated", "cannot read .npz"),
        ("junk.ply", b"ply\nformat ascii 1.0\nelement vertex 3\n", "cannot read .ply"),
        ("junk.pth", b"\x80\x02 not a pickle", "cannot read .pth"),
        ("scene.xyz", b"1 2 3", "unsupported format '.xyz'"),
    ],
)
def test_broken_files(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_scene(path)


def test_a_random_ply_body_gives_one_error_and_no_warning(tmp_path):
    """A valid header over random bytes: NaN/inf or overflowing values must not print numpy's
    RuntimeWarning before the error."""
    import warnings

    header = b"ply\nformat binary_little_endian 1.0\nelement vertex 1000\n"
    header += b"".join(f"property float {c}\n".encode() for c in "xyz")
    header += b"".join(f"property uchar {c}\n".encode() for c in ("red", "green", "blue"))
    path = tmp_path / "random.ply"
    path.write_bytes(header + b"end_header\n" + np.random.default_rng(0).bytes(1000 * 15))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scene = load_scene(path)
    assert scene.points.shape == (1000, 6)


def test_wrong_shapes_and_missing(tmp_path):
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((10, 4)))
    with pytest.raises(InputError, match=r"\(N, 6\) xyz\+rgb or \(N, 3\).*got shape \(10, 4\)"):
        load_scene(bad)
    truncated = tmp_path / "trunc.npy"
    np.save(truncated, np.zeros((1000, 6)))
    truncated.write_bytes(truncated.read_bytes()[:500])
    with pytest.raises(InputError, match="cannot read .npy"):
        load_scene(truncated)
    with pytest.raises(InputError, match="no such file"):
        load_scene(tmp_path / "nope.npy")
    with pytest.raises(InputError, match="is a directory"):
        load_scene(tmp_path)
    labels = tmp_path / "labels.npz"
    np.savez(labels, points=np.zeros((10, 6)), superpoints=np.zeros(9, np.int64))
    with pytest.raises(InputError, match=r"superpoints has shape \(9,\), expected \(10,\)"):
        load_scene(labels)
    spp = tmp_path / "spp.npy"
    np.save(spp, np.zeros(3))
    with pytest.raises(InputError, match="superpoints must be 10 integers"):
        load_superpoints(spp, 10)
