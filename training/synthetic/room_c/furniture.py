"""One builder per furniture kind (chairs, tables, desks, cabinets, beds, sofas, shelves, fixtures...)."""

from __future__ import annotations

import math

from isbnet_trt.training.synthetic.room_c.palette import FABRICS, GREYS, WHITES, WOODS, C, choose, jitter
from isbnet_trt.training.synthetic.room_c.primitives import Obj, basin, box, cyl, ell, legs4


def mk_chair(rng, kind=None):
    kind = kind or choose(rng, ["wood", "wood", "office", "plastic", "arm", "stool"])
    if kind == "office":
        w, d = rng.uniform(0.5, 0.62), rng.uniform(0.5, 0.6)
        sh, bh = rng.uniform(0.45, 0.52), rng.uniform(0.85, 1.15)
        fab = jitter(rng, choose(rng, [GREYS[3], GREYS[1], FABRICS[4], FABRICS[1], FABRICS[7]]))
        metal = jitter(rng, choose(rng, [GREYS[3], GREYS[2]]), 6)
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
        col = jitter(rng, choose(rng, WOODS + GREYS))
        parts = [cyl(0, 0, h - 0.04, h, r, col, "wood")]
        for k in range(3 + int(rng.integers(2))):
            a = 2 * math.pi * k / 4
            parts.append(cyl(math.cos(a) * r * 0.7, math.sin(a) * r * 0.7, 0, h - 0.04, 0.016, col))
        return Obj(C["chair"], parts, 2 * r, 2 * r, h)
    w, d = rng.uniform(0.42, 0.52), rng.uniform(0.42, 0.55)
    sh, bh = rng.uniform(0.43, 0.48), rng.uniform(0.78, 1.0)
    if kind == "plastic":
        col = jitter(rng, choose(rng, WHITES + [(200, 60, 50), (60, 60, 60), (80, 120, 180)]), 6)
        tex = "plain"
    else:
        col = jitter(rng, choose(rng, WOODS))
        tex = "wood"
    parts = legs4(w, d, sh - 0.04, 0.035, col, round_=(kind == "plastic"))
    seat_col = col if rng.random() < 0.5 else jitter(rng, choose(rng, FABRICS))
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
    kind = kind or choose(rng, ["dining", "dining", "coffee", "round", "side", "work"])
    col = jitter(rng, choose(rng, WOODS + WHITES[:2] + [GREYS[3]]))
    leg_col = col if rng.random() < 0.6 else jitter(rng, choose(rng, GREYS), 5)
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
    col = jitter(rng, choose(rng, WOODS + WHITES[:2] + [GREYS[2]]))
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
        metal = jitter(rng, choose(rng, GREYS), 5)
        parts += legs4(w, d, h - th, 0.04, metal, 0.02)
    if rng.random() < 0.4:  # hutch shelf on the back
        parts.append(box(0, -d / 2 + 0.13, h, w, 0.25, 0.02, col, "wood"))
        parts.append(box(0, -d / 2 + 0.13, h + 0.35, w, 0.25, 0.02, col, "wood"))
        parts += [box(sx * (w / 2 - 0.01), -d / 2 + 0.13, h, 0.02, 0.25, 0.37, col) for sx in (-1, 1)]
        h += 0.37
    return Obj(C["desk"], parts, w, d, h)


def mk_cabinet(rng, kind=None, w=None):
    kind = kind or choose(rng, ["low", "low", "tall", "wardrobe", "file"])
    col = jitter(rng, choose(rng, WOODS + WHITES + [GREYS[2]]))
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
            box(0, -0.03, 0, w - 0.02, d - 0.08, 0.08, jitter(rng, col, 20)),
        ]
    hc = jitter(rng, GREYS[2], 5)
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
    frame = jitter(rng, choose(rng, WOODS + WHITES[:1] + [GREYS[1]]))
    sheet = jitter(rng, choose(rng, WHITES + FABRICS))
    hb = rng.uniform(0.8, 1.25)
    parts = [
        box(0, 0.02, 0, w, L - 0.04, fh, frame, "wood"),
        box(0, 0.04, fh, w - 0.04, L - 0.1, mh, jitter(rng, WHITES[0])),
        box(0, -L / 2 + 0.04, 0, w + 0.04, 0.08, hb, frame, "wood"),
    ]
    ct = fh + mh
    if rng.random() < 0.8:  # duvet hanging over the sides
        bl = rng.uniform(0.9, 1.5)
        parts.append(box(0, L / 2 - bl / 2 - 0.02, ct - 0.12, w + 0.06, bl, 0.17, sheet, "fabric"))
    npil = 1 if single else 2
    pc = jitter(rng, choose(rng, WHITES + FABRICS))
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
    col = jitter(rng, choose(rng, FABRICS + [GREYS[1], (100, 70, 50)]))
    parts = [
        box(0, 0, 0.1, w - 0.02, d - 0.02, sh - 0.22, col, "fabric"),
        box(0, -d / 2 + 0.1, 0.1, w - 2 * arm, 0.2, bh - 0.1, col, "fabric"),
    ]
    if rng.random() < 0.7:
        parts += legs4(w, d, 0.1, 0.05, jitter(rng, WOODS[3], 5), 0.04)
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
    col = jitter(rng, choose(rng, WOODS + WHITES[:2] + [GREYS[3]]))
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
    col = jitter(rng, choose(rng, WOODS + WHITES[:1]))
    return Obj(
        C["otherfurniture"],
        [box(0, 0, 0.05, w, d, h - 0.05, col, "drawers"), box(0, -0.02, 0, w - 0.04, d - 0.06, 0.05, col)],
        w,
        d,
        h,
    )


