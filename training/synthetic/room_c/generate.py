"""The project's third synthetic room generator: rooms that imitate ScanNet-style RGB-D scans.

Written independently of `training.synthetic` and `isbnet.synthetic_b` (without reading them) and
never used in training: `benchmarks/demo_robustness.py` evaluates the demo weights on its rooms
as a held-out estimate of how they do on a generator they were not trained on.

Independent design. A room is a rectangular box (walls + floor, no ceiling) furnished by
room-type recipes (bedroom, living room, office, kitchen, bathroom, dining room). Every object
is a set of analytic primitives (oriented boxes, vertical cylinders, ellipsoids) in its own
frame. Points are produced by a simulated scanner: rays are cast from a few virtual camera
positions inside the room and the first surface hit is kept, so occluded surfaces are missing
and the raw density falls off with distance; hits are then partially re-weighted (like a fused
mesh) and subsampled to exactly n_points. Colours: per-material base colour, procedural
texture (wood grain, fabric noise, tiles, book spines), Lambert lighting, per-camera exposure,
sensor noise. Geometry noise: 2-8 mm (per room) along the surface normal plus a little
tangential jitter.

    room = make_room(seed, n_points)
    room["points"] (N, 6) float32, room["semantic_labels"] (N,), room["instance_labels"] (N,)
"""

from __future__ import annotations

import math

import numpy as np

from isbnet_trt.training.synthetic import CLASS_ID, CLASS_NAMES

C = CLASS_ID  # class name -> ScanNetV2 20-class index

GRID = 0.05  # floor occupancy grid (m)

# ---------------------------------------------------------------- colours / materials
WOODS = [
    (150, 105, 65),
    (120, 80, 50),
    (185, 145, 100),
    (95, 65, 45),
    (200, 170, 125),
    (165, 120, 80),
    (70, 50, 35),
]
WHITES = [(230, 228, 220), (215, 215, 210), (240, 238, 232), (200, 200, 195)]
GREYS = [(120, 120, 125), (80, 80, 85), (160, 160, 160), (50, 50, 55), (185, 185, 190)]
FABRICS = [
    (110, 120, 140),
    (140, 60, 55),
    (90, 110, 80),
    (170, 150, 120),
    (60, 70, 100),
    (150, 140, 130),
    (200, 190, 170),
    (80, 80, 80),
    (120, 90, 120),
    (60, 100, 110),
]
WALLS = [
    (225, 220, 205),
    (235, 232, 225),
    (210, 205, 190),
    (200, 210, 215),
    (220, 210, 190),
    (230, 225, 215),
    (205, 200, 200),
]
FLOORS = [
    ("wood", (150, 110, 70)),
    ("wood", (180, 140, 95)),
    ("tile", (200, 195, 185)),
    ("tile", (150, 150, 150)),
    ("carpet", (120, 115, 105)),
    ("carpet", (90, 95, 110)),
    ("wood", (110, 80, 55)),
    ("plain", (170, 160, 145)),
]
BOOKS = np.array(
    [
        (150, 40, 40),
        (40, 60, 120),
        (220, 210, 180),
        (60, 110, 60),
        (200, 150, 50),
        (30, 30, 30),
        (180, 180, 190),
        (120, 70, 40),
        (90, 40, 90),
        (240, 240, 235),
    ],
    np.float32,
)


def _pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def _jit(rng, col, amt=12):
    return tuple(float(np.clip(c + rng.normal(0, amt), 5, 250)) for c in col)


# ---------------------------------------------------------------- primitives (object frame)
def box(cx, cy, z0, w, d, h, col, tex="plain", yaw=0.0, alpha=1.0):
    """Box with centre (cx, cy), bottom z0, size w (x) d (y) h (z)."""
    return {
        "t": "box",
        "c": np.array([cx, cy, z0 + h / 2]),
        "h": np.array([w / 2, d / 2, h / 2]),
        "yaw": yaw,
        "col": col,
        "tex": tex,
        "alpha": alpha,
    }


def cyl(cx, cy, z0, z1, r, col, tex="plain"):
    return {
        "t": "cyl",
        "c": np.array([cx, cy, (z0 + z1) / 2]),
        "r": r,
        "z0": z0,
        "z1": z1,
        "yaw": 0.0,
        "col": col,
        "tex": tex,
        "alpha": 1.0,
    }


def ell(cx, cy, cz, rx, ry, rz, col, tex="fabric", yaw=0.0):
    return {
        "t": "ell",
        "c": np.array([cx, cy, cz]),
        "h": np.array([rx, ry, rz]),
        "yaw": yaw,
        "col": col,
        "tex": tex,
        "alpha": 1.0,
    }


def _rot(yaw):
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s], [s, c]])


class Obj:
    def __init__(self, sem, parts, w, d, h, wall_item=False):
        self.sem, self.parts, self.w, self.d, self.h = sem, parts, w, d, h
        self.wall_item = wall_item
        self.pos, self.yaw = np.zeros(2), 0.0
        self.inst = -100 if sem in (0, 1) else None

    def world_parts(self):
        R = _rot(self.yaw)
        out = []
        for p in self.parts:
            q = dict(p)
            c = p["c"].copy()
            c[:2] = R @ c[:2] + self.pos
            q["c"] = c
            q["yaw"] = p["yaw"] + self.yaw
            out.append(q)
        return out


# ---------------------------------------------------------------- object builders
# Local frame: x = width, y = depth, back at y = -d/2, front towards +y, floor z = 0.


def legs4(w, d, h, t, col, inset=0.03, round_=False):
    out = []
    for sx in (-1, 1):
        for sy in (-1, 1):
            x, y = sx * (w / 2 - inset - t / 2), sy * (d / 2 - inset - t / 2)
            out.append(cyl(x, y, 0, h, t / 2, col) if round_ else box(x, y, 0, t, t, h, col))
    return out


def mk_chair(rng, kind=None):
    kind = kind or _pick(rng, ["wood", "wood", "office", "plastic", "arm", "stool"])
    if kind == "office":
        w, d = rng.uniform(0.5, 0.62), rng.uniform(0.5, 0.6)
        sh, bh = rng.uniform(0.45, 0.52), rng.uniform(0.85, 1.15)
        fab = _jit(rng, _pick(rng, [GREYS[3], GREYS[1], FABRICS[4], FABRICS[1], FABRICS[7]]))
        metal = _jit(rng, _pick(rng, [GREYS[3], GREYS[2]]), 6)
        parts = []
        for k in range(5):
            a = 2 * math.pi * k / 5 + rng.uniform(0, 0.3)
            L = min(w, d) / 2 - 0.02
            parts.append(box(math.cos(a) * L / 2, math.sin(a) * L / 2, 0.04, L, 0.05, 0.04, metal, yaw=a))
            parts.append(cyl(math.cos(a) * (L - 0.02), math.sin(a) * (L - 0.02), 0, 0.05, 0.025, metal))
        parts.append(cyl(0, 0, 0.08, sh - 0.08, 0.03, metal))
        parts.append(box(0, 0.01, sh - 0.08, w * 0.92, d * 0.88, 0.08, fab, "fabric"))
        parts.append(box(0, -d / 2 + 0.05, sh + 0.05, w * 0.85, 0.07, bh - sh - 0.05, fab, "fabric"))
        if rng.random() < 0.6:
            for sx in (-1, 1):
                parts.append(box(sx * (w / 2 - 0.03), 0.0, sh + 0.15, 0.05, d * 0.5, 0.04, metal))
                parts.append(box(sx * (w / 2 - 0.03), 0.0, sh, 0.03, 0.04, 0.15, metal))
        return Obj(C["chair"], parts, w, d, bh)
    if kind == "stool":
        r = rng.uniform(0.16, 0.22)
        h = rng.uniform(0.45, 0.75)
        col = _jit(rng, _pick(rng, WOODS + GREYS))
        parts = [cyl(0, 0, h - 0.04, h, r, col, "wood")]
        for k in range(3 + int(rng.integers(2))):
            a = 2 * math.pi * k / 4
            parts.append(cyl(math.cos(a) * r * 0.7, math.sin(a) * r * 0.7, 0, h - 0.04, 0.016, col))
        return Obj(C["chair"], parts, 2 * r, 2 * r, h)
    w, d = rng.uniform(0.42, 0.52), rng.uniform(0.42, 0.55)
    sh, bh = rng.uniform(0.43, 0.48), rng.uniform(0.78, 1.0)
    if kind == "plastic":
        col = _jit(rng, _pick(rng, WHITES + [(200, 60, 50), (60, 60, 60), (80, 120, 180)]), 6)
        tex = "plain"
    else:
        col = _jit(rng, _pick(rng, WOODS))
        tex = "wood"
    parts = legs4(w, d, sh - 0.04, 0.035, col, round_=(kind == "plastic"))
    seat_col = col if rng.random() < 0.5 else _jit(rng, _pick(rng, FABRICS))
    parts.append(
        box(
            0,
            0,
            sh - 0.04,
            w,
            d,
            0.04 + (0.03 if kind == "arm" else 0),
            seat_col,
            "fabric" if seat_col != col else tex,
        )
    )
    parts.append(box(0, -d / 2 + 0.02, sh, w, 0.04, bh - sh, col if kind != "arm" else seat_col, tex))
    if kind == "arm":
        for sx in (-1, 1):
            parts.append(box(sx * (w / 2 - 0.025), 0.0, sh, 0.05, d * 0.9, 0.22, col, tex))
    return Obj(C["chair"], parts, w, d, bh)


