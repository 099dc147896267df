`timescale 1ns/1ps
// act_func_core: the ACT engine's per-lane function unit (docs/act.md; rtl/act_func.v is it on its own
// image RAM, with the ports below that the engine drives tied off): y = f(x * scale + bias), bit for
// bit accel.model.lut.apply(f, add(mul(x, scale), bias)) converted to fp32 or bf16 (from_f32).
// f is the table image in the RAM (written word by word through we/waddr/wdata, as act.lut.load
// streams it; a built-in's image is its rtl/mem/lut_<name>.hex), every recipe kind: direct (with
// the const / identity / exp / xexp rules beyond [lo, hi]), exp, log, recip, rsqrt, sqrt, sin,
// cos, special values included. The direct kind's exp and xexp rules read the built-in exp table,
// a ROM next to the RAM (EXP_HEX, rtl/mem/lut_exp.hex).
//
// Pipeline, one element per clock, latency 22 clocks from in_valid to out_valid (no stalls; the
// image must not change while elements are in flight). Stage: what it computes (rtl/fp blocks).
//    1  a = mul(x, scale)                                     fp32_mul
//    2  u = add(a, bias): the function's argument              fp32_add
//    3  classify u (NaN, +-0, +-inf, sign); direct: u <= lo, hi <= u (fp32_cmp x2); exp clamp to
//       [-112, 89] (fp32_cmp x2); sin/cos range |u| <= 16384; the special result and whether it
//       wins; one shared multiply (fp32_mul): clamp(u) * log2(e) (exp and the direct rules),
//       u * 2/pi (sin, cos) or |u| * 2**24 (split of a subnormal: log, recip, rsqrt, sqrt)
//    4  k = fp32_to_int32(product) (fp32_to_int); split |u| = m 2**e, m in [1, 2) (log: m in
//       [0.75, 1.5), rsqrt/sqrt: m in [1, 4) with e even)
//    5  kf = int32_to_fp32(k), or ef = int32_to_fp32(e) for log (one int32_to_fp32); quadrant
//       q = (k + cos) mod 4; scale amount (k, -e, -e/2 or e/2)
//    6  r = fma(kf, -LN2_HI, clamp(u)) | fma(kf, -PIO2_1, u) | log: f = fma(m, 1, -1) = m - 1
//    7  r = fma(kf, -LN2_LO, r) | fma(kf, -PIO2_2, r)
//    8  r = fma(kf, -PIO2_3, r) (sin/cos, k != 0); select the table argument z and the table
//       (the image's table 1, its table 2 for an odd quadrant, or the exp ROM for a rule)
//    9  index rule (rtl/lut_index.v), row address, t = sub(z, base) (fp32_add); both memories
//       read the coefficient row (degree + 1 <= 9 words) in one registered read
//   10..17  Horner, unrolled to degree 8: stage j = 7..0 computes p = fma(p, t, c[j]) when
//       j < degree, else passes p = c[j] (fp32_fma x8); P = c0 when t is +-0
//   18  S1 = mul(P, 2**(n>>1)); log: fma(ef, LN2_LO, P); xexp: q = mul(clamp(u), P) (one fma)
//   19  S2 = mul(S1, 2**(n - (n>>1))) = scale(P, n); log: fma(ef, LN2_HI, .); rules: mul(q, A)
//   20  rules: fma(q A, scale(P, k), q)
//   21  rules: scale's first multiply            22  rules: scale's second multiply; select
//       the result (special / table / scaled / log / rule; sin/cos sign by quadrant, recip sign),
//       from_f32 (fp32_to_bf16 RNE when `bf16`), registered out.
// Blocks are operand-isolated: a block the current element does not use sees constant zero
// operands (less switching in silicon, fewer events in an event-driven simulator).
//
// Image checks: bad_image is high when the loaded image is one accel.model.lut.from_image
// rejects for its header or descriptors (magic, kind, rules, table count: two for sin and cos,
// one otherwise, 1 <= emin <= emax <= 254, mbits <= 8, degree <= MAX_DEGREE = 8, a direct image's
// lo < hi inside the table's binades, at most 2**WORDS_LOG2 = MAX_WORDS words); the unit's results
// are then undefined (the ACT engine raises the error). Truncation is the loader's check (it knows
// the word count).
//
// Inside the ACT engine (rtl/act_engine.v, EXT_IMAGE = 1) the image is not in the unit: the engine's
// one image memory (rtl/act_image_mem.v), shared by the lanes, answers the unit's stage-9 row read
// (ext_raddr out, ext_row in one clock later), and the engine loads the header in parallel: words
// 0..15 on hdr_we, then table 2's descriptor (at t2_desc, an output) on d2_we. `mode` selects the
// exact forms without a table: 1 act.identity (u itself), 2 act.relu (max(u, +0), NaN canonical),
// carried with each element so the mode may change between elements; 0 is the function.
module act_func_core #(
    parameter EXT_IMAGE = 0,               // 1: image rows and header from outside (the ACT engine)
    parameter WORDS_LOG2 = 14,             // image RAM: 2**WORDS_LOG2 words
    parameter EXP_WORDS_LOG2 = 9,          // exp ROM: 2**EXP_WORDS_LOG2 words
    parameter EXP_WORDS = 376,             // words in EXP_HEX (the length of rtl/mem/lut_exp.hex's image)
    parameter EXP_HEX = "lut_exp.hex"      // the exp ROM image
) (
    input  wire                  clk,
    input  wire                  we,       // image write (act.lut.load)
    input  wire [WORDS_LOG2-1:0] waddr,
    input  wire [31:0]           wdata,
    input  wire                  hdr_we,   // EXT_IMAGE: load header words 0..15 from hdr
    input  wire [16*32-1:0]      hdr,
    input  wire                  d2_we,    // EXT_IMAGE: load table 2's descriptor from d2_words
    input  wire [4*32-1:0]       d2_words,
    output wire [WORDS_LOG2-1:0] t2_desc,  // where table 2's descriptor lies in the image
    output wire [WORDS_LOG2-1:0] ext_raddr, // EXT_IMAGE: the coefficient row read (stage 9)
    input  wire [9*32-1:0]       ext_row,  // EXT_IMAGE: that row, one clock later
    input  wire [1:0]            mode,     // 0 function, 1 identity, 2 relu
    input  wire                  in_valid,
    input  wire [31:0]           x,        // binary32 (to_f32 of the source element)
    input  wire [31:0]           scale,
    input  wire [31:0]           bias,
    input  wire                  bf16,     // result type: 0 fp32, 1 bf16 (in y[15:0])
    output reg                   out_valid,
    output reg  [31:0]           y,
    output wire                  bad_image
);
    localparam AW = WORDS_LOG2;
    localparam [AW-1:0] HEAD = 16;  // first coefficient of table 1 (12 header + 4 descriptor words)
    localparam ROW = 9;  // MAX_DEGREE + 1 words per coefficient row
    localparam [31:0] MAGIC = 32'h4C555431, NAN = 32'h7FC00000, INF = 32'h7F800000,
        ONE = 32'h3F800000, NEG_ONE = 32'hBF800000, NEG_ZERO = 32'h80000000, LOG2E = 32'h3FB8AA3B,
        LN2_HI = 32'h3F317218, LN2_LO = 32'hB102E308, NEG_LN2_HI = 32'hBF317218,
        NEG_LN2_LO = 32'h3102E308, TWO_OVER_PI = 32'h3F22F983, NEG_PIO2_1 = 32'hBFC90FDB,
        NEG_PIO2_2 = 32'h333BBD2E, NEG_PIO2_3 = 32'h26F72CED, EXP_LO = 32'hC2E00000,
        EXP_HI = 32'h42B20000, TWO24 = 32'h4B800000, SIN_MAX = 32'h46800000;

    // ---------------------------------------------------------------- image header (snooped)
    reg        magic_ok, kind_ok, ntab_one_or_two, two, lo_rule_ok, hi_rule_ok;
    reg [2:0]  kind;
    reg [1:0]  lo_rule, hi_rule;
    reg [31:0] lo, hi, lo_val, hi_val;
    reg [31:0] d2 [0:3];  // table 2's descriptor words (sin/cos)
    wire [127:0] d1_words, exp_words;
    wire [31:0] d1 [0:3];
    assign {d1[3], d1[2], d1[1], d1[0]} = d1_words;

    wire [AW-1:0] segs1 = ({{(AW - 9){1'b0}}, {1'b0, d1[1][7:0]} - {1'b0, d1[0][7:0]} + 9'd1} << d1[2][3:0])
                          + {{(AW - 1){1'b0}}, 1'b1};
    assign t2_desc = HEAD + (segs1 << 1) * ({{(AW - 4){1'b0}}, d1[3][3:0]} + 1'b1);
    wire [AW-1:0] t2_base = t2_desc + {{(AW - 3){1'b0}}, 3'd4};
    // header word k arrives through the write port (snooped) or all at once (hdr_we)
    wire [8:0]  hw_en;
    wire [31:0] hw [0:8];
    genvar hk;
    generate
        for (hk = 0; hk < 9; hk = hk + 1) begin : g_hw
            assign hw_en[hk] = hdr_we || (we && waddr == hk);
            assign hw[hk] = hdr_we ? hdr[32 * hk +: 32] : wdata;
        end
    endgenerate
    integer i;
    always @(posedge clk) begin
        if (hw_en[0]) magic_ok <= hw[0] == MAGIC;
        if (hw_en[1]) begin kind <= hw[1][2:0]; kind_ok <= hw[1] < 32'd8; end
        if (hw_en[2]) begin two <= hw[2] == 32'd2; ntab_one_or_two <= hw[2] == 32'd1 || hw[2] == 32'd2; end
        if (hw_en[3]) lo <= hw[3];
        if (hw_en[4]) hi <= hw[4];
        if (hw_en[5]) begin lo_rule <= hw[5][1:0]; lo_rule_ok <= hw[5] < 32'd4; end
        if (hw_en[6]) lo_val <= hw[6];
        if (hw_en[7]) begin hi_rule <= hw[7][1:0]; hi_rule_ok <= hw[7] < 32'd4; end
        if (hw_en[8]) hi_val <= hw[8];
        for (i = 0; i < 4; i = i + 1) begin
            if (we && waddr == t2_desc + i[AW-1:0]) d2[i] <= wdata;
            if (d2_we) d2[i] <= d2_words[32 * i +: 32];
        end
    end

    function desc_ok;  // 1 <= emin <= emax <= 254, mbits <= 8, degree <= MAX_DEGREE = 8
        input [31:0] emin, emax, mbits, degree;
        desc_ok = emin >= 32'd1 && emin <= emax && emax <= 32'd254 && mbits <= 32'd8 && degree <= 32'd8;
    endfunction
    function [31:0] table_words;  // descriptor and coefficients of a table (valid descriptor)
        input [7:0] emin, emax;
        input [3:0] mbits, degree;
        table_words = 32'd4 + ((({24'd0, emax} - {24'd0, emin} + 32'd1) << mbits) + 32'd1)
                      * ({28'd0, degree} + 32'd1) * 32'd2;
    endfunction
    wire [31:0] image_words = 32'd12 + table_words(d1[0][7:0], d1[1][7:0], d1[2][3:0], d1[3][3:0])
                              + (two ? table_words(d2[0][7:0], d2[1][7:0], d2[2][3:0], d2[3][3:0]) : 32'd0);
    wire [31:0] reach = {1'b0, d1[1][7:0] + 8'd1, 23'd0};  // |x| below this is inside table 1
    wire ntab_ok = ntab_one_or_two & (two == (kind[2:1] == 2'b11));  // sin and cos: two tables, else one
    wire lo_below_hi;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [1:0] unused_lo_hi;
    /* verilator lint_on UNUSEDSIGNAL */
    fp32_cmp u_lo_hi (.a(lo), .b(hi), .lt(lo_below_hi), .le(unused_lo_hi[0]), .eq(unused_lo_hi[1]));
    assign bad_image = ~(magic_ok & kind_ok & ntab_ok & lo_rule_ok & hi_rule_ok
                         & desc_ok(d1[0], d1[1], d1[2], d1[3]) & (~two | desc_ok(d2[0], d2[1], d2[2], d2[3]))
                         & (kind != 3'd0 | ({1'b0, lo[30:0]} <= reach & {1'b0, hi[30:0]} <= reach & lo_below_hi))
                         & image_words <= (32'd1 << AW));

    wire is_direct = kind == 3'd0;
    wire is_exp = kind == 3'd1;
    wire is_log = kind == 3'd2;
    wire is_recip = kind == 3'd3;
    wire is_rsqrt = kind == 3'd4;
    wire is_sqrt = kind == 3'd5;
    wire is_cos = kind == 3'd7;
    wire is_trig = kind[2:1] == 2'b11;
    wire is_root = is_rsqrt | is_sqrt;
    wire is_split = is_log | is_recip | is_root;

    // ---------------------------------------------------------------- 1, 2: affine
    reg         v1, o1, v2, o2;
    reg  [1:0]  md1, md2;
    reg  [31:0] a1, b1, u2;
    wire [31:0] a_now, u_now;
    fp32_mul u_mul_scale (.a(x), .b(scale), .y(a_now));
    fp32_add u_add_bias (.a(a1), .b(b1), .sub(1'b0), .y(u_now));
    always @(posedge clk) begin
        v1 <= in_valid; o1 <= bf16; md1 <= mode; a1 <= a_now; b1 <= bias;
        v2 <= v1; o2 <= o1; md2 <= md1; u2 <= u_now;
    end

    // ---------------------------------------------------------------- 3: classify, shared multiply
    wire        nan = u2[30:0] > INF[30:0];
    wire        zero = u2[30:0] == 31'd0;
    wire        inf = u2[30:0] == INF[30:0];
    wire        neg = u2[31];
    wire        neg_nonzero = neg & ~zero;
    wire        pos_inf = u2 == INF;
    wire        le_lo, le_hi, lt_exp_lo, lt_exp_hi;
    wire [7:0]  unused_cmp;
    fp32_cmp u_cmp_lo (.a(u2), .b(lo), .lt(unused_cmp[0]), .le(le_lo), .eq(unused_cmp[1]));
    fp32_cmp u_cmp_hi (.a(hi), .b(u2), .lt(unused_cmp[2]), .le(le_hi), .eq(unused_cmp[3]));
    fp32_cmp u_cmp_el (.a(u2), .b(EXP_LO), .lt(lt_exp_lo), .le(unused_cmp[4]), .eq(unused_cmp[5]));
    fp32_cmp u_cmp_eh (.a(EXP_HI), .b(u2), .lt(lt_exp_hi), .le(unused_cmp[6]), .eq(unused_cmp[7]));
    wire [31:0] xc = nan ? 32'd0 : lt_exp_lo ? EXP_LO : lt_exp_hi ? EXP_HI : u2;  // clamp_exp
    wire        trig_ok = u2[30:0] <= SIN_MAX[30:0];
    wire [31:0] xs = trig_ok ? u2 : 32'd0;
    wire [30:0] xsp = (~zero & u2[30:0] < INF[30:0]) ? u2[30:0] : ONE[30:0];  // |u|, split's input
    wire        outside = le_lo | le_hi;  // the hi end wins when both hold (as the model)
    wire [1:0]  rule = le_hi ? hi_rule : lo_rule;
    wire        rule_path = is_direct & outside & rule[1];  // exp or xexp rule
    wire        exp_path = is_exp | rule_path;
    wire        spec = (md2 != 2'd0) ? 1'b1 :
                       is_direct ? nan | (outside & ~rule[1]) :
                       is_exp ? nan :
                       is_log ? nan | zero | neg_nonzero | pos_inf :
                       is_recip ? nan | zero | inf :
                       is_root ? nan | zero | neg_nonzero | pos_inf : ~trig_ok;
    wire        spec_nan = is_direct ? nan : is_exp ? nan : is_log ? nan | neg_nonzero :
                           is_recip ? nan : is_root ? nan | neg_nonzero : 1'b1;
    wire [31:0] spec_val = (md2 == 2'd1) ? u2 : (md2 == 2'd2) ? (nan ? NAN : neg ? 32'd0 : u2) : spec_nan ? NAN :
                           is_direct ? (rule[0] ? u2 : (le_hi ? hi_val : lo_val)) :
                           is_log ? (zero ? 32'hFF800000 : INF) :
                           is_recip ? (zero ? {neg, INF[30:0]} : {neg, 31'd0}) :
                           is_rsqrt ? (zero ? {neg, INF[30:0]} : 32'd0) :
                           (zero ? u2 : INF);  // sqrt
    // result select: 0 table (sin/cos sign by quadrant), 1 scaled table, 2 log, 3 rule
    wire [1:0]  rs = rule_path ? 2'd3 : is_log ? 2'd2 : (is_exp | is_recip | is_root) ? 2'd1 : 2'd0;
    wire        m1_on = exp_path | is_trig | (is_split & xsp[30:23] == 8'd0);
    wire [31:0] m1_a = ~m1_on ? 32'd0 : exp_path ? xc : is_trig ? xs : {1'b0, xsp};
    wire [31:0] m1_b = ~m1_on ? 32'd0 : exp_path ? LOG2E : is_trig ? TWO_OVER_PI : TWO24;
    wire [31:0] m1_now;
    fp32_mul u_mul_reduce (.a(m1_a), .b(m1_b), .y(m1_now));

    reg         v3, o3, spec3, rule_path3, exp_path3, xexp3, use_hi3, or_sign3;
    reg  [1:0]  rs3;
    reg  [31:0] sv3, u3, xc3, xs3, m1_3;
    reg  [30:0] xsp3;
    always @(posedge clk) begin
        v3 <= v2; o3 <= o2; spec3 <= spec; sv3 <= spec_val; rs3 <= rs; rule_path3 <= rule_path;
        exp_path3 <= exp_path; xexp3 <= rule[0]; use_hi3 <= le_hi; or_sign3 <= neg;
        u3 <= u2; xc3 <= xc; xs3 <= xs; xsp3 <= xsp; m1_3 <= m1_now;
    end

    // ---------------------------------------------------------------- 4: k, split
    wire [31:0] k_now;
    fp32_to_int u_to_int (.x(m1_3), .int8(1'b0), .y(k_now));
    wire        sub = xsp3[30:23] == 8'd0;
    wire [30:0] xn = sub ? m1_3[30:0] : xsp3;  // |u| normalized (a subnormal times 2**24, exact)
    wire [9:0]  e0 = {2'd0, xn[30:23]} - 10'd127 - (sub ? 10'd24 : 10'd0);
    wire        big = is_log & xn[22];     // log: m >= 1.5 -> m / 2, e + 1
    wire        odd = is_root & e0[0];     // rsqrt, sqrt: odd e -> m in [2, 4), e - 1
    wire [9:0]  e_now = e0 + {9'd0, big} - {9'd0, odd};
    wire [31:0] m_now = {1'b0, big ? 8'd126 : odd ? 8'd128 : 8'd127, xn[22:0]};

    reg         v4, o4, spec4, rule_path4, exp_path4, xexp4, use_hi4, or_sign4;
    reg  [1:0]  rs4;
    reg  [9:0]  e4;
    reg  [31:0] sv4, u4, xc4, xs4, k4, m4;
    always @(posedge clk) begin
        v4 <= v3; o4 <= o3; spec4 <= spec3; sv4 <= sv3; rs4 <= rs3; rule_path4 <= rule_path3;
        exp_path4 <= exp_path3; xexp4 <= xexp3; use_hi4 <= use_hi3; or_sign4 <= or_sign3 & is_recip;
        u4 <= u3; xc4 <= xc3; xs4 <= xs3; k4 <= k_now; e4 <= e_now; m4 <= m_now;
    end

    // ---------------------------------------------------------------- 5: kf / ef, quadrant, scale amount
    wire [31:0] cv_now;
    int32_to_fp32 u_to_fp (.i(is_log ? {{22{e4[9]}}, e4} : k4), .y(cv_now));
    wire [1:0]  q = k4[1:0] + {1'b0, is_cos};
    wire [9:0]  e_half = {e4[9], e4[9:1]};
    wire [9:0]  n_now = exp_path4 ? k4[9:0] : is_recip ? 10'd0 - e4 : is_rsqrt ? 10'd0 - e_half : e_half;
    // the table argument when it is known already: u (direct), m (recip, rsqrt, sqrt), u (sin/cos, k = 0)
    wire [31:0] zpre = is_direct ? u4 : is_trig ? xs4 : m4;

    // control carried to the end: valid, bf16, special, its value, result select, xexp, which
    // end's value A, sign flip (sin/cos), recip sign, scale amount n, kf/ef, clamp(u)
    localparam CW = 1 + 1 + 1 + 32 + 2 + 1 + 1 + 1 + 1 + 10 + 32 + 32;
    reg  [CW-1:0] ctl5;
    reg           rule_path5, exp_path5, kzero5, t2_5;
    reg  [31:0]   xs5, m5, zpre5;
    always @(posedge clk) begin
        ctl5 <= {v4, o4, spec4, sv4, rs4, xexp4, use_hi4, is_trig & q[1], or_sign4, n_now, cv_now, xc4};
        rule_path5 <= rule_path4; exp_path5 <= exp_path4; kzero5 <= k4 == 32'd0; t2_5 <= is_trig & q[0];
        xs5 <= xs4; m5 <= m4; zpre5 <= zpre;
    end
    wire [31:0] kf5 = ctl5[63:32];
    wire [31:0] xc5 = ctl5[31:0];

    // ---------------------------------------------------------------- 6, 7, 8: reduction fmas
    wire        f1_on = exp_path5 | is_trig | is_log;
    wire [31:0] f1_a = ~f1_on ? 32'd0 : is_log ? m5 : kf5;
    wire [31:0] f1_b = ~f1_on ? 32'd0 : is_log ? ONE : exp_path5 ? NEG_LN2_HI : NEG_PIO2_1;
    wire [31:0] f1_c = ~f1_on ? 32'd0 : is_log ? NEG_ONE : exp_path5 ? xc5 : xs5;
    wire [31:0] f1_now;
    fp32_fma u_fma_r1 (.a(f1_a), .b(f1_b), .c(f1_c), .y(f1_now));
    reg  [CW-1:0] ctl6;
    reg           rule_path6, exp_path6, kzero6, t2_6;
    reg  [31:0]   f1_6, zpre6;
    always @(posedge clk) begin
        ctl6 <= ctl5; rule_path6 <= rule_path5; exp_path6 <= exp_path5; kzero6 <= kzero5; t2_6 <= t2_5;
        f1_6 <= f1_now; zpre6 <= zpre5;
    end

    wire        f2_on = exp_path6 | is_trig;
    wire [31:0] kf6 = ctl6[63:32];
    wire [31:0] f2_now;
    fp32_fma u_fma_r2 (.a(f2_on ? kf6 : 32'd0), .b(~f2_on ? 32'd0 : exp_path6 ? NEG_LN2_LO : NEG_PIO2_2),
                       .c(f2_on ? f1_6 : 32'd0), .y(f2_now));
    reg  [CW-1:0] ctl7;
    reg           rule_path7, exp_path7, kzero7, t2_7;
    reg  [31:0]   f1_7, f2_7, zpre7;
    always @(posedge clk) begin
        ctl7 <= ctl6; rule_path7 <= rule_path6; exp_path7 <= exp_path6; kzero7 <= kzero6; t2_7 <= t2_6;
        f1_7 <= f1_6; f2_7 <= f2_now; zpre7 <= zpre6;
    end

    wire        f3_on = is_trig & ~kzero7;
    wire [31:0] kf7 = ctl7[63:32];
    wire [31:0] f3_now;
    fp32_fma u_fma_r3 (.a(f3_on ? kf7 : 32'd0), .b(f3_on ? NEG_PIO2_3 : 32'd0), .c(f3_on ? f2_7 : 32'd0),
                       .y(f3_now));
    wire [31:0] z_now = exp_path7 ? f2_7 : is_log ? f1_7 : f3_on ? f3_now : zpre7;
    reg  [CW-1:0] ctl8;
    reg  [1:0]    tsel8;  // 0 table 1, 1 table 2, 2 exp ROM
    reg  [31:0]   z8;
    always @(posedge clk) begin
        ctl8 <= ctl7; z8 <= z_now; tsel8 <= rule_path7 ? 2'd2 : {1'b0, t2_7};
    end

    // ---------------------------------------------------------------- 9: index, t, row read
    wire [31:0] dsel [0:3];
    genvar g;
    generate
        for (g = 0; g < 4; g = g + 1) begin : g_desc
            assign dsel[g] = tsel8[1] ? exp_words[32 * g +: 32] : tsel8[0] ? d2[g] : d1[g];
        end
    endgenerate
    wire [AW-1:0] offset;
    wire [31:0]   base;
    wire          tiny;
    lut_index #(.AW(AW)) u_index (.z(z8), .emin(dsel[0][7:0]), .emax(dsel[1][7:0]), .mbits(dsel[2][3:0]),
                                  .degree(dsel[3][3:0]), .row(offset), .base(base), .tiny(tiny));
    wire [AW-1:0] raddr = (tsel8 == 2'd1 ? t2_base : HEAD) + offset;
    wire [31:0]   t_now;
    fp32_add u_sub_base (.a(z8), .b(base), .sub(1'b1), .y(t_now));
    wire [ROW*32-1:0] ram_row, rom_row;
    assign ext_raddr = raddr;
    generate
        if (EXT_IMAGE != 0) begin : g_ext
            reg [127:0] d1_q;  // table 1's descriptor, words 12..15 of the header
            always @(posedge clk) if (hdr_we) d1_q <= hdr[32 * 12 +: 128];
            assign d1_words = d1_q;
            assign ram_row = ext_row;
            initial d1_q = 128'd0;
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_hdr = |hdr[32 * 9 +: 96];
            /* verilator lint_on UNUSEDSIGNAL */
        end else begin : g_ram
            lut_mem #(.AW(AW), .ROW(ROW)) u_ram (.clk(clk), .we(we), .waddr(waddr), .wdata(wdata), .raddr(raddr),
                                                 .row(ram_row), .desc(d1_words));
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_ext = |{ext_row, hdr[32 * 9 +: 96], hdr[32 * 12 +: 128]};
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate
    lut_mem #(.AW(EXP_WORDS_LOG2), .ROW(ROW), .ROM(1), .INIT(EXP_HEX), .INIT_WORDS(EXP_WORDS)) u_exp_rom (
        .clk(clk), .we(1'b0), .waddr({EXP_WORDS_LOG2{1'b0}}), .wdata(32'd0), .raddr(raddr[EXP_WORDS_LOG2-1:0]),
        .row(rom_row), .desc(exp_words));
    reg  [CW-1:0] ctl9;
    reg  [31:0]   t9;
    reg  [3:0]    deg9;
    reg           rom9;
    always @(posedge clk) begin
        ctl9 <= ctl8; t9 <= t_now; deg9 <= dsel[3][3:0]; rom9 <= tsel8[1];
    end
    wire [ROW*32-1:0] c9 = rom9 ? rom_row : ram_row;
    wire unused_tiny = tiny;

    // ---------------------------------------------------------------- 10..17: Horner, stage j = 7..0
    // hc holds c[0..j-1] after stage j at word offset j (j - 1) / 2; hp[0] is the table's result P.
    reg  [31:0]   hp [0:7];
    reg  [31:0]   ht [1:7];
    reg  [3:0]    hd [1:7];
    reg  [CW-1:0] hctl [0:7];
    reg  [32*28-1:0] hc;
    generate
        for (g = 7; g >= 0; g = g - 1) begin : g_horner
            wire [31:0] p_in, t_in, c_j, p_now;
            wire [3:0]  d_in;
            wire [CW-1:0] ctl_in;
            wire [32*(g+1)-1:0] c_in;  // c[0..j]
            if (g == 7) begin : g_first
                assign p_in = c9[32 * 8 +: 32];
                assign t_in = t9;
                assign d_in = deg9;
                assign ctl_in = ctl9;
                assign c_in = c9[32 * 8 - 1:0];
            end else begin : g_next
                assign p_in = hp[g + 1];
                assign t_in = ht[g + 1];
                assign d_in = hd[g + 1];
                assign ctl_in = hctl[g + 1];
                assign c_in = hc[32 * ((g + 1) * g / 2) +: 32 * (g + 1)];
            end
            assign c_j = c_in[32 * g +: 32];
            wire on = g < d_in;
            fp32_fma u_fma (.a(on ? p_in : 32'd0), .b(on ? t_in : 32'd0), .c(on ? c_j : 32'd0), .y(p_now));
            always @(posedge clk) hctl[g] <= ctl_in;
            if (g > 0) begin : g_carry
                always @(posedge clk) begin
                    hp[g] <= on ? p_now : c_j;
                    ht[g] <= t_in;
                    hd[g] <= d_in;
                    hc[32 * (g * (g - 1) / 2) +: 32 * g] <= c_in[32 * g - 1:0];
                end
            end else begin : g_last
                always @(posedge clk) hp[0] <= (on & t_in[30:0] != 31'd0) ? p_now : c_j;
            end
        end
    endgenerate

    // ---------------------------------------------------------------- 18..22: scaling, log, rules, result
    wire [31:0] p17 = hp[0];
    wire [CW-1:0] ctl17 = hctl[0];
    // fields of a ctl word (bit positions)
    localparam C_V = CW - 1, C_O = CW - 2, C_SPEC = CW - 3, C_SV = CW - 4, C_RS = CW - 36, C_XEXP = CW - 38,
               C_HI = CW - 39, C_FLIP = CW - 40, C_SIGN = CW - 41, C_N = CW - 42;

    // n is within [-162, 149] and each half within [-81, 75]: 2**half is a normal binary32
    /* verilator lint_off UNUSEDSIGNAL */
    function [31:0] pow2;  // 2**n, -126 <= n <= 127 (n[9:8] are sign copies)
        input [9:0] n;
        pow2 = {1'b0, n[7:0] + 8'd127, 23'd0};
    endfunction
    function [9:0] half_of;  // n >> 1 (arithmetic)
        input [9:0] n;
        half_of = {n[9], n[9:1]};
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */

    // 18
    wire [1:0]  rs17 = ctl17[C_RS -: 2];
    wire        scale17 = rs17 == 2'd1 || rs17 == 2'd3;
    wire        u1_on = rs17 == 2'd2 || (rs17 == 2'd3 && ctl17[C_XEXP]);
    wire [31:0] s1_now, u1_now;
    fp32_mul u_mul_s1 (.a(scale17 ? p17 : 32'd0), .b(scale17 ? pow2(half_of(ctl17[C_N -: 10])) : 32'd0), .y(s1_now));
    fp32_fma u_fma_q1 (.a(~u1_on ? 32'd0 : rs17 == 2'd2 ? ctl17[63:32] : ctl17[31:0]),
                       .b(~u1_on ? 32'd0 : rs17 == 2'd2 ? LN2_LO : p17),
                       .c(~u1_on ? 32'd0 : rs17 == 2'd2 ? p17 : NEG_ZERO), .y(u1_now));
    reg  [CW-1:0] ctl18;
    reg  [31:0]   p18, s1_18, u1_18;
    always @(posedge clk) begin
        ctl18 <= ctl17; p18 <= p17; s1_18 <= s1_now; u1_18 <= u1_now;
    end

    // 19
    wire [1:0]  rs18 = ctl18[C_RS -: 2];
    wire [9:0]  n18 = ctl18[C_N -: 10];
    wire        scale18 = rs18 == 2'd1 || rs18 == 2'd3;
    wire        u2_on = rs18[1];
    wire [31:0] q18 = ctl18[C_XEXP] ? u1_18 : p18;
    wire [31:0] s2_now, u2_now;
    fp32_mul u_mul_s2 (.a(scale18 ? s1_18 : 32'd0), .b(scale18 ? pow2(n18 - half_of(n18)) : 32'd0), .y(s2_now));
    fp32_fma u_fma_q2 (.a(~u2_on ? 32'd0 : rs18 == 2'd2 ? ctl18[63:32] : q18),
                       .b(~u2_on ? 32'd0 : rs18 == 2'd2 ? LN2_HI : ctl18[C_HI] ? hi_val : lo_val),
                       .c(~u2_on ? 32'd0 : rs18 == 2'd2 ? u1_18 : NEG_ZERO), .y(u2_now));
    reg  [CW-1:0] ctl19;
    reg  [31:0]   s2_19, u2_19, q19, r19;
    always @(posedge clk) begin
        ctl19 <= ctl18; s2_19 <= s2_now; u2_19 <= u2_now; q19 <= q18;
        // the result of a non-rule element: table (sign flipped by the quadrant), scaled, log
        r19 <= rs18 == 2'd0 ? {p18[31] ^ ctl18[C_FLIP], p18[30:0]} :
               rs18 == 2'd1 ? {s2_now[31] | ctl18[C_SIGN], s2_now[30:0]} : u2_now;
    end

    // 20
    wire        rule19 = ctl19[C_RS -: 2] == 2'd3;
    wire [31:0] u3_now;
    fp32_fma u_fma_q3 (.a(rule19 ? u2_19 : 32'd0), .b(rule19 ? s2_19 : 32'd0), .c(rule19 ? q19 : 32'd0),
                       .y(u3_now));
    reg  [CW-1:0] ctl20;
    reg  [31:0]   u3_20, r20;
    always @(posedge clk) begin
        ctl20 <= ctl19; u3_20 <= u3_now; r20 <= r19;
    end

    // 21
    wire        rule20 = ctl20[C_RS -: 2] == 2'd3;
    wire [31:0] s3_now;
    fp32_mul u_mul_s3 (.a(rule20 ? u3_20 : 32'd0), .b(rule20 ? pow2(half_of(ctl20[C_N -: 10])) : 32'd0),
                       .y(s3_now));
    reg  [CW-1:0] ctl21;
    reg  [31:0]   s3_21, r21;
    always @(posedge clk) begin
        ctl21 <= ctl20; s3_21 <= s3_now; r21 <= r20;
    end

    // 22
    wire        rule21 = ctl21[C_RS -: 2] == 2'd3;
    wire [9:0]  n21 = ctl21[C_N -: 10];
    wire [31:0] s4_now;
    fp32_mul u_mul_s4 (.a(rule21 ? s3_21 : 32'd0), .b(rule21 ? pow2(n21 - half_of(n21)) : 32'd0), .y(s4_now));
    wire [31:0] result = ctl21[C_SPEC] ? ctl21[C_SV -: 32] : rule21 ? s4_now : r21;
    wire [15:0] result_bf16;
    fp32_to_bf16 u_to_bf16 (.x(result), .y(result_bf16));
    always @(posedge clk) begin
        out_valid <= ctl21[C_V];
        y <= ctl21[C_O] ? {16'd0, result_bf16} : result;
    end

    initial begin
        v1 = 1'b0; v2 = 1'b0; md1 = 2'd0; md2 = 2'd0; v3 = 1'b0; v4 = 1'b0; out_valid = 1'b0; y = 32'd0;
        ctl5 = {CW{1'b0}}; ctl6 = {CW{1'b0}}; ctl7 = {CW{1'b0}}; ctl8 = {CW{1'b0}}; ctl9 = {CW{1'b0}};
        ctl18 = {CW{1'b0}}; ctl19 = {CW{1'b0}}; ctl20 = {CW{1'b0}}; ctl21 = {CW{1'b0}};
        for (i = 0; i < 8; i = i + 1) hctl[i] = {CW{1'b0}};
        magic_ok = 1'b0; kind_ok = 1'b0; ntab_one_or_two = 1'b0; two = 1'b0; lo_rule_ok = 1'b0; hi_rule_ok = 1'b0;
        kind = 3'd0; lo_rule = 2'd0; hi_rule = 2'd0; lo = 32'd0; hi = 32'd0; lo_val = 32'd0; hi_val = 32'd0;
        for (i = 0; i < 4; i = i + 1) d2[i] = 32'd0;
    end
endmodule
