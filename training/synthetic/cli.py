"""Command line: ``python -m isbnet_trt.training.synthetic --generator a --seed 0 --points 150000
--out room.npz --png room.png``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from isbnet_trt.training.synthetic.picture import plot_top_view
from isbnet_trt.training.synthetic.registry import GENERATORS, get_generator
from isbnet_trt.training.synthetic.scene import save_scene


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m isbnet_trt.training.synthetic", description="Generate a synthetic ScanNet-like room."
    )
    parser.add_argument("--generator", choices=sorted(GENERATORS), default="a", help="generator (default a)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--points", type=int, default=150_000, help="number of points (default 150000)")
    parser.add_argument("--out", type=Path, help="write the scene to this .npz")
    parser.add_argument("--png", type=Path, help="write a top view coloured by instance to this .png")
    parser.add_argument("--ceiling", action="store_true", help="add a ceiling (generator a only)")
    args = parser.parse_args(argv)
    options = {"ceiling": True} if args.ceiling else {}
    scene = get_generator(args.generator)(args.points, args.seed, **options)
    if args.out is not None:
        save_scene(scene, args.out)
    if args.png is not None:
        plot_top_view(scene, args.png)
    counts: dict[str, int] = {}
    for i in range(scene.n_instances):
        sem = scene.semantic_labels[scene.instance_labels == i]
        if len(sem):
            name = scene.class_names[int(sem[0])]
            counts[name] = counts.get(name, 0) + 1
    room = (
        "room " + " x ".join(f"{v:.2f}" for v in scene.meta["room"]) + " m, " if "room" in scene.meta else ""
    )
    print(f"{room}{len(scene.points)} points, {scene.n_superpoints} superpoints,", end=" ")
    print(f"{scene.n_instances} objects")
    print(", ".join(f"{name} {n}" for name, n in counts.items()))
    return 0
