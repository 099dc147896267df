`timescale 1ns/1ps
// fp_norm: leading-zero count and normalizing left shift. Combinational, latency 0.
// For x != 0: y = x << lz with y[W-1] = 1. For x == 0: y = 0, lz = 2**LW - 1.
// Requires 2**(LW-1) < W <= 2**LW.
module fp_norm #(
    parameter W  = 64,
    parameter LW = 6
) (
    input  wire [W-1:0]  x,
    output reg  [W-1:0]  y,
    output reg  [LW-1:0] lz
);
    // Binary search: step k shifts by 2**k when that many leading bits are zero.
    integer k;
    always @* begin
        y = x;
        lz = {LW{1'b0}};
        for (k = LW - 1; k >= 0; k = k - 1) begin
            if ((y >> (W - (1 << k))) == {W{1'b0}}) begin
                y = y << (1 << k);
                lz[k] = 1'b1;
            end
        end
    end
endmodule
