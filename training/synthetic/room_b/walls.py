"""Wall-mounted objects: doors, windows with curtains, pictures (cut into or hung on a wall)."""

from __future__ import annotations

import math

from isbnet_trt.training.synthetic.room_b.materials import CURTAIN, DOOR, PICTURE, WINDOW, mat, pick
from isbnet_trt.training.synthetic.room_b.parts import Part, box, box_z, cyl_z
from isbnet_trt.training.synthetic.room_b.room import Obj, Room


def wall_item(
    room: Room, rng, kind, widths, z0, z1, depth, zone_depth, zone_z=None, wall=None, s=None, tries=30
):
    """Place a wall item; returns (wall index, along-wall centre s, width) or None."""
    for _ in range(tries):
        wi = rng.integers(len(room.walls)) if wall is None else wall
        W = room.walls[wi]
        wd = rng.uniform(*widths)
        if W["L"] < wd + 0.3:
            continue
        sc = rng.uniform(wd / 2 + 0.12, W["L"] - wd / 2 - 0.12) if s is None else s
        c = W["p0"] + W["d"] * sc + W["n"] * zone_depth / 2
        yaw = math.atan2(W["n"][1], W["n"][0]) - math.pi / 2
        zz = zone_z or (z0, z1)
        if room.free(c[0], c[1], yaw, wd / 2, zone_depth / 2 - 0.004, zz[0], zz[1], margin=0.02):
            room.zones.append((c[0], c[1], yaw, wd / 2, zone_depth / 2, zz[0], zz[1]))
            return wi, sc, wd
    return None


def wall_pose(room, wi, sc, off=0.0):
    W = room.walls[wi]
    c = W["p0"] + W["d"] * sc + W["n"] * off
    return c[0], c[1], math.atan2(W["n"][1], W["n"][0]) - math.pi / 2


def add_door(room, rng, objs):
    h = rng.uniform(1.98, 2.15)
    r = wall_item(room, rng, "door", (0.75, 1.0), 0.0, h, 0.05, 0.9)
    if r is None:
        return
    wi, sc, wd = r
    room.walls[wi]["holes"].append((sc - wd / 2, sc + wd / 2, 0.0, h))
    fc = pick(rng, "white", "wood", "paint")
    pc = fc if rng.random() < 0.5 else pick(rng, "wood", "white", "paint", "metal")
    fw, ft = rng.uniform(0.04, 0.08), rng.uniform(0.012, 0.025)
    parts = [
        box_z(-wd / 2 - fw / 2, ft / 2, 0.0, h + fw, fw / 2, ft / 2, fc),
        box_z(wd / 2 + fw / 2, ft / 2, 0.0, h + fw, fw / 2, ft / 2, fc),
        box_z(0, ft / 2, h, h + fw, wd / 2, ft / 2, fc),
    ]
    knob = mat(rng, "metal")
    if rng.random() < 0.65:  # closed, slightly recessed panel
        parts.append(box_z(0, 0.002 - 0.02, 0.01, h - 0.005, wd / 2 - 0.005, 0.02, pc))
        parts.append(cyl_z(wd / 2 - 0.08, 0.035, 0.95, 1.0, 0.025, 0.025, knob))
    else:  # open into the room
        a = rng.uniform(1.1, 1.7)
        hx = wd / 2 - 0.01
        cx, cy = -wd / 2 + 0.02 + math.cos(a) * hx, 0.03 + math.sin(a) * hx
        parts.append(box((cx, cy, h / 2 + 0.005), (hx, 0.02, h / 2 - 0.005), pc, yaw=a))
    x, y, yaw = wall_pose(room, wi, sc)
    o = Obj(DOOR, parts, wd / 2 + fw, 0.9, normalize=False)
    o.pose = (x, y, yaw)
    objs.append(o)


def add_window(room, rng, objs):
    sill = rng.uniform(0.75, 1.1)
    top = min(room.H - 0.15, sill + rng.uniform(0.8, 1.5))
    r = wall_item(room, rng, "window", (0.6, 2.2), sill - 0.05, top + 0.05, 0.1, 0.14)
    if r is None:
        return None
    wi, sc, wd = r
    win_zone = len(room.zones) - 1
    room.walls[wi]["holes"].append((sc - wd / 2, sc + wd / 2, sill, top))
    fc = pick(rng, "white", "wood", "metal")
    glass = mat(rng, "glass")
    fw = rng.uniform(0.04, 0.08)
    parts = [
        box_z(-wd / 2 + fw / 2, 0.015, sill, top, fw / 2, 0.015, fc),
        box_z(wd / 2 - fw / 2, 0.015, sill, top, fw / 2, 0.015, fc),
        box_z(0, 0.015, top - fw, top, wd / 2 - fw, 0.015, fc),
        box_z(0, 0.015, sill, sill + fw, wd / 2 - fw, 0.015, fc),
        box_z(0, rng.uniform(0.03, 0.08), sill - 0.03, sill, wd / 2 + 0.04, rng.uniform(0.03, 0.08), fc),
    ]
    if wd > 1.0:
        parts.append(box_z(0, 0.015, sill + fw, top - fw, fw / 3, 0.015, fc))
    parts.append(
        Part(
            "plane",
            (0, 0.004, (sill + top) / 2),
            (wd / 2 - fw, 0, (top - sill) / 2),
            glass,
            solid=False,
            dens=rng.uniform(0.15, 0.5),
        )
    )
    x, y, yaw = wall_pose(room, wi, sc)
    o = Obj(WINDOW, parts, wd / 2, 0.1, normalize=False)
    o.pose = (x, y, yaw)
    objs.append(o)
    return wi, sc, wd, sill, top, win_zone


