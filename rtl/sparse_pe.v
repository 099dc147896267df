`timescale 1ns/1ps
// sparse_pe: one processing element of the N:M sparse systolic array (docs/sparse.md).
//
// Like rtl/pe.v, plus a position index beside each weight and an M:1 multiplexer: the moving
// input x_in carries the M values (16 bits each, lane i = position i) of the PE's group, and the
// PE multiplies its weight with lane `index`. Active and shadow weight and index are double
// buffered; the swap token, the row enable and the moving values pass right, the partial sum
// psum_d = rtl/pe_mac.v(w, x[index]) down.
module sparse_pe #(
    parameter M = 4,
    parameter IW = 2  // index bits: ceil(log2 M)
) (
    input  wire          clk,
    input  wire          rst,
    input  wire [M*16-1:0] x_in,
    input  wire          en_in,
    input  wire          swap_in,
    input  wire [31:0]   psum_in,
    input  wire          w_we,
    input  wire          w_bf16,
    input  wire [15:0]   w_data,
    input  wire [IW-1:0] w_index,
    output reg  [M*16-1:0] x_out,
    output reg           en_out,
    output reg           swap_out,
    output wire [31:0]   psum_d,
    output reg  [31:0]   psum_q
);
    /* verilator no_inline_module */
    reg [15:0]   w_active, w_shadow;
    reg [IW-1:0] i_active, i_shadow;
    reg          bf16_active, bf16_shadow;

    wire [15:0]   w = swap_in ? w_shadow : w_active;
    wire [IW-1:0] idx = swap_in ? i_shadow : i_active;
    wire          bf16 = swap_in ? bf16_shadow : bf16_active;

    // The multiplexer: lane idx of the group's M moving values.
    /* verilator lint_off UNUSEDSIGNAL */
    wire [M*16-1:0] shifted = x_in >> {idx, 4'b0000};
    /* verilator lint_on UNUSEDSIGNAL */
    wire [15:0] x = shifted[15:0];

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
            i_active    <= i_shadow;
            bf16_active <= bf16_shadow;
        end
        if (w_we) begin
            w_shadow    <= w_data;
            i_shadow    <= w_index;
            bf16_shadow <= w_bf16;
        end
    end
endmodule
