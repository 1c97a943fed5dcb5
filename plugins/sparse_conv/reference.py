"""Reference of `isbnet::SparseConv3d` in plain PyTorch (docs/ops/SparseConv3d.md).

Op contract (one op for submanifold, strided and inverse convs; the kernel map carries the
geometry, see `isbnet_trt.plugins.kernel_maps`)::

    features   (N_in, C_in)   float
    kernel_map (N_out, K)     int32, -1 = no neighbour, else a row of `features`
    weight     (K, C_in, C_out)
    out[o] = sum_{k : kernel_map[o, k] >= 0} features[kernel_map[o, k]] @ weight[k]   -> (N_out, C_out)

`sparse_conv` computes it as gather-GEMM-scatter over the active pairs only (no im2col over all K
offsets); `sparse_conv_reference` is the plainest form, for tests and specs. `KernelPairs` is the
pair list, built once per kernel map and reused by every conv sharing the map (all the
submanifold convs of a U-Net level): pass it wherever a kernel map is accepted. `LevelPairs`
holds one U-Net level's pairs.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from isbnet_trt.plugins import spec
from isbnet_trt.plugins.kernel_maps import LevelMaps

__all__ = ["DEFAULT_BLOCK_ROWS", "KernelPairs", "LevelPairs", "sparse_conv", "sparse_conv_reference"]

#: Output rows per block of `KernelPairs`: small enough that a block's gathered rows stay in
#: cache between the gather, the GEMMs and the scatter, large enough that per-op overhead
#: (26 GEMM calls per block, OpenMP fork/join with 2+ threads) stays small. 4k-8k was best on
#: a 2-core AMD EPYC at 32 channels; results do not depend on it.
DEFAULT_BLOCK_ROWS = 8192


@dataclass(frozen=True)
class _Block:
    """Active pairs of output rows [start, stop).

    gather: (P,) int64 input rows, grouped by offset (offset-major, output rows ascending).
    segments: (k, a, b): pairs a..b-1 of `gather` use weight k.
    scatter: sparse CSR (stop - start, P) float32 of ones; row r sums the pairs of output start + r
        in increasing pair order, i.e. increasing k (a deterministic order).
    """

    start: int
    stop: int
    gather: Tensor
    segments: tuple[tuple[int, int, int], ...]
    scatter: Tensor


@dataclass(frozen=True)
class KernelPairs:
    """A kernel map's active (output, input, offset) pairs, grouped for gather-GEMM-scatter.

    table: (N_out, K) int32, the kernel map itself (the op's contract input).
    identity: offset k whose column is `arange(N_out)` (the submanifold centre), computed as a
        plain GEMM over `features[:N_out]`; None if no column is the identity.
    min_inputs: 1 + the largest input row referenced (features need at least that many rows).
    blocks: the remaining pairs, by blocks of consecutive output rows.
    """

    table: Tensor
    identity: int | None
    min_inputs: int
    blocks: tuple[_Block, ...]

    @property
    def num_out(self) -> int:
        return self.table.shape[0]

    @property
    def kernel_volume(self) -> int:
        return self.table.shape[1]

    @staticmethod
    def build(
        kernel_map: Tensor | np.ndarray,
        block_rows: int = DEFAULT_BLOCK_ROWS,
        device: torch.device | str | None = None,
    ) -> KernelPairs:
        """Build the pair list of `kernel_map`: (N_out, K) integer tensor or numpy array.

        device: where to put the pairs (default: the tensor's device, CPU for numpy).
        """
        table = _check_table(kernel_map)
        if device is not None:
            table = table.to(device)
        # Index bookkeeping runs in numpy (about 2x faster than torch's CPU indexing here).
        table_np = table.cpu().numpy()
        min_inputs = int(table_np.max()) + 1 if table_np.size else 0
        identity = _identity_column(table_np)
        active = table_np >= 0
        if identity is not None:
            active[:, identity] = False
        blocks = _blocks(table_np, active, block_rows, table.device)
        return KernelPairs(table, identity, min_inputs, blocks)


def _check_table(kernel_map: Tensor | np.ndarray) -> Tensor:
    """Validate a kernel map table; numpy arrays are wrapped (no copy)."""
    if isinstance(kernel_map, np.ndarray):
        kernel_map = torch.from_numpy(kernel_map)
    if not isinstance(kernel_map, Tensor):
        raise TypeError(
            f"kernel_map must be a tensor, numpy array or KernelPairs, got {type(kernel_map).__name__}"
        )
    if kernel_map.dim() != 2:
        raise ValueError(f"kernel_map must be 2-D (N_out, K), got shape {tuple(kernel_map.shape)}")
    if kernel_map.dtype.is_floating_point or kernel_map.dtype == torch.bool:
        raise ValueError(f"kernel_map must be an integer tensor, got {kernel_map.dtype}")
    if kernel_map.numel() and int(kernel_map.min()) < -1:
        raise ValueError("kernel_map entries must be >= -1 (-1 = no neighbour)")
    return kernel_map


def _identity_column(table: np.ndarray) -> int | None:
    """First column k with `table[:, k] == arange(N_out)`, or None."""
    n_out = table.shape[0]
    if n_out == 0:
        return None
    rows = np.arange(n_out)
    # Cheap filter on the end rows first; then verify the few candidates in full.
    candidates = np.flatnonzero((table[0] == 0) & (table[-1] == n_out - 1)).tolist()
    return next((k for k in candidates if np.array_equal(table[:, k], rows)), None)


def _blocks(
    table: np.ndarray, active: np.ndarray, block_rows: int, device: torch.device
) -> tuple[_Block, ...]:
    """Group the active pairs by blocks of `block_rows` output rows, offset-major inside a block."""
    n_out, k_vol = table.shape
    n_blocks = -(-n_out // block_rows)
    padded = np.zeros((n_blocks * block_rows, k_vol), dtype=bool)
    padded[:n_out] = active
    # Walk a contiguous (block, k, row) copy: the pairs come out grouped per block and per
    # offset, output rows ascending, with no sort.
    by_block_k = np.ascontiguousarray(padded.reshape(n_blocks, block_rows, k_vol).transpose(0, 2, 1))
    blk, rest = np.divmod(np.flatnonzero(by_block_k), k_vol * block_rows)
    k_idx, r_idx = np.divmod(rest, block_rows)
    flat = (blk * block_rows + r_idx) * k_vol + k_idx  # index into padded / table, row-major
    gather = table.reshape(-1)[flat].astype(np.int64)
    # CSR columns: pair ids listed in (row, k) order, i.e. row-major over `padded`.
    pair_id = np.empty(padded.size, dtype=np.int64)
    pair_id[flat] = np.arange(len(flat))
    cols = pair_id[np.flatnonzero(padded)]
    row_ptr = np.zeros(len(padded) + 1, dtype=np.int64)  # global CSR row pointer
    np.cumsum(np.count_nonzero(padded, axis=1), out=row_ptr[1:])
    # Segments: runs of equal (block, k).
    run_start = np.flatnonzero(np.diff(blk * k_vol + k_idx, prepend=-1))
    run_len = np.diff(run_start, append=len(flat))
    segments: list[list[tuple[int, int, int]]] = [[] for _ in range(n_blocks)]
    fill = [0] * n_blocks
    for b, k, count in zip(blk[run_start].tolist(), k_idx[run_start].tolist(), run_len.tolist(), strict=True):
        segments[b].append((k, fill[b], fill[b] + count))
        fill[b] += count
    gather_t, cols_t, row_ptr_t = (torch.from_numpy(a).to(device) for a in (gather, cols, row_ptr))
    blocks = []
    for b in range(n_blocks):
        start, stop = b * block_rows, min(n_out, (b + 1) * block_rows)
        p0 = int(row_ptr[start])
        p1 = p0 + fill[b]
        scatter = _csr_ones(row_ptr_t[start : stop + 1] - p0, cols_t[p0:p1] - p0, stop - start)
        blocks.append(_Block(start, stop, gather_t[p0:p1], tuple(segments[b]), scatter))
    return tuple(blocks)


def _csr_ones(crow: Tensor, cols: Tensor, n_rows: int) -> Tensor:
    """A float32 CSR matrix of ones, (n_rows, len(cols)); valid by construction (no checks)."""
    with warnings.catch_warnings():  # "CSR support is in beta": the ops used here are stable
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        values = torch.ones(len(cols), device=cols.device)
        return torch.sparse_csr_tensor(crow, cols, values, size=(n_rows, len(cols)), check_invariants=False)


@dataclass(frozen=True)
class LevelPairs:
    """`KernelPairs` of one U-Net level, built once per scene from its `LevelMaps` (same field names).

    subm: pairs of the level's submanifold map; down / up: pairs of the stride-2 conv to the next
    level and of its inverse (None at the last level). Pass `levels[l].subm` etc. to the convs.
    """

    subm: KernelPairs
    down: KernelPairs | None
    up: KernelPairs | None

    @staticmethod
    def from_level_maps(
        levels: Sequence[LevelMaps], device: torch.device | str | None = None
    ) -> list[LevelPairs]:
        """Pairs of every level of `kernel_maps.*.build_unet_maps(...)`, on `device` (default CPU)."""

        def build(table: np.ndarray | None) -> KernelPairs | None:
            return None if table is None else KernelPairs.build(table, device=device)

        return [LevelPairs(build(lm.subm), build(lm.down), build(lm.up)) for lm in levels]


def sparse_conv(
    features: Tensor, kernel_map: Tensor | np.ndarray | KernelPairs, weight_kcc: Tensor
) -> Tensor:
    """The `isbnet::SparseConv3d` op: gather-GEMM-scatter over the active pairs.

    features: (N_in, C_in) float32/64, or float16/bfloat16 (computed in float32, cast back).
    kernel_map: (N_out, K) int32 table (-1 = none; tensor or numpy), or its `KernelPairs`
        (build once, reuse across convs: building costs about as much as one conv).
    weight_kcc: (K, C_in, C_out), same dtype as features.
    Returns (N_out, C_out). Deterministic: each output row is its identity-offset term plus the
    sum of its other terms in increasing k (a fixed order). Differentiable in features and weight.
    """
    if isinstance(kernel_map, KernelPairs):
        pairs = kernel_map
        if pairs.table.device != features.device:
            raise ValueError(f"KernelPairs on {pairs.table.device}, features on {features.device}")
    else:
        pairs = KernelPairs.build(kernel_map, device=features.device)
    _check_inputs(features, weight_kcc, (pairs.num_out, pairs.kernel_volume), pairs.min_inputs)
    if features.dtype in (torch.float16, torch.bfloat16):  # the op spec: accumulate in float32
        return sparse_conv(features.float(), pairs, weight_kcc.float()).to(features.dtype)
    track_grad = torch.is_grad_enabled() and (features.requires_grad or weight_kcc.requires_grad)
    blocks = (_block_output(features, pairs, weight_kcc, blk, None) for blk in pairs.blocks)
    if track_grad:  # out= variants do not record autograd
        pieces = list(blocks)
        return torch.cat(pieces) if pieces else features.new_zeros(0, weight_kcc.shape[2])
    out = features.new_empty(pairs.num_out, weight_kcc.shape[2])
    for blk in pairs.blocks:
        _block_output(features, pairs, weight_kcc, blk, out[blk.start : blk.stop])
    return out


def _block_output(
    features: Tensor, pairs: KernelPairs, weight_kcc: Tensor, blk: _Block, out: Tensor | None
) -> Tensor:
    """Output rows [blk.start, blk.stop): identity GEMM + CSR-sum of the per-pair products.

    With `out` (no autograd) the GEMMs write into preallocated buffers and `out` is returned.
    """
    n, c_out = blk.stop - blk.start, weight_kcc.shape[2]
    if pairs.identity is not None:
        base = features[blk.start : blk.stop] @ weight_kcc[pairs.identity]
    else:
        base = features.new_zeros(n, c_out)
    if not blk.segments:
        return base if out is None else out.copy_(base)
    gathered = features.index_select(0, blk.gather)
    if out is None:
        products = torch.cat([gathered[a:b] @ weight_kcc[k] for k, a, b in blk.segments])
    else:
        products = features.new_empty(len(blk.gather), c_out)
        for k, a, b in blk.segments:
            torch.mm(gathered[a:b], weight_kcc[k], out=products[a:b])
    scatter = blk.scatter if blk.scatter.dtype == features.dtype else blk.scatter.to(features.dtype)
    if out is None:
        return torch.addmm(base, scatter, products)
    return torch.addmm(base, scatter, products, out=out)


def _check_inputs(features: Tensor, weight_kcc: Tensor, kernel_map_shape: tuple, min_inputs: int) -> None:
    spec.check_sparse_conv3d(features.shape, kernel_map_shape, weight_kcc.shape)
    if features.shape[0] < min_inputs:
        raise ValueError(
            f"kernel map references input row {min_inputs - 1}, features have {features.shape[0]} rows"
        )
    if features.dtype != weight_kcc.dtype:
        raise ValueError(f"features dtype {features.dtype} != weight dtype {weight_kcc.dtype}")


def sparse_conv_reference(features: Tensor, kernel_map: Tensor | np.ndarray, weight_kcc: Tensor) -> Tensor:
    """The op written as plainly as possible (per offset: gather, GEMM, index_add). For tests and specs.

    Same shapes as `sparse_conv`. On CPU deterministic; on CUDA `index_add_` uses atomics.
    """
    table = _check_table(kernel_map).to(features.device)
    min_inputs = int(table.max()) + 1 if table.numel() else 0
    _check_inputs(features, weight_kcc, tuple(table.shape), min_inputs)
    out = features.new_zeros(table.shape[0], weight_kcc.shape[2])
    for k in range(table.shape[1]):
        rows = (table[:, k] >= 0).nonzero().flatten()
        inputs = table[rows, k].long()
        out = out.index_add(0, rows, features[inputs] @ weight_kcc[k])
    return out
