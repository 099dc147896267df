"""The run-time error of the machine and of its timing model (below both in the layers)."""


class MachineError(RuntimeError):
    """A program did something the machine does not allow; names the instruction and line."""
