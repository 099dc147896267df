`timescale 1ns/1ps
// array_skew: the input skew of one row of a systolic array (rtl/pe_array.v, rtl/sparse_array.v):
// DEPTH register stages of {swap, en, x}, so row r's moving values, row enable and swap token
// enter the row DEPTH = r cycles after the stream port. rst clears en and swap (not x).
module array_skew #(
    parameter W = 16,
    parameter DEPTH = 0
) (
    /* verilator lint_off UNUSEDSIGNAL */  // row 0 (DEPTH = 0) has no registers
    input  wire         clk,
    input  wire         rst,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [W-1:0] x_in,
    input  wire         en_in,
    input  wire         swap_in,
    output wire [W-1:0] x_out,
    output wire         en_out,
    output wire         swap_out
);
    wire [W-1:0] sx  [0:DEPTH];
    wire         sen [0:DEPTH];
    wire         ssw [0:DEPTH];
    assign sx[0] = x_in;
    assign sen[0] = en_in;
    assign ssw[0] = swap_in;
    genvar j;
    generate
        for (j = 0; j < DEPTH; j = j + 1) begin : g_skew
            reg [W-1:0] x_q;
            reg         en_q, sw_q;
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
    endgenerate
    assign x_out = sx[DEPTH];
    assign en_out = sen[DEPTH];
    assign swap_out = ssw[DEPTH];
endmodule