def mk_table(rng, kind=None):
    kind = kind or _pick(rng, ["dining", "dining", "coffee", "round", "side", "work"])
    col = _jit(rng, _pick(rng, WOODS + WHITES[:2] + [GREYS[3]]))
    leg_col = col if rng.random() < 0.6 else _jit(rng, _pick(rng, GREYS), 5)
    if kind == "round":
        r = rng.uniform(0.4, 0.65)
        h = rng.uniform(0.72, 0.76)
        parts = [
            cyl(0, 0, h - 0.035, h, r, col, "wood"),
            cyl(0, 0, 0.03, h - 0.035, 0.05, leg_col),
            cyl(0, 0, 0, 0.03, r * 0.55, leg_col),
        ]
        return Obj(C["table"], parts, 2 * r, 2 * r, h)
    if kind == "dining":
        w, d, h = rng.uniform(1.2, 2.0), rng.uniform(0.75, 1.0), rng.uniform(0.72, 0.77)
    elif kind == "coffee":
        w, d, h = rng.uniform(0.8, 1.3), rng.uniform(0.45, 0.7), rng.uniform(0.38, 0.47)
    elif kind == "side":
        w = rng.uniform(0.4, 0.6)
        d, h = w * rng.uniform(0.8, 1.0), rng.uniform(0.5, 0.65)
    else:
        w, d, h = rng.uniform(1.4, 2.4), rng.uniform(0.7, 1.0), rng.uniform(0.72, 0.76)
    th = rng.uniform(0.025, 0.05)
    parts = [box(0, 0, h - th, w, d, th, col, "wood")]
    if kind == "coffee" and rng.random() < 0.5:
        parts.append(box(0, 0, 0.1, w - 0.1, d - 0.1, 0.025, col, "wood"))
    if rng.random() < 0.25 and kind in ("dining", "work"):  # trestle
        for sx in (-1, 1):
            parts.append(box(sx * (w / 2 - 0.12), 0, 0, 0.06, d - 0.1, h - th, leg_col))
        parts.append(box(0, 0, 0.35, w - 0.3, 0.05, 0.06, leg_col))
    else:
        parts += legs4(
            w, d, h - th, rng.uniform(0.035, 0.07), leg_col, rng.uniform(0.02, 0.08), rng.random() < 0.4
        )
    return Obj(C["table"], parts, w, d, h)


def mk_desk(rng):
    w, d, h = rng.uniform(1.0, 1.7), rng.uniform(0.55, 0.8), rng.uniform(0.72, 0.77)
    col = _jit(rng, _pick(rng, WOODS + WHITES[:2] + [GREYS[2]]))
    th = 0.03
    parts = [box(0, 0, h - th, w, d, th, col, "wood")]
    style = rng.integers(3)
    if style == 0:
        parts += [box(sx * (w / 2 - 0.015), 0, 0, 0.03, d - 0.02, h - th, col, "wood") for sx in (-1, 1)]
        parts.append(box(0, -d / 2 + 0.03, 0.3, w - 0.06, 0.02, h - th - 0.3, col, "wood"))
    elif style == 1:
        pw = rng.uniform(0.35, 0.45)
        side = rng.choice([-1, 1])
        parts.append(box(side * (w / 2 - pw / 2), 0, 0, pw, d - 0.04, h - th, col, "drawers"))
        parts.append(box(-side * (w / 2 - 0.015), 0, 0, 0.03, d - 0.04, h - th, col, "wood"))
    else:
        metal = _jit(rng, _pick(rng, GREYS), 5)
        parts += legs4(w, d, h - th, 0.04, metal, 0.02)
    if rng.random() < 0.4:  # hutch shelf on the back
        parts.append(box(0, -d / 2 + 0.13, h, w, 0.25, 0.02, col, "wood"))
        parts.append(box(0, -d / 2 + 0.13, h + 0.35, w, 0.25, 0.02, col, "wood"))
        parts += [box(sx * (w / 2 - 0.01), -d / 2 + 0.13, h, 0.02, 0.25, 0.37, col) for sx in (-1, 1)]
        h += 0.37
    return Obj(C["desk"], parts, w, d, h)


def mk_cabinet(rng, kind=None, w=None):
    kind = kind or _pick(rng, ["low", "low", "tall", "wardrobe", "file"])
    col = _jit(rng, _pick(rng, WOODS + WHITES + [GREYS[2]]))
    if kind == "low":
        w, d, h = w or rng.uniform(0.5, 1.4), rng.uniform(0.35, 0.55), rng.uniform(0.6, 1.0)
    elif kind == "tall":
        w, d, h = w or rng.uniform(0.5, 1.0), rng.uniform(0.35, 0.55), rng.uniform(1.4, 2.0)
    elif kind == "wardrobe":
        w, d, h = w or rng.uniform(0.9, 2.0), rng.uniform(0.55, 0.65), rng.uniform(1.9, 2.2)
    elif kind == "file":
        w, d, h = w or rng.uniform(0.4, 0.5), rng.uniform(0.55, 0.65), rng.uniform(0.7, 1.35)
    elif kind == "base":  # kitchen base cabinet
        w, d, h = w or rng.uniform(0.4, 0.9), 0.58, 0.86
    else:  # "upper" wall cabinet, origin at its own bottom
        w, d, h = w or rng.uniform(0.4, 0.9), rng.uniform(0.3, 0.36), rng.uniform(0.6, 0.8)
    tex = "drawers" if kind in ("file",) else "doors"
    parts = [box(0, 0.01, 0, w, d - 0.02, h, col, tex)]
    if kind in ("low", "tall", "base"):  # plinth recess + handles
        parts = [
            box(0, -0.01, 0.08, w, d - 0.04, h - 0.08, col, tex),
            box(0, -0.03, 0, w - 0.02, d - 0.08, 0.08, _jit(rng, col, 20)),
        ]
    hc = _jit(rng, GREYS[2], 5)
    nh = max(1, int(round(w / 0.45)))
    for k in range(nh):
        x = -w / 2 + (k + 0.5) * w / nh
        parts.append(box(x + 0.1, d / 2, h * 0.55, 0.015, 0.025, 0.12, hc))
    return Obj(C["cabinet"], parts, w, d, h)


def mk_bed(rng):
    single = rng.random() < 0.4
    w = rng.uniform(0.9, 1.05) if single else rng.uniform(1.4, 1.85)
    L = rng.uniform(1.95, 2.15)
    fh = rng.uniform(0.2, 0.35)
    mh = rng.uniform(0.18, 0.28)
    frame = _jit(rng, _pick(rng, WOODS + WHITES[:1] + [GREYS[1]]))
    sheet = _jit(rng, _pick(rng, WHITES + FABRICS))
    hb = rng.uniform(0.8, 1.25)
    parts = [
        box(0, 0.02, 0, w, L - 0.04, fh, frame, "wood"),
        box(0, 0.04, fh, w - 0.04, L - 0.1, mh, _jit(rng, WHITES[0])),
        box(0, -L / 2 + 0.04, 0, w + 0.04, 0.08, hb, frame, "wood"),
    ]
    ct = fh + mh
    if rng.random() < 0.8:  # duvet hanging over the sides
        bl = rng.uniform(0.9, 1.5)
        parts.append(box(0, L / 2 - bl / 2 - 0.02, ct - 0.12, w + 0.06, bl, 0.17, sheet, "fabric"))
    npil = 1 if single else 2
    pc = _jit(rng, _pick(rng, WHITES + FABRICS))
    for k in range(npil):
        x = (k + 0.5) * w / npil - w / 2
        parts.append(ell(x, -L / 2 + 0.3, ct + 0.06, w / npil * 0.38, 0.2, 0.08, pc))
    if rng.random() < 0.5:
        parts.append(box(0, L / 2 - 0.04, 0, w + 0.04, 0.06, ct + 0.05, frame, "wood"))
    return Obj(C["bed"], parts, w + 0.06, L, hb)


def mk_sofa(rng):
    seats = int(rng.integers(2, 4))
    sw = rng.uniform(0.55, 0.7)
    arm = rng.uniform(0.12, 0.25)
    w = seats * sw + 2 * arm
    d = rng.uniform(0.8, 0.98)
    sh, bh, ah = rng.uniform(0.38, 0.46), rng.uniform(0.75, 0.95), rng.uniform(0.55, 0.68)
    col = _jit(rng, _pick(rng, FABRICS + [GREYS[1], (100, 70, 50)]))
    parts = [
        box(0, 0, 0.1, w - 0.02, d - 0.02, sh - 0.22, col, "fabric"),
        box(0, -d / 2 + 0.1, 0.1, w - 2 * arm, 0.2, bh - 0.1, col, "fabric"),
    ]
    if rng.random() < 0.7:
        parts += legs4(w, d, 0.1, 0.05, _jit(rng, WOODS[3], 5), 0.04)
    else:
        parts.append(box(0, 0, 0, w - 0.04, d - 0.04, 0.1, col, "fabric"))
    for sx in (-1, 1):
        parts.append(box(sx * (w / 2 - arm / 2), 0, 0.1, arm, d, ah - 0.1, col, "fabric"))
    for k in range(seats):
        x = -w / 2 + arm + (k + 0.5) * sw
        parts.append(box(x, 0.1, sh - 0.12, sw - 0.015, d - 0.22, 0.14, col, "fabric"))
        if rng.random() < 0.7:
            parts.append(ell(x, -d / 2 + 0.26, sh + 0.22, sw * 0.45, 0.09, 0.2, col))
    return Obj(C["sofa"], parts, w, d, bh)