def add_curtains(room, rng, objs, win):
    wi, sc, wd, sill, top, win_zone = win
    ctop = min(room.H - 0.03, top + rng.uniform(0.05, 0.3))
    cbot = rng.uniform(0.02, 0.08) if rng.random() < 0.6 else sill - rng.uniform(0.05, 0.2)
    col = pick(rng, "fabric", "fabric", "white")
    off = rng.uniform(0.07, 0.14)
    n = 1 if rng.random() < 0.3 else 2
    for k in range(n):
        cw = rng.uniform(0.3, 0.5) * wd + 0.15 if n == 2 else wd + 0.3
        s = sc - wd / 2 - 0.15 + cw / 2 if k == 0 else sc + wd / 2 + 0.15 - cw / 2
        amp = rng.uniform(0.02, 0.05)
        W = room.walls[wi]
        if s - cw / 2 < 0.02 or s + cw / 2 > W["L"] - 0.02:
            continue
        zd = (off + amp + 0.04) / 2
        c = W["p0"] + W["d"] * s + W["n"] * (zd + 0.004)
        yaw = math.atan2(W["n"][1], W["n"][0]) - math.pi / 2
        saved = room.zones
        room.zones = [z for i, z in enumerate(saved) if i != win_zone]
        ok = room.free(c[0], c[1], yaw, cw / 2, zd, cbot, ctop, margin=0.0)
        room.zones = saved
        if not ok:
            continue
        room.zones.append((c[0], c[1], yaw, cw / 2, zd, cbot, ctop))
        parts = [
            Part(
                "sheet",
                (0, off, (cbot + ctop) / 2),
                (cw / 2, amp, (ctop - cbot) / 2),
                col,
                solid=False,
                lam=rng.uniform(0.1, 0.25),
                phi=rng.uniform(0, 6.3),
            )
        ]
        x, y, yaw = wall_pose(room, wi, s)
        o = Obj(CURTAIN, parts, cw / 2, off, normalize=False)
        o.pose = (x, y, yaw)
        objs.append(o)


def add_picture(room, rng, objs):
    w, hgt = rng.uniform(0.25, 1.3), rng.uniform(0.25, 0.9)
    zc = rng.uniform(1.2, min(1.85, room.H - hgt / 2 - 0.15))
    r = wall_item(room, rng, "picture", (w, w + 1e-6), zc - hgt / 2, zc + hgt / 2, 0.03, 0.06)
    if r is None:
        return
    wi, sc, w = r
    t = rng.uniform(0.01, 0.04)
    fc = pick(rng, "wood", "dark", "white", "metal")
    fw = rng.uniform(0.015, 0.05)
    z0, z1 = zc - hgt / 2, zc + hgt / 2
    canvas = Part(
        "box", (0, t / 2, zc), (w / 2 - fw, t / 2, hgt / 2 - fw), (mat(rng, "plastic")[0], "picture")
    )
    canvas.extra["pat"] = rng.normal(0, 1, (4, 5))
    parts = [
        canvas,
        box_z(-w / 2 + fw / 2, t / 2 + 0.004, z0, z1, fw / 2, t / 2 + 0.004, fc),
        box_z(w / 2 - fw / 2, t / 2 + 0.004, z0, z1, fw / 2, t / 2 + 0.004, fc),
        box_z(0, t / 2 + 0.004, z0, z0 + fw, w / 2 - fw, t / 2 + 0.004, fc),
        box_z(0, t / 2 + 0.004, z1 - fw, z1, w / 2 - fw, t / 2 + 0.004, fc),
    ]
    if rng.random() < 0.3:  # whiteboard-like / poster without frame
        parts = [canvas]
        canvas.h[0] += fw
        canvas.h[2] += fw
    x, y, yaw = wall_pose(room, wi, sc)
    o = Obj(PICTURE, parts, w / 2, t, normalize=False)
    o.pose = (x, y, yaw)
    objs.append(o)
