"""Furnishing recipes per room type: which objects, how many, and where (against walls, free, around
tables)."""

from __future__ import annotations

import math

import numpy as np

from isbnet_trt.training.synthetic.room_b.bathroom import (
    make_bathtub,
    make_shower_curtain,
    make_sink,
    make_toilet,
)
from isbnet_trt.training.synthetic.room_b.furniture import (
    make_bed,
    make_chair,
    make_desk,
    make_sofa,
    make_table,
)
from isbnet_trt.training.synthetic.room_b.room import Room, yaw_axes
from isbnet_trt.training.synthetic.room_b.storage import (
    make_bookshelf,
    make_cabinet,
    make_counter,
    make_fridge,
    make_other,
)
from isbnet_trt.training.synthetic.room_b.walls import (
    add_curtains,
    add_door,
    add_picture,
    add_window,
    wall_pose,
)


def place_on_wall(room, rng, o, tries=40, wall=None, gap=None):
    for _ in range(tries):
        wi = rng.integers(len(room.walls)) if wall is None else wall
        W = room.walls[wi]
        if W["L"] < 2 * o.hx + 0.04:
            continue
        sc = rng.uniform(o.hx + 0.01, W["L"] - o.hx - 0.01)
        if rng.random() < 0.3:  # snap into a corner
            sc = o.hx + 0.015 if rng.random() < 0.5 else W["L"] - o.hx - 0.015
        g = rng.uniform(0.005, 0.03) if gap is None else gap
        x, y, yaw = wall_pose(room, wi, sc, o.hy + g)
        if room.free(x, y, yaw, o.hx, o.hy, o.z0, o.height):
            return _commit(room, o, x, y, yaw)
    return False


def place_free(room, rng, o, tries=40, center=None, yaw=None):
    xs, ys = room.poly[:, 0], room.poly[:, 1]
    for _ in range(tries):
        if center is None:
            x, y = rng.uniform(xs.min(), xs.max()), rng.uniform(ys.min(), ys.max())
        else:
            x, y = center
        a = yaw
        if a is None:
            a = rng.integers(4) * math.pi / 2 + (
                rng.normal(0, 0.06) if rng.random() < 0.7 else rng.uniform(0, 6.3)
            )
        if room.free(x, y, a, o.hx, o.hy, o.z0, o.height, margin=0.06):
            return _commit(room, o, x, y, a)
        if center is not None:
            return False
    return False


def _commit(room, o, x, y, yaw):
    o.pose = (x, y, yaw)
    room.zones.append((x, y, yaw, o.hx, o.hy, o.z0, o.height))
    return True


def chairs_around(room, rng, table, objs, nmax):
    x, y, yaw = table.pose
    R = yaw_axes(yaw)
    slots = []
    for side in (-1, 1):
        n_along = max(1, int((2 * table.hx) / 0.65))
        for k in range(n_along):
            u = -table.hx + (k + 0.5) * 2 * table.hx / n_along
            slots.append((u, side * table.hy, side))
        if table.hy > 0.35:
            slots.append((side * table.hx, 0.0, 2 * side))
    rng.shuffle(slots)
    placed = 0
    for u, v, side in slots:
        if placed >= nmax:
            break
        ch = make_chair(rng)
        pull = rng.uniform(0.07, 0.35)
        if abs(side) == 1:
            loc = np.array([u, v + side * (ch.hy + pull)])
            face = yaw + (math.pi if side == 1 else 0.0)  # chair +y towards table
        else:
            loc = np.array([u + np.sign(side) * (ch.hy + pull), v])
            face = yaw + (math.pi / 2 if side > 0 else -math.pi / 2)
        wpos = loc @ R + [x, y]
        if place_free(room, rng, ch, center=wpos, yaw=face + rng.normal(0, 0.15)):
            objs.append(ch)
            placed += 1


