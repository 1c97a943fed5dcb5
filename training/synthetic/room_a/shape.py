"""`Shape`: an object built from patches in its own frame (boxes, trays, frustums, discs, pleated sheets),
and the colour palettes and draws the furniture uses."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from isbnet_trt.training.synthetic.room_a.patches import ANNULUS, FRUSTUM, RECT, TWO_PI

# object shapes in their local frame: x across, y depth (+y = back, towards the wall), z up from the floor


class Shape:
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
        self._add(FRUSTUM, [cx, cy, z0, h, r0, r1, 0.0, TWO_PI], colour, self.new_group() if group else -1)

    def disc(
        self, cx: float, cy: float, z: float, r_out: float, colour: np.ndarray, r_in: float = 0.0
    ) -> None:
        """Horizontal disc (or ring r_in..r_out) at height z."""
        group = math.pi * (r_out**2 - r_in**2) < self.cell**2
        self._add(ANNULUS, [cx, cy, z, r_in, r_out, 0.0, TWO_PI], colour, self.new_group() if group else -1)

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


def random_colour(
    rng: np.random.Generator, palette: Sequence[Sequence[float]], spread: float = 12.0
) -> np.ndarray:
    """One of `palette` (rgb 0..255) with a random offset: per-object colour variation."""
    base = np.asarray(palette[int(rng.integers(len(palette)))], dtype=np.float64)
    return np.clip(base + rng.normal(0.0, spread, 3), 0.0, 255.0)


def shaded(colour: np.ndarray, factor: float) -> np.ndarray:
    """Darker/brighter variant of a colour: per-part variation."""
    return np.clip(colour * factor, 0.0, 255.0)


WOOD = ((150, 105, 65), (175, 130, 85), (110, 75, 45), (195, 160, 115), (90, 60, 40))
WHITE = ((232, 232, 228), (220, 222, 225), (240, 236, 228))
FABRIC = ((95, 95, 100), (60, 75, 120), (125, 60, 55), (80, 110, 80), (150, 140, 120), (45, 45, 50))
METAL = ((160, 160, 165), (70, 70, 75), (120, 120, 125))
BRIGHT = ((200, 60, 50), (50, 110, 190), (230, 190, 60), (70, 160, 90), (150, 80, 160), (230, 120, 40))
PASTEL = ((235, 235, 240), (200, 220, 235), (235, 210, 215), (215, 235, 215))
