"""`isbnet::BallQuery` (docs/ops/BallQuery.md): `cpu` (numba kernel). Import the submodule you need:
each pulls in its own dependencies."""