def mk_other(rng, kind=None):
    kind = kind or choose(
        rng, ["bin", "bin", "nightstand", "ottoman", "washer", "tvstand", "coatrack", "crate", "piano"]
    )
    if kind == "nightstand":
        return mk_nightstand(rng)
    if kind == "bin":
        r, h = rng.uniform(0.12, 0.2), rng.uniform(0.3, 0.6)
        col = jitter(rng, choose(rng, GREYS + WHITES + [(60, 90, 150)]), 6)
        return Obj(
            C["otherfurniture"],
            [cyl(0, 0, 0, h, r, col), cyl(0, 0, h - 0.01, h, r + 0.01, jitter(rng, col, 15))],
            2 * r + 0.02,
            2 * r + 0.02,
            h,
        )
    if kind == "ottoman":
        w = rng.uniform(0.4, 0.7)
        col = jitter(rng, choose(rng, FABRICS))
        return Obj(
            C["otherfurniture"],
            [box(0, 0, 0.04, w, w, rng.uniform(0.35, 0.45), col, "fabric")]
            + legs4(w, w, 0.04, 0.04, WOODS[3]),
            w,
            w,
            0.45,
        )
    if kind == "washer":
        col = jitter(rng, WHITES[0], 5)
        parts = [box(0, 0, 0, 0.6, 0.6, 0.85, col), cyl(0, 0.3, 0.25, 0.55, 0.16, GREYS[3])]
        parts[-1] = box(0, 0.305, 0.3, 0.3, 0.01, 0.3, jitter(rng, GREYS[3], 4))
        return Obj(C["otherfurniture"], parts, 0.6, 0.62, 0.85)
    if kind == "tvstand":
        w, d, h = rng.uniform(1.0, 1.8), rng.uniform(0.35, 0.5), rng.uniform(0.4, 0.6)
        col = jitter(rng, choose(rng, WOODS + [GREYS[3], WHITES[0]]))
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
        col = jitter(rng, choose(rng, WOODS + GREYS))
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
                jitter(rng, choose(rng, FABRICS)),
                yaw=a,
            )
            for a in rng.uniform(0, 6.3, 2)
        ]
        return Obj(C["otherfurniture"], parts, 0.5, 0.5, h)
    if kind == "piano":
        col = jitter(rng, (30, 25, 25), 5)
        parts = [
            box(0, 0, 0, 1.45, 0.4, 1.2, col),
            box(0, 0.3, 0.72, 1.3, 0.22, 0.05, (235, 235, 230)),
            box(0, 0.3, 0.6, 1.3, 0.22, 0.12, col),
        ]
        return Obj(C["otherfurniture"], parts, 1.45, 0.62, 1.2)
    w = rng.uniform(0.3, 0.6)
    col = jitter(rng, (175, 140, 95))
    return Obj(
        C["otherfurniture"],
        [box(0, 0, 0, w, w * rng.uniform(0.7, 1), w * rng.uniform(0.6, 1), col, "plain", yaw=0.0)],
        w,
        w,
        w,
    )


def mk_fridge(rng):
    w, d, h = rng.uniform(0.6, 0.9), rng.uniform(0.65, 0.75), rng.uniform(1.6, 1.95)
    col = jitter(rng, choose(rng, WHITES[:2] + [GREYS[4], GREYS[2]]), 5)
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
    col = jitter(rng, WHITES[0], 4)
    tw = rng.uniform(0.36, 0.46)
    parts = [
        box(0, -0.3 + 0.09, 0.38, tw, 0.18, rng.uniform(0.3, 0.4), col),
        ell(0, 0.06, 0.2, 0.13, 0.18, 0.2, col, "plain"),
        ell(0, 0.08, 0.36, 0.18, 0.25, 0.06, col, "plain"),
        box(0, -0.1, 0, 0.24, 0.3, 0.34, col),
    ]
    if rng.random() < 0.5:
        parts.append(box(0, 0.08, 0.41, 0.37, 0.47, 0.025, jitter(rng, WHITES[1], 4)))
    return Obj(C["toilet"], parts, max(tw, 0.38), 0.7, 0.8)


def mk_sink_pedestal(rng):
    col = jitter(rng, WHITES[0], 4)
    w, d = rng.uniform(0.45, 0.65), rng.uniform(0.38, 0.5)
    top = rng.uniform(0.8, 0.88)
    parts = basin(w, d, top - 0.17, 0.17, col, 0.04) + [cyl(0, -0.05, 0, top - 0.17, 0.09, col)]
    parts.append(cyl(0, -d / 2 + 0.06, top, top + 0.15, 0.015, GREYS[2]))
    return Obj(C["sink"], parts, w, d, top + 0.15)


def mk_bathtub(rng):
    L, w, h = rng.uniform(1.4, 1.75), rng.uniform(0.7, 0.82), rng.uniform(0.5, 0.6)
    col = jitter(rng, WHITES[0], 4)
    wall = rng.uniform(0.06, 0.1)
    parts = basin(L, w, 0, h, col, wall)
    parts[0] = box(0, 0, 0, L, w, 0.12, col)
    tub = Obj(C["bathtub"], parts, L, w, h)
    tub.wall_t = wall
    return tub
