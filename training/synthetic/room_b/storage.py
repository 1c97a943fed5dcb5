"""Cabinets, refrigerators, counters, bookshelves and other furniture (lamps, boxes, shelves...)."""

from __future__ import annotations

import colorsys
import math

import numpy as np

from isbnet_trt.training.synthetic.room_b.furniture import legs4
from isbnet_trt.training.synthetic.room_b.materials import (
    BOOKSHELF,
    CABINET,
    COUNTER,
    FRIDGE,
    OTHER,
    mat,
    pick,
)
from isbnet_trt.training.synthetic.room_b.parts import Part, box, box_z, cyl_z
from isbnet_trt.training.synthetic.room_b.room import Obj


def make_cabinet(rng, kind=None):
    kind = kind or rng.choice(["low", "tall", "drawers", "wall"], p=[0.4, 0.3, 0.2, 0.1])
    body = pick(rng, "wood", "paint", "white", "metal")
    front = body if rng.random() < 0.6 else pick(rng, "wood", "paint", "white")
    handle = pick(rng, "metal", "dark", "wood")
    if kind == "tall":
        w, d, h = rng.uniform(0.5, 1.5), rng.uniform(0.4, 0.65), rng.uniform(1.5, 2.2)
    elif kind == "wall":
        w, d, h = rng.uniform(0.6, 1.5), rng.uniform(0.3, 0.38), rng.uniform(0.6, 0.9)
    else:
        w, d, h = rng.uniform(0.4, 1.6), rng.uniform(0.35, 0.6), rng.uniform(0.5, 1.1)
    z0 = rng.uniform(1.4, 1.6) if kind == "wall" else 0.0
    plinth = 0.0 if kind == "wall" or rng.random() < 0.5 else rng.uniform(0.05, 0.1)
    parts = []
    if plinth:
        parts.append(box_z(0, -0.03, 0.0, plinth, w / 2 - 0.02, d / 2 - 0.03, pick(rng, "dark", "wood")))
    parts.append(box_z(0, 0, plinth, h, w / 2, d / 2, body))
    if kind == "drawers":
        nd = rng.integers(3, 6)
        dh = (h - plinth) / nd
        for k in range(nd):
            zc = plinth + dh * (k + 0.5)
            parts.append(box((0, d / 2 + 0.006, zc), (w / 2 - 0.015, 0.006, dh / 2 - 0.01), front))
            parts.append(box((0, d / 2 + 0.02, zc + dh * 0.2), (min(0.08, w / 6), 0.008, 0.008), handle))
    else:
        ndoor = 1 if w < 0.6 else 2 if w < 1.2 else 3
        dw = w / ndoor
        for k in range(ndoor):
            xc = -w / 2 + dw * (k + 0.5)
            parts.append(
                box(
                    (xc, d / 2 + 0.006, (plinth + h) / 2),
                    (dw / 2 - 0.008, 0.006, (h - plinth) / 2 - 0.01),
                    front,
                )
            )
            hxp = xc + (dw / 2 - 0.06) * (1 if k % 2 == 0 else -1)
            zc = plinth + (h - plinth) * (0.5 if kind == "tall" else 0.75 if kind != "wall" else 0.2)
            parts.append(box((hxp, d / 2 + 0.02, zc), (0.008, 0.008, 0.06), handle))
    for p in parts:
        p.c[2] += z0
    return Obj(CABINET, parts, w / 2, d / 2 + 0.03, z0=z0)


def make_fridge(rng):
    w, d, h = rng.uniform(0.6, 0.9), rng.uniform(0.62, 0.75), rng.uniform(1.5, 1.9)
    if rng.random() < 0.15:
        h = rng.uniform(0.8, 0.9)  # under-counter fridge
    body = pick(rng, "white", "metal", "metal", "dark")
    handle = pick(rng, "metal", "dark")
    parts = [box_z(0, -0.02, 0.0, h, w / 2, d / 2 - 0.02, body)]
    if w > 0.8 and h > 1.5 and rng.random() < 0.6:  # side by side
        for sx in (-1, 1):
            parts.append(box_z(sx * w / 4, d / 2 - 0.02, 0.02, h - 0.02, w / 4 - 0.005, 0.02, body))
            parts.append(box_z(-sx * 0.04 + sx * 0.0, d / 2 + 0.04, h * 0.35, h * 0.75, 0.012, 0.012, handle))
    else:
        split = h * rng.uniform(0.3, 0.4) if h > 1.2 else h
        parts.append(box_z(0, d / 2 - 0.02, 0.02, split - 0.01, w / 2 - 0.005, 0.02, body))
        if split < h:
            parts.append(box_z(0, d / 2 - 0.02, split + 0.01, h - 0.02, w / 2 - 0.005, 0.02, body))
            parts.append(
                box_z(
                    w / 2 - 0.06, d / 2 + 0.04, split + 0.08, min(h - 0.05, split + 0.6), 0.012, 0.012, handle
                )
            )
        parts.append(
            box_z(w / 2 - 0.06, d / 2 + 0.04, max(0.1, split - 0.4), split - 0.08, 0.012, 0.012, handle)
        )
    return Obj(FRIDGE, parts, w / 2, d / 2 + 0.05)


