`timescale 1ns/1ps
// act_func_top: bench wrapper of rtl/act_func.v (not synthesizable: it loads vector files). On
// `start` it reads act_img.hex (a table image of `nwords` words; nwords = 0 keeps the image
// loaded before), act_x.hex and act_y.hex (arguments and the results expected from
// accel.model.lut.apply after the affine step, `count` words) from the simulator's working folder,
// streams the image into the unit's RAM one word per clock (as act.lut.load does), then feeds one
// argument per clock with the given scale, bias and result type, compares every result with its
// expected word and counts mismatches (sim/mismatch_check.v); Python only waits for `done`.
module act_func_top #(
    parameter WORDS_LOG2 = 14,
    parameter DEPTH_LOG2 = 17,
    parameter EXP_HEX = "lut_exp.hex"
) (
    input  wire                  clk,
    input  wire                  start,
    input  wire [WORDS_LOG2:0]   nwords,
    input  wire [DEPTH_LOG2:0]   count,
    input  wire [31:0]           scale,
    input  wire [31:0]           bias,
    input  wire                  bf16,
    output reg                   done,
    output wire [DEPTH_LOG2:0]   checked,
    output wire [31:0]           mismatches,
    output wire [31:0]           first_bad_index,
    output wire [31:0]           first_bad_got,
    output wire                  bad_image
);
    reg [31:0] img [0:(1 << WORDS_LOG2) - 1];
    reg [31:0] mx [0:(1 << DEPTH_LOG2) - 1];
    reg [31:0] my [0:(1 << DEPTH_LOG2) - 1];

    reg [1:0]          state;  // 0 idle, 1 load, 2 stream
    reg [WORDS_LOG2:0] w;
    reg [DEPTH_LOG2:0] issued;
    wire               feed = state == 2'd2 && issued != count;
    wire               out_valid;
    wire [31:0]        y;
    act_func #(.WORDS_LOG2(WORDS_LOG2), .EXP_HEX(EXP_HEX)) u_func (
        .clk(clk), .we(state == 2'd1), .waddr(w[WORDS_LOG2-1:0]), .wdata(img[w[WORDS_LOG2-1:0]]),
        .in_valid(feed), .x(mx[issued[DEPTH_LOG2-1:0]]), .scale(scale), .bias(bias), .bf16(bf16),
        .out_valid(out_valid), .y(y), .bad_image(bad_image));
    mismatch_check #(.W(32), .CW(DEPTH_LOG2 + 1)) u_check (
        .clk(clk), .clear(start), .check(out_valid), .got(y), .want(my[checked[DEPTH_LOG2-1:0]]),
        .checked(checked), .mismatches(mismatches), .first_bad_index(first_bad_index),
        .first_bad_got(first_bad_got));

    initial begin
        state = 2'd0;
        done = 1'b0;
        w = {(WORDS_LOG2 + 1){1'b0}};
        issued = {(DEPTH_LOG2 + 1){1'b0}};
    end

    always @(posedge clk) begin
        if (start) begin
            if (nwords != 0) $readmemh("act_img.hex", img, 0, nwords - 1);
            if (count != 0) begin
                $readmemh("act_x.hex", mx, 0, count - 1);
                $readmemh("act_y.hex", my, 0, count - 1);
            end
            state <= nwords != 0 ? 2'd1 : 2'd2;
            done <= 1'b0;
            w <= {(WORDS_LOG2 + 1){1'b0}};
            issued <= {(DEPTH_LOG2 + 1){1'b0}};
        end else begin
            if (state == 2'd1) begin
                w <= w + 1'b1;
                if (w + 1'b1 == nwords) state <= 2'd2;
            end
            if (state == 2'd2 && checked == count) begin
                state <= 2'd0;
                done <= 1'b1;
            end
            if (feed) issued <= issued + 1'b1;
        end
    end
endmodule
