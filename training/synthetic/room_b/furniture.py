"""Seating, tables, desks and beds: one builder per kind, in the object frame (+y front, back at -y)."""

from __future__ import annotations

import math

from isbnet_trt.training.synthetic.room_b.materials import BED, CHAIR, DESK, SOFA, TABLE, mat, pick
from isbnet_trt.training.synthetic.room_b.parts import Part, box, box_z, cyl_z
from isbnet_trt.training.synthetic.room_b.room import Obj

# Object frame: footprint centred at origin, x in [-hx, hx], y in [-hy, hy], back at -hy, z up from 0.


def legs4(hx, hy, inset, z0, z1, r, col, round_=False):
    out = []
    for sx in (-1, 1):
        for sy in (-1, 1):
            x, y = sx * (hx - inset - r), sy * (hy - inset - r)
            out.append(cyl_z(x, y, z0, z1, r, r, col) if round_ else box_z(x, y, z0, z1, r, r, col))
    return out


def make_chair(rng):
    v = rng.choice(["wood", "office", "arm", "plastic"], p=[0.4, 0.3, 0.15, 0.15])
    if v == "office":
        w, d = rng.uniform(0.44, 0.56), rng.uniform(0.44, 0.54)
        sh = rng.uniform(0.42, 0.52)
        frame = pick(rng, "metal", "dark")
        fab = pick(rng, "fabric", "leather", "dark")
        rb = rng.uniform(0.28, 0.34)
        parts = [cyl_z(0, 0, 0.0, 0.07, 0.05, 0.05, frame), cyl_z(0, 0, 0.07, sh - 0.1, 0.025, 0.025, frame)]
        for k in range(5):
            a = 2 * math.pi * k / 5 + rng.uniform(0, 0.5)
            parts.append(
                box((math.cos(a) * rb / 2, math.sin(a) * rb / 2, 0.05), (rb / 2, 0.022, 0.02), frame, yaw=a)
            )
            parts.append(
                cyl_z(math.cos(a) * (rb - 0.02), math.sin(a) * (rb - 0.02), 0.0, 0.03, 0.025, 0.025, frame)
            )
        parts.append(box_z(0, 0, sh - 0.1, sh - 0.06, 0.12, 0.12, frame))
        parts.append(box_z(0, 0.02, sh - 0.06, sh, w / 2, d / 2 - 0.02, fab))
        bh = rng.uniform(0.35, 0.6)
        parts.append(box_z(0, -d / 2 + 0.05, sh + 0.06, sh + 0.06 + bh, w / 2 - 0.02, 0.035, fab))
        parts.append(box_z(0, -d / 2 + 0.05, sh, sh + 0.06, 0.03, 0.02, frame))
        if rng.random() < 0.6:
            for sx in (-1, 1):
                parts.append(box_z(sx * (w / 2 + 0.03), 0.0, sh + 0.18, sh + 0.22, 0.03, 0.13, frame))
                parts.append(box_z(sx * (w / 2 + 0.03), -0.02, sh - 0.02, sh + 0.18, 0.015, 0.015, frame))
        hx, hy = max(rb, w / 2 + 0.06), max(rb, d / 2)
        return Obj(CHAIR, parts, hx, hy)
    if v == "arm":  # upholstered armchair
        w, d = rng.uniform(0.7, 0.95), rng.uniform(0.7, 0.9)
        fab = pick(rng, "fabric", "leather")
        sh = rng.uniform(0.38, 0.45)
        aw = rng.uniform(0.1, 0.18)
        parts = [
            box_z(0, 0, 0.08, sh - 0.12, w / 2, d / 2, fab),
            box_z(0, 0.04, sh - 0.12, sh, w / 2 - aw, d / 2 - 0.04, fab),
            box_z(0, -d / 2 + 0.09, sh - 0.12, rng.uniform(0.75, 1.0), w / 2, 0.09, fab),
        ]
        ah = rng.uniform(0.55, 0.68)
        for sx in (-1, 1):
            parts.append(box_z(sx * (w / 2 - aw / 2), 0.09, sh - 0.12, ah, aw / 2, d / 2 - 0.09, fab))
        parts += legs4(w / 2, d / 2, 0.02, 0.0, 0.08, 0.02, mat(rng, "wood"))
        return Obj(CHAIR, parts, w / 2, d / 2)
    w, d = rng.uniform(0.4, 0.5), rng.uniform(0.4, 0.5)
    sh = rng.uniform(0.42, 0.48)
    frame = mat(rng, "wood") if v == "wood" else pick(rng, "metal", "plastic")
    seat = frame if rng.random() < 0.5 else pick(rng, "fabric", "leather", "plastic")
    t = rng.uniform(0.02, 0.05)
    r = rng.uniform(0.012, 0.025)
    parts = legs4(w / 2, d / 2, 0.01, 0.0, sh - t, r, frame, round_=v == "plastic" or rng.random() < 0.3)
    parts.append(box_z(0, 0, sh - t, sh, w / 2, d / 2, seat))
    bh = rng.uniform(0.35, 0.5)
    bt = rng.uniform(0.015, 0.03)
    yb = -d / 2 + bt + 0.005
    for sx in (-1, 1):  # back posts continue the rear legs
        parts.append(box_z(sx * (w / 2 - 0.01 - r), -d / 2 + 0.01 + r, sh, sh + bh, r, r, frame))
    if rng.random() < 0.5:
        parts.append(box_z(0, yb, sh + bh * 0.45, sh + bh, w / 2 - 0.02 - 2 * r, bt, seat))
    else:
        ns = rng.integers(3, 6)
        for k in range(ns):
            x = (k - (ns - 1) / 2) * (w - 0.1) / ns
            parts.append(box_z(x, yb, sh + 0.02, sh + bh - 0.05, 0.015, bt, frame))
        parts.append(box_z(0, yb, sh + bh - 0.05, sh + bh, w / 2 - 0.02 - 2 * r, bt, frame))
    if rng.random() < 0.2:
        for sx in (-1, 1):
            parts.append(box_z(sx * (w / 2 + 0.02), 0.0, sh + 0.2, sh + 0.23, 0.02, d / 2 - 0.02, frame))
            parts.append(box_z(sx * (w / 2 + 0.02), d / 2 - 0.06, sh, sh + 0.2, 0.015, 0.015, frame))
        w += 0.08
    return Obj(CHAIR, parts, w / 2, d / 2)