def make_counter(rng):
    L, d = rng.uniform(1.2, 3.4), rng.uniform(0.55, 0.66)
    h = rng.uniform(0.86, 0.93)
    body = pick(rng, "wood", "paint", "white")
    top = pick(rng, "stone", "stone", "wood", "paint")
    handle = pick(rng, "metal", "dark")
    t = rng.uniform(0.025, 0.045)
    ov = rng.uniform(0.02, 0.05)
    parts = [
        box_z(0, -0.04, 0.0, 0.1, L / 2 - 0.01, d / 2 - 0.04, pick(rng, "dark", "wood")),
        box_z(0, 0, 0.1, h - t, L / 2, d / 2, body),
        box_z(0, ov / 2, h - t, h, L / 2 + ov, d / 2 + ov / 2, top),
    ]
    nd = max(1, int(round(L / rng.uniform(0.4, 0.6))))
    dw = L / nd
    for k in range(nd):
        xc = -L / 2 + dw * (k + 0.5)
        parts.append(
            box(
                (xc, d / 2 + 0.006, (0.1 + h - t) / 2),
                (dw / 2 - 0.008, 0.006, (h - t - 0.1) / 2 - 0.01),
                body,
            )
        )
        parts.append(box((xc, d / 2 + 0.02, h - t - 0.08), (0.06, 0.008, 0.008), handle))
    if rng.random() < 0.4:  # backsplash
        parts.append(box_z(0, -d / 2 + 0.01, h, h + rng.uniform(0.05, 0.12), L / 2, 0.01, top))
    return Obj(COUNTER, parts, L / 2 + ov, d / 2 + 0.03)


def make_bookshelf(rng):
    w, d, h = rng.uniform(0.6, 1.3), rng.uniform(0.25, 0.4), rng.uniform(0.8, 2.1)
    wood = pick(rng, "wood", "wood", "paint", "white", "metal")
    t = rng.uniform(0.015, 0.025)
    parts = [box_z(sx * (w / 2 - t), 0, 0.0, h, t, d / 2, wood) for sx in (-1, 1)]
    parts.append(box_z(0, 0, h - t * 2, h, w / 2 - 2 * t, d / 2, wood))
    parts.append(box_z(0, 0.01, 0.0, 0.06, w / 2 - 2 * t, d / 2 - 0.01, wood))
    parts.append(box_z(0, -d / 2 + 0.005, 0.06, h - 2 * t, w / 2 - 2 * t, 0.005, wood))
    ns = max(2, int(h / rng.uniform(0.28, 0.4)))
    zs = np.linspace(0.06, h - 2 * t, ns + 1)
    fill = rng.uniform(0.3, 0.9)
    for i in range(ns):
        z0, z1 = zs[i], zs[i + 1]
        if i > 0:
            parts.append(box_z(0, 0.005, z0 - t, z0, w / 2 - 2 * t, d / 2 - 0.005, wood))
        x = -w / 2 + 2 * t + 0.005
        xmax = w / 2 - 2 * t - 0.005
        while x < xmax - 0.02:
            bw = rng.uniform(0.02, 0.07)
            if rng.random() > fill:
                x += rng.uniform(0.05, 0.2)
                continue
            if x + bw > xmax:
                break
            bh = min((z1 - z0 - t) * rng.uniform(0.55, 0.92), 0.35)
            bd = (d - 0.01) * rng.uniform(0.6, 0.9)
            bc = mat(rng, "plastic") if rng.random() < 0.5 else pick(rng, "fabric", "white", "dark")
            parts.append(box_z(x + bw / 2, -d / 2 + 0.01 + bd / 2, z0, z0 + bh, bw / 2 - 0.001, bd / 2, bc))
            x += bw + rng.uniform(0.0, 0.004)
    return Obj(BOOKSHELF, parts, w / 2, d / 2)


