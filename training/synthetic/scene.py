"""What every room generator returns: `SyntheticScene` (ScanNetV2 20-class labels) and its .npz file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

CLASS_NAMES: tuple[str, ...] = (
    "wall",
    "floor",
    "cabinet",
    "bed",
    "chair",
    "sofa",
    "table",
    "door",
    "window",
    "bookshelf",
    "picture",
    "counter",
    "desk",
    "curtain",
    "refrigerator",
    "shower curtain",
    "toilet",
    "sink",
    "bathtub",
    "otherfurniture",
)
CLASS_ID = MappingProxyType({name: i for i, name in enumerate(CLASS_NAMES)})
IGNORE_INSTANCE = -100


@dataclass(frozen=True, eq=False)
class SyntheticScene:
    """One synthetic room.

    points          (N, 6) float32: xyz in metres (z up, room in [0, L] x [0, W] x [0, H]), rgb 0..255
    superpoints     (N,) int64: 0..S-1, contiguous; never spans two instances or two semantic classes
    semantic_labels (N,) int64: 0..19 in `class_names` (ScanNetV2 20-class) order
    instance_labels (N,) int64: 0..K-1 for objects (semantic 2..19), -100 for wall/floor(/ceiling)
    meta            json-able dict: room size, objects (instance, class, pose, size, n_points), seed, version
    """

    points: np.ndarray
    superpoints: np.ndarray
    semantic_labels: np.ndarray
    instance_labels: np.ndarray
    meta: dict[str, Any]
    class_names: tuple[str, ...] = CLASS_NAMES

    @property
    def n_instances(self) -> int:
        return int(self.instance_labels.max(initial=-1)) + 1

    @property
    def n_superpoints(self) -> int:
        return int(self.superpoints.max(initial=-1)) + 1


def save_scene(scene: SyntheticScene, path: str | Path) -> None:
    """Write `scene` to an .npz: the four arrays, `class_names` and `meta` (json string)."""
    np.savez_compressed(
        path,
        points=scene.points,
        superpoints=scene.superpoints,
        semantic_labels=scene.semantic_labels,
        instance_labels=scene.instance_labels,
        class_names=np.array(scene.class_names),
        meta=np.array(json.dumps(scene.meta)),
    )


def load_scene(path: str | Path) -> SyntheticScene:
    """Read a scene written by `save_scene`."""
    with np.load(path) as data:
        return SyntheticScene(
            points=data["points"],
            superpoints=data["superpoints"],
            semantic_labels=data["semantic_labels"],
            instance_labels=data["instance_labels"],
            meta=json.loads(str(data["meta"])),
            class_names=tuple(str(c) for c in data["class_names"]),
        )


def scene_with_computed_superpoints(
    points: np.ndarray, semantic_labels: np.ndarray, instance_labels: np.ndarray, meta: dict[str, Any]
) -> SyntheticScene:
    """A room of a generator without superpoints of its own, with superpoints computed from its points
    (`runtime.superpoints`, as `--superpoints auto` does for a user's scan, which has none either)."""
    from isbnet_trt.runtime.superpoints import compute_superpoints

    return SyntheticScene(points, compute_superpoints(points), semantic_labels, instance_labels, meta)
