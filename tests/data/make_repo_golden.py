"""Make the repository's own golden case (see README.md beside this file).

    python tests/data/make_repo_golden.py              # recompute the reference from the stored room
    python tests/data/make_repo_golden.py --new-room   # also regenerate the room (changes the case)

Inputs (`repo_golden_room.npz`): a room of the project's first generator, stored once, so that
changes of the generator cannot move the case silently. Outputs (`repo_golden_torch.npz`): the
PyTorch reference model with the bundled demo weights on it, stage by stage, float32 (sampled
rows where a whole stage would be too large), masks as packed bits. Deterministic: one torch
thread, NumPy kernel maps, and zip entries with a fixed date, so that a rerun on the same
versions writes the same bytes.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import torch

from isbnet_trt.isbnet.checkpoint import load_model
from isbnet_trt.isbnet.demo import demo_config_path, demo_weights_path
from isbnet_trt.isbnet.inference import forward_test
from isbnet_trt.isbnet.postprocess import TOPK_PROPOSALS, matrix_nms
from isbnet_trt.isbnet.preprocess import prepare_scene

HERE = Path(__file__).resolve().parent
ROOM_FILE = HERE / "repo_golden_room.npz"
REFERENCE_FILE = HERE / "repo_golden_torch.npz"
N_POINTS = 12_000
SEED = 5  # of seeds 0-7 at 12k points, the one whose smallest margin (meta "margins") is widest
STRIDE = 8  # voxel rows and superpoint columns kept of the stages too large to store whole


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """`np.savez_compressed` with a fixed entry date: the same arrays give the same bytes."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, value in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(value), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue(), compresslevel=9)


def make_room() -> dict[str, np.ndarray]:
    from isbnet_trt.training.synthetic import generate_room

    room = generate_room(N_POINTS, seed=SEED)
    meta = {"generator": "training.synthetic.generate_room", "n_points": N_POINTS, "seed": SEED}
    meta["n_objects"] = room.meta["n_objects"]
    meta["n_superpoints"] = int(len(np.unique(room.superpoints)))
    return {
        "points": room.points.astype(np.float32),
        "superpoints": room.superpoints.astype(np.int16),
        "semantic_labels": room.semantic_labels.astype(np.int8),
        "instance_labels": room.instance_labels.astype(np.int16),
        "meta": np.array(json.dumps(meta)),
    }


def bits(mask: torch.Tensor | np.ndarray) -> np.ndarray:
    """Bool `(..., n)` packed along the last axis (unpack with `count=n`)."""
    return np.packbits(np.asarray(mask, bool), axis=-1)


def reference(room: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict]:
    """The torch reference's stages on the room, and a summary with the decisions' margins."""
    torch.set_num_threads(1)
    model = load_model(demo_weights_path(), demo_config_path())
    cfg = model.cfg
    scene = prepare_scene(room["points"], room["superpoints"], cfg)
    trace: dict = {}
    with torch.no_grad():
        inst = forward_test(model, scene, cfg, trace=trace)
    bb, pa1 = trace["backbone"], trace["aggregator"]
    out: dict[str, np.ndarray] = {
        # voxel level (M voxels): every STRIDE-th row of the float outputs, decisions whole
        "semantic_scores": bb.semantic_scores[::STRIDE].numpy(),
        "corners_offset": bb.corners_offset[::STRIDE].numpy(),
        "feats": bb.feats[::STRIDE].numpy(),
        "semantic_pred": bb.semantic_scores.argmax(1).numpy().astype(np.uint8),
        "object_mask": bits(bb.object_mask),
        # superpoint level (S superpoints), whole
        "spp_coords": bb.spp_coords.numpy(),
        "spp_boxes": bb.spp_boxes.numpy(),
        "mask_features": bb.mask_features.numpy(),
        # point aggregator 1
        "pa1_inds": pa1.inds.numpy().astype(np.int16),
        "pa1_boxes": pa1.boxes[0].numpy(),
    }
    rounds = sorted(k for k in trace if k.startswith("it"))
    mask_logits = []
    for it in rounds:
        r = trace[it]
        o = r["out"]
        cand = np.zeros(pa1.inds.shape[0], bool)
        cand[r["cand_idxs"].numpy()] = True
        out |= {
            f"{it}_cand": bits(cand),  # the round's candidates among the aggregator-1 queries
            f"{it}_fps_inds": o.cand_inds.numpy().astype(np.int16),
            f"{it}_fg": bits(o.fg),
            f"{it}_cls_logits": o.cls_logits.numpy(),
            f"{it}_conf_logits": o.conf_logits.numpy(),
            f"{it}_box_preds": o.box_preds[o.fg].numpy(),
            f"{it}_mask_positive": bits(o.mask_logits[o.fg] >= cfg.test.logit_thresh),
            f"{it}_mask_logits": o.mask_logits[o.fg][:, ::STRIDE].numpy(),
        }
        mask_logits.append(o.mask_logits[o.fg])
    out |= {
        "label_ids": inst.label_ids.astype(np.uint8),
        "scores": inst.scores.astype(np.float32),
        "boxes": inst.boxes.astype(np.float32),
        "masks": bits(inst.masks),
    }
    summary = {
        "n_points": scene.n_points,
        "n_voxels": scene.n_voxels,
        "n_superpoints": int(bb.mask_features.shape[0]),
        "n_foreground_voxels": int(bb.object_mask.sum()),
        "rounds": [
            {
                "n_candidates": len(trace[it]["cand_idxs"]),
                "n_sample": len(trace[it]["out"].cand_inds),
                "n_foreground": int(trace[it]["out"].fg.sum()),
            }
            for it in rounds
        ],
        "n_instances": len(inst),
        "margins": margins(model, scene, trace, torch.cat(mask_logits), cfg),
    }
    return out, summary


