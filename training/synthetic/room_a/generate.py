"""Synthetic ScanNet-like indoor rooms: surface-sampled furniture with instance labels and superpoints.

Nothing may be downloaded at run time, so tests, benchmarks and the demo-weight training use these rooms
instead of ScanNetV2. A room is a rectangular box (floor + 4 walls, optional ceiling) furnished with
objects of the 18 ScanNetV2 instance classes, each built from a few primitives (boxes, open trays,
frustums, discs, pleated sheets) whose *visible* surfaces are sampled with one area-proportional density,
like a scanner's mesh vertices: faces resting on the floor or against a wall are left out, and the floor
under solid furniture and the wall behind wall-backed objects have holes.

Superpoints mimic ScanNet's mesh segments: every planar/curved part is split into patches by a jittered
Voronoi grid on the part's own surface (small parts are one patch), so a superpoint never crosses a part,
an instance or a semantic class.

Everything is drawn from one ``numpy.random.Generator(PCG64(seed))`` in a fixed order, so a seed gives
bit-identical arrays in every run and process.

Command line:
``python -m isbnet_trt.training.synthetic --seed 0 --points 150000 --out room.npz --png room.png``.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

GENERATOR_VERSION = "isbnet-trt-synthetic-room/1"

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

# Patch kinds and their 9 float parameters (all in metres / radians):
#   RECT     origin(3), edge u(3), edge v(3)             -- parallelogram o + s*u + t*v
#   FRUSTUM  cx, cy, z0, height, r0, r1, theta0, dtheta  -- lateral surface, vertical axis
#   ANNULUS  cx, cy, z, r_in, r_out, theta0, dtheta      -- horizontal ring/disc sector
RECT, FRUSTUM, ANNULUS = 0, 1, 2
_LIGHT = (0.35, 0.25, 0.9)  # direction of the light baked into the colours (normalised where used)
_TWO_PI = 2.0 * math.pi
_REFERENCE_SURFACE = 2 * 6.0 * 5.0 + 2 * (6.0 + 5.0) * 2.8  # floor, walls and ~ floor-sized furniture, m^2


# --------------------------------------------------------------------------------------------------
# public API


@dataclass(frozen=True)
class RoomOptions:
    """Knobs of `generate_room` (pass them as keyword arguments)."""

    room_size: tuple[float, float, float] | None = None  # (x length, y width, height) m; None = random
    ceiling: bool = False  # ScanNet scans see little ceiling; labelled "wall" (the 20 classes have none)
    noise: float = 0.005  # std of the isotropic position noise, m
    colour_noise: float = 4.0  # std of the per-point rgb noise, 0..255 units
    # superpoint patch sizes (m) on objects and on walls/floor/ceiling, for the reference 6 x 5 x 2.8 m room;
    # scaled by sqrt(room surface / reference) so that S stays about 1000 whatever the room size
    superpoint_size: float = 0.35
    structure_superpoint_size: float = 0.6
    object_density: float = 1.0  # multiplies the expected number of objects of every class
    clearance: float = 0.08  # minimum horizontal gap between objects, m
    shuffle: bool = True  # shuffle point order (scan order carries no meaning)


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


def generate_room(n_points: int = 150_000, seed: int = 0, **options: Any) -> SyntheticScene:
    """Generate a furnished room with exactly `n_points` surface points; see the module docstring.

    `options` are the fields of `RoomOptions` (unknown names raise TypeError). Deterministic in
    (`n_points`, `seed`, options); the room and its furniture depend on `seed` and options only, so one
    seed gives the same room at every point count. `meta` holds "generator", "seed", "n_points",
    "room" [L, W, H] m, "n_objects", "n_superpoints", "options" and "objects": one dict per instance id
    (objects that received no point are left out) with "instance", "class", "class_id", "centre" [x, y, z],
    "size" [w, d, h] m, "yaw" rad, "wall" (index 0..3 of the wall it stands against, -1 free) and
    "n_points".
    """
    if n_points < 0:
        raise ValueError(f"n_points must be >= 0, got {n_points}")
    opts = RoomOptions(**options)
    rng = np.random.Generator(np.random.PCG64(seed))
    layout = _furnish_room(rng, opts)
    patches = layout.patches.finish()
    sample = _sample_points(rng, patches, n_points, opts)
    return _assemble(rng, layout, patches, sample, n_points, seed, opts)


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


# --------------------------------------------------------------------------------------------------
# patches: the surface primitives of a room


@dataclass
class _Patches:
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

    def finish(self) -> _PatchArrays:
        params = np.array(self.params, dtype=np.float64).reshape(-1, 9)
        kind = np.array(self.kind, dtype=np.int64)
        lu, lv, area = _patch_metrics(kind, params)
        eff = area.copy()
        for p, hs in self.holes.items():  # holes lie inside their patch and do not overlap
            eff[p] = max(area[p] - sum(4.0 * h[4] * h[5] for h in hs), 0.0)
        return _PatchArrays(
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
class _PatchArrays:
    """`_Patches` as arrays, P rows: kind (P,), params (P, 9), colour (P, 3), instance/semantic/group (P,),
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


# --------------------------------------------------------------------------------------------------
# object shapes in their local frame: x across, y depth (+y = back, towards the wall), z up from the floor


class _Shape:
    """Surface patches of one object in its local frame, plus how it is placed.

    width/depth/height: local bounding box x in [-w/2, w/2], y in [-d/2, d/2], z in [z0, height].
    mount: "free" (anywhere, random yaw) or "wall" (back against a wall).
    solid: the floor under the footprint is hidden; occludes_wall: the wall behind it is hidden.
    reserve_front: extra depth kept free in front of it (door swing).
    """

    def __init__(
        self, cell: float, width: float, depth: float, height: float, mount: str, z0: float = 0.0
    ) -> None:
        self.cell = cell
        self.width, self.depth, self.height, self.z0 = width, depth, height, z0
        self.mount = mount
        self.solid = False
        self.occludes_wall = False
        self.reserve_front = 0.0
        self.wall_gap = 0.03
        self.kind: list[int] = []
        self.params: list[list[float]] = []
        self.colour: list[np.ndarray] = []
        self.group: list[int] = []
        self.n_groups = 0

    def _add(self, kind: int, params: list[float], colour: np.ndarray, group: int) -> None:
        self.kind.append(kind)
        self.params.append([*params, *([0.0] * (9 - len(params)))])
        self.colour.append(np.asarray(colour, dtype=np.float64))
        self.group.append(group)

    def new_group(self) -> int:
        self.n_groups += 1
        return self.n_groups - 1

    def rect(
        self, o: Sequence[float], u: Sequence[float], v: Sequence[float], colour: np.ndarray, group: int = -1
    ) -> None:
        """Parallelogram o + s*u + t*v, s, t in [0, 1]."""
        self._add(RECT, [*o, *u, *v], colour, group)

    def box(
        self,
        lo: Sequence[float],
        hi: Sequence[float],
        colour: np.ndarray,
        skip: str = "",
        group: bool | None = None,
    ) -> None:
        """Axis-aligned box faces; `skip` lists hidden faces among "-x +x -y +y -z +z" (e.g. "-z +y").

        group=None makes the whole box one superpoint when its visible area is below superpoint_size^2.
        """
        x0, y0, z0 = lo
        x1, y1, z1 = hi
        dx, dy, dz = x1 - x0, y1 - y0, z1 - z0
        faces = {
            "-x": ((x0, y0, z0), (0, dy, 0), (0, 0, dz)),
            "+x": ((x1, y0, z0), (0, dy, 0), (0, 0, dz)),
            "-y": ((x0, y0, z0), (dx, 0, 0), (0, 0, dz)),
            "+y": ((x0, y1, z0), (dx, 0, 0), (0, 0, dz)),
            "-z": ((x0, y0, z0), (dx, 0, 0), (0, dy, 0)),
            "+z": ((x0, y0, z1), (dx, 0, 0), (0, dy, 0)),
        }
        hidden = set(skip.split())
        keep = [name for name in faces if name not in hidden]
        areas = {"-x": dy * dz, "+x": dy * dz, "-y": dx * dz, "+y": dx * dz, "-z": dx * dy, "+z": dx * dy}
        if group is None:
            group = sum(areas[k] for k in keep) < self.cell**2
        g = self.new_group() if group else -1
        for name in keep:
            self.rect(*faces[name], colour, group=g)

    def frustum(
        self,
        cx: float,
        cy: float,
        z0: float,
        h: float,
        r0: float,
        r1: float,
        colour: np.ndarray,
        group: bool | None = None,
    ) -> None:
        """Lateral surface of a vertical frustum (radius r0 at z0, r1 at z0 + h)."""
        if group is None:
            group = math.pi * (r0 + r1) * h < self.cell**2
        self._add(FRUSTUM, [cx, cy, z0, h, r0, r1, 0.0, _TWO_PI], colour, self.new_group() if group else -1)

    def disc(
        self, cx: float, cy: float, z: float, r_out: float, colour: np.ndarray, r_in: float = 0.0
    ) -> None:
        """Horizontal disc (or ring r_in..r_out) at height z."""
        group = math.pi * (r_out**2 - r_in**2) < self.cell**2
        self._add(ANNULUS, [cx, cy, z, r_in, r_out, 0.0, _TWO_PI], colour, self.new_group() if group else -1)

    def tray(
        self,
        lo: Sequence[float],
        hi: Sequence[float],
        rim: float,
        inner_depth: float,
        colour: np.ndarray,
        skip: str = "",
        inner_colour: np.ndarray | None = None,
    ) -> None:
        """Open-top box (bathtub, sink basin): outer walls, rim strips, inner walls and inner bottom."""
        x0, y0, z0 = lo
        x1, y1, z1 = hi
        inner = colour if inner_colour is None else inner_colour
        self.box(lo, hi, colour, skip=f"+z {skip}", group=False)
        a0, b0, a1, b1 = x0 + rim, y0 + rim, x1 - rim, y1 - rim
        zb = z1 - inner_depth
        for o, u, v in (  # rim strips around the opening
            ((x0, y0, z1), (x1 - x0, 0, 0), (0, rim, 0)),
            ((x0, b1, z1), (x1 - x0, 0, 0), (0, rim, 0)),
            ((x0, b0, z1), (rim, 0, 0), (0, b1 - b0, 0)),
            ((a1, b0, z1), (rim, 0, 0), (0, b1 - b0, 0)),
        ):
            self.rect(o, u, v, colour)
        for o, u in (  # inner walls, from the rim down to the inner bottom
            ((a0, b0, zb), (a1 - a0, 0, 0)),
            ((a0, b1, zb), (a1 - a0, 0, 0)),
            ((a0, b0, zb), (0, b1 - b0, 0)),
            ((a1, b0, zb), (0, b1 - b0, 0)),
        ):
            self.rect(o, u, (0, 0, inner_depth), inner)
        self.rect((a0, b0, zb), (a1 - a0, 0, 0), (0, b1 - b0, 0), inner)

    def pleats(
        self,
        x0: float,
        x1: float,
        y: float,
        fold: float,
        period: float,
        z0: float,
        z1: float,
        colour: np.ndarray,
    ) -> None:
        """Zig-zag sheet (curtain folds) from x0 to x1 around depth y, vertical from z0 to z1."""
        n = max(2, 2 * round((x1 - x0) / period))
        xs = np.linspace(x0, x1, n + 1)
        ys = y + np.where(np.arange(n + 1) % 2 == 0, -0.5 * fold, 0.5 * fold)
        for i in range(n):
            self.rect(
                (xs[i], ys[i], z0), (xs[i + 1] - xs[i], ys[i + 1] - ys[i], 0.0), (0, 0, z1 - z0), colour
            )


