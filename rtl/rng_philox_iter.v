`timescale 1ns/1ps
// rng_philox_iter: Philox4x32-10 iterated, one round per clock, so a single 32x32 -> 64-bit
// multiplier pair serves all ten rounds: the area-constrained alternative to rtl/rng_philox.v
// (same ports' meaning, same results: accel.model.rng.philox4x32).
// ctr = {c3, c2, c1, c0}, key = {k1, k0}, out = {x3, x2, x1, x0}.
//
// Latency 10 cycles: `start` while !busy loads ctr and key; ten rising edges later `valid` is high
// for one cycle and `out` holds the block until the next start. A new block may start on the
// cycle `valid` is high, so back-to-back blocks take 11 cycles: 4 words per 11 clocks.
module rng_philox_iter (
    input  wire         clk,
    input  wire         rst,
    input  wire         start,
    input  wire [127:0] ctr,
    input  wire [63:0]  key,
    output wire         busy,
    output reg          valid,
    output wire [127:0] out
);
    localparam [31:0] M0 = 32'hD2511F53;
    localparam [31:0] M1 = 32'hCD9E8D57;
    localparam [31:0] W0 = 32'h9E3779B9;
    localparam [31:0] W1 = 32'hBB67AE85;

    reg [127:0] c;
    reg [63:0]  k;
    reg [3:0]   round;
    reg         running;

    wire [63:0] p0 = M0 * c[31:0];   // c0
    wire [63:0] p1 = M1 * c[95:64];  // c2
    wire [127:0] next = {p0[31:0],                          // x3 = lo(M0 * c0)
                         p0[63:32] ^ c[127:96] ^ k[63:32],  // x2 = hi(M0 * c0) ^ c3 ^ k1
                         p1[31:0],                          // x1 = lo(M1 * c2)
                         p1[63:32] ^ c[63:32] ^ k[31:0]};   // x0 = hi(M1 * c2) ^ c1 ^ k0

    assign busy = running;
    assign out = c;

    always @(posedge clk) begin
        if (rst) begin
            running <= 1'b0;
            valid <= 1'b0;
            round <= 4'd0;
            c <= 128'd0;
            k <= 64'd0;
        end else begin
            valid <= 1'b0;
            if (start && !running) begin
                c <= ctr;
                k <= key;
                round <= 4'd0;
                running <= 1'b1;
            end else if (running) begin
                c <= next;
                k <= {k[63:32] + W1, k[31:0] + W0};  // the key schedule: bumped after every round
                round <= round + 4'd1;
                if (round == 4'd9) begin
                    running <= 1'b0;
                    valid <= 1'b1;
                end
            end
        end
    end
endmodule