def mk_bookshelf(rng):
    w, d, h = rng.uniform(0.6, 1.3), rng.uniform(0.25, 0.4), rng.uniform(0.8, 2.15)
    col = _jit(rng, _pick(rng, WOODS + WHITES[:2] + [GREYS[3]]))
    t = 0.02
    parts = [box(sx * (w / 2 - t / 2), 0, 0, t, d, h, col, "wood") for sx in (-1, 1)]
    parts.append(box(0, -d / 2 + 0.005, 0, w, 0.01, h, col, "wood"))
    parts.append(box(0, 0, h - t, w, d, t, col, "wood"))
    parts.append(box(0, 0, 0, w - 2 * t, d, 0.06, col, "wood"))
    n = max(2, int(h / rng.uniform(0.3, 0.4)))
    step = (h - 0.06) / n
    for k in range(n):
        z = 0.06 + k * step
        if k:
            parts.append(box(0, 0, z - t, w - 2 * t, d - 0.01, t, col, "wood"))
        if rng.random() < 0.75:  # a row of books
            bw = (w - 2 * t) * rng.uniform(0.4, 0.98)
            bh = min(step - t - 0.02, rng.uniform(0.17, 0.3))
            x = -w / 2 + t + bw / 2 + rng.uniform(0, (w - 2 * t) - bw)
            bd = d * rng.uniform(0.6, 0.9)
            parts.append(box(x, -d / 2 + 0.01 + bd / 2, z, bw, bd, bh, (0, 0, 0), "books"))
    return Obj(C["bookshelf"], parts, w, d, h)


def mk_nightstand(rng):
    w, d, h = rng.uniform(0.4, 0.55), rng.uniform(0.35, 0.45), rng.uniform(0.45, 0.65)
    col = _jit(rng, _pick(rng, WOODS + WHITES[:1]))
    return Obj(
        C["otherfurniture"],
        [box(0, 0, 0.05, w, d, h - 0.05, col, "drawers"), box(0, -0.02, 0, w - 0.04, d - 0.06, 0.05, col)],
        w,
        d,
        h,
    )


def mk_other(rng, kind=None):
    kind = kind or _pick(
        rng, ["bin", "bin", "nightstand", "ottoman", "washer", "tvstand", "coatrack", "crate", "piano"]
    )
    if kind == "nightstand":
        return mk_nightstand(rng)
    if kind == "bin":
        r, h = rng.uniform(0.12, 0.2), rng.uniform(0.3, 0.6)
        col = _jit(rng, _pick(rng, GREYS + WHITES + [(60, 90, 150)]), 6)
        return Obj(
            C["otherfurniture"],
            [cyl(0, 0, 0, h, r, col), cyl(0, 0, h - 0.01, h, r + 0.01, _jit(rng, col, 15))],
            2 * r + 0.02,
            2 * r + 0.02,
            h,
        )
    if kind == "ottoman":
        w = rng.uniform(0.4, 0.7)
        col = _jit(rng, _pick(rng, FABRICS))
        return Obj(
            C["otherfurniture"],
            [box(0, 0, 0.04, w, w, rng.uniform(0.35, 0.45), col, "fabric")]
            + legs4(w, w, 0.04, 0.04, WOODS[3]),
            w,
            w,
            0.45,
        )
    if kind == "washer":
        col = _jit(rng, WHITES[0], 5)
        parts = [box(0, 0, 0, 0.6, 0.6, 0.85, col), cyl(0, 0.3, 0.25, 0.55, 0.16, GREYS[3])]
        parts[-1] = box(0, 0.305, 0.3, 0.3, 0.01, 0.3, _jit(rng, GREYS[3], 4))
        return Obj(C["otherfurniture"], parts, 0.6, 0.62, 0.85)
    if kind == "tvstand":
        w, d, h = rng.uniform(1.0, 1.8), rng.uniform(0.35, 0.5), rng.uniform(0.4, 0.6)
        col = _jit(rng, _pick(rng, WOODS + [GREYS[3], WHITES[0]]))
        parts = [box(0, 0, 0.05, w, d, h - 0.05, col, "drawers")] + legs4(w, d, 0.05, 0.04, col)
        if rng.random() < 0.6:  # the TV on it, part of the stand
            tw = min(w - 0.1, rng.uniform(0.9, 1.4))
            parts += [
                box(0, -0.02, h, 0.3, 0.2, 0.05, GREYS[3]),
                box(0, -0.02, h + 0.05, tw, 0.05, tw * 0.58, (25, 25, 28)),
            ]
            h += 0.05 + tw * 0.58
        return Obj(C["otherfurniture"], parts, w, d, h)
    if kind == "coatrack":
        col = _jit(rng, _pick(rng, WOODS + GREYS))
        h = rng.uniform(1.6, 1.85)
        parts = [cyl(0, 0, 0, 0.03, 0.2, col), cyl(0, 0, 0.03, h, 0.025, col)]
        parts += [
            ell(
                0.12 * math.cos(a),
                0.12 * math.sin(a),
                h - 0.35,
                0.12,
                0.12,
                0.3,
                _jit(rng, _pick(rng, FABRICS)),
                yaw=a,
            )
            for a in rng.uniform(0, 6.3, 2)
        ]
        return Obj(C["otherfurniture"], parts, 0.5, 0.5, h)
    if kind == "piano":
        col = _jit(rng, (30, 25, 25), 5)
        parts = [
            box(0, 0, 0, 1.45, 0.4, 1.2, col),
            box(0, 0.3, 0.72, 1.3, 0.22, 0.05, (235, 235, 230)),
            box(0, 0.3, 0.6, 1.3, 0.22, 0.12, col),
        ]
        return Obj(C["otherfurniture"], parts, 1.45, 0.62, 1.2)
    w = rng.uniform(0.3, 0.6)
    col = _jit(rng, (175, 140, 95))
    return Obj(
        C["otherfurniture"],
        [box(0, 0, 0, w, w * rng.uniform(0.7, 1), w * rng.uniform(0.6, 1), col, "plain", yaw=0.0)],
        w,
        w,
        w,
    )


def mk_fridge(rng):
    w, d, h = rng.uniform(0.6, 0.9), rng.uniform(0.65, 0.75), rng.uniform(1.6, 1.95)
    col = _jit(rng, _pick(rng, WHITES[:2] + [GREYS[4], GREYS[2]]), 5)
    split = h * rng.uniform(0.55, 0.7)
    parts = [
        box(0, -0.02, 0, w, d - 0.04, h, col),
        box(0, d / 2 - 0.03, 0.02, w - 0.01, 0.03, split - 0.03, col),
        box(0, d / 2 - 0.03, split + 0.01, w - 0.01, 0.03, h - split - 0.02, col),
    ]
    hx = w / 2 - 0.07
    parts += [
        box(hx, d / 2 + 0.02, split - 0.35, 0.025, 0.03, 0.3, GREYS[2]),
        box(hx, d / 2 + 0.02, split + 0.05, 0.025, 0.03, 0.25, GREYS[2]),
    ]
    return Obj(C["refrigerator"], parts, w, d + 0.05, h)


def mk_toilet(rng):
    col = _jit(rng, WHITES[0], 4)
    tw = rng.uniform(0.36, 0.46)
    parts = [
        box(0, -0.3 + 0.09, 0.38, tw, 0.18, rng.uniform(0.3, 0.4), col),
        ell(0, 0.06, 0.2, 0.13, 0.18, 0.2, col, "plain"),
        ell(0, 0.08, 0.36, 0.18, 0.25, 0.06, col, "plain"),
        box(0, -0.1, 0, 0.24, 0.3, 0.34, col),
    ]
    if rng.random() < 0.5:
        parts.append(box(0, 0.08, 0.41, 0.37, 0.47, 0.025, _jit(rng, WHITES[1], 4)))
    return Obj(C["toilet"], parts, max(tw, 0.38), 0.7, 0.8)


def basin(w, d, z0, hh, col, wall=0.03):
    return [
        box(0, 0, z0, w, d, 0.03, col),
        box(0, -d / 2 + wall / 2, z0, w, wall, hh, col),
        box(0, d / 2 - wall / 2, z0, w, wall, hh, col),
        box(-w / 2 + wall / 2, 0, z0, wall, d - 2 * wall, hh, col),
        box(w / 2 - wall / 2, 0, z0, wall, d - 2 * wall, hh, col),
    ]


def mk_sink_pedestal(rng):
    col = _jit(rng, WHITES[0], 4)
    w, d = rng.uniform(0.45, 0.65), rng.uniform(0.38, 0.5)
    top = rng.uniform(0.8, 0.88)
    parts = basin(w, d, top - 0.17, 0.17, col, 0.04) + [cyl(0, -0.05, 0, top - 0.17, 0.09, col)]
    parts.append(cyl(0, -d / 2 + 0.06, top, top + 0.15, 0.015, GREYS[2]))
    return Obj(C["sink"], parts, w, d, top + 0.15)


def mk_bathtub(rng):
    L, w, h = rng.uniform(1.4, 1.75), rng.uniform(0.7, 0.82), rng.uniform(0.5, 0.6)
    col = _jit(rng, WHITES[0], 4)
    wall = rng.uniform(0.06, 0.1)
    parts = basin(L, w, 0, h, col, wall)
    parts[0] = box(0, 0, 0, L, w, 0.12, col)
    tub = Obj(C["bathtub"], parts, L, w, h)
    tub.wall_t = wall
    return tub


def curtain_parts(width, z0, z1, col, rng, depth=0.08):
    """Zig-zag folds: a row of thin slanted panels; local centre line y = 0."""
    n = max(2, int(width / rng.uniform(0.1, 0.16)))
    seg = width / n
    ang = rng.uniform(0.25, 0.5)
    L = seg / math.cos(ang)
    parts = []
    for k in range(n):
        x = -width / 2 + (k + 0.5) * seg
        a = ang if k % 2 == 0 else -ang
        parts.append(box(x, 0, z0, L + 0.01, 0.012, z1 - z0, col, "fabric", yaw=a))
    amp = seg / 2 * math.tan(ang) + 0.01
    return parts, amp


