"""isbnet-trt: ISBNet 3D instance segmentation, deployed.

Subpackages: `isbnet` (PyTorch reference model), `plugins` (custom ops), `export` (ONNX stages
and TensorRT engines), `runtime` (pipeline, backends, CLI).
"""

__version__ = "0.1.0"
