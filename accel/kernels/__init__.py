"""The speed layer: Numba and BLAS versions of accel.model, module for module and name for name,
bit-exact with it (tests/equivalence)."""
