"""Class ids (ScanNetV2 20-class order) and materials: a colour and a texture kind per part."""

from __future__ import annotations

import colorsys

import numpy as np

WALL, FLOOR, CABINET, BED, CHAIR, SOFA, TABLE, DOOR, WINDOW, BOOKSHELF = range(10)
PICTURE, COUNTER, DESK, CURTAIN, FRIDGE, SHOWER, TOILET, SINK, BATHTUB, OTHER = range(10, 20)


def _jit(rng, c, a=0.04):
    return np.clip(np.asarray(c, float) + rng.normal(0, a, 3), 0.02, 0.98)


def mat(rng, kind):
    """(rgb 0..1, texture) for a material name."""
    if kind == "wood":
        base = [
            (0.78, 0.62, 0.43),
            (0.62, 0.45, 0.28),
            (0.45, 0.3, 0.18),
            (0.32, 0.21, 0.13),
            (0.55, 0.3, 0.2),
            (0.66, 0.6, 0.52),
            (0.85, 0.75, 0.58),
        ]
        return _jit(rng, base[rng.integers(len(base))]), "grain"
    if kind == "fabric":
        h = rng.random()
        s = rng.uniform(0.1, 0.65)
        v = rng.uniform(0.25, 0.85)
        return np.array(colorsys.hsv_to_rgb(h, s, v)), "plain"
    if kind == "leather":
        base = [(0.35, 0.2, 0.12), (0.1, 0.09, 0.09), (0.6, 0.42, 0.26), (0.8, 0.78, 0.72)]
        return _jit(rng, base[rng.integers(len(base))], 0.03), "plain"
    if kind == "white":
        return _jit(rng, (0.9, 0.9, 0.87), 0.03), "plain"
    if kind == "paint":
        base = [
            (0.9, 0.9, 0.87),
            (0.85, 0.82, 0.75),
            (0.7, 0.72, 0.74),
            (0.25, 0.27, 0.3),
            (0.55, 0.65, 0.6),
            (0.75, 0.6, 0.5),
            (0.5, 0.55, 0.7),
        ]
        return _jit(rng, base[rng.integers(len(base))]), "plain"
    if kind == "metal":
        base = [(0.72, 0.73, 0.75), (0.55, 0.56, 0.58), (0.3, 0.31, 0.33), (0.12, 0.12, 0.13)]
        return _jit(rng, base[rng.integers(len(base))], 0.03), "plain"
    if kind == "plastic":
        h = rng.random()
        return np.array(colorsys.hsv_to_rgb(h, rng.uniform(0, 0.7), rng.uniform(0.15, 0.95))), "plain"
    if kind == "ceramic":
        return _jit(rng, (0.93, 0.93, 0.91), 0.02), "plain"
    if kind == "stone":
        base = [(0.2, 0.2, 0.21), (0.85, 0.84, 0.8), (0.55, 0.5, 0.45), (0.4, 0.4, 0.42)]
        return _jit(rng, base[rng.integers(len(base))], 0.03), "speckle"
    if kind == "glass":
        return _jit(rng, (0.55, 0.65, 0.7), 0.05), "plain"
    if kind == "dark":
        return _jit(rng, (0.12, 0.12, 0.12), 0.03), "plain"
    raise ValueError(kind)


def pick(rng, *kinds):
    return mat(rng, kinds[rng.integers(len(kinds))])
