"""$readmemh files from NumPy arrays or Python ints of any width, and back: the project's one
reader and writer, accel.isa.memfile (the golden model reads these files too, so it lives below
the model), re-exported for benches.

A bench writes stimulus and expected results with `write_memh`, has the Verilog load them with
`$readmemh("file.hex", mem, 0, n - 1)`, and runs many cycles without Python in the loop.

    write_memh("w.hex", np.arange(4, dtype=np.int8), width=8)  # negative values: two's compl.
    write_memh("wide.hex", [1 << 511, 5], width=512)
    read_memh("w.hex", width=8, signed=True)                    # array([0, 1, 2, 3], int64)
    write_fields("exp.hex", [hi, lo], [8, 8])                   # columns side by side
    write_lanes("x.hex", words, 16); read_lanes("x.hex", 4, 16) # [n, lanes], lane 0 lowest
"""

from accel.isa.memfile import format_memh, read_lanes, read_memh, write_fields, write_lanes, write_memh

__all__ = ["format_memh", "read_lanes", "read_memh", "write_fields", "write_lanes", "write_memh"]
