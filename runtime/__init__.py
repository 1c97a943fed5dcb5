"""Pipeline over backends (torch / onnxruntime / tensorrt), post-processing, the `isbnet-trt` CLI."""
