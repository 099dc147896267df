`timescale 1ns/1ps
// mismatch_check: the one-comparison-per-clock mismatch counter of the bench wrappers of sim/ (bench
// code; latency 1). When `check`, `got` is compared with `want` (with !==, so an x or z bit in `got`
// is a mismatch on an event simulator); the result number is `checked`. Counts and the first mismatch
// as in sim/mismatch_tally.v; `clear` (a run starts) zeroes the counts.
module mismatch_check #(
    parameter W = 32,
    parameter CW = 21
) (
    input  wire          clk,
    input  wire          clear,
    input  wire          check,
    input  wire [W-1:0]  got,
    input  wire [W-1:0]  want,
    output wire [CW-1:0] checked,
    output wire [31:0]   mismatches,
    output wire [31:0]   first_bad_index,
    output wire [W-1:0]  first_bad_got
);
    wire bad = check && (got !== want);
    mismatch_tally #(.W(W), .CW(CW)) u_tally (
        .clk(clk), .clear(clear), .n_check({{(CW - 1){1'b0}}, check}), .n_bad({31'd0, bad}),
        .bad_index({{(32 - CW){1'b0}}, checked}), .bad_got(got), .checked(checked),
        .mismatches(mismatches), .first_bad_index(first_bad_index), .first_bad_got(first_bad_got));
endmodule