# ---------------------------------------------------------------- room layout
class Room:
    def __init__(self, rng, lx, ly, hz):
        self.rng, self.lx, self.ly, self.hz = rng, lx, ly, hz
        self.nx, self.ny = int(math.ceil(lx / GRID)), int(math.ceil(ly / GRID))
        self.occ = np.zeros((self.nx, self.ny), bool)  # floor footprint of furniture
        self.keep = np.zeros((self.nx, self.ny), bool)  # kept clear (door swing, walkway)
        self.wall_iv = {k: [] for k in range(4)}  # (s0, s1, z0, z1) taken on each wall
        self.objs: list[Obj] = []
        gx = (np.arange(self.nx) + 0.5) * GRID
        gy = (np.arange(self.ny) + 0.5) * GRID
        self.gx, self.gy = np.meshgrid(gx, gy, indexing="ij")

    def wall_len(self, k):
        return self.lx if k % 2 == 0 else self.ly

    def wall_frame(self, k, s):
        yaw = k * math.pi / 2
        if k == 0:
            p = (s, 0.0)
        elif k == 1:
            p = (self.lx, s)
        elif k == 2:
            p = (self.lx - s, self.ly)
        else:
            p = (0.0, self.ly - s)
        return np.array(p), yaw

    def footprint(self, pos, yaw, w, d, margin=0.0):
        R = _rot(yaw)
        dx, dy = self.gx - pos[0], self.gy - pos[1]
        u = R[0, 0] * dx + R[1, 0] * dy
        v = R[0, 1] * dx + R[1, 1] * dy
        return (np.abs(u) <= w / 2 + margin) & (np.abs(v) <= d / 2 + margin)

    def inside(self, pos, yaw, w, d):
        R = _rot(yaw)
        corners = np.array([[sx * w / 2, sy * d / 2] for sx in (-1, 1) for sy in (-1, 1)]) @ R.T + pos
        return (
            (corners.min(0) >= -1e-6).all()
            and corners[:, 0].max() <= self.lx + 1e-6
            and corners[:, 1].max() <= self.ly + 1e-6
        )

    def wall_free(self, k, s0, s1, z0, z1, margin=0.03):
        if s0 < -1e-6 or s1 > self.wall_len(k) + 1e-6:
            return False
        return all(
            s1 + margin <= a or s0 - margin >= b or z1 <= c or z0 >= e for a, b, c, e in self.wall_iv[k]
        )

    def try_floor(self, obj, pos, yaw, margin=0.03, walls=(), keep_ok=False, sreg=None):
        """Place a floor object if its footprint is free; walls: wall ids it stands against."""
        if not self.inside(pos, yaw, obj.w, obj.d):
            return False
        fp = self.footprint(pos, yaw, obj.w, obj.d, margin)
        if (fp & self.occ).any() or (not keep_ok and (fp & self.keep).any()):
            return False
        for k, s0, s1 in sreg or []:
            if not self.wall_free(k, s0, s1, 0, obj.h):
                return False
        self.occ |= self.footprint(pos, yaw, obj.w, obj.d)
        for k, s0, s1 in sreg or []:
            self.wall_iv[k].append((s0, s1, 0, obj.h))
        obj.pos, obj.yaw = np.asarray(pos, float), yaw
        self.objs.append(obj)
        return True

    def against_wall(self, obj, k=None, s=None, gap=None, tries=30, keep_ok=False, corner=None):
        rng = self.rng
        for _ in range(tries):
            kk = int(rng.integers(4)) if k is None else k
            L = self.wall_len(kk)
            if obj.w + 0.05 > L:
                continue
            if corner is not None:
                ss = obj.w / 2 + 0.005 if corner == 0 else L - obj.w / 2 - 0.005
            else:
                ss = rng.uniform(obj.w / 2, L - obj.w / 2) if s is None else s
            g = rng.uniform(0.0, 0.06) if gap is None else gap
            p, yaw = self.wall_frame(kk, ss)
            n = np.array([-math.sin(yaw), math.cos(yaw)])
            pos = p + n * (g + obj.d / 2 + 0.002)
            sreg = [(kk, ss - obj.w / 2, ss + obj.w / 2)]
            # near a corner it also occupies the start/end of the side wall
            reach = g + obj.d + 0.002
            if ss - obj.w / 2 < 0.2:
                kp = (kk - 1) % 4
                sreg.append((kp, self.wall_len(kp) - reach, self.wall_len(kp)))
            if ss + obj.w / 2 > L - 0.2:
                sreg.append(((kk + 1) % 4, 0.0, reach))
            if self.try_floor(obj, pos, yaw, 0.02, keep_ok=keep_ok, sreg=sreg):
                return kk, ss
            if s is not None and corner is None and k is not None:
                return None
        return None

    def free_spot(self, obj, wall_clear=0.4, tries=40, yaw=None, margin=0.05):
        rng = self.rng
        for _ in range(tries):
            a = rng.uniform(0, 2 * math.pi) if yaw is None else yaw
            r = 0.5 * math.hypot(obj.w, obj.d) + wall_clear
            if self.lx < 2 * r or self.ly < 2 * r:
                return False
            pos = np.array([rng.uniform(r, self.lx - r), rng.uniform(r, self.ly - r)])
            if self.try_floor(obj, pos, a, margin):
                return True
        return False

    def on_wall(self, obj, k, s, z0, margin=0.05):
        """Wall-mounted flat object (door, window, picture, curtain); object origin z = 0 at z0."""
        if not self.wall_free(k, s - obj.w / 2, s + obj.w / 2, z0, z0 + obj.h, margin):
            return False
        if z0 + obj.h > self.hz - 0.02:
            return False
        p, yaw = self.wall_frame(k, s)
        n = np.array([-math.sin(yaw), math.cos(yaw)])
        obj.pos, obj.yaw = p + n * (obj.d / 2 + 0.001), yaw
        for prt in obj.parts:
            prt["c"] = prt["c"] + np.array([0, 0, z0])
            if prt["t"] == "cyl":
                prt["z0"] += z0
                prt["z1"] += z0
        self.wall_iv[k].append((s - obj.w / 2, s + obj.w / 2, z0 - 0.04, z0 + obj.h))
        self.objs.append(obj)
        return True


# ---------------------------------------------------------------- wall objects
def mk_door(rng, room: Room):
    w, h = rng.uniform(0.8, 0.95), rng.uniform(2.0, 2.1)
    col = _jit(rng, _pick(rng, WOODS + WHITES[:2] + [(170, 160, 140)]))
    frame = _jit(rng, col, 10)
    f = rng.uniform(0.05, 0.08)
    parts = [
        box(0, -0.01, 0, w, 0.03, h, col, "wood"),
        box(-w / 2 - f / 2, 0.005, 0, f, 0.04, h + f, frame),
        box(w / 2 + f / 2, 0.005, 0, f, 0.04, h + f, frame),
        box(0, 0.005, h, w, 0.04, f, frame),
        box(w / 2 - 0.08, 0.06, 1.0, 0.12, 0.02, 0.025, GREYS[2]),
    ]
    return Obj(C["door"], parts, w + 2 * f, 0.05, h + f, wall_item=True)


def mk_window(rng, w, h):
    frame = _jit(rng, _pick(rng, WHITES + [GREYS[1], WOODS[1]]), 5)
    glass = (140, 160, 175)
    f = rng.uniform(0.04, 0.08)
    b = -0.075
    parts = [
        box(0, b + 0.012, f, w - 2 * f, 0.012, h - 2 * f, glass, "glass", alpha=0.15),
        box(0, b + 0.025, 0, w, 0.05, f, frame),
        box(0, b + 0.025, h - f, w, 0.05, f, frame),
        box(-w / 2 + f / 2, b + 0.025, f, f, 0.05, h - 2 * f, frame),
        box(w / 2 - f / 2, b + 0.025, f, f, 0.05, h - 2 * f, frame),
    ]
    if w > 0.9:
        parts.append(box(0, b + 0.025, f, 0.04, 0.05, h - 2 * f, frame))
    parts.append(box(0, b + 0.06, -0.03, w + 0.06, 0.12, 0.03, frame))  # sill
    return Obj(C["window"], parts, w + 0.06, 0.15, h, wall_item=True)


def mk_picture(rng):
    w, h = rng.uniform(0.3, 1.2), rng.uniform(0.3, 0.9)
    frame = _jit(rng, _pick(rng, WOODS + [GREYS[3], (200, 170, 60)]))
    img = _jit(rng, _pick(rng, FABRICS + WHITES), 30)
    th = rng.uniform(0.015, 0.04)
    return Obj(
        C["picture"],
        [box(0, 0, 0, w, th, h, frame), box(0, 0.002, 0.03, w - 0.06, th, h - 0.06, img, "image")],
        w,
        th + 0.004,
        h,
        wall_item=True,
    )


def add_door(rng, room: Room, k=None):
    for _ in range(20):
        kk = int(rng.integers(4)) if k is None else k
        d = mk_door(rng, room)
        L = room.wall_len(kk)
        if d.w + 0.2 > L:
            continue
        s = rng.uniform(d.w / 2 + 0.05, L - d.w / 2 - 0.05)
        if room.on_wall(d, kk, s, 0.0):
            p, yaw = room.wall_frame(kk, s)
            n = np.array([-math.sin(yaw), math.cos(yaw)])
            room.keep |= room.footprint(p + n * 0.55, yaw, d.w + 0.1, 1.1)
            return True
    return False


