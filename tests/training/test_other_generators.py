"""The second and third room generators (`isbnet.synthetic_b`, `synthetic_c`) and the use of
the second in training scenes."""

from __future__ import annotations

import numpy as np
import pytest

from isbnet_trt.training import synthetic_b, synthetic_c
from isbnet_trt.training.train_data import RoomDistribution, sample_room


@pytest.mark.parametrize("generator", [synthetic_b, synthetic_c])
@pytest.mark.parametrize(("seed", "n_points"), [(0, 20_000), (3, 45_000), (8, 30_000)])
def test_rooms_are_labelled_consistently(generator, seed, n_points):
    room = generator.make_room(seed, n_points)
    points, sem, ins = room["points"], room["semantic_labels"], room["instance_labels"]
    assert points.shape == (n_points, 6) and points.dtype == np.float32 and np.isfinite(points).all()
    assert points[:, 3:].min() >= 0 and points[:, 3:].max() <= 255
    assert sem.shape == ins.shape == (n_points,) and sem.min() >= 0 and sem.max() < 20
    structure = sem <= 1  # wall, floor
    assert (ins[structure] == -100).all() and (ins[~structure] >= 0).all()
    ids = np.unique(ins[~structure])
    assert np.array_equal(ids, np.arange(len(ids))) and len(ids) >= 3
    assert all(len(np.unique(sem[ins == i])) == 1 for i in ids)  # one class per instance
    again = generator.make_room(seed, n_points)
    assert all(np.array_equal(room[k], again[k]) for k in ("points", "semantic_labels", "instance_labels"))


def test_training_rooms_from_the_second_generator():
    """With `second_generator_prob` 1 every room is from synthetic_b, with computed superpoints;
    with 0 (the default) the draws are those of the first generator alone."""
    rng = np.random.default_rng(5)
    room = sample_room(rng, RoomDistribution(min_points=20_000, max_points=20_000, second_generator_prob=1.0))
    assert room.meta["generator"] == "synthetic_b" and len(room.points) == 20_000
    spp = room.superpoints
    assert spp.shape == (20_000,) and np.array_equal(np.unique(spp), np.arange(spp.max() + 1))
    first = sample_room(np.random.default_rng(5), RoomDistribution(min_points=20_000, max_points=20_000))
    assert first.meta["generator"] != "synthetic_b"
