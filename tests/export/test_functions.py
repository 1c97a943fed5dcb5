"""The ONNX function bodies of the isbnet:: ops, run by plain onnxruntime: exact against the
CPU kernels / reference (indices identical), including the FMA emulation's hard cases."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper

from isbnet_trt.export.functions import all_bodies
from isbnet_trt.plugins import reference_common, spec
from isbnet_trt.plugins.ball_query import reference as bq_reference
from isbnet_trt.plugins.farthest_point_sample import reference as fps_reference
from isbnet_trt.plugins.onnx_body import BODY_OPSET, Builder, fma_f32
from isbnet_trt.plugins.sparse_conv.reference import sparse_conv_reference

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
from _fma_cases import midpoint_cases  # noqa: E402

vi = helper.make_tensor_value_info


def _run_model(nodes, inputs, outputs, feeds, functions=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", BODY_OPSET), helper.make_opsetid("isbnet", 1)],
        functions=list(functions),
    )
    onnx.checker.check_model(model, full_check=True)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def _op(op_type, inputs, outputs, feeds, **attrs):
    node = helper.make_node(
        op_type, [i.name for i in inputs], [o.name for o in outputs], domain="isbnet", **attrs
    )
    return _run_model([node], inputs, outputs, feeds, [all_bodies()[op_type]])[0]


def test_fma_emulation_is_exact():
    rng = np.random.default_rng(0)
    n = 4000
    a = (rng.standard_normal(n) * 2.0 ** rng.integers(-40, 40, n)).astype(np.float32)
    b = (rng.standard_normal(n) * 2.0 ** rng.integers(-40, 40, n)).astype(np.float32)
    c = (rng.standard_normal(n) * 2.0 ** rng.integers(-80, 80, n)).astype(np.float32)
    a[:50], b[:50], c[:50] = np.float32(2.0**-70), np.float32(2.0**-70), np.float32(0)  # subnormal results
    a[50:60] = np.float32(2.0**-66) * 3
    c[60:100] = -(a[60:100].astype(np.float64) * b[60:100]).astype(np.float32)  # cancellations
    ma, mb, mc = midpoint_cases(rng, 800)
    a, b, c = np.concatenate([a, ma]), np.concatenate([b, mb]), np.concatenate([c, mc])
    bld = Builder("t")
    out = fma_f32(bld, "a", "b", "c")
    bld.nodes.append(helper.make_node("Identity", [out], ["y"]))
    ins = [vi(x, TensorProto.FLOAT, [None]) for x in "abc"]
    (y,) = _run_model(bld.nodes, ins, [vi("y", TensorProto.FLOAT, [None])], {"a": a, "b": b, "c": c})
    expected = reference_common.fma_f32(a, b, c).numpy()  # exact (checked with rational arithmetic)
    assert np.array_equal(y.view(np.int32), expected.view(np.int32))
    naive = (ma.astype(np.float64) * mb + mc).astype(np.float32)
    assert (naive != reference_common.fma_f32(ma, mb, mc).numpy()).sum() > 100  # the hard cases are there


@pytest.fixture(scope="module")
def op_cases(golden_dir):
    d = np.load(golden_dir / "op_cases.npz")
    return d, json.loads(str(d["index"]))


def _fps(xyz, n_sample, variant):
    return _op(
        "FarthestPointSample",
        [vi("xyz", TensorProto.FLOAT, ["N", 3])],
        [vi("idx", TensorProto.INT32, [None])],
        {"xyz": xyz},
        n_sample=n_sample,
        variant=variant,
    )


def _bq(xyz, centres, radius, n_sample):
    return _op(
        "BallQuery",
        [vi("xyz", TensorProto.FLOAT, ["N", 3]), vi("c", TensorProto.FLOAT, ["M", 3])],
        [vi("idx", TensorProto.INT32, ["M", n_sample])],
        {"xyz": xyz, "c": centres},
        radius=radius,
        n_sample=n_sample,
    )


def test_fps_body_on_official_op_cases(op_cases):
    d, index = op_cases
    for case in (c for c in index if c.startswith("fps") and c != "fps_isb_random"):  # the big one: slow
        variant = "isbnet" if case.startswith("fps_isb") else "pointnet2"
        idx = d[f"{case}__idx"]
        out = _fps(d[f"{case}__xyz"], len(idx), variant)
        assert out.dtype == np.int32 and np.array_equal(out, idx), case


@pytest.mark.parametrize("variant", ["isbnet", "pointnet2"])
@pytest.mark.parametrize("n, n_sample", [(0, 0), (0, 3), (5, 0), (1, 1), (1, 5), (4, 9), (300, 64)])
def test_fps_body_edge_cases(variant, n, n_sample):
    xyz = np.random.default_rng(n).standard_normal((n, 3)).astype(np.float32)
    xyz[: n // 3] *= np.float32(0.01)  # some points pointnet2 skips
    out = _fps(xyz, n_sample, variant)
    assert out.shape == (spec.fps_output_size(n, n_sample, variant),)
    assert np.array_equal(out, fps_reference.farthest_point_sample(xyz, n_sample, variant=variant).numpy())
    assert not (n == 0 and out.any())


def test_ball_query_body_on_official_op_cases(op_cases):
    d, index = op_cases
    for case in (c for c in index if c.startswith("bq") and c != "bq_isb_random"):
        desc = index[case]
        radius, n_sample = float(desc.split("(")[1].split(",")[0]), int(desc.split(",")[1])
        out = _bq(d[f"{case}__xyz"], d[f"{case}__centres"], radius, n_sample)
        assert np.array_equal(out, d[f"{case}__idx"]), case


@pytest.mark.parametrize("n, m, n_sample", [(0, 4, 4), (5, 0, 4), (6, 3, 4), (50, 20, 4), (6, 3, 0)])
def test_ball_query_body_edge_cases(n, m, n_sample):
    rng = np.random.default_rng(n + m)
    xyz, centres = rng.random((n, 3)).astype(np.float32), rng.random((m, 3)).astype(np.float32)
    out = _bq(xyz, centres, 0.3, n_sample)
    assert out.shape == (m, n_sample)
    assert np.array_equal(out, bq_reference.ball_query(xyz, centres, 0.3, n_sample).numpy())


def test_sparse_conv_body():
    rng = np.random.default_rng(0)
    f = rng.standard_normal((120, 8)).astype(np.float32)
    km = rng.integers(-1, 120, (90, 27)).astype(np.int32)
    w = rng.standard_normal((27, 8, 5)).astype(np.float32)
    ins = [
        vi("f", TensorProto.FLOAT, ["N", 8]),
        vi("km", TensorProto.INT32, ["O", 27]),
        vi("w", TensorProto.FLOAT, [27, 8, 5]),
    ]
    outs = [vi("y", TensorProto.FLOAT, ["O", 5])]
    y = _op("SparseConv3d", ins, outs, {"f": f, "km": km, "w": w})
    ref = sparse_conv_reference(torch.from_numpy(f).double(), km, torch.from_numpy(w).double()).numpy()
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())
    assert _op("SparseConv3d", ins, outs, {"f": f, "km": km[:0], "w": w}).shape == (0, 5)
    half = [vi("f", TensorProto.FLOAT16, ["N", 8]), ins[1], vi("w", TensorProto.FLOAT16, [27, 8, 5])]
    y16 = _op(
        "SparseConv3d",
        half,
        [vi("y", TensorProto.FLOAT16, ["O", 5])],
        {"f": f.astype(np.float16), "km": km, "w": w.astype(np.float16)},
    )
    assert y16.dtype == np.float16
