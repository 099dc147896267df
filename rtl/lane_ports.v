`timescale 1ns/1ps
// lane_ports: the SBUF/PSUM port side that the lane engines (rtl/vec_engine.v, rtl/act_engine.v) share.
// Each of LANES lanes has one read and one write port to its own partition (32-bit words, byte enables,
// synchronous read: the data arrives the clock after the request; address and space are the engine's,
// shared by all lanes). An operand whose first partition differs from the home pattern's passes through
// a rotator: logical lane L reads partition L + rot and partition Q receives logical lane Q - rot, where
// rot = (operand pstart - home pstart) mod LANES. The enables cover partitions first .. first + count - 1;
// a write's byte enables follow from its element type (bf16 2 bytes, int8 1, else 4) and the low bits of
// its byte address. Combinational but for the rotation of the read in flight.
module lane_ports #(
    parameter LANES = 128
) (
    input  wire                 clk,
    // read: requested this clock, its data rotated to logical lanes the next
    input  wire                 rd_go,
    input  wire [8:0]           rd_first,    // partitions enabled: first .. first + count - 1
    input  wire [8:0]           rd_count,
    input  wire [7:0]           rd_ps,       // the operand's pstart (for the rotation)
    input  wire [7:0]           rd_home,     // the home pattern's pstart
    output wire [LANES-1:0]     rd_en,
    input  wire [LANES*32-1:0]  rd_data,
    output wire [LANES*32-1:0]  rd_log,
    // write, this clock, from logical lanes
    input  wire                 wr_go,
    input  wire [8:0]           wr_first,
    input  wire [8:0]           wr_count,
    input  wire [7:0]           wr_ps,
    input  wire [7:0]           wr_home,
    input  wire [2:0]           wr_dt,
    input  wire [1:0]           wr_lo,       // byte address bits 1:0
    input  wire [LANES*32-1:0]  wr_log,
    output wire [LANES-1:0]     wr_en,
    output wire [3:0]           wr_be,
    output wire [LANES*32-1:0]  wr_data
);
    // operand lane = home lane + (operand pstart - home pstart) mod LANES
    function [8:0] rot;
        input [7:0] ps;
        input [7:0] home;
        reg [9:0] d;
        begin
            d = {2'd0, ps} + LANES[9:0] - {2'd0, home};
            rot = (d >= LANES[9:0]) ? d[8:0] - LANES[8:0] : d[8:0];
        end
    endfunction

    genvar q;
    generate
        for (q = 0; q < LANES; q = q + 1) begin : g_en
            assign rd_en[q] = rd_go && q >= rd_first && q < rd_first + rd_count;
            assign wr_en[q] = wr_go && q >= wr_first && q < wr_first + wr_count;
        end
    endgenerate

    reg  [8:0] rrot_q;  // rotation of the read whose data arrives now
    always @(posedge clk) rrot_q <= rot(rd_ps, rd_home);
    wire [8:0] wr_rot = rot(wr_ps, wr_home);

    wire [2*LANES*32-1:0] rd_twice = {rd_data, rd_data};
    wire [2*LANES*32-1:0] wr_twice = {wr_log, wr_log};
    /* verilator lint_off UNUSEDSIGNAL */
    wire [2*LANES*32-1:0] rd_shift = rd_twice >> {rrot_q, 5'd0};  // low half used
    wire [2*LANES*32-1:0] wr_shift = wr_twice << {wr_rot, 5'd0};  // high half used
    /* verilator lint_on UNUSEDSIGNAL */
    assign rd_log = rd_shift[LANES*32-1:0];
    assign wr_data = wr_shift[2*LANES*32-1:LANES*32];

    wire [3:0] be_size = (wr_dt == 3'd1) ? 4'b0011 : (wr_dt == 3'd2) ? 4'b0001 : 4'b1111;
    assign wr_be = be_size << wr_lo;
endmodule
