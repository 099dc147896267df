`timescale 1ns/1ps
// lane_image_tb: the SBUF/PSUM memory model and end-of-program image check that the engine benches
// sim/vec_engine_tb.v and sim/act_engine_tb.v share (not synthesizable: it loads and writes files).
// Each lane's SBUF and PSUM partition is a word memory here: partition q is words
// q*PW .. q*PW + PW - 1 of `mem`, SBUF first (SB_WORDS words), then PSUM (PS_WORDS words); a word
// holds bytes 4k..4k+3 of its partition, byte 4k in bits 7:0. The ports are the engines' (one 32-bit
// word per lane, byte enables, synchronous read with one clock latency); a write records `wr_tag` (the
// bench's index of the instruction writing) as the word's last writer.
//
// On `load` it reads INIT_HEX (the initial image) and EXP_HEX (the image accel.machine.Core ends with)
// from the simulator's working folder. At a clock with `check` high it compares the whole image (before
// that clock's writes) with the expected one byte by byte (mismatches = bytes that differ; first_* =
// the lowest differing byte, the value the engine wrote and its word's last writer, or all ones when
// none wrote it) and writes the image to FINAL_HEX. The byte-enable merge and the image compare use
// blocking temporaries inside the clocked processes (hence BLKSEQ off); the image compare is the one
// check that sim/mismatch_check.v's one-result-per-clock counter does not fit.
/* verilator lint_off BLKSEQ */
module lane_image_tb #(
    parameter LANES = 8,
    parameter SB_WORDS = 2048,
    parameter PS_WORDS = 2048,
    parameter INIT_HEX = "init.hex",
    parameter EXP_HEX = "exp.hex",
    parameter FINAL_HEX = "final.hex"
) (
    input  wire                 clk,
    input  wire                 load,
    input  wire                 check,
    input  wire                 rd_space,
    input  wire [17:0]          rd_addr,
    input  wire [LANES-1:0]     rd_en,
    output reg  [LANES*32-1:0]  rd_data,
    input  wire                 wr_space,
    input  wire [17:0]          wr_addr,
    input  wire [3:0]           wr_be,
    input  wire [LANES-1:0]     wr_en,
    input  wire [LANES*32-1:0]  wr_data,
    input  wire [31:0]          wr_tag,
    output reg  [31:0]          mismatches,
    output reg  [31:0]          first_bad_byte,
    output reg  [7:0]           first_got,
    output reg  [7:0]           first_want,
    output reg  [31:0]          first_pc
);
    localparam PW = SB_WORDS + PS_WORDS;
    localparam N = LANES * PW;

    reg [31:0]  mem [0:N-1];
    reg [31:0]  expect_mem [0:N-1];
    reg [31:0]  writer [0:N-1];

    integer q, i, b;
    wire [31:0] rd_word = (rd_space ? SB_WORDS : 0) + {14'd0, rd_addr};
    wire [31:0] wr_word = (wr_space ? SB_WORDS : 0) + {14'd0, wr_addr};
    reg  [31:0] w;

    always @(posedge clk) begin
        for (q = 0; q < LANES; q = q + 1) begin
            if (rd_en[q]) rd_data[q*32 +: 32] <= mem[q * PW + rd_word];
            if (wr_en[q]) begin
                w = mem[q * PW + wr_word];
                for (b = 0; b < 4; b = b + 1)
                    if (wr_be[b]) w[b*8 +: 8] = wr_data[q*32 + b*8 +: 8];
                mem[q * PW + wr_word] <= w;
                writer[q * PW + wr_word] <= wr_tag;
            end
        end
    end

    always @(posedge clk) begin
        if (load) begin
            $readmemh(INIT_HEX, mem);
            $readmemh(EXP_HEX, expect_mem);
            for (i = 0; i < N; i = i + 1) writer[i] = 32'hFFFFFFFF;
        end
        if (check) begin
            mismatches = 32'd0;
            first_bad_byte = 32'hFFFFFFFF;
            first_got = 8'd0;
            first_want = 8'd0;
            first_pc = 32'hFFFFFFFF;
            for (i = 0; i < N; i = i + 1)
                for (b = 0; b < 4; b = b + 1)
                    if (mem[i][b*8 +: 8] != expect_mem[i][b*8 +: 8]) begin
                        if (mismatches == 32'd0) begin
                            first_bad_byte = i * 4 + b;
                            first_got = mem[i][b*8 +: 8];
                            first_want = expect_mem[i][b*8 +: 8];
                            first_pc = writer[i];
                        end
                        mismatches = mismatches + 32'd1;
                    end
            $writememh(FINAL_HEX, mem);
        end
    end
endmodule
