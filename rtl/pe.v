`timescale 1ns/1ps
// pe: one processing element of the weight-stationary arrays (docs/pe_array.md), dense or N:M sparse
// (docs/sparse.md).
//
// Holds an active and a shadow weight (16 bits each, with a dtype bit: int8 in the low byte, or
// bf16) and, in a sparse array (M > 1), a position index beside each. Every cycle it takes the
// moving input x_in (M values of 16 bits: lane i = position i of the PE's group; M = 1 in the dense
// array) with its row-enable en_in and the swap token swap_in from the left and the partial sum
// psum_in from above, and registers x/en/swap to the right and the new partial sum
// psum_d = rtl/pe_mac.v(w, x[index]) downwards. While swap_in is high the PE already computes with
// the shadow weight (and index), and copies it into the active one at the end of the cycle. A high
// w_we writes the shadow weight (and index) at the end of the cycle. psum_d is also an output: the
// array's last column uses it unregistered.
module pe #(
    parameter M = 1,   // moving values per PE: 1 (dense), or M of an N:M sparse array
    parameter IW = 1   // index bits: ceil(log2 M) (unused when M = 1)
) (
    input  wire            clk,
    input  wire            rst,
    input  wire [M*16-1:0] x_in,
    input  wire            en_in,
    input  wire            swap_in,
    input  wire [31:0]     psum_in,
    input  wire            w_we,
    input  wire            w_bf16,
    input  wire [15:0]     w_data,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [IW-1:0]   w_index,  // ignored when M = 1
    /* verilator lint_on UNUSEDSIGNAL */
    output reg  [M*16-1:0] x_out,
    output reg             en_out,
    output reg             swap_out,
    output wire [31:0]     psum_d,
    output reg  [31:0]     psum_q
);
    /* verilator no_inline_module */  // one C++ class for every PE: fast Verilator builds
    reg [15:0]   w_active, w_shadow;
    reg          bf16_active, bf16_shadow;
    wire [15:0]  w = swap_in ? w_shadow : w_active;
    wire         bf16 = swap_in ? bf16_shadow : bf16_active;
    wire [15:0]  x;

    generate
        if (M > 1) begin : g_sparse
            // The index beside the weight, double-buffered alike, and the M:1 multiplexer: lane idx
            // of the group's M moving values.
            reg  [IW-1:0] i_active, i_shadow;
            wire [IW-1:0] idx = swap_in ? i_shadow : i_active;
            /* verilator lint_off UNUSEDSIGNAL */
            wire [M*16-1:0] shifted = x_in >> {idx, 4'b0000};
            /* verilator lint_on UNUSEDSIGNAL */
            assign x = shifted[15:0];
            always @(posedge clk) begin
                if (swap_in) i_active <= i_shadow;
                if (w_we) i_shadow <= w_index;
            end
        end else begin : g_dense
            assign x = x_in[15:0];
        end
    endgenerate

    pe_mac u_mac (.w(w), .x(x), .bf16(bf16), .en(en_in), .psum_in(psum_in), .psum_d(psum_d));

    always @(posedge clk) begin
        x_out  <= x_in;
        psum_q <= psum_d;
        if (rst) begin
            en_out   <= 1'b0;
            swap_out <= 1'b0;
        end else begin
            en_out   <= en_in;
            swap_out <= swap_in;
        end
        if (swap_in) begin
            w_active    <= w_shadow;
            bf16_active <= bf16_shadow;
        end
        if (w_we) begin
            w_shadow    <= w_data;
            bf16_shadow <= w_bf16;
        end
    end
endmodule
