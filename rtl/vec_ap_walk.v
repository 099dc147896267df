`timescale 1ns/1ps
// vec_ap_walk: walks one on-chip access pattern (docs/emulator.md) in the model's row-major
// element order (accel.isa.operands.AP.element_offsets): dims outermost first, up to three, an
// unused dim has n = 0. `addr` is the byte address inside the partition of the current element:
// offset + (k0*s0 + k1*s1 + k2*s2) * element size, kept as three running products so no multiplier
// is needed. Latency 0: `load` (pattern fields) and `step` act at the rising edge; `addr`, `last`
// (current element is the pattern's last) and `inner_last` (last of the innermost dim, the
// reduction group end) follow combinationally from the registers.
// The pattern is slot AP (0, 1, 2: the word's ap0, ap1, ap2) of the 512-bit instruction `word`.
module vec_ap_walk #(
    parameter AP = 0
) (
    input  wire         clk,
    input  wire         load,
    input  wire         step,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [511:0] word,   // only slot AP's offset, dtype, counts and strides are read
    /* verilator lint_on UNUSEDSIGNAL */
    output wire [19:0]  addr,
    output wire         last,
    output wire         inner_last
);
`include "accel_isa.vh"
    // every slot has ap0's layout, from its own first bit
    localparam B = (AP == 0 ? `ACCEL_F_AP0_SPACE_LSB : AP == 1 ? `ACCEL_F_AP1_SPACE_LSB : `ACCEL_F_AP2_SPACE_LSB)
                   - `ACCEL_F_AP0_SPACE_LSB;
    wire [19:0] offset = word[B + `ACCEL_F_AP0_OFFSET_LSB +: 20];
    wire [2:0]  dtype = word[B + `ACCEL_F_AP0_DTYPE_LSB +: 3];
    wire [15:0] n0 = word[B + `ACCEL_F_AP0_N0_LSB +: 16];
    wire [15:0] s0 = word[B + `ACCEL_F_AP0_S0_LSB +: 16];
    wire [15:0] n1 = word[B + `ACCEL_F_AP0_N1_LSB +: 16];
    wire [15:0] s1 = word[B + `ACCEL_F_AP0_S1_LSB +: 16];
    wire [15:0] n2 = word[B + `ACCEL_F_AP0_N2_LSB +: 16];
    wire [15:0] s2 = word[B + `ACCEL_F_AP0_S2_LSB +: 16];

    // normalized: dims a (outer), b, c (inner); a missing outer dim is (1, 0)
    reg [15:0] na, nb, nc, ka, kb, kc;
    reg [19:0] sa, sb, sc, oa, ob, oc;  // element strides and running offsets, two's complement mod 2**20
    reg [19:0] base;
    reg [1:0]  shift;                   // log2 of the element size

    wire [19:0] elem = oa + ob + oc;
    wire [19:0] byte_off = elem << shift;  // valid patterns stay inside the 20-bit offset range
    assign addr = base + byte_off;
    assign inner_last = kc == nc - 16'd1;
    assign last = inner_last && kb == nb - 16'd1 && ka == na - 16'd1;

    always @(posedge clk) begin
        if (load) begin
            if (n1 == 16'd0) begin
                na <= 16'd1; sa <= 20'd0; nb <= 16'd1; sb <= 20'd0; nc <= n0; sc <= {{4{s0[15]}}, s0};
            end else if (n2 == 16'd0) begin
                na <= 16'd1; sa <= 20'd0; nb <= n0; sb <= {{4{s0[15]}}, s0}; nc <= n1; sc <= {{4{s1[15]}}, s1};
            end else begin
                na <= n0; sa <= {{4{s0[15]}}, s0}; nb <= n1; sb <= {{4{s1[15]}}, s1};
                nc <= n2; sc <= {{4{s2[15]}}, s2};
            end
            ka <= 16'd0; kb <= 16'd0; kc <= 16'd0;
            oa <= 20'd0; ob <= 20'd0; oc <= 20'd0;
            base <= offset;
            shift <= (dtype == 3'd1) ? 2'd1 : (dtype == 3'd2) ? 2'd0 : 2'd2;  // bf16 2, int8 1, else 4 bytes
        end else if (step) begin
            if (!inner_last) begin
                kc <= kc + 16'd1; oc <= oc + sc;
            end else begin
                kc <= 16'd0; oc <= 20'd0;
                if (kb != nb - 16'd1) begin
                    kb <= kb + 16'd1; ob <= ob + sb;
                end else begin
                    kb <= 16'd0; ob <= 20'd0;
                    ka <= ka + 16'd1; oa <= oa + sa;
                end
            end
        end
    end
endmodule
