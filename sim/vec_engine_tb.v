`timescale 1ns/1ps
// vec_engine_tb: program-player bench for rtl/vec_engine.v (not synthesizable: it loads files).
// SBUF/PSUM and the end-of-program image check are sim/lane_image_tb.v (its layout of partitions
// and words).
//
// On `load` it reads, from the simulator's working folder, vec_prog.hex (one 512-bit instruction
// word per line, nprog of them), vec_init.hex (the initial image) and vec_exp.hex (the image
// accel.machine.Core ends with). After reset the engine seeds its lanes, then the bench feeds the
// instructions in order until `halt` (or the last word, once the engine is idle). Then it compares
// the whole image with the expected one byte by byte (mismatches = bytes that differ; first_* =
// the lowest differing byte, the value the engine wrote and the index of the instruction that last
// wrote that word, or all ones when none did), writes the final image to vec_final.hex and raises
// `done`. `cycles` counts clocks from the release of reset to the end. While `hold` is high the bench
// offers no word (the engine idles as when its queue is empty: the timing bench's gaps).
module vec_engine_tb #(
    parameter LANES = 8,
    parameter SB_WORDS = 2048,
    parameter PS_WORDS = 2048,
    parameter PROG_DEPTH = 4096
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        load,
    input  wire        hold,
    input  wire [31:0] nprog,
    output reg         done,
    output reg  [31:0] cycles,
    output reg  [31:0] retired,
    output wire [31:0] mismatches,
    output wire [31:0] first_bad_byte,
    output wire [7:0]  first_got,
    output wire [7:0]  first_want,
    output wire [31:0] first_pc
);
    reg [511:0] prog [0:PROG_DEPTH-1];

    reg  [31:0] pc, cur_pc;
    wire        in_ready, busy, halted, retire;
    wire        in_valid = !rst && !done && pc < nprog && !halted && !hold;
    wire        rd_space, wr_space;
    wire [17:0] rd_addr, wr_addr;
    wire [3:0]  wr_be;
    wire [LANES-1:0] rd_en, wr_en;
    wire [LANES*32-1:0] rd_data;
    wire [LANES*32-1:0] wr_data;

    vec_engine #(.LANES(LANES)) u_dut (
        .clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), .in_word(prog[pc]),
        .busy(busy), .halted(halted), .retire(retire),
        .rd_space(rd_space), .rd_addr(rd_addr), .rd_en(rd_en), .rd_data(rd_data),
        .wr_space(wr_space), .wr_addr(wr_addr), .wr_be(wr_be), .wr_en(wr_en), .wr_data(wr_data));

    // the end of the program: the image check's clock
    wire        finish = !rst && !done && (halted || (pc >= nprog && !busy && in_ready));

    lane_image_tb #(.LANES(LANES), .SB_WORDS(SB_WORDS), .PS_WORDS(PS_WORDS), .INIT_HEX("vec_init.hex"),
                    .EXP_HEX("vec_exp.hex"), .FINAL_HEX("vec_final.hex")) u_image (
        .clk(clk), .load(load), .check(finish), .rd_space(rd_space), .rd_addr(rd_addr), .rd_en(rd_en), .rd_data(rd_data),
        .wr_space(wr_space), .wr_addr(wr_addr), .wr_be(wr_be), .wr_en(wr_en), .wr_data(wr_data), .wr_tag(cur_pc),
        .mismatches(mismatches), .first_bad_byte(first_bad_byte), .first_got(first_got), .first_want(first_want),
        .first_pc(first_pc));

    always @(posedge clk) begin
        if (load) begin
            $readmemh("vec_prog.hex", prog);
        end
        if (rst) begin
            pc <= 32'd0;
            cur_pc <= 32'd0;
            done <= 1'b0;
            cycles <= 32'd0;
            retired <= 32'd0;
        end else if (!done) begin
            cycles <= cycles + 32'd1;
            if (retire) retired <= retired + 32'd1;
            if (in_valid && in_ready) begin
                pc <= pc + 32'd1;
                cur_pc <= pc;
            end
            if (finish) begin
                done <= 1'b1;
            end
        end
    end
endmodule
