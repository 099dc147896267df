`timescale 1ns/1ps
// core: the accel core in RTL (docs/RTL.md "The core"; the cycle contract is docs/timing.md). It holds the
// instruction memory and the DRAM tensor table (written through the load port), the generated decoder
// (rtl/decoder.v), the sequencer that dispatches one instruction per DISPATCH_CYCLES in program order into
// one in-order queue per engine (rtl/core_queue.v, QUEUE_DEPTH entries; a full queue stalls it), the
// counting semaphores, SBUF and PSUM, the DMA engine (rtl/dma_engine.v) in front of the DRAM port, the
// PE engine (rtl/pe_engine.v: the PE_ROWS x PE_COLS array), the ACT engine (rtl/act_engine.v) and the vector
// engine (rtl/vec_engine.v). PSUM
// has PSUM_BANKS banks; an instruction touching a bank holds it from its start to its end, and one of the
// other engine touching it starts after that end (PE wins a tie). sem.signal / sem.wait / nop run in their engine's queue for
// SYNC_CYCLES: a signal starts once every earlier instruction of its engine has ended and its units are
// there from its end; a wait starts when the units are there and takes them at its start; when several
// waits could take the same units in one cycle, PE, ACT, VEC, DMA is the order.
//
// PE_SPARSE_M = 0 builds the dense array alone; 16 the sparse-capable one, which also runs pe.load_sparse and
// pe.matmul_sparse with any N:M of the ISA (rtl/pe_engine.v).
// With PE_SPARSE_M = 0 the sparse PE forms are not in the core (the sequencer stops at the first one, raising
// err with its index). The ACT engine runs several instructions at once (a stream's elements drain 22
// cycles after the next may start); its own read-after-write and function-switch interlocks are inside
// rtl/act_engine.v (docs/timing.md "ACT interlock"); a sem.signal on its queue waits until it has drained.
//
// Use: hold rst for a clock (it clears SBUF, PSUM and the semaphores and resets the engines; the vector
// engine then seeds its lanes), write the program (ld_sel 0: word ld_addr) and the tensor table (ld_sel 1:
// base byte address of tensor ld_addr in ld_data[31:0]) through the load port, set nprog and raise run.
// Cycle 0 is the first cycle after run is high with the vector engine ready: the cycle of the first
// dispatch; `cycle` counts on until done.
// `done` rises when the sequencer has stopped (halt, nprog words, or err) and every queue and engine is
// empty. The trace port pulses, per engine, in the cycle an instruction starts (tr_start, with its
// instruction index) and in the last cycle it occupies (tr_end: channels PE, ACT, VEC, DMA for the queues'
// own instructions, a fifth for DMA transfers, whose end is their last beat's, a sixth for PE weight loads,
// a seventh for PE matmuls, whose end is their last PSUM write's, and an eighth for ACT instructions, whose
// end is their last write's, since a sync instruction of the ACT queue may end in that cycle); an instruction's
// start is `cycle` at its start pulse, its end `cycle` + 1 at its end pulse. dbg_* reads SBUF or PSUM, one
// 32-bit word of every partition, the next cycle (for a bench's final image).
//
// FAULT (planted faults for the mutation tests; 0 in a real core): 1 makes a signal's units visible to a
// wait in the signal's own last cycle, one cycle early; 2 is passed to the DMA engine, 3 to the PE engine;
// 4 lets a PE matmul start on a PSUM bank a VEC instruction in flight holds; 5 lets a VEC instruction start on
// a PSUM bank an ACT instruction in flight holds. MEM_DIR is rtl/mem's folder
// (with a trailing "/"), where the ACT engine reads its function images.
module core #(
    parameter PARTITIONS = 4,
    parameter SB_BYTES = 8192,
    parameter PS_BYTES = 8192,
    parameter PSUM_BANKS = 1,
    parameter PE_ROWS = 4,
    parameter PE_COLS = 4,
    parameter PE_SPARSE_M = 0,  // 0: dense PE forms only; 16: pe.load_sparse / pe.matmul_sparse with any N:M
    parameter SEMAPHORES = 32,
    parameter QUEUE_DEPTH = 16,
    parameter DISPATCH_CYCLES = 1,
    parameter SYNC_CYCLES = 1,
    parameter DMA_QUEUES = 4,
    parameter DMA_LATENCY = 64,
    parameter DMA_BEAT = 64,
    parameter PROG_DEPTH = 4096,
    parameter FAULT = 0,
    parameter MEM_DIR = ""
) (
    input  wire                          clk,
    input  wire                          rst,
    input  wire                          run,
    input  wire [31:0]                   nprog,
    // load port
    input  wire                          ld_we,
    input  wire                          ld_sel,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [15:0]                   ld_addr,  // the low bits the memory and the table use
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [511:0]                  ld_data,
    // status
    output reg  [31:0]                   cycle,
    output wire                          done,
    output reg                           err,
    output reg  [31:0]                   err_pc,
    // trace port
    output wire [3:0]                    tr_start,
    output wire [4*PCW-1:0]              tr_start_pc,
    output wire [7:0]                    tr_end,
    output wire [8*PCW-1:0]              tr_end_pc,
    // DRAM port (rtl/dma_engine.v): a read and a write channel
    output wire                          dram_rd_en,
    output wire [31:0]                   dram_rd_addr,
    input  wire [DMA_BEAT*8-1:0]         dram_rdata,
    output wire                          dram_wr_en,
    output wire [31:0]                   dram_wr_addr,
    output wire [$clog2(DMA_BEAT + 1)-1:0] dram_wr_len,
    output wire [DMA_BEAT*8-1:0]         dram_wr_data,
    // debug read port
    input  wire                          dbg_space,
    input  wire [17:0]                   dbg_addr,
    output reg  [PARTITIONS*32-1:0]      dbg_data
);
`include "accel_isa.vh"
    localparam PCW = $clog2(PROG_DEPTH);
    localparam QW = 512 + PCW;
    localparam SW = $clog2(SYNC_CYCLES + 1);
    localparam P = PARTITIONS;
    localparam [1:0] E_PE = 2'd0, E_ACT = 2'd1, E_VEC = 2'd2, E_DMA = 2'd3;

    // ------------------------------------------------------------------ program and tensor table
    reg [511:0] imem [0:PROG_DEPTH-1];
    reg [31:0]  ttab [0:255];
    always @(posedge clk) begin
        if (ld_we && !ld_sel) imem[ld_addr[PCW-1:0]] <= ld_data;
        if (ld_we && ld_sel) ttab[ld_addr[7:0]] <= ld_data[31:0];
    end

    // ------------------------------------------------------------------ start and cycle count
    wire vec_ready;
    reg  started;
    always @(posedge clk) begin
        if (rst) begin
            started <= 1'b0;
            cycle <= 32'd0;
        end else begin
            if (run && vec_ready) started <= 1'b1;
            if (started && !done) cycle <= cycle + 32'd1;
        end
    end

    // ------------------------------------------------------------------ sequencer
    reg  [31:0] pc;
    reg         stopped;
    reg  [15:0] dwait;
    wire [511:0] word = imem[pc[PCW-1:0]];
    wire        d_valid;
    wire [7:0]  d_op;
    wire [2:0]  d_engine;
    /* verilator lint_off PINCONNECTEMPTY */
    decoder u_dec (.instr(word), .valid(d_valid), .opcode(d_op), .engine(d_engine), .slots(),
        .eng(), .flag(), .sem(), .imm0(), .imm1(),
        .ap0_space(), .ap0_pstart(), .ap0_pcount(), .ap0_offset(), .ap0_dtype(), .ap0_n0(), .ap0_s0(),
        .ap0_n1(), .ap0_s1(), .ap0_n2(), .ap0_s2(),
        .ap1_space(), .ap1_pstart(), .ap1_pcount(), .ap1_offset(), .ap1_dtype(), .ap1_n0(), .ap1_s0(),
        .ap1_n1(), .ap1_s1(), .ap1_n2(), .ap1_s2(),
        .ap2_space(), .ap2_pstart(), .ap2_pcount(), .ap2_offset(), .ap2_dtype(), .ap2_n0(), .ap2_s0(),
        .ap2_n1(), .ap2_s1(), .ap2_n2(), .ap2_s2(),
        .dram_tensor(), .dram_offset(), .dram_pstride(), .dram_n0(), .dram_s0(), .dram_n1(), .dram_s1(),
        .dram_n2(), .dram_s2());
    /* verilator lint_on PINCONNECTEMPTY */
    wire d_sync = d_op == `ACCEL_OP_NOP || d_op == `ACCEL_OP_SEM_SIGNAL || d_op == `ACCEL_OP_SEM_WAIT;
    wire d_halt = d_valid && d_op == `ACCEL_OP_HALT;
    wire d_pe = d_op == `ACCEL_OP_PE_LOAD_WEIGHTS || d_op == `ACCEL_OP_PE_MATMUL ||
                (PE_SPARSE_M > 1 && (d_op == `ACCEL_OP_PE_LOAD_SPARSE || d_op == `ACCEL_OP_PE_MATMUL_SPARSE));
    wire d_runs = d_valid && (d_sync || d_pe || d_engine == {1'b0, E_ACT} || d_engine == {1'b0, E_VEC} || d_engine == {1'b0, E_DMA});
    wire [1:0] d_q = d_engine[1:0];
    wire [3:0] q_full;
    wire seq_go = started && !stopped && pc < nprog && dwait == 16'd0;
    wire [3:0] push;
    genvar e;
    generate
        for (e = 0; e < 4; e = e + 1) begin : g_push
            assign push[e] = seq_go && d_runs && d_q == e && !q_full[e];
        end
    endgenerate
    always @(posedge clk) begin
        if (rst) begin
            pc <= 32'd0;
            stopped <= 1'b0;
            dwait <= 16'd0;
            err <= 1'b0;
            err_pc <= 32'd0;
        end else if (started) begin
            if (dwait != 16'd0) dwait <= dwait - 16'd1;
            if (seq_go) begin
                if (d_halt) begin
                    stopped <= 1'b1;
                end else if (!d_runs) begin
                    stopped <= 1'b1;
                    err <= 1'b1;
                    err_pc <= pc;
                end else if (!q_full[d_q]) begin
                    pc <= pc + 32'd1;
                    dwait <= DISPATCH_CYCLES[15:0] - 16'd1;
                end
            end
        end
    end

    // ------------------------------------------------------------------ queues and their heads
    wire [QW-1:0]  h [0:3];
    wire [3:0]     h_valid, start;
    wire [PCW-1:0] h_pc [0:3];
    wire [7:0]     h_op [0:3];
    wire [7:0]     h_sem [0:3];
    wire [31:0]    h_cnt [0:3];
    wire [3:0]     h_sync, h_sig, h_wait, free, ended;
    generate
        for (e = 0; e < 4; e = e + 1) begin : g_q
            core_queue #(.DEPTH(QUEUE_DEPTH), .W(QW)) u_q (.clk(clk), .rst(rst), .push(push[e]),
                .din({pc[PCW-1:0], word}), .pop(start[e]), .head(h[e]), .valid(h_valid[e]), .full(q_full[e]));
            assign h_pc[e] = h[e][512 +: PCW];
            assign h_op[e] = h[e][`ACCEL_OPCODE_LSB +: `ACCEL_OPCODE_W];
            assign h_sem[e] = h[e][`ACCEL_F_SEM_LSB +: `ACCEL_F_SEM_W];
            assign h_cnt[e] = h[e][`ACCEL_F_IMM0_LSB +: `ACCEL_F_IMM0_W];
            assign h_sig[e] = h_op[e] == `ACCEL_OP_SEM_SIGNAL;
            assign h_wait[e] = h_op[e] == `ACCEL_OP_SEM_WAIT;
            assign h_sync[e] = h_sig[e] || h_wait[e] || h_op[e] == `ACCEL_OP_NOP;
        end
    endgenerate

    // ------------------------------------------------------------------ sync instructions
    reg [SW-1:0]  sync_left [0:3];
    wire [3:0]    sync_start, sync_end, rel;
    wire [PCW-1:0] sync_end_pc [0:3];
    wire [7:0]    rel_sem [0:3];
    wire [31:0]   rel_cnt [0:3];
    generate
        for (e = 0; e < 4; e = e + 1) begin : g_sync
            assign sync_start[e] = start[e] && h_sync[e];
            if (SYNC_CYCLES == 1) begin : g_one
                assign sync_end[e] = sync_start[e];
                assign sync_end_pc[e] = h_pc[e];
                assign rel[e] = sync_start[e] && h_sig[e];
                assign rel_sem[e] = h_sem[e];
                assign rel_cnt[e] = h_cnt[e];
            end else begin : g_many  // the instruction's index and units, for its last cycle
                reg [PCW-1:0] pc_q;
                reg           sig_q;
                reg [7:0]     sem_q;
                reg [31:0]    cnt_q;
                always @(posedge clk) begin
                    if (sync_start[e]) begin
                        pc_q <= h_pc[e];
                        sig_q <= h_sig[e];
                        sem_q <= h_sem[e];
                        cnt_q <= h_cnt[e];
                    end
                end
                assign sync_end[e] = sync_left[e] == {{(SW - 1){1'b0}}, 1'b1};
                assign sync_end_pc[e] = pc_q;
                assign rel[e] = sync_end[e] && sig_q;
                assign rel_sem[e] = sem_q;
                assign rel_cnt[e] = cnt_q;
            end
            always @(posedge clk) begin
                if (rst) begin
                    sync_left[e] <= {SW{1'b0}};
                end else if (sync_start[e]) begin
                    sync_left[e] <= SYNC_CYCLES[SW-1:0] - {{(SW - 1){1'b0}}, 1'b1};
                end else if (sync_left[e] != {SW{1'b0}}) begin
                    sync_left[e] <= sync_left[e] - {{(SW - 1){1'b0}}, 1'b1};
                end
            end
        end
    endgenerate

    // ------------------------------------------------------------------ semaphores
    // a wait sees the units of signals that ended before this cycle, less those the waits of the
    // engines before it in the tie order take in this cycle
    wire [SEMAPHORES*32-1:0] sem_val;
    wire [3:0] take;
    function [32:0] units_if;  // cnt when a take on the same semaphore happens
        input       same;
        input       tk;
        input [31:0] cnt;
        begin
            units_if = (same && tk) ? {1'b0, cnt} : 33'd0;
        end
    endfunction
    genvar s, g;
    generate
        for (s = 0; s < SEMAPHORES; s = s + 1) begin : g_sem
            reg [31:0] v;
            wire [31:0] inc = ((rel[0] && rel_sem[0] == s) ? rel_cnt[0] : 32'd0) +
                              ((rel[1] && rel_sem[1] == s) ? rel_cnt[1] : 32'd0) +
                              ((rel[2] && rel_sem[2] == s) ? rel_cnt[2] : 32'd0) +
                              ((rel[3] && rel_sem[3] == s) ? rel_cnt[3] : 32'd0);
            wire [31:0] dec = ((take[0] && h_sem[0] == s) ? h_cnt[0] : 32'd0) +
                              ((take[1] && h_sem[1] == s) ? h_cnt[1] : 32'd0) +
                              ((take[2] && h_sem[2] == s) ? h_cnt[2] : 32'd0) +
                              ((take[3] && h_sem[3] == s) ? h_cnt[3] : 32'd0);
            always @(posedge clk) begin
                if (rst) v <= 32'd0;
                else v <= v + inc - dec;
            end
            assign sem_val[s * 32 +: 32] = v;
        end
    endgenerate

    // ------------------------------------------------------------------ the engines' starts
    // free: the engine can start its next instruction; ended: every earlier instruction of it has ended
    wire [$clog2(DMA_QUEUES + 1)-1:0] dma_inflight;
    wire pe_idle, pe_ready, pe_bank_ok, vec_bank_ok, act_bank_ok, act_ready, act_drained;
    reg  vec_inflight;
    reg  [PCW-1:0] vec_pc;
    assign free[E_PE] = sync_left[E_PE] == {SW{1'b0}};
    assign free[E_ACT] = sync_left[E_ACT] == {SW{1'b0}} && act_ready;
    assign free[E_VEC] = sync_left[E_VEC] == {SW{1'b0}} && vec_ready;
    assign free[E_DMA] = sync_left[E_DMA] == {SW{1'b0}};
    assign ended[E_PE] = pe_idle;
    assign ended[E_ACT] = act_drained;
    assign ended[E_VEC] = !vec_inflight;
    assign ended[E_DMA] = dma_inflight == 0;
    localparam DQW = $clog2(DMA_QUEUES + 1);
    wire dma_room = {{(32 - DQW){1'b0}}, dma_inflight} < DMA_QUEUES;
    // one block per engine, in the tie order; each sees the takes of the blocks before it
    generate
        for (e = 0; e < 4; e = e + 1) begin : g_eng
            wire tk, st;
            wire [32:0] prior;
            if (e == 0) begin : g_p0
                assign prior = 33'd0;
            end else if (e == 1) begin : g_p1
                assign prior = units_if(h_sem[0] == h_sem[e], g_eng[0].tk, h_cnt[0]);
            end else if (e == 2) begin : g_p2
                assign prior = units_if(h_sem[0] == h_sem[e], g_eng[0].tk, h_cnt[0]) +
                               units_if(h_sem[1] == h_sem[e], g_eng[1].tk, h_cnt[1]);
            end else begin : g_p3
                assign prior = units_if(h_sem[0] == h_sem[e], g_eng[0].tk, h_cnt[0]) +
                               units_if(h_sem[1] == h_sem[e], g_eng[1].tk, h_cnt[1]) +
                               units_if(h_sem[2] == h_sem[e], g_eng[2].tk, h_cnt[2]);
            end
            wire [32:0] early = (FAULT == 1) ?
                units_if(rel_sem[0] == h_sem[e], rel[0], rel_cnt[0]) + units_if(rel_sem[1] == h_sem[e], rel[1], rel_cnt[1]) +
                units_if(rel_sem[2] == h_sem[e], rel[2], rel_cnt[2]) + units_if(rel_sem[3] == h_sem[e], rel[3], rel_cnt[3])
                : 33'd0;
            wire [32:0] avail = {1'b0, sem_val[h_sem[e] * 32 +: 32]} + early - prior;
            wire op_ok = (e == E_PE) ? pe_ready && pe_bank_ok : (e == E_ACT) ? act_bank_ok : (e == E_VEC) ? vec_bank_ok :
                         (e == E_DMA) ? dma_room : 1'b0;
            assign st = started && h_valid[e] && free[e] &&
                (h_sig[e] ? ended[e] : h_wait[e] ? avail >= {1'b0, h_cnt[e]} : h_sync[e] ? 1'b1 : op_ok);
            assign tk = st && h_wait[e];
            assign start[e] = st;
            assign take[e] = tk;
        end
    endgenerate

    // ------------------------------------------------------------------ SBUF and PSUM (bytes)
    reg [7:0] sbm [0:P*SB_BYTES-1];
    reg [7:0] psm [0:P*PS_BYTES-1];

    // vector engine ports
    wire             v_rd_space, v_wr_space;
    wire [17:0]      v_rd_addr, v_wr_addr;
    wire [P-1:0]     v_rd_en, v_wr_en;
    wire [P*32-1:0]  v_rd_data;
    wire [P*32-1:0]  v_wr_data;
    wire [3:0]       v_wr_be;
    wire             v_busy_unused, v_halted_unused, v_retire;
    wire             vec_go = started && h_valid[E_VEC] && !h_sync[E_VEC] && sync_left[E_VEC] == {SW{1'b0}} &&
                              vec_bank_ok;
    vec_engine #(.LANES(P)) u_vec (.clk(clk), .rst(rst), .in_valid(vec_go), .in_ready(vec_ready),
        .in_word(h[E_VEC][511:0]), .busy(v_busy_unused), .halted(v_halted_unused), .retire(v_retire),
        .rd_space(v_rd_space), .rd_addr(v_rd_addr), .rd_en(v_rd_en), .rd_data(v_rd_data),
        .wr_space(v_wr_space), .wr_addr(v_wr_addr), .wr_be(v_wr_be), .wr_en(v_wr_en), .wr_data(v_wr_data));
    always @(posedge clk) begin
        if (rst) begin
            vec_inflight <= 1'b0;
        end else if (start[E_VEC] && !h_sync[E_VEC]) begin
            vec_inflight <= 1'b1;
            vec_pc <= h_pc[E_VEC];
        end else if (v_retire) begin
            vec_inflight <= 1'b0;
        end
    end
    wire vec_end = v_retire && vec_inflight;

    // ACT engine: accepts a word when the queue head is an ACT instruction (its in_ready holds back one that
    // must wait: busy, read-after-write, function switch); several are in flight, and they retire in order,
    // so a FIFO keeps each one's index and PSUM banks from its start to its end (the clock after its retire)
    localparam AQ = 16;  // > the engine's NSB + 1 instructions in flight
    localparam AQW = $clog2(AQ);
    wire             a_rd_space, a_wr_space;
    wire [17:0]      a_rd_addr, a_wr_addr;
    wire [P-1:0]     a_rd_en, a_wr_en;
    wire [P*32-1:0]  a_rd_data, a_wr_data;
    wire [3:0]       a_wr_be;
    wire             a_busy_unused, a_halted_unused, a_retire;
    wire             act_go = started && h_valid[E_ACT] && !h_sync[E_ACT] && sync_left[E_ACT] == {SW{1'b0}} &&
                              act_bank_ok;
    act_engine #(.LANES(P), .MEM_DIR(MEM_DIR)) u_act (.clk(clk), .rst(rst), .in_valid(act_go), .in_ready(act_ready),
        .in_word(h[E_ACT][511:0]), .busy(a_busy_unused), .drained(act_drained), .halted(a_halted_unused),
        .retire(a_retire), .rd_space(a_rd_space), .rd_addr(a_rd_addr), .rd_en(a_rd_en), .rd_data(a_rd_data),
        .wr_space(a_wr_space), .wr_addr(a_wr_addr), .wr_be(a_wr_be), .wr_en(a_wr_en), .wr_data(a_wr_data));
    wire             act_push = g_eng[E_ACT].st && !h_sync[E_ACT];  // not start[]: one vector, no loop
    reg  [PCW-1:0]   act_pcs [0:AQ-1];
    reg  [PSUM_BANKS-1:0] act_bks [0:AQ-1];
    reg  [AQ-1:0]    act_v;
    reg  [AQW-1:0]   act_wp, act_rp;
    wire             act_end = a_retire && act_v[act_rp];
    wire [PCW-1:0]   act_end_pc = act_pcs[act_rp];
    wire [PSUM_BANKS-1:0] act_banks;
    reg  [PSUM_BANKS-1:0] act_held;  // the banks of the ACT instructions in flight
    always @(*) begin : g_act_held
        integer j;
        act_held = {PSUM_BANKS{1'b0}};
        for (j = 0; j < AQ; j = j + 1) if (act_v[j]) act_held = act_held | act_bks[j];
    end
    always @(posedge clk) begin
        if (rst) begin
            act_v <= {AQ{1'b0}};
            act_wp <= {AQW{1'b0}};
            act_rp <= {AQW{1'b0}};
        end else begin
            if (act_push) begin
                act_pcs[act_wp] <= h_pc[E_ACT];
                act_bks[act_wp] <= act_banks;
                act_wp <= act_wp + 1'b1;
            end
            if (act_end) act_rp <= act_rp + 1'b1;
            // set and clear by index (a push never lands on the entry retiring: the FIFO is never full)
            act_v <= (act_v | (act_push ? {{(AQ - 1){1'b0}}, 1'b1} << act_wp : {AQ{1'b0}})) &
                     ~(act_end ? {{(AQ - 1){1'b0}}, 1'b1} << act_rp : {AQ{1'b0}});
        end
    end

    // DMA engine
    wire             dma_done;
    wire [PCW-1:0]   dma_done_pc;
    wire [7:0]       d_part;
    wire [DMA_BEAT-1:0]    d_sb_we;
    wire [DMA_BEAT*20-1:0] d_sb_addr;
    wire [DMA_BEAT*8-1:0]  d_sb_wdata;
    reg  [DMA_BEAT*8-1:0]  d_sb_rdata;
    wire [7:0]       h_tensor = h[E_DMA][`ACCEL_F_DRAM_TENSOR_LSB +: `ACCEL_F_DRAM_TENSOR_W];
    dma_engine #(.QUEUES(DMA_QUEUES), .LATENCY(DMA_LATENCY), .BEAT(DMA_BEAT), .PCW(PCW), .FAULT(FAULT)) u_dma (
        .clk(clk), .rst(rst), .cycle(cycle), .issue(start[E_DMA] && !h_sync[E_DMA]), .issue_word(h[E_DMA][511:0]),
        .issue_pc(h_pc[E_DMA]), .issue_base(ttab[h_tensor]), .inflight(dma_inflight), .done(dma_done),
        .done_pc(dma_done_pc), .dram_rd_en(dram_rd_en), .dram_rd_addr(dram_rd_addr), .dram_rdata(dram_rdata),
        .dram_wr_en(dram_wr_en), .dram_wr_addr(dram_wr_addr), .dram_wr_len(dram_wr_len), .dram_wr_data(dram_wr_data), .sb_part(d_part), .sb_we(d_sb_we), .sb_addr(d_sb_addr),
        .sb_wdata(d_sb_wdata), .sb_rdata(d_sb_rdata));

    // PE engine (rtl/pe_engine.v): the array, its SBUF walkers and the PSUM stage
    localparam PNW = $clog2(PE_COLS + 1);
    localparam PXL = PE_SPARSE_M > 1 ? PE_ROWS * PE_SPARSE_M : PE_ROWS;  // the array's moving-data lanes
    wire [31:0]          pe_hold_end;
    wire [7:0]           pe_w_part, pe_i_part, pe_ps_rpart, pe_ps_wpart;
    wire [PE_COLS*20-1:0] pe_w_addr;
    wire [PE_COLS*40-1:0] pe_i_addr;
    wire [PXL*8-1:0]     pe_x_part;
    wire [PXL*20-1:0]    pe_x_addr;
    wire [19:0]          pe_ps_raddr, pe_ps_waddr;
    wire [PE_COLS*16-1:0] pe_w_rdata, pe_i_rdata;
    wire [PXL*16-1:0]    pe_x_rdata;
    wire [PE_COLS*32-1:0] pe_ps_old, pe_ps_wdata;
    wire                 pe_ps_we, pe_ld_end, pe_mm_end;
    wire [PNW-1:0]       pe_ps_n;
    wire [PCW-1:0]       pe_ld_end_pc, pe_mm_end_pc;
    pe_engine #(.R(PE_ROWS), .C(PE_COLS), .PCW(PCW), .SM(PE_SPARSE_M), .FAULT(FAULT)) u_pe (.clk(clk), .rst(rst), .cycle(cycle),
        .word(h[E_PE][511:0]), .pc(h_pc[E_PE]), .ready(pe_ready), .hold_end(pe_hold_end),
        .issue(g_eng[E_PE].st && !h_sync[E_PE]), .idle(pe_idle),
        .w_part(pe_w_part), .w_addr(pe_w_addr), .w_rdata(pe_w_rdata), .x_part(pe_x_part), .x_addr(pe_x_addr),
        .x_rdata(pe_x_rdata), .i_part(pe_i_part), .i_addr(pe_i_addr), .i_rdata(pe_i_rdata), .ps_rpart(pe_ps_rpart), .ps_raddr(pe_ps_raddr), .ps_old(pe_ps_old),
        .ps_we(pe_ps_we), .ps_wpart(pe_ps_wpart), .ps_waddr(pe_ps_waddr), .ps_n(pe_ps_n), .ps_wdata(pe_ps_wdata),
        .ld_end(pe_ld_end), .ld_end_pc(pe_ld_end_pc), .mm_end(pe_mm_end), .mm_end_pc(pe_mm_end_pc));

    // PSUM banks (docs/timing.md "PSUM banks"): an instruction touching a bank holds it from its start to its
    // end; an instruction of the other engine touching it starts after that end. PE wins a tie (PE, ACT, VEC,
    // DMA). PE matmuls, ACT and VEC instructions touch PSUM.
    localparam BANK_BYTES = PS_BYTES / PSUM_BANKS;
    function [PSUM_BANKS-1:0] ap_banks;  // the banks of one pattern's byte span (accel.timing.schedule.byte_span)
        input [1:0]  space;
        input [19:0] offset;
        input [2:0]  dtype;
        input [15:0] n0, s0, n1, s1, n2, s2;
        integer sh, lo, hi, b;
        begin
            sh = (dtype == `ACCEL_DTYPE_BF16) ? 1 : (dtype == `ACCEL_DTYPE_INT8) ? 0 : 2;
            lo = {12'd0, offset} >> sh;
            hi = lo;
            if (n0 != 16'd0) begin
                if (s0[15]) lo = lo + ({16'd0, n0} - 1) * {{16{s0[15]}}, s0};
                else hi = hi + ({16'd0, n0} - 1) * {16'd0, s0};
            end
            if (n1 != 16'd0) begin
                if (s1[15]) lo = lo + ({16'd0, n1} - 1) * {{16{s1[15]}}, s1};
                else hi = hi + ({16'd0, n1} - 1) * {16'd0, s1};
            end
            if (n2 != 16'd0) begin
                if (s2[15]) lo = lo + ({16'd0, n2} - 1) * {{16{s2[15]}}, s2};
                else hi = hi + ({16'd0, n2} - 1) * {16'd0, s2};
            end
            lo = lo << sh;
            hi = ((hi + 1) << sh) - 1;
            for (b = 0; b < PSUM_BANKS; b = b + 1)
                ap_banks[b] = space == `ACCEL_SPACE_PSUM && b * BANK_BYTES <= hi && (b + 1) * BANK_BYTES > lo;
        end
    endfunction
    /* verilator lint_off UNUSEDSIGNAL */  // the word's other fields
    function [PSUM_BANKS-1:0] word_banks;  // the banks of an instruction's three pattern slots
        input [511:0] w;
        begin
            word_banks =
                ap_banks(w[`ACCEL_F_AP0_SPACE_LSB +: 2], w[`ACCEL_F_AP0_OFFSET_LSB +: 20], w[`ACCEL_F_AP0_DTYPE_LSB +: 3],
                         w[`ACCEL_F_AP0_N0_LSB +: 16], w[`ACCEL_F_AP0_S0_LSB +: 16], w[`ACCEL_F_AP0_N1_LSB +: 16],
                         w[`ACCEL_F_AP0_S1_LSB +: 16], w[`ACCEL_F_AP0_N2_LSB +: 16], w[`ACCEL_F_AP0_S2_LSB +: 16]) |
                ap_banks(w[`ACCEL_F_AP1_SPACE_LSB +: 2], w[`ACCEL_F_AP1_OFFSET_LSB +: 20], w[`ACCEL_F_AP1_DTYPE_LSB +: 3],
                         w[`ACCEL_F_AP1_N0_LSB +: 16], w[`ACCEL_F_AP1_S0_LSB +: 16], w[`ACCEL_F_AP1_N1_LSB +: 16],
                         w[`ACCEL_F_AP1_S1_LSB +: 16], w[`ACCEL_F_AP1_N2_LSB +: 16], w[`ACCEL_F_AP1_S2_LSB +: 16]) |
                ap_banks(w[`ACCEL_F_AP2_SPACE_LSB +: 2], w[`ACCEL_F_AP2_OFFSET_LSB +: 20], w[`ACCEL_F_AP2_DTYPE_LSB +: 3],
                         w[`ACCEL_F_AP2_N0_LSB +: 16], w[`ACCEL_F_AP2_S0_LSB +: 16], w[`ACCEL_F_AP2_N1_LSB +: 16],
                         w[`ACCEL_F_AP2_S1_LSB +: 16], w[`ACCEL_F_AP2_N2_LSB +: 16], w[`ACCEL_F_AP2_S2_LSB +: 16]);
        end
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */
    wire [PSUM_BANKS-1:0] pe_banks = word_banks(h[E_PE][511:0]);
    wire [PSUM_BANKS-1:0] vec_banks = word_banks(h[E_VEC][511:0]);
    assign act_banks = word_banks(h[E_ACT][511:0]);
    wire [PSUM_BANKS-1:0] pe_held;
    reg  [PSUM_BANKS-1:0] vec_held;  // the banks of the VEC instruction in flight
    wire pe_mm_start = g_eng[E_PE].st && (h_op[E_PE] == `ACCEL_OP_PE_MATMUL ||  // not start[]: one vector, no loop
                       h_op[E_PE] == `ACCEL_OP_PE_MATMUL_SPARSE);  // both forms hold their PSUM banks
    generate
        for (e = 0; e < PSUM_BANKS; e = e + 1) begin : g_bank
            reg [31:0] hold_to;  // end of the last PE matmul on the bank
            always @(posedge clk) begin
                if (rst) hold_to <= 32'd0;
                else if (pe_mm_start && pe_banks[e]) hold_to <= pe_hold_end;
            end
            assign pe_held[e] = hold_to > cycle;
        end
    endgenerate
    always @(posedge clk) if (start[E_VEC] && !h_sync[E_VEC]) vec_held <= vec_banks;
    wire [PSUM_BANKS-1:0] vec_hold = vec_inflight ? vec_held : {PSUM_BANKS{1'b0}};
    wire [PSUM_BANKS-1:0] pe_hold = pe_held | (pe_mm_start ? pe_banks : {PSUM_BANKS{1'b0}});  // PE first in a tie
    wire [PSUM_BANKS-1:0] act_hold = act_held | (act_push ? act_banks : {PSUM_BANKS{1'b0}});  // then ACT
    assign pe_bank_ok = ((((FAULT == 4) ? {PSUM_BANKS{1'b0}} : vec_hold) | act_held) & pe_banks) == {PSUM_BANKS{1'b0}};
    assign act_bank_ok = ((pe_hold | vec_hold) & act_banks) == {PSUM_BANKS{1'b0}};
    assign vec_bank_ok = ((pe_hold | ((FAULT == 5) ? {PSUM_BANKS{1'b0}} : act_hold)) & vec_banks) == {PSUM_BANKS{1'b0}};

    // the PE engine's ports: combinational reads (a byte outside the memory reads 0), lane write enables
    wire [PE_COLS-1:0]    pe_wen;
    wire [PE_COLS*32-1:0] pe_wbase;
    generate
        for (e = 0; e < PE_COLS; e = e + 1) begin : g_pe_col
            wire [31:0] wa = {12'd0, pe_w_addr[e*20 +: 20]};
            wire [31:0] wb = pe_w_part * SB_BYTES + wa;
            wire        wok = {24'd0, pe_w_part} < P;
            assign pe_w_rdata[e*16 +: 8] = (wok && wa < SB_BYTES) ? sbm[wb] : 8'd0;
            assign pe_w_rdata[e*16 + 8 +: 8] = (wok && wa + 1 < SB_BYTES) ? sbm[wb + 1] : 8'd0;
            for (g = 0; g < 2; g = g + 1) begin : g_ibyte  // a sparse load's two index bytes
                wire [31:0] ia = {12'd0, pe_i_addr[e*40 + g*20 +: 20]};
                wire        iok = {24'd0, pe_i_part} < P && ia < SB_BYTES;
                assign pe_i_rdata[e*16 + g*8 +: 8] = iok ? sbm[pe_i_part * SB_BYTES + ia] : 8'd0;
            end
            wire [31:0] wp = {24'd0, pe_ps_wpart} + e;  // the write lane's partition and first byte
            assign pe_wen[e] = pe_ps_we && e < pe_ps_n && wp < P;
            assign pe_wbase[e*32 +: 32] = wp * PS_BYTES + {12'd0, pe_ps_waddr};
            wire [31:0] rp = {24'd0, pe_ps_rpart} + e;
            wire [31:0] ra = {12'd0, pe_ps_raddr};
            for (g = 0; g < 4; g = g + 1) begin : g_byte
                assign pe_ps_old[e*32 + g*8 +: 8] = (rp < P && ra + g < PS_BYTES) ? psm[rp * PS_BYTES + ra + g] : 8'd0;
            end
        end
        for (e = 0; e < PXL; e = e + 1) begin : g_pe_row
            wire [31:0] xp = {24'd0, pe_x_part[e*8 +: 8]};
            wire [31:0] xa = {12'd0, pe_x_addr[e*20 +: 20]};
            assign pe_x_rdata[e*16 +: 8] = (xp < P && xa < SB_BYTES) ? sbm[xp * SB_BYTES + xa] : 8'd0;
            assign pe_x_rdata[e*16 + 8 +: 8] = (xp < P && xa + 1 < SB_BYTES) ? sbm[xp * SB_BYTES + xa + 1] : 8'd0;
        end
    endgenerate

    // memory ports: vector and ACT engines (per lane, a 32-bit word with byte enables; port 0 VEC, 1 ACT; they
    // never write one byte in one cycle in a race-free program), DMA (up to a beat of bytes of
    // one partition), debug; every read is synchronous (data the next cycle). Reset clears both memories
    // (the emulator's memories start at zero).
    wire [1:0]       x_rd_space = {a_rd_space, v_rd_space};
    wire [1:0]       x_wr_space = {a_wr_space, v_wr_space};
    wire [2*18-1:0]  x_rd_addr = {a_rd_addr, v_rd_addr};
    wire [2*18-1:0]  x_wr_addr = {a_wr_addr, v_wr_addr};
    wire [2*P-1:0]   x_rd_en = {a_rd_en, v_rd_en};
    wire [2*P-1:0]   x_wr_en = {a_wr_en, v_wr_en};
    wire [2*P*32-1:0] x_wr_data = {a_wr_data, v_wr_data};
    wire [7:0]       x_wr_be = {a_wr_be, v_wr_be};
    reg  [2*P*32-1:0] x_rd_data;
    assign v_rd_data = x_rd_data[0 +: P*32];
    assign a_rd_data = x_rd_data[P*32 +: P*32];
    integer q, b, m, i, x;
    always @(posedge clk) begin
        for (m = 0; m < DMA_BEAT; m = m + 1)
            d_sb_rdata[m*8 +: 8] <= sbm[d_part * SB_BYTES + {12'd0, d_sb_addr[m*20 +: 20]}];
        for (q = 0; q < P; q = q + 1)
            for (b = 0; b < 4; b = b + 1)
                dbg_data[q*32 + b*8 +: 8] <= dbg_space ? psm[q * PS_BYTES + dbg_addr * 4 + b]
                                                       : sbm[q * SB_BYTES + dbg_addr * 4 + b];
        if (rst) begin
            for (i = 0; i < P * SB_BYTES; i = i + 1) sbm[i] <= 8'd0;
            for (i = 0; i < P * PS_BYTES; i = i + 1) psm[i] <= 8'd0;
        end else begin
            for (x = 0; x < 2; x = x + 1)
                for (q = 0; q < P; q = q + 1) begin
                    if (x_rd_en[x*P + q])
                        for (b = 0; b < 4; b = b + 1)
                            x_rd_data[(x*P + q)*32 + b*8 +: 8] <=
                                x_rd_space[x] ? psm[q * PS_BYTES + x_rd_addr[x*18 +: 18] * 4 + b]
                                              : sbm[q * SB_BYTES + x_rd_addr[x*18 +: 18] * 4 + b];
                    if (x_wr_en[x*P + q])
                        for (b = 0; b < 4; b = b + 1)
                            if (x_wr_be[x*4 + b]) begin
                                if (x_wr_space[x])
                                    psm[q * PS_BYTES + x_wr_addr[x*18 +: 18] * 4 + b] <= x_wr_data[(x*P + q)*32 + b*8 +: 8];
                                else
                                    sbm[q * SB_BYTES + x_wr_addr[x*18 +: 18] * 4 + b] <= x_wr_data[(x*P + q)*32 + b*8 +: 8];
                            end
                end
            for (m = 0; m < DMA_BEAT; m = m + 1)
                if (d_sb_we[m]) sbm[d_part * SB_BYTES + {12'd0, d_sb_addr[m*20 +: 20]}] <= d_sb_wdata[m*8 +: 8];
            for (q = 0; q < PE_COLS; q = q + 1)
                if (pe_wen[q])
                    for (b = 0; b < 4; b = b + 1)
                        psm[pe_wbase[q*32 +: 32] + b] <= pe_ps_wdata[q*32 + b*8 +: 8];
        end
    end

    // ------------------------------------------------------------------ trace and end of program
    generate
        for (e = 0; e < 4; e = e + 1) begin : g_trace
            assign tr_start[e] = start[e];
            assign tr_start_pc[e*PCW +: PCW] = h_pc[e];
        end
    endgenerate
    assign tr_end = {act_end, pe_mm_end, pe_ld_end, dma_done, sync_end[E_DMA], sync_end[E_VEC] || vec_end, sync_end[E_ACT],
                     sync_end[E_PE]};
    assign tr_end_pc = {act_end_pc, pe_mm_end_pc, pe_ld_end_pc, dma_done_pc, sync_end_pc[E_DMA], vec_end ? vec_pc : sync_end_pc[E_VEC],
                        sync_end_pc[E_ACT], sync_end_pc[E_PE]};
    wire idle = h_valid == 4'd0 && sync_left[0] == {SW{1'b0}} && sync_left[1] == {SW{1'b0}} &&
                sync_left[2] == {SW{1'b0}} && sync_left[3] == {SW{1'b0}} && !vec_inflight && dma_inflight == 0 &&
                pe_idle && act_drained && act_v == {AQ{1'b0}};
    assign done = started && (stopped || pc >= nprog) && idle;
endmodule
