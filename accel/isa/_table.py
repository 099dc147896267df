# GENERATED from isa/isa.toml by `accel isa gen` -- do not edit.
"""The ISA as plain data; see accel/isa/spec.py for its meaning."""

TABLE = {'composites': {'ap': [{'name': 'space', 'width': 2},
                       {'name': 'pstart', 'width': 8},
                       {'name': 'pcount', 'width': 9},
                       {'name': 'offset', 'width': 20},
                       {'name': 'dtype', 'width': 3},
                       {'name': 'n0', 'width': 16},
                       {'name': 's0', 'signed': True, 'width': 16},
                       {'name': 'n1', 'width': 16},
                       {'name': 's1', 'signed': True, 'width': 16},
                       {'name': 'n2', 'width': 16},
                       {'name': 's2', 'signed': True, 'width': 16}],
                'dram': [{'name': 'tensor', 'width': 8},
                         {'name': 'offset', 'width': 32},
                         {'name': 'pstride', 'signed': True, 'width': 24},
                         {'name': 'n0', 'width': 16},
                         {'name': 's0', 'signed': True, 'width': 24},
                         {'name': 'n1', 'width': 16},
                         {'name': 's1', 'signed': True, 'width': 24},
                         {'name': 'n2', 'width': 16},
                         {'name': 's2', 'signed': True, 'width': 24}]},
 'dtypes': {'bf16': {'bytes': 2, 'code': 1},
            'fp32': {'bytes': 4, 'code': 0},
            'int32': {'bytes': 4, 'code': 3},
            'int8': {'bytes': 1, 'code': 2}},
 'engines': {'ACT': 1, 'DMA': 3, 'PE': 0, 'VEC': 2},
 'instructions': [{'engine': 'ANY',
                   'example': 'nop vec',
                   'has_bias': False,
                   'mnemonic': 'nop',
                   'opcode': 0,
                   'operands': [{'kind': 'engine', 'name': 'engine', 'slot': 'eng'}],
                   'reserved': [[10, 502]],
                   'semantics': "The named engine's queue retires one instruction that has no "
                                'effect. Useful to pad a queue or to mark a point in a trace.',
                   'slots': ['eng'],
                   'summary': "Do nothing on one engine's queue."},
                  {'engine': 'SEQ',
                   'example': 'halt',
                   'has_bias': False,
                   'mnemonic': 'halt',
                   'opcode': 1,
                   'operands': [],
                   'reserved': [[8, 504]],
                   'semantics': 'The sequencer stops dispatching: instructions after `halt` are '
                                'never queued. Engines finish what is already in their queues; the '
                                'program ends when every queue is empty. A program without `halt` '
                                'ends after its last instruction.',
                   'slots': [],
                   'summary': 'End of the instruction stream.'},
                  {'engine': 'ANY',
                   'example': 'sem.signal dma, s0, count=1',
                   'has_bias': False,
                   'mnemonic': 'sem.signal',
                   'opcode': 2,
                   'operands': [{'kind': 'engine', 'name': 'engine', 'slot': 'eng'},
                                {'kind': 'sem', 'name': 'sem', 'slot': 'sem'},
                                {'default': 1, 'kind': 'uint', 'name': 'count', 'slot': 'imm0'}],
                   'reserved': [[10, 6], [24, 8], [64, 448]],
                   'semantics': "When the named engine's queue reaches this instruction (so every "
                                'earlier instruction of that engine has completed), semaphore '
                                '`sem` is increased by `count`.',
                   'slots': ['eng', 'sem', 'imm0'],
                   'summary': 'Add to a counting semaphore when the engine reaches this point.'},
                  {'engine': 'ANY',
                   'example': 'sem.wait pe, s0, count=1',
                   'has_bias': False,
                   'mnemonic': 'sem.wait',
                   'opcode': 3,
                   'operands': [{'kind': 'engine', 'name': 'engine', 'slot': 'eng'},
                                {'kind': 'sem', 'name': 'sem', 'slot': 'sem'},
                                {'default': 1, 'kind': 'uint', 'name': 'count', 'slot': 'imm0'}],
                   'reserved': [[10, 6], [24, 8], [64, 448]],
                   'semantics': "The named engine's queue stalls until semaphore `sem` is at least "
                                '`count`, then decreases it by `count` and goes on. A program in '
                                'which every unfinished engine waits on a semaphore that nothing '
                                'will signal is a deadlock, reported with the waiting '
                                'instructions.',
                   'slots': ['eng', 'sem', 'imm0'],
                   'summary': 'Block an engine until a semaphore holds at least `count`, then take '
                              'it.'},
                  {'engine': 'DMA',
                   'example': 'dma.load sb[0:128, 0]:bf16[64], x',
                   'has_bias': False,
                   'mnemonic': 'dma.load',
                   'opcode': 16,
                   'operands': [{'kind': 'ap', 'name': 'dst', 'slot': 'ap0', 'spaces': ['sb']},
                                {'kind': 'dram', 'name': 'src', 'slot': 'dram'}],
                   'reserved': [[8, 88], [418, 94]],
                   'semantics': 'Element (p, i) of the destination pattern receives element (p, i) '
                                "of the source pattern, where p runs over the destination's "
                                'partitions and i over its free-axis elements in row-major order '
                                'of its dims. Both sides must hold the same element type and the '
                                'same number of elements; the bits are copied unchanged. Counts '
                                'bytes DRAM -> SBUF.',
                   'slots': ['ap0', 'dram'],
                   'summary': 'Copy a strided DRAM region into SBUF partitions.'},
                  {'engine': 'DMA',
                   'example': 'dma.store y, sb[0:10, 0]:fp32[32]',
                   'has_bias': False,
                   'mnemonic': 'dma.store',
                   'opcode': 17,
                   'operands': [{'kind': 'dram', 'name': 'dst', 'slot': 'dram'},
                                {'kind': 'ap', 'name': 'src', 'slot': 'ap0', 'spaces': ['sb']}],
                   'reserved': [[8, 88], [418, 94]],
                   'semantics': 'The reverse of `dma.load`: element (p, i) of the source pattern '
                                'is written to element (p, i) of the DRAM pattern, bits unchanged. '
                                'Counts bytes SBUF -> DRAM.',
                   'slots': ['dram', 'ap0'],
                   'summary': 'Copy SBUF partitions into a strided DRAM region.'},
                  {'engine': 'PE',
                   'example': 'pe.load_weights sb[0:128, 0]:bf16[64]',
                   'has_bias': False,
                   'mnemonic': 'pe.load_weights',
                   'opcode': 32,
                   'operands': [{'dtypes': ['bf16', 'int8'],
                                 'kind': 'ap',
                                 'name': 'src',
                                 'slot': 'ap0',
                                 'spaces': ['sb']}],
                   'reserved': [[8, 88], [234, 278]],
                   'semantics': 'Row k of the array (k < K <= pe_rows) holds partition k of the '
                                'pattern and column n (n < N <= pe_cols) holds its free-axis '
                                'element n. The weights stay until the next `pe.load_weights`; '
                                'their element type sets the matmul mode (bf16 or int8).',
                   'slots': ['ap0'],
                   'summary': 'Load stationary weights [K partitions, N elements] into the PE '
                              'array.'},
                  {'engine': 'PE',
                   'example': 'pe.matmul psum[0:64, 0]:fp32[32], sb[0:128, 0x400]:bf16[32], acc=0',
                   'has_bias': False,
                   'mnemonic': 'pe.matmul',
                   'opcode': 33,
                   'operands': [{'dtypes': ['fp32', 'int32'],
                                 'kind': 'ap',
                                 'name': 'dst',
                                 'slot': 'ap0',
                                 'spaces': ['psum']},
                                {'dtypes': ['bf16', 'int8'],
                                 'kind': 'ap',
                                 'name': 'src',
                                 'slot': 'ap1',
                                 'spaces': ['sb']},
                                {'default': 0, 'kind': 'flag', 'name': 'acc', 'slot': 'flag'}],
                   'reserved': [[8, 2], [11, 85], [372, 140]],
                   'semantics': 'dst[n, m] = sum over k = 0..K-1 of W[k, n] * src[k, m], where W '
                                "is the loaded weights (K rows must match src's partitions, N "
                                "columns dst's partitions). int8: products and sums in wrapping "
                                'int32, dst int32. bf16: each product rounded to binary32 (exact '
                                'unless it under- or overflows), summed from +0.0 in row order k = '
                                '0..K-1 with binary32 round-to-nearest-even adds, dst fp32. With '
                                'acc=1 the result is added to dst (one more binary32 or wrapping '
                                'int32 add), else it overwrites dst. The destination may not cross '
                                'a PSUM bank.',
                   'slots': ['ap0', 'ap1', 'flag'],
                   'summary': 'Stream moving data [K partitions, M] through the array into PSUM [N '
                              'partitions, M].'},
                  {'engine': 'PE',
                   'example': 'pe.load_sparse sb[0:64, 0]:bf16[128], sb[0:64, 512]:int8[32], 2, 4',
                   'has_bias': False,
                   'mnemonic': 'pe.load_sparse',
                   'opcode': 36,
                   'operands': [{'dtypes': ['bf16', 'int8'],
                                 'kind': 'ap',
                                 'name': 'values',
                                 'slot': 'ap0',
                                 'spaces': ['sb']},
                                {'dtypes': ['int8'],
                                 'kind': 'ap',
                                 'name': 'index',
                                 'slot': 'ap1',
                                 'spaces': ['sb']},
                                {'kind': 'uint', 'name': 'n', 'range': [1, 15], 'slot': 'imm0'},
                                {'kind': 'uint', 'name': 'm', 'range': [2, 16], 'slot': 'imm1'}],
                   'reserved': [[8, 24], [372, 140]],
                   'semantics': 'values is [G*N partitions, C elements]: partition g*N + j holds '
                                'slot j of group g (contraction rows g*M .. g*M+M-1) of each of '
                                'the C columns, and goes to physical PE row g*N + j. index is [G*N '
                                'partitions, ceil(C*b/8) bytes], b = ceil(log2 M) bits per index: '
                                "column c's position (0..M-1) inside its group occupies bits c*b "
                                ".. c*b+b-1 of the partition's little-endian bit string (bit i = "
                                'bit i%8 of byte i/8). Needs N < M, G*N <= pe_rows, C <= pe_cols '
                                'and every index < M. Timing as pe.load_weights with K = G*N rows; '
                                'the weights replace any dense ones.',
                   'slots': ['ap0', 'ap1', 'imm0', 'imm1'],
                   'summary': 'Load N:M compressed stationary weights (values + packed position '
                              'indices) into the PE array.'},
                  {'engine': 'PE',
                   'example': 'pe.matmul_sparse psum[0:128, 0]:fp32[32], sb[0:128, 0x400]:bf16[2, '
                              '32], acc=0',
                   'has_bias': False,
                   'mnemonic': 'pe.matmul_sparse',
                   'opcode': 37,
                   'operands': [{'dtypes': ['fp32', 'int32'],
                                 'kind': 'ap',
                                 'name': 'dst',
                                 'slot': 'ap0',
                                 'spaces': ['psum']},
                                {'dtypes': ['bf16', 'int8'],
                                 'kind': 'ap',
                                 'name': 'src',
                                 'slot': 'ap1',
                                 'spaces': ['sb']},
                                {'default': 0, 'kind': 'flag', 'name': 'acc', 'slot': 'flag'}],
                   'reserved': [[8, 2], [11, 85], [372, 140]],
                   'semantics': "src holds X as J blocks of P rows side by side: with P = src's "
                                "partitions and M' = dst's elements per partition, src has J*M' "
                                "elements per partition and X[j*P + p, i] is src element (p, j*M' "
                                "+ i) (J = 1: plainly [K partitions, M']), so K = J*P can exceed "
                                'the 128 partitions. dst[c, i] = sum over physical rows r = '
                                '0..G*N-1, in that order, of values[r, c] * X[(r div N)*M + '
                                "index[r, c], i]: each PE multiplexes its weight's moving element "
                                "out of its group's M. int8: wrapping int32, dst int32. bf16: each "
                                'product rounded to binary32, summed from +0.0 in row order with '
                                'binary32 round-to-nearest-even adds, dst fp32. acc=1 adds to dst. '
                                'Equals pe.matmul on the decompressed weights (bf16: for finite '
                                'src). Timing as pe.matmul with K = G*N.',
                   'slots': ['ap0', 'ap1', 'flag'],
                   'summary': "Stream moving data X [K = G*M rows, M'] through the sparse weights "
                              "into PSUM [C partitions, M']."},
                  {'engine': 'VEC',
                   'example': 'vec.add sb[0:64, 0]:fp32[32], sb[0:64, 128]:fp32[32], psum[0:64, '
                              '0]:fp32[32]',
                   'has_bias': False,
                   'mnemonic': 'vec.add',
                   'opcode': 48,
                   'operands': [{'kind': 'ap', 'name': 'dst', 'slot': 'ap0'},
                                {'kind': 'ap', 'name': 'a', 'slot': 'ap1'},
                                {'kind': 'ap', 'name': 'b', 'slot': 'ap2'}],
                   'reserved': [[8, 88], [510, 2]],
                   'semantics': 'Each element of a and b is converted to binary32 (exactly, or '
                                'round-to-nearest-even from int32), the operation is one binary32 '
                                "round-to-nearest-even step, and the result is converted to dst's "
                                'element type (round-to-nearest-even; saturating for integers, NaN '
                                '-> 0). All three patterns hold the same number of partitions and '
                                'elements. Every NaN produced is 0x7FC00000.',
                   'slots': ['ap0', 'ap1', 'ap2'],
                   'summary': 'Elementwise a + b.'},
                  {'engine': 'VEC',
                   'example': 'vec.sub sb[0:64, 0]:fp32[32], sb[0:64, 128]:fp32[32], sb[0:64, '
                              '256]:fp32[32]',
                   'has_bias': False,
                   'mnemonic': 'vec.sub',
                   'opcode': 49,
                   'operands': [{'kind': 'ap', 'name': 'dst', 'slot': 'ap0'},
                                {'kind': 'ap', 'name': 'a', 'slot': 'ap1'},
                                {'kind': 'ap', 'name': 'b', 'slot': 'ap2'}],
                   'reserved': [[8, 88], [510, 2]],
                   'semantics': 'As `vec.add`, with binary32 subtraction a - b.',
                   'slots': ['ap0', 'ap1', 'ap2'],
                   'summary': 'Elementwise a - b.'},
                  {'engine': 'VEC',
                   'example': 'vec.mul sb[0:64, 0]:bf16[32], sb[0:64, 128]:bf16[32], sb[0:64, '
                              '256]:bf16[32]',
                   'has_bias': False,
                   'mnemonic': 'vec.mul',
                   'opcode': 50,
                   'operands': [{'kind': 'ap', 'name': 'dst', 'slot': 'ap0'},
                                {'kind': 'ap', 'name': 'a', 'slot': 'ap1'},
                                {'kind': 'ap', 'name': 'b', 'slot': 'ap2'}],
                   'reserved': [[8, 88], [510, 2]],
                   'semantics': 'As `vec.add`, with binary32 multiplication.',
                   'slots': ['ap0', 'ap1', 'ap2'],
                   'summary': 'Elementwise a * b.'},
                  {'engine': 'VEC',
                   'example': 'vec.max sb[0:64, 0]:fp32[32], sb[0:64, 128]:fp32[32], sb[0:64, '
                              '256]:fp32[32]',
                   'has_bias': False,
                   'mnemonic': 'vec.max',
                   'opcode': 51,
                   'operands': [{'kind': 'ap', 'name': 'dst', 'slot': 'ap0'},
                                {'kind': 'ap', 'name': 'a', 'slot': 'ap1'},
                                {'kind': 'ap', 'name': 'b', 'slot': 'ap2'}],
                   'reserved': [[8, 88], [510, 2]],
                   'semantics': 'As `vec.add`, with IEEE 754-2019 maximum: NaN if either input is '
                                'NaN, and +0 > -0.',
                   'slots': ['ap0', 'ap1', 'ap2'],
                   'summary': 'Elementwise maximum(a, b).'},
                  {'engine': 'VEC',
                   'example': 'vec.min sb[0:64, 0]:fp32[32], sb[0:64, 128]:fp32[32], sb[0:64, '
                              '256]:fp32[32]',
                   'has_bias': False,
                   'mnemonic': 'vec.min',
                   'opcode': 52,
                   'operands': [{'kind': 'ap', 'name': 'dst', 'slot': 'ap0'},
                                {'kind': 'ap', 'name': 'a', 'slot': 'ap1'},
                                {'kind': 'ap', 'name': 'b', 'slot': 'ap2'}],
                   'reserved': [[8, 88], [510, 2]],
                   'semantics': 'As `vec.add`, with IEEE 754-2019 minimum: NaN if either input is '
                                'NaN, and -0 < +0.',
                   'slots': ['ap0', 'ap1', 'ap2'],
                   'summary': 'Elementwise minimum(a, b).'},
                  {'engine': 'VEC',
                   'example': 'vec.adds sb[0:64, 0]:fp32[32], sb[0:64, 0]:fp32[32], 1.5',
                   'has_bias': False,
                   'mnemonic': 'vec.adds',
                   'opcode': 56,
                   'operands': [{'kind': 'ap', 'name': 'dst', 'slot': 'ap0'},
                                {'kind': 'ap', 'name': 'a', 'slot': 'ap1'},
                                {'kind': 'f32', 'name': 'scalar', 'slot': 'imm0'}],
                   'reserved': [[8, 24], [64, 32], [372, 140]],
                   'semantics': 'As `vec.add` with every b element equal to the binary32 immediate '
                                '`scalar`.',
                   'slots': ['ap0', 'ap1', 'imm0'],
                   'summary': 'Elementwise a + scalar.'},
                  {'engine': 'VEC',
                   'example': 'vec.subs sb[0:64, 0]:fp32[32], sb[0:64, 0]:fp32[32], 0.25',
                   'has_bias': False,
                   'mnemonic': 'vec.subs',
                   'opcode': 57,
                   'operands': [{'kind': 'ap', 'name': 'dst', 'slot': 'ap0'},
                                {'kind': 'ap', 'name': 'a', 'slot': 'ap1'},
                                {'kind': 'f32', 'name': 'scalar', 'slot': 'imm0'}],
                   'reserved': [[8, 24], [64, 32], [372, 140]],
                   'semantics': 'As `vec.sub` with every b element equal to the binary32 immediate '
                                '`scalar`.',
                   'slots': ['ap0', 'ap1', 'imm0'],
                   'summary': 'Elementwise a - scalar.'},
                  {'engine': 'VEC',
                   'example': 'vec.muls sb[0:64, 0]:fp32[32], sb[0:64, 0]:fp32[32], -2.0',
                   'has_bias': False,
                   'mnemonic': 'vec.muls',
                   'opcode': 58,
                   'operands': [{'kind': 'ap', 'name': 'dst', 'slot': 'ap0'},
                                {'kind': 'ap', 'name': 'a', 'slot': 'ap1'},
                                {'kind': 'f32', 'name': 'scalar', 'slot': 'imm0'}],
                   'reserved': [[8, 24], [64, 32], [372, 140]],
                   'semantics': 'As `vec.mul` with every b element equal to the binary32 immediate '
                                '`scalar`.',
                   'slots': ['ap0', 'ap1', 'imm0'],
                   'summary': 'Elementwise a * scalar.'},
                  {'engine': 'VEC',
                   'example': 'vec.maxs sb[0:64, 0]:fp32[32], sb[0:64, 0]:fp32[32], 0.0',
                   'has_bias': False,
                   'mnemonic': 'vec.maxs',
                   'opcode': 59,
                   'operands': [{'kind': 'ap', 'name': 'dst', 'slot': 'ap0'},
                                {'kind': 'ap', 'name': 'a', 'slot': 'ap1'},
                                {'kind': 'f32', 'name': 'scalar', 'slot': 'imm0'}],
                   'reserved': [[8, 24], [64, 32], [372, 140]],
                   'semantics': 'As `vec.max` with every b element equal to the binary32 immediate '
                                '`scalar`.',
                   'slots': ['ap0', 'ap1', 'imm0'],
                   'summary': 'Elementwise maximum(a, scalar).'},
                  {'engine': 'VEC',
                   'example': 'vec.mins sb[0:64, 0]:fp32[32], sb[0:64, 0]:fp32[32], 6.0',
                   'has_bias': False,
                   'mnemonic': 'vec.mins',
                   'opcode': 60,
                   'operands': [{'kind': 'ap', 'name': 'dst', 'slot': 'ap0'},
                                {'kind': 'ap', 'name': 'a', 'slot': 'ap1'},
                                {'kind': 'f32', 'name': 'scalar', 'slot': 'imm0'}],
                   'reserved': [[8, 24], [64, 32], [372, 140]],
                   'semantics': 'As `vec.min` with every b element equal to the binary32 immediate '
                                '`scalar`.',
                   'slots': ['ap0', 'ap1', 'imm0'],
                   'summary': 'Elementwise minimum(a, scalar).'},
                  {'engine': 'VEC',
                   'example': 'vec.reduce_sum sb[0:64, 0]:fp32[1], sb[0:64, 128]:fp32[32]',
                   'has_bias': False,
                   'mnemonic': 'vec.reduce_sum',
                   'opcode': 64,
                   'operands': [{'kind': 'ap', 'name': 'dst', 'slot': 'ap0'},
                                {'kind': 'ap', 'name': 'src', 'slot': 'ap1'}],
                   'reserved': [[8, 88], [372, 140]],
                   'semantics': "For each partition and each index of src's outer dims, the "
                                "elements along src's last dim are converted to binary32 and "
                                'summed from +0.0 in index order with binary32 '
                                'round-to-nearest-even adds; dst holds (elements of src) / '
                                "(last-dim count) elements, converted to dst's element type as in "
                                '`vec.add`.',
                   'slots': ['ap0', 'ap1'],
                   'summary': 'Sum along the innermost free dimension.'},
                  {'engine': 'VEC',
                   'example': 'vec.reduce_max sb[0:64, 0]:fp32[4], sb[0:64, 128]:fp32[4, 8]',
                   'has_bias': False,
                   'mnemonic': 'vec.reduce_max',
                   'opcode': 65,
                   'operands': [{'kind': 'ap', 'name': 'dst', 'slot': 'ap0'},
                                {'kind': 'ap', 'name': 'src', 'slot': 'ap1'}],
                   'reserved': [[8, 88], [372, 140]],
                   'semantics': 'As `vec.reduce_sum` with IEEE 754-2019 maximum in place of '
                                'addition, starting from the first element (a NaN anywhere gives '
                                'NaN).',
                   'slots': ['ap0', 'ap1'],
                   'summary': 'Maximum along the innermost free dimension.'},
                  {'engine': 'VEC',
                   'example': 'vec.copy sb[0:64, 0]:fp32[32], psum[0:64, 0]:fp32[32]',
                   'has_bias': False,
                   'mnemonic': 'vec.copy',
                   'opcode': 72,
                   'operands': [{'kind': 'ap', 'name': 'dst', 'slot': 'ap0'},
                                {'kind': 'ap', 'name': 'src', 'slot': 'ap1'}],
                   'reserved': [[8, 88], [372, 140]],
                   'semantics': 'dst[p, i] = src[p, i] for every partition and element, bits '
                                'unchanged (NaN payloads kept). Both patterns must have the same '
                                'element type; use `vec.cast` to convert.',
                   'slots': ['ap0', 'ap1'],
                   'summary': 'Copy elements bit for bit (same element type).'},
                  {'engine': 'VEC',
                   'example': 'vec.cast sb[0:64, 0]:bf16[32], psum[0:64, 0]:fp32[32]',
                   'has_bias': False,
                   'mnemonic': 'vec.cast',
                   'opcode': 73,
                   'operands': [{'kind': 'ap', 'name': 'dst', 'slot': 'ap0'},
                                {'kind': 'ap', 'name': 'src', 'slot': 'ap1'}],
                   'reserved': [[8, 88], [372, 140]],
                   'semantics': 'Each element is converted to binary32 (exact from bf16 and int8, '
                                "round-to-nearest-even from int32) and then to dst's element type: "
                                'bf16 by round-to-nearest-even, int8/int32 by '
                                'round-to-nearest-even with saturation and NaN -> 0. int32 -> '
                                'int32 and int8 -> int8 pass through binary32 too, so every cast '
                                'is one documented rule.',
                   'slots': ['ap0', 'ap1'],
                   'summary': 'Convert elements between fp32, bf16, int8 and int32.'},
                  {'engine': 'ACT',
                   'example': 'act.identity sb[0:64, 0]:bf16[32], psum[0:64, 0]:fp32[32], '
                              'scale=0.5, bias=1.0',
                   'has_bias': True,
                   'mnemonic': 'act.identity',
                   'opcode': 80,
                   'operands': [{'kind': 'ap', 'name': 'dst', 'slot': 'ap0'},
                                {'kind': 'ap', 'name': 'src', 'slot': 'ap1'},
                                {'default': 1.0, 'kind': 'f32', 'name': 'scale', 'slot': 'imm0'},
                                {'default': 0.0, 'kind': 'bias', 'name': 'bias', 'slot': 'imm1'}],
                   'reserved': [[8, 2], [11, 21], [510, 2]],
                   'semantics': 'Each src element is converted to binary32 (as in `vec.add`), then '
                                'y = (x * scale) + bias with two binary32 round-to-nearest-even '
                                "steps, and y is converted to dst's element type. `bias` is a "
                                'binary32 immediate, or a pattern of one fp32 element per '
                                'partition (a [P, 1] column) applied to every element of that '
                                'partition.',
                   'slots': ['ap0', 'ap1', 'imm0', 'imm1', 'ap2', 'flag'],
                   'summary': 'dst = x * scale + bias.'},
                  {'engine': 'ACT',
                   'example': 'act.relu sb[0:64, 0]:bf16[32], psum[0:64, 0]:fp32[32], '
                              'bias=sb[0:64, 512]:fp32[1]',
                   'has_bias': True,
                   'mnemonic': 'act.relu',
                   'opcode': 81,
                   'operands': [{'kind': 'ap', 'name': 'dst', 'slot': 'ap0'},
                                {'kind': 'ap', 'name': 'src', 'slot': 'ap1'},
                                {'default': 1.0, 'kind': 'f32', 'name': 'scale', 'slot': 'imm0'},
                                {'default': 0.0, 'kind': 'bias', 'name': 'bias', 'slot': 'imm1'}],
                   'reserved': [[8, 2], [11, 21], [510, 2]],
                   'semantics': 'As `act.identity`, then relu: negative values and -0 become +0, '
                                'NaN stays NaN (canonical).',
                   'slots': ['ap0', 'ap1', 'imm0', 'imm1', 'ap2', 'flag'],
                   'summary': 'dst = max(x * scale + bias, 0).'},
                  {'engine': 'ACT',
                   'example': 'act.func sb[0:64, 0]:bf16[32], psum[0:64, 0]:fp32[32], fn=2, '
                              'scale=0.5',
                   'has_bias': True,
                   'mnemonic': 'act.func',
                   'opcode': 82,
                   'operands': [{'kind': 'ap', 'name': 'dst', 'slot': 'ap0'},
                                {'kind': 'ap', 'name': 'src', 'slot': 'ap1'},
                                {'kind': 'uint', 'name': 'fn', 'range': [0, 31], 'slot': 'sem'},
                                {'default': 1.0, 'kind': 'f32', 'name': 'scale', 'slot': 'imm0'},
                                {'default': 0.0, 'kind': 'bias', 'name': 'bias', 'slot': 'imm1'}],
                   'reserved': [[8, 2], [11, 5], [24, 8], [510, 2]],
                   'semantics': 'y = x * scale + bias exactly as `act.identity`, then the unit '
                                'computes f(y) in binary32 steps defined in docs/act.md: a range '
                                'reduction where f needs one, a segment table indexed by the '
                                "argument's exponent and top fraction bits, and Horner's rule with "
                                "one fma per coefficient from the distance to the segment's base "
                                'point. fn 0..12 are the built-ins exp, log, sigmoid, tanh, gelu, '
                                'gelu_tanh, silu, softplus, rsqrt, reciprocal, sqrt, sin, cos '
                                '(ROM); fn 16..31 are user tables loaded with `act.lut.load` (an '
                                'unloaded or unassigned id is an error). The result is converted '
                                "to dst's element type.",
                   'slots': ['ap0', 'ap1', 'sem', 'imm0', 'imm1', 'ap2', 'flag'],
                   'summary': 'dst = f(x * scale + bias) with the function-approximation unit '
                              '(table + polynomial).'},
                  {'engine': 'ACT',
                   'example': 'act.lut.load sb[0:1, 0]:int32[512], fn=16',
                   'has_bias': False,
                   'mnemonic': 'act.lut.load',
                   'opcode': 83,
                   'operands': [{'dtypes': ['int32'],
                                 'kind': 'ap',
                                 'name': 'src',
                                 'slot': 'ap1',
                                 'spaces': ['sb']},
                                {'kind': 'uint', 'name': 'fn', 'range': [16, 31], 'slot': 'sem'}],
                   'reserved': [[8, 8], [24, 210], [372, 140]],
                   'semantics': 'The words of src, in access-pattern order, are a table image '
                                '(docs/act.md: 12 header words with magic 0x4C555431, the recipe '
                                "and the domain rules, then each table's emin, emax, mbits, degree "
                                'and 2 * segments * (degree + 1) binary32 coefficients). The image '
                                'replaces slot fn (16..31) for later `act.func` instructions of '
                                'this program; a malformed image is an error. Slots are empty '
                                'after reset.',
                   'slots': ['ap1', 'sem'],
                   'summary': 'Load a user table image (int32 words) into function slot fn of the '
                              'ACT unit.'},
                  {'engine': 'VEC',
                   'example': 'vec.rng_seed 0x9E3779B9, hi=0x7F4A7C15',
                   'has_bias': False,
                   'mnemonic': 'vec.rng_seed',
                   'opcode': 96,
                   'operands': [{'kind': 'uint', 'name': 'lo', 'slot': 'imm0'},
                                {'default': 0, 'kind': 'uint', 'name': 'hi', 'slot': 'imm1'}],
                   'reserved': [[8, 24], [96, 416]],
                   'semantics': 'The seed becomes the Philox4x32-10 key (k0 = lo, k1 = hi). Lane '
                                "L's xoroshiro128aox state becomes (s0, s1) = outputs 2L and 2L+1 "
                                '(counting from 0) of SplitMix64 started at the seed, which is '
                                'never all zero. The offset and row-stride registers are '
                                'unchanged.',
                   'slots': ['imm0', 'imm1'],
                   'summary': "Set the 64-bit RNG seed (hi:lo) and re-seed every lane's "
                              'xoroshiro128aox from it.'},
                  {'engine': 'VEC',
                   'example': 'vec.rng_set_offset 4',
                   'has_bias': False,
                   'mnemonic': 'vec.rng_set_offset',
                   'opcode': 97,
                   'operands': [{'kind': 'uint', 'name': 'lo', 'slot': 'imm0'},
                                {'default': 0, 'kind': 'uint', 'name': 'hi', 'slot': 'imm1'}],
                   'reserved': [[8, 24], [96, 416]],
                   'semantics': 'The Philox counter of logical index i is (c0, c1, c2, c3) = (low '
                                'and high words of i >> 2, low and high words of the offset); '
                                'element i takes word i & 3 of that block. Use a new offset for '
                                'each independent dropout call (as PyTorch advances its Philox '
                                'offset).',
                   'slots': ['imm0', 'imm1'],
                   'summary': 'Set the 64-bit Philox offset register (hi:lo).'},
                  {'engine': 'VEC',
                   'example': 'vec.rng_get_offset sb[0:1, 0]:int32[2]',
                   'has_bias': False,
                   'mnemonic': 'vec.rng_get_offset',
                   'opcode': 98,
                   'operands': [{'dtypes': ['int32'], 'kind': 'ap', 'name': 'dst', 'slot': 'ap0'}],
                   'reserved': [[8, 88], [234, 278]],
                   'semantics': 'dst must be one partition of two int32 elements: element 0 '
                                'receives the low 32 bits of the offset, element 1 the high 32 '
                                'bits (bit patterns).',
                   'slots': ['ap0'],
                   'summary': 'Write the offset register as two int32 words [lo, hi] into one '
                              'partition.'},
                  {'engine': 'VEC',
                   'example': 'vec.rng_set_stride 1024',
                   'has_bias': False,
                   'mnemonic': 'vec.rng_set_stride',
                   'opcode': 99,
                   'operands': [{'kind': 'uint', 'name': 'stride', 'slot': 'imm0'}],
                   'reserved': [[8, 24], [64, 448]],
                   'semantics': 'Element (p, f) of a later vec.rng_fill or vec.dropout* has '
                                'logical index base + p * stride + f. stride = 0 (the reset value) '
                                "means the instruction's own free size, the right value when each "
                                'instruction covers whole rows of the tensor.',
                   'slots': ['imm0'],
                   'summary': 'Set the row-stride register used to number elements across '
                              'partitions.'},
                  {'engine': 'VEC',
                   'example': 'vec.rng_save_state sb[0:128, 0]:int32[4]',
                   'has_bias': False,
                   'mnemonic': 'vec.rng_save_state',
                   'opcode': 100,
                   'operands': [{'dtypes': ['int32'], 'kind': 'ap', 'name': 'dst', 'slot': 'ap0'}],
                   'reserved': [[8, 88], [234, 278]],
                   'semantics': "Partition p of dst (4 elements) receives lane (pstart + p)'s "
                                'state as the words [s0 low, s0 high, s1 low, s1 high] (bit '
                                'patterns). The state is unchanged.',
                   'slots': ['ap0'],
                   'summary': "Save the xoroshiro128aox state of the pattern's lanes: 4 int32 "
                              'words per partition.'},
                  {'engine': 'VEC',
                   'example': 'vec.rng_load_state sb[0:128, 0]:int32[4]',
                   'has_bias': False,
                   'mnemonic': 'vec.rng_load_state',
                   'opcode': 101,
                   'operands': [{'dtypes': ['int32'], 'kind': 'ap', 'name': 'src', 'slot': 'ap0'}],
                   'reserved': [[8, 88], [234, 278]],
                   'semantics': 'Lane (pstart + p) takes the state [s0 low, s0 high, s1 low, s1 '
                                'high] held in partition p of src. An all-zero state (a generator '
                                'stuck at zero) is an error naming the lane.',
                   'slots': ['ap0'],
                   'summary': "Restore the xoroshiro128aox state of the pattern's lanes (inverse "
                              'of rng_save_state).'},
                  {'engine': 'VEC',
                   'example': 'vec.rng_fill sb[0:128, 0]:fp32[64], base=0, gen=0',
                   'has_bias': False,
                   'mnemonic': 'vec.rng_fill',
                   'opcode': 102,
                   'operands': [{'dtypes': ['int32', 'fp32'],
                                 'kind': 'ap',
                                 'name': 'dst',
                                 'slot': 'ap0'},
                                {'default': 0, 'kind': 'uint', 'name': 'base', 'slot': 'imm1'},
                                {'default': 0, 'kind': 'flag', 'name': 'gen', 'slot': 'flag'}],
                   'reserved': [[8, 2], [11, 53], [234, 278]],
                   'semantics': 'Element (p, f) receives the 32-bit word w of its logical index '
                                '(gen = 0: Philox, from seed, offset and index) or the next output '
                                'of lane pstart + p (gen = 1: the high 32 bits of one '
                                'xoroshiro128aox output, lanes stepping through f in order). int32 '
                                'dst: the bits of w. fp32 dst: (w >> 8) * 2**-24, exact, in [0, '
                                '1).',
                   'slots': ['ap0', 'imm1', 'flag'],
                   'summary': 'Fill with uniform random 32-bit words (int32 dst) or floats in [0, '
                              '1) (fp32 dst).'},
                  {'engine': 'VEC',
                   'example': 'vec.dropout sb[0:128, 0]:fp32[64], sb[0:128, 256]:fp32[64], 0.1, '
                              'base=0',
                   'has_bias': False,
                   'mnemonic': 'vec.dropout',
                   'opcode': 103,
                   'operands': [{'kind': 'ap', 'name': 'dst', 'slot': 'ap0'},
                                {'kind': 'ap', 'name': 'src', 'slot': 'ap1'},
                                {'kind': 'f32', 'name': 'p', 'range': [0.0, 1.0], 'slot': 'imm0'},
                                {'default': 0, 'kind': 'uint', 'name': 'base', 'slot': 'imm1'},
                                {'default': 0, 'kind': 'flag', 'name': 'gen', 'slot': 'flag'}],
                   'reserved': [[8, 2], [11, 21], [372, 140]],
                   'semantics': 'Each src element is converted to binary32 (as in vec.add). With w '
                                "the element's word (as in vec.rng_fill) and T = round(p * 2**32) "
                                '(ties to even; 0 <= T <= 2**32), a kept element (w >= T) is '
                                'multiplied by the binary32 value nearest 1/(1-p) (one '
                                'round-to-nearest-even multiplication; NaN canonical); a dropped '
                                'element becomes +0. p = 0 keeps every element (times 1.0), p = 1 '
                                "drops every one. The result is converted to dst's element type as "
                                'in vec.add.',
                   'slots': ['ap0', 'ap1', 'imm0', 'imm1', 'flag'],
                   'summary': 'Dropout: keep an element when its random word >= round(p * 2**32), '
                              'scaled by 1/(1-p).'},
                  {'engine': 'VEC',
                   'example': 'vec.dropout_mask sb[0:128, 0]:fp32[64], sb[0:128, 256]:fp32[64], '
                              'sb[0:128, 512]:int32[2], 0.5',
                   'has_bias': False,
                   'mnemonic': 'vec.dropout_mask',
                   'opcode': 104,
                   'operands': [{'kind': 'ap', 'name': 'dst', 'slot': 'ap0'},
                                {'kind': 'ap', 'name': 'src', 'slot': 'ap1'},
                                {'dtypes': ['int32'], 'kind': 'ap', 'name': 'mask', 'slot': 'ap2'},
                                {'kind': 'f32', 'name': 'p', 'range': [0.0, 1.0], 'slot': 'imm0'},
                                {'default': 0, 'kind': 'uint', 'name': 'base', 'slot': 'imm1'},
                                {'default': 0, 'kind': 'flag', 'name': 'gen', 'slot': 'flag'}],
                   'reserved': [[8, 2], [11, 21], [510, 2]],
                   'semantics': 'As vec.dropout. Partition p of mask holds ceil(F / 32) int32 '
                                'words for the F free elements: bit (f mod 32) of word (f div 32) '
                                'is 1 when element f was kept; bits past F are 0.',
                   'slots': ['ap0', 'ap1', 'ap2', 'imm0', 'imm1', 'flag'],
                   'summary': 'vec.dropout that also writes the bit-packed keep-mask for the '
                              'backward pass.'},
                  {'engine': 'VEC',
                   'example': 'vec.dropout_apply sb[0:128, 0]:fp32[64], sb[0:128, 256]:fp32[64], '
                              'sb[0:128, 512]:int32[2], 0.5',
                   'has_bias': False,
                   'mnemonic': 'vec.dropout_apply',
                   'opcode': 105,
                   'operands': [{'kind': 'ap', 'name': 'dst', 'slot': 'ap0'},
                                {'kind': 'ap', 'name': 'src', 'slot': 'ap1'},
                                {'dtypes': ['int32'], 'kind': 'ap', 'name': 'mask', 'slot': 'ap2'},
                                {'kind': 'f32', 'name': 'p', 'range': [0.0, 1.0], 'slot': 'imm0'}],
                   'reserved': [[8, 24], [64, 32], [510, 2]],
                   'semantics': 'Element f of partition p is kept when bit (f mod 32) of word (f '
                                "div 32) of mask's partition p is 1, and then multiplied by the "
                                'binary32 value nearest 1/(1-p); other elements become +0. p = 1 '
                                'gives +0 everywhere. Conversions as in vec.dropout.',
                   'slots': ['ap0', 'ap1', 'ap2', 'imm0'],
                   'summary': 'Apply a stored keep-mask (from vec.dropout_mask) with the 1/(1-p) '
                              'scale: backward pass.'}],
 'opcode': {'lsb': 0, 'width': 8},
 'slots': {'ap0': {'fields': [{'lsb': 96, 'name': 'ap0.space', 'signed': False, 'width': 2},
                              {'lsb': 98, 'name': 'ap0.pstart', 'signed': False, 'width': 8},
                              {'lsb': 106, 'name': 'ap0.pcount', 'signed': False, 'width': 9},
                              {'lsb': 115, 'name': 'ap0.offset', 'signed': False, 'width': 20},
                              {'lsb': 135, 'name': 'ap0.dtype', 'signed': False, 'width': 3},
                              {'lsb': 138, 'name': 'ap0.n0', 'signed': False, 'width': 16},
                              {'lsb': 154, 'name': 'ap0.s0', 'signed': True, 'width': 16},
                              {'lsb': 170, 'name': 'ap0.n1', 'signed': False, 'width': 16},
                              {'lsb': 186, 'name': 'ap0.s1', 'signed': True, 'width': 16},
                              {'lsb': 202, 'name': 'ap0.n2', 'signed': False, 'width': 16},
                              {'lsb': 218, 'name': 'ap0.s2', 'signed': True, 'width': 16}],
                   'kind': 'ap',
                   'lsb': 96,
                   'width': 138},
           'ap1': {'fields': [{'lsb': 234, 'name': 'ap1.space', 'signed': False, 'width': 2},
                              {'lsb': 236, 'name': 'ap1.pstart', 'signed': False, 'width': 8},
                              {'lsb': 244, 'name': 'ap1.pcount', 'signed': False, 'width': 9},
                              {'lsb': 253, 'name': 'ap1.offset', 'signed': False, 'width': 20},
                              {'lsb': 273, 'name': 'ap1.dtype', 'signed': False, 'width': 3},
                              {'lsb': 276, 'name': 'ap1.n0', 'signed': False, 'width': 16},
                              {'lsb': 292, 'name': 'ap1.s0', 'signed': True, 'width': 16},
                              {'lsb': 308, 'name': 'ap1.n1', 'signed': False, 'width': 16},
                              {'lsb': 324, 'name': 'ap1.s1', 'signed': True, 'width': 16},
                              {'lsb': 340, 'name': 'ap1.n2', 'signed': False, 'width': 16},
                              {'lsb': 356, 'name': 'ap1.s2', 'signed': True, 'width': 16}],
                   'kind': 'ap',
                   'lsb': 234,
                   'width': 138},
           'ap2': {'fields': [{'lsb': 372, 'name': 'ap2.space', 'signed': False, 'width': 2},
                              {'lsb': 374, 'name': 'ap2.pstart', 'signed': False, 'width': 8},
                              {'lsb': 382, 'name': 'ap2.pcount', 'signed': False, 'width': 9},
                              {'lsb': 391, 'name': 'ap2.offset', 'signed': False, 'width': 20},
                              {'lsb': 411, 'name': 'ap2.dtype', 'signed': False, 'width': 3},
                              {'lsb': 414, 'name': 'ap2.n0', 'signed': False, 'width': 16},
                              {'lsb': 430, 'name': 'ap2.s0', 'signed': True, 'width': 16},
                              {'lsb': 446, 'name': 'ap2.n1', 'signed': False, 'width': 16},
                              {'lsb': 462, 'name': 'ap2.s1', 'signed': True, 'width': 16},
                              {'lsb': 478, 'name': 'ap2.n2', 'signed': False, 'width': 16},
                              {'lsb': 494, 'name': 'ap2.s2', 'signed': True, 'width': 16}],
                   'kind': 'ap',
                   'lsb': 372,
                   'width': 138},
           'dram': {'fields': [{'lsb': 234, 'name': 'dram.tensor', 'signed': False, 'width': 8},
                               {'lsb': 242, 'name': 'dram.offset', 'signed': False, 'width': 32},
                               {'lsb': 274, 'name': 'dram.pstride', 'signed': True, 'width': 24},
                               {'lsb': 298, 'name': 'dram.n0', 'signed': False, 'width': 16},
                               {'lsb': 314, 'name': 'dram.s0', 'signed': True, 'width': 24},
                               {'lsb': 338, 'name': 'dram.n1', 'signed': False, 'width': 16},
                               {'lsb': 354, 'name': 'dram.s1', 'signed': True, 'width': 24},
                               {'lsb': 378, 'name': 'dram.n2', 'signed': False, 'width': 16},
                               {'lsb': 394, 'name': 'dram.s2', 'signed': True, 'width': 24}],
                    'kind': 'dram',
                    'lsb': 234,
                    'width': 184},
           'eng': {'fields': [{'lsb': 8, 'name': 'eng', 'signed': False, 'width': 2}],
                   'kind': 'uint',
                   'lsb': 8,
                   'width': 2},
           'flag': {'fields': [{'lsb': 10, 'name': 'flag', 'signed': False, 'width': 1}],
                    'kind': 'uint',
                    'lsb': 10,
                    'width': 1},
           'imm0': {'fields': [{'lsb': 32, 'name': 'imm0', 'signed': False, 'width': 32}],
                    'kind': 'bits',
                    'lsb': 32,
                    'width': 32},
           'imm1': {'fields': [{'lsb': 64, 'name': 'imm1', 'signed': False, 'width': 32}],
                    'kind': 'bits',
                    'lsb': 64,
                    'width': 32},
           'sem': {'fields': [{'lsb': 16, 'name': 'sem', 'signed': False, 'width': 8}],
                   'kind': 'uint',
                   'lsb': 16,
                   'width': 8}},
 'spaces': {'psum': 1, 'sb': 0},
 'units': {'dma_bytes_per_cycle': 64,
           'pe_cols': 128,
           'pe_rows': 128,
           'psum_banks': 8,
           'psum_partition_bytes': 16384,
           'psum_partitions': 128,
           'sbuf_partition_bytes': 196608,
           'sbuf_partitions': 128,
           'semaphores': 32},
 'word_bits': 512}
