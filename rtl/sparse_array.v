`timescale 1ns/1ps
// sparse_array: R x C N:M sparse weight-stationary systolic array (docs/sparse.md), timed exactly
// as rtl/pe_array.v (docs/pe_array.md) with K = the physical rows used. It is also the dense array:
// rtl/pe_array.v is this module with N = M = 1 (one PE loop, one skew, one output stage for both).
//
// Physical row r holds slot r % N of group r / N (R must be a multiple of N). The stream port
// takes the M moving values of every group (in_x lane g*M + i = contraction row g*M + i of the
// pass); row r receives its group's M lanes through the input skew and each PE (rtl/pe.v with M
// lanes) multiplexes the lane its index names. The weight port writes a row's weights and C
// indices (IW bits each; ignored when M = 1).
//
// Stream port (one moving vector per cycle; the cycle it is presented is S + m):
//   in_valid, in_x (R/N*M lanes of 16 bits: int8 in the low byte, or bf16), in_k (physical
//   rows used: rows >= in_k are bypassed), in_swap (first vector of a matmul that swaps in the
//   shadow weights and indices) and in_tag (TW bits carried alongside, e.g. the PSUM address).
//   Row r's M lanes are delayed r cycles (input skew) so they enter row r at S + m + r; the row
//   enable and the swap token travel with them, so PE(r, n) computes and swaps at S + m + r + n.
// Weight port: w_valid writes w_data (C lanes of 16 bits), w_index (C lanes of IW bits) and the
//   dtype w_bf16 into the shadow registers of row w_row at the end of the cycle.
// Output port: column n's partial sum leaves row R-1 at the end of cycle S + m + n + R - 1
//   and is delayed C - 1 - n more cycles (output de-skew), so out_valid, out_tag and
//   out_psum (C lanes of 32 bits) of vector m are all present during cycle S + m + R + C - 2;
//   a PSUM stage (rtl/psum_acc.v) writes them at the end of that cycle. The last column's
//   value comes straight from PE(R-1, C-1)'s adder, unregistered.
// rst clears the control bits (row enables, swap tokens, valids); data registers are not reset.
module sparse_array #(
    parameter R = 4,
    parameter C = 4,
    parameter N = 2,
    parameter M = 4,
    parameter IW = 2,
    parameter TW = 1
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    in_valid,
    input  wire                    in_swap,
    input  wire [$clog2(R+1)-1:0]  in_k,
    input  wire [R/N*M*16-1:0]     in_x,
    input  wire [TW-1:0]           in_tag,
    input  wire                    w_valid,
    input  wire [$clog2(R+1)-1:0]  w_row,
    input  wire                    w_bf16,
    input  wire [C*16-1:0]         w_data,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [C*IW-1:0]         w_index,  // ignored when M = 1
    /* verilator lint_on UNUSEDSIGNAL */
    output wire                    out_valid,
    output wire [TW-1:0]           out_tag,
    output wire [C*32-1:0]         out_psum
);
    localparam LAT = R + C - 2;  // cycles from the stream port to the output port

    // Net arrays, not wide vectors, so event-driven simulators wake only a changed PE's
    // neighbours. Horizontal nets: PE(r, c) takes index r*(C+1)+c and drives r*(C+1)+c+1.
    // Partial sums of PE(r, c) at index r*C+c: registered (q) and next (d).
    // The right edge's x, PE(R-1, C-1)'s register and every psum_d but that PE's are unused.
    /* verilator lint_off UNUSEDSIGNAL */
    wire [M*16-1:0] xh [0:R*(C+1)-1];
    wire        enh [0:R*(C+1)-1];
    wire        swh [0:R*(C+1)-1];
    wire [31:0] psq [0:R*C-1];
    wire [31:0] psd [0:R*C-1];
    /* verilator lint_on UNUSEDSIGNAL */

    wire [C*32-1:0] last_row;  // row R-1's registers
    genvar r, c;
    generate
        for (r = 0; r < R; r = r + 1) begin : g_row
            // Input skew: r register stages of {swap, en, x} for row r.
            array_skew #(.W(M*16), .DEPTH(r)) u_skew (
                .clk(clk), .rst(rst), .x_in(in_x[M*16*(r/N) +: M*16]), .en_in(in_valid && (r < in_k)), .swap_in(in_swap),
                .x_out(xh[r*(C+1)]), .en_out(enh[r*(C+1)]), .swap_out(swh[r*(C+1)]));

            wire row_we = w_valid && (w_row == r);
            for (c = 0; c < C; c = c + 1) begin : g_col
                wire [31:0] p_in;
                if (r == 0) begin : g_top
                    assign p_in = 32'd0;  // int 0 and +0.0
                end else begin : g_below
                    assign p_in = psq[(r-1)*C+c];
                end
                pe #(.M(M), .IW(IW)) u_pe (
                    .clk(clk), .rst(rst),
                    .x_in(xh[r*(C+1)+c]), .en_in(enh[r*(C+1)+c]), .swap_in(swh[r*(C+1)+c]),
                    .psum_in(p_in),
                    .w_we(row_we), .w_bf16(w_bf16), .w_data(w_data[16*c +: 16]),
                    .w_index(w_index[IW*c +: IW]),
                    .x_out(xh[r*(C+1)+c+1]), .en_out(enh[r*(C+1)+c+1]),
                    .swap_out(swh[r*(C+1)+c+1]),
                    .psum_d(psd[r*C+c]), .psum_q(psq[r*C+c])
                );
            end
        end
        for (c = 0; c < C; c = c + 1) begin : g_last_row
            assign last_row[32*c +: 32] = psq[(R-1)*C+c];
        end
    endgenerate

    // Output de-skew, and the tag beside the data (LAT stages).
    array_output #(.C(C), .TW(TW), .LAT(LAT)) u_out (
        .clk(clk), .rst(rst), .row_q(last_row), .last_d(psd[(R-1)*C+C-1]), .in_valid(in_valid), .in_tag(in_tag),
        .out_valid(out_valid), .out_tag(out_tag), .out_psum(out_psum));
endmodule
