`timescale 1ns/1ps
// rng_tb: bench wrapper for rtl/rng_philox.v, rtl/rng_philox_iter.v, rtl/rng_xoroshiro.v and
// rtl/simd_lane.v (not synthesizable: it loads vector files). On `start` it reads rng_exp.hex
// (expected words from accel.model.rng / accel.model.fp) and, in lane mode, rng_stim.hex and
// rng_op.hex, from the simulator's working folder, runs `count` checks without Python in the loop, and counts
// mismatches (sim/mismatch_check.v); Python waits for `done`.
//
// mode 0 Philox: block i has ctr = {offset, base + i}, key; expected {x3, x2, x1, x0}. One
//        block enters the pipelined core per clock.
// mode 3 iterated Philox (rtl/rng_philox_iter.v): as mode 0, one block at a time.
// mode 1 xoroshiro: the lane loads state_in = {s1, s0} at start and steps once per clock;
//        expected output i in the low 64 bits. xo_state reads the state back at the end.
// mode 2 lane: stimulus {scale, word, b, a} and {y_type, b_type, a_type, op} (9 bits) per vector;
//        expected {keep (dropout only), y} in bits 32:0.
module rng_tb #(
    parameter DEPTH_LOG2 = 20
) (
    input  wire                  clk,
    input  wire                  rst,
    input  wire                  start,
    input  wire [1:0]            mode,
    input  wire [DEPTH_LOG2:0]   count,
    input  wire [63:0]           key,
    input  wire [63:0]           offset,
    input  wire [63:0]           base,
    input  wire [127:0]          state_in,
    output reg                   done,
    output wire [DEPTH_LOG2:0]   checked,
    output wire [31:0]           mismatches,
    output wire [31:0]           first_bad_index,
    output wire [127:0]          first_bad_got,
    output wire [127:0]          xo_state
);
    reg [127:0] mem_exp  [0:(1 << DEPTH_LOG2) - 1];
    reg [127:0] mem_stim [0:(1 << DEPTH_LOG2) - 1];
    reg [8:0]   mem_op   [0:(1 << DEPTH_LOG2) - 1];  // {y_type, b_type, a_type, op}

    reg                  running;
    reg [DEPTH_LOG2-1:0] index;
    wire [127:0] want = mem_exp[index];
    wire [127:0] stim = mem_stim[index];
    wire [8:0]   opw  = mem_op[index];
    wire         last = checked + 1'b1 == count;

    // Philox: block `issued` enters the pipeline each clock; results leave ten clocks later, in order
    reg  [DEPTH_LOG2:0] issued;
    wire         ph_in = running && mode == 2'd0 && issued != count;
    wire [63:0]  ph_index = base + {{(63 - DEPTH_LOG2){1'b0}}, issued};
    wire         ph_valid;
    wire [127:0] ph_out;
    rng_philox u_philox (.clk(clk), .rst(rst), .in_valid(ph_in), .ctr({offset, ph_index}), .key(key),
                         .out_valid(ph_valid), .out(ph_out));

    // iterated Philox (mode 3): the next block starts once the previous one has been checked
    wire         it_go = running && mode == 2'd3 && issued == checked && issued != count;
    /* verilator lint_off UNUSEDSIGNAL */
    wire         it_busy;  // issued == checked already says the core is idle
    /* verilator lint_on UNUSEDSIGNAL */
    wire         it_valid;
    wire [127:0] it_out;
    rng_philox_iter u_philox_iter (.clk(clk), .rst(rst), .start(it_go), .ctr({offset, ph_index}), .key(key),
                                   .busy(it_busy), .valid(it_valid), .out(it_out));

    // xoroshiro128aox
    wire [63:0] xo_out;
    rng_xoroshiro u_xoro (.clk(clk), .load(start && mode == 2'd1), .state_in(state_in),
                          .step(running && mode == 2'd1), .out(xo_out), .state(xo_state));

    // lane
    wire [31:0] lane_y;
    wire        lane_keep;
    simd_lane u_lane (.op(opw[2:0]), .a_type(opw[4:3]), .b_type(opw[6:5]), .y_type(opw[8:7]),
                      .a(stim[31:0]), .b(stim[63:32]), .word(stim[95:64]),
                      .scale(stim[127:96]), .y(lane_y), .keep(lane_keep));

    wire         check = running && (mode == 2'd0 ? ph_valid : mode == 2'd3 ? it_valid : 1'b1);
    wire [127:0] got = mode == 2'd0 ? ph_out : mode == 2'd3 ? it_out : mode == 2'd1 ? {64'd0, xo_out} : {95'd0, lane_keep && opw[2:0] == 3'd5, lane_y};
    mismatch_check #(.W(128), .CW(DEPTH_LOG2 + 1)) u_check (
        .clk(clk), .clear(start), .check(check), .got(got), .want(want), .checked(checked),
        .mismatches(mismatches), .first_bad_index(first_bad_index), .first_bad_got(first_bad_got));

    initial begin
        running = 1'b0;
        issued = {(DEPTH_LOG2 + 1){1'b0}};
        done = 1'b0;
        index = {DEPTH_LOG2{1'b0}};
    end

    always @(posedge clk) begin
        if (ph_in || it_go) issued <= issued + 1'b1;
        if (start) begin
            $readmemh("rng_exp.hex", mem_exp, 0, count - 1);
            if (mode == 2'd2) begin
                $readmemh("rng_stim.hex", mem_stim, 0, count - 1);
                $readmemh("rng_op.hex", mem_op, 0, count - 1);
            end
            running <= count != 0;
            issued <= {(DEPTH_LOG2 + 1){1'b0}};
            done <= count == 0;
            index <= {DEPTH_LOG2{1'b0}};
        end else if (check) begin
            index <= index + 1'b1;
            if (last) begin
                running <= 1'b0;
                done <= 1'b1;
            end
        end
    end
endmodule