# --------------------------------------------------------------------------------------------------
# colours


def _colour(rng: np.random.Generator, palette: Sequence[Sequence[float]], spread: float = 12.0) -> np.ndarray:
    """One of `palette` (rgb 0..255) with a random offset: per-object colour variation."""
    base = np.asarray(palette[int(rng.integers(len(palette)))], dtype=np.float64)
    return np.clip(base + rng.normal(0.0, spread, 3), 0.0, 255.0)


def _shade(colour: np.ndarray, factor: float) -> np.ndarray:
    """Darker/brighter variant of a colour: per-part variation."""
    return np.clip(colour * factor, 0.0, 255.0)


_WOOD = ((150, 105, 65), (175, 130, 85), (110, 75, 45), (195, 160, 115), (90, 60, 40))
_WHITE = ((232, 232, 228), (220, 222, 225), (240, 236, 228))
_FABRIC = ((95, 95, 100), (60, 75, 120), (125, 60, 55), (80, 110, 80), (150, 140, 120), (45, 45, 50))
_METAL = ((160, 160, 165), (70, 70, 75), (120, 120, 125))
_BRIGHT = ((200, 60, 50), (50, 110, 190), (230, 190, 60), (70, 160, 90), (150, 80, 160), (230, 120, 40))
_PASTEL = ((235, 235, 240), (200, 220, 235), (235, 210, 215), (215, 235, 215))


# --------------------------------------------------------------------------------------------------
# class builders: (rng, cell) -> _Shape in the local frame


def _chair(rng: np.random.Generator, cell: float) -> _Shape:
    """Seat + back + 4 legs, free standing."""
    w, d = rng.uniform(0.42, 0.52), rng.uniform(0.42, 0.52)
    sh, st, bh, bt, leg = rng.uniform(0.42, 0.48), 0.05, rng.uniform(0.35, 0.5), 0.04, rng.uniform(0.03, 0.04)
    s = _Shape(cell, w, d, sh + bh, "free")
    fabric = _colour(rng, _FABRIC + _WOOD)
    legs = _colour(rng, _METAL + _WOOD, 8)
    for x in (-w / 2 + 0.02, w / 2 - 0.02 - leg):
        for y in (-d / 2 + 0.02, d / 2 - 0.02 - leg):
            s.box((x, y, 0), (x + leg, y + leg, sh - st), legs, skip="-z +z")
    s.box((-w / 2, -d / 2, sh - st), (w / 2, d / 2, sh), fabric)
    s.box((-w / 2, d / 2 - bt, sh), (w / 2, d / 2, sh + bh), _shade(fabric, 0.92), skip="-z")
    return s


def _table(rng: np.random.Generator, cell: float) -> _Shape:
    """Rectangular top on 4 legs (or, 20 %, a round top on a pedestal), free standing."""
    h, t = rng.uniform(0.7, 0.78), 0.04
    wood = _colour(rng, _WOOD + _WHITE[:1])
    if rng.random() < 0.2:
        r = rng.uniform(0.4, 0.6)
        s = _Shape(cell, 2 * r, 2 * r, h, "free")
        s.frustum(0, 0, h - t, t, r, r, wood)
        s.disc(0, 0, h, r, _shade(wood, 1.05))
        s.disc(0, 0, h - t, r, _shade(wood, 0.9), r_in=0.06)
        s.frustum(0, 0, 0.03, h - t - 0.03, 0.06, 0.05, _shade(wood, 0.8))
        s.frustum(0, 0, 0, 0.03, 0.28, 0.26, _shade(wood, 0.8))
        s.disc(0, 0, 0.03, 0.26, _shade(wood, 0.8), r_in=0.06)
        return s
    w, d = rng.uniform(0.9, 1.8), rng.uniform(0.6, 1.0)
    leg = rng.uniform(0.05, 0.07)
    s = _Shape(cell, w, d, h, "free")
    legs = _shade(wood, rng.uniform(0.8, 1.0))
    for x in (-w / 2 + 0.05, w / 2 - 0.05 - leg):
        for y in (-d / 2 + 0.05, d / 2 - 0.05 - leg):
            s.box((x, y, 0), (x + leg, y + leg, h - t), legs, skip="-z +z")
    s.box((-w / 2, -d / 2, h - t), (w / 2, d / 2, h), wood)
    return s


def _desk(rng: np.random.Generator, cell: float) -> _Shape:
    """Top on a drawer pedestal and a side panel, modesty panel at the back; against a wall."""
    w, d, h, t = rng.uniform(1.0, 1.6), rng.uniform(0.55, 0.75), rng.uniform(0.72, 0.76), 0.03
    s = _Shape(cell, w, d, h, "wall")
    body = _colour(rng, _WOOD + _WHITE + ((90, 90, 95),))
    fronts = _shade(body, rng.choice([0.8, 1.1]))
    sign = 1.0 if rng.random() < 0.5 else -1.0  # pedestal on the right or left
    px0, px1 = sorted((sign * (w / 2 - 0.01), sign * (w / 2 - 0.42)))
    s.box((px0, -d / 2 + 0.03, 0), (px1, d / 2, h - t), body, skip="-z +z +y -y")
    for k in range(3):  # drawer fronts with gaps
        z0 = 0.02 + k * (h - t - 0.02) / 3
        s.rect((px0, -d / 2 + 0.03, z0), (px1 - px0, 0, 0), (0, 0, (h - t - 0.02) / 3 - 0.015), fronts)
    qx0, qx1 = sorted((-sign * (w / 2 - 0.03), -sign * w / 2))
    s.box((qx0, -d / 2 + 0.03, 0), (qx1, d / 2, h - t), body, skip="-z +z +y")
    mx0, mx1 = sorted((sign * (w / 2 - 0.42), -sign * (w / 2 - 0.03)))
    s.box((mx0, d / 2 - 0.03, 0.35), (mx1, d / 2 - 0.01, h - t), _shade(body, 0.9), skip="+z +y")
    s.box((-w / 2, -d / 2, h - t), (w / 2, d / 2, h), body, skip="+y")
    s.occludes_wall = True
    return s


