"""What the FPS kernels' launches share between the PyTorch binding and the TensorRT plugin: the
kernels' code of a variant (`ISBNET_FPS_VARIANT_*` of `plugins/cuda/launch_config.h`).
"""

from __future__ import annotations

from isbnet_trt.plugins import cuda_build, spec

__all__ = ["variant_code"]


def variant_code(variant: str) -> int:
    """The kernel argument of a spec variant (`spec.FPS_VARIANTS`): "isbnet" ->
    `ISBNET_FPS_VARIANT_ISBNET`, "pointnet2" -> `ISBNET_FPS_VARIANT_POINTNET2`."""
    if variant not in spec.FPS_VARIANTS:
        raise ValueError(f"variant must be one of {spec.FPS_VARIANTS}, got {variant!r}")
    return cuda_build.launch_constants()[f"ISBNET_FPS_VARIANT_{variant.upper()}"]
