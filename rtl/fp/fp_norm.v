`timescale 1ns/1ps
// fp_norm: leading-zero count and normalizing left shift. Combinational, latency 0.
// For x != 0: y = x << lz with y[W-1] = 1. For x == 0: y = 0, lz = 2**LW - 1.
// Requires 2**(LW-1) < W <= 2**LW.
module fp_norm #(
    parameter W  = 64,
    parameter LW = 6
) (
    input  wire [W-1:0]  x,
    output wire [W-1:0]  y,
    output wire [LW-1:0] lz
);
    wire [W-1:0] stage [0:LW];
    assign stage[0] = x;

    // Stage k shifts by 2**(LW-1-k) when that many leading bits are zero (binary search).
    genvar k;
    generate
        for (k = 0; k < LW; k = k + 1) begin : g_stage
            localparam integer S = 1 << (LW - 1 - k);
            wire top_zero = ~|stage[k][W-1:W-S];
            assign lz[LW-1-k] = top_zero;
            assign stage[k+1] = top_zero ? {stage[k][W-S-1:0], {S{1'b0}}} : stage[k];
        end
    endgenerate

    assign y = stage[LW];
endmodule
