"""Superpoints computed from a bare point cloud (`--superpoints auto`).

ISBNet pools features per superpoint and builds its final masks from whole superpoints; on ScanNet
these come from `segmentator` run on the mesh. A user's own point cloud has no mesh, so this module
over-segments the points directly, with the same family of algorithm (Felzenszwalb & Huttenlocher
graph segmentation) on a point graph instead of the mesh graph, and with colour as well as normals:

1. **Voxelise** at `voxel_size` (2 cm, the model's voxel): mean position and colour per voxel. This
   caps the work for dense clouds; every later step works on voxels.
2. **Neighbours**: the nearest voxels within r = `radius_factor` * d4, d4 = the median distance from a
   voxel to its 4th nearest voxel (a uniform grid of r-sized cells, scanned 3 x 3 x 3; numba). Tying r
   and the minimum segment size to d4 keeps the result stable from 30k to 300k+ points per room.
3. **Normals**: PCA of each voxel and its `normal_neighbours` nearest (smallest-eigenvalue axis, closed
   form). Unoriented: only |n_i . n_j| is used.
4. **Colour smoothing**: one bilateral pass (mean over the neighbours whose colour is within
   `colour_smoothing` rgb units): scanner colour noise would otherwise dominate the edge weights.
5. **Voxel graph**: the symmetrised `graph_neighbours`-NN graph, edge weight
   `(1 - |n_i . n_j|) + colour_weight * |c_i - c_j| / 255`.
6. **Felzenszwalb-Huttenlocher** on the voxel graph (edges by increasing weight; merge A and B when the
   weight is at most `min(Int(A) + k/|A|, Int(B) + k/|B|)`, `Int` = largest merged edge) with
   `k = voxel_k`, and no merge that would make a segment's bounding box longer than `max_extent` on any
   axis. This gives small, very pure "atoms".
7. **Atom graph**: atoms adjacent in the voxel graph, weighted like voxel edges but with the atoms'
   mean normal axes and mean colours (`segment_colour_weight`), which are far less noisy than single
   voxels. As in `segmentator`'s last step, atoms under `min_area` (converted to voxels with the median
   area per voxel, pi/4 * d4^2) join their neighbours, edges in increasing weight order: a small atom
   goes to the most similar adjacent segment.
8. Map voxels back to points; ids are renumbered 0..S-1.

Defaults were tuned on generated rooms (`training.synthetic`, generator a, seeds 0-7, 150k points);
quality and timings on other rooms are in `docs/superpoints.md`. Everything is deterministic: sorts
are stable and the loops are sequential.
"""

from isbnet_trt.runtime.superpoints.quality import SuperpointQuality, superpoint_quality
from isbnet_trt.runtime.superpoints.segment import SuperpointParams, compute_superpoints

__all__ = ["SuperpointParams", "SuperpointQuality", "compute_superpoints", "superpoint_quality"]
