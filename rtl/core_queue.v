`timescale 1ns/1ps
// core_queue: one engine's in-order instruction queue (docs/timing.md "The clock"): DEPTH entries of
// W bits, filled by the sequencer and emptied by the engine. Both ends are registered: an entry pushed
// in cycle t is the head from t + 1, and an entry popped in cycle t frees its place from t + 1 (so a
// full queue takes the next dispatch the cycle after its head starts, the model's start[j] + 1).
module core_queue #(
    parameter DEPTH = 16,
    parameter W = 512
) (
    input  wire         clk,
    input  wire         rst,
    input  wire         push,
    input  wire [W-1:0] din,
    input  wire         pop,
    output wire [W-1:0] head,
    output wire         valid,
    output wire         full
);
    localparam AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
    localparam CW = $clog2(DEPTH + 1);
    reg [W-1:0] mem [0:DEPTH-1];
    reg [AW-1:0] rd, wr;
    reg [CW-1:0] count;

    assign head = mem[rd];
    assign valid = count != {CW{1'b0}};
    assign full = count == DEPTH[CW-1:0];

    function [AW-1:0] inc;
        input [AW-1:0] a;
        begin
            inc = (a == DEPTH[AW-1:0] - 1'b1) ? {AW{1'b0}} : a + 1'b1;
        end
    endfunction

    always @(posedge clk) begin
        if (rst) begin
            rd <= {AW{1'b0}};
            wr <= {AW{1'b0}};
            count <= {CW{1'b0}};
        end else begin
            if (push) begin
                mem[wr] <= din;
                wr <= inc(wr);
            end
            if (pop) rd <= inc(rd);
            count <= count + {{(CW - 1){1'b0}}, push} - {{(CW - 1){1'b0}}, pop};
        end
    end
endmodule
