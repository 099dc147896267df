"""accel: an ML accelerator core emulator, golden model, Numba kernels and RTL."""
