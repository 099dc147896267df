`timescale 1ns/1ps
// fp32_round: rounds (-1)**sign * (m + s) * 2**e to binary32, nearest even, where 0 <= s < 1
// and s != 0 exactly when `sticky` (callers set it only when m has 26 or more significant
// bits). Subnormal results are kept, overflow gives infinity, m == 0 gives a signed zero.
// Combinational, latency 0. Shared by fp32_add, fp32_mul, fp32_fma, bf16_mul, int32_to_fp32.
module fp32_round #(
    parameter W  = 64,  // width of m, at least 26
    parameter LW = 6,   // 2**(LW-1) < W <= 2**LW
    parameter EW = 12   // width of the signed exponent e
) (
    input  wire          sign,
    input  wire [W-1:0]  m,
    input  wire [EW-1:0] e,       // two's complement exponent of m's least significant bit
    input  wire          sticky,
    output wire [31:0]   y
);
    localparam [EW-1:0] TOP = W + 126;  // (W - 1) + bias 127
    localparam [EW-1:0] ONE = 1;
    localparam [EW-1:0] WIDTH = W;

    // Normalize: the leading one moves to bit W-1.
    wire [W-1:0]  n;
    wire [LW-1:0] lz;
    fp_norm #(.W(W), .LW(LW)) u_norm (.x(m), .y(n), .lz(lz));

    // Biased exponent of the leading one; at most 0 means the result is subnormal.
    wire [EW-1:0] biased = e + TOP - {{(EW - LW){1'b0}}, lz};
    wire          normal = ~biased[EW-1] & (biased != {EW{1'b0}});

    // Subnormal: shift right by 1 - biased so that the last kept bit weighs 2**-149.
    wire [EW-1:0] under = ONE - biased;
    wire [EW-1:0] dn = normal ? {EW{1'b0}} : (under > WIDTH ? WIDTH : under);
    wire [W-1:0]  d = n >> dn;
    wire          lost = |(n & ~({W{1'b1}} << dn));

    // 24 kept bits, guard bit, and everything below it ORed into the sticky bit.
    wire [23:0] sig = d[W-1:W-24];
    wire        guard = d[W-25];
    wire        rest = (|d[W-26:0]) | lost | sticky;
    wire        round_up = guard & (rest | sig[0]);

    // (exponent - 1) << 23 plus the significand with its leading one: a carry out of the
    // significand increments the exponent, which is the renormalized result.
    wire [EW-1:0] ebias = normal ? biased : ONE;
    wire [EW+22:0] word = {ebias - ONE, 23'd0} + {{(EW - 1){1'b0}}, sig} +
                            {{(EW + 22){1'b0}}, round_up};
    wire overflow = word >= {{(EW - 9){1'b0}}, 32'h7F800000};

    assign y = {sign, (m == {W{1'b0}}) ? 31'd0 : (overflow ? 31'h7F800000 : word[30:0])};
endmodule
