`timescale 1ns/1ps
// dropout_threshold: t = round(p * 2**32), ties to even, for the magnitude bits of a binary32
// p in [0, 1] (the sign is not an input: -0 gives 0). Combinational, latency 0.
// p = 1.f * 2**(e-127) gives p * 2**32 = {1, f} * 2**(e-118): a left shift by e - 118
// (at most 9 for p <= 1), or a right shift with round to nearest even below that.
module dropout_threshold (
    input  wire [30:0] p,
    output wire [32:0] t
);
    wire [7:0]  e = p[30:23];
    wire [23:0] m = (e == 8'd0) ? {1'b0, p[22:0]} : {1'b1, p[22:0]};
    wire [7:0]  e_eff = (e == 8'd0) ? 8'd1 : e;
    // left: e_eff >= 118; right: shift by 118 - e_eff, capped at 63 so the significand's top bit
    // stays in the sticky field
    wire        left = e_eff >= 8'd118;
    wire [3:0]  lsh = left ? e_eff[3:0] - 4'd6 : 4'd0;  // e_eff - 118, in 0..9 (118 = 0x76)
    wire [32:0] t_left = {9'd0, m} << lsh;
    wire [7:0]  rsh = left ? 8'd0 : 8'd118 - e_eff;
    wire [6:0]  rs = (rsh > 8'd63) ? 7'd63 : rsh[6:0];
    wire [63:0] wide = {m, 40'd0} >> rs;         // integer part in [63:40], fraction below
    wire [23:0] q = wide[63:40];
    wire        half = wide[39];
    wire        sticky = |wide[38:0];
    wire [32:0] t_right = {9'd0, q} + {32'd0, half & (sticky | q[0])};
    assign t = left ? t_left : t_right;
endmodule
