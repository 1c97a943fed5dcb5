"""Runtime test fixtures: a small labelled room and a torch pipeline on the golden checkpoint."""

from __future__ import annotations

import numpy as np
import pytest

from isbnet_trt.training.synthetic import generate_room


@pytest.fixture(scope="session")
def room():
    return generate_room(20_000, seed=5)


@pytest.fixture(scope="session")
def torch_pipeline(golden_ckpt):
    from isbnet_trt.runtime.pipeline import Pipeline

    return Pipeline.from_checkpoint(*golden_ckpt, backend="torch")


@pytest.fixture()
def scene_files(tmp_path, room):
    """The room as .npy (points only) and .npz (points, superpoints, labels)."""
    npy = tmp_path / "room.npy"
    np.save(npy, room.points)
    npz = tmp_path / "labelled.npz"
    np.savez(
        npz,
        points=room.points,
        superpoints=room.superpoints,
        semantic_labels=room.semantic_labels,
        instance_labels=room.instance_labels,
    )
    return npy, npz
