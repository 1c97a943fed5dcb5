"""Export an ISBNet checkpoint: ONNX stages, manifest, TensorRT engines where available.

    python export/build_engine.py --ckpt model.pth [--config cfg.yaml] --out DIR [--fp16]
        [--opset 17] [--workspace MiB] [--backends onnx,tensorrt]

A thin wrapper over `isbnet_trt.export.build.main` (also `isbnet-trt export`).
"""

import sys

from isbnet_trt.export.build import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], prog="build_engine.py"))
