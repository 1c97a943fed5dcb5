"""`isbnet::FarthestPointSample` (docs/ops/FarthestPointSample.md): `cpu` (numba kernel). Import the
submodule you need: each pulls in its own dependencies."""
