`timescale 1ns/1ps
// int32_to_fp32: two's complement int32 to binary32, round to nearest even (exact below
// 2**24; int8 inputs sign-extended are always exact). Combinational, latency 0.
module int32_to_fp32 (
    input  wire [31:0] i,
    output wire [31:0] y
);
    wire [31:0] magnitude = i[31] ? (~i + 32'd1) : i;  // 2**31 for -2**31 (unsigned)
    fp32_round #(.W(32), .LW(5), .EW(12)) u_round (
        .sign(i[31]), .m(magnitude), .e(12'd0), .sticky(1'b0), .y(y)
    );
endmodule
