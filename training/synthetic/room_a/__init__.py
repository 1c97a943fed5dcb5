"""The project's first synthetic room generator (the default): surface-sampled furniture with instance
labels and superpoints.

Nothing may be downloaded at run time, so tests, benchmarks and the demo-weight training use these rooms
instead of ScanNetV2. A room is a rectangular box (floor + 4 walls, optional ceiling) furnished with
objects of the 18 ScanNetV2 instance classes, each built from a few primitives (boxes, open trays,
frustums, discs, pleated sheets) whose *visible* surfaces are sampled with one area-proportional density,
like a scanner's mesh vertices: faces resting on the floor or against a wall are left out, and the floor
under solid furniture and the wall behind wall-backed objects have holes.

Superpoints mimic ScanNet's mesh segments: every planar/curved part is split into patches by a jittered
Voronoi grid on the part's own surface (small parts are one patch), so a superpoint never crosses a part,
an instance or a semantic class.

Everything is drawn from one ``numpy.random.Generator(PCG64(seed))`` in a fixed order, so a seed gives
bit-identical arrays in every run and process.
"""

from isbnet_trt.training.synthetic.room_a.generate import generate_room
from isbnet_trt.training.synthetic.room_a.options import RoomOptions

__all__ = ["RoomOptions", "generate_room"]
