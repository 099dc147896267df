"""Offline tools built on the model: sparsity planning and pruning, function-table building and accuracy sweeps."""