def _bed(rng: np.random.Generator, cell: float) -> _Shape:
    """Frame, mattress (sheet at the head, blanket at the foot), pillows, headboard against a wall."""
    w, length = rng.uniform(0.95, 1.9), rng.uniform(1.95, 2.15)
    fh, mh, hh = rng.uniform(0.25, 0.35), rng.uniform(0.18, 0.25), rng.uniform(0.9, 1.2)
    s = _Shape(cell, w + 0.04, length, hh, "wall")
    frame = _colour(rng, _WOOD + _FABRIC[-2:])
    sheet = _colour(rng, _WHITE + _PASTEL, 6)
    blanket = _colour(rng, _FABRIC + _BRIGHT + _PASTEL)
    y0, y1 = -length / 2, length / 2 - 0.06
    s.box((-w / 2, y0, 0), (w / 2, y1, fh), frame, skip="-z +y")
    split = y0 + rng.uniform(0.55, 0.75) * (y1 - y0)
    top = fh + mh
    s.box((-w / 2 + 0.02, y0 + 0.02, fh), (w / 2 - 0.02, split, top), blanket, skip="-z +y")
    s.box((-w / 2 + 0.02, split, fh), (w / 2 - 0.02, y1, top), sheet, skip="-z -y +y")
    n_pillows = 1 if w < 1.3 else 2
    pw = (w - 0.12) / n_pillows - 0.04
    for k in range(n_pillows):
        x = -w / 2 + 0.06 + k * (pw + 0.04)
        s.box((x, y1 - 0.42, top), (x + pw, y1 - 0.05, top + 0.12), _shade(sheet, 1.02), skip="-z")
    s.box((-w / 2 - 0.02, y1, 0), (w / 2 + 0.02, length / 2, hh), _shade(frame, 0.9), skip="-z +y")
    s.solid = s.occludes_wall = True
    return s


def _sofa(rng: np.random.Generator, cell: float) -> _Shape:
    """Base, seat cushions, back and two arms; usually against a wall."""
    w, d = rng.uniform(1.5, 2.4), rng.uniform(0.8, 0.95)
    sh, bh, ah = rng.uniform(0.42, 0.46), rng.uniform(0.75, 0.9), rng.uniform(0.58, 0.66)
    aw, bt, ct = rng.uniform(0.15, 0.22), rng.uniform(0.18, 0.22), 0.12
    s = _Shape(cell, w, d, bh, "wall" if rng.random() < 0.8 else "free")
    fabric = _colour(rng, _FABRIC)
    back_skip = "-z +y" if s.mount == "wall" else "-z"
    s.box((-w / 2, -d / 2, 0), (-w / 2 + aw, d / 2, ah), fabric, skip="-z")
    s.box((w / 2 - aw, -d / 2, 0), (w / 2, d / 2, ah), fabric, skip="-z")
    s.box((-w / 2 + aw, d / 2 - bt, 0), (w / 2 - aw, d / 2, bh), _shade(fabric, 0.95), skip=back_skip)
    s.box(
        (-w / 2 + aw, -d / 2, 0),
        (w / 2 - aw, d / 2 - bt, sh - ct),
        _shade(fabric, 0.85),
        skip="-z +z -x +x +y",
    )
    n = 2 if w < 1.9 else 3
    cw = (w - 2 * aw) / n
    for k in range(n):
        x = -w / 2 + aw + k * cw
        s.box(
            (x + 0.005, -d / 2 + 0.02, sh - ct),
            (x + cw - 0.005, d / 2 - bt, sh),
            _shade(fabric, 1.08),
            skip="-z +y",
        )
    s.solid = True
    return s


def _cabinet(rng: np.random.Generator, cell: float) -> _Shape:
    """Box body with door or drawer fronts and handles, against a wall."""
    w, d, h = rng.uniform(0.5, 1.2), rng.uniform(0.4, 0.6), rng.uniform(0.7, 1.1)
    s = _Shape(cell, w, d, h, "wall")
    body = _colour(rng, _WOOD + _WHITE + ((130, 130, 135),))
    front = _shade(body, rng.uniform(0.85, 1.1))
    handle = _colour(rng, _METAL, 6)
    s.box((-w / 2, -d / 2, 0), (w / 2, d / 2, h), body, skip="-z +y -y")
    y = -d / 2
    if rng.random() < 0.3:  # drawers
        n = 3 if h < 0.9 else 4
        for k in range(n):
            z0 = 0.02 + k * (h - 0.04) / n
            s.rect((-w / 2 + 0.01, y, z0), (w - 0.02, 0, 0), (0, 0, (h - 0.04) / n - 0.015), front)
            s.box((-0.08, y - 0.025, z0 + 0.1), (0.08, y, z0 + 0.12), handle)
    else:  # doors
        n = 1 if w < 0.7 else 2
        dw = (w - 0.02) / n
        for k in range(n):
            x0 = -w / 2 + 0.01 + k * dw
            s.rect((x0, y, 0.02), (dw - 0.01, 0, 0), (0, 0, h - 0.04), front)
            hx = x0 + (dw - 0.07 if k == 0 else 0.05)
            s.box((hx, y - 0.025, h - 0.25), (hx + 0.02, y, h - 0.1), handle)
    s.solid = s.occludes_wall = True
    return s


def _bookshelf(rng: np.random.Generator, cell: float) -> _Shape:
    """Open shelving: sides, top, plinth, back panel, 3-5 shelves holding blocks of books."""
    w, d, h = rng.uniform(0.7, 1.2), rng.uniform(0.28, 0.4), rng.uniform(1.4, 2.1)
    t = 0.02
    s = _Shape(cell, w, d, h, "wall")
    wood = _colour(rng, _WOOD + _WHITE[:1])
    s.box((-w / 2, -d / 2, 0), (-w / 2 + t, d / 2, h), wood, skip="-z +y")
    s.box((w / 2 - t, -d / 2, 0), (w / 2, d / 2, h), wood, skip="-z +y")
    s.box((-w / 2 + t, -d / 2, h - t), (w / 2 - t, d / 2, h), wood, skip="-x +x +y")
    s.box((-w / 2 + t, -d / 2 + 0.02, 0), (w / 2 - t, d / 2, 0.08), _shade(wood, 0.85), skip="-z -x +x +y")
    s.rect((-w / 2 + t, d / 2 - 0.01, 0.08), (w - 2 * t, 0, 0), (0, 0, h - t - 0.08), _shade(wood, 0.8))
    n_levels = int(np.clip(round((h - 0.1) / 0.36), 4, 6))
    levels = np.linspace(0.08, h - t, n_levels + 1)
    for k, z in enumerate(levels[:-1]):
        if k > 0:
            s.box((-w / 2 + t, -d / 2 + 0.01, z - t), (w / 2 - t, d / 2 - 0.01, z), wood, skip="-x +x +y")
        gap = levels[k + 1] - t - z if k + 1 < n_levels else levels[k + 1] - z
        x = -w / 2 + t + rng.uniform(0.0, 0.08)
        while x < w / 2 - t - 0.12:
            bw = min(rng.uniform(0.1, 0.35), w / 2 - t - x)
            if rng.random() < 0.8:  # a block of books
                bh, bd = rng.uniform(0.55, 0.85) * gap, rng.uniform(0.6, 0.9) * (d - 0.03)
                books = _colour(rng, _BRIGHT + _FABRIC + _PASTEL, 18)
                s.box(
                    (x, d / 2 - 0.01 - bd, z), (x + bw, d / 2 - 0.01, z + bh), books, skip="-z +y", group=True
                )
            x += bw + rng.uniform(0.01, 0.08)
    s.solid = s.occludes_wall = True
    return s


