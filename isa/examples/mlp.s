; Two-layer MLP in bf16:  y = (relu(x @ w1 + b1)) @ w2 + b2
; x is [B, D] in DRAM; it is loaded transposed so the contraction dim D lies on partitions.
; Layer 1 leaves h^T [H partitions, B] in PSUM; ACT adds the per-partition bias, applies relu
; and writes bf16 to SBUF, which is directly the moving data of layer 2.

.const B = 32            ; batch
.const D = 128           ; input features (PE rows used by layer 1)
.const H = 64            ; hidden units
.const O = 10            ; outputs

.tensor x  bf16[B, D] in
.tensor w1 bf16[D, H] in
.tensor b1 fp32[H, 1] in
.tensor w2 bf16[H, O] in
.tensor b2 fp32[O, 1] in
.tensor y  fp32[B, O] out

; SBUF byte offsets (per partition)
.const XT = 0            ; x^T   bf16 [D, B]
.const W1 = XT + 2*B     ; w1    bf16 [D, H]
.const W2 = W1 + 2*H     ; w2    bf16 [H, O]
.const HT = W2 + 2*O     ; h^T   bf16 [H, B]
.const B1 = 512          ; b1    fp32 [H, 1]
.const B2 = B1 + 4       ; b2    fp32 [O, 1]
.const YT = B2 + 4       ; y^T   fp32 [O, B]
.const BANK1 = 2048      ; PSUM bank 1

; --- DMA: bring everything in, then tell the PE
    dma.load  sb[0:D, XT]:bf16[B], x(0)[D@1, B@D]      ; transposing load: x[b, d] -> partition d
    dma.load  sb[0:D, W1]:bf16[H], w1
    dma.load  sb[0:H, W2]:bf16[O], w2
    dma.load  sb[0:H, B1]:fp32[1], b1
    dma.load  sb[0:O, B2]:fp32[1], b2
    sem.signal dma, s0

; --- layer 1: h^T = relu(w1^T x^T + b1)
    sem.wait  pe, s0
    pe.load_weights sb[0:D, W1]:bf16[H]
    pe.matmul psum[0:H, 0]:fp32[B], sb[0:D, XT]:bf16[B]
    sem.signal pe, s1
    sem.wait  act, s1
    act.relu  sb[0:H, HT]:bf16[B], psum[0:H, 0]:fp32[B], bias=sb[0:H, B1]:fp32[1]
    sem.signal act, s2

; --- layer 2: y^T = w2^T h^T + b2
    sem.wait  pe, s2
    pe.load_weights sb[0:H, W2]:bf16[O]
    pe.matmul psum[0:O, BANK1]:fp32[B], sb[0:H, HT]:bf16[B]
    sem.signal pe, s3
    sem.wait  act, s3
    act.identity sb[0:O, YT]:fp32[B], psum[0:O, BANK1]:fp32[B], bias=sb[0:O, B2]:fp32[1]
    sem.signal act, s4

; --- DMA out, transposing back to y[b, o]
    sem.wait  dma, s4
    dma.store y(0)[O@1, B@O], sb[0:O, YT]:fp32[B]
    halt
