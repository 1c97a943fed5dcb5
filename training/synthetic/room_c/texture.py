"""Procedural textures (wood grain, fabric noise, tiles, book spines) from hashed lattice noise."""

from __future__ import annotations

import numpy as np

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


def _hash(ix, iy, iz, salt):
    h = (
        (ix.astype(np.int64) * 73856093)
        ^ (iy.astype(np.int64) * 19349663)
        ^ (iz.astype(np.int64) * 83492791)
        ^ (salt * 2654435761)
    )
    h = (h ^ (h >> 13)) * 1274126177
    return ((h ^ (h >> 16)) & 0xFFFF).astype(np.float32) / 65535.0


def texture(p, L, n, rng_salt):
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
