`timescale 1ns/1ps
// act_lane: one lane of the ACT engine (rtl/act_engine.v): the element read from the lane's partition
// converted to binary32 (to_f32: fp32 with a NaN made canonical, bf16 exact, int8/int32 round to
// nearest even, as accel.model.vec.to_f32), the function unit rtl/act_func_core.v (EXT_IMAGE = 1: rows
// and header from the engine's shared image memory), and the result converted to the destination
// type (from_f32: fp32 as is, bf16 by the unit, int8/int32 round to nearest even with saturation and
// NaN -> 0). Latency 22 clocks from in_valid to out_valid, one element per clock, as act_func.
// out_int / out_int8 describe the element leaving the pipeline now (the engine carries them).
module act_lane #(
    parameter EXP_HEX = "lut_exp.hex"
) (
    input  wire          clk,
    input  wire [31:0]   rword,     // the 32-bit word read from the lane's partition
    input  wire [1:0]    rlo,       // byte lane of the element in that word
    input  wire [1:0]    src_dt,    // 0 fp32, 1 bf16, 2 int8, 3 int32
    input  wire          in_valid,
    input  wire [31:0]   scale,
    input  wire [31:0]   bias,
    input  wire [1:0]    mode,      // 0 function, 1 identity, 2 relu
    input  wire          bf16,      // the element's result is bf16
    input  wire          hdr_we,
    input  wire [511:0]  hdr,
    input  wire          d2_we,
    input  wire [127:0]  d2_words,
    output wire [13:0]   t2_desc,
    output wire [13:0]   row_addr,
    input  wire [287:0]  row,
    input  wire          out_int,   // the element leaving now has an integer type
    input  wire          out_int8,  // ... int8
    output wire          out_valid,
    output wire [31:0]   y          // the stored element (bf16 / int8 in the low bits)
);
    /*verilator no_inline_module*/
    wire [31:0] e = rword >> {rlo, 3'd0};
    wire [31:0] x_bf, x_int;
    bf16_to_fp32  u_bf  (.x(e[15:0]), .y(x_bf));
    int32_to_fp32 u_int (.i(src_dt == 2'd2 ? {{24{e[7]}}, e[7:0]} : e), .y(x_int));
    wire [31:0] x = src_dt == 2'd0 ? (e[30:0] > 31'h7F800000 ? 32'h7FC00000 : e) : src_dt == 2'd1 ? x_bf : x_int;

    wire [31:0] f;
    /* verilator lint_off UNUSEDSIGNAL */
    wire        bad_unused;
    /* verilator lint_on UNUSEDSIGNAL */
    act_func_core #(.EXT_IMAGE(1), .EXP_HEX(EXP_HEX)) u_func (
        .clk(clk), .we(1'b0), .waddr(14'd0), .wdata(32'd0), .hdr_we(hdr_we), .hdr(hdr), .d2_we(d2_we),
        .d2_words(d2_words), .t2_desc(t2_desc), .ext_raddr(row_addr), .ext_row(row), .mode(mode),
        .in_valid(in_valid), .x(x), .scale(scale), .bias(bias), .bf16(bf16), .out_valid(out_valid), .y(f),
        .bad_image(bad_unused));
    wire [31:0] f_int;
    fp32_to_int u_to_int (.x(f), .int8(out_int8), .y(f_int));
    assign y = out_int ? f_int : f;
endmodule
