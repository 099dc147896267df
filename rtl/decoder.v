`timescale 1ns/1ps
// Combinational instruction decoder for the accel ISA (isa/isa.toml, rtl/include/accel_isa.vh).
//
// Every slot field is sliced onto its own output whatever the opcode (slots sit at fixed
// positions); signed fields are two's complement. The checks:
//   valid  = known opcode AND every reserved bit zero. For an instruction with a bias operand
//            the slot of the unused bias form is reserved too: imm1 when flag = 1 (bias is an
//            ap in ap2), ap2 when flag = 0 (bias is the imm1 immediate).
//   engine = the queue: `ACCEL_ENG_PE/ACT/VEC/DMA, `ACCEL_ENG_SEQ for the sequencer, the eng
//            field for instructions that name their engine; `ACCEL_ENG_BAD when not valid.
//   slots  = slots the instruction uses (bit `ACCEL_SLOT_<NAME>), in its bias form; 0 when
//            not valid.
// Field positions, opcodes and per-opcode facts all come from the generated header.
module decoder (
    instr, valid, opcode, engine, slots,
    eng, flag, sem, imm0, imm1,
    ap0_space, ap0_pstart, ap0_pcount, ap0_offset, ap0_dtype, ap0_n0, ap0_s0, ap0_n1,
    ap0_s1, ap0_n2, ap0_s2,
    ap1_space, ap1_pstart, ap1_pcount, ap1_offset, ap1_dtype, ap1_n0, ap1_s0, ap1_n1,
    ap1_s1, ap1_n2, ap1_s2,
    ap2_space, ap2_pstart, ap2_pcount, ap2_offset, ap2_dtype, ap2_n0, ap2_s0, ap2_n1,
    ap2_s1, ap2_n2, ap2_s2,
    dram_tensor, dram_offset, dram_pstride, dram_n0, dram_s0, dram_n1, dram_s1, dram_n2, dram_s2
);

