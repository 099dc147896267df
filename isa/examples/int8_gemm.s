; int8 GEMM with K larger than the array: C^T[N, M] = sum over two K tiles of W[k, n] * A^T[k, m],
; accumulated in PSUM (acc=1), then a per-row maximum on the vector engine and an int32 -> fp32
; cast. Shows K tiling, PSUM accumulation, tensor-scalar ops, reduce and semaphores between
; three engines.

.const K = 256           ; contraction, two tiles of 128 rows
.const T = 128           ; PE rows per tile
.const N = 96            ; outputs (PE columns)
.const M = 64            ; moving vectors

.tensor a    int8[M, K]  in     ; activations, row-major [m, k]
.tensor w    int8[K, N]  in     ; weights
.tensor c    int32[N, M] out    ; C^T
.tensor cmax fp32[N, 1]  out    ; max over m of C^T[n, m] * 0.5

.const AT0 = 0           ; A^T tile 0: int8 [T, M]
.const AT1 = AT0 + M     ; A^T tile 1
.const W0 = AT1 + M      ; W tile 0: int8 [T, N]
.const W1 = W0 + N       ; W tile 1
.const CS = 1024         ; C^T in SBUF: int32 [N, M]
.const CF = CS + 4*M     ; C^T as fp32, scaled
.const MX = CF + 4*M     ; row maxima: fp32 [N, 1]

    dma.load sb[0:T, AT0]:int8[M], a(0)[T@1, M@K]       ; transposing loads of both K tiles
    dma.load sb[0:T, AT1]:int8[M], a(T)[T@1, M@K]
    dma.load sb[0:T, W0]:int8[N], w[0:T, 0:N]
    dma.load sb[0:T, W1]:int8[N], w[T:K, 0:N]
    sem.signal dma, s0

    sem.wait pe, s0
    pe.load_weights sb[0:T, W0]:int8[N]
    pe.matmul psum[0:N, 0]:int32[M], sb[0:T, AT0]:int8[M], acc=0
    pe.load_weights sb[0:T, W1]:int8[N]
    pe.matmul psum[0:N, 0]:int32[M], sb[0:T, AT1]:int8[M], acc=1
    sem.signal pe, s1

    sem.wait vec, s1
    vec.copy sb[0:N, CS]:int32[M], psum[0:N, 0]:int32[M]
    vec.muls sb[0:N, CF]:fp32[M], psum[0:N, 0]:int32[M], 0.5
    vec.reduce_max sb[0:N, MX]:fp32[1], sb[0:N, CF]:fp32[M]
    sem.signal vec, s2

    sem.wait dma, s2
    dma.store c, sb[0:N, CS]:int32[M]
    dma.store cmax, sb[0:N, MX]:fp32[1]
    halt
