`timescale 1ns/1ps
// array_output: the output side of a systolic array (rtl/pe_array.v, rtl/sparse_array.v).
// De-skew: column c < C-1 takes row R-1's register (row_q) plus C-2-c more stages; the last
// column's value (last_d) comes straight from PE(R-1, C-1)'s adder, unregistered. So every
// column of vector m is present in the same cycle, S + m + LAT. The tag and valid travel LAT
// register stages beside the data; rst clears the valids.
module array_output #(
    parameter C = 4,
    parameter TW = 1,
    parameter LAT = 6
) (
    /* verilator lint_off UNUSEDSIGNAL */  // a 1 x 1 array (LAT = 0) has no registers
    input  wire          clk,
    input  wire          rst,
    /* verilator lint_on UNUSEDSIGNAL */
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [C*32-1:0] row_q,  // row R-1's registers; the last column's is not used
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [31:0]   last_d,
    input  wire          in_valid,
    input  wire [TW-1:0] in_tag,
    output wire          out_valid,
    output wire [TW-1:0] out_tag,
    output wire [C*32-1:0] out_psum
);
    genvar c, j;
    generate
        for (c = 0; c < C; c = c + 1) begin : g_deskew
            if (c == C - 1) begin : g_last
                assign out_psum[32*c +: 32] = last_d;
            end else begin : g_delay
                wire [31:0] d [0:C-2-c];
                assign d[0] = row_q[32*c +: 32];
                for (j = 0; j < C - 2 - c; j = j + 1) begin : g_stage
                    reg [31:0] q;
                    always @(posedge clk) q <= d[j];
                    assign d[j+1] = q;
                end
                assign out_psum[32*c +: 32] = d[C-2-c];
            end
        end

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
