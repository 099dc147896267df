`timescale 1ns/1ps
// act_image_mem: the ACT engine's one function-image memory, shared by its lanes (rtl/act_engine.v).
// 32 slots of 2**SW words, slot = act.func's fn: slots 0..12 hold the built-ins' images (ROM, loaded
// from MEM_DIR/lut_<name>.hex at time 0; WORDSk is each file's length, so $readmemh reads exactly
// the image; tests/rtl/test_act_engine_rtl.py checks them), 16..31 the user images that act.lut.load writes (one word per clock
// through we/waddr/wdata). Reads are synchronous, latency 1 clock: per lane a row of ROW consecutive
// words of slot `slot` from row_addr (the lane's rtl/act_func.v stage-9 read; addresses wrap inside
// the slot), and one header port: 16 consecutive words of slot `slot` from hdr_addr (the engine reads
// the image header, then table 2's descriptor, there). In silicon the row ports are word-interleaved
// banks with a rotator per lane (or LANES / k copies); here the array is behavioural and gate
// counts treat it as memory.
module act_image_mem #(
    parameter LANES = 8,
    parameter ROW = 9,
    parameter SW = 14,   // log2 words per slot (accel.model.lut.MAX_WORDS)
    parameter MEM_DIR = ""  // folder of the rtl/mem images, with a trailing "/" (empty: the working folder)
) (
    input  wire                  clk,
    input  wire                  we,
    input  wire [4+SW:0]         waddr,     // {slot, word}
    input  wire [31:0]           wdata,
    input  wire [4:0]            slot,      // the slot every lane and the header port read
    input  wire [LANES*SW-1:0]   row_addr,
    output reg  [LANES*ROW*32-1:0] rows,
    input  wire [SW-1:0]         hdr_addr,
    output reg  [16*32-1:0]      hdr
);
    localparam HEX0 = {MEM_DIR, "lut_exp.hex"};
    localparam WORDS0 = 376;
    localparam HEX1 = {MEM_DIR, "lut_log.hex"};
    localparam WORDS1 = 466;
    localparam HEX2 = {MEM_DIR, "lut_sigmoid.hex"};
    localparam WORDS2 = 2208;
    localparam HEX3 = {MEM_DIR, "lut_tanh.hex"};
    localparam WORDS3 = 796;
    localparam HEX4 = {MEM_DIR, "lut_gelu.hex"};
    localparam WORDS4 = 3614;
    localparam HEX5 = {MEM_DIR, "lut_gelu_tanh.hex"};
    localparam WORDS5 = 3614;
    localparam HEX6 = {MEM_DIR, "lut_silu.hex"};
    localparam WORDS6 = 1934;
    localparam HEX7 = {MEM_DIR, "lut_softplus.hex"};
    localparam WORDS7 = 1822;
    localparam HEX8 = {MEM_DIR, "lut_rsqrt.hex"};
    localparam WORDS8 = 124;
    localparam HEX9 = {MEM_DIR, "lut_reciprocal.hex"};
    localparam WORDS9 = 86;
    localparam HEX10 = {MEM_DIR, "lut_sqrt.hex"};
    localparam WORDS10 = 106;
    localparam HEX11 = {MEM_DIR, "lut_sin.hex"};
    localparam WORDS11 = 1000;
    localparam HEX12 = {MEM_DIR, "lut_cos.hex"};
    localparam WORDS12 = 1000;
    reg [31:0] mem [0:(32 << SW) - 1];
    initial begin
        $readmemh(HEX0, mem, 0 << SW, (0 << SW) + WORDS0 - 1);
        $readmemh(HEX1, mem, 1 << SW, (1 << SW) + WORDS1 - 1);
        $readmemh(HEX2, mem, 2 << SW, (2 << SW) + WORDS2 - 1);
        $readmemh(HEX3, mem, 3 << SW, (3 << SW) + WORDS3 - 1);
        $readmemh(HEX4, mem, 4 << SW, (4 << SW) + WORDS4 - 1);
        $readmemh(HEX5, mem, 5 << SW, (5 << SW) + WORDS5 - 1);
        $readmemh(HEX6, mem, 6 << SW, (6 << SW) + WORDS6 - 1);
        $readmemh(HEX7, mem, 7 << SW, (7 << SW) + WORDS7 - 1);
        $readmemh(HEX8, mem, 8 << SW, (8 << SW) + WORDS8 - 1);
        $readmemh(HEX9, mem, 9 << SW, (9 << SW) + WORDS9 - 1);
        $readmemh(HEX10, mem, 10 << SW, (10 << SW) + WORDS10 - 1);
        $readmemh(HEX11, mem, 11 << SW, (11 << SW) + WORDS11 - 1);
        $readmemh(HEX12, mem, 12 << SW, (12 << SW) + WORDS12 - 1);
    end

    integer l, j;
    always @(posedge clk) begin
        if (we) mem[waddr] <= wdata;
        for (l = 0; l < LANES; l = l + 1)
            for (j = 0; j < ROW; j = j + 1)
                rows[(l * ROW + j) * 32 +: 32] <= mem[{slot, row_addr[l * SW +: SW] + j[SW-1:0]}];
        for (j = 0; j < 16; j = j + 1) hdr[j * 32 +: 32] <= mem[{slot, hdr_addr + j[SW-1:0]}];
    end
endmodule
