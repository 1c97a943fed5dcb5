"""The PyTorch reference model on the GPU with our CUDA kernels (no TensorRT, no spconv).

`DeviceStages(model)` implements the `isbnet.inference.Stages` protocol: the model's own
modules and weights, with

* every sparse conv of the U-Net swapped for one that calls the `isbnet::SparseConv3d` kernel
  (`plugins.sparse_conv.cuda.sparse_conv`) on kernel maps uploaded once per scene as int32 tensors
  (no `KernelPairs` built, no host sync per conv);
* the aggregators' FPS and ball query on our kernels (`plugins.cuda_geometry.CudaGeometry`).

    stages = DeviceStages(model, "cuda")                  # copies the model to the GPU
    instances = forward_test(stages, stages.preprocessor(points, spps, cfg), cfg)

`DeviceStages(model, "cuda", kernels=False)` is the PyTorch GPU baseline: the unmodified model on
the GPU. Both run their dense layers in true float32 by default: PyTorch lets cuDNN use TF32 (10
mantissa bits) for the aggregators' and heads' Conv1d/Conv2d, which flipped near-threshold mask
decisions on an H200 (mask IoU down to 0.63); `tf32=True` allows it (faster, not exact).

With `device="cpu"` the kernel wiring runs the reference ops (reference sparse conv and
geometry): that is how the CPU tests check that this module computes what `ISBNet` computes.
Requires cuda-python (`pip install 'isbnet-trt[gpu]'`) for the GPU; without it the first kernel
launch raises `CudaUnavailableError` naming what is missing.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from isbnet_trt.isbnet.aggregator import GeometryOps, Queries, ReferenceGeometry
from isbnet_trt.isbnet.model import BackboneOutputs, DecoderOutputs, ISBNet
from isbnet_trt.isbnet.sparse_conv import SparseConv3d, SparseInverseConv3d, SubMConv3d, spconv_weight_to_kcc
from isbnet_trt.plugins.kernel_maps import LevelMaps
from isbnet_trt.plugins.sparse_conv.reference import sparse_conv
from isbnet_trt.runtime.torch_preprocess import TorchPreprocessor

__all__ = [
    "DeviceKernelMap",
    "DeviceLevel",
    "upload_maps",
    "kernel_sparse_conv",
    "float32_precision",
    "DeviceStages",
]


@dataclass(frozen=True)
class DeviceKernelMap:
    """A kernel map on the device: table (N_out, K) int32; min_inputs = 1 + its largest entry
    (computed on the host when uploading, so the conv needs no device-to-host sync)."""

    table: Tensor
    min_inputs: int


@dataclass(frozen=True)
class DeviceLevel:
    """`LevelMaps` of one U-Net level on the device (same field names as `LevelPairs`)."""

    subm: DeviceKernelMap
    down: DeviceKernelMap | None
    up: DeviceKernelMap | None


def _upload(table: np.ndarray | Tensor | None, device: torch.device, n_in: int) -> DeviceKernelMap | None:
    """A kernel map on `device`. NumPy tables get their exact bound (host side); device tables
    (`plugins.kernel_maps.torch_maps`) get `n_in`, the row count of the level they read, which bounds
    their entries by construction and needs no sync."""
    if table is None:
        return None
    if isinstance(table, Tensor):
        return DeviceKernelMap(table.to(device, torch.int32).contiguous(), n_in)
    t = np.ascontiguousarray(table, dtype=np.int32)
    min_inputs = int(t.max()) + 1 if t.size else 0
    return DeviceKernelMap(torch.from_numpy(t).to(device, non_blocking=True), min_inputs)


def upload_maps(maps: Sequence[LevelMaps], device: torch.device | str) -> list[DeviceLevel]:
    """Every level's kernel maps as int32 tensors on `device` (`LevelMaps` of NumPy tables, or
    of tensors already built on the device by `plugins.kernel_maps.torch_maps`)."""
    device = torch.device(device)
    sizes = [m.num_voxels for m in maps] + [0]
    return [
        DeviceLevel(
            _upload(m.subm, device, sizes[i]),
            _upload(m.down, device, sizes[i]),  # down reads this level's voxels
            _upload(m.up, device, sizes[i + 1]),  # up reads the next level's voxels
        )
        for i, m in enumerate(maps)
    ]


def kernel_sparse_conv(
    features: Tensor, kmap: DeviceKernelMap, weight_kcc: Tensor, algorithm: str = "tile"
) -> Tensor:
    """`isbnet::SparseConv3d` with our kernel on CUDA tensors (`algorithm` as in
    `plugins.sparse_conv.cuda.sparse_conv`), the reference op on CPU tensors."""
    if features.device.type == "cuda":
        from isbnet_trt.plugins.sparse_conv.cuda import sparse_conv as cuda_sparse_conv

        return cuda_sparse_conv(features, kmap.table, weight_kcc, kmap.min_inputs, algorithm)
    return sparse_conv(features, kmap.table, weight_kcc)


class _KernelConvMixin:
    """forward(features, DeviceKernelMap) through `kernel_sparse_conv` (weights stay in the
    module, in spconv's layout, so the module keeps its state-dict keys)."""

    weight: nn.Parameter
    conv_algorithm: str = "tile"

    def forward(self, features: Tensor, kernel_map: DeviceKernelMap) -> Tensor:
        return kernel_sparse_conv(
            features, kernel_map, spconv_weight_to_kcc(self.weight), self.conv_algorithm
        )


# Subclasses, so the model's isinstance checks (blocks._run_sparse_seq) still route kernel maps.
class _KernelSubMConv3d(_KernelConvMixin, SubMConv3d):
    pass


class _KernelSparseConv3d(_KernelConvMixin, SparseConv3d):
    pass


class _KernelSparseInverseConv3d(_KernelConvMixin, SparseInverseConv3d):
    pass


# Most derived first: SparseInverseConv3d and SubMConv3d are not subclasses of each other.
_SWAPS: tuple[tuple[type[nn.Module], type[nn.Module]], ...] = (
    (SubMConv3d, _KernelSubMConv3d),
    (SparseInverseConv3d, _KernelSparseInverseConv3d),
    (SparseConv3d, _KernelSparseConv3d),
)


def _swap_sparse_convs(root: nn.Module, algorithm: str = "tile") -> int:
    """Replace, in place, every sparse conv child of `root` by its kernel twin (same parameter)
    running the CUDA kernel `algorithm`."""
    swapped = 0
    for parent in list(root.modules()):
        for name, child in list(parent.named_children()):
            for base, twin in _SWAPS:
                if type(child) is base:
                    new = twin.__new__(twin)
                    new.__dict__ = child.__dict__  # same Parameters, buffers, hooks, attributes
                    new.conv_algorithm = algorithm
                    parent._modules[name] = new
                    swapped += 1
                    break
    return swapped


@contextmanager
def float32_precision(tf32: bool) -> Iterator[None]:
    """cuDNN convolutions and CUDA matmuls in TF32 (`tf32=True`) or true float32 for the block.

    Sets PyTorch's process-wide switches and restores them afterwards; a thread that runs CUDA
    work beside a `DeviceStages` call sees them too (the class doc asks for one pipeline per
    thread anyway).
    """
    matmul = torch.backends.cuda.matmul.allow_tf32
    cudnn = torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = tf32
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, cudnn


class DeviceStages:
    """`Stages` of the reference model on one device, with our CUDA kernels or without.

    model: an `ISBNet` (left untouched: a copy is moved to `device`). kernels=True (default):
    sparse convs and geometry on our kernels (`CudaGeometry` on CUDA; on the CPU the same wiring
    runs the reference ops). kernels=False: the unmodified reference model on `device` (its
    gather-GEMM-scatter convs, its exact NumPy geometry): the PyTorch baseline. tf32: let cuDNN
    and matmuls use TF32 (default False: true float32, see the module doc). conv_algorithm: the
    sparse-conv kernel ("tile", the verified default; "splitk" or "auto", see
    `plugins.sparse_conv.cuda.sparse_conv`).

    Device placement follows `isbnet.inference.forward_test`, which indexes the scene's CPU
    tensors with what the stages return: the backbone's `object_mask` and `semantic_scores`,
    the aggregator's `inds` and every decoder output come back on the CPU; the tensors that
    only feed later stages (`feats`, `box_preds`, superpoint tensors, query features) stay on
    `device`. Inputs may be on any device.
    """

    def __init__(
        self,
        model: ISBNet,
        device: torch.device | str = "cuda",
        kernels: bool = True,
        geometry: GeometryOps | None = None,
        tf32: bool = False,
        conv_algorithm: str = "tile",
    ):
        from isbnet_trt.plugins.sparse_conv.cuda import check_sparse_conv_algorithm

        check_sparse_conv_algorithm(conv_algorithm, "conv_algorithm")
        self.device = torch.device(device)
        self.kernels = kernels
        self.tf32 = tf32
        self.model = copy.deepcopy(model).to(self.device).eval()
        self.cfg = model.cfg
        if geometry is None:
            if kernels and self.device.type == "cuda":
                from isbnet_trt.plugins.cuda_geometry import CudaGeometry

                geometry = CudaGeometry()
            else:
                geometry = ReferenceGeometry()
        self.model.geometry_ops = geometry
        self.n_kernel_convs = _swap_sparse_convs(self.model, conv_algorithm) if kernels else 0

    @property
    def preprocessor(self) -> TorchPreprocessor | None:
        """Voxelisation, voxel means and kernel maps with PyTorch ops on the GPU
        (`runtime.torch_preprocess`, the same scene as the NumPy path), for `runtime.Pipeline`;
        None without kernels or off the GPU (the pipeline then prepares scenes on the CPU)."""
        if not (self.kernels and self.device.type == "cuda"):
            return None
        return TorchPreprocessor(self.device)

    @torch.no_grad()
    def backbone(
        self,
        voxel_feats: Tensor,
        voxel_coords_float: Tensor,
        voxel_spps: Tensor,
        maps: Sequence[LevelMaps],
    ) -> BackboneOutputs:
        """`ISBNet.backbone`; `maps` may also hold tensors built on the device (kernels=True)."""
        dev = self.device
        args = (t.to(dev, non_blocking=True) for t in (voxel_feats, voxel_coords_float, voxel_spps))
        with float32_precision(self.tf32):
            bb = self._backbone_on_device(*args, maps)
        bb.object_mask = bb.object_mask.cpu()
        bb.semantic_scores = bb.semantic_scores.cpu()
        return bb

    def _backbone_on_device(
        self,
        voxel_feats: Tensor,
        voxel_coords_float: Tensor,
        voxel_spps: Tensor,
        maps: Sequence[LevelMaps],
    ) -> BackboneOutputs:
        """The backbone on inputs already on the device (a subclass may run another U-Net)."""
        if self.kernels:  # the kernels take device tables: no KernelPairs built
            levels = upload_maps(maps, self.device)
            return self.model.backbone_on_levels(voxel_feats, voxel_coords_float, voxel_spps, levels)
        return self.model.backbone(voxel_feats, voxel_coords_float, voxel_spps, maps)

    @torch.no_grad()
    def aggregate(self, locs: Tensor, feats: Tensor, boxes: Tensor) -> Queries:
        dev = self.device
        with float32_precision(self.tf32):
            q = self.model.aggregate(locs.to(dev), feats.to(dev), boxes.to(dev))
        return Queries(q.locs, q.feats, q.boxes, q.inds.cpu())

    @torch.no_grad()
    def decoder(self, cand: Queries, n_sample: int, bb: BackboneOutputs) -> DecoderOutputs:
        dev = self.device
        cand = Queries(cand.locs.to(dev), cand.feats.to(dev), cand.boxes.to(dev), cand.inds.to(dev))
        with float32_precision(self.tf32):
            out = self.model.decoder(cand, n_sample, bb)
        return DecoderOutputs(
            out.cand_inds.cpu(),
            out.cls_logits.cpu(),
            out.conf_logits.cpu(),
            out.box_preds.cpu(),
            out.mask_logits.cpu(),
            out.fg.cpu(),
        )