def _door(rng: np.random.Generator, cell: float) -> _Shape:
    """Door leaf in its casing, flush with a wall, handle at 1 m; keeps its swing area free."""
    w, h, t = rng.uniform(0.8, 0.95), rng.uniform(2.0, 2.1), 0.04
    cw, d = 0.07, 0.08
    s = _Shape(cell, w + 2 * cw, d, h + cw, "wall")
    s.wall_gap = 0.0
    leaf = _colour(rng, _WOOD + _WHITE)
    casing = _shade(leaf, rng.uniform(0.85, 1.1)) if rng.random() < 0.5 else _colour(rng, _WHITE, 4)
    y1 = d / 2
    s.box((-w / 2, y1 - t - 0.005, 0), (w / 2, y1 - 0.005, h), leaf, skip="-z +y")
    s.box((-w / 2 - cw, y1 - 0.02, 0), (-w / 2, y1, h + cw), casing, skip="-z +y")
    s.box((w / 2, y1 - 0.02, 0), (w / 2 + cw, y1, h + cw), casing, skip="-z +y")
    s.box((-w / 2, y1 - 0.02, h), (w / 2, y1, h + cw), casing, skip="+y")
    hx = (w / 2 - 0.12) * (1.0 if rng.random() < 0.5 else -1.0)
    s.box((hx - 0.06, -d / 2, 0.98), (hx + 0.06, y1 - t - 0.005, 1.02), _colour(rng, _METAL, 6), skip="+y")
    s.occludes_wall = True
    s.reserve_front = w
    return s


def _window(rng: np.random.Generator, cell: float, room_height: float) -> _Shape:
    """Frame, glass pane (bright, slightly recessed), optional mullion and a sill; on a wall."""
    w, h = rng.uniform(0.8, 1.8), rng.uniform(0.9, 1.5)
    z0 = rng.uniform(0.8, 1.0)
    h = min(h, room_height - 0.15 - z0)
    fw, fd, sd = rng.uniform(0.05, 0.07), 0.06, rng.uniform(0.12, 0.16)
    s = _Shape(cell, w + 0.1, sd, z0 + h, "wall", z0=z0 - 0.03)
    s.wall_gap = 0.0
    frame = _colour(rng, _WHITE + _WOOD[:2], 6)
    glass = _colour(rng, ((185, 200, 215), (170, 185, 195), (205, 215, 225)), 6)
    y1 = sd / 2
    s.box((-w / 2, y1 - fd, z0), (-w / 2 + fw, y1, z0 + h), frame, skip="+y")
    s.box((w / 2 - fw, y1 - fd, z0), (w / 2, y1, z0 + h), frame, skip="+y")
    s.box((-w / 2 + fw, y1 - fd, z0 + h - fw), (w / 2 - fw, y1, z0 + h), frame, skip="+y -x +x")
    s.box((-w / 2 + fw, y1 - fd, z0), (w / 2 - fw, y1, z0 + fw), frame, skip="+y -x +x")
    s.rect((-w / 2 + fw, y1 - 0.02, z0 + fw), (w - 2 * fw, 0, 0), (0, 0, h - 2 * fw), glass)
    if w > 1.1:
        s.box((-0.025, y1 - fd, z0 + fw), (0.025, y1 - 0.02, z0 + h - fw), frame, skip="+y -z +z")
    s.box((-w / 2 - 0.05, -sd / 2, z0 - 0.03), (w / 2 + 0.05, y1, z0), frame, skip="+y")
    s.occludes_wall = True
    return s


def _picture(rng: np.random.Generator, cell: float) -> _Shape:
    """Frame around a canvas of 2-4 colour blocks, hung on a wall at eye height."""
    w, h, zc = rng.uniform(0.3, 1.2), rng.uniform(0.3, 0.9), rng.uniform(1.35, 1.7)
    d, fw = rng.uniform(0.025, 0.04), rng.uniform(0.02, 0.05)
    z0 = zc - h / 2
    s = _Shape(cell, w, d, z0 + h, "wall", z0=z0)
    s.wall_gap = 0.005
    frame = _colour(rng, ((40, 35, 30), (190, 160, 90), (235, 235, 235), (120, 80, 50)), 8)
    s.box((-w / 2, -d / 2, z0), (-w / 2 + fw, d / 2, z0 + h), frame, skip="+y")
    s.box((w / 2 - fw, -d / 2, z0), (w / 2, d / 2, z0 + h), frame, skip="+y")
    s.box((-w / 2 + fw, -d / 2, z0), (w / 2 - fw, d / 2, z0 + fw), frame, skip="+y -x +x")
    s.box((-w / 2 + fw, -d / 2, z0 + h - fw), (w / 2 - fw, d / 2, z0 + h), frame, skip="+y -x +x")
    nx, nz = int(rng.integers(1, 3)), 2
    cw, ch = (w - 2 * fw) / nx, (h - 2 * fw) / nz
    for i in range(nx):
        for j in range(nz):
            o = (-w / 2 + fw + i * cw, -d / 2 + 0.01, z0 + fw + j * ch)
            s.rect(o, (cw, 0, 0), (0, 0, ch), _colour(rng, _BRIGHT + _PASTEL, 25))
    s.occludes_wall = True
    return s


def _counter(rng: np.random.Generator, cell: float) -> _Shape:
    """Kitchen counter: toe kick, cabinet fronts with handles, overhanging worktop; against a wall."""
    w, d, h, t = rng.uniform(1.2, 2.6), rng.uniform(0.55, 0.65), rng.uniform(0.88, 0.94), 0.04
    s = _Shape(cell, w, d, h, "wall")
    body = _colour(rng, _WOOD + _WHITE)
    top = _colour(rng, ((60, 60, 62), (215, 215, 210), (150, 140, 130), (30, 30, 35)), 8)
    handle = _colour(rng, _METAL, 6)
    s.box((-w / 2, -d / 2 + 0.1, 0), (w / 2, d / 2, 0.1), _shade(body, 0.6), skip="-z +y -x +x +z")
    s.box((-w / 2, -d / 2 + 0.03, 0.1), (w / 2, d / 2, h - t), body, skip="+y -y +z")
    n = max(2, round(w / 0.5))
    dw = w / n
    for k in range(n):
        x0 = -w / 2 + k * dw
        s.rect((x0 + 0.005, -d / 2 + 0.03, 0.11), (dw - 0.01, 0, 0), (0, 0, h - t - 0.12), _shade(body, 1.05))
        s.box(
            (x0 + dw / 2 - 0.06, -d / 2 + 0.005, h - t - 0.1),
            (x0 + dw / 2 + 0.06, -d / 2 + 0.03, h - t - 0.08),
            handle,
        )
    s.box((-w / 2, -d / 2, h - t), (w / 2, d / 2, h), top, skip="+y")
    s.solid = s.occludes_wall = True
    return s


def _curtain(rng: np.random.Generator, cell: float, room_height: float) -> _Shape:
    """Pleated fabric hanging from a rod near the ceiling, floor or sill length; in front of a wall."""
    w = rng.uniform(1.0, 2.2)
    z1 = room_height - rng.uniform(0.1, 0.35)
    z0 = rng.uniform(0.02, 0.1) if rng.random() < 0.7 else rng.uniform(0.8, 1.0)
    fold, period, d = rng.uniform(0.06, 0.1), rng.uniform(0.14, 0.22), 0.16
    s = _Shape(cell, w + 0.1, d, z1 + 0.03, "wall", z0=z0)
    s.wall_gap = 0.02
    fabric = _colour(rng, _FABRIC + _BRIGHT[:3] + ((215, 200, 170),))
    s.pleats(-w / 2, w / 2, 0.0, fold, period, z0, z1, fabric)
    s.box((-w / 2 - 0.05, -0.015, z1), (w / 2 + 0.05, 0.015, z1 + 0.03), _colour(rng, _METAL + _WOOD[:1], 6))
    s.occludes_wall = True
    return s


def _refrigerator(rng: np.random.Generator, cell: float) -> _Shape:
    """Tall box with fridge and freezer doors and vertical handles; against a wall."""
    w, d, h = rng.uniform(0.6, 0.85), rng.uniform(0.6, 0.75), rng.uniform(1.6, 1.95)
    s = _Shape(cell, w, d, h, "wall")
    body = _colour(rng, _WHITE + ((175, 178, 182), (40, 40, 42)), 6)
    handle = _colour(rng, _METAL, 6)
    s.box((-w / 2, -d / 2 + 0.03, 0), (w / 2, d / 2, h), body, skip="-z +y -y")
    split = h * rng.uniform(0.62, 0.72)
    hx = w / 2 - 0.08
    for z0, z1 in ((0.02, split - 0.01), (split + 0.01, h - 0.01)):
        s.box((-w / 2, -d / 2 + 0.005, z0), (w / 2, -d / 2 + 0.03, z1), _shade(body, 1.03), skip="+y")
        hz = z1 - 0.35 if z0 < 0.1 else z0 + 0.05
        s.box((hx, -d / 2 - 0.03, hz), (hx + 0.025, -d / 2 + 0.005, hz + 0.3), handle, skip="+y")
    s.solid = s.occludes_wall = True
    return s


