`timescale 1ns/1ps
// dropout_scale: the dropout scale s = the binary32 value nearest 1/(1-p) (ties to even) from the
// bits of a binary32 p in [0, 1], bit for bit as accel.model.rng.scale: p = 1 gives 0 (nothing
// survives), p = +0 and -0 give 1.0 (0x3F800000). The ISA rejects p outside [0, 1] at assembly;
// here such a p (sign set with a nonzero magnitude, magnitude above 1.0, infinities, NaN) gives
// the canonical NaN 0x7FC00000.
//
// Arithmetic. p's bits reach 2**-149, so P = p * 2**149 is an integer (P = m for a subnormal p,
// {1, m} << (e - 1) otherwise) and D = (1 - p) * 2**149 = 2**149 - P is exact in 150 bits. For p in
// [0, 1), 2**-24 <= 1 - p <= 1, so D's leading one is at bit 149 - s with s in 0..24. The divisor
// Dn = D << s lies in [2**149, 2**150), and 1/(1-p) = 2**s * 2**149 / Dn. A restoring division of
// R = 2**149 by Dn, two quotient bits per clock (two chained compare-subtract steps), gives 26
// quotient bits Q = floor(2**174 / Dn) in (2**24, 2**25]: Q[25:1] is the 24-bit significand (or
// 2**24 when Dn = 2**149, an exact power of two), Q[0] the guard bit, and
//   s_bits = ((126 + s) << 23) + Q[25:1] - 2**23 + Q[0],
// where the addition carries into the exponent when rounding (or Q = 2**25) reaches the next binade.
//
// No ties, so no sticky bit: 1/(1-p) = 2**149 / D with an integer D. That is a dyadic rational only
// when D's odd part is 1, i.e. D = 2**j, and then 1/(1-p) = 2**(149-j) is a power of two, exact
// in binary32. A tie would be a dyadic number with 25 significant bits, so it never occurs: the
// value is above the midpoint exactly when the guard bit is 1, and round-to-nearest-even is
// "add the guard bit".
//
// Timing (no reset port: registers start idle through `initial`). `start` is sampled on a rising
// edge while !busy (p is taken then); busy is high from that edge until the edge that raises
// `done`. Latency 15 clocks: edge 1 after start builds Dn and s, edges 2..14 make two quotient bits
// each, edge 15 rounds, raises `done` for one clock and loads `scale`, which holds until the next
// result. `start` may be high in the `done` cycle (busy is low then): back to back, one scale per
// 15 clocks.
module dropout_scale (
    input  wire        clk,
    input  wire        start,
    input  wire [31:0] p,
    output wire        busy,
    output reg         done,
    output reg  [31:0] scale
);
    localparam [31:0] ONE = 32'h3F800000;
    localparam [31:0] QNAN = 32'h7FC00000;
    localparam [149:0] TWO149 = {1'b1, 149'd0};

    reg         running;
    reg         norm;      // the cycle after start: build Dn and s from the held p
    reg  [3:0]  step;      // quotient bit pairs made so far, 0..13
    reg  [31:0] pr;        // p as sampled
    reg  [149:0] dn;       // normalized divisor, in [2**149, 2**150)
    reg  [150:0] r;        // partial remainder, below 2 * dn
    reg  [25:0]  q;        // quotient bits, most significant first
    reg  [4:0]   s;        // normalization shift of the held p (1/(1-p) lies in (2**(s-1), 2**s])

    // 1 - p as a 150-bit fixed-point number with 149 fraction bits
    wire [7:0]   e = pr[30:23];
    wire [23:0]  m = (e == 8'd0) ? {1'b0, pr[22:0]} : {1'b1, pr[22:0]};
    wire [6:0]   psh = (e == 8'd0) ? 7'd0 : e[6:0] - 7'd1;  // e <= 127 for p <= 1
    wire [149:0] pfix = {126'd0, m} << psh;
    wire [149:0] dfix = TWO149 - pfix;

    // leading-one position of dfix among bits 149..125 (the only ones possible for p in [0, 1))
    reg [4:0] lz;
    integer i;
    always @* begin
        lz = 5'd24;
        for (i = 0; i < 25; i = i + 1)
            if (dfix[125 + i]) lz = 5'd24 - i[4:0];
    end

    // two restoring steps: r < 2 * dn before each, so r - dn lies in (-dn, dn) and bit 150 is its sign
    wire [150:0] diff_a = r - {1'b0, dn};
    wire         bit_a = !diff_a[150];
    wire [150:0] r_a = {bit_a ? diff_a[149:0] : r[149:0], 1'b0};
    wire [150:0] diff_b = r_a - {1'b0, dn};
    wire         bit_b = !diff_b[150];
    wire [149:0] r_b = bit_b ? diff_b[149:0] : r_a[149:0];
    wire [7:0]   exp_lo = 8'd126 + {3'd0, s};
    wire [31:0]  rounded = {1'b0, exp_lo, 23'd0} + {7'd0, q[25:1]} - 32'h00800000 + {31'd0, q[0]};
    wire         mag_zero = pr[30:0] == 31'd0;
    wire         out_of_range = (pr[31] && !mag_zero) || pr[30:0] > ONE[30:0];

    assign busy = running;

    initial begin
        running = 1'b0;
        norm = 1'b0;
        step = 4'd0;
        pr = 32'd0;
        dn = TWO149;
        r = 151'd0;
        q = 26'd0;
        s = 5'd0;
        done = 1'b0;
        scale = 32'd0;
    end

    always @(posedge clk) begin
        done <= 1'b0;
        if (start && !running) begin
            pr <= p;
            running <= 1'b1;
            norm <= 1'b1;
        end else if (norm) begin
            norm <= 1'b0;
            dn <= dfix << lz;
            s <= lz;
            r <= {1'b0, TWO149};  // R = 2**149
            step <= 4'd0;
        end else if (running) begin
            if (step != 4'd13) begin
                q <= {q[23:0], bit_a, bit_b};
                r <= {r_b, 1'b0};
                step <= step + 4'd1;
            end else begin
                running <= 1'b0;
                done <= 1'b1;
                scale <= out_of_range ? QNAN : (pr[30:0] == ONE[30:0]) ? 32'd0 : rounded;
            end
        end
    end
endmodule
