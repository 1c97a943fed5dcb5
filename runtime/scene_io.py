"""Reading scenes: `.npy` / `.npz` arrays, `.ply` point clouds, official `*_inst_nostuff.pth`.

Every reader returns a `Scene`; every failure (missing, unreadable, truncated or unsupported
file, wrong array shape) raises `InputError` with a one-line message naming the file.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from isbnet_trt.errors import IsbnetError

SUPPORTED = (".npy", ".npz", ".ply", ".pth")


class InputError(IsbnetError, ValueError):
    """An input file cannot be read as a scene (or as superpoints)."""


@dataclass
class Scene:
    """A scene as read from disk.

    points `(N, 6)` float (xyz + rgb 0..255) or `(N, 3)` (xyz only); with `centred` True the
    content of an official preprocessed file, to be used as it is (ScanNetV2: centred xyz,
    colours in [-1, 1]).
    superpoints, semantic_labels, instance_labels `(N,)` int64 when the file has them.
    """

    name: str
    points: np.ndarray
    superpoints: np.ndarray | None = None
    semantic_labels: np.ndarray | None = None
    instance_labels: np.ndarray | None = None
    centred: bool = False


def scene_name(path: Path) -> str:
    """`scene0011_00_inst_nostuff.pth` → `scene0011_00`; other files: the stem."""
    return (
        path.name.removesuffix("_inst_nostuff.pth") if path.name.endswith("_inst_nostuff.pth") else path.stem
    )


def load_scene(path: str | Path) -> Scene:
    """Read one scene file (see `SUPPORTED`)."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a scene file")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    readers = {".npy": _read_npy, ".npz": _read_npz, ".ply": _read_ply, ".pth": _read_official_pth}
    if suffix not in readers:
        raise InputError(f"{path}: unsupported format {suffix!r} (supported: {', '.join(SUPPORTED)})")
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            # a corrupt body may overflow a cast on its way to the error below: one line, not two
            warnings.simplefilter("ignore", RuntimeWarning)
            scene = readers[suffix](path)
    except InputError:
        raise
    except Exception as e:  # corrupt files raise many types (ValueError, EOFError, zipfile, pickle)
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise InputError(f"{path}: cannot read {suffix} file ({reason})") from None
    _check_lengths(path, scene)
    return scene


