`timescale 1ns/1ps
// fp32_cmp: IEEE comparisons of binary32 a and b: lt (a < b), le (a <= b), eq (a == b).
// All three are false when either operand is NaN; -0 == +0. Combinational, latency 0.
module fp32_cmp (
    input  wire [31:0] a,
    input  wire [31:0] b,
    output wire        lt,
    output wire        le,
    output wire        eq
);
    wire nan = (a[30:0] > 31'h7F800000) | (b[30:0] > 31'h7F800000);
    wire both_zero = (a[30:0] == 31'd0) & (b[30:0] == 31'd0);
    wire same = (a == b) | both_zero;
    wire below = (a[31] != b[31]) ? a[31] :
                 (a[31] ? (a[30:0] > b[30:0]) : (a[30:0] < b[30:0]));
    assign eq = ~nan & same;
    assign lt = ~nan & ~same & below;
    assign le = lt | eq;
endmodule