ROOM_TYPES = {
    # name: (weights of builders, n objects range)
    "bedroom": (
        {
            "bed": 3,
            "cabinet": 2,
            "other": 3,
            "desk": 1,
            "chair": 1,
            "bookshelf": 1,
            "table": 0.5,
            "sofa": 0.3,
        },
        (5, 14),
    ),
    "living": ({"sofa": 3, "table": 2, "chair": 2, "bookshelf": 1.5, "cabinet": 1.5, "other": 3}, (6, 18)),
    "office": (
        {
            "desk": 4,
            "chair": 3,
            "cabinet": 2,
            "bookshelf": 2,
            "table": 1,
            "other": 1.5,
            "fridge": 0.3,
            "sofa": 0.3,
        },
        (8, 25),
    ),
    "kitchen": (
        {"counter": 3, "cabinet": 2, "fridge": 1.5, "table": 1.5, "chair": 1, "other": 1, "wallcab": 1.5},
        (6, 18),
    ),
    "bathroom": ({"toilet": 2, "sink": 2, "bathtub": 1.5, "cabinet": 1, "other": 1}, (5, 10)),
    "conference": ({"bigtable": 1, "cabinet": 1, "other": 1, "bookshelf": 0.5}, (8, 25)),
    "storage": ({"cabinet": 3, "bookshelf": 3, "other": 3, "fridge": 1, "counter": 1, "table": 1}, (6, 16)),
}


TYPE_CYCLE = (
    "bedroom",
    "living",
    "office",
    "bathroom",
    "kitchen",
    "bedroom",
    "conference",
    "bathroom",
    "storage",
    "living",
)


CAPS = {"bed": 2, "sofa": 3, "fridge": 2, "bathtub": 1, "toilet": 2, "bigtable": 1, "counter": 3}


