`timescale 1ns/1ps
// Bulk bench for rtl/decoder.v: sweeps words from a $readmemh file through the decoder, one
// per clock, and compares all outputs, packed as in accel/tb/decoder_ref.py, with expected
// vectors from a second file (sim/mismatch_check.v counts the mismatches). Python touches only the start
// and the end of a batch.
//
// Protocol: write decoder_words.hex and decoder_expect.hex (n_vectors lines each) into the
// simulator's working directory, set n_vectors and pulse start for one clock; done rises
// after the last vector, with the mismatch count and the index and outputs of the first
// mismatch.
module decoder_tb (clk, start, n_vectors, done, checked, mismatches, first_bad, first_got);
`include "accel_isa.vh"

    parameter AW = 17;  // log2 of the largest batch
    localparam VEC_W =
        1 + `ACCEL_OPCODE_W + 3 + `ACCEL_NSLOTS + `ACCEL_F_ENG_W + `ACCEL_F_FLAG_W +
        `ACCEL_F_SEM_W + `ACCEL_F_IMM0_W + `ACCEL_F_IMM1_W + `ACCEL_F_AP0_SPACE_W +
        `ACCEL_F_AP0_PSTART_W + `ACCEL_F_AP0_PCOUNT_W + `ACCEL_F_AP0_OFFSET_W +
        `ACCEL_F_AP0_DTYPE_W + `ACCEL_F_AP0_N0_W + `ACCEL_F_AP0_S0_W + `ACCEL_F_AP0_N1_W
        + `ACCEL_F_AP0_S1_W + `ACCEL_F_AP0_N2_W + `ACCEL_F_AP0_S2_W +
        `ACCEL_F_AP1_SPACE_W + `ACCEL_F_AP1_PSTART_W + `ACCEL_F_AP1_PCOUNT_W +
        `ACCEL_F_AP1_OFFSET_W + `ACCEL_F_AP1_DTYPE_W + `ACCEL_F_AP1_N0_W +
        `ACCEL_F_AP1_S0_W + `ACCEL_F_AP1_N1_W + `ACCEL_F_AP1_S1_W + `ACCEL_F_AP1_N2_W +
        `ACCEL_F_AP1_S2_W + `ACCEL_F_AP2_SPACE_W + `ACCEL_F_AP2_PSTART_W +
        `ACCEL_F_AP2_PCOUNT_W + `ACCEL_F_AP2_OFFSET_W + `ACCEL_F_AP2_DTYPE_W +
        `ACCEL_F_AP2_N0_W + `ACCEL_F_AP2_S0_W + `ACCEL_F_AP2_N1_W + `ACCEL_F_AP2_S1_W +
        `ACCEL_F_AP2_N2_W + `ACCEL_F_AP2_S2_W + `ACCEL_F_DRAM_TENSOR_W +
        `ACCEL_F_DRAM_OFFSET_W + `ACCEL_F_DRAM_PSTRIDE_W + `ACCEL_F_DRAM_N0_W +
        `ACCEL_F_DRAM_S0_W + `ACCEL_F_DRAM_N1_W + `ACCEL_F_DRAM_S1_W +
        `ACCEL_F_DRAM_N2_W + `ACCEL_F_DRAM_S2_W;

    input  wire clk;
    input  wire start;
    input  wire [AW:0] n_vectors;
    output reg done;
    output wire [AW:0] checked;
    output wire [31:0] mismatches;
    output wire [31:0] first_bad;
    output wire [VEC_W-1:0] first_got;

    reg [`ACCEL_WORD_BITS-1:0] words [0:(1 << AW) - 1];
    reg [VEC_W-1:0] expected [0:(1 << AW) - 1];
    reg [`ACCEL_WORD_BITS-1:0] instr;
    reg [AW:0] idx;
    reg running;

    wire valid;
    wire [`ACCEL_OPCODE_W-1:0] opcode;
    wire [2:0] engine;
    wire [`ACCEL_NSLOTS-1:0] slots;
    wire [`ACCEL_F_ENG_W-1:0] eng;
    wire [`ACCEL_F_FLAG_W-1:0] flag;
    wire [`ACCEL_F_SEM_W-1:0] sem;
    wire [`ACCEL_F_IMM0_W-1:0] imm0;
    wire [`ACCEL_F_IMM1_W-1:0] imm1;
    wire [`ACCEL_F_AP0_SPACE_W-1:0] ap0_space;
    wire [`ACCEL_F_AP0_PSTART_W-1:0] ap0_pstart;
    wire [`ACCEL_F_AP0_PCOUNT_W-1:0] ap0_pcount;
    wire [`ACCEL_F_AP0_OFFSET_W-1:0] ap0_offset;
    wire [`ACCEL_F_AP0_DTYPE_W-1:0] ap0_dtype;
    wire [`ACCEL_F_AP0_N0_W-1:0] ap0_n0;
    wire [`ACCEL_F_AP0_S0_W-1:0] ap0_s0;
    wire [`ACCEL_F_AP0_N1_W-1:0] ap0_n1;
    wire [`ACCEL_F_AP0_S1_W-1:0] ap0_s1;
    wire [`ACCEL_F_AP0_N2_W-1:0] ap0_n2;
    wire [`ACCEL_F_AP0_S2_W-1:0] ap0_s2;
    wire [`ACCEL_F_AP1_SPACE_W-1:0] ap1_space;
    wire [`ACCEL_F_AP1_PSTART_W-1:0] ap1_pstart;
    wire [`ACCEL_F_AP1_PCOUNT_W-1:0] ap1_pcount;
    wire [`ACCEL_F_AP1_OFFSET_W-1:0] ap1_offset;
    wire [`ACCEL_F_AP1_DTYPE_W-1:0] ap1_dtype;
    wire [`ACCEL_F_AP1_N0_W-1:0] ap1_n0;
    wire [`ACCEL_F_AP1_S0_W-1:0] ap1_s0;
    wire [`ACCEL_F_AP1_N1_W-1:0] ap1_n1;
    wire [`ACCEL_F_AP1_S1_W-1:0] ap1_s1;
    wire [`ACCEL_F_AP1_N2_W-1:0] ap1_n2;
    wire [`ACCEL_F_AP1_S2_W-1:0] ap1_s2;
    wire [`ACCEL_F_AP2_SPACE_W-1:0] ap2_space;
    wire [`ACCEL_F_AP2_PSTART_W-1:0] ap2_pstart;
    wire [`ACCEL_F_AP2_PCOUNT_W-1:0] ap2_pcount;
    wire [`ACCEL_F_AP2_OFFSET_W-1:0] ap2_offset;
    wire [`ACCEL_F_AP2_DTYPE_W-1:0] ap2_dtype;
    wire [`ACCEL_F_AP2_N0_W-1:0] ap2_n0;
    wire [`ACCEL_F_AP2_S0_W-1:0] ap2_s0;
    wire [`ACCEL_F_AP2_N1_W-1:0] ap2_n1;
    wire [`ACCEL_F_AP2_S1_W-1:0] ap2_s1;
    wire [`ACCEL_F_AP2_N2_W-1:0] ap2_n2;
    wire [`ACCEL_F_AP2_S2_W-1:0] ap2_s2;
    wire [`ACCEL_F_DRAM_TENSOR_W-1:0] dram_tensor;
    wire [`ACCEL_F_DRAM_OFFSET_W-1:0] dram_offset;
    wire [`ACCEL_F_DRAM_PSTRIDE_W-1:0] dram_pstride;
    wire [`ACCEL_F_DRAM_N0_W-1:0] dram_n0;
    wire [`ACCEL_F_DRAM_S0_W-1:0] dram_s0;
    wire [`ACCEL_F_DRAM_N1_W-1:0] dram_n1;
    wire [`ACCEL_F_DRAM_S1_W-1:0] dram_s1;
    wire [`ACCEL_F_DRAM_N2_W-1:0] dram_n2;
    wire [`ACCEL_F_DRAM_S2_W-1:0] dram_s2;

    decoder dut (
        .instr(instr),
        .valid(valid),
        .opcode(opcode),
        .engine(engine),
        .slots(slots),
        .eng(eng),
        .flag(flag),
        .sem(sem),
        .imm0(imm0),
        .imm1(imm1),
        .ap0_space(ap0_space),
        .ap0_pstart(ap0_pstart),
        .ap0_pcount(ap0_pcount),
        .ap0_offset(ap0_offset),
        .ap0_dtype(ap0_dtype),
        .ap0_n0(ap0_n0),
        .ap0_s0(ap0_s0),
        .ap0_n1(ap0_n1),
        .ap0_s1(ap0_s1),
        .ap0_n2(ap0_n2),
        .ap0_s2(ap0_s2),
        .ap1_space(ap1_space),
        .ap1_pstart(ap1_pstart),
        .ap1_pcount(ap1_pcount),
        .ap1_offset(ap1_offset),
        .ap1_dtype(ap1_dtype),
        .ap1_n0(ap1_n0),
        .ap1_s0(ap1_s0),
        .ap1_n1(ap1_n1),
        .ap1_s1(ap1_s1),
        .ap1_n2(ap1_n2),
        .ap1_s2(ap1_s2),
        .ap2_space(ap2_space),
        .ap2_pstart(ap2_pstart),
        .ap2_pcount(ap2_pcount),
        .ap2_offset(ap2_offset),
        .ap2_dtype(ap2_dtype),
        .ap2_n0(ap2_n0),
        .ap2_s0(ap2_s0),
        .ap2_n1(ap2_n1),
        .ap2_s1(ap2_s1),
        .ap2_n2(ap2_n2),
        .ap2_s2(ap2_s2),
        .dram_tensor(dram_tensor),
        .dram_offset(dram_offset),
        .dram_pstride(dram_pstride),
        .dram_n0(dram_n0),
        .dram_s0(dram_s0),
        .dram_n1(dram_n1),
        .dram_s1(dram_s1),
        .dram_n2(dram_n2),
        .dram_s2(dram_s2)
    );

    wire [VEC_W-1:0] got = {
        valid, opcode, engine, slots, eng, flag, sem, imm0, imm1, ap0_space, ap0_pstart,
        ap0_pcount, ap0_offset, ap0_dtype, ap0_n0, ap0_s0, ap0_n1, ap0_s1, ap0_n2,
        ap0_s2, ap1_space, ap1_pstart, ap1_pcount, ap1_offset, ap1_dtype, ap1_n0,
        ap1_s0, ap1_n1, ap1_s1, ap1_n2, ap1_s2, ap2_space, ap2_pstart, ap2_pcount,
        ap2_offset, ap2_dtype, ap2_n0, ap2_s0, ap2_n1, ap2_s1, ap2_n2, ap2_s2,
        dram_tensor, dram_offset, dram_pstride, dram_n0, dram_s0, dram_n1, dram_s1,
        dram_n2, dram_s2
    };

    mismatch_check #(.W(VEC_W), .CW(AW + 1)) u_check (
        .clk(clk), .clear(start), .check(running), .got(got), .want(expected[idx[AW-1:0]]),
        .checked(checked), .mismatches(mismatches), .first_bad_index(first_bad), .first_bad_got(first_got));

    initial begin
        done = 1'b0;
        running = 1'b0;
    end

    always @(posedge clk) begin
        if (start) begin
            $readmemh("decoder_words.hex", words, 0, n_vectors - 1);
            $readmemh("decoder_expect.hex", expected, 0, n_vectors - 1);
            instr <= words[0];
            idx <= 0;
            done <= 1'b0;
            running <= 1'b1;
        end else if (running) begin
            if (idx + 1'b1 == n_vectors) begin
                running <= 1'b0;
                done <= 1'b1;
            end else begin
                idx <= idx + 1'b1;
                instr <= words[idx[AW-1:0] + 1'b1];
            end
        end
    end

endmodule
