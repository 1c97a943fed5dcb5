"""A top view of a generated room (instances and rgb), to look at what a generator makes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from isbnet_trt.training.synthetic.scene import SyntheticScene


def plot_top_view(scene: SyntheticScene, path: str | Path) -> None:
    """Write a PNG: top view coloured by instance (walls/floor grey, class names on objects) and by rgb.

    Works for every generator: the extent is the room's ("room" in meta) or else the points', and the
    labels come from meta "objects" or else from the instances' centroids."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xyz, rgb, inst = scene.points[:, :3], scene.points[:, 3:] / 255.0, scene.instance_labels
    order = np.argsort(xyz[:, 2], kind="stable")  # higher points drawn last, as seen from above
    xyz, rgb, inst = xyz[order], rgb[order], inst[order]
    if "room" in scene.meta:
        lo, hi = np.zeros(2), np.asarray(scene.meta["room"][:2], dtype=np.float64)
    else:
        lo, hi = (xyz[:, :2].min(0), xyz[:, :2].max(0)) if len(xyz) else (np.zeros(2), np.ones(2))
    length, width = np.maximum(hi - lo, 1e-3)
    fig, axes = plt.subplots(1, 2, figsize=(16, 8 * width / length + 1.0), dpi=100)
    cmap = plt.get_cmap("tab20")
    colours = np.where((inst >= 0)[:, None], cmap((inst % 20) / 20.0)[:, :3], 0.85)
    for ax, c, title in ((axes[0], colours, "instances"), (axes[1], rgb, "rgb")):
        ax.scatter(xyz[:, 0], xyz[:, 1], c=c, s=0.3, linewidths=0)
        ax.set_aspect("equal")
        ax.set_xlim(lo[0] - 0.1, hi[0] + 0.1)
        ax.set_ylim(lo[1] - 0.1, hi[1] + 0.1)
        ax.set_title(f"seed {scene.meta['seed']}: {title}")
    for x, y, name in _object_labels(scene):
        axes[0].text(x, y, name, fontsize=7, ha="center", va="center")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _object_labels(scene: SyntheticScene) -> list[tuple[float, float, str]]:
    """(x, y, class name) per object: from meta "objects" when the generator lists them."""
    if "objects" in scene.meta:
        return [(o["centre"][0], o["centre"][1], o["class"]) for o in scene.meta["objects"]]
    labels = []
    for i in range(scene.n_instances):
        mask = scene.instance_labels == i
        if mask.any():
            x, y = scene.points[mask, :2].mean(0)
            sem = np.bincount(scene.semantic_labels[mask]).argmax()
            labels.append((float(x), float(y), scene.class_names[int(sem)]))
    return labels
