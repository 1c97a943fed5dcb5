"""The project's second synthetic indoor-room generator (ScanNetV2 20-class labels).

Written independently of the first generator (`room_a`, without reading it), as another team would write
one: other room types, object shapes, sizes and palettes. It estimates how the demo weights
generalise to rooms they were not designed on (`benchmarks/demo_robustness.py`) and can be mixed
into training (`training.train --second-generator-prob`). It has no superpoints of its own: users'
scans have none either, so `generate_room` computes them (`runtime.superpoints`).


Design: a room is a rectangle or an L (union of two rectangles), walls without a ceiling.
Objects are built from primitive parts (boxes, elliptic cylinders, clipped ellipsoids, inner
bowls, plates with an elliptic hole, wavy sheets) in an object frame (+y = front, back at
-hy), placed against walls or free-standing with a 3-D zone overlap test (footprint OBB + z
range), then surfaces are sampled at a uniform density.  Hidden points are removed by probing
a little along the outward normal: a probe inside another solid, behind a wall or below the
floor means the point is not visible (contact faces, floor under low furniture, wall behind
cabinets...).  Colours: per-part materials drawn from a palette, a simple Lambert-like shading,
per-room white balance / exposure, per-point noise.  Then Gaussian position noise, a few scan
holes, a random yaw of the whole room, and an exact subsample to n_points.
"""

from isbnet_trt.training.synthetic.room_b.generate import generate_room

__all__ = ["generate_room"]
