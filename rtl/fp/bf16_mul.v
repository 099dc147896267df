`timescale 1ns/1ps
// bf16_mul: product of two bf16 values in binary32. The 8 x 8-bit significand product is
// exact in binary32 unless it leaves binary32's range, where it is rounded to nearest even
// (to a subnormal, zero or infinity). Canonical NaN. Combinational, latency 0.
module bf16_mul (
    input  wire [15:0] a,
    input  wire [15:0] b,
    output wire [31:0] y
);
    wire [7:0]  ma = {a[14:7] != 8'd0, a[6:0]};
    wire [7:0]  mb = {b[14:7] != 8'd0, b[6:0]};
    wire [7:0]  fa = (a[14:7] == 8'd0) ? 8'd1 : a[14:7];
    wire [7:0]  fb = (b[14:7] == 8'd0) ? 8'd1 : b[14:7];
    wire        sign = a[15] ^ b[15];

    // 16-bit exact product, placed at the top of a 32-bit word for the rounder.
    wire [15:0] p = ma * mb;
    // LSB exponent: (fa - 134) + (fb - 134) - 16.
    wire [11:0] e = {4'd0, fa} + {4'd0, fb} - 12'd284;

    wire [31:0] finite;
    fp32_round #(.W(32), .LW(5), .EW(12)) u_round (
        .sign(sign), .m({p, 16'd0}), .e(e), .sticky(1'b0), .y(finite)
    );

    wire a_inf = a[14:0] == 15'h7F80;
    wire b_inf = b[14:0] == 15'h7F80;
    wire zero = (a[14:0] == 15'd0) | (b[14:0] == 15'd0);
    wire nan = (a[14:0] > 15'h7F80) | (b[14:0] > 15'h7F80) | ((a_inf | b_inf) & zero);
    assign y = nan ? 32'h7FC00000 : ((a_inf | b_inf) ? {sign, 31'h7F800000} : finite);
endmodule