def add_window(rng, room: Room, k=None, curtains=0.5, small=False):
    for _ in range(15):
        kk = int(rng.integers(4)) if k is None else k
        w = rng.uniform(0.5, 0.9) if small else rng.uniform(0.8, min(2.4, room.wall_len(kk) - 0.8))
        h = rng.uniform(0.6, 1.0) if small else rng.uniform(1.0, 1.6)
        z0 = rng.uniform(0.8, 1.3) if not small else rng.uniform(1.3, 1.6)
        z0 = min(z0, room.hz - h - 0.15)
        if w < 0.4 or z0 < 0.4:
            continue
        win = mk_window(rng, w, h)
        L = room.wall_len(kk)
        s = rng.uniform(win.w / 2 + 0.1, L - win.w / 2 - 0.1) if win.w + 0.2 < L else None
        if s is None or not room.on_wall(win, kk, s, z0):
            continue
        if rng.random() < curtains:  # curtains hang in front of the window, to the floor
            col = _jit(rng, _pick(rng, FABRICS + WHITES))
            ztop = min(room.hz - 0.05, z0 + h + rng.uniform(0.1, 0.3))
            zbot = rng.uniform(0.0, 0.05) if rng.random() < 0.7 else z0 - 0.15
            both = rng.random() < 0.7
            for side in (-1, 1) if both else (int(rng.choice([-1, 1])),):
                cw = rng.uniform(0.4, 0.9) if both else rng.uniform(0.6, 1.4)
                parts, amp = curtain_parts(cw, 0.0, ztop - zbot, col, rng)
                off = 0.135 + amp  # centre line: folds stay in front of the window and sill
                for p in parts:
                    p["c"] = p["c"] + np.array([0, off, 0])
                cur = Obj(C["curtain"], parts, cw, 2 * (amp + 0.01), ztop - zbot, wall_item=True)
                sc = s + side * (win.w / 2 + cw / 2 - rng.uniform(0.1, 0.35))
                if sc - cw / 2 < 0.02 or sc + cw / 2 > L - 0.02:
                    continue
                # keep wall intervals consistent: a curtain may overlap its own window only
                iv = room.wall_iv[kk]
                win_iv = iv[-1] if iv and iv[-1][3] > z0 else None
                others = [t for t in iv if t is not win_iv]
                ok = all(
                    sc + cw / 2 + 0.03 <= a or sc - cw / 2 - 0.03 >= b or ztop <= c or zbot >= e
                    for a, b, c, e in others
                )
                if not ok or zbot + (ztop - zbot) > room.hz:
                    continue
                p0, yaw = room.wall_frame(kk, sc)
                n = np.array([-math.sin(yaw), math.cos(yaw)])
                depth = off + amp + 0.01
                if zbot < 0.3:
                    fp = room.footprint(p0 + n * depth / 2, yaw, cw, depth)
                    if (fp & room.occ).any():
                        continue
                    room.occ |= fp
                for p in cur.parts:
                    p["c"] = p["c"] + np.array([0, 0, zbot])
                cur.pos, cur.yaw = p0 + n * 0.0, yaw
                iv.append((sc - cw / 2, sc + cw / 2, zbot, ztop))
                room.objs.append(cur)
        return True
    return False


def add_pictures(rng, room: Room, n):
    for _ in range(n):
        for _ in range(10):
            p = mk_picture(rng)
            k = int(rng.integers(4))
            L = room.wall_len(k)
            if p.w + 0.3 > L:
                continue
            z0 = rng.uniform(1.1, 1.8) - p.h / 2
            if room.on_wall(p, k, rng.uniform(p.w / 2 + 0.1, L - p.w / 2 - 0.1), z0, 0.1):
                break


def row_along_wall(room: Room, k, s0, objs, gap=0.0):
    """Objects side by side against wall k starting at s0; returns those placed."""
    placed, s = [], s0
    for o in objs:
        if s + o.w > room.wall_len(k):
            break
        if room.against_wall(o, k=k, s=s + o.w / 2, gap=0.0, tries=1) is None:
            break  # keep the row contiguous (the counter spans it)
        placed.append((o, s + o.w / 2))
        s += o.w + gap
    return placed


def around_table(rng, room: Room, table: Obj, n, kind=None):
    R = _rot(table.yaw)
    slots = []
    long_x = table.w >= table.d
    nx = max(1, int(table.w / 0.62)) if long_x else 1
    for sy in (-1, 1):
        for i in range(nx):
            x = -table.w / 2 + (i + 0.5) * table.w / nx
            slots.append((x, sy * (table.d / 2), 0.0 if sy < 0 else math.pi))
    for sx in (-1, 1):
        slots.append((sx * table.w / 2, 0.0, -sx * math.pi / 2))
    rng.shuffle(slots)
    kind = kind or _pick(rng, ["wood", "wood", "office", "plastic", "arm"])
    placed = 0
    for x, y, _a in slots:
        if placed >= n:
            break
        ch = mk_chair(rng, kind)
        # chair front (+y local) faces the table: chair yaw so that local +y points at table
        dirv = (
            np.array([0.0, -math.copysign(1, y)]) if abs(y) > 1e-9 else np.array([-math.copysign(1, x), 0.0])
        )
        yaw = math.atan2(-dirv[0], dirv[1]) + table.yaw + rng.normal(0, 0.07)
        off = ch.d / 2 + rng.uniform(0.05, 0.25)
        local = np.array([x, y]) - dirv * off
        pos = table.pos + R @ local
        if room.try_floor(ch, pos, yaw, 0.03):
            placed += 1
    return placed


