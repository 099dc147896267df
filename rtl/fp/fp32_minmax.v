`timescale 1ns/1ps
// fp32_minmax: IEEE 754-2019 minimum (is_max = 0) or maximum (is_max = 1) of binary32 a, b.
// A NaN operand gives the canonical NaN 0x7FC00000; -0 is treated as less than +0.
// Combinational, latency 0.
module fp32_minmax (
    input  wire [31:0] a,
    input  wire [31:0] b,
    input  wire        is_max,
    output wire [31:0] y
);
    // a < b in the order that puts -0 below +0 (sign first, then magnitude).
    wire a_below = (a[31] != b[31]) ? a[31] :
                   (a[31] ? (a[30:0] > b[30:0]) : (a[30:0] < b[30:0]));
    wire nan = (a[30:0] > 31'h7F800000) | (b[30:0] > 31'h7F800000);
    // On equal operands (identical bits) either choice is the same value.
    wire [31:0] lo = a_below ? a : b;
    wire [31:0] hi = a_below ? b : a;
    assign y = nan ? 32'h7FC00000 : (is_max ? hi : lo);
endmodule