def _shower_curtain(rng: np.random.Generator, cell: float) -> _Shape:
    """Finely pleated light sheet on a rod, hanging above the floor at the front of a shower area."""
    w, d = rng.uniform(0.9, 1.6), rng.uniform(0.7, 0.9)
    z0, z1 = rng.uniform(0.1, 0.3), rng.uniform(1.85, 2.05)
    s = _Shape(cell, w, d, z1 + 0.03, "wall")
    s.wall_gap = 0.01
    sheet = _colour(rng, _PASTEL + _WHITE, 10)
    y = -d / 2 + 0.03
    s.pleats(-w / 2, w / 2 - 0.01, y, rng.uniform(0.03, 0.05), rng.uniform(0.07, 0.1), z0, z1, sheet)
    s.box((-w / 2, y - 0.01, z1), (w / 2, y + 0.01, z1 + 0.03), _colour(rng, _METAL, 6))
    return s


def _toilet(rng: np.random.Generator, cell: float) -> _Shape:
    """Bowl (frustum with seat ring and inner basin), tank and lid; against a wall."""
    rb, td, tw, th = (
        rng.uniform(0.17, 0.2),
        rng.uniform(0.17, 0.22),
        rng.uniform(0.38, 0.48),
        rng.uniform(0.33, 0.4),
    )
    d = td + 2 * rb + 0.04
    s = _Shape(cell, max(tw, 2 * rb + 0.02), d, 0.4 + th, "wall")
    white = _colour(rng, _WHITE, 4)
    seat = _colour(rng, _WHITE + ((30, 30, 30),), 4)
    yb = d / 2 - td - rb + 0.04
    s.frustum(0, yb, 0, 0.38, 0.13, rb, white)
    s.frustum(0, yb, 0.38, 0.025, rb + 0.01, rb + 0.01, seat)
    ri = rb - 0.07
    s.disc(0, yb, 0.405, rb + 0.01, seat, r_in=ri)
    s.frustum(0, yb, 0.25, 0.155, 0.06, ri, _shade(white, 0.95))
    s.disc(0, yb, 0.25, 0.06, _shade(white, 0.8))
    s.box((-0.11, yb, 0), (0.11, d / 2 - td, 0.38), white, skip="-z +z +y")
    s.box((-tw / 2, d / 2 - td, 0.38), (tw / 2, d / 2, 0.38 + th), white, skip="+y")
    if rng.random() < 0.5:  # lid up, leaning on the tank
        s.box((-rb, d / 2 - td - 0.03, 0.42), (rb, d / 2 - td, 0.42 + 1.6 * rb), seat, skip="+y")
    s.occludes_wall = True
    return s


def _sink(rng: np.random.Generator, cell: float) -> _Shape:
    """Pedestal wash basin: open tray on a column, faucet at the back; against a wall."""
    w, d, zt = rng.uniform(0.45, 0.65), rng.uniform(0.38, 0.5), rng.uniform(0.8, 0.9)
    s = _Shape(cell, w, d, zt + 0.14, "wall")
    white = _colour(rng, _WHITE, 4)
    s.tray(
        (-w / 2, -d / 2, zt - 0.2),
        (w / 2, d / 2, zt),
        0.05,
        0.13,
        white,
        skip="+y",
        inner_colour=_shade(white, 0.92),
    )
    s.frustum(0, d / 2 - 0.14, 0, zt - 0.2, 0.12, 0.08, white)
    metal = _colour(rng, _METAL[:1], 6)
    s.frustum(0, d / 2 - 0.03, zt, 0.12, 0.018, 0.018, metal, group=True)
    s.box((-0.015, d / 2 - 0.15, zt + 0.09), (0.015, d / 2 - 0.03, zt + 0.12), metal)
    s.occludes_wall = True
    return s


def _bathtub(rng: np.random.Generator, cell: float) -> _Shape:
    """Open tray with a wide rim and deep basin; against a wall."""
    w, d, h = rng.uniform(1.5, 1.8), rng.uniform(0.7, 0.8), rng.uniform(0.5, 0.6)
    s = _Shape(cell, w, d, h, "wall")
    white = _colour(rng, _WHITE, 4)
    s.tray((-w / 2, -d / 2, 0), (w / 2, d / 2, h), rng.uniform(0.06, 0.1), h - 0.08, white, skip="-z +y")
    s.solid = s.occludes_wall = True
    return s


def _otherfurniture(rng: np.random.Generator, cell: float) -> _Shape:
    """One of: nightstand, trash can, floor lamp, ottoman."""
    kind = int(rng.integers(4))
    if kind == 0:  # nightstand with two drawers
        w, d, h = rng.uniform(0.4, 0.55), rng.uniform(0.35, 0.45), rng.uniform(0.45, 0.6)
        s = _Shape(cell, w, d, h, "wall")
        body = _colour(rng, _WOOD + _WHITE)
        s.box((-w / 2, -d / 2, 0), (w / 2, d / 2, h), body, skip="-z +y -y")
        for k in range(2):
            z0 = 0.03 + k * (h - 0.05) / 2
            s.rect(
                (-w / 2 + 0.01, -d / 2, z0),
                (w - 0.02, 0, 0),
                (0, 0, (h - 0.05) / 2 - 0.015),
                _shade(body, 0.9),
            )
        s.solid = s.occludes_wall = True
        return s
    if kind == 1:  # trash can: open cylinder
        r, h = rng.uniform(0.12, 0.17), rng.uniform(0.3, 0.45)
        s = _Shape(cell, 2 * r + 0.04, 2 * r + 0.04, h, "free")
        c = _colour(rng, _METAL + _BRIGHT[:2] + _WHITE[:1])
        s.frustum(0, 0, 0, h, r, r + 0.02, c)
        s.frustum(0, 0, 0.02, h - 0.02, r - 0.01, r + 0.01, _shade(c, 0.7))
        s.disc(0, 0, 0.02, r - 0.01, _shade(c, 0.6))
        s.solid = True
        return s
    if kind == 2:  # floor lamp: base, pole, shade
        hp = rng.uniform(1.35, 1.6)
        s = _Shape(cell, 0.46, 0.46, hp + 0.25, "free")
        metal = _colour(rng, _METAL, 6)
        shade = _colour(rng, _PASTEL + ((230, 215, 180),), 6)
        s.frustum(0, 0, 0, 0.03, 0.16, 0.15, metal, group=True)
        s.disc(0, 0, 0.03, 0.15, metal)
        s.frustum(0, 0, 0.03, hp - 0.03, 0.015, 0.015, metal, group=True)
        s.frustum(0, 0, hp, 0.25, 0.22, 0.15, shade)
        return s
    r, h = rng.uniform(0.25, 0.32), rng.uniform(0.38, 0.45)  # ottoman / pouf
    s = _Shape(cell, 2 * r, 2 * r, h, "free")
    fabric = _colour(rng, _FABRIC + _BRIGHT)
    s.frustum(0, 0, 0, h, r, r, fabric)
    s.disc(0, 0, h, r, _shade(fabric, 1.08))
    s.solid = True
    return s


# class -> (builder, expected count per 30 m^2 of floor (per 22 m of wall for wall-hung classes), wall-hung).
# Listed in placement order: doors, windows and curtains first (they need free wall), big furniture next,
# tables before the chairs that join them, pictures last (they fill the remaining wall space).
_Builder = Callable[[np.random.Generator, float, float], _Shape]
_CLASSES: tuple[tuple[str, _Builder, float, bool], ...] = (
    ("door", lambda r, c, h: _door(r, c), 1.0, True),
    ("window", lambda r, c, h: _window(r, c, h), 1.2, True),
    ("curtain", lambda r, c, h: _curtain(r, c, h), 1.0, True),
    ("shower curtain", lambda r, c, h: _shower_curtain(r, c), 0.6, False),
    ("bed", lambda r, c, h: _bed(r, c), 0.7, False),
    ("bathtub", lambda r, c, h: _bathtub(r, c), 0.6, False),
    ("counter", lambda r, c, h: _counter(r, c), 0.6, False),
    ("sofa", lambda r, c, h: _sofa(r, c), 0.8, False),
    ("refrigerator", lambda r, c, h: _refrigerator(r, c), 0.5, False),
    ("desk", lambda r, c, h: _desk(r, c), 0.9, False),
    ("bookshelf", lambda r, c, h: _bookshelf(r, c), 0.9, False),
    ("cabinet", lambda r, c, h: _cabinet(r, c), 1.2, False),
    ("table", lambda r, c, h: _table(r, c), 1.1, False),
    ("toilet", lambda r, c, h: _toilet(r, c), 0.7, False),
    ("sink", lambda r, c, h: _sink(r, c), 0.7, False),
    ("chair", lambda r, c, h: _chair(r, c), 3.5, False),
    ("otherfurniture", lambda r, c, h: _otherfurniture(r, c), 1.5, False),
    ("picture", lambda r, c, h: _picture(r, c), 1.5, True),
)


