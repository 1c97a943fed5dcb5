"""TensorRT plugin `isbnet::FarthestPointSample` (docs/ops/FarthestPointSample.md): a quickly
deployable plugin with an AOT implementation launching the one-block kernel `isbnet_fps_block`. Its
second output is a float32 (N,) scratch buffer for the running minima (an AOT plugin has no
workspace; see `trt_plugins`).

This file must not use `from __future__ import annotations`: `tensorrt.plugin` inspects the
annotations at runtime (the attribute fields' `npt.NDArray` types, the `AotResult` return
annotation). Registered by `plugins/trt_plugins.py`, which holds the registration state.
"""

from collections.abc import Callable, Mapping
from typing import Tuple  # noqa: UP035 - tensorrt.plugin validates typing annotations

import numpy as np
import numpy.typing as npt

from isbnet_trt.plugins import spec
from isbnet_trt.plugins.farthest_point_sample.launch import variant_code
from isbnet_trt.plugins.spec import PLUGIN_NAMESPACE
from isbnet_trt.plugins.tensorrt_common import aot_result_type, scalar_int, type_combination

__all__ = ["define"]


def define(trt, trtp, ptx: Callable[[], bytes], constants: Mapping[str, int]) -> None:  # noqa: ANN001
    """Register `isbnet::FarthestPointSample` with `tensorrt.plugin` (`trtp`): shape descriptor, autotune
    combinations, AOT implementation. ptx: the kernels' PTX (called at build time); constants:
    `cuda_build.launch_constants()`."""
    AotResult = aot_result_type(trtp)  # noqa: N806 - the aot_impl's mandatory return annotation

    @trtp.register(f"{PLUGIN_NAMESPACE}::FarthestPointSample")
    def _fps_desc(
        xyz: trtp.TensorDesc, n_sample: npt.NDArray[np.int32], variant: str
    ) -> Tuple[trtp.TensorDesc, trtp.TensorDesc]:  # noqa: UP006
        n = xyz.shape_expr[0]
        k, name = spec.check_farthest_point_sample(scalar_int(n_sample, "n_sample"), variant.rstrip("\0"))
        # indices: (n_sample,) for "isbnet", (min(n_sample, N),) for "pointnet2"; then the scratch
        n_out = spec.fps_output_size(n, k, name, minimum=trtp.min)
        return trtp.from_shape_expr((n_out,), dtype=trt.int32), trtp.from_shape_expr((n,), dtype=trt.float32)

    @trtp.autotune(f"{PLUGIN_NAMESPACE}::FarthestPointSample")
    def _fps_tune(xyz, outputs):
        return [trtp.AutoTuneCombination(type_combination("FarthestPointSample"), "LINEAR")]

    @trtp.aot_impl(f"{PLUGIN_NAMESPACE}::FarthestPointSample")
    def _fps_aot(xyz, n_sample, variant, outputs, tactic) -> AotResult:
        # One block (isbnet_fps_block); its running minima live in the scratch output when N
        # exceeds what its registers hold. The multi-block kernel needs a cooperative launch,
        # which an AOT plugin cannot request.
        launch = trtp.KernelLaunchParams()
        launch.grid_x = 1
        launch.block_x = constants["ISBNET_FPS_THREADS"]
        launch.shared_mem = 0
        scalars = trtp.SymIntExprs.from_tuple(
            [
                trtp.SymInt32(xyz.shape_expr[0]),
                trtp.SymInt32(outputs[0].shape_expr[0]),
                trtp.SymInt32(variant_code(variant.rstrip("\0"))),
            ]
        )
        return b"isbnet_fps_block", ptx(), launch, scalars
