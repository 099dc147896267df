`timescale 1ns/1ps
// lut_top: bench wrapper of rtl/lut_unit.v (not synthesizable: it loads vector files). On `start`
// it reads lut_img.hex (a one-table image, `nwords` words), lut_x.hex and lut_y.hex (arguments and
// the results expected by accel.model.lut.evaluate, `count` words) from the simulator's working
// folder, streams the image into the unit's RAM one word per clock (as act.lut.load does), then
// evaluates every argument, compares and counts mismatches (sim/mismatch_check.v); Python only waits for
// `done`.
module lut_top #(
    parameter WORDS_LOG2 = 14,
    parameter DEPTH_LOG2 = 17
) (
    input  wire                  clk,
    input  wire                  start,
    input  wire [WORDS_LOG2:0]   nwords,
    input  wire [DEPTH_LOG2:0]   count,
    output reg                   done,
    output wire [DEPTH_LOG2:0]   checked,
    output wire [31:0]           mismatches,
    output wire [31:0]           first_bad_index,
    output wire [31:0]           first_bad_got
);
    reg [31:0] img [0:(1 << WORDS_LOG2) - 1];
    reg [31:0] mx [0:(1 << DEPTH_LOG2) - 1];
    reg [31:0] my [0:(1 << DEPTH_LOG2) - 1];

    reg [1:0]            state;  // 0 idle, 1 load, 2 issue, 3 wait
    reg [WORDS_LOG2:0]   w;
    reg [DEPTH_LOG2-1:0] index;
    wire                 busy, unit_done;
    wire [31:0]          y;
    wire                 we = state == 2'd1;
    lut_unit #(.WORDS_LOG2(WORDS_LOG2)) u_lut (
        .clk(clk), .we(we), .waddr(w[WORDS_LOG2-1:0]), .wdata(img[w[WORDS_LOG2-1:0]]),
        .start(state == 2'd2), .z(mx[index]), .busy(busy), .done(unit_done), .y(y));
    wire check = state == 2'd3 && unit_done;
    mismatch_check #(.W(32), .CW(DEPTH_LOG2 + 1)) u_check (
        .clk(clk), .clear(start), .check(check), .got(y), .want(my[index]), .checked(checked),
        .mismatches(mismatches), .first_bad_index(first_bad_index), .first_bad_got(first_bad_got));

    initial begin
        state = 2'd0;
        done = 1'b0;
        w = {(WORDS_LOG2 + 1){1'b0}};
        index = {DEPTH_LOG2{1'b0}};
    end

    always @(posedge clk) begin
        if (start) begin
            $readmemh("lut_img.hex", img, 0, nwords - 1);
            $readmemh("lut_x.hex", mx, 0, count - 1);
            $readmemh("lut_y.hex", my, 0, count - 1);
            state <= 2'd1;
            done <= 1'b0;
            w <= {(WORDS_LOG2 + 1){1'b0}};
            index <= {DEPTH_LOG2{1'b0}};
        end else begin
            case (state)
                2'd1: begin
                    w <= w + 1'b1;
                    if (w + 1'b1 == nwords) state <= count == 0 ? 2'd0 : 2'd2;
                    if (w + 1'b1 == nwords && count == 0) done <= 1'b1;
                end
                2'd2: state <= 2'd3;
                2'd3: if (unit_done) begin
                    index <= index + 1'b1;
                    if (checked + 1'b1 == count) begin
                        state <= 2'd0;
                        done <= 1'b1;
                    end else begin
                        state <= 2'd2;
                    end
                end
                default: ;
            endcase
        end
    end

    wire unused = busy;
endmodule