# ---------------------------------------------------------------- room recipes
def furnish(rng, room: Room, rtype):
    r = rng.random
    add_door(rng, room)
    if r() < 0.2:
        add_door(rng, room)
    if rtype == "bathroom":
        add_window(rng, room, curtains=0.0, small=True) if r() < 0.6 else None
        tub = mk_bathtub(rng)
        got = room.against_wall(tub, corner=int(rng.integers(2)), gap=0.0, tries=20)
        if got is not None and r() < 0.85:
            k, s = got
            cw = tub.w - 2 * tub.wall_t - 0.06
            ztop = min(room.hz - 0.05, rng.uniform(1.9, 2.1))
            z0 = tub.h + 0.02 if r() < 0.7 else tub.h - 0.2
            col = _jit(rng, _pick(rng, WHITES + FABRICS))
            parts, amp = curtain_parts(cw, z0, ztop, col, rng, 0.04)
            p0, yaw = room.wall_frame(k, s)
            n = np.array([-math.sin(yaw), math.cos(yaw)])
            front = tub.d - tub.wall_t / 2 if z0 >= tub.h else tub.d - tub.wall_t - amp - 0.025
            sc = Obj(C["shower curtain"], parts, cw, 2 * amp, ztop)
            sc.pos, sc.yaw = p0 + n * front, yaw
            room.objs.append(sc)
            room.wall_iv[k].append((s - tub.w / 2, s + tub.w / 2, 0, ztop))
        t = mk_toilet(rng)
        room.against_wall(t, gap=rng.uniform(0.0, 0.05))
        if r() < 0.5:
            room.against_wall(mk_sink_pedestal(rng))
        else:  # vanity cabinet with a basin on top
            vc = mk_cabinet(rng, "low", w=rng.uniform(0.6, 1.1))
            vc.h = rng.uniform(0.78, 0.84)
            vc.parts = [box(0, 0.01, 0, vc.w, 0.46, vc.h, vc.parts[0]["col"], "doors")]
            vc.d = 0.48
            got = room.against_wall(vc)
            if got is not None:
                bw = min(vc.w - 0.1, rng.uniform(0.45, 0.6))
                sk = Obj(C["sink"], basin(bw, 0.4, vc.h, 0.14, _jit(rng, WHITES[0], 4)), bw, 0.4, 0.14)
                sk.pos, sk.yaw = vc.pos + _rot(vc.yaw) @ np.array([0, 0.01]), vc.yaw
                room.objs.append(sk)
        if r() < 0.5:
            room.against_wall(mk_cabinet(rng, "tall", w=rng.uniform(0.4, 0.6)))
        if r() < 0.6:
            room.against_wall(mk_other(rng, _pick(rng, ["bin", "washer"])))
        add_pictures(rng, room, int(rng.integers(0, 2)))
        return
    nwin = int(rng.integers(1, 4))
    for _ in range(nwin):
        add_window(rng, room, curtains=0.6 if rtype in ("bedroom", "living") else 0.3)
    if rtype == "kitchen":
        k = int(rng.integers(4))
        L = room.wall_len(k)
        s0 = rng.uniform(0.0, 0.4)
        if r() < 0.7:
            fr = mk_fridge(rng)
            if room.against_wall(fr, k=k, s=s0 + fr.w / 2, gap=0.02, tries=1) is not None:
                s0 += fr.w + 0.03
        cabs = [
            mk_cabinet(rng, "base", w=float(rng.choice([0.4, 0.45, 0.6, 0.6, 0.8, 0.9])))
            for _ in range(int(rng.integers(2, 7)))
        ]
        placed = row_along_wall(room, k, s0, cabs, 0.002)
        if placed:
            a = placed[0][1] - placed[0][0].w / 2
            b = placed[-1][1] + placed[-1][0].w / 2
            ctop = _jit(rng, _pick(rng, [GREYS[3], GREYS[4], WHITES[1], WOODS[2], (40, 40, 45)]))
            cd, ct = 0.62, rng.uniform(0.03, 0.045)
            sink_at = None
            if r() < 0.75 and b - a > 1.3:
                sink_at = rng.uniform(a + 0.5, b - 0.5)
            pieces = [(a, b)] if sink_at is None else [(a, sink_at - 0.3), (sink_at + 0.3, b)]
            cparts = []
            mid = (a + b) / 2
            for p0, p1 in pieces:
                p0 = max(p0 - 0.01, 0.0) if p0 == a else p0
                p1 = min(p1 + 0.01, L) if p1 == b else p1
                cparts.append(box((p0 + p1) / 2 - mid, 0, 0.86, p1 - p0, cd, ct, ctop, "stone"))
            pw, yaw = room.wall_frame(k, mid)
            n = np.array([-math.sin(yaw), math.cos(yaw)])
            cnt = Obj(C["counter"], cparts, b - a, cd, 0.86 + ct)
            cnt.pos, cnt.yaw = pw + n * (cd / 2 + 0.002), yaw
            room.objs.append(cnt)
            if sink_at is not None:
                col = _jit(rng, _pick(rng, [GREYS[2], GREYS[4], WHITES[0]]), 4)
                sk = Obj(
                    C["sink"],
                    basin(0.6, 0.5, 0.86, ct + 0.06, col, 0.02)
                    + [cyl(0, -0.2, 0.86 + ct, 0.86 + ct + 0.25, 0.015, GREYS[2])],
                    0.6,
                    0.5,
                    0.3,
                )
                ps, _ = room.wall_frame(k, sink_at)
                sk.pos, sk.yaw = ps + n * (0.31 + 0.002), yaw
                room.objs.append(sk)
            if r() < 0.8:  # upper cabinets
                zu = rng.uniform(1.4, 1.55)
                s = a
                while s < b - 0.35:
                    uw = min(float(rng.choice([0.4, 0.6, 0.8])), b - s)
                    uc = mk_cabinet(rng, "upper", w=uw)
                    uc.h = min(uc.h, room.hz - zu - 0.05)
                    uc.parts = [box(0, 0.0, 0, uw - 0.004, uc.d, uc.h, uc.parts[0]["col"], "doors")]
                    room.on_wall(uc, k, s + uw / 2, zu, margin=0.0)
                    s += uw
        if r() < 0.7:
            t = mk_table(rng, _pick(rng, ["dining", "round"]))
            if room.free_spot(t, 0.7):
                around_table(rng, room, t, int(rng.integers(2, 5)))
        for _ in range(int(rng.integers(0, 3))):
            room.against_wall(mk_cabinet(rng, _pick(rng, ["low", "tall"])))
        if r() < 0.7:
            room.against_wall(mk_other(rng, "bin"))
    elif rtype == "bedroom":
        bed = mk_bed(rng)
        got = room.against_wall(bed, gap=0.0, tries=40)
        if got is not None:
            k, s = got
            for side in (-1, 1):
                if r() < 0.7:
                    ns = mk_nightstand(rng)
                    ss = s + side * (bed.w / 2 + ns.w / 2 + rng.uniform(0.03, 0.1))
                    room.against_wall(ns, k=k, s=ss, tries=1)
        if r() < 0.8:
            room.against_wall(mk_cabinet(rng, _pick(rng, ["wardrobe", "wardrobe", "low", "tall"])))
        if r() < 0.5:
            d = mk_desk(rng)
            got = room.against_wall(d)
            if got is not None:
                ch = mk_chair(rng)
                room.try_floor(
                    ch,
                    d.pos + _rot(d.yaw) @ np.array([0, d.d / 2 + ch.d / 2 + 0.1]),
                    d.yaw + math.pi + rng.normal(0, 0.2),
                )
        for _ in range(int(rng.integers(0, 2))):
            room.against_wall(mk_bookshelf(rng))
        for _ in range(int(rng.integers(1, 4))):
            room.against_wall(mk_other(rng, _pick(rng, ["bin", "ottoman", "crate", "coatrack"])))
        if r() < 0.5:
            room.against_wall(mk_cabinet(rng, "low"))
        if r() < 0.4:
            room.against_wall(mk_chair(rng, "arm"), gap=0.1)
        add_pictures(rng, room, int(rng.integers(0, 4)))
    elif rtype == "living":
        so = mk_sofa(rng)
        got = room.against_wall(so, tries=40) if r() < 0.7 else (room.free_spot(so, 0.5) or None)
        if got is not None or so in room.objs:
            ct = mk_table(rng, "coffee")
            R = _rot(so.yaw)
            room.try_floor(
                ct,
                so.pos + R @ np.array([0, so.d / 2 + ct.d / 2 + rng.uniform(0.3, 0.5)]),
                so.yaw + rng.normal(0, 0.05),
            )
        if r() < 0.5:
            room.against_wall(mk_sofa(rng), tries=20)
        for _ in range(int(rng.integers(1, 4))):
            room.free_spot(mk_chair(rng, _pick(rng, ["arm", "wood"])), 0.3)
        if r() < 0.7:
            room.against_wall(mk_other(rng, "tvstand"))
        for _ in range(int(rng.integers(0, 3))):
            room.against_wall(mk_bookshelf(rng))
        for _ in range(int(rng.integers(0, 3))):
            room.against_wall(mk_table(rng, "side"))
        if r() < 0.5:
            room.against_wall(mk_cabinet(rng, "low"))
        for _ in range(int(rng.integers(0, 3))):
            room.against_wall(mk_other(rng, _pick(rng, ["bin", "ottoman", "piano", "coatrack"])))
        add_pictures(rng, room, int(rng.integers(1, 4)))
    elif rtype == "office":
        nd = int(rng.integers(1, 5))
        for _ in range(nd):
            d = mk_desk(rng)
            placed = room.against_wall(d) if r() < 0.75 else (room.free_spot(d, 0.8) or None)
            if placed is not None:
                ch = mk_chair(rng, "office" if r() < 0.8 else None)
                room.try_floor(
                    ch,
                    d.pos + _rot(d.yaw) @ np.array([rng.normal(0, 0.1), d.d / 2 + ch.d / 2 + 0.08]),
                    d.yaw + math.pi + rng.normal(0, 0.4),
                )
        for _ in range(int(rng.integers(0, 4))):
            room.against_wall(mk_bookshelf(rng))
        for _ in range(int(rng.integers(0, 4))):
            room.against_wall(mk_cabinet(rng, _pick(rng, ["file", "low", "tall"])))
        if r() < 0.4:
            t = mk_table(rng, _pick(rng, ["work", "round"]))
            if room.free_spot(t, 0.8):
                around_table(rng, room, t, int(rng.integers(1, 5)))
        for _ in range(int(rng.integers(1, 4))):
            room.against_wall(mk_other(rng, _pick(rng, ["bin", "bin", "crate", "coatrack"])))
        if r() < 0.5:
            room.against_wall(mk_sofa(rng))
        add_pictures(rng, room, int(rng.integers(0, 3)))
    else:  # dining / meeting room
        t = mk_table(rng, _pick(rng, ["dining", "work", "round"]))
        if room.free_spot(t, 0.8, tries=60):
            around_table(rng, room, t, int(rng.integers(3, 11)))
        for _ in range(int(rng.integers(0, 3))):
            room.against_wall(mk_cabinet(rng, _pick(rng, ["low", "tall"])))
        for _ in range(int(rng.integers(0, 4))):
            room.against_wall(mk_chair(rng))
        if r() < 0.5:
            room.against_wall(mk_bookshelf(rng))
        if r() < 0.5:
            room.against_wall(mk_other(rng))
        add_pictures(rng, room, int(rng.integers(0, 4)))


ROOM_TYPES = ("bedroom", "living", "office", "kitchen", "bathroom", "dining")


# ---------------------------------------------------------------- ray casting
def _local(p, o, D):
    c, s = math.cos(p["yaw"]), math.sin(p["yaw"])
    ox, oy, oz = o - p["c"]
    lo = np.array([c * ox + s * oy, -s * ox + c * oy, oz])
    LD = np.empty_like(D)
    LD[:, 0] = c * D[:, 0] + s * D[:, 1]
    LD[:, 1] = -s * D[:, 0] + c * D[:, 1]
    LD[:, 2] = D[:, 2]
    return lo, LD


def _hit_box(p, o, D):
    lo, LD = _local(p, o, D)
    h = p["h"]
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / np.where(np.abs(LD) < 1e-12, 1e-12, LD)
        t1 = (-h - lo) * inv
        t2 = (h - lo) * inv
    tmin = np.minimum(t1, t2).max(1)
    tmax = np.maximum(t1, t2).min(1)
    ok = (tmax >= tmin) & (tmin > 1e-4)
    return np.where(ok, tmin, np.inf)


def _hit_cyl(p, o, D):
    ox, oy, oz = o - p["c"]
    r = p["r"]
    a = D[:, 0] ** 2 + D[:, 1] ** 2
    b = 2 * (ox * D[:, 0] + oy * D[:, 1])
    cc = ox * ox + oy * oy - r * r
    disc = b * b - 4 * a * cc
    with np.errstate(invalid="ignore", divide="ignore"):
        ts = (-b - np.sqrt(disc)) / (2 * a)
    z = o[2] + ts * D[:, 2]
    t = np.where((disc > 0) & (ts > 1e-4) & (z >= p["z0"]) & (z <= p["z1"]), ts, np.inf)
    for zc, sgn in ((p["z1"], -1), (p["z0"], 1)):
        with np.errstate(divide="ignore", invalid="ignore"):
            tc = (zc - o[2]) / D[:, 2]
        xx, yy = ox + tc * D[:, 0], oy + tc * D[:, 1]
        okc = (tc > 1e-4) & (sgn * D[:, 2] > 0) & (xx * xx + yy * yy <= r * r)
        t = np.where(okc & (tc < t), tc, t)
    return t


