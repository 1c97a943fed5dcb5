"""isbnet-trt: ISBNet 3D instance segmentation, deployed.

Layers, each importing only those below it: `benchmarks` -> `training` -> `runtime` -> `export` ->
`isbnet` (the PyTorch reference model) -> `plugins` (the `isbnet::` ops). `cli` (the command line)
sits on top; `errors` at the root is shared by all.
"""

__version__ = "0.1.0"
