`timescale 1ns/1ps
// dma_engine: the DMA engine's transfers (docs/timing.md "DMA"; docs/RTL.md "The core"). The core issues
// a dma.load / dma.store (its 512-bit word, its instruction index and its DRAM tensor's base byte address)
// in one cycle while fewer than QUEUES transfers are in flight; a transfer holds its queue from its issue
// to its end. Transfers use the one DRAM port first in, first out: a transfer's data phase starts at the
// later of issue + LATENCY and the end of the previous transfer's, and moves one beat of up to BEAT bytes
// per cycle. A transfer is cut into descriptors, one per contiguous run of DRAM elements in one partition
// (inner dims merged while each stride equals the run so far, as accel.timing.dma.descriptors); a
// descriptor of b bytes takes ceil(b / BEAT) beats. In a beat the DRAM side is contiguous and the SBUF
// side follows the on-chip pattern element by element (one partition, up to BEAT bytes a cycle).
//
// DRAM port (the bench provides the memory), a read and a write channel: a load's beat drives dram_rd_en
// and dram_rd_addr (the byte address of the beat's first byte) and takes dram_rdata (byte m of the beat in
// bits 8m+7:8m) in the same cycle, combinationally, from the memory; a store's beat reads SBUF in its
// cycle (a synchronous read, as every engine's SBUF port) and writes the next cycle: dram_wr_en,
// dram_wr_addr, dram_wr_len (bytes, 1..BEAT) and dram_wr_data (same layout), written at that clock edge.
// SBUF port: sb_part is the partition, byte m of the beat is SBUF byte sb_addr[20m +: 20] of it, written
// from sb_wdata when sb_we[m] (a load) and read into sb_rdata by the next cycle (a store).
//
// FAULT (planted faults for the core's mutation tests; 0 in a real core): 2 adds one to every transfer's
// partition stride.
module dma_engine #(
    parameter QUEUES = 4,
    parameter LATENCY = 64,
    parameter BEAT = 64,
    parameter PCW = 12,
    parameter FAULT = 0
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire [31:0]          cycle,
    // issue (one cycle) and the in-flight count
    input  wire                 issue,
    input  wire [511:0]         issue_word,
    input  wire [PCW-1:0]       issue_pc,
    input  wire [31:0]          issue_base,
    output wire [$clog2(QUEUES + 1)-1:0] inflight,
    // a transfer's last beat: its instruction index
    output wire                 done,
    output wire [PCW-1:0]       done_pc,
    // DRAM port
    output wire                 dram_rd_en,
    output wire [31:0]          dram_rd_addr,
    input  wire [BEAT*8-1:0]    dram_rdata,
    output reg                  dram_wr_en,
    output reg  [31:0]          dram_wr_addr,
    output reg  [$clog2(BEAT + 1)-1:0] dram_wr_len,
    output wire [BEAT*8-1:0]    dram_wr_data,
    // SBUF port
    output wire [7:0]           sb_part,
    output reg  [BEAT-1:0]      sb_we,
    output reg  [BEAT*20-1:0]   sb_addr,
    output wire [BEAT*8-1:0]    sb_wdata,
    input  wire [BEAT*8-1:0]    sb_rdata
);
`include "accel_isa.vh"
    localparam QW = $clog2(QUEUES + 1);
    localparam LW = $clog2(BEAT + 1);
    localparam EW = 512 + PCW + 64;  // word, index, base, data-phase earliest cycle

    // ------------------------------------------------------------------ transfers in flight (FIFO)
    wire [EW-1:0] head;
    wire          head_valid, full_unused;
    wire          pop;
    core_queue #(.DEPTH(QUEUES), .W(EW)) u_fifo (.clk(clk), .rst(rst), .push(issue),
        .din({cycle + LATENCY[31:0], issue_base, issue_pc, issue_word}), .pop(pop), .head(head),
        .valid(head_valid), .full(full_unused));
    reg [QW-1:0] count;
    assign inflight = count;
    always @(posedge clk) begin
        if (rst) count <= {QW{1'b0}};
        else count <= count + {{(QW - 1){1'b0}}, issue} - {{(QW - 1){1'b0}}, pop};
    end

    /* verilator lint_off UNUSEDSIGNAL */
    wire [511:0]   w = head[511:0];  // only the DMA fields are used
    /* verilator lint_on UNUSEDSIGNAL */
    wire [PCW-1:0] h_pc = head[512 +: PCW];
    wire [31:0]    h_base = head[512 + PCW +: 32];
    wire [31:0]    h_at = head[544 + PCW +: 32];
    wire           store = w[`ACCEL_OPCODE_LSB +: `ACCEL_OPCODE_W] == `ACCEL_OP_DMA_STORE;

    // ------------------------------------------------------------------ the patterns, normalized
    // dims a (outer), b, c (inner); a missing outer dim is (1, 0), as rtl/vec_ap_walk.v
    wire [15:0] dn0 = w[`ACCEL_F_DRAM_N0_LSB +: 16];
    wire [15:0] dn1 = w[`ACCEL_F_DRAM_N1_LSB +: 16];
    wire [15:0] dn2 = w[`ACCEL_F_DRAM_N2_LSB +: 16];
    wire [31:0] ds0 = {{8{w[`ACCEL_F_DRAM_S0_LSB + 23]}}, w[`ACCEL_F_DRAM_S0_LSB +: 24]};
    wire [31:0] ds1 = {{8{w[`ACCEL_F_DRAM_S1_LSB + 23]}}, w[`ACCEL_F_DRAM_S1_LSB +: 24]};
    wire [31:0] ds2 = {{8{w[`ACCEL_F_DRAM_S2_LSB + 23]}}, w[`ACCEL_F_DRAM_S2_LSB +: 24]};
    wire [31:0] pstride = {{8{w[`ACCEL_F_DRAM_PSTRIDE_LSB + 23]}}, w[`ACCEL_F_DRAM_PSTRIDE_LSB +: 24]}
                          + (FAULT == 2 ? 32'd1 : 32'd0);
    wire [31:0] doffset = w[`ACCEL_F_DRAM_OFFSET_LSB +: 32];
    wire [15:0] na = dn1 == 0 ? 16'd1 : dn2 == 0 ? 16'd1 : dn0;
    wire [15:0] nb = dn1 == 0 ? 16'd1 : dn2 == 0 ? dn0 : dn1;
    wire [15:0] nc = dn1 == 0 ? dn0 : dn2 == 0 ? dn1 : dn2;
    wire [31:0] sa = dn1 == 0 ? 32'd0 : dn2 == 0 ? 32'd0 : ds0;
    wire [31:0] sb = dn1 == 0 ? 32'd0 : dn2 == 0 ? ds0 : ds1;
    wire [31:0] sc = dn1 == 0 ? ds0 : dn2 == 0 ? ds1 : ds2;
    // descriptors: inner dims merged while each stride equals the run so far (n = 1 always merges)
    wire        mc = nc == 16'd1 || sc == 32'd1;
    wire [31:0] rc = mc ? {16'd0, nc} : 32'd1;
    wire        mb = mc && (nb == 16'd1 || sb == rc);
    wire [31:0] rb = mb ? rc * {16'd0, nb} : rc;
    wire        ma = mb && (na == 16'd1 || sa == rb);
    wire [31:0] run = ma ? rb * {16'd0, na} : rb;
    wire [15:0] qa = ma ? 16'd1 : na;  // the descriptor walk's dims
    wire [15:0] qb = mb ? 16'd1 : nb;
    wire [15:0] qc = mc ? 16'd1 : nc;

    wire [2:0]  dt = w[`ACCEL_F_AP0_DTYPE_LSB +: 3];
    wire [1:0]  shift = (dt == `ACCEL_DTYPE_BF16) ? 2'd1 : (dt == `ACCEL_DTYPE_INT8) ? 2'd0 : 2'd2;
    wire [7:0]  pstart = w[`ACCEL_F_AP0_PSTART_LSB +: 8];
    wire [8:0]  pcount = w[`ACCEL_F_AP0_PCOUNT_LSB +: 9];
    wire [19:0] soffset = w[`ACCEL_F_AP0_OFFSET_LSB +: 20];
    wire [15:0] sn0 = w[`ACCEL_F_AP0_N0_LSB +: 16];
    wire [15:0] sn1 = w[`ACCEL_F_AP0_N1_LSB +: 16];
    wire [15:0] sn2 = w[`ACCEL_F_AP0_N2_LSB +: 16];
    wire [19:0] ss0 = {{4{w[`ACCEL_F_AP0_S0_LSB + 15]}}, w[`ACCEL_F_AP0_S0_LSB +: 16]};
    wire [19:0] ss1 = {{4{w[`ACCEL_F_AP0_S1_LSB + 15]}}, w[`ACCEL_F_AP0_S1_LSB +: 16]};
    wire [19:0] ss2 = {{4{w[`ACCEL_F_AP0_S2_LSB + 15]}}, w[`ACCEL_F_AP0_S2_LSB +: 16]};
    wire [15:0] tb = sn1 == 0 ? 16'd1 : sn2 == 0 ? sn0 : sn1;
    wire [15:0] tc = sn1 == 0 ? sn0 : sn2 == 0 ? sn1 : sn2;
    wire [19:0] ua = sn1 == 0 ? 20'd0 : sn2 == 0 ? 20'd0 : ss0;
    wire [19:0] ub = sn1 == 0 ? 20'd0 : sn2 == 0 ? ss0 : ss1;
    wire [19:0] uc = sn1 == 0 ? ss0 : sn2 == 0 ? ss1 : ss2;

    // ------------------------------------------------------------------ the mover's state
    reg         active;
    reg  [8:0]  r_p;
    reg  [31:0] r_poff, r_rpos, r_da, r_db, r_dc;  // partition offset, run position, descriptor offsets
    reg  [15:0] r_ia, r_ib, r_ic;                  // descriptor indices
    reg  [15:0] r_ka, r_kb, r_kc;                  // SBUF pattern indices
    reg  [19:0] r_oa, r_ob, r_oc;                  // SBUF pattern element offsets
    wire [8:0]  p = active ? r_p : 9'd0;
    wire [31:0] poff = active ? r_poff : 32'd0;
    wire [31:0] rpos = active ? r_rpos : 32'd0;
    wire [31:0] da = active ? r_da : 32'd0;
    wire [31:0] db = active ? r_db : 32'd0;
    wire [31:0] dc = active ? r_dc : 32'd0;
    wire [15:0] ia = active ? r_ia : 16'd0;
    wire [15:0] ib = active ? r_ib : 16'd0;
    wire [15:0] ic = active ? r_ic : 16'd0;

    wire        go = head_valid && (active || cycle >= h_at);
    wire [31:0] left = run - rpos;
    wire [31:0] epb = BEAT >> shift;                  // elements per beat
    wire [31:0] k = left < epb ? left : epb;          // elements in this beat
    wire        run_end = left <= epb;
    wire        desc_last = ic == qc - 16'd1 && ib == qb - 16'd1 && ia == qa - 16'd1;
    wire        part_last = {7'd0, p} == {7'd0, pcount} - 16'd1;
    wire        last = run_end && desc_last && part_last;
    assign pop = go && last;
    assign done = pop;
    assign done_pc = h_pc;

    wire [31:0] elem = doffset + poff + da + db + dc + rpos;
    wire [31:0] addr = h_base + (elem << shift);
    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0] nbytes = k << shift;  // at most BEAT
    /* verilator lint_on UNUSEDSIGNAL */
    assign dram_rd_en = go && !store;
    assign dram_rd_addr = addr;
    reg  [BEAT-1:0] wr_mask;  // the store beat's bytes (zeros above its length)
    genvar g;
    generate
        for (g = 0; g < BEAT; g = g + 1) begin : g_wr
            assign dram_wr_data[g*8 +: 8] = wr_mask[g] ? sb_rdata[g*8 +: 8] : 8'd0;
        end
    endgenerate
    always @(posedge clk) begin
        dram_wr_en <= !rst && go && store;
        dram_wr_addr <= addr;
        dram_wr_len <= nbytes[LW-1:0];
        wr_mask <= sb_we_any;
    end
    assign sb_part = pstart + p[7:0];
    assign sb_wdata = dram_rdata;

    // SBUF addresses of the beat's elements, walking the pattern from its state (rtl/ap_step.v, one a
    // beat element); the state after k steps
    wire [107:0] s_dims = {16'd1, ua, tb, ub, tc, uc};  // (its outermost count is not needed)
    wire [BEAT*20-1:0] ea;                              // element j's byte address
    generate
        for (g = 0; g < BEAT; g = g + 1) begin : g_elem
            wire [107:0] st, nx, after;  // the state before element g, stepped, and after the beat's element g
            if (g == 0) begin : g_first
                assign st = active ? {r_ka, r_kb, r_kc, r_oa, r_ob, r_oc} : 108'd0;
            end else begin : g_next
                assign st = g_elem[g - 1].after;
            end
            ap_step u_step (.dims(s_dims), .state(st), .base(soffset), .shift(shift), .addr(ea[g*20 +: 20]),
                .next(nx));
            assign after = g < k ? nx : st;
        end
    endgenerate
    wire [107:0] s_end = g_elem[BEAT - 1].after;
    wire [15:0] nka = s_end[107:92];
    wire [15:0] nkb = s_end[91:76];
    wire [15:0] nkc = s_end[75:60];
    wire [19:0] noa = s_end[59:40];
    wire [19:0] nob = s_end[39:20];
    wire [19:0] noc = s_end[19:0];
    reg [BEAT-1:0] sb_we_any;  // the beat's bytes
    integer j, m;
    always @* begin
        sb_we = {BEAT{1'b0}};
        sb_we_any = {BEAT{1'b0}};
        sb_addr = {BEAT*20{1'b0}};
        for (j = 0; j < BEAT; j = j + 1) begin
            if (j < k) begin
                for (m = 0; m < 4; m = m + 1) begin
                    if (m < (1 << shift)) begin
                        sb_addr[((j << shift) + m) * 20 +: 20] = ea[j*20 +: 20] + m[19:0];
                        sb_we[(j << shift) + m] = go && !store;
                        sb_we_any[(j << shift) + m] = 1'b1;
                    end
                end
            end
        end
    end

    always @(posedge clk) begin
        if (rst) begin
            active <= 1'b0;
        end else if (go) begin
            active <= !last;
            r_rpos <= run_end ? 32'd0 : rpos + k;
            r_ka <= nka; r_kb <= nkb; r_kc <= nkc; r_oa <= noa; r_ob <= nob; r_oc <= noc;
            r_p <= p; r_poff <= poff; r_ia <= ia; r_ib <= ib; r_ic <= ic; r_da <= da; r_db <= db; r_dc <= dc;
            if (run_end) begin
                if (desc_last) begin  // next partition: the descriptors and the SBUF pattern start over
                    r_p <= p + 9'd1; r_poff <= poff + pstride;
                    r_ia <= 16'd0; r_ib <= 16'd0; r_ic <= 16'd0; r_da <= 32'd0; r_db <= 32'd0; r_dc <= 32'd0;
                    r_ka <= 16'd0; r_kb <= 16'd0; r_kc <= 16'd0; r_oa <= 20'd0; r_ob <= 20'd0; r_oc <= 20'd0;
                end else if (ic != qc - 16'd1) begin
                    r_ic <= ic + 16'd1; r_dc <= dc + sc;
                end else begin
                    r_ic <= 16'd0; r_dc <= 32'd0;
                    if (ib != qb - 16'd1) begin
                        r_ib <= ib + 16'd1; r_db <= db + sb;
                    end else begin
                        r_ib <= 16'd0; r_db <= 32'd0; r_ia <= ia + 16'd1; r_da <= da + sa;
                    end
                end
            end
        end
    end
endmodule
