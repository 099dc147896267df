`timescale 1ns/1ps
// fp32_fma: binary32 a * b + c with a single rounding (the product is never rounded),
// nearest even, subnormals kept, canonical NaN. Combinational, latency 0.
// Mirrors accel.model.fp.fma: the exact 48-bit product and c are both normalized to 60-bit
// significands, ordered by magnitude, aligned with a sticky bit, added exactly, rounded once.
module fp32_fma (
    input  wire [31:0] a,
    input  wire [31:0] b,
    input  wire [31:0] c,
    output wire [31:0] y
);
    wire [23:0] ma = {a[30:23] != 8'd0, a[22:0]};
    wire [23:0] mb = {b[30:23] != 8'd0, b[22:0]};
    wire [23:0] mc = {c[30:23] != 8'd0, c[22:0]};
    wire [7:0]  fa = (a[30:23] == 8'd0) ? 8'd1 : a[30:23];
    wire [7:0]  fb = (b[30:23] == 8'd0) ? 8'd1 : b[30:23];
    wire [7:0]  fc = (c[30:23] == 8'd0) ? 8'd1 : c[30:23];
    wire        sp = a[31] ^ b[31];

    // Exact product; normalize product and addend so their leading one sits at bit 59.
    wire [47:0] p = ma * mb;
    wire [59:0] p_top, c_top;
    wire [5:0]  lzp, lzc;
    fp_norm #(.W(60), .LW(6)) u_norm_p (.x({p, 12'd0}), .y(p_top), .lz(lzp));
    fp_norm #(.W(60), .LW(6)) u_norm_c (.x({mc, 36'd0}), .y(c_top), .lz(lzc));
    wire [63:0] pn = {4'd0, p_top};
    wire [63:0] cn = {4'd0, c_top};
    // LSB exponents of pn and cn: (fa + fb - 300) - 12 - lzp and (fc - 150) - 36 - lzc.
    wire [11:0] ep = {4'd0, fa} + {4'd0, fb} - 12'd312 - {6'd0, lzp};
    wire [11:0] ec = {4'd0, fc} - 12'd186 - {6'd0, lzc};
    wire        p_zero = p == 48'd0;
    wire        c_zero = mc == 24'd0;

    // x is the addend of larger magnitude (a zero addend is always the smaller one).
    wire ec_gt = $signed(ec) > $signed(ep);
    wire swap = ~c_zero & (p_zero | ec_gt | ((ec == ep) & (cn > pn)));
    wire [63:0] mx = swap ? cn : pn;
    wire [63:0] mz = swap ? pn : cn;
    wire [11:0] ex = swap ? ec : ep;
    wire [11:0] ez = swap ? ep : ec;
    wire        sx = swap ? c[31] : sp;
    wire        sz = swap ? sp : c[31];

    // Align z to x; bits shifted out become the sticky bit (a zero z contributes nothing).
    wire [11:0] diff = ex - ez;
    wire [5:0]  d = (diff > 12'd63) ? 6'd63 : diff[5:0];
    wire [63:0] z_aligned = mz >> d;
    wire        sticky = |(mz & ~({64{1'b1}} << d));

    wire        same = sx == sz;
    wire [63:0] m = same ? mx + z_aligned : mx - z_aligned - {63'd0, sticky};
    wire        exact_zero = (m == 64'd0) & ~sticky;
    wire        sign = exact_zero ? (sx & sz) : sx;

    wire [31:0] finite;
    fp32_round #(.W(64), .LW(6), .EW(12)) u_round (
        .sign(sign), .m(m), .e(ex), .sticky(sticky), .y(finite)
    );

    wire a_inf = a[30:0] == 31'h7F800000;
    wire b_inf = b[30:0] == 31'h7F800000;
    wire c_inf = c[30:0] == 31'h7F800000;
    wire p_inf = a_inf | b_inf;
    wire any_nan = (a[30:0] > 31'h7F800000) | (b[30:0] > 31'h7F800000) |
                   (c[30:0] > 31'h7F800000);
    wire nan = any_nan | (p_inf & ((a[30:0] == 31'd0) | (b[30:0] == 31'd0))) |
               (p_inf & c_inf & (sp != c[31]));
    assign y = nan ? 32'h7FC00000 :
               p_inf ? {sp, 31'h7F800000} :
               c_inf ? {c[31], 31'h7F800000} : finite;
endmodule
