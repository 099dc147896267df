`timescale 1ns/1ps
// simd_lane: one lane of the vector engine, combinational (latency 0, one element per clock).
// Mirrors accel.model.vec / accel.model.rng element by element: the operands are converted to
// binary32 (to_f32), the operation runs in binary32, the result is converted to the destination
// type (from_f32). Element types (the ISA's dtype codes): 0 fp32, 1 bf16 (low 16 bits), 2 int8
// (low 8 bits in, sign-extended to 32 bits out), 3 int32.
//   op 0 add, 1 sub, 2 mul, 3 max, 4 min       y = a op b (rtl/fp blocks; NaN canonical)
//   op 5 dropout                               keep = word >= round(p * 2**32);
//                                              y = keep ? a * scale : +0
//   op 6 fill                                  y = word (y_type int32) or (word >> 8) * 2**-24 (fp32)
//   op 7 cast                                  y = a converted (vec.cast)
// `b` carries p (binary32 in [0, 1], b_type ignored) for dropout; `scale` is the binary32 nearest
// 1/(1-p), set once per instruction by the control path (accel.model.rng.scale). The threshold is
// computed here from p's bits (rtl/dropout_threshold.v).
module simd_lane (
    input  wire [2:0]  op,
    input  wire [1:0]  a_type,
    input  wire [1:0]  b_type,
    input  wire [1:0]  y_type,
    input  wire [31:0] a,
    input  wire [31:0] b,
    input  wire [31:0] word,
    input  wire [31:0] scale,
    output reg  [31:0] y,
    output wire        keep
);
    // to_f32: a NaN fp32 operand becomes the canonical NaN, as every conversion does
    wire [31:0] a_bf, b_bf, a_int, b_int;
    bf16_to_fp32  u_abf  (.x(a[15:0]), .y(a_bf));
    bf16_to_fp32  u_bbf  (.x(b[15:0]), .y(b_bf));
    int32_to_fp32 u_aint (.i(a_type == 2'd2 ? {{24{a[7]}}, a[7:0]} : a), .y(a_int));
    int32_to_fp32 u_bint (.i(b_type == 2'd2 ? {{24{b[7]}}, b[7:0]} : b), .y(b_int));
    wire [31:0] fa = a_type == 2'd0 ? (a[30:0] > 31'h7F800000 ? 32'h7FC00000 : a) : a_type == 2'd1 ? a_bf : a_int;
    wire [31:0] fb = b_type == 2'd0 ? (b[30:0] > 31'h7F800000 ? 32'h7FC00000 : b) : b_type == 2'd1 ? b_bf : b_int;

    wire [31:0] y_add, y_mul, y_minmax, y_drop_mul, y_u24;
    wire [32:0] threshold;
    fp32_add    u_add    (.a(fa), .b(fb), .sub(op == 3'd1), .y(y_add));
    fp32_mul    u_mul    (.a(fa), .b(fb), .y(y_mul));
    fp32_minmax u_minmax (.a(fa), .b(fb), .is_max(op == 3'd3), .y(y_minmax));
    fp32_mul    u_scale  (.a(fa), .b(scale), .y(y_drop_mul));
    dropout_threshold u_thr (.p(b[30:0]), .t(threshold));  // the sign of p is ignored (-0 -> 0)
    int32_to_fp32 u_u24  (.i({8'd0, word[31:8]}), .y(y_u24));

    assign keep = {1'b0, word} >= threshold;
    // (word >> 8) < 2**24 converts exactly; times 2**-24 is an exponent decrement by 24
    wire [31:0] y_uniform = (y_u24 == 32'd0) ? 32'd0 : {y_u24[31], y_u24[30:23] - 8'd24, y_u24[22:0]};

    reg [31:0] r;  // the binary32 result before from_f32
    always @* begin
        case (op)
            3'd0, 3'd1: r = y_add;
            3'd2:       r = y_mul;
            3'd3, 3'd4: r = y_minmax;
            3'd5:       r = keep ? y_drop_mul : 32'd0;
            3'd6:       r = y_uniform;
            default:    r = fa;
        endcase
    end

    // from_f32
    wire [15:0] r_bf;
    wire [31:0] r_int;
    fp32_to_bf16 u_ybf  (.x(r), .y(r_bf));
    fp32_to_int  u_yint (.x(r), .int8(y_type == 2'd2), .y(r_int));
    always @* begin
        if (op == 3'd6 && y_type == 2'd3)
            y = word;
        else case (y_type)
            2'd0:    y = r;
            2'd1:    y = {16'd0, r_bf};
            default: y = r_int;
        endcase
    end
endmodule
