`timescale 1ns/1ps
// sparse_pe: one processing element of the N:M sparse systolic array (docs/sparse.md).
//
// Like rtl/pe.v, plus a position index beside each weight and an M:1 multiplexer: the moving
// input x_in carries the M values (16 bits each, lane i = position i) of the PE's group, and the
// PE multiplies its weight with lane `index`. Active and shadow weight and index are double
// buffered; the swap token, the row enable and the moving values pass right, the partial sum down:
//   en = 0 (row bypassed): psum_d = psum_in
//   int8:                  psum_d = psum_in + w * x[index]            (wrapping int32)
//   bf16:                  psum_d = fp32_add(psum_in, bf16_mul(w, x[index]))
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

    wire signed [15:0] prod_i = $signed(w[7:0]) * $signed(x[7:0]);
    wire [31:0]        sum_i = psum_in + {{16{prod_i[15]}}, prod_i};

    wire [15:0] w_f = bf16 ? w : 16'd0;
    wire [15:0] x_f = bf16 ? x : 16'd0;
    wire [31:0] p_f = bf16 ? psum_in : 32'd0;
    wire [31:0] prod_f, sum_f;
    bf16_mul u_mul (.a(w_f), .b(x_f), .y(prod_f));
    fp32_add u_add (.a(p_f), .b(prod_f), .sub(1'b0), .y(sum_f));

    assign psum_d = !en_in ? psum_in : (bf16 ? sum_f : sum_i);

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
