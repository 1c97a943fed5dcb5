"""The project's third synthetic room generator: rooms that imitate ScanNet-style RGB-D scans.

Written independently of the first two generators (`room_a`, `room_b`; without reading them) and
never used in training: `benchmarks/demo_robustness.py` evaluates the demo weights on its rooms
as a held-out estimate of how they do on a generator they were not trained on.

Independent design. A room is a rectangular box (walls + floor, no ceiling) furnished by
room-type recipes (bedroom, living room, office, kitchen, bathroom, dining room). Every object
is a set of analytic primitives (oriented boxes, vertical cylinders, ellipsoids) in its own
frame. Points are produced by a simulated scanner: rays are cast from a few virtual camera
positions inside the room and the first surface hit is kept, so occluded surfaces are missing
and the raw density falls off with distance; hits are then partially re-weighted (like a fused
mesh) and subsampled to exactly n_points. Colours: per-material base colour, procedural
texture (wood grain, fabric noise, tiles, book spines), Lambert lighting, per-camera exposure,
sensor noise. Geometry noise: 2-8 mm (per room) along the surface normal plus a little
tangential jitter.
It has no superpoints of its own: `generate_room` computes them (`runtime.superpoints`).
"""

from isbnet_trt.training.synthetic.room_c.generate import generate_room

__all__ = ["generate_room"]