def margins(model, scene, trace: dict, mask_logits: torch.Tensor, cfg) -> dict[str, float]:  # noqa: ANN001
    """How close the discrete decisions came to flipping (a backend's float differences must
    stay well below these for the case to compare exactly)."""
    bb = trace["backbone"]
    with torch.no_grad():
        probs = model._spp_mean(torch.softmax(bb.semantic_scores, 1), scene.voxel_spps)
    fg_prob = probs[:, cfg.label_shift :].max(1).values
    rounds = [trace[k]["out"] for k in sorted(trace) if k.startswith("it")]
    cls = torch.cat([o.cls_logits[o.fg] for o in rounds])
    conf = torch.cat([o.conf_logits[o.fg] for o in rounds])
    scores = torch.sqrt(torch.softmax(cls, -1)[:, :-1] * conf.clamp(0, 1)[:, None]).reshape(-1)
    ranked = torch.sort(scores, descending=True).values
    k = min(TOPK_PROPOSALS, len(ranked))
    top_gap = float(ranked[k - 1] - ranked[k]) if k < len(ranked) else float("inf")
    # matrix NMS over the top-k proposals with every decayed score kept: the gap at the top-k cut
    idx = torch.sort(scores, descending=True, stable=True).indices[:k]
    query = torch.div(idx, cfg.instance_classes, rounding_mode="floor")
    masks = mask_logits[query] >= cfg.test.logit_thresh
    counts = torch.bincount(scene.voxel_spps, minlength=mask_logits.shape[1])
    sizes = (masks.double() @ counts.double()).long()
    big = sizes >= cfg.test.npoint_thresh
    _, decayed = matrix_nms(
        masks[big], counts, idx[big] % cfg.instance_classes, scores[idx][big], int(big.sum())
    )
    decayed = torch.sort(decayed, descending=True).values
    t = cfg.test.topk
    nms_gap = float(decayed[t - 1] - decayed[t]) if 0 < t < len(decayed) else float("inf")
    return {
        "foreground_prob_to_threshold": float((fg_prob - cfg.filter_bg_thresh).abs().min()),
        "mask_logit_to_threshold": float((mask_logits - cfg.test.logit_thresh).abs().min()),
        "score_gap_at_top300_cut": top_gap,
        "score_gap_at_nms_topk_cut": nms_gap,
    }


def git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=HERE, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "isbnet"],
            cwd=HERE.parents[1],
            capture_output=True,
            text=True,
        )
        return head.stdout.strip() + ("+dirty isbnet/" if dirty.stdout.strip() else "")
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--new-room", action="store_true", help=f"regenerate {ROOM_FILE.name} (changes the case)"
    )
    args = parser.parse_args(argv)
    if args.new_room or not ROOM_FILE.exists():
        save_npz(ROOM_FILE, make_room())
    with np.load(ROOM_FILE) as z:
        room = dict(z)
    arrays, summary = reference(room)
    meta = {
        "made_by": "tests/data/make_repo_golden.py",
        "commit": git_commit(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "model": "bundled demo weights (isbnet/data/demo_weights.pth, demo.yaml), torch reference, 1 thread",
        "room": json.loads(str(room["meta"])),
        "stride": STRIDE,
        **summary,
    }
    arrays["meta"] = np.array(json.dumps(meta))
    save_npz(REFERENCE_FILE, arrays)
    print(json.dumps(meta, indent=1))
    for path in (ROOM_FILE, REFERENCE_FILE):
        print(f"{path.name}: {path.stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
