// GENERATED from isa/isa.toml by `accel isa gen` -- do not edit.
// accel ISA: codes, field positions and per-opcode decode facts.
// `include inside a module body (it declares functions). The guard covers only the
// defines: every module that includes it gets its own copy of the functions.
`ifndef ACCEL_ISA_VH
`define ACCEL_ISA_VH
`define ACCEL_WORD_BITS 512
`define ACCEL_OPCODE_LSB 0
`define ACCEL_OPCODE_W 8
`define ACCEL_ENG_SEQ 3'd4
`define ACCEL_ENG_ANY 3'd5
`define ACCEL_ENG_BAD 3'd7
`define ACCEL_ENG_PE 3'd0
`define ACCEL_ENG_ACT 3'd1
`define ACCEL_ENG_VEC 3'd2
`define ACCEL_ENG_DMA 3'd3
`define ACCEL_DTYPE_FP32 3'd0
`define ACCEL_DTYPE_BF16 3'd1
`define ACCEL_DTYPE_INT8 3'd2
`define ACCEL_DTYPE_INT32 3'd3
`define ACCEL_SPACE_SB 2'd0
`define ACCEL_SPACE_PSUM 2'd1
// slot fields: _LSB and _W (width)
`define ACCEL_F_AP0_SPACE_LSB 96
`define ACCEL_F_AP0_SPACE_W 2
`define ACCEL_F_AP0_PSTART_LSB 98
`define ACCEL_F_AP0_PSTART_W 8
`define ACCEL_F_AP0_PCOUNT_LSB 106
`define ACCEL_F_AP0_PCOUNT_W 9
`define ACCEL_F_AP0_OFFSET_LSB 115
`define ACCEL_F_AP0_OFFSET_W 20
`define ACCEL_F_AP0_DTYPE_LSB 135
`define ACCEL_F_AP0_DTYPE_W 3
`define ACCEL_F_AP0_N0_LSB 138
`define ACCEL_F_AP0_N0_W 16
`define ACCEL_F_AP0_S0_LSB 154
`define ACCEL_F_AP0_S0_W 16
`define ACCEL_F_AP0_N1_LSB 170
`define ACCEL_F_AP0_N1_W 16
`define ACCEL_F_AP0_S1_LSB 186
`define ACCEL_F_AP0_S1_W 16
`define ACCEL_F_AP0_N2_LSB 202
`define ACCEL_F_AP0_N2_W 16
`define ACCEL_F_AP0_S2_LSB 218
`define ACCEL_F_AP0_S2_W 16
`define ACCEL_F_AP1_SPACE_LSB 234
`define ACCEL_F_AP1_SPACE_W 2
`define ACCEL_F_AP1_PSTART_LSB 236
`define ACCEL_F_AP1_PSTART_W 8
`define ACCEL_F_AP1_PCOUNT_LSB 244
`define ACCEL_F_AP1_PCOUNT_W 9
`define ACCEL_F_AP1_OFFSET_LSB 253
`define ACCEL_F_AP1_OFFSET_W 20
`define ACCEL_F_AP1_DTYPE_LSB 273
`define ACCEL_F_AP1_DTYPE_W 3
`define ACCEL_F_AP1_N0_LSB 276
`define ACCEL_F_AP1_N0_W 16
`define ACCEL_F_AP1_S0_LSB 292
`define ACCEL_F_AP1_S0_W 16
`define ACCEL_F_AP1_N1_LSB 308
`define ACCEL_F_AP1_N1_W 16
`define ACCEL_F_AP1_S1_LSB 324
`define ACCEL_F_AP1_S1_W 16
`define ACCEL_F_AP1_N2_LSB 340
`define ACCEL_F_AP1_N2_W 16
`define ACCEL_F_AP1_S2_LSB 356
`define ACCEL_F_AP1_S2_W 16
`define ACCEL_F_AP2_SPACE_LSB 372
`define ACCEL_F_AP2_SPACE_W 2
`define ACCEL_F_AP2_PSTART_LSB 374
`define ACCEL_F_AP2_PSTART_W 8
`define ACCEL_F_AP2_PCOUNT_LSB 382
`define ACCEL_F_AP2_PCOUNT_W 9
`define ACCEL_F_AP2_OFFSET_LSB 391
`define ACCEL_F_AP2_OFFSET_W 20
`define ACCEL_F_AP2_DTYPE_LSB 411
`define ACCEL_F_AP2_DTYPE_W 3
`define ACCEL_F_AP2_N0_LSB 414
`define ACCEL_F_AP2_N0_W 16
`define ACCEL_F_AP2_S0_LSB 430
`define ACCEL_F_AP2_S0_W 16
`define ACCEL_F_AP2_N1_LSB 446
`define ACCEL_F_AP2_N1_W 16
`define ACCEL_F_AP2_S1_LSB 462
`define ACCEL_F_AP2_S1_W 16
`define ACCEL_F_AP2_N2_LSB 478
`define ACCEL_F_AP2_N2_W 16
`define ACCEL_F_AP2_S2_LSB 494
`define ACCEL_F_AP2_S2_W 16
`define ACCEL_F_DRAM_TENSOR_LSB 234
`define ACCEL_F_DRAM_TENSOR_W 8
`define ACCEL_F_DRAM_OFFSET_LSB 242
`define ACCEL_F_DRAM_OFFSET_W 32
`define ACCEL_F_DRAM_PSTRIDE_LSB 274
`define ACCEL_F_DRAM_PSTRIDE_W 24
`define ACCEL_F_DRAM_N0_LSB 298
`define ACCEL_F_DRAM_N0_W 16
`define ACCEL_F_DRAM_S0_LSB 314
`define ACCEL_F_DRAM_S0_W 24
`define ACCEL_F_DRAM_N1_LSB 338
`define ACCEL_F_DRAM_N1_W 16
`define ACCEL_F_DRAM_S1_LSB 354
`define ACCEL_F_DRAM_S1_W 24
`define ACCEL_F_DRAM_N2_LSB 378
`define ACCEL_F_DRAM_N2_W 16
`define ACCEL_F_DRAM_S2_LSB 394
`define ACCEL_F_DRAM_S2_W 24
`define ACCEL_F_ENG_LSB 8
`define ACCEL_F_ENG_W 2
`define ACCEL_F_FLAG_LSB 10
`define ACCEL_F_FLAG_W 1
`define ACCEL_F_IMM0_LSB 32
`define ACCEL_F_IMM0_W 32
`define ACCEL_F_IMM1_LSB 64
`define ACCEL_F_IMM1_W 32
`define ACCEL_F_SEM_LSB 16
`define ACCEL_F_SEM_W 8
// slot-use bits returned by accel_slots(), one per slot:
`define ACCEL_SLOT_AP0 0
`define ACCEL_SLOT_AP1 1
`define ACCEL_SLOT_AP2 2
`define ACCEL_SLOT_DRAM 3
`define ACCEL_SLOT_ENG 4
`define ACCEL_SLOT_FLAG 5
`define ACCEL_SLOT_IMM0 6
`define ACCEL_SLOT_IMM1 7
`define ACCEL_SLOT_SEM 8
`define ACCEL_NSLOTS 9
// opcodes
`define ACCEL_OP_NOP 8'h00
`define ACCEL_OP_HALT 8'h01
`define ACCEL_OP_SEM_SIGNAL 8'h02
`define ACCEL_OP_SEM_WAIT 8'h03
`define ACCEL_OP_DMA_LOAD 8'h10
`define ACCEL_OP_DMA_STORE 8'h11
`define ACCEL_OP_PE_LOAD_WEIGHTS 8'h20
`define ACCEL_OP_PE_MATMUL 8'h21
`define ACCEL_OP_PE_LOAD_SPARSE 8'h24
`define ACCEL_OP_PE_MATMUL_SPARSE 8'h25
`define ACCEL_OP_VEC_ADD 8'h30
`define ACCEL_OP_VEC_SUB 8'h31
`define ACCEL_OP_VEC_MUL 8'h32
`define ACCEL_OP_VEC_MAX 8'h33
`define ACCEL_OP_VEC_MIN 8'h34
`define ACCEL_OP_VEC_ADDS 8'h38
`define ACCEL_OP_VEC_SUBS 8'h39
`define ACCEL_OP_VEC_MULS 8'h3a
`define ACCEL_OP_VEC_MAXS 8'h3b
`define ACCEL_OP_VEC_MINS 8'h3c
`define ACCEL_OP_VEC_REDUCE_SUM 8'h40
`define ACCEL_OP_VEC_REDUCE_MAX 8'h41
`define ACCEL_OP_VEC_COPY 8'h48
`define ACCEL_OP_VEC_CAST 8'h49
`define ACCEL_OP_ACT_IDENTITY 8'h50
`define ACCEL_OP_ACT_RELU 8'h51
`define ACCEL_OP_ACT_FUNC 8'h52
`define ACCEL_OP_ACT_LUT_LOAD 8'h53
`define ACCEL_OP_VEC_RNG_SEED 8'h60
`define ACCEL_OP_VEC_RNG_SET_OFFSET 8'h61
`define ACCEL_OP_VEC_RNG_GET_OFFSET 8'h62
`define ACCEL_OP_VEC_RNG_SET_STRIDE 8'h63
`define ACCEL_OP_VEC_RNG_SAVE_STATE 8'h64
`define ACCEL_OP_VEC_RNG_LOAD_STATE 8'h65
`define ACCEL_OP_VEC_RNG_FILL 8'h66
`define ACCEL_OP_VEC_DROPOUT 8'h67
`define ACCEL_OP_VEC_DROPOUT_MASK 8'h68
`define ACCEL_OP_VEC_DROPOUT_APPLY 8'h69
`endif
function accel_known;
    input [7:0] op;
    begin
        case (op)
            8'h00: accel_known = 1'b1;
            8'h01: accel_known = 1'b1;
            8'h02: accel_known = 1'b1;
            8'h03: accel_known = 1'b1;
            8'h10: accel_known = 1'b1;
            8'h11: accel_known = 1'b1;
            8'h20: accel_known = 1'b1;
            8'h21: accel_known = 1'b1;
            8'h24: accel_known = 1'b1;
            8'h25: accel_known = 1'b1;
            8'h30: accel_known = 1'b1;
            8'h31: accel_known = 1'b1;
            8'h32: accel_known = 1'b1;
            8'h33: accel_known = 1'b1;
            8'h34: accel_known = 1'b1;
            8'h38: accel_known = 1'b1;
            8'h39: accel_known = 1'b1;
            8'h3a: accel_known = 1'b1;
            8'h3b: accel_known = 1'b1;
            8'h3c: accel_known = 1'b1;
            8'h40: accel_known = 1'b1;
            8'h41: accel_known = 1'b1;
            8'h48: accel_known = 1'b1;
            8'h49: accel_known = 1'b1;
            8'h50: accel_known = 1'b1;
            8'h51: accel_known = 1'b1;
            8'h52: accel_known = 1'b1;
            8'h53: accel_known = 1'b1;
            8'h60: accel_known = 1'b1;
            8'h61: accel_known = 1'b1;
            8'h62: accel_known = 1'b1;
            8'h63: accel_known = 1'b1;
            8'h64: accel_known = 1'b1;
            8'h65: accel_known = 1'b1;
            8'h66: accel_known = 1'b1;
            8'h67: accel_known = 1'b1;
            8'h68: accel_known = 1'b1;
            8'h69: accel_known = 1'b1;
            default: accel_known = 1'b0;
        endcase
    end
endfunction
function [2:0] accel_engine;
    input [7:0] op;
    begin
        case (op)
            8'h00: accel_engine = 3'd5;
            8'h01: accel_engine = 3'd4;
            8'h02: accel_engine = 3'd5;
            8'h03: accel_engine = 3'd5;
            8'h10: accel_engine = 3'd3;
            8'h11: accel_engine = 3'd3;
            8'h20: accel_engine = 3'd0;
            8'h21: accel_engine = 3'd0;
            8'h24: accel_engine = 3'd0;
            8'h25: accel_engine = 3'd0;
            8'h30: accel_engine = 3'd2;
            8'h31: accel_engine = 3'd2;
            8'h32: accel_engine = 3'd2;
            8'h33: accel_engine = 3'd2;
            8'h34: accel_engine = 3'd2;
            8'h38: accel_engine = 3'd2;
            8'h39: accel_engine = 3'd2;
            8'h3a: accel_engine = 3'd2;
            8'h3b: accel_engine = 3'd2;
            8'h3c: accel_engine = 3'd2;
            8'h40: accel_engine = 3'd2;
            8'h41: accel_engine = 3'd2;
            8'h48: accel_engine = 3'd2;
            8'h49: accel_engine = 3'd2;
            8'h50: accel_engine = 3'd1;
            8'h51: accel_engine = 3'd1;
            8'h52: accel_engine = 3'd1;
            8'h53: accel_engine = 3'd1;
            8'h60: accel_engine = 3'd2;
            8'h61: accel_engine = 3'd2;
            8'h62: accel_engine = 3'd2;
            8'h63: accel_engine = 3'd2;
            8'h64: accel_engine = 3'd2;
            8'h65: accel_engine = 3'd2;
            8'h66: accel_engine = 3'd2;
            8'h67: accel_engine = 3'd2;
            8'h68: accel_engine = 3'd2;
            8'h69: accel_engine = 3'd2;
            default: accel_engine = `ACCEL_ENG_BAD;
        endcase
    end
