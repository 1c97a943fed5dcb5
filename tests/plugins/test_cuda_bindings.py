"""The ops' CUDA bindings for PyTorch tensors (`plugins/<op>/cuda.py`) without a GPU: argument
packing, input validation (which happens before any driver call) and the refusal when CUDA is
missing. The kernels themselves are compared with the reference by benchmarks/gpu_check.py on
a GPU, and by the `gpu`-marked test below."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest
import torch

from isbnet_trt.plugins import spec
from isbnet_trt.plugins.ball_query import cuda as bq_cuda
from isbnet_trt.plugins.ball_query import reference as bq_reference
from isbnet_trt.plugins.cuda_driver import CudaUnavailableError, device_kernels, float32_bits, pack_args
from isbnet_trt.plugins.farthest_point_sample import cuda as fps_cuda
from isbnet_trt.plugins.farthest_point_sample import reference as fps_reference
from isbnet_trt.plugins.sparse_conv import cuda as conv_cuda
from isbnet_trt.plugins.sparse_conv.reference import sparse_conv as reference_conv


def test_pack_args_points_at_each_value():
    args = [ctypes.c_void_p(0xDEAD0000), ctypes.c_int(-7), ctypes.c_float(0.5)]
    array, kept = pack_args(args)
    assert ctypes.cast(array[0], ctypes.POINTER(ctypes.c_uint64))[0] == 0xDEAD0000
    assert ctypes.cast(array[1], ctypes.POINTER(ctypes.c_int))[0] == -7
    assert ctypes.cast(array[2], ctypes.POINTER(ctypes.c_float))[0] == 0.5
    assert kept == args
    with pytest.raises(TypeError, match="argument 1 must be a ctypes scalar"):
        pack_args([ctypes.c_int(1), 3])


def test_float_bits_round_to_float32():
    assert float32_bits(0.2) == np.float32(0.2).view(np.int32)
    assert float32_bits(1.0) == 0x3F800000


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present")
def test_without_cuda_the_error_says_so():
    with pytest.raises(CudaUnavailableError):
        device_kernels(0)
    with pytest.raises(ValueError, match="expected a CUDA tensor"):
        bq_cuda.ball_query(torch.zeros(4, 3), torch.zeros(2, 3), 0.1, 4)


def test_inputs_are_validated_before_launching():
    with pytest.raises(ValueError, match=r"shape \(N, 3\)"):
        fps_cuda.farthest_point_sample(torch.zeros(4, 2), 2)
    with pytest.raises(TypeError, match="float32"):
        fps_cuda.farthest_point_sample(torch.zeros(4, 3, dtype=torch.float64), 2)
    with pytest.raises(ValueError, match="variant"):
        fps_cuda.farthest_point_sample(torch.zeros(4, 3), 2, "pn2")
    with pytest.raises(TypeError, match="int32"):
        conv_cuda.sparse_conv(torch.zeros(4, 2), torch.zeros(3, 1, dtype=torch.int64), torch.zeros(1, 2, 5))
    with pytest.raises(ValueError, match="shape mismatch"):
        conv_cuda.sparse_conv(torch.zeros(4, 2), torch.zeros(3, 2, dtype=torch.int32), torch.zeros(1, 2, 5))
    with pytest.raises(ValueError, match="references input row 9"):
        conv_cuda.sparse_conv(
            torch.zeros(4, 2), torch.full((3, 1), 9, dtype=torch.int32), torch.zeros(1, 2, 5)
        )
    with pytest.raises(ValueError, match="algorithm"):
        conv_cuda.sparse_conv(
            torch.zeros(4, 2), torch.zeros(3, 1, dtype=torch.int32), torch.zeros(1, 2, 5), algorithm="gemm"
        )
    # Empty outputs need no kernel (and no GPU).
    assert fps_cuda.farthest_point_sample(torch.zeros(0, 3), 5, "pointnet2").shape == (0,)
    assert torch.equal(
        fps_cuda.farthest_point_sample(torch.zeros(0, 3), 3), torch.zeros(3, dtype=torch.int32)
    )
    assert bq_cuda.ball_query(torch.zeros(4, 3), torch.zeros(0, 3), 0.1, 4).shape == (0, 4)
    assert spec.fps_output_size(10, 64, "pointnet2") == 10 and spec.fps_output_size(10, 64, "isbnet") == 64


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_kernels_match_the_reference_on_a_gpu():
    rng = np.random.default_rng(0)
    xyz = torch.from_numpy(rng.uniform(-2, 2, (20_000, 3)).astype(np.float32))
    for variant, n in (("isbnet", 512), ("pointnet2", 128)):
        ref = fps_reference.farthest_point_sample(xyz, n, variant).numpy()
        for algorithm in ("block", "grid"):
            got = fps_cuda.farthest_point_sample(xyz.cuda(), n, variant, algorithm).cpu().numpy()
            assert np.array_equal(got, ref[: len(got)]), (variant, algorithm)
    centres = xyz[:300]
    ref = bq_reference.ball_query(xyz, centres, 0.3, 32).numpy()
    assert np.array_equal(bq_cuda.ball_query(xyz.cuda(), centres.cuda(), 0.3, 32).cpu().numpy(), ref)
    kmap = torch.from_numpy(rng.integers(-1, 1000, (700, 27)).astype(np.int32))
    feats, weight = torch.randn(1000, 48), torch.randn(27, 48, 40)
    ref = reference_conv(feats, kmap, weight)
    for algorithm in conv_cuda.SPARSE_CONV_ALGORITHMS:
        got = conv_cuda.sparse_conv(feats.cuda(), kmap.cuda(), weight.cuda(), algorithm=algorithm).cpu()
        assert float((got - ref).abs().max()) <= 1e-5 * float(ref.abs().max()), algorithm
