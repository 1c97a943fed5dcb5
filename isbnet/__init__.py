"""ISBNet reference model in plain PyTorch: config, checkpoints, sparse-conv layers, aggregators,
inference, post-processing. The ops it runs (sparse conv, FPS, ball query, kernel maps) are in `plugins`."""
