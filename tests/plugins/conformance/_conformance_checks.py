"""How a conformance case is judged: shape and dtype by the spec's rule, the spec-fixed value where
there is one, and the reference (indices identical; floats within float32 accumulation error)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from _conformance_cases import CONV, Case
from _conformance_impls import IMPLS, Impl, output_spec

_U32 = 2.0**-24  # unit roundoff of float32
_U16 = 2.0**-11  # unit roundoff of float16


def load(case: Case, golden: Path | None) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    if case.fixture is not None and (golden is None or not (golden / case.fixture).exists()):
        pytest.skip(f"shared fixture not found: {case.fixture} (set ISBNET_SHARED or place ../shared here)")
    return case.make(golden)


def skip_unless_runs(case: Case, impl: Impl, inputs: dict[str, np.ndarray]) -> None:
    if impl.skip:
        pytest.skip(f"{impl.name}: {impl.skip}")
    if case.large and impl.slow:
        pytest.skip(f"{impl.name}: too large for its onnxruntime Loop (one iteration per sample/centre)")
    if case.op == CONV and inputs["features"].dtype.type not in impl.float_types:
        pytest.skip(f"{impl.name} does not take {inputs['features'].dtype}")


@functools.cache
def _reference(case: Case, golden: Path | None) -> np.ndarray | BaseException:
    """The reference's output for a case (or the exception it raised), computed once."""
    inputs, _ = case.make(golden)
    try:
        return IMPLS[case.op][0].run(inputs, case.attrs)
    except Exception as e:  # noqa: BLE001 - reported by the tests that need the reference
        return e


def check(case: Case, impl: Impl, golden: Path | None) -> None:
    """Run `case` on `impl` and judge the output."""
    inputs, expected = load(case, golden)
    skip_unless_runs(case, impl, inputs)
    if case.refused and impl.unchecked:
        pytest.skip(f"{impl.name}: {impl.unchecked}")
    if case.refused:
        with pytest.raises(Exception):  # noqa: B017 - any error: the layers raise different types
            out = impl.run(inputs, case.attrs)
            print(f"{impl.name} accepted invalid input (rule {case.rule}) and returned {out!r}")
        return
    out = impl.run(inputs, case.attrs)
    assert isinstance(out, np.ndarray), f"{impl.name} returned {type(out).__name__}, not a numpy array"
    shape, dtype = output_spec(case.op, inputs, case.attrs)
    assert (out.shape, out.dtype) == (shape, dtype), (
        f"{impl.name}: output {out.shape} {out.dtype}, the spec's shape rule says {shape} {dtype}"
    )
    if case.op == CONV:
        _check_conv(case, impl, inputs, expected, out, golden)
    else:
        _check_indices(case, impl, expected, out, golden)


def _check_indices(
    case: Case, impl: Impl, expected: np.ndarray | None, out: np.ndarray, golden: Path | None
) -> None:
    if expected is not None:
        _assert_same(out, expected, f"{impl.name} != the value the spec fixes (rule {case.rule})")
    if impl is IMPLS[case.op][0]:
        return
    ref = _reference(case, golden)
    if isinstance(ref, BaseException):
        if expected is None:
            pytest.fail(f"no reference result to compare with: the reference raised {ref!r}")
        return  # judged against the spec value above
    _assert_same(out, ref, f"{impl.name} != the reference")


def _assert_same(out: np.ndarray, want: np.ndarray, what: str) -> None:
    same = out.shape == want.shape and np.array_equal(out, want)
    if not same:
        bad = np.argwhere(out != want) if out.shape == want.shape else None
        where = "" if bad is None else f"; {len(bad)} entries differ, first at {bad[0].tolist()}"
        raise AssertionError(
            f"{what}: shapes {out.shape} vs {want.shape}{where}\n got: {_short(out)}\nwant: {_short(want)}"
        )


def _short(a: np.ndarray) -> str:
    return np.array2string(a, threshold=40, edgeitems=6)


# ------------------------------------------------------------------------------- SparseConv3d
def exact_conv(inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The spec's sum in float64 (exact enough to judge float32), per-element error bound of a
    float32 accumulation in any order, and the rows without a valid entry.

    Bound: n products summed in float32, in any order, err <= (n + 1) u sum|a b| (products rounded
    once, n - 1 additions; Higham's gamma_n), with n = C_in * (valid offsets of the row); float16
    outputs add the final rounding to float16 (half an ulp, subnormals included)."""
    f = inputs["features"].astype(np.float64)
    km, w = inputs["kernel_map"], inputs["weight"].astype(np.float64)
    n_out, k = km.shape
    padded = np.concatenate([f, np.zeros((1, f.shape[1]))])
    gathered = padded[np.where(km >= 0, km, f.shape[0])]  # (N_out, K, C_in); -1 reads the zero row
    exact = np.einsum("oki,kic->oc", gathered, w)
    magnitude = np.einsum("oki,kic->oc", np.abs(gathered), np.abs(w))
    n_terms = (km >= 0).sum(axis=1, keepdims=True) * f.shape[1]
    bound = (n_terms + 1) * _U32 * magnitude
    if inputs["features"].dtype == np.float16:
        bound = bound * (1 + _U16) + _U16 * np.abs(exact) + 2.0**-25
    empty = ~(km >= 0).any(axis=1) if k else np.ones(n_out, bool)
    return exact, bound, empty


def _check_conv(
    case: Case,
    impl: Impl,
    inputs: dict[str, np.ndarray],
    expected: np.ndarray | None,
    out: np.ndarray,
    golden: Path | None,
) -> None:
    exact, bound, empty = exact_conv(inputs)
    got = out.astype(np.float64)
    assert np.all(np.isfinite(got)), f"{impl.name}: non-finite outputs"
    if expected is not None:
        _assert_same(out, expected, f"{impl.name} != the value the spec fixes")
    assert not np.any(got[empty]), f"{impl.name}: rows without a valid entry are not all zero"
    err = np.abs(got - exact)
    worst = np.unravel_index(np.argmax(err - bound), err.shape) if err.size else None
    assert np.all(err <= bound), (
        f"{impl.name}: beyond float32 accumulation error at {worst}: |{got[worst]} - {exact[worst]}| "
        f"= {err[worst]:.3g} > {bound[worst]:.3g}"
    )
    if impl is IMPLS[case.op][0]:
        return
    ref = _reference(case, golden)
    if isinstance(ref, BaseException):
        return  # judged against the exact sum above; the reference's own test reports its error
    diff = np.abs(got - ref.astype(np.float64))
    assert np.all(diff <= 2 * bound), f"{impl.name}: differs from the reference by {diff.max():.3g}"