def make_table(rng, big=False, kind=None):
    kind = kind or rng.choice(["rect", "round", "coffee"], p=[0.6, 0.2, 0.2])
    top = pick(rng, "wood", "wood", "paint", "stone", "glass")
    frame = pick(rng, "wood", "metal", "dark")
    if kind == "round":
        r = rng.uniform(0.35, 0.65)
        h = rng.uniform(0.7, 0.77)
        t = rng.uniform(0.02, 0.04)
        parts = [
            cyl_z(0, 0, h - t, h, r, r, top),
            cyl_z(0, 0, 0.03, h - t, 0.04, 0.04, frame),
            cyl_z(0, 0, 0.0, 0.03, r * 0.55, r * 0.55, frame, caps=1),
        ]
        return Obj(TABLE, parts, r, r)
    if kind == "coffee":
        w, d, h = rng.uniform(0.7, 1.3), rng.uniform(0.4, 0.75), rng.uniform(0.35, 0.5)
    elif big:
        w, d, h = rng.uniform(2.0, 3.6), rng.uniform(0.9, 1.4), rng.uniform(0.72, 0.77)
    else:
        w, d, h = rng.uniform(0.8, 1.9), rng.uniform(0.6, 1.0), rng.uniform(0.7, 0.78)
    t = rng.uniform(0.02, 0.05)
    parts = [box_z(0, 0, h - t, h, w / 2, d / 2, top)]
    if big and rng.random() < 0.5:
        for sx in (-1, 1):
            parts.append(box_z(sx * w / 4, 0, 0.05, h - t, 0.12, 0.08, frame))
            parts.append(box_z(sx * w / 4, 0, 0.0, 0.05, 0.2, d / 2 - 0.1, frame))
    else:
        r = rng.uniform(0.02, 0.04)
        parts += legs4(w / 2, d / 2, rng.uniform(0.0, 0.08), 0.0, h - t, r, frame, round_=rng.random() < 0.4)
        if rng.random() < 0.5:  # apron
            parts.append(box_z(0, d / 2 - 0.06, h - t - 0.08, h - t, w / 2 - 0.08, 0.01, frame))
        if kind == "coffee" and rng.random() < 0.5:  # lower shelf
            parts.append(box_z(0, 0, 0.08, 0.1, w / 2 - 0.05, d / 2 - 0.05, top))
    return Obj(TABLE, parts, w / 2, d / 2)


