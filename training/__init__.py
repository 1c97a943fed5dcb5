"""Training and evaluation of ISBNet: generated rooms (the scene generators), targets, loss, the
training loop and the ScanNet-style AP evaluator. Above the runtime: it may use everything below."""
