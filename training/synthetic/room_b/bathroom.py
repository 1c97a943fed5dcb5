"""Toilets, sinks, bathtubs and shower curtains."""

from __future__ import annotations

from isbnet_trt.training.synthetic.room_b.materials import BATHTUB, SHOWER, SINK, TOILET, mat, pick
from isbnet_trt.training.synthetic.room_b.parts import Part, box, box_z, cyl_z
from isbnet_trt.training.synthetic.room_b.room import Obj


def make_toilet(rng):
    white = mat(rng, "ceramic")
    seatc = white if rng.random() < 0.8 else pick(rng, "wood", "dark")
    tw, td = rng.uniform(0.36, 0.46), rng.uniform(0.15, 0.22)
    bx, by = rng.uniform(0.17, 0.21), rng.uniform(0.22, 0.27)
    sz = rng.uniform(0.38, 0.43)
    y_bowl = -0.35 + td + by - 0.05
    parts = [
        box_z(0, -0.35 + td / 2, sz + 0.02, sz + rng.uniform(0.3, 0.42), tw / 2, td / 2, white),
        box_z(0, -0.35 + td / 2, sz - 0.05, sz + 0.02, 0.08, td / 2 - 0.02, white),
        cyl_z(0, y_bowl - 0.03, 0.0, 0.22, bx * 0.6, by * 0.6, white),
        Part("ell", (0, y_bowl, 0.22), (bx, by, sz - 0.25), white, zlo=-0.25, zhi=1.0),
    ]
    parts.append(cyl_z(0, y_bowl, sz - 0.02, sz + 0.01, bx + 0.01, by + 0.01, seatc))
    if rng.random() < 0.5:  # lid up against tank
        parts.append(box_z(0, -0.35 + td + 0.02, sz + 0.02, sz + 0.02 + 2 * by * 0.85, bx, 0.012, seatc))
    hy_total = (y_bowl + by + 0.02 + 0.35) / 2
    # shift so footprint is centred
    off = -0.35 + hy_total
    for p in parts:
        p.c[1] -= off
    return Obj(TOILET, parts, max(tw / 2, bx + 0.01), hy_total)


def make_sink(rng, pedestal=None):
    white = mat(rng, "ceramic")
    metal = mat(rng, "metal")
    w, d = rng.uniform(0.45, 0.65), rng.uniform(0.38, 0.5)
    h = rng.uniform(0.8, 0.9)
    t = rng.uniform(0.03, 0.05)
    ax, ay = w / 2 - 0.05, d / 2 - 0.08
    parts = [
        Part("rim", (0, 0.01, h - t / 2), (w / 2, d / 2, t / 2), white, hole=(ax, ay)),
        Part("bowl", (0, 0.01, h - 0.005), (ax, ay, rng.uniform(0.12, 0.17)), white, solid=False),
        Part("ell", (0, 0.01, h - t), (ax + 0.02, ay + 0.02, 0.17), white, zlo=-1.0, zhi=0.0, solid=False),
    ]
    pedestal = rng.random() < 0.6 if pedestal is None else pedestal
    if pedestal:
        parts.append(cyl_z(0, -0.03, 0.0, h - t - 0.14, 0.09, 0.07, white, caps=0))
    # faucet
    parts.append(cyl_z(0, -d / 2 + 0.04, h, h + 0.15, 0.015, 0.015, metal))
    parts.append(box((0, -d / 2 + 0.1, h + 0.14), (0.012, 0.06, 0.012), metal))
    return Obj(SINK, parts, w / 2, d / 2 + 0.01)


def make_bathtub(rng):
    L, w, h = rng.uniform(1.5, 1.8), rng.uniform(0.7, 0.85), rng.uniform(0.5, 0.6)
    white = mat(rng, "ceramic")
    t = rng.uniform(0.06, 0.1)
    parts = [
        box_z(0, -w / 2 + t / 2, 0.0, h, L / 2, t / 2, white),
        box_z(0, w / 2 - t / 2, 0.0, h, L / 2, t / 2, white),
        box_z(-L / 2 + t / 2, 0, 0.0, h, t / 2, w / 2 - t, white),
        box_z(L / 2 - t / 2, 0, 0.0, h, t / 2, w / 2 - t, white),
        Part(
            "rim",
            (0, 0, h - 0.012),
            (L / 2 - t, w / 2 - t, 0.012),
            white,
            hole=(L / 2 - t - 0.004, w / 2 - t - 0.004),
        ),
        Part("bowl", (0, 0, h - 0.004), (L / 2 - t - 0.004, w / 2 - t - 0.004, h - 0.07), white, solid=False),
        box_z(0, 0, 0.0, 0.05, L / 2 - t, w / 2 - t, white),
    ]
    return Obj(BATHTUB, parts, L / 2, w / 2)


def make_shower_curtain(rng, width=None, bottom=None):
    width = width or rng.uniform(0.8, 1.6)
    bottom = rng.uniform(0.03, 0.1) if bottom is None else bottom
    top = rng.uniform(1.85, 2.05)
    col = pick(rng, "white", "plastic", "fabric")
    amp = rng.uniform(0.015, 0.04)
    parts = [
        Part(
            "sheet",
            (0, 0, (bottom + top) / 2),
            (width / 2, amp, (top - bottom) / 2),
            col,
            solid=False,
            lam=rng.uniform(0.08, 0.2),
            phi=rng.uniform(0, 6.3),
        ),
        cyl_z(0, 0, top + 0.02, top + 0.04, width / 2 + 0.05, 0.01, mat(rng, "metal")),
    ]
    return Obj(SHOWER, parts, width / 2 + 0.05, amp + 0.02)
