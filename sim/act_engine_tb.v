`timescale 1ns/1ps
// act_engine_tb: program-player bench for rtl/act_engine.v (sim/vec_engine_tb.v's twin) (not synthesizable: it loads files).
// Each lane's SBUF and PSUM partition is a word memory here: partition q is words
// q*PW .. q*PW + PW - 1 of `mem`, SBUF first (SB_WORDS words), then PSUM (PS_WORDS words); a word
// holds bytes 4k..4k+3 of its partition, byte 4k in bits 7:0.
//
// On `load` it reads, from the simulator's working folder, act_prog.hex (one 512-bit instruction
// word per line, nprog of them), act_init.hex (the initial image) and act_exp.hex (the image
// accel.machine.Core ends with). After reset the bench feeds the
// instructions in order until `halt` (or the last word, once the engine is idle). Then it compares
// the whole image with the expected one byte by byte (mismatches = bytes that differ; first_* =
// the lowest differing byte, the value the engine wrote and the index of the instruction that last
// wrote that word (counted in retiring order: a program of act.* words only), or all ones when none did), writes the final image to act_final.hex and raises
// `done`. `cycles` counts clocks from the release of reset to the end. While `hold` is high the bench
// offers no word (the engine idles as when its queue is empty: the timing bench's gaps). The memory model's byte-enable
// merge and the end-of-program image compare are bench code that uses blocking temporaries inside
// the clocked processes (hence BLKSEQ off); the image compare is the one check that sim/mismatch_check.v's
// one-result-per-clock counter does not fit.
/* verilator lint_off BLKSEQ */
module act_engine_tb #(
    parameter LANES = 8,
    parameter SB_WORDS = 2048,
    parameter PS_WORDS = 2048,
    parameter PROG_DEPTH = 4096,
    parameter MEM_DIR = ""
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        load,
    input  wire        hold,
    input  wire [31:0] nprog,
    output reg         done,
    output reg  [31:0] cycles,
    output reg  [31:0] retired,
    output reg  [31:0] mismatches,
    output reg  [31:0] first_bad_byte,
    output reg  [7:0]  first_got,
    output reg  [7:0]  first_want,
    output reg  [31:0] first_pc
);
    localparam PW = SB_WORDS + PS_WORDS;
    localparam N = LANES * PW;

    reg [511:0] prog [0:PROG_DEPTH-1];
    reg [31:0]  mem [0:N-1];
    reg [31:0]  expect_mem [0:N-1];
    reg [31:0]  writer [0:N-1];

    reg  [31:0] pc;
    wire        in_ready, halted, retire, drained;
    /* verilator lint_off UNUSEDSIGNAL */
    wire        busy;
    /* verilator lint_on UNUSEDSIGNAL */
    wire        in_valid = !rst && !done && pc < nprog && !halted && !hold;
    wire        rd_space, wr_space;
    wire [17:0] rd_addr, wr_addr;
    wire [3:0]  wr_be;
    wire [LANES-1:0] rd_en, wr_en;
    reg  [LANES*32-1:0] rd_data;
    wire [LANES*32-1:0] wr_data;

    act_engine #(.LANES(LANES), .MEM_DIR(MEM_DIR)) u_dut (
        .clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), .in_word(prog[pc]),
        .busy(busy), .drained(drained), .halted(halted), .retire(retire),
        .rd_space(rd_space), .rd_addr(rd_addr), .rd_en(rd_en), .rd_data(rd_data),
        .wr_space(wr_space), .wr_addr(wr_addr), .wr_be(wr_be), .wr_en(wr_en), .wr_data(wr_data));

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
                writer[q * PW + wr_word] <= retired;  // writes land in order: the instruction retiring next
            end
        end
    end

    always @(posedge clk) begin
        if (load) begin
            $readmemh("act_prog.hex", prog);
            $readmemh("act_init.hex", mem);
            $readmemh("act_exp.hex", expect_mem);
            for (i = 0; i < N; i = i + 1) writer[i] = 32'hFFFFFFFF;
        end
        if (rst) begin
            pc <= 32'd0;
            done <= 1'b0;
            cycles <= 32'd0;
            retired <= 32'd0;
        end else if (!done) begin
            cycles <= cycles + 32'd1;
            if (retire) retired <= retired + 32'd1;
            if (in_valid && in_ready) begin
                pc <= pc + 32'd1;
            end
            if (drained && (halted || (pc >= nprog && in_ready))) begin
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
                $writememh("act_final.hex", mem);
                done <= 1'b1;
            end
        end
    end
endmodule
