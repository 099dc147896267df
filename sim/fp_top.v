`timescale 1ns/1ps
// fp_top: bench wrapper for every rtl/fp block, side by side (not synthesizable: it loads
// vector files). On `start` it reads fp_a.hex, fp_b.hex, fp_c.hex (operands) and fp_y.hex
// (results expected by accel.model.fp) from the simulator's working folder, then applies one
// vector per clock to the block selected by `op`, compares its output with the expected word
// and counts mismatches (sim/mismatch_check.v), so that Python only waits for `done` instead of touching
// every clock.
//
// op: 0 add, 1 sub, 2 mul, 3 fma, 4 min, 5 max, 6 cmp ({29'b0, lt, le, eq}), 7 fp32_to_bf16,
//     8 bf16_to_fp32, 9 bf16_mul, 10 int32_to_fp32, 11 fp32_to_int32, 12 fp32_to_int8
//     (sign-extended). 16-bit operands and results sit in the low half of a word.
module fp_top #(
    parameter DEPTH_LOG2 = 20  // vector memories hold 2**DEPTH_LOG2 words
) (
    input  wire                  clk,
    input  wire                  start,
    input  wire [3:0]            op,
    input  wire [DEPTH_LOG2:0]   count,
    output reg                   done,
    output wire [DEPTH_LOG2:0]   checked,
    output wire [31:0]           mismatches,
    output wire [31:0]           first_bad_index,
    output wire [31:0]           first_bad_got
);
    reg [31:0] mem_a [0:(1 << DEPTH_LOG2) - 1];
    reg [31:0] mem_b [0:(1 << DEPTH_LOG2) - 1];
    reg [31:0] mem_c [0:(1 << DEPTH_LOG2) - 1];
    reg [31:0] mem_y [0:(1 << DEPTH_LOG2) - 1];

    reg  [DEPTH_LOG2-1:0] index;
    wire [31:0] a = mem_a[index];
    wire [31:0] b = mem_b[index];
    wire [31:0] c = mem_c[index];
    wire [31:0] want = mem_y[index];

    wire [31:0] y_add, y_mul, y_fma, y_minmax, y_bf16_to_fp32, y_bf16_mul, y_i2f, y_f2i;
    wire [15:0] y_fp32_to_bf16;
    wire        lt, le, eq;
    fp32_add      u_add    (.a(a), .b(b), .sub(op == 4'd1), .y(y_add));
    fp32_mul      u_mul    (.a(a), .b(b), .y(y_mul));
    fp32_fma      u_fma    (.a(a), .b(b), .c(c), .y(y_fma));
    fp32_minmax   u_minmax (.a(a), .b(b), .is_max(op == 4'd5), .y(y_minmax));
    fp32_cmp      u_cmp    (.a(a), .b(b), .lt(lt), .le(le), .eq(eq));
    fp32_to_bf16  u_f2bf   (.x(a), .y(y_fp32_to_bf16));
    bf16_to_fp32  u_bf2f   (.x(a[15:0]), .y(y_bf16_to_fp32));
    bf16_mul      u_bfmul  (.a(a[15:0]), .b(b[15:0]), .y(y_bf16_mul));
    int32_to_fp32 u_i2f    (.i(a), .y(y_i2f));
    fp32_to_int   u_f2i    (.x(a), .int8(op == 4'd12), .y(y_f2i));

    reg [31:0] got;
    always @* begin
        case (op)
            4'd0, 4'd1:   got = y_add;
            4'd2:         got = y_mul;
            4'd3:         got = y_fma;
            4'd4, 4'd5:   got = y_minmax;
            4'd6:         got = {29'd0, lt, le, eq};
            4'd7:         got = {16'd0, y_fp32_to_bf16};
            4'd8:         got = y_bf16_to_fp32;
            4'd9:         got = y_bf16_mul;
            4'd10:        got = y_i2f;
            default:      got = y_f2i;
        endcase
    end

    reg running;
    mismatch_check #(.W(32), .CW(DEPTH_LOG2 + 1)) u_check (
        .clk(clk), .clear(start), .check(running), .got(got), .want(want), .checked(checked),
        .mismatches(mismatches), .first_bad_index(first_bad_index), .first_bad_got(first_bad_got));
    initial begin
        running = 1'b0;
        done = 1'b0;
        index = {DEPTH_LOG2{1'b0}};
    end

    always @(posedge clk) begin
        if (start) begin
            $readmemh("fp_a.hex", mem_a, 0, count - 1);
            $readmemh("fp_b.hex", mem_b, 0, count - 1);
            $readmemh("fp_c.hex", mem_c, 0, count - 1);
            $readmemh("fp_y.hex", mem_y, 0, count - 1);
            running <= count != 0;
            done <= count == 0;
            index <= {DEPTH_LOG2{1'b0}};
        end else if (running) begin
            index <= index + 1'b1;
            if (checked + 1'b1 == count) begin
                running <= 1'b0;
                done <= 1'b1;
            end
        end
    end
endmodule