def make_other(rng):
    v = rng.choice(
        [
            "nightstand",
            "trash",
            "stool",
            "lamp",
            "ottoman",
            "dresser",
            "plant",
            "boxes",
            "sidetable",
            "radiator",
            "piano",
        ]
    )
    if v == "nightstand":
        w, d, h = rng.uniform(0.35, 0.55), rng.uniform(0.3, 0.45), rng.uniform(0.45, 0.65)
        c = pick(rng, "wood", "paint", "white")
        parts = [
            box_z(0, 0, 0.0, h, w / 2, d / 2, c),
            box((0, d / 2 + 0.005, h * 0.75), (w / 2 - 0.02, 0.005, h * 0.18), c),
            box((0, d / 2 + 0.018, h * 0.8), (0.04, 0.008, 0.008), mat(rng, "metal")),
        ]
        return Obj(OTHER, parts, w / 2, d / 2 + 0.03)
    if v == "trash":
        r, h = rng.uniform(0.12, 0.2), rng.uniform(0.3, 0.5)
        c = pick(rng, "plastic", "metal")
        return Obj(
            OTHER,
            [
                cyl_z(0, 0, 0.0, h, r, r, c, caps=1),
                cyl_z(0, 0, h * 0.85, h - 0.003, r - 0.01, r - 0.01, pick(rng, "dark", "white"), caps=1),
            ],
            r,
            r,
        )
    if v == "stool":
        r, h = rng.uniform(0.15, 0.2), rng.uniform(0.45, 0.75)
        c = pick(rng, "wood", "metal", "plastic")
        parts = [cyl_z(0, 0, h - 0.04, h, r, r, pick(rng, "wood", "fabric", "leather"))]
        for k in range(4):
            a = k * math.pi / 2 + 0.6
            parts.append(
                cyl_z(math.cos(a) * (r - 0.04), math.sin(a) * (r - 0.04), 0.0, h - 0.04, 0.015, 0.015, c)
            )
        return Obj(OTHER, parts, r, r)
    if v == "lamp":
        h = rng.uniform(1.2, 1.75)
        c = pick(rng, "metal", "dark")
        rs = rng.uniform(0.15, 0.25)
        return Obj(
            OTHER,
            [
                cyl_z(0, 0, 0.0, 0.03, 0.14, 0.14, c),
                cyl_z(0, 0, 0.03, h - 0.2, 0.012, 0.012, c),
                cyl_z(0, 0, h - 0.25, h, rs, rs, pick(rng, "white", "fabric"), caps=0),
            ],
            max(rs, 0.14),
            max(rs, 0.14),
        )
    if v == "ottoman":
        w, d, h = rng.uniform(0.4, 0.9), rng.uniform(0.4, 0.7), rng.uniform(0.35, 0.45)
        return Obj(OTHER, [box_z(0, 0, 0.0, h, w / 2, d / 2, pick(rng, "fabric", "leather"))], w / 2, d / 2)
    if v == "dresser":
        o = make_cabinet(rng, "drawers")
        o.sem = OTHER
        return o
    if v == "plant":
        r = rng.uniform(0.12, 0.22)
        ph = rng.uniform(0.2, 0.4)
        pot = pick(rng, "ceramic", "plastic", "stone")
        leaf = (
            np.array(
                colorsys.hsv_to_rgb(rng.uniform(0.22, 0.38), rng.uniform(0.4, 0.8), rng.uniform(0.25, 0.55))
            ),
            "speckle",
        )
        fr = r * rng.uniform(1.3, 2.2)
        fh = rng.uniform(0.25, 0.7)
        return Obj(
            OTHER,
            [
                cyl_z(0, 0, 0.0, ph, r, r, pot, caps=1),
                Part("ell", (0, 0, ph + fh * 0.8), (fr, fr * rng.uniform(0.8, 1.0), fh), leaf),
            ],
            fr,
            fr,
        )
    if v == "boxes":
        parts = []
        hx = hy = 0.0
        z = 0.0
        for k in range(rng.integers(1, 4)):
            bw, bd, bh = rng.uniform(0.25, 0.6, 3)
            if k:
                bw, bd = min(bw, 2 * hx), min(bd, 2 * hy)
            parts.append(box_z(0, 0, z, z + bh, bw / 2, bd / 2, pick(rng, "wood", "plastic", "white")))
            z += bh
            hx, hy = max(hx, bw / 2), max(hy, bd / 2)
        return Obj(OTHER, parts, hx, hy)
    if v == "sidetable":
        s, h = rng.uniform(0.4, 0.6), rng.uniform(0.45, 0.65)
        c = pick(rng, "wood", "metal", "paint")
        parts = [box_z(0, 0, h - 0.03, h, s / 2, s / 2, c)] + legs4(
            s / 2, s / 2, 0.01, 0.0, h - 0.03, 0.018, c
        )
        return Obj(OTHER, parts, s / 2, s / 2)
    if v == "radiator":
        w, h = rng.uniform(0.6, 1.4), rng.uniform(0.4, 0.7)
        c = pick(rng, "white", "metal")
        nf = int(w / 0.06)
        parts = [
            box_z(-w / 2 + (k + 0.5) * w / nf, 0, 0.12, 0.12 + h, w / nf / 2 - 0.008, 0.04, c)
            for k in range(nf)
        ]
        parts.append(box_z(0, 0, 0.12 + h * 0.1, 0.12 + h * 0.2, w / 2, 0.03, c))
        return Obj(OTHER, parts, w / 2, 0.05)
    # piano
    w, d = rng.uniform(1.3, 1.55), rng.uniform(0.5, 0.65)
    c = pick(rng, "dark", "wood")
    parts = [
        box_z(0, -0.1, 0.0, rng.uniform(1.1, 1.3), w / 2, d / 2 - 0.1, c),
        box_z(0, d / 2 - 0.15, 0.65, 0.75, w / 2 - 0.05, 0.15, c),
        box_z(0, d / 2 - 0.12, 0.75, 0.77, w / 2 - 0.1, 0.1, mat(rng, "white")),
    ]
    for sx in (-1, 1):
        parts.append(box_z(sx * (w / 2 - 0.05), d / 2 - 0.05, 0.0, 0.65, 0.03, 0.03, c))
    return Obj(OTHER, parts, w / 2, d / 2)
