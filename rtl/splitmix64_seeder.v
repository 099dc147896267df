`timescale 1ns/1ps
// splitmix64_seeder: the xoroshiro128aox seeding rule of `vec.rng_seed` in hardware. Lane L starts
// at (s0, s1) = outputs 2L and 2L+1 of SplitMix64 started at `seed` (accel.model.rng.lane_states):
//   x += 0x9E3779B97F4A7C15; z = x; z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9;
//   z = (z ^ z >> 27) * 0x94D049BB133111EB; out = z ^ z >> 31          (all mod 2**64)
//
// Datapath: a three-stage pipeline, one SplitMix64 output per clock: stage 1 adds the constant and
// multiplies by the first constant, stage 2 multiplies by the second, stage 3 (the output registers)
// does the last xor-shift into s0 (even outputs) or s1 (odd outputs). The two multipliers are
// 64 x 64 -> low 64 bits by constants, so synthesis reduces each to a shift-and-add tree.
//
// Timing and latency (no reset port: registers start idle through `initial`). `start` is sampled on a rising
// edge while !busy (seed is taken then, and output 0 enters the pipeline on that edge); busy is high
// from that edge until the edge that raises `done`. Lane L's `valid` clock follows edge 2L + 3
// (edge 0 samples start): lane = L, s0 and s1 hold the lane's state during that clock, and `valid`
// is low in between, so lanes come every 2 clocks. `done` is high for one clock after edge
// 2 * LANES + 2, the clock after the last lane's `valid`: latency 258 clocks for LANES = 128. `start` may be
// high in the `done` cycle. lane, s0 and s1 hold the last lane's values until the next start.
//
// LW defaults to $clog2(LANES) (1 for one lane) in the parameter list, which Icarus (-g2005 and
// -g2012) and the Verilator lint accept. An instance may also pass LW (at least $clog2(LANES)).
module splitmix64_seeder #(
    parameter LANES = 128,
    parameter LW = (LANES > 1) ? $clog2(LANES) : 1
) (
    input  wire          clk,
    input  wire          start,
    input  wire [63:0]   seed,
    output wire          busy,
    output reg           valid,
    output reg  [LW-1:0] lane,
    output reg  [63:0]   s0,
    output reg  [63:0]   s1,
    output reg           done
);
    localparam [63:0] GOLDEN = 64'h9E3779B97F4A7C15;
    localparam [63:0] C1 = 64'hBF58476D1CE4E5B9;
    localparam [63:0] C2 = 64'h94D049BB133111EB;
    localparam [31:0] LAST_OUT32 = 2 * LANES - 1;
    localparam [31:0] LAST_LANE32 = LANES - 1;
    localparam [LW:0] LAST_OUT = LAST_OUT32[LW:0];
    localparam [LW-1:0] LAST_LANE = LAST_LANE32[LW-1:0];

    reg          running;
    reg          issuing;   // outputs still to enter the pipeline
    reg  [LW:0]  issued;    // index of the output entering next
    reg  [63:0]  x;         // SplitMix64 state after the last output that entered
    reg          v1, v2;    // stage 1 and stage 2 hold an output
    reg  [63:0]  z1, z2;
    reg          odd;       // the next output leaving stage 2 is s1
    reg  [LW-1:0] next_lane;

    wire         go = start && !running;
    wire [63:0]  xi = (go ? seed : x) + GOLDEN;
    wire [63:0]  m1 = (xi ^ (xi >> 30)) * C1;
    wire [63:0]  m2 = (z1 ^ (z1 >> 27)) * C2;
    wire [63:0]  o = z2 ^ (z2 >> 31);

    assign busy = running;

    initial begin
        running = 1'b0;
        issuing = 1'b0;
        issued = {(LW + 1){1'b0}};
        x = 64'd0;
        v1 = 1'b0;
        v2 = 1'b0;
        z1 = 64'd0;
        z2 = 64'd0;
        odd = 1'b0;
        next_lane = {LW{1'b0}};
        valid = 1'b0;
        lane = {LW{1'b0}};
        s0 = 64'd0;
        s1 = 64'd0;
        done = 1'b0;
    end

    always @(posedge clk) begin
        // stage 1: the next output enters (the first one on the start edge)
        v1 <= go || issuing;
        if (go || issuing) begin
            x <= xi;
            z1 <= m1;
            issued <= go ? {{LW{1'b0}}, 1'b1} : issued + 1'b1;
            issuing <= go ? 1'b1 : issued != LAST_OUT;
        end
        // stage 2
        v2 <= v1;
        z2 <= m2;
        // stage 3: even outputs into s0, odd ones into s1 with `valid`
        valid <= v2 && odd;
        if (v2) begin
            odd <= !odd;
            if (odd) begin
                s1 <= o;
                lane <= next_lane;
                next_lane <= next_lane + 1'b1;
            end else begin
                s0 <= o;
            end
        end
        done <= valid && lane == LAST_LANE;
        if (go) begin
            running <= 1'b1;
            odd <= 1'b0;
            next_lane <= {LW{1'b0}};
        end else if (valid && lane == LAST_LANE) begin
            running <= 1'b0;
        end
    end
endmodule
