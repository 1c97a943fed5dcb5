"""One builder per ScanNetV2 instance class: the object's shape, colours and size for a draw of `rng`
(`CLASS_BUILDERS` lists them with their expected counts and whether they stand against a wall)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from isbnet_trt.training.synthetic.room_a.shape import (
    BRIGHT,
    FABRIC,
    METAL,
    PASTEL,
    WHITE,
    WOOD,
    Shape,
    random_colour,
    shaded,
)

# class builders: (rng, cell) -> Shape in the local frame


def _chair(rng: np.random.Generator, cell: float) -> Shape:
    """Seat + back + 4 legs, free standing."""
    w, d = rng.uniform(0.42, 0.52), rng.uniform(0.42, 0.52)
    sh, st, bh, bt, leg = rng.uniform(0.42, 0.48), 0.05, rng.uniform(0.35, 0.5), 0.04, rng.uniform(0.03, 0.04)
    s = Shape(cell, w, d, sh + bh, "free")
    fabric = random_colour(rng, FABRIC + WOOD)
    legs = random_colour(rng, METAL + WOOD, 8)
    for x in (-w / 2 + 0.02, w / 2 - 0.02 - leg):
        for y in (-d / 2 + 0.02, d / 2 - 0.02 - leg):
            s.box((x, y, 0), (x + leg, y + leg, sh - st), legs, skip="-z +z")
    s.box((-w / 2, -d / 2, sh - st), (w / 2, d / 2, sh), fabric)
    s.box((-w / 2, d / 2 - bt, sh), (w / 2, d / 2, sh + bh), shaded(fabric, 0.92), skip="-z")
    return s


def _table(rng: np.random.Generator, cell: float) -> Shape:
    """Rectangular top on 4 legs (or, 20 %, a round top on a pedestal), free standing."""
    h, t = rng.uniform(0.7, 0.78), 0.04
    wood = random_colour(rng, WOOD + WHITE[:1])
    if rng.random() < 0.2:
        r = rng.uniform(0.4, 0.6)
        s = Shape(cell, 2 * r, 2 * r, h, "free")
        s.frustum(0, 0, h - t, t, r, r, wood)
        s.disc(0, 0, h, r, shaded(wood, 1.05))
        s.disc(0, 0, h - t, r, shaded(wood, 0.9), r_in=0.06)
        s.frustum(0, 0, 0.03, h - t - 0.03, 0.06, 0.05, shaded(wood, 0.8))
        s.frustum(0, 0, 0, 0.03, 0.28, 0.26, shaded(wood, 0.8))
        s.disc(0, 0, 0.03, 0.26, shaded(wood, 0.8), r_in=0.06)
        return s
    w, d = rng.uniform(0.9, 1.8), rng.uniform(0.6, 1.0)
    leg = rng.uniform(0.05, 0.07)
    s = Shape(cell, w, d, h, "free")
    legs = shaded(wood, rng.uniform(0.8, 1.0))
    for x in (-w / 2 + 0.05, w / 2 - 0.05 - leg):
        for y in (-d / 2 + 0.05, d / 2 - 0.05 - leg):
            s.box((x, y, 0), (x + leg, y + leg, h - t), legs, skip="-z +z")
    s.box((-w / 2, -d / 2, h - t), (w / 2, d / 2, h), wood)
    return s


def _desk(rng: np.random.Generator, cell: float) -> Shape:
    """Top on a drawer pedestal and a side panel, modesty panel at the back; against a wall."""
    w, d, h, t = rng.uniform(1.0, 1.6), rng.uniform(0.55, 0.75), rng.uniform(0.72, 0.76), 0.03
    s = Shape(cell, w, d, h, "wall")
    body = random_colour(rng, WOOD + WHITE + ((90, 90, 95),))
    fronts = shaded(body, rng.choice([0.8, 1.1]))
    sign = 1.0 if rng.random() < 0.5 else -1.0  # pedestal on the right or left
    px0, px1 = sorted((sign * (w / 2 - 0.01), sign * (w / 2 - 0.42)))
    s.box((px0, -d / 2 + 0.03, 0), (px1, d / 2, h - t), body, skip="-z +z +y -y")
    for k in range(3):  # drawer fronts with gaps
        z0 = 0.02 + k * (h - t - 0.02) / 3
        s.rect((px0, -d / 2 + 0.03, z0), (px1 - px0, 0, 0), (0, 0, (h - t - 0.02) / 3 - 0.015), fronts)
    qx0, qx1 = sorted((-sign * (w / 2 - 0.03), -sign * w / 2))
    s.box((qx0, -d / 2 + 0.03, 0), (qx1, d / 2, h - t), body, skip="-z +z +y")
    mx0, mx1 = sorted((sign * (w / 2 - 0.42), -sign * (w / 2 - 0.03)))
    s.box((mx0, d / 2 - 0.03, 0.35), (mx1, d / 2 - 0.01, h - t), shaded(body, 0.9), skip="+z +y")
    s.box((-w / 2, -d / 2, h - t), (w / 2, d / 2, h), body, skip="+y")
    s.occludes_wall = True
    return s


def _bed(rng: np.random.Generator, cell: float) -> Shape:
    """Frame, mattress (sheet at the head, blanket at the foot), pillows, headboard against a wall."""
    w, length = rng.uniform(0.95, 1.9), rng.uniform(1.95, 2.15)
    fh, mh, hh = rng.uniform(0.25, 0.35), rng.uniform(0.18, 0.25), rng.uniform(0.9, 1.2)
    s = Shape(cell, w + 0.04, length, hh, "wall")
    frame = random_colour(rng, WOOD + FABRIC[-2:])
    sheet = random_colour(rng, WHITE + PASTEL, 6)
    blanket = random_colour(rng, FABRIC + BRIGHT + PASTEL)
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
        s.box((x, y1 - 0.42, top), (x + pw, y1 - 0.05, top + 0.12), shaded(sheet, 1.02), skip="-z")
    s.box((-w / 2 - 0.02, y1, 0), (w / 2 + 0.02, length / 2, hh), shaded(frame, 0.9), skip="-z +y")
    s.solid = s.occludes_wall = True
    return s


def _sofa(rng: np.random.Generator, cell: float) -> Shape:
    """Base, seat cushions, back and two arms; usually against a wall."""
    w, d = rng.uniform(1.5, 2.4), rng.uniform(0.8, 0.95)
    sh, bh, ah = rng.uniform(0.42, 0.46), rng.uniform(0.75, 0.9), rng.uniform(0.58, 0.66)
    aw, bt, ct = rng.uniform(0.15, 0.22), rng.uniform(0.18, 0.22), 0.12
    s = Shape(cell, w, d, bh, "wall" if rng.random() < 0.8 else "free")
    fabric = random_colour(rng, FABRIC)
    back_skip = "-z +y" if s.mount == "wall" else "-z"
    s.box((-w / 2, -d / 2, 0), (-w / 2 + aw, d / 2, ah), fabric, skip="-z")
    s.box((w / 2 - aw, -d / 2, 0), (w / 2, d / 2, ah), fabric, skip="-z")
    s.box((-w / 2 + aw, d / 2 - bt, 0), (w / 2 - aw, d / 2, bh), shaded(fabric, 0.95), skip=back_skip)
    s.box(
        (-w / 2 + aw, -d / 2, 0),
        (w / 2 - aw, d / 2 - bt, sh - ct),
        shaded(fabric, 0.85),
        skip="-z +z -x +x +y",
    )
    n = 2 if w < 1.9 else 3
    cw = (w - 2 * aw) / n
    for k in range(n):
        x = -w / 2 + aw + k * cw
        s.box(
            (x + 0.005, -d / 2 + 0.02, sh - ct),
            (x + cw - 0.005, d / 2 - bt, sh),
            shaded(fabric, 1.08),
            skip="-z +y",
        )
    s.solid = True
    return s


def _cabinet(rng: np.random.Generator, cell: float) -> Shape:
    """Box body with door or drawer fronts and handles, against a wall."""
    w, d, h = rng.uniform(0.5, 1.2), rng.uniform(0.4, 0.6), rng.uniform(0.7, 1.1)
    s = Shape(cell, w, d, h, "wall")
    body = random_colour(rng, WOOD + WHITE + ((130, 130, 135),))
    front = shaded(body, rng.uniform(0.85, 1.1))
    handle = random_colour(rng, METAL, 6)
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


def _bookshelf(rng: np.random.Generator, cell: float) -> Shape:
    """Open shelving: sides, top, plinth, back panel, 3-5 shelves holding blocks of books."""
    w, d, h = rng.uniform(0.7, 1.2), rng.uniform(0.28, 0.4), rng.uniform(1.4, 2.1)
    t = 0.02
    s = Shape(cell, w, d, h, "wall")
    wood = random_colour(rng, WOOD + WHITE[:1])
    s.box((-w / 2, -d / 2, 0), (-w / 2 + t, d / 2, h), wood, skip="-z +y")
    s.box((w / 2 - t, -d / 2, 0), (w / 2, d / 2, h), wood, skip="-z +y")
    s.box((-w / 2 + t, -d / 2, h - t), (w / 2 - t, d / 2, h), wood, skip="-x +x +y")
    s.box((-w / 2 + t, -d / 2 + 0.02, 0), (w / 2 - t, d / 2, 0.08), shaded(wood, 0.85), skip="-z -x +x +y")
    s.rect((-w / 2 + t, d / 2 - 0.01, 0.08), (w - 2 * t, 0, 0), (0, 0, h - t - 0.08), shaded(wood, 0.8))
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
                books = random_colour(rng, BRIGHT + FABRIC + PASTEL, 18)
                s.box(
                    (x, d / 2 - 0.01 - bd, z), (x + bw, d / 2 - 0.01, z + bh), books, skip="-z +y", group=True
                )
            x += bw + rng.uniform(0.01, 0.08)
    s.solid = s.occludes_wall = True
    return s


def _door(rng: np.random.Generator, cell: float) -> Shape:
    """Door leaf in its casing, flush with a wall, handle at 1 m; keeps its swing area free."""
    w, h, t = rng.uniform(0.8, 0.95), rng.uniform(2.0, 2.1), 0.04
    cw, d = 0.07, 0.08
    s = Shape(cell, w + 2 * cw, d, h + cw, "wall")
    s.wall_gap = 0.0
    leaf = random_colour(rng, WOOD + WHITE)
    casing = shaded(leaf, rng.uniform(0.85, 1.1)) if rng.random() < 0.5 else random_colour(rng, WHITE, 4)
    y1 = d / 2
    s.box((-w / 2, y1 - t - 0.005, 0), (w / 2, y1 - 0.005, h), leaf, skip="-z +y")
    s.box((-w / 2 - cw, y1 - 0.02, 0), (-w / 2, y1, h + cw), casing, skip="-z +y")
    s.box((w / 2, y1 - 0.02, 0), (w / 2 + cw, y1, h + cw), casing, skip="-z +y")
    s.box((-w / 2, y1 - 0.02, h), (w / 2, y1, h + cw), casing, skip="+y")
    hx = (w / 2 - 0.12) * (1.0 if rng.random() < 0.5 else -1.0)
    s.box(
        (hx - 0.06, -d / 2, 0.98), (hx + 0.06, y1 - t - 0.005, 1.02), random_colour(rng, METAL, 6), skip="+y"
    )
    s.occludes_wall = True
    s.reserve_front = w
    return s


def _window(rng: np.random.Generator, cell: float, room_height: float) -> Shape:
    """Frame, glass pane (bright, slightly recessed), optional mullion and a sill; on a wall."""
    w, h = rng.uniform(0.8, 1.8), rng.uniform(0.9, 1.5)
    z0 = rng.uniform(0.8, 1.0)
    h = min(h, room_height - 0.15 - z0)
    fw, fd, sd = rng.uniform(0.05, 0.07), 0.06, rng.uniform(0.12, 0.16)
    s = Shape(cell, w + 0.1, sd, z0 + h, "wall", z0=z0 - 0.03)
    s.wall_gap = 0.0
    frame = random_colour(rng, WHITE + WOOD[:2], 6)
    glass = random_colour(rng, ((185, 200, 215), (170, 185, 195), (205, 215, 225)), 6)
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


def _picture(rng: np.random.Generator, cell: float) -> Shape:
    """Frame around a canvas of 2-4 colour blocks, hung on a wall at eye height."""
    w, h, zc = rng.uniform(0.3, 1.2), rng.uniform(0.3, 0.9), rng.uniform(1.35, 1.7)
    d, fw = rng.uniform(0.025, 0.04), rng.uniform(0.02, 0.05)
    z0 = zc - h / 2
    s = Shape(cell, w, d, z0 + h, "wall", z0=z0)
    s.wall_gap = 0.005
    frame = random_colour(rng, ((40, 35, 30), (190, 160, 90), (235, 235, 235), (120, 80, 50)), 8)
    s.box((-w / 2, -d / 2, z0), (-w / 2 + fw, d / 2, z0 + h), frame, skip="+y")
    s.box((w / 2 - fw, -d / 2, z0), (w / 2, d / 2, z0 + h), frame, skip="+y")
    s.box((-w / 2 + fw, -d / 2, z0), (w / 2 - fw, d / 2, z0 + fw), frame, skip="+y -x +x")
    s.box((-w / 2 + fw, -d / 2, z0 + h - fw), (w / 2 - fw, d / 2, z0 + h), frame, skip="+y -x +x")
    nx, nz = int(rng.integers(1, 3)), 2
    cw, ch = (w - 2 * fw) / nx, (h - 2 * fw) / nz
    for i in range(nx):
        for j in range(nz):
            o = (-w / 2 + fw + i * cw, -d / 2 + 0.01, z0 + fw + j * ch)
            s.rect(o, (cw, 0, 0), (0, 0, ch), random_colour(rng, BRIGHT + PASTEL, 25))
    s.occludes_wall = True
    return s


def _counter(rng: np.random.Generator, cell: float) -> Shape:
    """Kitchen counter: toe kick, cabinet fronts with handles, overhanging worktop; against a wall."""
    w, d, h, t = rng.uniform(1.2, 2.6), rng.uniform(0.55, 0.65), rng.uniform(0.88, 0.94), 0.04
    s = Shape(cell, w, d, h, "wall")
    body = random_colour(rng, WOOD + WHITE)
    top = random_colour(rng, ((60, 60, 62), (215, 215, 210), (150, 140, 130), (30, 30, 35)), 8)
    handle = random_colour(rng, METAL, 6)
    s.box((-w / 2, -d / 2 + 0.1, 0), (w / 2, d / 2, 0.1), shaded(body, 0.6), skip="-z +y -x +x +z")
    s.box((-w / 2, -d / 2 + 0.03, 0.1), (w / 2, d / 2, h - t), body, skip="+y -y +z")
    n = max(2, round(w / 0.5))
    dw = w / n
    for k in range(n):
        x0 = -w / 2 + k * dw
        s.rect((x0 + 0.005, -d / 2 + 0.03, 0.11), (dw - 0.01, 0, 0), (0, 0, h - t - 0.12), shaded(body, 1.05))
        s.box(
            (x0 + dw / 2 - 0.06, -d / 2 + 0.005, h - t - 0.1),
            (x0 + dw / 2 + 0.06, -d / 2 + 0.03, h - t - 0.08),
            handle,
        )
    s.box((-w / 2, -d / 2, h - t), (w / 2, d / 2, h), top, skip="+y")
    s.solid = s.occludes_wall = True
    return s


def _curtain(rng: np.random.Generator, cell: float, room_height: float) -> Shape:
    """Pleated fabric hanging from a rod near the ceiling, floor or sill length; in front of a wall."""
    w = rng.uniform(1.0, 2.2)
    z1 = room_height - rng.uniform(0.1, 0.35)
    z0 = rng.uniform(0.02, 0.1) if rng.random() < 0.7 else rng.uniform(0.8, 1.0)
    fold, period, d = rng.uniform(0.06, 0.1), rng.uniform(0.14, 0.22), 0.16
    s = Shape(cell, w + 0.1, d, z1 + 0.03, "wall", z0=z0)
    s.wall_gap = 0.02
    fabric = random_colour(rng, FABRIC + BRIGHT[:3] + ((215, 200, 170),))
    s.pleats(-w / 2, w / 2, 0.0, fold, period, z0, z1, fabric)
    s.box(
        (-w / 2 - 0.05, -0.015, z1), (w / 2 + 0.05, 0.015, z1 + 0.03), random_colour(rng, METAL + WOOD[:1], 6)
    )
    s.occludes_wall = True
    return s


def _refrigerator(rng: np.random.Generator, cell: float) -> Shape:
    """Tall box with fridge and freezer doors and vertical handles; against a wall."""
    w, d, h = rng.uniform(0.6, 0.85), rng.uniform(0.6, 0.75), rng.uniform(1.6, 1.95)
    s = Shape(cell, w, d, h, "wall")
    body = random_colour(rng, WHITE + ((175, 178, 182), (40, 40, 42)), 6)
    handle = random_colour(rng, METAL, 6)
    s.box((-w / 2, -d / 2 + 0.03, 0), (w / 2, d / 2, h), body, skip="-z +y -y")
    split = h * rng.uniform(0.62, 0.72)
    hx = w / 2 - 0.08
    for z0, z1 in ((0.02, split - 0.01), (split + 0.01, h - 0.01)):
        s.box((-w / 2, -d / 2 + 0.005, z0), (w / 2, -d / 2 + 0.03, z1), shaded(body, 1.03), skip="+y")
        hz = z1 - 0.35 if z0 < 0.1 else z0 + 0.05
        s.box((hx, -d / 2 - 0.03, hz), (hx + 0.025, -d / 2 + 0.005, hz + 0.3), handle, skip="+y")
    s.solid = s.occludes_wall = True
    return s


def _shower_curtain(rng: np.random.Generator, cell: float) -> Shape:
    """Finely pleated light sheet on a rod, hanging above the floor at the front of a shower area."""
    w, d = rng.uniform(0.9, 1.6), rng.uniform(0.7, 0.9)
    z0, z1 = rng.uniform(0.1, 0.3), rng.uniform(1.85, 2.05)
    s = Shape(cell, w, d, z1 + 0.03, "wall")
    s.wall_gap = 0.01
    sheet = random_colour(rng, PASTEL + WHITE, 10)
    y = -d / 2 + 0.03
    s.pleats(-w / 2, w / 2 - 0.01, y, rng.uniform(0.03, 0.05), rng.uniform(0.07, 0.1), z0, z1, sheet)
    s.box((-w / 2, y - 0.01, z1), (w / 2, y + 0.01, z1 + 0.03), random_colour(rng, METAL, 6))
    return s


def _toilet(rng: np.random.Generator, cell: float) -> Shape:
    """Bowl (frustum with seat ring and inner basin), tank and lid; against a wall."""
    rb, td, tw, th = (
        rng.uniform(0.17, 0.2),
        rng.uniform(0.17, 0.22),
        rng.uniform(0.38, 0.48),
        rng.uniform(0.33, 0.4),
    )
    d = td + 2 * rb + 0.04
    s = Shape(cell, max(tw, 2 * rb + 0.02), d, 0.4 + th, "wall")
    white = random_colour(rng, WHITE, 4)
    seat = random_colour(rng, WHITE + ((30, 30, 30),), 4)
    yb = d / 2 - td - rb + 0.04
    s.frustum(0, yb, 0, 0.38, 0.13, rb, white)
    s.frustum(0, yb, 0.38, 0.025, rb + 0.01, rb + 0.01, seat)
    ri = rb - 0.07
    s.disc(0, yb, 0.405, rb + 0.01, seat, r_in=ri)
    s.frustum(0, yb, 0.25, 0.155, 0.06, ri, shaded(white, 0.95))
    s.disc(0, yb, 0.25, 0.06, shaded(white, 0.8))
    s.box((-0.11, yb, 0), (0.11, d / 2 - td, 0.38), white, skip="-z +z +y")
    s.box((-tw / 2, d / 2 - td, 0.38), (tw / 2, d / 2, 0.38 + th), white, skip="+y")
    if rng.random() < 0.5:  # lid up, leaning on the tank
        s.box((-rb, d / 2 - td - 0.03, 0.42), (rb, d / 2 - td, 0.42 + 1.6 * rb), seat, skip="+y")
    s.occludes_wall = True
    return s


def _sink(rng: np.random.Generator, cell: float) -> Shape:
    """Pedestal wash basin: open tray on a column, faucet at the back; against a wall."""
    w, d, zt = rng.uniform(0.45, 0.65), rng.uniform(0.38, 0.5), rng.uniform(0.8, 0.9)
    s = Shape(cell, w, d, zt + 0.14, "wall")
    white = random_colour(rng, WHITE, 4)
    s.tray(
        (-w / 2, -d / 2, zt - 0.2),
        (w / 2, d / 2, zt),
        0.05,
        0.13,
        white,
        skip="+y",
        inner_colour=shaded(white, 0.92),
    )
    s.frustum(0, d / 2 - 0.14, 0, zt - 0.2, 0.12, 0.08, white)
    metal = random_colour(rng, METAL[:1], 6)
    s.frustum(0, d / 2 - 0.03, zt, 0.12, 0.018, 0.018, metal, group=True)
    s.box((-0.015, d / 2 - 0.15, zt + 0.09), (0.015, d / 2 - 0.03, zt + 0.12), metal)
    s.occludes_wall = True
    return s


def _bathtub(rng: np.random.Generator, cell: float) -> Shape:
    """Open tray with a wide rim and deep basin; against a wall."""
    w, d, h = rng.uniform(1.5, 1.8), rng.uniform(0.7, 0.8), rng.uniform(0.5, 0.6)
    s = Shape(cell, w, d, h, "wall")
    white = random_colour(rng, WHITE, 4)
    s.tray((-w / 2, -d / 2, 0), (w / 2, d / 2, h), rng.uniform(0.06, 0.1), h - 0.08, white, skip="-z +y")
    s.solid = s.occludes_wall = True
    return s


def _otherfurniture(rng: np.random.Generator, cell: float) -> Shape:
    """One of: nightstand, trash can, floor lamp, ottoman."""
    kind = int(rng.integers(4))
    if kind == 0:  # nightstand with two drawers
        w, d, h = rng.uniform(0.4, 0.55), rng.uniform(0.35, 0.45), rng.uniform(0.45, 0.6)
        s = Shape(cell, w, d, h, "wall")
        body = random_colour(rng, WOOD + WHITE)
        s.box((-w / 2, -d / 2, 0), (w / 2, d / 2, h), body, skip="-z +y -y")
        for k in range(2):
            z0 = 0.03 + k * (h - 0.05) / 2
            s.rect(
                (-w / 2 + 0.01, -d / 2, z0),
                (w - 0.02, 0, 0),
                (0, 0, (h - 0.05) / 2 - 0.015),
                shaded(body, 0.9),
            )
        s.solid = s.occludes_wall = True
        return s
    if kind == 1:  # trash can: open cylinder
        r, h = rng.uniform(0.12, 0.17), rng.uniform(0.3, 0.45)
        s = Shape(cell, 2 * r + 0.04, 2 * r + 0.04, h, "free")
        c = random_colour(rng, METAL + BRIGHT[:2] + WHITE[:1])
        s.frustum(0, 0, 0, h, r, r + 0.02, c)
        s.frustum(0, 0, 0.02, h - 0.02, r - 0.01, r + 0.01, shaded(c, 0.7))
        s.disc(0, 0, 0.02, r - 0.01, shaded(c, 0.6))
        s.solid = True
        return s
    if kind == 2:  # floor lamp: base, pole, shade
        hp = rng.uniform(1.35, 1.6)
        s = Shape(cell, 0.46, 0.46, hp + 0.25, "free")
        metal = random_colour(rng, METAL, 6)
        shade = random_colour(rng, PASTEL + ((230, 215, 180),), 6)
        s.frustum(0, 0, 0, 0.03, 0.16, 0.15, metal, group=True)
        s.disc(0, 0, 0.03, 0.15, metal)
        s.frustum(0, 0, 0.03, hp - 0.03, 0.015, 0.015, metal, group=True)
        s.frustum(0, 0, hp, 0.25, 0.22, 0.15, shade)
        return s
    r, h = rng.uniform(0.25, 0.32), rng.uniform(0.38, 0.45)  # ottoman / pouf
    s = Shape(cell, 2 * r, 2 * r, h, "free")
    fabric = random_colour(rng, FABRIC + BRIGHT)
    s.frustum(0, 0, 0, h, r, r, fabric)
    s.disc(0, 0, h, r, shaded(fabric, 1.08))
    s.solid = True
    return s


# class -> (builder, expected count per 30 m^2 of floor (per 22 m of wall for wall-hung classes), wall-hung).
# Listed in placement order: doors, windows and curtains first (they need free wall), big furniture next,
# tables before the chairs that join them, pictures last (they fill the remaining wall space).
_Builder = Callable[[np.random.Generator, float, float], Shape]
CLASS_BUILDERS: tuple[tuple[str, _Builder, float, bool], ...] = (
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