# --------------------------------------------------------------------------------------------------
# placement: oriented 2-D footprints with a height range, rejection sampling


@dataclass(frozen=True)
class _Footprint:
    """Oriented rectangle on the floor (centre (2,), yaw, half sizes (2,)) occupied between heights z0..z1."""

    centre: np.ndarray
    yaw: float
    half: np.ndarray
    z0: float
    z1: float

    def axes(self) -> np.ndarray:
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return np.array([[c, s], [-s, c]])

    def corners(self) -> np.ndarray:
        ax = self.axes()
        signs = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
        return self.centre + (signs * self.half) @ ax


def _overlaps(a: _Footprint, b: _Footprint, gap: float) -> bool:
    """True when a and b come closer than `gap` (separating-axis test on the footprints, interval in z)."""
    if a.z1 + gap <= b.z0 or b.z1 + gap <= a.z0:
        return False
    d = b.centre - a.centre
    aa, ba = a.axes(), b.axes()
    for axis in (*aa, *ba):
        ra = np.abs(aa @ axis) @ a.half
        rb = np.abs(ba @ axis) @ b.half
        if abs(d @ axis) > ra + rb + gap:
            return False
    return True


@dataclass(frozen=True)
class _Wall:
    """Wall k: from origin (2,) along unit `along` (2,) for `length` m; `normal` (2,) points into the room."""

    origin: np.ndarray
    along: np.ndarray
    normal: np.ndarray
    length: float


def _walls(length: float, width: float) -> tuple[_Wall, ...]:
    """The 4 walls counter-clockwise from y = 0; the inward normal is `along` turned by +90 degrees."""
    o = ((0.0, 0.0), (length, 0.0), (length, width), (0.0, width))
    a = ((1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0))
    lens = (length, width, length, width)
    return tuple(
        _Wall(np.array(o[k]), np.array(a[k]), np.array((-a[k][1], a[k][0])), lens[k]) for k in range(4)
    )


@dataclass(frozen=True)
class _Pose:
    """World placement of an object: centre (x, y), yaw (local +y is the back), wall index or -1."""

    x: float
    y: float
    yaw: float
    wall: int
    s: float = 0.0  # position of the centre along the wall


@dataclass
class _Layout:
    """The furnished room: size, patches, objects' metadata."""

    size: tuple[float, float, float]
    patches: _Patches
    objects: list[dict[str, Any]]


def _inside(fp: _Footprint, length: float, width: float, margin: float) -> bool:
    c = fp.corners()
    return bool(
        np.all(c >= margin) and np.all(c[:, 0] <= length - margin) and np.all(c[:, 1] <= width - margin)
    )


def _try_free(
    rng: np.random.Generator,
    shape: _Shape,
    size: tuple[float, float, float],
    taken: list[_Footprint],
    gap: float,
) -> tuple[_Pose, list[_Footprint]] | None:
    """Random centre and yaw anywhere in the room, clear of walls and other objects."""
    length, width, _ = size
    half = np.array([shape.width / 2, shape.depth / 2])
    x, y = rng.uniform(0.1, length - 0.1), rng.uniform(0.1, width - 0.1)
    yaw = rng.uniform(0.0, _TWO_PI)
    fp = _Footprint(np.array([x, y]), yaw, half, shape.z0, shape.height)
    if not _inside(fp, length, width, 0.1) or any(_overlaps(fp, t, gap) for t in taken):
        return None
    return _Pose(x, y, yaw, -1), [fp]


def _try_wall(
    rng: np.random.Generator,
    shape: _Shape,
    size: tuple[float, float, float],
    walls: tuple[_Wall, ...],
    taken: list[_Footprint],
    gap: float,
) -> tuple[_Pose, list[_Footprint]] | None:
    """Random wall and position along it, back to the wall; the door swing area is reserved too."""
    length, width, _ = size
    k = int(rng.integers(4))
    wall = walls[k]
    margin = 0.1
    if wall.length < shape.width + 2 * margin:
        return None
    s = rng.uniform(shape.width / 2 + margin, wall.length - shape.width / 2 - margin)
    yaw = math.atan2(wall.normal[0], -wall.normal[1])  # local +y (back) points at the wall
    centre = wall.origin + wall.along * s + wall.normal * (shape.wall_gap + shape.depth / 2)
    half = np.array([shape.width / 2, shape.depth / 2])
    fps = [_Footprint(centre, yaw, half, shape.z0, shape.height)]
    if shape.reserve_front > 0:
        c = centre + wall.normal * (shape.depth / 2 + shape.reserve_front / 2)
        fps.append(
            _Footprint(c, yaw, np.array([shape.width / 2, shape.reserve_front / 2]), 0.0, shape.height)
        )
    if not all(_inside(fp, length, width, 0.0) for fp in fps):
        return None
    if any(_overlaps(fp, t, gap) for fp in fps for t in taken):
        return None
    return _Pose(float(centre[0]), float(centre[1]), yaw, k, s), fps


def _try_beside(
    rng: np.random.Generator,
    shape: _Shape,
    size: tuple[float, float, float],
    table: tuple[_Pose, _Shape],
    taken: list[_Footprint],
    gap: float,
) -> tuple[_Pose, list[_Footprint]] | None:
    """A chair pulled up to a side of a table (desks: the front only), facing it."""
    pose, tshape = table
    sides = ((0.0, -1.0),) if tshape.mount == "wall" else ((0.0, -1.0), (0.0, 1.0), (1.0, 0.0), (-1.0, 0.0))
    side = np.array(sides[int(rng.integers(len(sides)))])
    t_half = np.array([tshape.width / 2, tshape.depth / 2])
    along = np.array([side[1], -side[0]])
    reach = abs(side @ t_half) + shape.depth / 2 + gap + rng.uniform(0.02, 0.15)
    slide = rng.uniform(-1.0, 1.0) * max(abs(along @ t_half) - shape.width / 2, 0.0)
    local = side * reach + along * slide
    c, s = math.cos(pose.yaw), math.sin(pose.yaw)
    rot = np.array([[c, -s], [s, c]])
    centre = np.array([pose.x, pose.y]) + rot @ local
    d = rot @ side  # the chair's back (+y) points away from the table
    yaw = math.atan2(-d[0], d[1]) + rng.uniform(-0.3, 0.3)
    fp = _Footprint(centre, yaw, np.array([shape.width / 2, shape.depth / 2]), 0.0, shape.height)
    if not _inside(fp, size[0], size[1], 0.1) or any(_overlaps(fp, t, gap) for t in taken):
        return None
    return _Pose(float(centre[0]), float(centre[1]), yaw, -1), [fp]


def _place(
    rng: np.random.Generator,
    name: str,
    shape: _Shape,
    size: tuple[float, float, float],
    walls: tuple[_Wall, ...],
    taken: list[_Footprint],
    tables: list[tuple[_Pose, _Shape]],
    gap: float,
    tries: int = 40,
) -> tuple[_Pose, list[_Footprint]] | None:
    """Rejection-sample a pose for `shape`; None when the room has no room left for it."""
    for _ in range(tries):
        if name == "chair" and tables and rng.random() < 0.6:
            found = _try_beside(rng, shape, size, tables[int(rng.integers(len(tables)))], taken, gap)
        elif shape.mount == "wall":
            found = _try_wall(rng, shape, size, walls, taken, gap)
        else:
            found = _try_free(rng, shape, size, taken, gap)
        if found is not None:
            return found
    return None


# --------------------------------------------------------------------------------------------------
# the room


