`timescale 1ns/1ps
// fp32_add: binary32 a + b (sub = 0) or a - b (sub = 1), round to nearest even, subnormals
// kept, every NaN result the canonical 0x7FC00000. Combinational, latency 0.
// Mirrors accel.model.fp.add: order by magnitude, align the smaller significand with a sticky
// bit, add or subtract exactly, round once (fp32_round).
module fp32_add (
    input  wire [31:0] a,
    input  wire [31:0] b,
    input  wire        sub,
    output wire [31:0] y
);
    wire [31:0] bb = {b[31] ^ sub, b[30:0]};

    // x is the operand of larger magnitude.
    wire        swap = bb[30:0] > a[30:0];
    wire [31:0] x = swap ? bb : a;
    wire [31:0] z = swap ? a : bb;

    // Significands with the implicit bit, and exponent fields (subnormals count as 1).
    wire [7:0]  fx = (x[30:23] == 8'd0) ? 8'd1 : x[30:23];
    wire [7:0]  fz = (z[30:23] == 8'd0) ? 8'd1 : z[30:23];
    wire [23:0] mx = {x[30:23] != 8'd0, x[22:0]};
    wire [23:0] mz = {z[30:23] != 8'd0, z[22:0]};

    // Both at 36 bits above the LSB of a 64-bit frame; z shifted right by the exponent
    // difference, the bits shifted out kept as sticky.
    wire [7:0]  diff = fx - fz;
    wire [5:0]  d = (diff > 8'd63) ? 6'd63 : diff[5:0];
    wire [63:0] wx = {4'd0, mx, 36'd0};
    wire [63:0] wz = {4'd0, mz, 36'd0};
    wire [63:0] wz_aligned = wz >> d;
    wire        sticky = |(wz & ~({64{1'b1}} << d));

    // Subtracting z = aligned + s (0 < s < 1) is subtracting aligned + 1 and adding 1 - s.
    wire        same = x[31] == z[31];
    wire [63:0] m = same ? wx + wz_aligned : wx - wz_aligned - {63'd0, sticky};

    // An exact zero sum is +0, unless both addends are negative (-0 + -0).
    wire        exact_zero = (m == 64'd0) & ~sticky;
    wire        sign = exact_zero ? (x[31] & z[31]) : x[31];
    // LSB exponent of the frame: fx - 150 - 36, as a 12-bit two's complement number.
    wire [11:0] e = {4'd0, fx} - 12'd186;

    wire [31:0] finite;
    fp32_round #(.W(64), .LW(6), .EW(12)) u_round (
        .sign(sign), .m(m), .e(e), .sticky(sticky), .y(finite)
    );

    // Specials: NaN in, or inf - inf, gives the canonical NaN; otherwise inf wins.
    wire x_inf = x[30:0] == 31'h7F800000;
    wire z_inf = z[30:0] == 31'h7F800000;
    wire nan = (x[30:0] > 31'h7F800000) | (z[30:0] > 31'h7F800000) | (x_inf & z_inf & ~same);
    assign y = nan ? 32'h7FC00000 : (x_inf ? {x[31], 31'h7F800000} : finite);
endmodule
