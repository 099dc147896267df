`timescale 1ns/1ps
// fp32_mul: binary32 a * b, round to nearest even, subnormals kept, canonical NaN.
// Combinational, latency 0. The 48-bit product of the significands is exact; fp32_round
// rounds it once.
module fp32_mul (
    input  wire [31:0] a,
    input  wire [31:0] b,
    output wire [31:0] y
);
    wire [23:0] ma = {a[30:23] != 8'd0, a[22:0]};
    wire [23:0] mb = {b[30:23] != 8'd0, b[22:0]};
    wire [7:0]  fa = (a[30:23] == 8'd0) ? 8'd1 : a[30:23];
    wire [7:0]  fb = (b[30:23] == 8'd0) ? 8'd1 : b[30:23];
    wire        sign = a[31] ^ b[31];

    wire [47:0] m = ma * mb;
    // LSB exponent of the product: (fa - 150) + (fb - 150).
    wire [11:0] e = {4'd0, fa} + {4'd0, fb} - 12'd300;

    wire [31:0] finite;
    fp32_round #(.W(48), .LW(6), .EW(12)) u_round (
        .sign(sign), .m(m), .e(e), .sticky(1'b0), .y(finite)
    );

    wire a_inf = a[30:0] == 31'h7F800000;
    wire b_inf = b[30:0] == 31'h7F800000;
    wire zero = (a[30:0] == 31'd0) | (b[30:0] == 31'd0);
    wire nan = (a[30:0] > 31'h7F800000) | (b[30:0] > 31'h7F800000) | ((a_inf | b_inf) & zero);
    assign y = nan ? 32'h7FC00000 : ((a_inf | b_inf) ? {sign, 31'h7F800000} : finite);
endmodule