def make_desk(rng):
    w, d, h = rng.uniform(1.0, 1.8), rng.uniform(0.5, 0.8), rng.uniform(0.72, 0.77)
    top = pick(rng, "wood", "paint", "white")
    frame = pick(rng, "metal", "wood", "dark", "white")
    t = rng.uniform(0.025, 0.04)
    parts = [box_z(0, 0, h - t, h, w / 2, d / 2, top)]
    v = rng.integers(3)
    if v == 0:
        parts += legs4(w / 2, d / 2, 0.02, 0.0, h - t, 0.025, frame)
    elif v == 1:
        for sx in (-1, 1):
            parts.append(box_z(sx * (w / 2 - 0.02), 0, 0.0, h - t, 0.018, d / 2 - 0.01, top))
    else:  # drawer pedestal + two legs
        pw = rng.uniform(0.35, 0.45)
        side = rng.choice([-1, 1])
        parts.append(box_z(side * (w / 2 - pw / 2 - 0.01), -0.01, 0.0, h - t, pw / 2, d / 2 - 0.03, top))
        for k in range(3):
            z = 0.1 + k * (h - 0.15) / 3
            parts.append(
                box_z(
                    side * (w / 2 - pw / 2 - 0.01),
                    d / 2 - 0.035,
                    z + 0.01,
                    z + (h - 0.15) / 3 - 0.01,
                    pw / 2 - 0.015,
                    0.006,
                    top,
                )
            )
        for sy in (-1, 1):
            parts.append(box_z(-side * (w / 2 - 0.04), sy * (d / 2 - 0.04), 0.0, h - t, 0.025, 0.025, frame))
    if rng.random() < 0.5:  # modesty panel
        parts.append(box_z(0, -d / 2 + 0.05, h - t - 0.3, h - t, w / 2 - 0.06, 0.01, frame))
    if rng.random() < 0.3:  # hutch shelf on the back
        parts.append(box_z(0, -d / 2 + 0.12, h + 0.25, h + 0.27, w / 2, 0.1, top))
        for sx in (-1, 1):
            parts.append(box_z(sx * (w / 2 - 0.01), -d / 2 + 0.12, h, h + 0.25, 0.01, 0.1, top))
    return Obj(DESK, parts, w / 2, d / 2)


