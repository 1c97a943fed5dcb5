"""`Room`: the box, its floor occupancy grid and placement against walls or free; doors, windows with
curtains and pictures on the walls, rows along walls and chairs around tables."""

from __future__ import annotations

import math

import numpy as np

from isbnet_trt.training.synthetic.geometry import yaw_rotation
from isbnet_trt.training.synthetic.room_c.furniture import mk_chair
from isbnet_trt.training.synthetic.room_c.palette import FABRICS, GREYS, WHITES, WOODS, C, choose, jitter
from isbnet_trt.training.synthetic.room_c.primitives import Obj, box, curtain_parts

GRID = 0.05  # floor occupancy grid (m)


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
        R = yaw_rotation(yaw, 2)
        dx, dy = self.gx - pos[0], self.gy - pos[1]
        u = R[0, 0] * dx + R[1, 0] * dy
        v = R[0, 1] * dx + R[1, 1] * dy
        return (np.abs(u) <= w / 2 + margin) & (np.abs(v) <= d / 2 + margin)

    def inside(self, pos, yaw, w, d):
        R = yaw_rotation(yaw, 2)
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
    col = jitter(rng, choose(rng, WOODS + WHITES[:2] + [(170, 160, 140)]))
    frame = jitter(rng, col, 10)
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
    frame = jitter(rng, choose(rng, WHITES + [GREYS[1], WOODS[1]]), 5)
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
    frame = jitter(rng, choose(rng, WOODS + [GREYS[3], (200, 170, 60)]))
    img = jitter(rng, choose(rng, FABRICS + WHITES), 30)
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
            col = jitter(rng, choose(rng, FABRICS + WHITES))
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
    R = yaw_rotation(table.yaw, 2)
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
    kind = kind or choose(rng, ["wood", "wood", "office", "plastic", "arm"])
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
