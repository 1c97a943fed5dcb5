"""Users' point clouds: units, up axis, missing colour, the size limit and downsampling."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from isbnet_trt.runtime.scene_prep import (
    SceneOptionError,
    SceneOptions,
    check_extent,
    limit_size,
    to_model_frame,
    voxel_downsample,
)


def test_units_and_up_axis(room):
    mm = room.points.copy()
    mm[:, :3] *= 1000
    np.testing.assert_allclose(
        to_model_frame(mm, SceneOptions(units="mm"))[:, :3], room.points[:, :3], rtol=1e-6
    )
    y_up = room.points[:, [0, 2, 1, 3, 4, 5]].copy()
    y_up[:, 2] *= -1  # a right-handed y-up frame: (x, y=up, z=-y_zup)
    back = to_model_frame(y_up, SceneOptions(up_axis="y"))
    np.testing.assert_allclose(back[:, :3], room.points[:, :3], rtol=1e-6, atol=1e-6)


def test_suspicious_extents_warn(room):
    mm = room.points.copy()
    mm[:, :3] *= 1000
    with pytest.warns(UserWarning, match="units"):
        to_model_frame(mm, SceneOptions())
    tall = room.points[:, [0, 2, 1, 3, 4, 5]] * np.array([1, 1, 3, 1, 1, 1])
    with pytest.warns(UserWarning, match="up axis"):
        to_model_frame(tall, SceneOptions())


def test_odd_colour_ranges_warn(room):
    unit = room.points.copy()
    unit[:, 3:] /= 255
    with pytest.warns(UserWarning, match=r"within 0\.\.1.*0\.\.255"):
        to_model_frame(unit, SceneOptions())
    wide = room.points.copy()
    wide[:, 3:] *= 257
    with pytest.warns(UserWarning, match="16-bit"):
        to_model_frame(wide, SceneOptions())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        to_model_frame(room.points, SceneOptions())  # 0..255: no warning
        black = room.points.copy()
        black[:, 3:] = 0
        to_model_frame(black, SceneOptions())  # all black is a valid 0..255 scene


def test_negative_colours_warn(room):
    official = room.points.copy()
    official[:, 3:] = official[:, 3:] / 127.5 - 1  # the official preprocessed form, given as raw
    with pytest.warns(UserWarning, match=r"down to -1\.00.*0\.\.255"):
        to_model_frame(official, SceneOptions())


def test_far_float32_coordinates_warn(room):
    """float32 neighbours are 6 cm apart at 1e6 m (a georeferenced scan saved as float32)."""
    far = room.points.astype(np.float32)
    far[:, :2] += np.float32(1e6)
    with pytest.warns(UserWarning, match=r"float32 coordinates reach 1,000,0\d\d m.*6\.2 cm apart"):
        to_model_frame(far, SceneOptions())
    with pytest.warns(UserWarning, match="float32 coordinates reach"):  # xyz only, grey added
        to_model_frame(far[:, :3], SceneOptions(no_color=True))
    with warnings.catch_warnings():  # the same scene in float64, or float32 near the origin: fine
        warnings.simplefilter("error")
        to_model_frame(far.astype(np.float64), SceneOptions())
        to_model_frame(room.points.astype(np.float32), SceneOptions())
        mm = room.points.astype(np.float32) * np.float32(1000)  # 8 m in mm: spacing 1 um
        mm[:, 3:] = room.points[:, 3:]
        to_model_frame(mm, SceneOptions(units="mm"))


def test_scenes_too_large_for_the_voxel_grid_are_refused(room):
    """A building in millimetres read as metres: its voxel keys would overflow int64."""
    mm = room.points.copy()
    mm[:, :3] *= 1e5 / np.ptp(mm[:, :3], axis=0).max()  # spans 100 km
    with pytest.raises(SceneOptionError, match=r"spans 1\d\d,\d{3} m.*--units cm or mm.*--max-points"):
        to_model_frame(mm, SceneOptions())
    check_extent(np.array([[0.0, 0, 0], [10_000, 10_000, 100]]), 50.0)  # a 10 km site: fine
    with pytest.raises(SceneOptionError, match="20 cm voxel grid"):
        check_extent(np.array([[0.0, 0, 0], [3e5, 3e5, 1e5]]), 5.0)


def test_no_colour_needs_the_flag(room):
    xyz = room.points[:, :3]
    with pytest.raises(SceneOptionError, match="--no-color"):
        to_model_frame(xyz, SceneOptions())
    grey = to_model_frame(xyz, SceneOptions(no_color=True))
    assert grey.shape == (len(xyz), 6) and np.all(grey[:, 3:] == 127.5)


def test_size_limit_names_max_points(room):
    with pytest.raises(
        SceneOptionError, match=r"20,000 points, above the limit of 5,000 .*GiB.*--max-points"
    ):
        limit_size(room.points, SceneOptions(max_points=5000))


def test_downsampling_maps_back_to_every_point(room):
    kept, back, cell = voxel_downsample(room.points, 15_000)
    assert len(kept) <= 15_000 and back.shape == (len(room.points),)
    # Every input point maps to the kept point of its own grid cell.
    assert np.linalg.norm(kept[back, :3] - room.points[:, :3], axis=1).max() <= np.sqrt(3) * cell
    pts, back2 = limit_size(room.points, SceneOptions(max_points=15_000, downsample=True))
    assert np.array_equal(pts, kept) and np.array_equal(back, back2)


def test_option_validation():
    with pytest.raises(SceneOptionError, match="up axis"):
        SceneOptions(up_axis="x")
    with pytest.raises(SceneOptionError, match="units"):
        SceneOptions(units="inch")
