"""Custom ops (`isbnet::` domain): specs, CPU kernels, CUDA kernels, TensorRT plugin registration."""
