"""TensorRT plugin `isbnet::SparseConv3d` (docs/ops/SparseConv3d.md): a quickly deployable
plugin with an AOT implementation launching `isbnet_sparse_conv_{f32,f16}` (the "tile" kernel;
launch grid from `launch.py`, shared with the PyTorch binding).

This file must not use `from __future__ import annotations`: `tensorrt.plugin` inspects the
annotations at runtime (the attribute fields' `npt.NDArray` types, the `AotResult` return
annotation). Registered by `plugins/trt_plugins.py`, which holds the registration state.
"""

from collections.abc import Callable, Mapping

from isbnet_trt.plugins.sparse_conv.launch import launch_grid
from isbnet_trt.plugins.spec import PLUGIN_NAMESPACE
from isbnet_trt.plugins.tensorrt_common import aot_result_type, at_least_one, type_combination

__all__ = ["define"]


def define(trt, trtp, ptx: Callable[[], bytes], constants: Mapping[str, int]) -> None:  # noqa: ANN001
    """Register `isbnet::SparseConv3d` with `tensorrt.plugin` (`trtp`): shape descriptor, autotune
    combinations, AOT implementation. ptx: the kernels' PTX (called at build time); constants:
    `cuda_build.launch_constants()`."""
    AotResult = aot_result_type(trtp)  # noqa: N806 - the aot_impl's mandatory return annotation

    @trtp.register(f"{PLUGIN_NAMESPACE}::SparseConv3d")
    def _conv_desc(
        features: trtp.TensorDesc, kernel_map: trtp.TensorDesc, weight: trtp.TensorDesc
    ) -> trtp.TensorDesc:
        # output (N_out, C_out), features' dtype
        return trtp.from_shape_expr((kernel_map.shape_expr[0], weight.shape_expr[2]), dtype=features.dtype)

    @trtp.autotune(f"{PLUGIN_NAMESPACE}::SparseConv3d")
    def _conv_tune(features, kernel_map, weight, outputs):
        return [trtp.AutoTuneCombination(type_combination("SparseConv3d"), "LINEAR")]

    @trtp.aot_impl(f"{PLUGIN_NAMESPACE}::SparseConv3d")
    def _conv_aot(features, kernel_map, weight, outputs, tactic) -> AotResult:
        n_in, n_out = features.shape_expr[0], kernel_map.shape_expr[0]
        k_vol, c_in, c_out = weight.shape_expr[0], weight.shape_expr[1], weight.shape_expr[2]
        grid, block = launch_grid(n_out, c_out, "tile", cdiv=trtp.cdiv)
        launch = trtp.KernelLaunchParams()
        launch.grid_x = at_least_one(trtp, grid)
        launch.block_x = block
        launch.shared_mem = 0  # static shared memory only
        scalars = trtp.SymIntExprs.from_tuple([trtp.SymInt32(e) for e in (n_in, n_out, k_vol, c_in, c_out)])
        name = "isbnet_sparse_conv_f16" if features.dtype == trt.float16 else "isbnet_sparse_conv_f32"
        return name.encode(), ptx(), launch, scalars
