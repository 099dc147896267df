`timescale 1ns/1ps
// pe: one processing element of the weight-stationary array (docs/pe_array.md).
//
// Holds an active and a shadow weight (16 bits each, with a dtype bit: int8 in the low byte,
// or bf16). Every cycle it takes the moving value x_in (with its row-enable en_in and the
// swap token swap_in) from the left and the partial sum psum_in from above, and registers
// x/en/swap to the right and the new partial sum downwards:
//   en = 0 (row bypassed): psum_d = psum_in
//   int8:                  psum_d = psum_in + w * x            (wrapping int32)
//   bf16:                  psum_d = fp32_add(psum_in, bf16_mul(w, x))
// While swap_in is high the PE already computes with the shadow weight, and copies it into
// the active one at the end of the cycle. A high w_we writes the shadow weight at the end
// of the cycle. psum_d is also an output: the array's last column uses it unregistered.
module pe (
    input  wire        clk,
    input  wire        rst,
    input  wire [15:0] x_in,
    input  wire        en_in,
    input  wire        swap_in,
    input  wire [31:0] psum_in,
    input  wire        w_we,
    input  wire        w_bf16,
    input  wire [15:0] w_data,
    output reg  [15:0] x_out,
    output reg         en_out,
    output reg         swap_out,
    output wire [31:0] psum_d,
    output reg  [31:0] psum_q
);
    /* verilator no_inline_module */  // one C++ class for every PE: fast Verilator builds
    reg [15:0] w_active, w_shadow;
    reg        bf16_active, bf16_shadow;

    wire [15:0] w = swap_in ? w_shadow : w_active;
    wire        bf16 = swap_in ? bf16_shadow : bf16_active;

    // int8 path.
    wire signed [15:0] prod_i = $signed(w[7:0]) * $signed(x_in[7:0]);
    wire [31:0]        sum_i = psum_in + {{16{prod_i[15]}}, prod_i};

    // bf16 path; its operands are held at zero in int8 mode (operand isolation).
    wire [15:0] w_f = bf16 ? w : 16'd0;
    wire [15:0] x_f = bf16 ? x_in : 16'd0;
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
            bf16_active <= bf16_shadow;
        end
        if (w_we) begin
            w_shadow    <= w_data;
            bf16_shadow <= w_bf16;
        end
    end
endmodule
