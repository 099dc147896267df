`timescale 1ns/1ps
// rng_xoroshiro: one lane's xoroshiro128aox (Hanlon and Felix, IEEE TC 2023; the Graphcore IPU's
// generator): 128 bits of state, XORs, shifts and rotates, and the AND-OR-XOR output scrambler.
// Mirrors accel.model.rng.xoroshiro_step. One 64-bit output per clock.
//
// `out` is the output of the current state (combinational, latency 0); each rising edge with
// `step` high advances the state. `load` (priority over step) writes state_in = {s1, s0}; `state`
// reads it back ({s1, s0}) for vec.rng_save_state.
module rng_xoroshiro (
    input  wire         clk,
    input  wire         load,
    input  wire [127:0] state_in,
    input  wire         step,
    output wire [63:0]  out,
    output wire [127:0] state
);
    reg [63:0] s0, s1;

    wire [63:0] sx = s0 ^ s1;
    wire [63:0] sa = s0 & s1;
    assign out = sx ^ ({sa[62:0], sa[63]} | {sa[61:0], sa[63:62]});  // sx ^ (rotl(sa, 1) | rotl(sa, 2))
    assign state = {s1, s0};

    initial begin
        s0 = 64'd1;
        s1 = 64'd0;
    end

    always @(posedge clk) begin
        if (load) begin
            s0 <= state_in[63:0];
            s1 <= state_in[127:64];
        end else if (step) begin
            s0 <= {s0[8:0], s0[63:9]} ^ sx ^ {sx[49:0], 14'd0};  // rotl(s0, 55) ^ sx ^ (sx << 14)
            s1 <= {sx[27:0], sx[63:28]};                         // rotl(sx, 36)
        end
    end
endmodule
