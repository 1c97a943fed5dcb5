"""Pipeline over backends (torch / onnxruntime / tensorrt, one registry in `backends`), scene I/O and
preparation, superpoints, output files. The command line sits above, in `isbnet_trt.cli`."""