def furnish(room: Room, rng, objs):
    rtype = room.rtype
    weights, (nlo, nhi) = ROOM_TYPES[rtype]
    area = sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in room.rects)
    target = int(np.clip(round(area * rng.uniform(0.35, 0.9)), nlo, nhi))
    for _ in range(1 if rng.random() < 0.7 else 2):
        add_door(room, rng, objs)
    wins = []
    for _ in range(rng.integers(0, 4) if rtype != "bathroom" else rng.integers(0, 2)):
        w = add_window(room, rng, objs)
        if w:
            wins.append(w)
    for w in wins:
        if rng.random() < (0.65 if rtype != "bathroom" else 0.2):
            add_curtains(room, rng, objs, w)
    names = list(weights)
    pw = np.array([weights[k] for k in names], float)
    pw /= pw.sum()
    if rtype == "bathroom":
        seq = ["toilet", "sink"] + (["bathtub"] if rng.random() < 0.6 else [])
    elif rtype == "conference":
        seq = ["bigtable"]
    elif rtype == "bedroom":
        seq = ["bed"]
    elif rtype == "living":
        seq = ["sofa"]
    elif rtype == "office":
        seq = ["desk", "desk"]
    elif rtype == "kitchen":
        seq = ["counter", "fridge", "counter"]
    else:
        seq = []
    shower_done = False
    used = {}
    guard = 0
    while len(objs) < target and guard < 80:
        guard += 1
        name = seq.pop(0) if seq else rng.choice(names, p=pw)
        used[name] = used.get(name, 0) + 1
        if used[name] > CAPS.get(name, 99):
            continue
        if name == "bed":
            o = make_bed(rng)
            ok = place_on_wall(room, rng, o, gap=0.005)
        elif name == "sofa":
            o = make_sofa(rng)
            ok = place_on_wall(room, rng, o) if rng.random() < 0.6 else place_free(room, rng, o)
        elif name == "table":
            o = make_table(rng)
            ok = place_free(room, rng, o) if rng.random() < 0.8 else place_on_wall(room, rng, o)
            if ok:
                objs.append(o)
                if o.height > 0.6 and rng.random() < 0.8:
                    chairs_around(room, rng, o, objs, rng.integers(1, 7))
                continue
        elif name == "bigtable":
            o = make_table(rng, big=True, kind="rect")
            ok = place_free(room, rng, o)
            if ok:
                objs.append(o)
                chairs_around(room, rng, o, objs, rng.integers(4, 14))
                continue
        elif name == "desk":
            o = make_desk(rng)
            ok = place_on_wall(room, rng, o) if rng.random() < 0.8 else place_free(room, rng, o)
            if ok:
                objs.append(o)
                if rng.random() < 0.8:
                    ch = make_chair(rng)
                    x, y, yaw = o.pose
                    loc = np.array([rng.uniform(-0.2, 0.2), o.hy + ch.hy + rng.uniform(0.07, 0.4)])
                    if place_free(
                        room,
                        rng,
                        ch,
                        center=loc @ yaw_axes(yaw) + [x, y],
                        yaw=yaw + math.pi + rng.normal(0, 0.3),
                    ):
                        objs.append(ch)
                continue
        elif name == "chair":
            o = make_chair(rng)
            ok = (
                place_free(room, rng, o)
                if rng.random() < 0.7
                else place_on_wall(room, rng, o, gap=rng.uniform(0.02, 0.2))
            )
        elif name == "cabinet":
            o = make_cabinet(rng)
            ok = place_on_wall(room, rng, o)
        elif name == "wallcab":
            o = make_cabinet(rng, "wall")
            ok = place_on_wall(room, rng, o)
        elif name == "fridge":
            o = make_fridge(rng)
            ok = place_on_wall(room, rng, o, gap=rng.uniform(0.02, 0.06))
        elif name == "counter":
            o = make_counter(rng)
            ok = place_on_wall(room, rng, o)
        elif name == "bookshelf":
            o = make_bookshelf(rng)
            ok = place_on_wall(room, rng, o)
        elif name == "toilet":
            o = make_toilet(rng)
            ok = place_on_wall(room, rng, o, gap=0.01)
        elif name == "sink":
            if rng.random() < 0.35:  # vanity: cabinet + vessel sink on top (two instances)
                cab = make_cabinet(rng, "low")
                h = rng.uniform(0.62, 0.75)
                sc0 = h / cab.height
                for p in cab.parts:
                    p.c[2] *= sc0
                    p.h[2] *= sc0
                cab.height = h
                sk = make_sink(rng, pedestal=False)
                if cab.hx < sk.hx + 0.02 or cab.hy < sk.hy + 0.02:
                    o = make_sink(rng)
                    ok = place_on_wall(room, rng, o)
                elif place_on_wall(room, rng, cab):
                    objs.append(cab)
                    lift = h - min(p.c[2] - p.h[2] for p in sk.parts)
                    for p in sk.parts:
                        p.c[2] += lift
                    sk.height = max(p.c[2] + p.h[2] for p in sk.parts)
                    sk.z0 = h
                    x, y, yaw = cab.pose
                    shift = np.array([0.0, -(cab.hy - sk.hy) + 0.02]) @ yaw_axes(yaw)
                    sk.pose = (x + shift[0], y + shift[1], yaw)
                    room.zones.append((sk.pose[0], sk.pose[1], yaw, sk.hx, sk.hy, h, sk.height))
                    objs.append(sk)
                    continue
                else:
                    ok = False
            else:
                o = make_sink(rng)
                ok = place_on_wall(room, rng, o)
        elif name == "bathtub":
            o = make_bathtub(rng)
            ok = place_on_wall(room, rng, o, gap=0.005)
            if ok:
                objs.append(o)
                if rng.random() < 0.75:
                    x, y, yaw = o.pose
                    sc_ = make_shower_curtain(rng, width=2 * o.hx - 0.05, bottom=o.height + 0.015)
                    loc = np.array([0.0, o.hy - 0.04 - sc_.hy]) @ yaw_axes(yaw) + [x, y]
                    sc_.pose = (loc[0], loc[1], yaw)
                    room.zones.append((loc[0], loc[1], yaw, sc_.hx, sc_.hy, o.height + 0.01, sc_.height))
                    objs.append(sc_)
                    shower_done = True
                continue
        else:
            o = make_other(rng)
            ok = place_on_wall(room, rng, o) if rng.random() < 0.6 else place_free(room, rng, o)
        if ok:
            if o.height > room.H - 0.04:
                room.zones.pop()
                continue
            objs.append(o)
    if rtype == "bathroom" and not shower_done and rng.random() < 0.6:
        o = make_shower_curtain(rng)
        if place_free(room, rng, o):
            objs.append(o)
    # a few pictures
    for _ in range(rng.integers(0, 4)):
        if len(objs) < 25:
            add_picture(room, rng, objs)
    return rtype