def _hit_ell(p, o, D):
    lo, LD = _local(p, o, D)
    lo = lo / p["h"]
    LD = LD / p["h"]
    a = (LD * LD).sum(1)
    b = 2 * (LD @ lo)
    cc = lo @ lo - 1
    disc = b * b - 4 * a * cc
    with np.errstate(invalid="ignore"):
        t = (-b - np.sqrt(disc)) / (2 * a)
    return np.where((disc > 0) & (t > 1e-4), t, np.inf)


HIT = {"box": _hit_box, "cyl": _hit_cyl, "ell": _hit_ell}


def _bsphere(p):
    if p["t"] == "cyl":
        return p["c"], math.hypot(p["r"], (p["z1"] - p["z0"]) / 2)
    return p["c"], float(np.linalg.norm(p["h"]))


def _normals_local(p, X):
    """Outward normals and local coordinates (for texture) at world hit points X."""
    c, s = math.cos(p["yaw"]), math.sin(p["yaw"])
    d = X - p["c"]
    L = np.stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1], d[:, 2]], 1)
    if p["t"] == "box":
        q = np.abs(L) / p["h"]
        ax = q.argmax(1)
        nl = np.zeros_like(L)
        nl[np.arange(len(L)), ax] = np.sign(L[np.arange(len(L)), ax])
    elif p["t"] == "ell":
        nl = L / p["h"] ** 2
    else:
        nl = np.stack([L[:, 0], L[:, 1], np.zeros(len(L))], 1)
        top = np.abs(X[:, 2] - p["z1"]) < 1e-5
        bot = np.abs(X[:, 2] - p["z0"]) < 1e-5
        nl[top] = (0, 0, 1)
        nl[bot] = (0, 0, -1)
    nl /= np.linalg.norm(nl, axis=1, keepdims=True) + 1e-12
    n = np.stack([c * nl[:, 0] - s * nl[:, 1], s * nl[:, 0] + c * nl[:, 1], nl[:, 2]], 1)
    return n, L


def _hash(ix, iy, iz, salt):
    h = (
        (ix.astype(np.int64) * 73856093)
        ^ (iy.astype(np.int64) * 19349663)
        ^ (iz.astype(np.int64) * 83492791)
        ^ (salt * 2654435761)
    )
    h = (h ^ (h >> 13)) * 1274126177
    return ((h ^ (h >> 16)) & 0xFFFF).astype(np.float32) / 65535.0


def _texture(p, L, n, rng_salt):
    """Multiplicative texture and optional colour override for hits on part p (local coords L)."""
    tex = p["tex"]
    base = np.broadcast_to(np.array(p["col"], np.float32), (len(L), 3)).copy()
    u, v, w = L[:, 0], L[:, 1], L[:, 2]
    f = np.ones(len(L), np.float32)
    if tex == "wood":
        along = np.where(np.abs(n[:, 2]) > 0.7, u, u + w)
        f = (
            1
            + 0.08 * np.sin(along * 60 + 3 * np.sin(v * 9 + w * 7))
            + 0.05 * (_hash(np.floor(u / 0.04), np.floor(v / 0.04), np.floor(w / 0.04), rng_salt) - 0.5)
        )
    elif tex in ("fabric", "carpet"):
        f = (
            1
            + 0.1 * (_hash(np.floor(u / 0.02), np.floor(v / 0.02), np.floor(w / 0.02), rng_salt) - 0.5)
            + 0.08 * (_hash(np.floor(u / 0.15), np.floor(v / 0.15), np.floor(w / 0.15), rng_salt + 1) - 0.5)
        )
    elif tex == "stone":
        f = 1 + 0.16 * (_hash(np.floor(u / 0.015), np.floor(v / 0.015), np.floor(w / 0.015), rng_salt) - 0.5)
    elif tex in ("doors", "drawers"):
        h = p["h"] if "h" in p else np.array([1, 1, 1])
        if tex == "doors":
            nd = max(1, int(round(2 * h[0] / 0.45)))
            gu = ((u + h[0]) * nd / (2 * h[0])) % 1.0
            seam = (gu < 0.02) | (gu > 0.98)
        else:
            nd = max(2, int(round(2 * h[2] / 0.25)))
            gw = ((w + h[2]) * nd / (2 * h[2])) % 1.0
            seam = (gw < 0.03) | (gw > 0.97)
        front = n[:, 1] > 0.7
        f = np.where(front & seam, 0.55, 1.0) * (
            1 + 0.04 * (_hash(np.floor(u / 0.05), np.floor(v / 0.05), np.floor(w / 0.05), rng_salt) - 0.5)
        )
    elif tex == "books":
        bw = 0.02 + 0.03 * _hash(np.floor(u / 0.03), np.zeros_like(u), np.zeros_like(u), rng_salt)
        idx = (_hash(np.floor(u / 0.035), np.ones_like(u), np.zeros_like(u), rng_salt) * len(BOOKS)).astype(
            int
        )
        idx = np.minimum(idx, len(BOOKS) - 1)
        base = (
            BOOKS[idx]
            * (0.85 + 0.3 * _hash(np.floor(u / 0.035), np.floor(w / 0.05), np.ones_like(u), rng_salt))[
                :, None
            ]
        )
        del bw
    elif tex == "image":
        base = (
            base
            * (0.6 + 0.8 * _hash(np.floor(u / 0.08), np.floor(w / 0.08), np.zeros_like(u), rng_salt))[:, None]
        )
        base = base * (
            0.8
            + 0.4
            * np.stack(
                [
                    _hash(np.floor(u / 0.12), np.floor(w / 0.12), np.full_like(u, k), rng_salt)
                    for k in range(3)
                ],
                1,
            )
        )
    elif tex == "tile":
        ts = 0.3 + 0.3 * ((rng_salt % 3) / 2)
        gu, gv = (u / ts) % 1.0, (v / ts) % 1.0
        grout = (gu < 0.02) | (gu > 0.98) | (gv < 0.02) | (gv > 0.98)
        f = np.where(grout, 0.7, 1.0) * (
            1 + 0.06 * (_hash(np.floor(u / ts), np.floor(v / ts), np.zeros_like(u), rng_salt) - 0.5)
        )
    elif tex == "floorwood":
        pw = 0.12 + 0.08 * ((rng_salt % 5) / 4)
        plank = np.floor(v / pw)
        f = (
            1
            + 0.18 * (_hash(plank, np.floor((u + plank * 0.37) / 1.2), np.zeros_like(u), rng_salt) - 0.5)
            + 0.05 * np.sin(u * 40 + plank * 2)
        )
        f = np.where(((v / pw) % 1.0) < 0.03, 0.75, f)
    elif tex == "wall":
        f = 1 + 0.03 * (_hash(np.floor(u / 0.3), np.floor(v / 0.3), np.floor(w / 0.3), rng_salt) - 0.5)
    return base * f[:, None]


def _room_walls_hit(o, D, lx, ly, hz):
    """Exit point of rays leaving the room box from inside; ids: 0..3 walls, 4 floor, 5 open top."""
    with np.errstate(divide="ignore", invalid="ignore"):
        tx = np.where(D[:, 0] > 0, (lx - o[0]) / D[:, 0], -o[0] / D[:, 0])
        ty = np.where(D[:, 1] > 0, (ly - o[1]) / D[:, 1], -o[1] / D[:, 1])
        tz = np.where(D[:, 2] > 0, (hz - o[2]) / D[:, 2], -o[2] / D[:, 2])
    T = np.stack([tx, ty, tz], 1)
    T = np.where(np.isfinite(T) & (T > 0), T, np.inf)
    ax = T.argmin(1)
    t = T[np.arange(len(D)), ax]
    wid = np.where(
        ax == 0,
        np.where(D[:, 0] > 0, 1, 3),
        np.where(ax == 1, np.where(D[:, 1] > 0, 2, 0), np.where(D[:, 2] > 0, 5, 4)),
    )
    return t, wid


