`timescale 1ns/1ps
// rng_philox: Philox4x32-10 (Salmon et al., SC'11; Random123, cuRAND PHILOX4_32_10), unrolled into
// a ten-stage pipeline: one round (two 32x32 -> 64-bit multipliers) per stage, one block (four
// 32-bit words) per clock. Mirrors accel.model.rng.philox4x32:
// ctr = {c3, c2, c1, c0}, key = {k1, k0}, out = {x3, x2, x1, x0}.
//
// Latency 10 cycles: a block given with in_valid on one rising edge leaves with out_valid ten
// rising edges later; a new block may enter on every clock. The counter-based use (docs/vec.md):
// ctr = {offset, element index >> 2}, key = seed.
module rng_philox (
    input  wire         clk,
    input  wire         rst,
    input  wire         in_valid,
    input  wire [127:0] ctr,
    input  wire [63:0]  key,
    output wire         out_valid,
    output wire [127:0] out
);
    localparam [31:0] M0 = 32'hD2511F53;
    localparam [31:0] M1 = 32'hCD9E8D57;
    localparam [31:0] W0 = 32'h9E3779B9;
    localparam [31:0] W1 = 32'hBB67AE85;

    // stage r holds the block after r rounds and the key for round r (r = 0 is the input)
    wire [127:0] c [0:10];
    wire [63:0]  k [0:10];
    wire         v [0:10];
    assign c[0] = ctr;
    assign k[0] = key;
    assign v[0] = in_valid;

    genvar r;
    generate
        for (r = 0; r < 10; r = r + 1) begin : g_round
            wire [63:0] p0 = M0 * c[r][31:0];   // c0
            wire [63:0] p1 = M1 * c[r][95:64];  // c2
            reg [127:0] c_q;
            reg [63:0]  k_q;
            reg         v_q;
            always @(posedge clk) begin
                if (rst) begin
                    v_q <= 1'b0;
                end else begin
                    v_q <= v[r];
                end
                c_q <= {p0[31:0],                              // x3 = lo(M0 * c0)
                        p0[63:32] ^ c[r][127:96] ^ k[r][63:32], // x2 = hi(M0 * c0) ^ c3 ^ k1
                        p1[31:0],                              // x1 = lo(M1 * c2)
                        p1[63:32] ^ c[r][63:32] ^ k[r][31:0]};  // x0 = hi(M1 * c2) ^ c1 ^ k0
                k_q <= {k[r][63:32] + W1, k[r][31:0] + W0};     // the key schedule
            end
            assign c[r + 1] = c_q;
            assign k[r + 1] = k_q;
            assign v[r + 1] = v_q;
        end
    endgenerate

    assign out_valid = v[10];
    assign out = c[10];
endmodule
