"""Furnishing recipes per room type (bedroom, living room, office, kitchen, bathroom, dining room)."""

from __future__ import annotations

import math

import numpy as np

from isbnet_trt.training.synthetic.geometry import yaw_rotation
from isbnet_trt.training.synthetic.room_c.furniture import (
    mk_bathtub,
    mk_bed,
    mk_bookshelf,
    mk_cabinet,
    mk_chair,
    mk_desk,
    mk_fridge,
    mk_nightstand,
    mk_other,
    mk_sink_pedestal,
    mk_sofa,
    mk_table,
    mk_toilet,
)
from isbnet_trt.training.synthetic.room_c.palette import FABRICS, GREYS, WHITES, WOODS, C, choose, jitter
from isbnet_trt.training.synthetic.room_c.primitives import Obj, basin, box, curtain_parts, cyl
from isbnet_trt.training.synthetic.room_c.room import (
    Room,
    add_door,
    add_pictures,
    add_window,
    around_table,
    row_along_wall,
)


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
            col = jitter(rng, choose(rng, WHITES + FABRICS))
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
                sk = Obj(C["sink"], basin(bw, 0.4, vc.h, 0.14, jitter(rng, WHITES[0], 4)), bw, 0.4, 0.14)
                sk.pos, sk.yaw = vc.pos + yaw_rotation(vc.yaw, 2) @ np.array([0, 0.01]), vc.yaw
                room.objs.append(sk)
        if r() < 0.5:
            room.against_wall(mk_cabinet(rng, "tall", w=rng.uniform(0.4, 0.6)))
        if r() < 0.6:
            room.against_wall(mk_other(rng, choose(rng, ["bin", "washer"])))
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
            ctop = jitter(rng, choose(rng, [GREYS[3], GREYS[4], WHITES[1], WOODS[2], (40, 40, 45)]))
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
                col = jitter(rng, choose(rng, [GREYS[2], GREYS[4], WHITES[0]]), 4)
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
            t = mk_table(rng, choose(rng, ["dining", "round"]))
            if room.free_spot(t, 0.7):
                around_table(rng, room, t, int(rng.integers(2, 5)))
        for _ in range(int(rng.integers(0, 3))):
            room.against_wall(mk_cabinet(rng, choose(rng, ["low", "tall"])))
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
            room.against_wall(mk_cabinet(rng, choose(rng, ["wardrobe", "wardrobe", "low", "tall"])))
        if r() < 0.5:
            d = mk_desk(rng)
            got = room.against_wall(d)
            if got is not None:
                ch = mk_chair(rng)
                room.try_floor(
                    ch,
                    d.pos + yaw_rotation(d.yaw, 2) @ np.array([0, d.d / 2 + ch.d / 2 + 0.1]),
                    d.yaw + math.pi + rng.normal(0, 0.2),
                )
        for _ in range(int(rng.integers(0, 2))):
            room.against_wall(mk_bookshelf(rng))
        for _ in range(int(rng.integers(1, 4))):
            room.against_wall(mk_other(rng, choose(rng, ["bin", "ottoman", "crate", "coatrack"])))
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
            R = yaw_rotation(so.yaw, 2)
            room.try_floor(
                ct,
                so.pos + R @ np.array([0, so.d / 2 + ct.d / 2 + rng.uniform(0.3, 0.5)]),
                so.yaw + rng.normal(0, 0.05),
            )
        if r() < 0.5:
            room.against_wall(mk_sofa(rng), tries=20)
        for _ in range(int(rng.integers(1, 4))):
            room.free_spot(mk_chair(rng, choose(rng, ["arm", "wood"])), 0.3)
        if r() < 0.7:
            room.against_wall(mk_other(rng, "tvstand"))
        for _ in range(int(rng.integers(0, 3))):
            room.against_wall(mk_bookshelf(rng))
        for _ in range(int(rng.integers(0, 3))):
            room.against_wall(mk_table(rng, "side"))
        if r() < 0.5:
            room.against_wall(mk_cabinet(rng, "low"))
        for _ in range(int(rng.integers(0, 3))):
            room.against_wall(mk_other(rng, choose(rng, ["bin", "ottoman", "piano", "coatrack"])))
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
                    d.pos
                    + yaw_rotation(d.yaw, 2) @ np.array([rng.normal(0, 0.1), d.d / 2 + ch.d / 2 + 0.08]),
                    d.yaw + math.pi + rng.normal(0, 0.4),
                )
        for _ in range(int(rng.integers(0, 4))):
            room.against_wall(mk_bookshelf(rng))
        for _ in range(int(rng.integers(0, 4))):
            room.against_wall(mk_cabinet(rng, choose(rng, ["file", "low", "tall"])))
        if r() < 0.4:
            t = mk_table(rng, choose(rng, ["work", "round"]))
            if room.free_spot(t, 0.8):
                around_table(rng, room, t, int(rng.integers(1, 5)))
        for _ in range(int(rng.integers(1, 4))):
            room.against_wall(mk_other(rng, choose(rng, ["bin", "bin", "crate", "coatrack"])))
        if r() < 0.5:
            room.against_wall(mk_sofa(rng))
        add_pictures(rng, room, int(rng.integers(0, 3)))
    else:  # dining / meeting room
        t = mk_table(rng, choose(rng, ["dining", "work", "round"]))
        if room.free_spot(t, 0.8, tries=60):
            around_table(rng, room, t, int(rng.integers(3, 11)))
        for _ in range(int(rng.integers(0, 3))):
            room.against_wall(mk_cabinet(rng, choose(rng, ["low", "tall"])))
        for _ in range(int(rng.integers(0, 4))):
            room.against_wall(mk_chair(rng))
        if r() < 0.5:
            room.against_wall(mk_bookshelf(rng))
        if r() < 0.5:
            room.against_wall(mk_other(rng))
        add_pictures(rng, room, int(rng.integers(0, 4)))


ROOM_TYPES = ("bedroom", "living", "office", "kitchen", "bathroom", "dining")