# ---------------------------------------------------------------- main entry
def make_room(seed: int, n_points: int) -> dict:
    rng = np.random.default_rng([int(seed), 0xC0FFEE])
    rtype = ROOM_TYPES[seed % len(ROOM_TYPES)]  # balanced: every 6 consecutive seeds cover all types
    if rtype == "bathroom":
        lx, ly = rng.uniform(3.0, 4.2), rng.uniform(3.0, 4.0)
    elif rtype in ("bedroom", "kitchen"):
        lx, ly = rng.uniform(3.2, 6.0), rng.uniform(3.0, 5.5)
    else:
        lx, ly = rng.uniform(4.0, 9.0), rng.uniform(3.5, 8.0)
    hz = rng.uniform(2.4, 3.2)
    room = Room(rng, lx, ly, hz)
    if rng.random() < 0.2:  # a pillar or short partition wall, labelled wall
        pw, pd = rng.uniform(0.3, 0.6), rng.uniform(0.3, 1.2)
        pil = Obj(C["wall"], [box(0, 0, 0, pw, pd, hz, (0, 0, 0), "wall")], pw, pd, hz)
        k = int(rng.integers(4))
        room.against_wall(pil, k=k, gap=0.0, tries=5)
    furnish(rng, room, rtype)
    # objects must keep 4..25 instances
    objs = [o for o in room.objs if o.sem not in (0, 1)]
    while len(objs) > 25:
        drop = objs.pop(int(rng.integers(len(objs))))
        room.objs.remove(drop)
    extra = 0
    while len(objs) < 4 and extra < 30:
        extra += 1
        o = mk_other(rng) if rng.random() < 0.5 else mk_chair(rng)
        if room.against_wall(o, tries=5) is not None or room.free_spot(o, 0.3, tries=5):
            objs.append(o)
    for i, o in enumerate(o for o in room.objs if o.sem not in (0, 1)):
        o.inst = i

    # flatten parts
    parts, psem, pinst = [], [], []
    for o in room.objs:
        for p in o.world_parts():
            parts.append(p)
            psem.append(o.sem)
            pinst.append(o.inst)
    wall_col = _jit(rng, _pick(rng, WALLS), 6)
    ftex, fcol = _pick(rng, FLOORS)
    fcol = _jit(rng, fcol, 8)
    ftex = {"wood": "floorwood"}.get(ftex, ftex)
    for p in parts:
        if p["tex"] == "wall":
            p["col"] = wall_col

    # cameras: free floor cells, away from walls, 1.1..1.7 m high
    free = ~room.occ
    inner = room.footprint(np.array([lx / 2, ly / 2]), 0.0, max(lx - 1.0, 0.2), max(ly - 1.0, 0.2))
    occ_d = room.occ.copy()
    for sh in ((1, 0), (-1, 0), (0, 1), (0, -1)):  # grow obstacles a little
        occ_d |= np.roll(room.occ, sh, (0, 1))
    cand = np.argwhere(free & inner & ~occ_d)
    if len(cand) == 0:
        cand = np.argwhere(inner)
    n_cam = int(rng.integers(3, 7))
    cams = []
    for _ in range(n_cam):
        i, j = cand[int(rng.integers(len(cand)))]
        cams.append(np.array([(i + rng.random()) * GRID, (j + rng.random()) * GRID, rng.uniform(1.1, 1.7)]))
    gains = rng.uniform(0.85, 1.12, n_cam)

    sphere = [_bsphere(p) for p in parts]
    sig = rng.uniform(0.002, 0.008)
    light = np.array([rng.normal(), rng.normal(), 2.0])
    light /= np.linalg.norm(light)
    W0 = rng.uniform(1.6, 2.2)  # sqrt-distance scale: a head-on surface this far keeps all hits

    acc_parts = []
    n_acc, rounds = 0, 0
    raw = int(n_points * 2.3) + 3000
    while n_acc < n_points and rounds < 10:
        rounds += 1
        per = raw // n_cam + 1
        Xs, pids, ts, cs, Ds = [], [], [], [], []
        for ci, o in enumerate(cams):
            dz = rng.uniform(-0.97, 0.35, per)
            az = rng.uniform(0, 2 * math.pi, per)
            rr = np.sqrt(1 - dz * dz)
            D = np.stack([rr * np.cos(az), rr * np.sin(az), dz], 1)
            t, wid = _room_walls_hit(o, D, lx, ly, hz)
            pid = np.where(wid == 5, -1, -2 - wid)  # -2..-6: walls/floor, -1: escapes (no ceiling)
            for k, p in enumerate(parts):
                c, rad = sphere[k]
                v = c - o
                dist = float(np.linalg.norm(v))
                if dist > rad:
                    cosl = math.sqrt(max(0.0, 1 - (rad / dist) ** 2))
                    sel = np.nonzero(D @ (v / dist) >= cosl)[0]
                    if len(sel) == 0:
                        continue
                    sel = sel[t[sel] > dist - rad]
                    if len(sel) == 0:
                        continue
                else:
                    sel = np.arange(len(D))
                th = HIT[p["t"]](p, o, D[sel])
                better = th < t[sel]
                if better.any():
                    idx = sel[better]
                    t[idx] = th[better]
                    pid[idx] = k
            keep = pid != -1
            Xs.append(o + t[keep, None] * D[keep])
            pids.append(pid[keep])
            ts.append(t[keep])
            cs.append(np.full(int(keep.sum()), ci))
            Ds.append(D[keep])
        X, pid, tt = np.concatenate(Xs), np.concatenate(pids), np.concatenate(ts)
        cam, Dk = np.concatenate(cs), np.concatenate(Ds)
        nP = len(X)
        normals = np.zeros((nP, 3))
        rgb = np.zeros((nP, 3), np.float32)
        sem = np.zeros(nP, np.int64)
        ins = np.full(nP, -100, np.int64)
        alpha = np.ones(nP)
        for wid in range(5):  # room shell
            m = pid == -2 - wid
            if not m.any():
                continue
            Xm = X[m]
            if wid == 4:
                normals[m] = (0, 0, 1)
                sem[m] = 1
                fake = {"tex": ftex, "col": fcol, "h": np.array([1, 1, 1])}
                rgb[m] = _texture(fake, Xm, normals[m], 7 + seed % 5)
            else:
                normals[m] = {0: (0, 1, 0), 1: (-1, 0, 0), 2: (0, -1, 0), 3: (1, 0, 0)}[wid]
                sem[m] = 0
                fake = {"tex": "wall", "col": wall_col, "h": np.array([1, 1, 1])}
                L = np.stack([Xm[:, 0] + Xm[:, 1], Xm[:, 2], np.zeros(len(Xm))], 1)
                col = _texture(fake, L, normals[m], 11)
                rgb[m] = np.where((Xm[:, 2] < 0.08)[:, None], col * 0.8, col)  # baseboard
        order = np.argsort(pid, kind="stable")
        bounds = np.searchsorted(pid[order], np.arange(len(parts) + 1))
        for k, p in enumerate(parts):
            idx = order[bounds[k] : bounds[k + 1]]
            if len(idx) == 0:
                continue
            n_, L = _normals_local(p, X[idx])
            normals[idx] = n_
            rgb[idx] = _texture(p, L, n_, (seed * 131 + k) % 100003)
            sem[idx] = psem[k]
            ins[idx] = pinst[k]
            alpha[idx] = p["alpha"]
        shade = 0.6 + 0.45 * np.abs(normals @ light)
        shade *= 1.0 - 0.05 * np.clip(tt - 2.0, 0, 6)  # far surfaces a bit darker
        rgb = rgb * (shade * gains[cam])[:, None] + rng.normal(0, 3.0, rgb.shape)
        rgb = np.clip(rgb, 0, 255)
        # fused-mesh-like thinning: density ~ r^-1.5 instead of r^-2, less grazing loss, sparse glass
        inc = np.abs((Dk * normals).sum(1))
        w = np.clip(tt / W0, 0.15, None) ** 0.25 / np.clip(inc, 0.25, 1.0) ** 0.6 * alpha * 0.5
        # the operator dwells on furniture: walls (upper walls most) are scanned less
        w *= np.where(sem == 0, np.where(X[:, 2] > 1.8, 0.3, 0.6), np.where(sem == 1, 0.7, 1.0))
        a = rng.random(nP) < w
        acc_parts.append((X[a], normals[a], rgb[a], sem[a], ins[a]))
        n_acc += int(a.sum())
        frac = max(a.mean(), 0.05)
        raw = int((n_points - n_acc) / frac * 1.1) + 3000
    X, normals, rgb, sem, ins = (np.concatenate(z) for z in zip(*acc_parts, strict=False))
    pick = np.sort(rng.choice(len(X), n_points, replace=len(X) < n_points))
    X, normals, rgb, sem, ins = X[pick], normals[pick], rgb[pick], sem[pick], ins[pick]
    # scanner noise: along normal plus a little tangential
    X = X + normals * rng.normal(0, sig, (n_points, 1)) + rng.normal(0, sig * 0.4, X.shape)
    # contiguous instance ids
    u = np.unique(ins[ins >= 0])
    remap = np.full(u.max() + 1 if len(u) else 1, -100, np.int64)
    remap[u] = np.arange(len(u))
    ins = np.where(ins >= 0, remap[np.clip(ins, 0, None)], -100)
    perm = rng.permutation(n_points)
    pts = np.concatenate([X, rgb], 1).astype(np.float32)[perm]
    return {
        "points": pts,
        "semantic_labels": sem[perm].astype(np.int64),
        "instance_labels": ins[perm].astype(np.int64),
        "room_type": rtype,
        "size": (lx, ly, hz),
        "parts": list(zip(parts, psem, pinst, strict=False)),
    }


def save_png(room: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    P, ins, sem = room["points"], room["instance_labels"], room["semantic_labels"]
    fig, axs = plt.subplots(1, 2, figsize=(16, 8))
    order = np.argsort(P[:, 2])
    cols = np.full((len(P), 3), 0.85)
    cols[sem == 1] = 0.93
    rng = np.random.default_rng(0)
    pal = rng.uniform(0.1, 0.9, (max(1, ins.max() + 1), 3))
    m = ins >= 0
    cols[m] = pal[ins[m]]
    axs[0].scatter(P[order, 0], P[order, 1], c=cols[order], s=0.3, linewidths=0)
    for i in np.unique(ins[m]):
        c = P[ins == i, :2].mean(0)
        axs[0].text(c[0], c[1], CLASS_NAMES[np.bincount(sem[ins == i]).argmax()][:8], fontsize=7)
    axs[1].scatter(P[order, 0], P[order, 1], c=P[order, 3:6] / 255, s=0.3, linewidths=0)
    for a in axs:
        a.set_aspect("equal")
    axs[0].set_title(f"instances ({room.get('room_type', '')}, K={len(np.unique(ins[m]))})")
    axs[1].set_title("rgb")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


if __name__ == "__main__":
    import sys
    import time

    s = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 150000
    t0 = time.time()
    r = make_room(s, n)
    print(
        f"seed {s}: {r['room_type']} {np.round(r['size'], 2)} {time.time() - t0:.2f}s",
        "K",
        len(np.unique(r["instance_labels"][r["instance_labels"] >= 0])),
    )
    save_png(r, f"/tmp/gen_c/room_{s}.png")
