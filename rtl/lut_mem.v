`timescale 1ns/1ps
// lut_mem: a table-image memory of the function unit (rtl/act_func.v) with a row read port:
// `row` holds the ROW consecutive words starting at `raddr` one clock after raddr (a registered,
// synchronous read), word j in bits [32 j +: 32]; addresses wrap at 2**AW. Written one word per
// clock through we/waddr/wdata (act.lut.load's stream); ROM = 1 also loads the INIT_WORDS words of
// the file INIT into words 0..INIT_WORDS-1 at time 0 (a ROM image such as rtl/mem/lut_exp.hex; the
// words above stay as uninitialized as before, and naming the file's length exactly keeps
// $readmemh from warning that the file is shorter than the memory). `desc` is words 12..15, the first table's
// descriptor (constant for a ROM). In silicon the row read is 16 word-interleaved banks (bank =
// address mod 16, one read each) and a rotator; here it is a behavioural array. Gate counts
// (benchmarks/gates_lut.py) treat this module as memory and report its bits separately.
module lut_mem #(
    parameter AW = 14,   // 2**AW words
    parameter ROW = 9,   // words per row read (the unit's maximum degree + 1)
    parameter ROM = 0,   // 1: initialize from INIT
    parameter INIT = "lut_exp.hex",
    parameter INIT_WORDS = 1 << AW  // words in INIT (at most 2**AW)
) (
    input  wire              clk,
    input  wire              we,
    input  wire [AW-1:0]     waddr,
    input  wire [31:0]       wdata,
    input  wire [AW-1:0]     raddr,
    output reg  [ROW*32-1:0] row,
    output wire [127:0]      desc
);
    reg [31:0] mem [0:(1 << AW) - 1];
    generate
        if (ROM != 0) begin : g_init
            initial $readmemh(INIT, mem, 0, INIT_WORDS - 1);
        end
    endgenerate

    integer j;
    always @(posedge clk) begin
        if (we) mem[waddr] <= wdata;
        for (j = 0; j < ROW; j = j + 1) row[32 * j +: 32] <= mem[raddr + j[AW-1:0]];
    end
    assign desc = {mem[15], mem[14], mem[13], mem[12]};
endmodule
