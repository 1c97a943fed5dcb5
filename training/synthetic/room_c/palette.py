"""Class ids and the material palettes (woods, whites, greys, fabrics, walls, floors) with random picks."""

from __future__ import annotations

import numpy as np

from isbnet_trt.training.synthetic.scene import CLASS_ID

C = CLASS_ID  # class name -> ScanNetV2 20-class index

WOODS = [
    (150, 105, 65),
    (120, 80, 50),
    (185, 145, 100),
    (95, 65, 45),
    (200, 170, 125),
    (165, 120, 80),
    (70, 50, 35),
]
WHITES = [(230, 228, 220), (215, 215, 210), (240, 238, 232), (200, 200, 195)]
GREYS = [(120, 120, 125), (80, 80, 85), (160, 160, 160), (50, 50, 55), (185, 185, 190)]
FABRICS = [
    (110, 120, 140),
    (140, 60, 55),
    (90, 110, 80),
    (170, 150, 120),
    (60, 70, 100),
    (150, 140, 130),
    (200, 190, 170),
    (80, 80, 80),
    (120, 90, 120),
    (60, 100, 110),
]
WALLS = [
    (225, 220, 205),
    (235, 232, 225),
    (210, 205, 190),
    (200, 210, 215),
    (220, 210, 190),
    (230, 225, 215),
    (205, 200, 200),
]
FLOORS = [
    ("wood", (150, 110, 70)),
    ("wood", (180, 140, 95)),
    ("tile", (200, 195, 185)),
    ("tile", (150, 150, 150)),
    ("carpet", (120, 115, 105)),
    ("carpet", (90, 95, 110)),
    ("wood", (110, 80, 55)),
    ("plain", (170, 160, 145)),
]


def choose(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def jitter(rng, col, amt=12):
    return tuple(float(np.clip(c + rng.normal(0, amt), 5, 250)) for c in col)
