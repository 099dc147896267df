`timescale 1ns/1ps
// mismatch_tally: the mismatch counter the bench wrappers of sim/ share (bench code; latency 1: the
// counts include a clock's results one clock later). On each clock, `n_check` results were checked,
// `n_bad` of them mismatched, and the first of those was result number `bad_index`, where the DUT gave
// `bad_got`. It keeps `checked`, `mismatches` and, of the first mismatch of the run, `first_bad_index`
// and `first_bad_got`. `clear` (a run starts) zeroes the counts and wins over a check in the same
// clock. sim/mismatch_check.v is the one-comparison-per-clock form most wrappers use.
module mismatch_tally #(
    parameter W = 32,   // bits of a result
    parameter CW = 21   // bits of the `checked` count (at most 31)
) (
    input  wire          clk,
    input  wire          clear,
    input  wire [CW-1:0] n_check,
    input  wire [31:0]   n_bad,
    input  wire [31:0]   bad_index,
    input  wire [W-1:0]  bad_got,
    output reg  [CW-1:0] checked,
    output reg  [31:0]   mismatches,
    output reg  [31:0]   first_bad_index,
    output reg  [W-1:0]  first_bad_got
);
    initial begin
        checked = {CW{1'b0}};
        mismatches = 32'd0;
        first_bad_index = 32'd0;
        first_bad_got = {W{1'b0}};
    end

    always @(posedge clk) begin
        if (clear) begin
            checked <= {CW{1'b0}};
            mismatches <= 32'd0;
        end else begin
            if (n_bad != 32'd0 && mismatches == 32'd0) begin
                first_bad_index <= bad_index;
                first_bad_got <= bad_got;
            end
            mismatches <= mismatches + n_bad;
            checked <= checked + n_check;
        end
    end
endmodule
