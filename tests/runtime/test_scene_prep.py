"""Users' point clouds: units, up axis, missing colour, the size limit and downsampling."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from isbnet_trt.runtime.scene_prep import (
    SceneOptionError,
    SceneOptions,
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
