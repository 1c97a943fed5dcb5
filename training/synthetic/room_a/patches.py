"""Patches: the surface primitives (rectangles, frustum sides, annuli) every room is made of, gathered
into flat arrays for sampling."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

# Patch kinds and their 9 float parameters (all in metres / radians):
#   RECT     origin(3), edge u(3), edge v(3)             -- parallelogram o + s*u + t*v
#   FRUSTUM  cx, cy, z0, height, r0, r1, theta0, dtheta  -- lateral surface, vertical axis
#   ANNULUS  cx, cy, z, r_in, r_out, theta0, dtheta      -- horizontal ring/disc sector
RECT, FRUSTUM, ANNULUS = 0, 1, 2
TWO_PI = 2.0 * math.pi


@dataclass
class Patches:
    """Growing list of surface patches (one row each) with their labels and superpoint grouping.

    group: -1 = the patch gets its own superpoint grid; otherwise all patches with that group id form
    one superpoint (used for small parts such as legs and handles).
    """

    kind: list[int] = field(default_factory=list)
    params: list[np.ndarray] = field(default_factory=list)
    colour: list[np.ndarray] = field(default_factory=list)
    instance: list[int] = field(default_factory=list)
    semantic: list[int] = field(default_factory=list)
    group: list[int] = field(default_factory=list)
    cell: list[float] = field(default_factory=list)
    holes: dict[int, list[np.ndarray]] = field(default_factory=dict)
    n_groups: int = 0

    def add(
        self,
        kind: int,
        params: np.ndarray,
        colour: np.ndarray,
        instance: int,
        semantic: int,
        group: int,
        cell: float,
    ) -> int:
        self.kind.append(kind)
        self.params.append(params)
        self.colour.append(colour)
        self.instance.append(instance)
        self.semantic.append(semantic)
        self.group.append(group)
        self.cell.append(cell)
        return len(self.kind) - 1

    def add_hole(
        self, patch: int, centre: Sequence[float], axis: Sequence[float], half: Sequence[float]
    ) -> None:
        """Cut an oriented rectangle (in the patch's metric (u, v) coordinates) out of a RECT patch."""
        self.holes.setdefault(patch, []).append(np.array([*centre, *axis, *half], dtype=np.float64))

    def finish(self) -> PatchArrays:
        params = np.array(self.params, dtype=np.float64).reshape(-1, 9)
        kind = np.array(self.kind, dtype=np.int64)
        lu, lv, area = _patch_metrics(kind, params)
        eff = area.copy()
        for p, hs in self.holes.items():  # holes lie inside their patch and do not overlap
            eff[p] = max(area[p] - sum(4.0 * h[4] * h[5] for h in hs), 0.0)
        return PatchArrays(
            kind=kind,
            params=params,
            colour=np.array(self.colour, dtype=np.float64).reshape(-1, 3),
            instance=np.array(self.instance, dtype=np.int64),
            semantic=np.array(self.semantic, dtype=np.int64),
            group=np.array(self.group, dtype=np.int64),
            cell=np.array(self.cell, dtype=np.float64),
            lu=lu,
            lv=lv,
            area=eff,
            holes={p: np.stack(hs) for p, hs in sorted(self.holes.items())},
        )


@dataclass(frozen=True)
class PatchArrays:
    """`Patches` as arrays, P rows: kind (P,), params (P, 9), colour (P, 3), instance/semantic/group (P,),
    cell (P,) superpoint size, lu/lv (P,) metric extents of the (u, v) parametrisation, area (P,) visible
    area, holes {patch: (H, 6) [cu, cv, axis_u, axis_v, half_along_axis, half_across]}."""

    kind: np.ndarray
    params: np.ndarray
    colour: np.ndarray
    instance: np.ndarray
    semantic: np.ndarray
    group: np.ndarray
    cell: np.ndarray
    lu: np.ndarray
    lv: np.ndarray
    area: np.ndarray
    holes: dict[int, np.ndarray]


def _patch_metrics(kind: np.ndarray, params: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Metric extents (lu, lv) of each patch's (u, v) parametrisation and its area; each (P,) float64."""
    lu = np.zeros(len(kind))
    lv = np.zeros(len(kind))
    area = np.zeros(len(kind))
    r = kind == RECT
    u, v = params[r, 3:6], params[r, 6:9]
    lu[r] = np.linalg.norm(u, axis=1)
    lv[r] = np.linalg.norm(v, axis=1)
    area[r] = np.linalg.norm(np.cross(u, v), axis=1)
    f = kind == FRUSTUM
    h, r0, r1, dth = params[f, 3], params[f, 4], params[f, 5], params[f, 7]
    lu[f] = 0.5 * (r0 + r1) * dth
    lv[f] = np.hypot(h, r1 - r0)
    area[f] = lu[f] * lv[f]
    a = kind == ANNULUS
    ri, ro, dth = params[a, 3], params[a, 4], params[a, 6]
    lu[a] = 0.5 * (ri + ro) * dth
    lv[a] = ro - ri
    area[a] = 0.5 * dth * (ro**2 - ri**2)
    return lu, lv, area
