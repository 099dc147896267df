`timescale 1ns/1ps
// fp32_to_bf16: binary32 to bf16, round to nearest even; overflow rounds to infinity,
// subnormals round like normals (same exponent range), NaN gives 0x7FC0.
// Combinational, latency 0.
module fp32_to_bf16 (
    input  wire [31:0] x,
    output wire [15:0] y
);
    // The bf16 is the top half; a carry out of its fraction increments the exponent.
    wire round_up = x[15] & ((|x[14:0]) | x[16]);
    wire nan = x[30:0] > 31'h7F800000;
    assign y = nan ? 16'h7FC0 : x[31:16] + {15'd0, round_up};
endmodule
