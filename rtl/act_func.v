`timescale 1ns/1ps
// act_func: the ACT engine's per-lane function unit on its own image RAM (docs/act.md): y =
// f(x * scale + bias), bit for bit accel.model.lut.apply(f, add(mul(x, scale), bias)) converted to fp32
// or bf16, f the table image written word by word through we/waddr/wdata (as act.lut.load streams it).
// It is rtl/act_func_core.v (the pipeline and its description) with EXT_IMAGE = 0 and the ports the
// ACT engine drives (parallel header loads, external image rows, the identity/relu modes) tied off.
// Pipeline: one element per clock, latency 22 clocks from in_valid to out_valid, no stalls.
module act_func #(
    parameter WORDS_LOG2 = 14,             // image RAM: 2**WORDS_LOG2 words
    parameter EXP_WORDS_LOG2 = 9,          // exp ROM: 2**EXP_WORDS_LOG2 words
    parameter EXP_WORDS = 376,             // words in EXP_HEX (the length of rtl/mem/lut_exp.hex's image)
    parameter EXP_HEX = "lut_exp.hex"      // the exp ROM image
) (
    input  wire                  clk,
    input  wire                  we,       // image write (act.lut.load)
    input  wire [WORDS_LOG2-1:0] waddr,
    input  wire [31:0]           wdata,
    input  wire                  in_valid,
    input  wire [31:0]           x,        // binary32 (to_f32 of the source element)
    input  wire [31:0]           scale,
    input  wire [31:0]           bias,
    input  wire                  bf16,     // result type: 0 fp32, 1 bf16 (in y[15:0])
    output wire                  out_valid,
    output wire [31:0]           y,
    output wire                  bad_image
);
    /* verilator lint_off UNUSEDSIGNAL */
    wire [WORDS_LOG2-1:0] t2_desc_unused, ext_raddr_unused;  // the engine's ports of the unit
    /* verilator lint_on UNUSEDSIGNAL */
    act_func_core #(.EXT_IMAGE(0), .WORDS_LOG2(WORDS_LOG2), .EXP_WORDS_LOG2(EXP_WORDS_LOG2), .EXP_WORDS(EXP_WORDS),
                    .EXP_HEX(EXP_HEX)) u_core (
        .clk(clk), .we(we), .waddr(waddr), .wdata(wdata), .hdr_we(1'b0), .hdr({16{32'd0}}), .d2_we(1'b0),
        .d2_words(128'd0), .t2_desc(t2_desc_unused), .ext_raddr(ext_raddr_unused), .ext_row({9{32'd0}}),
        .mode(2'd0), .in_valid(in_valid), .x(x), .scale(scale), .bias(bias), .bf16(bf16), .out_valid(out_valid),
        .y(y), .bad_image(bad_image));
endmodule
