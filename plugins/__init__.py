"""Custom ops (`isbnet::` domain): the spec (`spec`), and per op (`sparse_conv/`,
`farthest_point_sample/`, `ball_query/`) its reference, ONNX function body, CPU kernel, CUDA
binding and TensorRT plugin. The ground floor of the package: imports nothing of ours but
`isbnet_trt.errors` / `isbnet_trt.files`."""

from isbnet_trt.plugins.spec import DOMAIN, DOMAIN_VERSION

__all__ = ["DOMAIN", "DOMAIN_VERSION"]
