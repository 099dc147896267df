`timescale 1ns/1ps
// pe_array: R x C weight-stationary systolic array, timed exactly as docs/pe_array.md says.
//
// Stream port (one moving vector per cycle; the cycle it is presented is S + m):
//   in_valid, in_x (R lanes of 16 bits: int8 in the low byte, or bf16), in_k (rows used:
//   rows >= in_k are bypassed), in_swap (first vector of a matmul that swaps in the shadow
//   weights) and in_tag (TW bits carried alongside, e.g. the PSUM address).
//   Lane k is delayed k cycles (input skew) so it enters row k at S + m + k; the row enable
//   and the swap token travel with it, so PE(k, n) computes x[k, m] and swaps at S + m + k + n.
// Weight port: w_valid writes w_data (C lanes of 16 bits) and the dtype w_bf16 into the
//   shadow weights of row w_row at the end of the cycle (one row per cycle, broadcast).
// Output port: column n's partial sum leaves row R-1 at the end of cycle S + m + n + R - 1
//   and is delayed C - 1 - n more cycles (output de-skew), so out_valid, out_tag and
//   out_psum (C lanes of 32 bits) of vector m are all present during cycle S + m + R + C - 2;
//   a PSUM stage (rtl/psum_acc.v) writes them at the end of that cycle. The last column's
//   value comes straight from PE(R-1, C-1)'s adder, unregistered.
// rst clears the control bits (row enables, swap tokens, valids); data registers are not reset.
// The array is rtl/sparse_array.v with N = M = 1 (1:1 sparsity: every PE takes its row's one value).
module pe_array #(
    parameter R = 4,
    parameter C = 4,
    parameter TW = 1
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    in_valid,
    input  wire                    in_swap,
    input  wire [$clog2(R+1)-1:0]  in_k,
    input  wire [R*16-1:0]         in_x,
    input  wire [TW-1:0]           in_tag,
    input  wire                    w_valid,
    input  wire [$clog2(R+1)-1:0]  w_row,
    input  wire                    w_bf16,
    input  wire [C*16-1:0]         w_data,
    output wire                    out_valid,
    output wire [TW-1:0]           out_tag,
    output wire [C*32-1:0]         out_psum
);
    sparse_array #(.R(R), .C(C), .N(1), .M(1), .IW(1), .TW(TW)) u_array (
        .clk(clk), .rst(rst), .in_valid(in_valid), .in_swap(in_swap), .in_k(in_k), .in_x(in_x), .in_tag(in_tag),
        .w_valid(w_valid), .w_row(w_row), .w_bf16(w_bf16), .w_data(w_data), .w_index({C{1'b0}}),
        .out_valid(out_valid), .out_tag(out_tag), .out_psum(out_psum));
endmodule
