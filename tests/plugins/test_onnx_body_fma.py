"""The ONNX bodies' FMA emulation (`plugins/onnx_body.fma_f32`), run by plain onnxruntime: exact
on its hard cases. The bodies themselves meet every case of the conformance suite
(`tests/plugins/conformance/`)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

from isbnet_trt.plugins import reference_common
from isbnet_trt.plugins.onnx_body import BODY_OPSET, Builder, fma_f32

sys.path.insert(0, str(Path(__file__).resolve().parent))
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
