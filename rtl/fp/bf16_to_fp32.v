`timescale 1ns/1ps
// bf16_to_fp32: exact widening of bf16 to binary32 (bf16 is binary32's top half); a NaN gives
// the canonical NaN 0x7FC00000. Combinational, latency 0.
module bf16_to_fp32 (
    input  wire [15:0] x,
    output wire [31:0] y
);
    wire nan = x[14:0] > 15'h7F80;
    assign y = nan ? 32'h7FC00000 : {x, 16'd0};
endmodule