def make_bed(rng):
    w = rng.choice([rng.uniform(0.9, 1.05), rng.uniform(1.35, 1.85)])
    L = rng.uniform(1.95, 2.15)
    wood = pick(rng, "wood", "paint", "fabric")
    fz0 = rng.choice([0.0, 0.1, 0.2])
    fz1 = fz0 + rng.uniform(0.12, 0.2)
    parts = []
    if fz0 > 0:
        parts += legs4(w / 2, L / 2, 0.03, 0.0, fz0, 0.03, wood)
    parts.append(box_z(0, 0.03, fz0, fz1, w / 2, L / 2 - 0.03, wood))
    mt = rng.uniform(0.16, 0.28)
    matt = pick(rng, "white", "fabric")
    parts.append(box_z(0, 0.04, fz1, fz1 + mt, w / 2 - 0.02, L / 2 - 0.06, matt))
    top = fz1 + mt
    hb = rng.uniform(0.8, 1.3)
    parts.append(box_z(0, -L / 2 + 0.03, 0.0, hb, w / 2 + 0.03, 0.03, wood))
    if rng.random() < 0.35:
        parts.append(box_z(0, L / 2 - 0.025, 0.0, top + 0.1, w / 2 + 0.03, 0.025, wood))
    npil = 1 if w < 1.2 else 2
    pc = pick(rng, "white", "fabric")
    for k in range(npil):
        x = 0 if npil == 1 else (k - 0.5) * w / 2
        pw = min(0.33, w / (2 * npil) - 0.03)
        parts.append(Part("ell", (x, -L / 2 + 0.3, top), (pw, 0.2, 0.09), pc, zlo=0.0))
    if rng.random() < 0.7:
        bc = pick(rng, "fabric", "white")
        y0 = -L / 2 + 0.55
        parts.append(
            box_z(0, (y0 + L / 2 - 0.05) / 2, top, top + 0.03, w / 2 + 0.02, (L / 2 - 0.05 - y0) / 2, bc)
        )
        for sx in (-1, 1):  # drape over the sides
            parts.append(
                box_z(
                    sx * (w / 2 + 0.03),
                    (y0 + L / 2 - 0.05) / 2,
                    top - 0.2,
                    top + 0.03,
                    0.01,
                    (L / 2 - 0.05 - y0) / 2,
                    bc,
                )
            )
    return Obj(BED, parts, w / 2 + 0.04, L / 2)


def make_sofa(rng):
    w, d = rng.uniform(1.4, 2.5), rng.uniform(0.8, 1.0)
    fab = pick(rng, "fabric", "fabric", "leather")
    cush = fab if rng.random() < 0.7 else pick(rng, "fabric")
    z0 = rng.choice([0.0, 0.1])
    base_top = rng.uniform(0.25, 0.32)
    aw = rng.uniform(0.1, 0.25)
    bd = rng.uniform(0.15, 0.25)
    bh = rng.uniform(0.75, 0.95)
    ah = rng.uniform(0.55, 0.7)
    parts = []
    if z0 > 0:
        parts += legs4(w / 2, d / 2, 0.03, 0.0, z0, 0.025, pick(rng, "wood", "metal"))
    parts.append(box_z(0, 0, z0, base_top, w / 2, d / 2, fab))
    parts.append(box_z(0, -d / 2 + bd / 2, base_top, bh, w / 2 - aw, bd / 2, fab))
    for sx in (-1, 1):
        parts.append(box_z(sx * (w / 2 - aw / 2), 0, base_top, ah, aw / 2, d / 2, fab))
    nc = 1 if w < 1.6 else rng.integers(2, 4)
    cw = (w - 2 * aw) / nc
    ct = rng.uniform(0.1, 0.17)
    for k in range(nc):
        x = -w / 2 + aw + cw * (k + 0.5)
        parts.append(box_z(x, bd / 2, base_top, base_top + ct, cw / 2 - 0.008, (d - bd) / 2 - 0.01, cush))
        if rng.random() < 0.5:
            parts.append(box_z(x, -d / 2 + bd + 0.06, base_top + ct, bh - 0.05, cw / 2 - 0.01, 0.06, cush))
    if rng.random() < 0.4:  # throw pillow
        x = rng.uniform(-w / 2 + aw + 0.25, w / 2 - aw - 0.25)
        parts.append(
            Part("ell", (x, -d / 2 + bd + 0.2, base_top + ct + 0.2), (0.2, 0.07, 0.19), pick(rng, "fabric"))
        )
    return Obj(SOFA, parts, w / 2, d / 2)
