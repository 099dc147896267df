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
    localparam LAT = R + C - 2;  // cycles from the stream port to the output port

    // Net arrays, not wide vectors, so event-driven simulators wake only a changed PE's
    // neighbours. Horizontal nets: PE(r, c) takes index r*(C+1)+c and drives r*(C+1)+c+1.
    // Partial sums of PE(r, c) at index r*C+c: registered (q) and next (d).
    // The right edge's x, PE(R-1, C-1)'s register and every psum_d but that PE's are unused.
    /* verilator lint_off UNUSEDSIGNAL */
    wire [15:0] xh  [0:R*(C+1)-1];
    wire        enh [0:R*(C+1)-1];
    wire        swh [0:R*(C+1)-1];
    wire [31:0] psq [0:R*C-1];
    wire [31:0] psd [0:R*C-1];
    /* verilator lint_on UNUSEDSIGNAL */

    genvar r, c, j;
    generate
        for (r = 0; r < R; r = r + 1) begin : g_row
            // Input skew: r stages of {swap, en, x} for row r; stage 0 is the stream port.
            wire [15:0] sx  [0:r];
            wire        sen [0:r];
            wire        ssw [0:r];
            assign sx[0] = in_x[16*r +: 16];
            assign sen[0] = in_valid && (r < in_k);
            assign ssw[0] = in_swap;
            for (j = 0; j < r; j = j + 1) begin : g_skew
                reg [15:0] x_q;
                reg        en_q, sw_q;
                always @(posedge clk) begin
                    x_q <= sx[j];
                    if (rst) begin
                        en_q <= 1'b0;
                        sw_q <= 1'b0;
                    end else begin
                        en_q <= sen[j];
                        sw_q <= ssw[j];
                    end
                end
                assign sx[j+1] = x_q;
                assign sen[j+1] = en_q;
                assign ssw[j+1] = sw_q;
            end
            assign xh[r*(C+1)] = sx[r];
            assign enh[r*(C+1)] = sen[r];
            assign swh[r*(C+1)] = ssw[r];

            wire row_we = w_valid && (w_row == r);
            for (c = 0; c < C; c = c + 1) begin : g_col
                wire [31:0] p_in;
                if (r == 0) begin : g_top
                    assign p_in = 32'd0;  // int 0 and +0.0
                end else begin : g_below
                    assign p_in = psq[(r-1)*C+c];
                end
                pe u_pe (
                    .clk(clk), .rst(rst),
                    .x_in(xh[r*(C+1)+c]), .en_in(enh[r*(C+1)+c]), .swap_in(swh[r*(C+1)+c]),
                    .psum_in(p_in),
                    .w_we(row_we), .w_bf16(w_bf16), .w_data(w_data[16*c +: 16]),
                    .x_out(xh[r*(C+1)+c+1]), .en_out(enh[r*(C+1)+c+1]),
                    .swap_out(swh[r*(C+1)+c+1]),
                    .psum_d(psd[r*C+c]), .psum_q(psq[r*C+c])
                );
            end
        end

        // Output de-skew: column c < C-1 takes row R-1's register plus C-2-c more stages.
        for (c = 0; c < C; c = c + 1) begin : g_deskew
            if (c == C - 1) begin : g_last
                assign out_psum[32*c +: 32] = psd[(R-1)*C+c];
            end else begin : g_delay
                wire [31:0] d [0:C-2-c];
                assign d[0] = psq[(R-1)*C+c];
                for (j = 0; j < C - 2 - c; j = j + 1) begin : g_stage
                    reg [31:0] q;
                    always @(posedge clk) q <= d[j];
                    assign d[j+1] = q;
                end
                assign out_psum[32*c +: 32] = d[C-2-c];
            end
        end

        // The tag travels LAT cycles beside the data.
        wire [TW-1:0] tag [0:LAT];
        wire          vld [0:LAT];
        assign tag[0] = in_tag;
        assign vld[0] = in_valid;
        for (j = 0; j < LAT; j = j + 1) begin : g_tag
            reg [TW-1:0] tag_q;
            reg          valid_q;
            always @(posedge clk) begin
                tag_q <= tag[j];
                valid_q <= !rst && vld[j];
            end
            assign tag[j+1] = tag_q;
            assign vld[j+1] = valid_q;
        end
        assign out_valid = vld[LAT];
        assign out_tag = tag[LAT];
    endgenerate
endmodule
