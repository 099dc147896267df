`timescale 1ns/1ps
// lut_index: the index rule of a function-approximation table (docs/act.md,
// accel.model.lut.index), shared by rtl/lut_unit.v and rtl/act_func.v. From the bits of the
// binary32 argument z and the table's descriptor it gives the word offset of z's coefficient
// row from the table's first coefficient, and the segment's base point:
//   E < emin: the tiny segment 0 of z's side, base +-0;
//   else segment 1 + (E - emin) * 2**mbits + (F >> (23 - mbits)), base = z with its low
//   23 - mbits fraction bits replaced by 100..0 (the segment's middle).
// Rows are degree + 1 words, side 0's segments first. Combinational, latency 0.
module lut_index #(
    parameter AW = 14  // width of the row offset
) (
    input  wire [31:0]   z,
    input  wire [7:0]    emin,
    input  wire [7:0]    emax,
    input  wire [3:0]    mbits,   // 0..8
    input  wire [3:0]    degree,  // 0..15
    output wire [AW-1:0] row,     // (side * segments + segment) * (degree + 1)
    output wire [31:0]   base,
    output wire          tiny
);
    wire        side = z[31];
    wire [7:0]  e = z[30:23];
    wire [4:0]  low = 5'd23 - {1'b0, mbits};
    wire [22:0] low_mask = (23'd1 << low) - 23'd1;
    wire [22:0] half = 23'd1 << (low - 5'd1);
    wire [7:0]  top = z[22:15] >> (4'd8 - mbits);  // the top mbits (<= 8) fraction bits
    wire [8:0]  binade = {1'b0, e} - {1'b0, emin};
    wire [AW-1:0] nseg = {{(AW - 9){1'b0}}, ({1'b0, emax} - {1'b0, emin} + 9'd1)} << mbits;
    wire [AW-1:0] seg = tiny ? {AW{1'b0}}
                             : ({{(AW - 9){1'b0}}, binade} << mbits) + {{(AW - 8){1'b0}}, top}
                               + {{(AW - 1){1'b0}}, 1'b1};
    wire [AW-1:0] stride = {{(AW - 4){1'b0}}, degree} + {{(AW - 1){1'b0}}, 1'b1};
    wire [AW-1:0] side_off = side ? (nseg + {{(AW - 1){1'b0}}, 1'b1}) : {AW{1'b0}};

    assign tiny = e < emin;
    assign base = tiny ? {z[31], 31'd0} : {z[31:23], (z[22:0] & ~low_mask) | half};
    assign row = (side_off + seg) * stride;
endmodule
