`timescale 1ns/1ps
// pe_array_bench: plain Verilog testbench (no cocotb) around sim/pe_array_tb.v for speed runs
// (benchmarks/bench_pe_rtl.py). It makes the clock and plays the program in the working
// folder +repeat=N times (+n_stream=, +n_weight=, +last_cycle= as pe_array_tb's ports): the
// first pass reads the program files and writes the dumps, the others replay it from memory.
module pe_array_bench;
    parameter R = 16;
    parameter C = 16;
    parameter AW = 8;
    parameter DW = 16;

    reg         clk;
    reg         start = 1'b0;
    reg         files = 1'b1;
    reg  [DW:0] n_stream, n_weight;
    reg  [31:0] last_cycle;
    wire        done;
    wire [DW:0] n_writes;
    integer     repeats, pass;

    pe_array_tb #(.R(R), .C(C), .AW(AW), .DW(DW)) u_tb (
        .clk(clk), .start(start), .files(files), .n_stream(n_stream), .n_weight(n_weight),
        .last_cycle(last_cycle), .done(done), .n_writes(n_writes)
    );

    always #5 clk = ~clk;

    initial begin
        clk = 1'b0;
        if (!$value$plusargs("n_stream=%d", n_stream)) n_stream = 0;
        if (!$value$plusargs("n_weight=%d", n_weight)) n_weight = 0;
        if (!$value$plusargs("last_cycle=%d", last_cycle)) last_cycle = 0;
        if (!$value$plusargs("repeat=%d", repeats)) repeats = 1;
        for (pass = 0; pass < repeats; pass = pass + 1) begin
            @(negedge clk);
            start = 1'b1;
            @(negedge clk);
            start = 1'b0;
            @(posedge done);
            files = 1'b0;
        end
        $display("pe_array_bench: %0d passes, %0d cycles, %0d PSUM writes in the last pass",
                 repeats, $time / 10, n_writes);
        $finish;
    end
endmodule
