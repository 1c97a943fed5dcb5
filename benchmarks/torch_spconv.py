"""The PyTorch model with its U-Net on spconv 2.x: the official sparse-conv library as a baseline.

    stages = SpconvStages(load_model("model.pth", "config.yaml"))
    instances = forward_test(stages, scene, stages.cfg)

Same weights, same stages as the torch backend; only the sparse convs of the backbone's U-Net
run on `spconv.pytorch` modules that share the model's weight tensors (spconv 2's layout
`[C_out, k, k, k, C_in]` is the checkpoint's). spconv builds its own rulebooks from the level-0
voxel coordinates (the scene's kernel maps are not used), keyed per U-Net level as in the
official code (`subm{l+1}`, `spconv{l+1}`).

Threads: spconv 2.3.8's CPU build is only correct with one torch thread (spconv#679;
`official_semantics.md` §10), so the U-Net runs under `torch.set_num_threads(1)` on the CPU and
the previous setting is restored afterwards; the heads, aggregators and decoder run with the
caller's threads. The thread count is process-wide: do not run other torch work concurrently
with `backbone` in the same process.

spconv is imported lazily (`pip install 'isbnet-trt[spconv]'`). A baseline of the benchmark
(backends `torch-spconv`, `torch-cuda-spconv`) and of the GPU check, not a way to deploy: it
lives with the benchmarks, not in `runtime/backends/`.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, nn

from isbnet_trt.isbnet.aggregator import Queries
from isbnet_trt.isbnet.blocks import ResidualBlock, UBlock
from isbnet_trt.isbnet.model import BackboneOutputs, DecoderOutputs, ISBNet
from isbnet_trt.isbnet.sparse_conv import SparseConv3d, SparseInverseConv3d, SubMConv3d
from isbnet_trt.plugins.kernel_maps import LevelMaps
from isbnet_trt.runtime.backends import BackendError
from isbnet_trt.runtime.backends.torch_cuda import DeviceStages


def spconv_available() -> bool:
    """True when `spconv.pytorch` can be imported (checked without importing it)."""
    return importlib.util.find_spec("spconv") is not None


def _import_spconv() -> Any:
    if not spconv_available():
        raise BackendError("the torch-spconv backend needs spconv 2.x (pip install 'isbnet-trt[spconv]')")
    import spconv.pytorch as spconv

    # spconv asks torch.fx.is_fx_tracing() on every module call; torch >= 2.9 logs a deprecation
    # line for it (on stderr, through `logging`, once per process) that is not ours to show.
    logging.getLogger("torch.fx._symbolic_trace").setLevel(logging.ERROR)
    return spconv


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with `torch.set_num_threads(n)`, restoring the previous count after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class SpconvStages:
    """`Stages` of an `ISBNet` whose U-Net runs on spconv modules (see the module docstring).

    model: an `ISBNet` in eval mode (its weights are shared, not copied). threads: torch threads
    for the U-Net on the CPU (1: spconv's CPU build is wrong with more).
    """

    def __init__(self, model: ISBNet, threads: int = 1) -> None:
        if model.cfg.test.x4_split:
            # The merged 4-part scene is one spconv grid here, where the official code runs each
            # part on its own grid (`preprocess.merge_part_maps`): results would differ.
            raise BackendError(
                "the spconv backends do not implement the S3DIS 4-part split (test.x4_split); "
                "use torch or onnxruntime"
            )
        self._spconv = _import_spconv()
        self.model = model
        self.cfg = model.cfg
        self.threads = threads
        self._convs: dict[int, nn.Module] = {}
        self._wrap(model.input_conv[0], "subm1")
        self._wrap_ublock(model.unet, 0)

    # ------------------------------------------------------------------ spconv twins of the convs
    def _wrap(self, conv: nn.Module, key: str) -> None:
        sp = self._spconv
        c_in, c_out = conv.in_channels, conv.out_channels
        if isinstance(conv, SubMConv3d):
            twin = sp.SubMConv3d(c_in, c_out, 3, padding=1, bias=False, indice_key=key)
        elif isinstance(conv, SparseConv3d):
            twin = sp.SparseConv3d(c_in, c_out, 2, stride=2, bias=False, indice_key=key)
        elif isinstance(conv, SparseInverseConv3d):
            twin = sp.SparseInverseConv3d(c_in, c_out, 2, bias=False, indice_key=key)
        else:
            raise TypeError(f"not a sparse conv: {type(conv).__name__}")
        if tuple(twin.weight.shape) != tuple(conv.weight.shape):
            raise BackendError(
                f"spconv weight layout {tuple(twin.weight.shape)} != {tuple(conv.weight.shape)}"
            )
        twin.weight = conv.weight  # shared: the checkpoint's tensor, spconv's layout
        self._convs[id(conv)] = twin.eval()

    def _wrap_ublock(self, ublock: UBlock, level: int) -> None:
        subm_key, down_key = f"subm{level + 1}", f"spconv{level + 1}"
        tails = list(ublock.blocks_tail) if ublock.depth > 1 else []
        for block in [*ublock.blocks, *tails]:
            for m in block.conv_branch:
                if isinstance(m, SubMConv3d):
                    self._wrap(m, subm_key)
        if ublock.depth > 1:
            self._wrap(ublock.conv[-1], down_key)
            self._wrap(ublock.deconv[-1], down_key)  # inverse conv: same key as its forward conv
            self._wrap_ublock(ublock.u, level + 1)

    # ------------------------------------------------------------------ the U-Net on spconv tensors
    def _seq(self, seq: nn.Sequential, t: Any) -> Any:
        """(BN, ReLU, sparse conv) modules: dense modules on the features, convs on the tensor."""
        for m in seq:
            twin = self._convs.get(id(m))
            t = twin(t) if twin is not None else t.replace_feature(m(t.features))
        return t

    def _residual(self, block: ResidualBlock, t: Any) -> Any:
        identity = block.i_branch(t.features)  # Identity or the 1x1 projection (a matmul)
        out = self._seq(block.conv_branch, t)
        return out.replace_feature(out.features + identity)

    def _ublock(self, ublock: UBlock, t: Any) -> Any:
        for block in ublock.blocks:
            t = self._residual(block, t)
        if ublock.depth > 1:
            y = self._seq(ublock.conv, t)
            y = self._ublock(ublock.u, y)
            y = self._seq(ublock.deconv, y)  # back on t's voxels, in t's row order
            t = t.replace_feature(torch.cat((t.features, y.features), dim=1))
            for block in ublock.blocks_tail:
                t = self._residual(block, t)
        return t

    def unet(self, voxel_feats: Tensor, level0: LevelMaps) -> Tensor:
        """Input conv + U-Net on spconv: voxel_feats `(M, in_channels)` float32, level-0 voxel
        coords and spatial shape from `level0` → `(M, channels)` float32, rows in input order."""
        sp = self._spconv
        coords = torch.from_numpy(level0.coords).to(torch.int32)
        indices = torch.cat([torch.zeros(len(coords), 1, dtype=torch.int32), coords], dim=1)
        indices = indices.to(voxel_feats.device)
        shape = [int(s) for s in level0.spatial_shape]
        threads = self.threads if voxel_feats.device.type == "cpu" else torch.get_num_threads()
        with torch_threads(threads):
            t = sp.SparseConvTensor(voxel_feats, indices, shape, 1)
            t = self._convs[id(self.model.input_conv[0])](t)
            t = self._ublock(self.model.unet, t)
        return t.features

    # ------------------------------------------------------------------ Stages protocol
    @torch.no_grad()
    def backbone(
        self, voxel_feats: Tensor, voxel_coords_float: Tensor, voxel_spps: Tensor, maps: Sequence[LevelMaps]
    ) -> BackboneOutputs:
        """`ISBNet.backbone` with the U-Net on spconv (only `maps[0]`'s voxels are used)."""
        x = self.unet(voxel_feats, maps[0])
        return self.model.backbone_heads(x, voxel_coords_float, voxel_spps)

    def aggregate(self, locs: Tensor, feats: Tensor, boxes: Tensor) -> Queries:
        return self.model.aggregate(locs, feats, boxes)

    def decoder(self, cand: Queries, n_sample: int, bb: BackboneOutputs) -> DecoderOutputs:
        return self.model.decoder(cand, n_sample, bb)


class SpconvDeviceStages(DeviceStages):
    """The PyTorch GPU baseline (`DeviceStages(kernels=False)`: the model on `device`, its NumPy
    geometry) with the U-Net on spconv (spconv-cu126 on a GPU): the GPU PyTorch path the
    official code runs. Inputs and outputs are placed as DeviceStages places them."""

    def __init__(self, model: ISBNet, device: torch.device | str = "cuda") -> None:
        super().__init__(model, device, kernels=False)
        self._spconv_unet = SpconvStages(self.model)

    def _backbone_on_device(
        self, voxel_feats: Tensor, voxel_coords_float: Tensor, voxel_spps: Tensor, maps: Sequence[LevelMaps]
    ) -> BackboneOutputs:
        return self._spconv_unet.backbone(voxel_feats, voxel_coords_float, voxel_spps, maps)