endfunction
function [8:0] accel_slots;
    input [7:0] op;
    begin
        case (op)
            8'h00: accel_slots = 9'h10;
            8'h01: accel_slots = 9'h0;
            8'h02: accel_slots = 9'h150;
            8'h03: accel_slots = 9'h150;
            8'h10: accel_slots = 9'h9;
            8'h11: accel_slots = 9'h9;
            8'h20: accel_slots = 9'h1;
            8'h21: accel_slots = 9'h23;
            8'h24: accel_slots = 9'hc3;
            8'h25: accel_slots = 9'h23;
            8'h30: accel_slots = 9'h7;
            8'h31: accel_slots = 9'h7;
            8'h32: accel_slots = 9'h7;
            8'h33: accel_slots = 9'h7;
            8'h34: accel_slots = 9'h7;
            8'h38: accel_slots = 9'h43;
            8'h39: accel_slots = 9'h43;
            8'h3a: accel_slots = 9'h43;
            8'h3b: accel_slots = 9'h43;
            8'h3c: accel_slots = 9'h43;
            8'h40: accel_slots = 9'h3;
            8'h41: accel_slots = 9'h3;
            8'h48: accel_slots = 9'h3;
            8'h49: accel_slots = 9'h3;
            8'h50: accel_slots = 9'he3;
            8'h51: accel_slots = 9'he3;
            8'h52: accel_slots = 9'h1e3;
            8'h53: accel_slots = 9'h102;
            8'h60: accel_slots = 9'hc0;
            8'h61: accel_slots = 9'hc0;
            8'h62: accel_slots = 9'h1;
            8'h63: accel_slots = 9'h40;
            8'h64: accel_slots = 9'h1;
            8'h65: accel_slots = 9'h1;
            8'h66: accel_slots = 9'ha1;
            8'h67: accel_slots = 9'he3;
            8'h68: accel_slots = 9'he7;
            8'h69: accel_slots = 9'h47;
            default: accel_slots = 9'h0;
        endcase
    end
