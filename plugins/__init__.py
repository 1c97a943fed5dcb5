"""Custom ops (`isbnet::` domain): specs, CPU kernels, CUDA kernels, TensorRT plugin registration."""

#: ONNX domain and version of the custom ops (the op specs' contract). Here, at the bottom,
#: so that reading an export does not import the exporter (onnx, onnxscript: seconds).
DOMAIN = "isbnet"
DOMAIN_VERSION = 1
