`timescale 1ns/1ps
// psum_acc: the PSUM write/accumulate stage behind rtl/pe_array.v, with a small PSUM memory
// of 2**AW entries, each C lanes of 32 bits (lane n = PSUM partition n).
//
// When in_valid is high, lanes n < in_n of entry in_addr get, at the end of the cycle,
//   in_acc = 0: in_psum                                  (write)
//   in_acc = 1: old + in_psum, wrapping int32 add, or fp32_add when in_bf16 (accumulate)
// and lanes n >= in_n keep their value. wr_data shows the whole entry being written (for
// monitors). rd_addr/rd_data is a combinational read port. The memory starts at zero.
module psum_acc #(
    parameter C = 4,
    parameter AW = 4
) (
    input  wire                   clk,
    input  wire                   in_valid,
    input  wire                   in_acc,
    input  wire                   in_bf16,
    input  wire [$clog2(C+1)-1:0] in_n,
    input  wire [AW-1:0]          in_addr,
    input  wire [C*32-1:0]        in_psum,
    output wire [C*32-1:0]        wr_data,
    input  wire [AW-1:0]          rd_addr,
    output wire [C*32-1:0]        rd_data
);
    reg [C*32-1:0] mem [0:(1 << AW) - 1];
    integer i;
    initial for (i = 0; i < (1 << AW); i = i + 1) mem[i] = {C*32{1'b0}};

    wire [C*32-1:0] old = mem[in_addr];
    wire            fadd = in_valid && in_acc && in_bf16;  // operand isolation of the adders
    genvar n;
    generate
        for (n = 0; n < C; n = n + 1) begin : g_lane
            wire [31:0] a = old[32*n +: 32];
            wire [31:0] b = in_psum[32*n +: 32];
            wire [31:0] sum_f;
            fp32_add u_add (.a(fadd ? a : 32'd0), .b(fadd ? b : 32'd0), .sub(1'b0), .y(sum_f));
            wire [31:0] acc = in_bf16 ? sum_f : a + b;
            assign wr_data[32*n +: 32] = (n < in_n) ? (in_acc ? acc : b) : a;
        end
    endgenerate

    always @(posedge clk) if (in_valid) mem[in_addr] <= wr_data;
    assign rd_data = mem[rd_addr];
endmodule
