"""ISBNet reference model in plain PyTorch: config, checkpoints, sparse conv, geometry ops, inference."""