def load_superpoints(path: str | Path, n_points: int) -> np.ndarray:
    """Superpoint ids `(N,)` from `.npy`, `.npz` (key `superpoints`) or an official `.pth`."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such superpoint file")
    try:
        if path.suffix == ".npz":
            with np.load(path) as z:
                spp = z["superpoints"] if "superpoints" in z.files else z[z.files[0]]
        elif path.suffix == ".pth":
            spp = _torch_load_arrays(path)
        else:
            spp = np.load(path, allow_pickle=False)
    except Exception as e:
        raise InputError(f"{path}: cannot read superpoints ({type(e).__name__}: {e})") from None
    spp = np.asarray(spp)
    if spp.shape != (n_points,) or not np.issubdtype(spp.dtype, np.integer):
        raise InputError(f"{path}: superpoints must be {n_points} integers, got {spp.dtype} {spp.shape}")
    return spp.astype(np.int64)


def _read_npy(path: Path) -> Scene:
    return Scene(scene_name(path), _as_points(path, np.load(path, allow_pickle=False)))


def _read_npz(path: Path) -> Scene:
    with np.load(path, allow_pickle=False) as z:
        key = "points" if "points" in z.files else next((k for k in z.files if z[k].ndim == 2), None)
        if key is None:
            raise InputError(f"{path}: no 'points' array (N, 6) in the archive (keys: {', '.join(z.files)})")

        def opt(name: str) -> np.ndarray | None:
            return z[name].astype(np.int64) if name in z.files else None

        return Scene(
            scene_name(path),
            _as_points(path, z[key]),
            superpoints=opt("superpoints"),
            semantic_labels=opt("semantic_labels"),
            instance_labels=opt("instance_labels"),
        )


def _read_ply(path: Path) -> Scene:
    try:
        from plyfile import PlyData
    except ImportError:
        raise InputError(f"{path}: reading .ply needs the 'plyfile' package (pip install plyfile)") from None
    ply = PlyData.read(str(path))
    if "vertex" not in ply:
        raise InputError(f"{path}: no 'vertex' element in the PLY file")
    v = ply["vertex"].data
    names = v.dtype.names or ()
    if not {"x", "y", "z"} <= set(names):
        raise InputError(f"{path}: PLY vertices lack x, y, z (properties: {', '.join(names)})")
    cols = [v["x"], v["y"], v["z"]]
    colour = next(
        (
            c
            for c in (
                ("red", "green", "blue"),
                ("r", "g", "b"),
                ("diffuse_red", "diffuse_green", "diffuse_blue"),
            )
            if set(c) <= set(names)
        ),
        None,
    )
    if colour is not None:
        cols += [v[c] for c in colour]
    # float32 coordinates stay float32 (exact for 8-bit colours too): what the file could hold
    # is what later checks judge (a far-from-origin float32 scan warns)
    single = all(v[c].dtype == np.float32 for c in "xyz")
    dtype = np.float32 if single else np.float64
    return Scene(scene_name(path), _as_points(path, np.stack([np.asarray(c, dtype) for c in cols], 1)))


def _torch_load_arrays(path: Path) -> object:
    """`torch.load` of numpy arrays without allowing arbitrary pickles."""
    import torch

    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct

    # numpy 1.x pickles name `numpy.core.multiarray`, numpy 2 `numpy._core.multiarray`: allow both.
    names = ("numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct")
    safe: list = [*((_reconstruct, n) for n in names), np.ndarray, np.dtype]
    safe += [type(np.dtype(t)) for t in (np.float64, np.float32, np.int64, np.int32, np.uint8, np.bool_)]
    with torch.serialization.safe_globals(safe):
        return torch.load(path, map_location="cpu", weights_only=True)


def _read_official_pth(path: Path) -> Scene:
    """Official preprocessing output `(xyz, rgb[, semantic, instance])` (ScanNetV2: xyz centred,
    rgb / 127.5 - 1), with the superpoints of `official_superpoint_file` when that file exists."""
    obj = _torch_load_arrays(path)
    if not isinstance(obj, tuple | list) or len(obj) not in (2, 4):
        raise InputError(f"{path}: not an official *_inst_nostuff.pth tuple (xyz, rgb[, semantic, instance])")
    xyz, rgb = (np.asarray(a, np.float64) for a in obj[:2])
    points = _as_points(path, np.concatenate([xyz, rgb], 1) if xyz.ndim == rgb.ndim == 2 else xyz)
    labels = [np.asarray(a).astype(np.int64) for a in obj[2:]] if len(obj) == 4 else [None, None]
    spp_file = official_superpoint_file(path)
    superpoints = load_superpoints(spp_file, len(points)) if spp_file.is_file() else None
    return Scene(scene_name(path), points, superpoints, labels[0], labels[1], centred=True)


def official_superpoint_file(path: Path) -> Path:
    """Where the official loaders read the superpoints of a preprocessed scene:
    `<data_root>/<split>/<scan>_inst_nostuff.pth` → `<data_root>/superpoints/<scan>.pth`."""
    return path.parent.parent / "superpoints" / f"{scene_name(path)}.pth"


def _as_points(path: Path, a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 2 or a.shape[1] not in (3, 6):
        raise InputError(f"{path}: points must be an (N, 6) xyz+rgb or (N, 3) xyz array, got shape {a.shape}")
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise InputError(f"{path}: points must be numbers, got dtype {a.dtype}")
    return a


def _check_lengths(path: Path, scene: Scene) -> None:
    n = len(scene.points)
    for name in ("superpoints", "semantic_labels", "instance_labels"):
        arr = getattr(scene, name)
        if arr is not None and arr.shape != (n,):
            raise InputError(f"{path}: {name} has shape {arr.shape}, expected ({n},)")