def _furnish_room(rng: np.random.Generator, opts: RoomOptions) -> _Layout:
    """Draw the room size, the structure (floor, walls, ceiling) and the furniture; returns all patches."""
    if opts.room_size is None:
        drawn = rng.uniform((4.0, 3.0, 2.5), (10.0, 8.0, 3.2))
    else:
        drawn = np.asarray(opts.room_size, dtype=np.float64)
    size = tuple(round(float(v), 4) for v in drawn)  # exactly the size written to meta
    length, width, height = size
    walls = _walls(length, width)
    patches = _Patches()
    scale = math.sqrt((2 * length * width + 2 * (length + width) * height) / _REFERENCE_SURFACE)
    cell, scell = opts.superpoint_size * scale, opts.structure_superpoint_size * scale
    # floors darker than the (light) walls, as in most scans
    floor_colour = _colour(rng, ((150, 110, 70), (105, 105, 112), (160, 155, 145), (170, 135, 95)), 10)
    wall_colour = _colour(rng, ((225, 222, 212), (210, 215, 220), (230, 220, 195), (200, 205, 195)), 6)
    sem_floor, sem_wall = CLASS_ID["floor"], CLASS_ID["wall"]
    floor = patches.add(
        RECT,
        np.array([0, 0, 0, length, 0, 0, 0, width, 0.0]),
        floor_colour,
        IGNORE_INSTANCE,
        sem_floor,
        -1,
        scell,
    )
    wall_ids = []
    for w in walls:
        o, u = w.origin, w.along * w.length
        colour = _shade(wall_colour, rng.uniform(0.95, 1.03))
        params = np.array([o[0], o[1], 0.0, u[0], u[1], 0.0, 0.0, 0.0, height])
        wall_ids.append(patches.add(RECT, params, colour, IGNORE_INSTANCE, sem_wall, -1, scell))
    if opts.ceiling:
        ceiling = np.array([0, 0, height, length, 0, 0, 0, width, 0.0])
        patches.add(RECT, ceiling, _colour(rng, _WHITE, 4), IGNORE_INSTANCE, sem_wall, -1, scell)

    objects: list[dict[str, Any]] = []
    taken: list[_Footprint] = []
    tables: list[tuple[_Pose, _Shape]] = []
    floor_scale = length * width / 30.0
    wall_scale = 2.0 * (length + width) / 22.0
    for name, build, rate, wall_hung in _CLASSES:
        lam = rate * opts.object_density * (wall_scale if wall_hung else floor_scale)
        count = int(rng.poisson(lam))
        if name == "door":
            count = max(count, 1)
        for _ in range(count):
            shape = build(rng, cell, height)
            placed = _place(rng, name, shape, size, walls, taken, tables, opts.clearance)
            if placed is None:
                continue
            pose, fps = placed
            taken.extend(fps)
            if name in ("table", "desk"):
                tables.append((pose, shape))
            inst = len(objects)
            _emit_object(patches, shape, pose, inst, CLASS_ID[name], cell)
            _cut_holes(patches, shape, pose, floor, wall_ids)
            objects.append(
                {
                    "instance": inst,
                    "class": name,
                    "class_id": CLASS_ID[name],
                    "centre": [round(pose.x, 4), round(pose.y, 4), round((shape.z0 + shape.height) / 2, 4)],
                    "size": [round(shape.width, 4), round(shape.depth, 4), round(shape.height - shape.z0, 4)],
                    "yaw": round(pose.yaw % _TWO_PI, 4),
                    "wall": pose.wall,
                }
            )
    return _Layout(size, patches, objects)


def _emit_object(patches: _Patches, shape: _Shape, pose: _Pose, inst: int, sem: int, cell: float) -> None:
    """Move `shape`'s patches to the world (yaw about z, then translate) and append them with labels."""
    c, s = math.cos(pose.yaw), math.sin(pose.yaw)
    rot = np.array([[c, -s], [s, c]])
    t = np.array([pose.x, pose.y])
    base = patches.n_groups
    for kind, p, colour, group in zip(shape.kind, shape.params, shape.colour, shape.group, strict=True):
        q = np.array(p, dtype=np.float64)
        if kind == RECT:
            q[0:2] = rot @ q[0:2] + t
            q[3:5] = rot @ q[3:5]
            q[6:8] = rot @ q[6:8]
        else:
            q[0:2] = rot @ q[0:2] + t
            q[6 if kind == FRUSTUM else 5] += pose.yaw
        patches.add(kind, q, colour, inst, sem, base + group if group >= 0 else -1, cell)
    patches.n_groups = base + shape.n_groups


def _cut_holes(patches: _Patches, shape: _Shape, pose: _Pose, floor: int, wall_ids: list[int]) -> None:
    """Hide the floor under a solid object and the wall behind a wall-backed one (scanner occlusion)."""
    if shape.solid:
        axis = (math.cos(pose.yaw), math.sin(pose.yaw))
        patches.add_hole(floor, (pose.x, pose.y), axis, (shape.width / 2, shape.depth / 2))
    if shape.occludes_wall and pose.wall >= 0:
        zc, hz = (shape.z0 + shape.height) / 2, (shape.height - shape.z0) / 2
        patches.add_hole(wall_ids[pose.wall], (pose.s, zc), (1.0, 0.0), (shape.width / 2, hz))


# --------------------------------------------------------------------------------------------------
# sampling


@dataclass(frozen=True)
class _Sample:
    """Surface points before noise: patch (N,) int64, xyz (N, 3), normal (N, 3), metric (u, v) (N, 2)."""

    patch: np.ndarray
    xyz: np.ndarray
    normal: np.ndarray
    uv: np.ndarray


def _sample_points(rng: np.random.Generator, pa: _PatchArrays, n_points: int, opts: RoomOptions) -> _Sample:
    """Exactly `n_points` points, area-proportional over the visible patch area."""
    prob = pa.area / pa.area.sum()
    counts = rng.multinomial(n_points, prob)
    patch = np.repeat(np.arange(len(prob)), counts)
    st = rng.random((n_points, 2))
    for p, holes in pa.holes.items():  # redraw points that fell into a hole until none is left
        sel = np.flatnonzero(patch == p)
        while len(sel):
            uv = st[sel] * np.array([pa.lu[p], pa.lv[p]])
            bad = _in_holes(uv, holes)
            sel = sel[bad]
            st[sel] = rng.random((len(sel), 2))
    return _surface(pa, patch, st)


