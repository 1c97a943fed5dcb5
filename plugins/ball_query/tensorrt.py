"""TensorRT plugin `isbnet::BallQuery` (docs/ops/BallQuery.md): a quickly deployable plugin with
an AOT implementation launching `isbnet_ball_query` (one warp per centre; launch grid from
`launch.py`, shared with the PyTorch binding).

This file must not use `from __future__ import annotations`: `tensorrt.plugin` inspects the
annotations at runtime (the attribute fields' `npt.NDArray` types, the `AotResult` return
annotation). Registered by `plugins/trt_plugins.py`, which holds the registration state.
"""

from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt

from isbnet_trt.plugins import spec
from isbnet_trt.plugins.ball_query.launch import launch_grid
from isbnet_trt.plugins.cuda_driver import float32_bits
from isbnet_trt.plugins.spec import PLUGIN_NAMESPACE
from isbnet_trt.plugins.tensorrt_common import (
    aot_result_type,
    at_least_one,
    scalar_float,
    scalar_int,
    type_combination,
)

__all__ = ["define"]


def define(trt, trtp, ptx: Callable[[], bytes], constants: Mapping[str, int]) -> None:  # noqa: ANN001
    """Register `isbnet::BallQuery` with `tensorrt.plugin` (`trtp`): shape descriptor, autotune
    combinations, AOT implementation. ptx: the kernels' PTX (called at build time); constants:
    `cuda_build.launch_constants()`."""
    AotResult = aot_result_type(trtp)  # noqa: N806 - the aot_impl's mandatory return annotation

    @trtp.register(f"{PLUGIN_NAMESPACE}::BallQuery")
    def _bq_desc(
        xyz: trtp.TensorDesc,
        centres: trtp.TensorDesc,
        radius: npt.NDArray[np.float32],
        n_sample: npt.NDArray[np.int32],
    ) -> trtp.TensorDesc:
        _, k = spec.check_ball_query(scalar_float(radius, "radius"), scalar_int(n_sample, "n_sample"))
        return trtp.from_shape_expr((centres.shape_expr[0], k), dtype=trt.int32)

    @trtp.autotune(f"{PLUGIN_NAMESPACE}::BallQuery")
    def _bq_tune(xyz, centres, outputs):
        return [trtp.AutoTuneCombination(type_combination("BallQuery"), "LINEAR")]

    @trtp.aot_impl(f"{PLUGIN_NAMESPACE}::BallQuery")
    def _bq_aot(xyz, centres, radius, n_sample, outputs, tactic) -> AotResult:
        m = centres.shape_expr[0]
        grid, block = launch_grid(m, cdiv=trtp.cdiv)  # one warp per centre
        launch = trtp.KernelLaunchParams()
        launch.grid_x = at_least_one(trtp, grid)
        launch.block_x = block
        launch.shared_mem = 0
        scalars = trtp.SymIntExprs.from_tuple(
            [
                trtp.SymInt32(xyz.shape_expr[0]),
                trtp.SymInt32(m),
                trtp.SymInt32(scalar_int(n_sample, "n_sample")),
                trtp.SymInt32(float32_bits(scalar_float(radius, "radius"))),  # int32 scalars only
            ]
        )
        return b"isbnet_ball_query", ptx(), launch, scalars