endfunction
// Bias operands: with flag = 1 the bias is an ap in slot ap2 and imm1 is unused.
function accel_has_bias;
    input [7:0] op;
    begin
        case (op)
            8'h50: accel_has_bias = 1'b1;
            8'h51: accel_has_bias = 1'b1;
            8'h52: accel_has_bias = 1'b1;
            default: accel_has_bias = 1'b0;
        endcase
    end
endfunction
function [511:0] accel_reserved;
    input [7:0] op;
    begin
        case (op)
            8'h00: accel_reserved = 512'hfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffc00;
            8'h01: accel_reserved = 512'hffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00;
            8'h02: accel_reserved = 512'hffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000ff00fc00;
            8'h03: accel_reserved = 512'hffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000ff00fc00;
            8'h10: accel_reserved = 512'hfffffffffffffffffffffffc00000000000000000000000000000000000000000000000000000000000000000000000000000000ffffffffffffffffffffff00;
            8'h11: accel_reserved = 512'hfffffffffffffffffffffffc00000000000000000000000000000000000000000000000000000000000000000000000000000000ffffffffffffffffffffff00;
            8'h20: accel_reserved = 512'hfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffc0000000000000000000000000000000000ffffffffffffffffffffff00;
            8'h21: accel_reserved = 512'hfffffffffffffffffffffffffffffffffff000000000000000000000000000000000000000000000000000000000000000000000fffffffffffffffffffffb00;
            8'h24: accel_reserved = 512'hfffffffffffffffffffffffffffffffffff0000000000000000000000000000000000000000000000000000000000000000000000000000000000000ffffff00;
            8'h25: accel_reserved = 512'hfffffffffffffffffffffffffffffffffff000000000000000000000000000000000000000000000000000000000000000000000fffffffffffffffffffffb00;
            8'h30: accel_reserved = 512'hc0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000ffffffffffffffffffffff00;
            8'h31: accel_reserved = 512'hc0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000ffffffffffffffffffffff00;
            8'h32: accel_reserved = 512'hc0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000ffffffffffffffffffffff00;
            8'h33: accel_reserved = 512'hc0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000ffffffffffffffffffffff00;
            8'h34: accel_reserved = 512'hc0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000ffffffffffffffffffffff00;
            8'h38: accel_reserved = 512'hfffffffffffffffffffffffffffffffffff000000000000000000000000000000000000000000000000000000000000000000000ffffffff00000000ffffff00;
            8'h39: accel_reserved = 512'hfffffffffffffffffffffffffffffffffff000000000000000000000000000000000000000000000000000000000000000000000ffffffff00000000ffffff00;
            8'h3a: accel_reserved = 512'hfffffffffffffffffffffffffffffffffff000000000000000000000000000000000000000000000000000000000000000000000ffffffff00000000ffffff00;
            8'h3b: accel_reserved = 512'hfffffffffffffffffffffffffffffffffff000000000000000000000000000000000000000000000000000000000000000000000ffffffff00000000ffffff00;
            8'h3c: accel_reserved = 512'hfffffffffffffffffffffffffffffffffff000000000000000000000000000000000000000000000000000000000000000000000ffffffff00000000ffffff00;
            8'h40: accel_reserved = 512'hfffffffffffffffffffffffffffffffffff000000000000000000000000000000000000000000000000000000000000000000000ffffffffffffffffffffff00;
            8'h41: accel_reserved = 512'hfffffffffffffffffffffffffffffffffff000000000000000000000000000000000000000000000000000000000000000000000ffffffffffffffffffffff00;
            8'h48: accel_reserved = 512'hfffffffffffffffffffffffffffffffffff000000000000000000000000000000000000000000000000000000000000000000000ffffffffffffffffffffff00;
            8'h49: accel_reserved = 512'hfffffffffffffffffffffffffffffffffff000000000000000000000000000000000000000000000000000000000000000000000ffffffffffffffffffffff00;
            8'h50: accel_reserved = 512'hc00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000fffffb00;
            8'h51: accel_reserved = 512'hc00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000fffffb00;
            8'h52: accel_reserved = 512'hc00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000ff00fb00;
            8'h53: accel_reserved = 512'hfffffffffffffffffffffffffffffffffff00000000000000000000000000000000003ffffffffffffffffffffffffffffffffffffffffffffffffffff00ff00;
            8'h60: accel_reserved = 512'hffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff0000000000000000ffffff00;
            8'h61: accel_reserved = 512'hffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff0000000000000000ffffff00;
            8'h62: accel_reserved = 512'hfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffc0000000000000000000000000000000000ffffffffffffffffffffff00;
            8'h63: accel_reserved = 512'hffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff00000000ffffff00;
            8'h64: accel_reserved = 512'hfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffc0000000000000000000000000000000000ffffffffffffffffffffff00;
            8'h65: accel_reserved = 512'hfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffc0000000000000000000000000000000000ffffffffffffffffffffff00;
            8'h66: accel_reserved = 512'hfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffc000000000000000000000000000000000000000000fffffffffffffb00;
            8'h67: accel_reserved = 512'hfffffffffffffffffffffffffffffffffff0000000000000000000000000000000000000000000000000000000000000000000000000000000000000fffffb00;
            8'h68: accel_reserved = 512'hc00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000fffffb00;
            8'h69: accel_reserved = 512'hc0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000ffffffff00000000ffffff00;
            default: accel_reserved = {512{1'b0}};
        endcase
    end
endfunction