def _in_holes(uv: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """(M,) bool: which metric (u, v) points (M, 2) fall inside any hole row (H, 6)."""
    inside = np.zeros(len(uv), dtype=bool)
    for cu, cv, au, av, hu, hv in holes:
        du, dv = uv[:, 0] - cu, uv[:, 1] - cv
        along, across = du * au + dv * av, -du * av + dv * au
        inside |= (np.abs(along) < hu) & (np.abs(across) < hv)
    return inside


def _surface(pa: _PatchArrays, patch: np.ndarray, st: np.ndarray) -> _Sample:
    """Map unit-square samples st (N, 2) on each point's patch to xyz, normals and metric (u, v)."""
    n = len(patch)
    xyz, normal, uv = np.zeros((n, 3)), np.zeros((n, 3)), np.zeros((n, 2))
    kind, q = pa.kind[patch], pa.params[patch]
    s, t = st[:, 0], st[:, 1]

    r = kind == RECT
    qr = q[r]
    xyz[r] = qr[:, 0:3] + s[r, None] * qr[:, 3:6] + t[r, None] * qr[:, 6:9]
    nr = np.cross(qr[:, 3:6], qr[:, 6:9])
    normal[r] = nr / np.maximum(np.linalg.norm(nr, axis=1, keepdims=True), 1e-12)
    uv[r] = st[r] * np.stack([pa.lu[patch[r]], pa.lv[patch[r]]], axis=1)

    f = kind == FRUSTUM
    qf = q[f]
    r0, r1 = qf[:, 4], qf[:, 5]
    mean = 0.5 * (r0 + r1)
    tf = 2.0 * t[f] * mean / (r0 + np.sqrt(r0**2 + 2.0 * (r1 - r0) * t[f] * mean))  # area ∝ radius
    rad = r0 + (r1 - r0) * tf
    th = qf[:, 6] + s[f] * qf[:, 7]
    xyz[f] = np.stack(
        [qf[:, 0] + rad * np.cos(th), qf[:, 1] + rad * np.sin(th), qf[:, 2] + tf * qf[:, 3]], axis=1
    )
    slope = (r0 - r1) / np.maximum(pa.lv[patch[f]], 1e-12)
    nf = np.stack([np.cos(th), np.sin(th), slope], axis=1)
    normal[f] = nf / np.linalg.norm(nf, axis=1, keepdims=True)
    uv[f] = np.stack([s[f] * pa.lu[patch[f]], tf * pa.lv[patch[f]]], axis=1)

    a = kind == ANNULUS
    qa = q[a]
    ri, ro = qa[:, 3], qa[:, 4]
    rad = np.sqrt(ri**2 + t[a] * (ro**2 - ri**2))
    th = qa[:, 5] + s[a] * qa[:, 6]
    xyz[a] = np.stack([qa[:, 0] + rad * np.cos(th), qa[:, 1] + rad * np.sin(th), qa[:, 2]], axis=1)
    normal[a] = (0.0, 0.0, 1.0)
    uv[a] = np.stack([s[a] * pa.lu[patch[a]], rad - ri], axis=1)
    return _Sample(patch, xyz, normal, uv)


def _superpoint_keys(rng: np.random.Generator, pa: _PatchArrays, sample: _Sample) -> np.ndarray:
    """(N,) int64 superpoint key per point: the nearest jittered grid seed on the point's own patch.

    Each ungrouped patch gets an nu x nv grid of cells of about its `cell` size, one seed per cell jittered
    by up to 0.3 cell (so the nearest seed is always among the 3 x 3 cells around the point's own: an exact
    Voronoi partition of the patch). Grouped patches share one key per group.
    """
    nu = np.maximum(1, np.rint(pa.lu / pa.cell)).astype(np.int64)
    nv = np.maximum(1, np.rint(pa.lv / pa.cell)).astype(np.int64)
    grouped = pa.group >= 0
    nu[grouped] = nv[grouped] = 1
    ncell = nu * nv
    base = np.concatenate([[0], np.cumsum(ncell)[:-1]])
    n_grid = int(ncell.sum())
    # all patches of a group share the key of the group's first patch
    if grouped.any():
        gid = pa.group[grouped]
        _, first = np.unique(gid, return_index=True)
        lookup = np.full(gid.max() + 1, -1, dtype=np.int64)
        lookup[gid[first]] = base[np.flatnonzero(grouped)[first]]
        base[grouped] = lookup[gid]
    cu = pa.lu / nu  # cell size along u, v per patch
    cv = pa.lv / nv
    jitter = rng.uniform(-0.3, 0.3, (n_grid, 2))

    p = sample.patch
    pnu, pnv, pbase = nu[p], nv[p], base[p]
    fu, fv = sample.uv[:, 0] / cu[p], sample.uv[:, 1] / cv[p]  # position in cell units
    i0 = np.clip(np.floor(fu).astype(np.int64), 0, pnu - 1)
    j0 = np.clip(np.floor(fv).astype(np.int64), 0, pnv - 1)
    best = np.full(len(p), np.inf)
    key = pbase.copy()
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            i, j = i0 + di, j0 + dj
            ok = (i >= 0) & (i < pnu) & (j >= 0) & (j < pnv)
            cell = np.where(ok, i * pnv + j, 0)
            seed = pbase + cell
            ju, jv = jitter[seed, 0], jitter[seed, 1]
            d2 = ((fu - (i + 0.5 + ju)) * cu[p]) ** 2 + ((fv - (j + 0.5 + jv)) * cv[p]) ** 2
            d2 = np.where(ok, d2, np.inf)
            better = d2 < best
            best = np.where(better, d2, best)
            key = np.where(better, seed, key)
    return key


def _colours(rng: np.random.Generator, pa: _PatchArrays, sample: _Sample, opts: RoomOptions) -> np.ndarray:
    """(N, 3) float64 rgb 0..255 integers: patch colour, Lambert-like shading, noise."""
    light = np.array(_LIGHT) / np.linalg.norm(_LIGHT)
    shade = 0.72 + 0.28 * np.abs(sample.normal @ light)
    rgb = pa.colour[sample.patch] * shade[:, None] + rng.normal(
        0.0, opts.colour_noise, (len(sample.patch), 3)
    )
    return np.clip(np.rint(rgb), 0.0, 255.0)


def _reflect(x: np.ndarray, hi: float) -> np.ndarray:
    """Fold noisy coordinates back into [0, hi] (keeps surface points on the room side of walls/floor)."""
    x = np.abs(x)
    return hi - np.abs(hi - x)


def _assemble(
    rng: np.random.Generator,
    layout: _Layout,
    pa: _PatchArrays,
    sample: _Sample,
    n_points: int,
    seed: int,
    opts: RoomOptions,
) -> SyntheticScene:
    """Noise, colours, labels and contiguous ids; shuffle; build the scene and its meta."""
    keys = _superpoint_keys(rng, pa, sample)
    rgb = _colours(rng, pa, sample, opts)
    xyz = sample.xyz + rng.normal(0.0, opts.noise, sample.xyz.shape)
    for k in range(3):
        xyz[:, k] = _reflect(xyz[:, k], layout.size[k])
    inst = pa.instance[sample.patch]
    sem = pa.semantic[sample.patch]
    order = rng.permutation(n_points) if opts.shuffle else np.arange(n_points)
    xyz, rgb, keys, inst, sem = xyz[order], rgb[order], keys[order], inst[order], sem[order]

    _, spp = np.unique(keys, return_inverse=True)
    present, counts = np.unique(inst[inst >= 0], return_counts=True)
    remap = np.full(len(layout.objects) + 1, IGNORE_INSTANCE, dtype=np.int64)
    remap[present] = np.arange(len(present))
    inst = np.where(inst >= 0, remap[np.maximum(inst, 0)], IGNORE_INSTANCE)  # objects with no point vanish

    objects = []
    for old, cnt in zip(present.tolist(), counts.tolist(), strict=True):
        obj = dict(layout.objects[old], instance=int(remap[old]), n_points=int(cnt))
        objects.append(obj)
    points = np.concatenate([xyz, rgb], axis=1).astype(np.float32)
    meta = {
        "generator": GENERATOR_VERSION,
        "seed": int(seed),
        "n_points": int(n_points),
        "room": list(layout.size),
        "n_objects": len(objects),
        "n_superpoints": int(spp.max(initial=-1)) + 1,
        "objects": objects,
        "options": {f.name: getattr(opts, f.name) for f in fields(opts)},
    }
    return SyntheticScene(
        points=points,
        superpoints=spp.astype(np.int64).reshape(-1),
        semantic_labels=sem.astype(np.int64),
        instance_labels=inst.astype(np.int64),
        meta=meta,
    )


# --------------------------------------------------------------------------------------------------
# picture and command line


def plot_top_view(scene: SyntheticScene, path: str | Path) -> None:
    """Write a PNG: top view coloured by instance (walls/floor grey, class names on objects) and by rgb."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xyz, rgb, inst = scene.points[:, :3], scene.points[:, 3:] / 255.0, scene.instance_labels
    order = np.argsort(xyz[:, 2], kind="stable")  # higher points drawn last, as seen from above
    xyz, rgb, inst = xyz[order], rgb[order], inst[order]
    length, width, _ = scene.meta["room"]
    fig, axes = plt.subplots(1, 2, figsize=(16, 8 * width / length + 1.0), dpi=100)
    cmap = plt.get_cmap("tab20")
    colours = np.where((inst >= 0)[:, None], cmap((inst % 20) / 20.0)[:, :3], 0.85)
    for ax, c, title in ((axes[0], colours, "instances"), (axes[1], rgb, "rgb")):
        ax.scatter(xyz[:, 0], xyz[:, 1], c=c, s=0.3, linewidths=0)
        ax.set_aspect("equal")
        ax.set_xlim(-0.1, length + 0.1)
        ax.set_ylim(-0.1, width + 0.1)
        ax.set_title(f"seed {scene.meta['seed']}: {title}")
    for obj in scene.meta["objects"]:
        axes[0].text(obj["centre"][0], obj["centre"][1], obj["class"], fontsize=7, ha="center", va="center")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m isbnet_trt.training.synthetic", description="Generate a synthetic ScanNet-like room."
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--points", type=int, default=150_000, help="number of points (default 150000)")
    parser.add_argument("--out", type=Path, help="write the scene to this .npz")
    parser.add_argument("--png", type=Path, help="write a top view coloured by instance to this .png")
    parser.add_argument("--ceiling", action="store_true", help="add a ceiling")
    args = parser.parse_args(argv)
    scene = generate_room(args.points, args.seed, ceiling=args.ceiling)
    if args.out is not None:
        save_scene(scene, args.out)
    if args.png is not None:
        plot_top_view(scene, args.png)
    counts: dict[str, int] = {}
    for obj in scene.meta["objects"]:
        counts[obj["class"]] = counts.get(obj["class"], 0) + 1
    room = " x ".join(f"{v:.2f}" for v in scene.meta["room"])
    print(f"room {room} m, {len(scene.points)} points, {scene.n_superpoints} superpoints,", end=" ")
    print(f"{scene.n_instances} objects")
    print(", ".join(f"{name} {n}" for name, n in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
