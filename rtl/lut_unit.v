`timescale 1ns/1ps
// lut_unit: the table-evaluation engine of the function-approximation unit (docs/act.md), one
// lane. It holds a table image in a RAM written word by word (as act.lut.load streams it, or
// from the generated rtl/mem/lut_<name>.hex), reads the first table's descriptor
// (emin, emax, mbits, degree at words 12..15) and evaluates accel.model.lut.evaluate:
//   index rule on z's bits (rtl/lut_index.v) -> row and base point (segment middle, or +-0 for the
//   tiny one),
//   t = z - base (fp32_add, exact), then Horner p = fma(p, t, c[k]) with one fp32_fma per clock,
//   result c0 when t is +-0.
// Latency: degree + 2 clocks from `start` to `done` (one element at a time): a small multi-cycle
// engine with one fma. rtl/act_func.v is the whole pipelined function unit (recipes included).
module lut_unit #(
    parameter WORDS_LOG2 = 14  // image RAM holds 2**WORDS_LOG2 words
) (
    input  wire                  clk,
    input  wire                  we,     // write wdata at waddr (table load)
    input  wire [WORDS_LOG2-1:0] waddr,
    input  wire [31:0]           wdata,
    input  wire                  start,  // evaluate z (ignored while busy)
    input  wire [31:0]           z,
    output reg                   busy,
    output reg                   done,   // one-clock pulse with y valid
    output reg  [31:0]           y
);
    localparam HEAD = 16;  // 12 header words + the first table's 4 descriptor words

    reg [31:0] mem [0:(1 << WORDS_LOG2) - 1];
    always @(posedge clk) if (we) mem[waddr] <= wdata;

    wire [7:0] emin   = mem[12][7:0];
    wire [7:0] emax   = mem[13][7:0];
    wire [3:0] mbits  = mem[14][3:0];
    wire [3:0] degree = mem[15][3:0];

    // ---- index rule (combinational on the latched argument, rtl/lut_index.v)
    reg  [31:0] zr;
    wire [WORDS_LOG2-1:0] offset;
    wire [31:0] base;
    wire        tiny;
    lut_index #(.AW(WORDS_LOG2)) u_index (
        .z(zr), .emin(emin), .emax(emax), .mbits(mbits), .degree(degree),
        .row(offset), .base(base), .tiny(tiny));
    wire [WORDS_LOG2-1:0] row = HEAD[WORDS_LOG2-1:0] + offset;

    // ---- arithmetic: the exact subtraction and one fma per clock
    wire [31:0] t_now;
    fp32_add u_sub (.a(zr), .b(base), .sub(1'b1), .y(t_now));

    reg  [31:0] t, p;
    reg  [3:0]  k;
    reg  [WORDS_LOG2-1:0] row_r;
    reg         phase;  // 0: subtract, 1: Horner
    wire [31:0] c_next = mem[row_r + {{(WORDS_LOG2 - 4){1'b0}}, k} - {{(WORDS_LOG2 - 1){1'b0}}, 1'b1}];
    wire [31:0] fma_y;
    fp32_fma u_fma (.a(p), .b(t), .c(c_next), .y(fma_y));
    wire        t_zero = t[30:0] == 31'd0;

    initial begin
        busy = 1'b0;
        done = 1'b0;
        y = 32'd0;
        zr = 32'd0;
        t = 32'd0;
        p = 32'd0;
        k = 4'd0;
        row_r = {WORDS_LOG2{1'b0}};
        phase = 1'b0;
    end

    always @(posedge clk) begin
        done <= 1'b0;
        if (!busy) begin
            if (start) begin
                zr <= z;
                busy <= 1'b1;
                phase <= 1'b0;
            end
        end else if (!phase) begin
            t <= tiny ? zr : t_now;
            row_r <= row;
            p <= mem[row + {{(WORDS_LOG2 - 4){1'b0}}, degree}];
            k <= degree;
            phase <= 1'b1;
        end else if (k != 4'd0) begin
            p <= fma_y;
            k <= k - 4'd1;
        end else begin
            y <= t_zero ? mem[row_r] : p;
            done <= 1'b1;
            busy <= 1'b0;
        end
    end
endmodule
