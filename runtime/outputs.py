"""Writing results: `.npz`, the ScanNet benchmark instance format, a coloured `.ply`, a PNG.

Every writer is atomic: it writes under a temporary name in the destination directory and
renames at the end, so an interrupted or failed run never leaves a half-written result.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from isbnet_trt.isbnet.config import SCANNET_BENCHMARK_IDS, ModelConfig
from isbnet_trt.isbnet.errors import IsbnetError
from isbnet_trt.isbnet.scannet200 import SCANNET200_BENCHMARK_IDS
from isbnet_trt.runtime.pipeline import Prediction

FORMATS = ("npz", "scannet", "ply", "png")


class OutputError(IsbnetError, OSError):
    """The output cannot be written (unwritable directory, full disk, ...)."""


@contextmanager
def atomic_path(dest: Path) -> Iterator[Path]:
    """Yield a temporary path beside `dest`; rename it to `dest` only if the block succeeds."""
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def ensure_writable_dir(path: Path) -> Path:
    """Create `path` if needed and check it can be written, or raise `OutputError`."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as e:
        raise OutputError(f"cannot write to output directory {path}: {e.strerror or e}") from None
    return path


def write_npz(pred: Prediction, dest: Path) -> Path:
    """labels (official label ids), semantic classes, class names, scores, masks `(K, N)` bool,
    boxes `(K, 6)`, timings (json), backend."""
    inst = pred.instances
    with atomic_path(dest) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(
            f,
            label_ids=inst.label_ids,
            semantic_classes=inst.semantic_classes,
            class_names=np.array(pred.class_names, dtype=str),
            scores=inst.scores,
            masks=inst.masks,
            boxes=inst.boxes,
            timings=json.dumps(pred.timings),
            backend=pred.backend,
        )
    return dest


def benchmark_label_id(cfg: ModelConfig, label_id: int) -> int:
    """The official `save_single_instance` mapping: `BENCHMARK_SEMANTIC_IDXS[label_id + 1]`
    (ScanNetV2 and ScanNet200 benchmark ids; S3DIS and STPLS3D use the identity list, as the
    official code does)."""
    if cfg.dataset_name == "scannetv2":
        return SCANNET_BENCHMARK_IDS[label_id + 1]
    if cfg.dataset_name == "scannet200":
        return SCANNET200_BENCHMARK_IDS[label_id + 1]
    return label_id + 1


def write_scannet(pred: Prediction, cfg: ModelConfig, out_dir: Path, scene: str) -> Path:
    """The ScanNet benchmark format: `scene.txt` with one line per instance
    `predicted_masks/<scene>_<i>.txt <benchmark label id> <score>`, and one 0/1-per-line mask
    file per instance. Written into a temporary directory, moved into place, index last."""
    inst = pred.instances
    staging = Path(tempfile.mkdtemp(prefix=f".{scene}.", dir=out_dir))
    try:
        (staging / "predicted_masks").mkdir()
        lines = []
        for i in range(len(inst)):
            rel = f"predicted_masks/{scene}_{i:03d}.txt"
            np.savetxt(staging / rel, inst.masks[i].astype(np.uint8), fmt="%d")
            lines.append(f"{rel} {benchmark_label_id(cfg, int(inst.label_ids[i]))} {inst.scores[i]:.4f}\n")
        (staging / f"{scene}.txt").write_text("".join(lines))
        (out_dir / "predicted_masks").mkdir(exist_ok=True)
        for i in range(len(inst)):
            rel = f"predicted_masks/{scene}_{i:03d}.txt"
            os.replace(staging / rel, out_dir / rel)
        os.replace(staging / f"{scene}.txt", out_dir / f"{scene}.txt")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir / f"{scene}.txt"


def instance_colors(n: int) -> np.ndarray:
    """`(n, 3)` uint8 distinct colours (golden-ratio hues), deterministic."""
    hues = (np.arange(n) * 0.618033988749895) % 1.0
    return (np.stack([_hsv_to_rgb(h, 0.75, 0.95) for h in hues]) * 255).astype(np.uint8).reshape(n, 3)


def _hsv_to_rgb(h: float, s: float, v: float) -> np.ndarray:
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    return np.array([(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i])


#: The PNG view shows instances scoring at least this (all of them are in the other outputs).
PNG_MIN_SCORE = 0.5


def point_instance_ids(pred: Prediction, min_score: float | None = None) -> np.ndarray:
    """`(N,)` int64 instance of each point (-1 none); where masks overlap the higher score wins.
    Instances scoring below `min_score` are left out."""
    inst = pred.instances
    ids = np.full(inst.masks.shape[1], -1, np.int64)
    for i in np.argsort(inst.scores, kind="stable"):  # ascending: higher scores written last
        if min_score is None or inst.scores[i] >= min_score:
            ids[inst.masks[i]] = i
    return ids


def write_ply(pred: Prediction, points: np.ndarray, dest: Path) -> Path:
    """The input points coloured by instance (background grey), with `instance` (-1 none) and
    `label` (official label id, 0 none) vertex properties."""
    from plyfile import PlyData, PlyElement

    ids = point_instance_ids(pred)
    colors = np.vstack([instance_colors(len(pred.instances)), [[160, 160, 160]]])[ids]
    labels = np.append(pred.instances.label_ids, 0)[ids]
    vertex = np.empty(
        len(points),
        dtype=[("x", "f4"), ("y", "f4"), ("z", "f4"), ("red", "u1"), ("green", "u1"), ("blue", "u1"),
               ("instance", "i4"), ("label", "i4")],
    )  # fmt: skip
    for i, c in enumerate("xyz"):
        vertex[c] = points[:, i]
    vertex["red"], vertex["green"], vertex["blue"] = colors.T
    vertex["instance"], vertex["label"] = ids, labels
    with atomic_path(dest) as tmp:
        PlyData([PlyElement.describe(vertex, "vertex")]).write(str(tmp))
    return dest


def write_png(
    pred: Prediction, points: np.ndarray, dest: Path, title: str = "", min_score: float = PNG_MIN_SCORE
) -> Path:
    """A top-down view of the points coloured by instance, each labelled with class and score;
    instances scoring below `min_score` stay grey (the view would be unreadable with all 100)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ids = point_instance_ids(pred, min_score)
    palette = instance_colors(len(pred.instances)) / 255.0
    order = np.argsort(points[:, 2])  # draw low points first so object tops stay visible
    colors = np.where(ids[order, None] >= 0, palette[ids[order]] if len(palette) else 0.0, 0.8)
    fig, ax = plt.subplots(figsize=(8, 8), dpi=110)
    ax.scatter(points[order, 0], points[order, 1], c=colors, s=0.6, linewidths=0)
    shown = [i for i in range(len(pred.instances)) if pred.instances.scores[i] >= min_score]
    for i in shown:
        m = pred.instances.masks[i]
        if m.any():
            cx, cy = points[m, 0].mean(), points[m, 1].mean()
            ax.text(cx, cy, f"{pred.class_names[i]} {pred.instances.scores[i]:.2f}", fontsize=6, ha="center")
    ax.set_aspect("equal")
    heading = f"{len(shown)} of {len(pred.instances)} instances (score >= {min_score:g})"
    ax.set_title(f"{title}: {heading}" if title else heading)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    with atomic_path(dest) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")
    plt.close(fig)
    return dest