`include "accel_isa.vh"

    input  wire [`ACCEL_WORD_BITS-1:0] instr;
    output wire valid;
    output wire [`ACCEL_OPCODE_W-1:0] opcode;
    output wire [2:0] engine;
    output wire [`ACCEL_NSLOTS-1:0] slots;
    output wire [`ACCEL_F_ENG_W-1:0] eng;
    output wire [`ACCEL_F_FLAG_W-1:0] flag;
    output wire [`ACCEL_F_SEM_W-1:0] sem;
    output wire [`ACCEL_F_IMM0_W-1:0] imm0;
    output wire [`ACCEL_F_IMM1_W-1:0] imm1;
    output wire [`ACCEL_F_AP0_SPACE_W-1:0] ap0_space;
    output wire [`ACCEL_F_AP0_PSTART_W-1:0] ap0_pstart;
    output wire [`ACCEL_F_AP0_PCOUNT_W-1:0] ap0_pcount;
    output wire [`ACCEL_F_AP0_OFFSET_W-1:0] ap0_offset;
    output wire [`ACCEL_F_AP0_DTYPE_W-1:0] ap0_dtype;
    output wire [`ACCEL_F_AP0_N0_W-1:0] ap0_n0;
    output wire signed [`ACCEL_F_AP0_S0_W-1:0] ap0_s0;
    output wire [`ACCEL_F_AP0_N1_W-1:0] ap0_n1;
    output wire signed [`ACCEL_F_AP0_S1_W-1:0] ap0_s1;
    output wire [`ACCEL_F_AP0_N2_W-1:0] ap0_n2;
    output wire signed [`ACCEL_F_AP0_S2_W-1:0] ap0_s2;
    output wire [`ACCEL_F_AP1_SPACE_W-1:0] ap1_space;
    output wire [`ACCEL_F_AP1_PSTART_W-1:0] ap1_pstart;
    output wire [`ACCEL_F_AP1_PCOUNT_W-1:0] ap1_pcount;
    output wire [`ACCEL_F_AP1_OFFSET_W-1:0] ap1_offset;
    output wire [`ACCEL_F_AP1_DTYPE_W-1:0] ap1_dtype;
    output wire [`ACCEL_F_AP1_N0_W-1:0] ap1_n0;
    output wire signed [`ACCEL_F_AP1_S0_W-1:0] ap1_s0;
    output wire [`ACCEL_F_AP1_N1_W-1:0] ap1_n1;
    output wire signed [`ACCEL_F_AP1_S1_W-1:0] ap1_s1;
    output wire [`ACCEL_F_AP1_N2_W-1:0] ap1_n2;
    output wire signed [`ACCEL_F_AP1_S2_W-1:0] ap1_s2;
    output wire [`ACCEL_F_AP2_SPACE_W-1:0] ap2_space;
    output wire [`ACCEL_F_AP2_PSTART_W-1:0] ap2_pstart;
    output wire [`ACCEL_F_AP2_PCOUNT_W-1:0] ap2_pcount;
    output wire [`ACCEL_F_AP2_OFFSET_W-1:0] ap2_offset;
    output wire [`ACCEL_F_AP2_DTYPE_W-1:0] ap2_dtype;
    output wire [`ACCEL_F_AP2_N0_W-1:0] ap2_n0;
    output wire signed [`ACCEL_F_AP2_S0_W-1:0] ap2_s0;
    output wire [`ACCEL_F_AP2_N1_W-1:0] ap2_n1;
    output wire signed [`ACCEL_F_AP2_S1_W-1:0] ap2_s1;
    output wire [`ACCEL_F_AP2_N2_W-1:0] ap2_n2;
    output wire signed [`ACCEL_F_AP2_S2_W-1:0] ap2_s2;
    output wire [`ACCEL_F_DRAM_TENSOR_W-1:0] dram_tensor;
    output wire [`ACCEL_F_DRAM_OFFSET_W-1:0] dram_offset;
    output wire signed [`ACCEL_F_DRAM_PSTRIDE_W-1:0] dram_pstride;
    output wire [`ACCEL_F_DRAM_N0_W-1:0] dram_n0;
    output wire signed [`ACCEL_F_DRAM_S0_W-1:0] dram_s0;
    output wire [`ACCEL_F_DRAM_N1_W-1:0] dram_n1;
    output wire signed [`ACCEL_F_DRAM_S1_W-1:0] dram_s1;
    output wire [`ACCEL_F_DRAM_N2_W-1:0] dram_n2;
    output wire signed [`ACCEL_F_DRAM_S2_W-1:0] dram_s2;

    assign opcode = instr[`ACCEL_OPCODE_LSB +: `ACCEL_OPCODE_W];

    localparam [`ACCEL_NSLOTS-1:0] SLOT_ONE = 1;
    // flipping these two slot bits turns the bias-as-imm1 slot mask into the bias-as-ap2 one
    localparam [`ACCEL_NSLOTS-1:0] BIAS_AP_SWAP =
        (SLOT_ONE << `ACCEL_SLOT_IMM1) | (SLOT_ONE << `ACCEL_SLOT_AP2);

    wire bias_ap = accel_has_bias(opcode) & flag[0];
    wire bias_unused_set = accel_has_bias(opcode) & (bias_ap ? |imm1 : |{ap2_space, ap2_pstart,
        ap2_pcount, ap2_offset, ap2_dtype, ap2_n0, ap2_s0, ap2_n1, ap2_s1, ap2_n2, ap2_s2});
    wire reserved_set = |(instr & accel_reserved(opcode));
    wire [2:0] engine_class = accel_engine(opcode);
    wire [`ACCEL_NSLOTS-1:0] slots_imm_bias = accel_slots(opcode);

    assign valid = accel_known(opcode) & ~reserved_set & ~bias_unused_set;
    assign engine = !valid ? `ACCEL_ENG_BAD
                  : engine_class == `ACCEL_ENG_ANY ? {{(3 - `ACCEL_F_ENG_W){1'b0}}, eng}
                  : engine_class;
    assign slots = !valid ? {`ACCEL_NSLOTS{1'b0}}
                 : bias_ap ? slots_imm_bias ^ BIAS_AP_SWAP
                 : slots_imm_bias;

    assign eng = instr[`ACCEL_F_ENG_LSB +: `ACCEL_F_ENG_W];
    assign flag = instr[`ACCEL_F_FLAG_LSB +: `ACCEL_F_FLAG_W];
    assign sem = instr[`ACCEL_F_SEM_LSB +: `ACCEL_F_SEM_W];
    assign imm0 = instr[`ACCEL_F_IMM0_LSB +: `ACCEL_F_IMM0_W];
    assign imm1 = instr[`ACCEL_F_IMM1_LSB +: `ACCEL_F_IMM1_W];
    assign ap0_space = instr[`ACCEL_F_AP0_SPACE_LSB +: `ACCEL_F_AP0_SPACE_W];
    assign ap0_pstart = instr[`ACCEL_F_AP0_PSTART_LSB +: `ACCEL_F_AP0_PSTART_W];
    assign ap0_pcount = instr[`ACCEL_F_AP0_PCOUNT_LSB +: `ACCEL_F_AP0_PCOUNT_W];
    assign ap0_offset = instr[`ACCEL_F_AP0_OFFSET_LSB +: `ACCEL_F_AP0_OFFSET_W];
    assign ap0_dtype = instr[`ACCEL_F_AP0_DTYPE_LSB +: `ACCEL_F_AP0_DTYPE_W];
    assign ap0_n0 = instr[`ACCEL_F_AP0_N0_LSB +: `ACCEL_F_AP0_N0_W];
    assign ap0_s0 = instr[`ACCEL_F_AP0_S0_LSB +: `ACCEL_F_AP0_S0_W];
    assign ap0_n1 = instr[`ACCEL_F_AP0_N1_LSB +: `ACCEL_F_AP0_N1_W];
    assign ap0_s1 = instr[`ACCEL_F_AP0_S1_LSB +: `ACCEL_F_AP0_S1_W];
    assign ap0_n2 = instr[`ACCEL_F_AP0_N2_LSB +: `ACCEL_F_AP0_N2_W];
    assign ap0_s2 = instr[`ACCEL_F_AP0_S2_LSB +: `ACCEL_F_AP0_S2_W];
    assign ap1_space = instr[`ACCEL_F_AP1_SPACE_LSB +: `ACCEL_F_AP1_SPACE_W];
    assign ap1_pstart = instr[`ACCEL_F_AP1_PSTART_LSB +: `ACCEL_F_AP1_PSTART_W];
    assign ap1_pcount = instr[`ACCEL_F_AP1_PCOUNT_LSB +: `ACCEL_F_AP1_PCOUNT_W];
    assign ap1_offset = instr[`ACCEL_F_AP1_OFFSET_LSB +: `ACCEL_F_AP1_OFFSET_W];
    assign ap1_dtype = instr[`ACCEL_F_AP1_DTYPE_LSB +: `ACCEL_F_AP1_DTYPE_W];
    assign ap1_n0 = instr[`ACCEL_F_AP1_N0_LSB +: `ACCEL_F_AP1_N0_W];
    assign ap1_s0 = instr[`ACCEL_F_AP1_S0_LSB +: `ACCEL_F_AP1_S0_W];
    assign ap1_n1 = instr[`ACCEL_F_AP1_N1_LSB +: `ACCEL_F_AP1_N1_W];
    assign ap1_s1 = instr[`ACCEL_F_AP1_S1_LSB +: `ACCEL_F_AP1_S1_W];
    assign ap1_n2 = instr[`ACCEL_F_AP1_N2_LSB +: `ACCEL_F_AP1_N2_W];
    assign ap1_s2 = instr[`ACCEL_F_AP1_S2_LSB +: `ACCEL_F_AP1_S2_W];
    assign ap2_space = instr[`ACCEL_F_AP2_SPACE_LSB +: `ACCEL_F_AP2_SPACE_W];
    assign ap2_pstart = instr[`ACCEL_F_AP2_PSTART_LSB +: `ACCEL_F_AP2_PSTART_W];
    assign ap2_pcount = instr[`ACCEL_F_AP2_PCOUNT_LSB +: `ACCEL_F_AP2_PCOUNT_W];
    assign ap2_offset = instr[`ACCEL_F_AP2_OFFSET_LSB +: `ACCEL_F_AP2_OFFSET_W];
    assign ap2_dtype = instr[`ACCEL_F_AP2_DTYPE_LSB +: `ACCEL_F_AP2_DTYPE_W];
    assign ap2_n0 = instr[`ACCEL_F_AP2_N0_LSB +: `ACCEL_F_AP2_N0_W];
    assign ap2_s0 = instr[`ACCEL_F_AP2_S0_LSB +: `ACCEL_F_AP2_S0_W];
    assign ap2_n1 = instr[`ACCEL_F_AP2_N1_LSB +: `ACCEL_F_AP2_N1_W];
    assign ap2_s1 = instr[`ACCEL_F_AP2_S1_LSB +: `ACCEL_F_AP2_S1_W];
    assign ap2_n2 = instr[`ACCEL_F_AP2_N2_LSB +: `ACCEL_F_AP2_N2_W];
    assign ap2_s2 = instr[`ACCEL_F_AP2_S2_LSB +: `ACCEL_F_AP2_S2_W];
    assign dram_tensor = instr[`ACCEL_F_DRAM_TENSOR_LSB +: `ACCEL_F_DRAM_TENSOR_W];
    assign dram_offset = instr[`ACCEL_F_DRAM_OFFSET_LSB +: `ACCEL_F_DRAM_OFFSET_W];
    assign dram_pstride = instr[`ACCEL_F_DRAM_PSTRIDE_LSB +: `ACCEL_F_DRAM_PSTRIDE_W];
    assign dram_n0 = instr[`ACCEL_F_DRAM_N0_LSB +: `ACCEL_F_DRAM_N0_W];
    assign dram_s0 = instr[`ACCEL_F_DRAM_S0_LSB +: `ACCEL_F_DRAM_S0_W];
    assign dram_n1 = instr[`ACCEL_F_DRAM_N1_LSB +: `ACCEL_F_DRAM_N1_W];
    assign dram_s1 = instr[`ACCEL_F_DRAM_S1_LSB +: `ACCEL_F_DRAM_S1_W];
    assign dram_n2 = instr[`ACCEL_F_DRAM_N2_LSB +: `ACCEL_F_DRAM_N2_W];
    assign dram_s2 = instr[`ACCEL_F_DRAM_S2_LSB +: `ACCEL_F_DRAM_S2_W];

endmodule
