`timescale 1ns/1ps
// ap_step: one step of an on-chip access pattern's walk, combinational: the byte address of the current
// element and the walk state of the next one, in the model's row-major order
// (accel.isa.operands.AP.element_offsets). `dims` = {na, sa, nb, sb, nc, sc}: the pattern's dims
// normalized to three, outermost first (a missing dim is (1, 0)), element strides sign-extended to 20 bits
// (two's complement mod 2**20); `state` = {ka, kb, kc, oa, ob, oc}: the three indices and running element
// offsets. rtl/pe_engine.v and rtl/dma_engine.v chain it (several elements in one cycle); rtl/vec_ap_walk.v
// keeps the same walk in registers, one element a clock.
module ap_step (
    /* verilator lint_off UNUSEDSIGNAL */  // the outermost count (a walk ends before it wraps)
    input  wire [107:0] dims,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [107:0] state,
    input  wire [19:0]  base,
    input  wire [1:0]   shift,   // log2 of the element size
    output wire [19:0]  addr,    // base + (oa + ob + oc) << shift
    output reg  [107:0] next
);
    wire [15:0] nb = dims[71:56];
    wire [15:0] nc = dims[35:20];
    wire [19:0] sa = dims[91:72];
    wire [19:0] sb = dims[55:36];
    wire [19:0] sc = dims[19:0];
    wire [15:0] ka = state[107:92];
    wire [15:0] kb = state[91:76];
    wire [15:0] kc = state[75:60];
    wire [19:0] oa = state[59:40];
    wire [19:0] ob = state[39:20];
    wire [19:0] oc = state[19:0];
    assign addr = base + ((oa + ob + oc) << shift);
    always @* begin
        if (kc != nc - 16'd1) next = {ka, kb, kc + 16'd1, oa, ob, oc + sc};
        else if (kb != nb - 16'd1) next = {ka, kb + 16'd1, 16'd0, oa, ob + sb, 20'd0};
        else next = {ka + 16'd1, 16'd0, 16'd0, oa + sa, 20'd0, 20'd0};
    end
endmodule
