"""Furnishing a room: walls, footprints, free / wall / beside placement without overlaps, and the patches
of the placed objects (with holes where they hide the floor or a wall)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from isbnet_trt.training.synthetic.room_a.furniture import CLASS_BUILDERS
from isbnet_trt.training.synthetic.room_a.options import RoomOptions
from isbnet_trt.training.synthetic.room_a.patches import FRUSTUM, RECT, TWO_PI, Patches
from isbnet_trt.training.synthetic.room_a.shape import WHITE, Shape, random_colour, shaded
from isbnet_trt.training.synthetic.scene import CLASS_ID, IGNORE_INSTANCE

_REFERENCE_SURFACE = 2 * 6.0 * 5.0 + 2 * (6.0 + 5.0) * 2.8  # floor, walls and ~ floor-sized furniture, m^2


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
class Layout:
    """The furnished room: size, patches, objects' metadata."""

    size: tuple[float, float, float]
    patches: Patches
    objects: list[dict[str, Any]]


def _inside(fp: _Footprint, length: float, width: float, margin: float) -> bool:
    c = fp.corners()
    return bool(
        np.all(c >= margin) and np.all(c[:, 0] <= length - margin) and np.all(c[:, 1] <= width - margin)
    )


def _try_free(
    rng: np.random.Generator,
    shape: Shape,
    size: tuple[float, float, float],
    taken: list[_Footprint],
    gap: float,
) -> tuple[_Pose, list[_Footprint]] | None:
    """Random centre and yaw anywhere in the room, clear of walls and other objects."""
    length, width, _ = size
    half = np.array([shape.width / 2, shape.depth / 2])
    x, y = rng.uniform(0.1, length - 0.1), rng.uniform(0.1, width - 0.1)
    yaw = rng.uniform(0.0, TWO_PI)
    fp = _Footprint(np.array([x, y]), yaw, half, shape.z0, shape.height)
    if not _inside(fp, length, width, 0.1) or any(_overlaps(fp, t, gap) for t in taken):
        return None
    return _Pose(x, y, yaw, -1), [fp]


def _try_wall(
    rng: np.random.Generator,
    shape: Shape,
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
    shape: Shape,
    size: tuple[float, float, float],
    table: tuple[_Pose, Shape],
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
    shape: Shape,
    size: tuple[float, float, float],
    walls: tuple[_Wall, ...],
    taken: list[_Footprint],
    tables: list[tuple[_Pose, Shape]],
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


def furnish_room(rng: np.random.Generator, opts: RoomOptions) -> Layout:
    """Draw the room size, the structure (floor, walls, ceiling) and the furniture; returns all patches."""
    if opts.room_size is None:
        drawn = rng.uniform((4.0, 3.0, 2.5), (10.0, 8.0, 3.2))
    else:
        drawn = np.asarray(opts.room_size, dtype=np.float64)
    size = tuple(round(float(v), 4) for v in drawn)  # exactly the size written to meta
    length, width, height = size
    walls = _walls(length, width)
    patches = Patches()
    scale = math.sqrt((2 * length * width + 2 * (length + width) * height) / _REFERENCE_SURFACE)
    cell, scell = opts.superpoint_size * scale, opts.structure_superpoint_size * scale
    # floors darker than the (light) walls, as in most scans
    floor_colour = random_colour(rng, ((150, 110, 70), (105, 105, 112), (160, 155, 145), (170, 135, 95)), 10)
    wall_colour = random_colour(rng, ((225, 222, 212), (210, 215, 220), (230, 220, 195), (200, 205, 195)), 6)
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
        colour = shaded(wall_colour, rng.uniform(0.95, 1.03))
        params = np.array([o[0], o[1], 0.0, u[0], u[1], 0.0, 0.0, 0.0, height])
        wall_ids.append(patches.add(RECT, params, colour, IGNORE_INSTANCE, sem_wall, -1, scell))
    if opts.ceiling:
        ceiling = np.array([0, 0, height, length, 0, 0, 0, width, 0.0])
        patches.add(RECT, ceiling, random_colour(rng, WHITE, 4), IGNORE_INSTANCE, sem_wall, -1, scell)

    objects: list[dict[str, Any]] = []
    taken: list[_Footprint] = []
    tables: list[tuple[_Pose, Shape]] = []
    floor_scale = length * width / 30.0
    wall_scale = 2.0 * (length + width) / 22.0
    for name, build, rate, wall_hung in CLASS_BUILDERS:
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
                    "yaw": round(pose.yaw % TWO_PI, 4),
                    "wall": pose.wall,
                }
            )
    return Layout(size, patches, objects)


def _emit_object(patches: Patches, shape: Shape, pose: _Pose, inst: int, sem: int, cell: float) -> None:
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


def _cut_holes(patches: Patches, shape: Shape, pose: _Pose, floor: int, wall_ids: list[int]) -> None:
    """Hide the floor under a solid object and the wall behind a wall-backed one (scanner occlusion)."""
    if shape.solid:
        axis = (math.cos(pose.yaw), math.sin(pose.yaw))
        patches.add_hole(floor, (pose.x, pose.y), axis, (shape.width / 2, shape.depth / 2))
    if shape.occludes_wall and pose.wall >= 0:
        zc, hz = (shape.z0 + shape.height) / 2, (shape.height - shape.z0) / 2
        patches.add_hole(wall_ids[pose.wall], (pose.s, zc), (1.0, 0.0), (shape.width / 2, hz))
