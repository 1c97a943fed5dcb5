"""`LevelMaps`: the voxels and kernel maps of one U-Net level, whichever builder made them.

One type for numpy arrays (`reference`, `numba_maps`) and torch tensors on a device
(`torch_maps`), so the model, the backends and the cost model take either without a union.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # annotations only: the NumPy builders must not pay for importing torch
    from torch import Tensor

__all__ = ["LevelMaps"]


@dataclass(frozen=True)
class LevelMaps:
    """Voxels and kernel maps of one U-Net level (one `UBlock` of the official model).

    Every table is a numpy array or (from `torch_maps`) a tensor on the coordinates' device;
    `spatial_shape` is numpy either way.

    coords: (M, 3) int32 voxel coordinates at this level (level 0: the input voxels, same order).
    spatial_shape: (3,) int64 spconv spatial shape at this level.
    subm: (M, 27) int32 kernel map of this level's submanifold convs (`indice_key="subm{l+1}"`).
    down: (M_next, 8) int32 kernel map of the stride-2 conv from this level to the next, rows are
        the next level's voxels; None at the last level.
    up: (M, 8) int32 kernel map of the inverse conv from the next level back to this one (same
        `indice_key="spconv{l+1}"` as `down`); None at the last level.
    """

    coords: np.ndarray | Tensor
    spatial_shape: np.ndarray
    subm: np.ndarray | Tensor
    down: np.ndarray | Tensor | None
    up: np.ndarray | Tensor | None

    @property
    def num_voxels(self) -> int:
        return len(self.coords)
