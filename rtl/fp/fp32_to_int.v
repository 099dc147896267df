`timescale 1ns/1ps
// fp32_to_int: binary32 to integer, round to nearest even, saturating; NaN gives 0.
// int8 = 0: int32 result in [-2**31, 2**31 - 1]. int8 = 1: int8 result in [-128, 127],
// returned sign-extended to 32 bits. Combinational, latency 0.
module fp32_to_int (
    input  wire [31:0] x,
    input  wire        int8,
    output wire [31:0] y
);
    wire [7:0]  f = (x[30:23] == 8'd0) ? 8'd1 : x[30:23];
    wire [23:0] m = {x[30:23] != 8'd0, x[22:0]};  // value = m * 2**(f - 150)

    // f >= 158: |x| >= 2**31 (and infinities): saturate. 150 <= f < 158: exact left shift.
    wire        huge = f >= 8'd158;
    wire [2:0]  left = f[2:0] - 3'd6;  // f - 150 for 150 <= f < 158
    wire [30:0] shifted = {7'd0, m} << left;

    // f < 150: shift right by 150 - f (at most 25 matters: m < 2**24), round to even.
    wire [7:0]  r_full = 8'd150 - f;
    wire [4:0]  r = (f >= 8'd150) ? 5'd0 : ((r_full > 8'd25) ? 5'd25 : r_full[4:0]);
    wire [23:0] kept = m >> r;
    wire [23:0] dropped = m & ~({24{1'b1}} << r);
    // weight of the first dropped bit (0 when nothing is dropped)
    wire [24:0] half = (r == 5'd0) ? 25'd0 : (25'd1 << (r - 5'd1));
    wire        round_up = ({1'b0, dropped} > half) |
                           (({1'b0, dropped} == half) & (r != 5'd0) & kept[0]);
    wire [24:0] rounded = {1'b0, kept} + {24'd0, round_up};

    wire [31:0] magnitude = (f >= 8'd150) ? {1'b0, shifted} : {7'd0, rounded};

    // Saturation: int32 limits 2**31 - 1 and -2**31, int8 limits 127 and -128.
    wire neg = x[31];
    wire [31:0] limit = int8 ? (neg ? 32'd128 : 32'd127) : (neg ? 32'h80000000 : 32'h7FFFFFFF);
    wire [31:0] clamped = (huge | (magnitude > limit)) ? limit : magnitude;
    wire [31:0] signed_value = neg ? (~clamped + 32'd1) : clamped;
    wire nan = x[30:0] > 31'h7F800000;
    assign y = nan ? 32'd0 : signed_value;
endmodule
