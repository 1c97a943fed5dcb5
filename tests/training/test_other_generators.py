"""The second and third room generators (`training.synthetic` b and c), the one signature of all
three, and the use of b in training scenes."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from isbnet_trt.training.synthetic import GENERATORS, SyntheticScene, get_generator
from isbnet_trt.training.train_data import RoomDistribution, sample_room


@pytest.mark.parametrize("name", ["b", "c"])
@pytest.mark.parametrize(("seed", "n_points"), [(0, 20_000), (3, 45_000), (8, 30_000)])
def test_rooms_are_labelled_consistently(name, seed, n_points):
    room = get_generator(name)(n_points, seed)
    points, sem, ins = room.points, room.semantic_labels, room.instance_labels
    assert points.shape == (n_points, 6) and points.dtype == np.float32 and np.isfinite(points).all()
    assert points[:, 3:].min() >= 0 and points[:, 3:].max() <= 255
    assert sem.shape == ins.shape == (n_points,) and sem.min() >= 0 and sem.max() < 20
    structure = sem <= 1  # wall, floor
    assert (ins[structure] == -100).all() and (ins[~structure] >= 0).all()
    ids = np.unique(ins[~structure])
    assert np.array_equal(ids, np.arange(len(ids))) and len(ids) >= 3
    assert all(len(np.unique(sem[ins == i])) == 1 for i in ids)  # one class per instance
    spp = room.superpoints
    assert spp.shape == (n_points,) and np.array_equal(np.unique(spp), np.arange(spp.max() + 1))
    assert room.meta["seed"] == seed and room.meta["n_points"] == n_points
    again = get_generator(name)(n_points, seed)
    assert all(
        np.array_equal(getattr(room, k), getattr(again, k))
        for k in ("points", "superpoints", "semantic_labels", "instance_labels")
    )


def test_one_signature():
    """Every generator is called the same way and returns a `SyntheticScene`."""
    assert sorted(GENERATORS) == ["a", "b", "c"]
    signatures = {str(inspect.signature(g)) for g in GENERATORS.values()}
    assert signatures == {"(n_points: 'int' = 150000, seed: 'int' = 0, **options: 'Any') -> 'SyntheticScene'"}
    assert all(isinstance(g(2000, 1), SyntheticScene) for g in GENERATORS.values())
    with pytest.raises(TypeError):
        get_generator("b")(2000, 1, ceiling=True)  # b and c take no options
    with pytest.raises(ValueError, match="unknown room generator"):
        get_generator("d")


def test_training_rooms_from_the_second_generator():
    """With `second_generator_prob` 1 every room is from generator b, with computed superpoints;
    with 0 (the default) the draws are those of the first generator alone."""
    rng = np.random.default_rng(5)
    room = sample_room(rng, RoomDistribution(min_points=20_000, max_points=20_000, second_generator_prob=1.0))
    assert room.meta["generator"] == "synthetic_b" and len(room.points) == 20_000
    spp = room.superpoints
    assert spp.shape == (20_000,) and np.array_equal(np.unique(spp), np.arange(spp.max() + 1))
    first = sample_room(np.random.default_rng(5), RoomDistribution(min_points=20_000, max_points=20_000))
    assert first.meta["generator"] != "synthetic_b"
