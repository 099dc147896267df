`timescale 1ns/1ps
// core_tb: program-player bench for rtl/core.v (not synthesizable: it loads and writes files). It is the
// core's DRAM (a byte memory behind the core's beat port: combinational reads, writes at the clock edge)
// and its loader, trace recorder and image dumper. On `load` it reads, from the simulator's working
// folder, core_prog.hex (one 512-bit instruction word per line, nprog of them), core_ttab.hex (256 tensor
// base byte addresses) and core_dram.hex (the DRAM image, one byte per line). After reset it writes the
// program and the table through the core's load port, raises run, and records every instruction's start
// cycle and end cycle from the trace port (all ones: never). When the core is done it reads SBUF and PSUM
// through the debug port, writes core_dram_final.hex, core_sb_final.hex, core_ps_final.hex (bytes, one per
// line, partition after partition), core_start.hex and core_end.hex (32-bit cycles per instruction), and
// raises `finished`. `cycles` is the core's cycle count at the end, `err` / `err_pc` the core's.
// The byte loops over memories are bench code with blocking temporaries (hence BLKSEQ off).
/* verilator lint_off BLKSEQ */
module core_tb #(
    parameter PARTITIONS = 4,
    parameter SB_BYTES = 4096,
    parameter PS_BYTES = 4096,
    parameter PSUM_BANKS = 1,
    parameter PE_ROWS = 4,
    parameter PE_COLS = 4,
    parameter PE_SPARSE_M = 0,
    parameter SEMAPHORES = 32,
    parameter QUEUE_DEPTH = 16,
    parameter DISPATCH_CYCLES = 1,
    parameter SYNC_CYCLES = 1,
    parameter DMA_QUEUES = 4,
    parameter DMA_LATENCY = 64,
    parameter DMA_BEAT = 64,
    parameter PROG_DEPTH = 1024,
    parameter DRAM_BYTES = 65536,
    parameter FAULT = 0,
    parameter MEM_DIR = ""          // rtl/mem's folder with a trailing "/" (the ACT engine's images)
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        load,
    input  wire [31:0] nprog,
    output reg         finished,
    output wire [31:0] cycles,
    output wire        err,
    output wire [31:0] err_pc
);
    localparam PCW = $clog2(PROG_DEPTH);
    localparam LW = $clog2(DMA_BEAT + 1);
    localparam WORDS = (SB_BYTES > PS_BYTES ? SB_BYTES : PS_BYTES) / 4;

    reg [511:0] prog [0:PROG_DEPTH-1];
    reg [31:0]  ttab [0:255];
    reg [7:0]   dram [0:DRAM_BYTES-1];
    reg [7:0]   sb_img [0:PARTITIONS*SB_BYTES-1];
    reg [7:0]   ps_img [0:PARTITIONS*PS_BYTES-1];
    reg [31:0]  t_start [0:PROG_DEPTH-1];
    reg [31:0]  t_end [0:PROG_DEPTH-1];

    // loader and dumper
    localparam [2:0] B_PROG = 3'd0, B_TTAB = 3'd1, B_RUN = 3'd2, B_DUMP = 3'd3, B_END = 3'd4;
    reg [2:0]  phase;
    reg [31:0] k;
    wire       ld_we = phase == B_PROG ? k < nprog : phase == B_TTAB;
    wire [511:0] ld_data = phase == B_PROG ? prog[k[PCW-1:0]] : {480'd0, ttab[k[7:0]]};
    wire       done;
    wire [3:0] tr_start;
    wire [4*PCW-1:0] tr_start_pc;
    wire [7:0] tr_end;
    wire [8*PCW-1:0] tr_end_pc;
    wire       dram_rd_en, dram_wr_en;
    wire [31:0] dram_rd_addr, dram_wr_addr;
    wire [LW-1:0] dram_wr_len;
    wire [DMA_BEAT*8-1:0] dram_wr_data;
    wire [DMA_BEAT*8-1:0] dram_rdata;
    wire [PARTITIONS*32-1:0] sb_row, ps_row;
    reg  dbg_space;

    core #(.PARTITIONS(PARTITIONS), .SB_BYTES(SB_BYTES), .PS_BYTES(PS_BYTES), .PSUM_BANKS(PSUM_BANKS),
           .PE_ROWS(PE_ROWS), .PE_COLS(PE_COLS), .PE_SPARSE_M(PE_SPARSE_M), .SEMAPHORES(SEMAPHORES),
           .QUEUE_DEPTH(QUEUE_DEPTH), .DISPATCH_CYCLES(DISPATCH_CYCLES), .SYNC_CYCLES(SYNC_CYCLES),
           .DMA_QUEUES(DMA_QUEUES), .DMA_LATENCY(DMA_LATENCY), .DMA_BEAT(DMA_BEAT), .PROG_DEPTH(PROG_DEPTH),
           .FAULT(FAULT), .MEM_DIR(MEM_DIR)) u_core (
        .clk(clk), .rst(rst), .run(phase == B_RUN), .nprog(nprog), .ld_we(ld_we), .ld_sel(phase == B_TTAB),
        .ld_addr(k[15:0]), .ld_data(ld_data), .cycle(cycles), .done(done), .err(err), .err_pc(err_pc),
        .tr_start(tr_start), .tr_start_pc(tr_start_pc), .tr_end(tr_end), .tr_end_pc(tr_end_pc),
        .dram_rd_en(dram_rd_en), .dram_rd_addr(dram_rd_addr), .dram_rdata(dram_rdata), .dram_wr_en(dram_wr_en),
        .dram_wr_addr(dram_wr_addr), .dram_wr_len(dram_wr_len), .dram_wr_data(dram_wr_data), .dbg_space(dbg_space), .dbg_addr(k[17:0]),
        .dbg_data(sb_row));
    assign ps_row = sb_row;

    integer i, m, q, b;
    genvar g;
    generate
        for (g = 0; g < DMA_BEAT; g = g + 1) begin : g_rd
            wire [31:0] at = dram_rd_addr + g;
            assign dram_rdata[g*8 +: 8] = (dram_rd_en && at < DRAM_BYTES) ? dram[at] : 8'd0;
        end
    endgenerate

    always @(posedge clk) begin
        if (load) begin
            $readmemh("core_prog.hex", prog, 0, nprog - 1);
            $readmemh("core_ttab.hex", ttab);
            $readmemh("core_dram.hex", dram);
            for (i = 0; i < PROG_DEPTH; i = i + 1) begin
                t_start[i] = 32'hFFFFFFFF;
                t_end[i] = 32'hFFFFFFFF;
            end
        end
        if (rst) begin
            phase <= B_PROG;
            k <= 32'd0;
            finished <= 1'b0;
            dbg_space <= 1'b0;
        end else begin
            case (phase)
                B_PROG: if (k + 1 >= nprog) begin phase <= B_TTAB; k <= 32'd0; end else k <= k + 32'd1;
                B_TTAB: if (k == 32'd255) begin phase <= B_RUN; k <= 32'd0; end else k <= k + 32'd1;
                B_RUN: if (done) begin phase <= B_DUMP; k <= 32'd0; dbg_space <= 1'b0; end
                B_DUMP: begin  // the debug port reads word k; its data is word k - 1's
                    for (q = 0; q < PARTITIONS; q = q + 1)
                        for (b = 0; b < 4; b = b + 1) begin
                            if (k > 0 && !dbg_space && (k - 1) * 4 + b < SB_BYTES)
                                sb_img[q * SB_BYTES + (k - 1) * 4 + b] = sb_row[q*32 + b*8 +: 8];
                            if (k > 0 && dbg_space && (k - 1) * 4 + b < PS_BYTES)
                                ps_img[q * PS_BYTES + (k - 1) * 4 + b] = ps_row[q*32 + b*8 +: 8];
                        end
                    if (k == WORDS) begin
                        k <= 32'd0;
                        if (dbg_space) begin
                            $writememh("core_dram_final.hex", dram);
                            $writememh("core_sb_final.hex", sb_img);
                            $writememh("core_ps_final.hex", ps_img);
                            $writememh("core_start.hex", t_start);
                            $writememh("core_end.hex", t_end);
                            phase <= B_END;
                            finished <= 1'b1;
                        end
                        dbg_space <= 1'b1;
                    end else k <= k + 32'd1;
                end
                default: ;
            endcase
            if (phase == B_RUN) begin
                for (q = 0; q < 4; q = q + 1)
                    if (tr_start[q]) t_start[tr_start_pc[q*PCW +: PCW]] <= cycles;
                for (q = 0; q < 8; q = q + 1)
                    if (tr_end[q]) t_end[tr_end_pc[q*PCW +: PCW]] <= cycles + 32'd1;
                if (dram_wr_en)
                    for (m = 0; m < DMA_BEAT; m = m + 1)
                        if (m < dram_wr_len && dram_wr_addr + m < DRAM_BYTES) dram[dram_wr_addr + m] <= dram_wr_data[m*8 +: 8];
            end
        end
    end
endmodule
