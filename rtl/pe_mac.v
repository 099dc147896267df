`timescale 1ns/1ps
// pe_mac: the multiply-accumulate of one PE (rtl/pe.v, dense or sparse), combinational:
//   en = 0 (row bypassed): psum_d = psum_in
//   int8:                  psum_d = psum_in + w * x            (w, x in the low bytes; wrapping int32)
//   bf16:                  psum_d = fp32_add(psum_in, bf16_mul(w, x))
// The bf16 path's operands are held at zero in int8 mode (operand isolation).
module pe_mac (
    input  wire [15:0] w,
    input  wire [15:0] x,
    input  wire        bf16,
    input  wire        en,
    input  wire [31:0] psum_in,
    output wire [31:0] psum_d
);
    wire signed [15:0] prod_i = $signed(w[7:0]) * $signed(x[7:0]);
    wire [31:0]        sum_i = psum_in + {{16{prod_i[15]}}, prod_i};

    wire [15:0] w_f = bf16 ? w : 16'd0;
    wire [15:0] x_f = bf16 ? x : 16'd0;
    wire [31:0] p_f = bf16 ? psum_in : 32'd0;
    wire [31:0] prod_f, sum_f;
    bf16_mul u_mul (.a(w_f), .b(x_f), .y(prod_f));
    fp32_add u_add (.a(p_f), .b(prod_f), .sub(1'b0), .y(sum_f));

    assign psum_d = !en ? psum_in : (bf16 ? sum_f : sum_i);
endmodule
