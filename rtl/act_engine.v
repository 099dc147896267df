`timescale 1ns/1ps
// act_engine: the ACT engine. LANES lanes (one per partition), each an rtl/act_lane.v (to_f32, the
// function unit rtl/act_func.v, from_f32), execute act.identity, act.relu, act.func and act.lut.load
// bit for bit as accel.model.act / accel.model.lut, in the cycles of accel.timing.act. docs/act.md
// "ACT engine in RTL" describes it; in short:
//
// * Instructions: 512-bit words on a valid/ready handshake (in_valid, in_ready, in_word) decoded with
//   the generated rtl/include/accel_isa.vh, as rtl/vec_engine.v. nop and other engines' words are
//   dropped (2 clocks); `halt` sets `halted`. in_ready also holds back a word that must wait (the
//   interlocks, below), so an instruction starts at the clock it is accepted.
// * Ports: per lane one read and one write port to its SBUF/PSUM partition (32-bit words, byte
//   enables, synchronous read with one clock latency; address and space shared by all lanes, enables
//   per lane): the vector engine's shape. The src pattern is the home pattern (lane = src partition);
//   bias and dst pass through a read and a write rotator when their pstart differs.
// * Streams (identity, relu, func): clock 0 accept, 1 decode, 2 set-up, then (bias pattern only) one
//   clock reading each lane's bias word, then one element read per clock (walkers rtl/vec_ap_walk.v:
//   dst ap0, src ap1; the bias word is ap2's offset), then one clock while the last element enters the units: the next
//   instruction is accepted 4 + B + F clocks after this one (B = 1 with a bias pattern). Element f
//   enters the units the clock after its read; its result is written 22 clocks later (act_func's
//   latency), the write address and type travelling beside it, so the instruction ends (its last
//   write done, `retire` high in that clock) 4 + B + F + 22 clocks after its accept.
// * act.lut.load: accept, decode, set-up, then one src word read per clock in access-pattern order
//   (partition by partition), each written into slot fn of the image memory the clock after: it ends
//   4 + words clocks after its accept.
// * Image memory: one rtl/act_image_mem.v shared by the lanes (built-ins 0..12 in ROM, user slots
//   16..31). The lanes' units hold the header of one function; an act.func of another fn (or of the
//   slot an act.lut.load rewrote, or the first after reset) waits until nothing is in flight, then
//   loads the header in its set-up clocks (words 0..15, then table 2's descriptor).
// * Interlocks (accel.timing.schedule): a stream whose src or bias byte range (lowest to highest
//   byte of the pattern, per space and partition range) meets the dst range of an instruction still
//   in flight waits until that one's last write; act.lut.load and a function switch wait until every
//   earlier ACT instruction has ended. The in-flight dst ranges are NSB scoreboard entries (a stream
//   lives at most 4 + 1 + 22 clocks after the next starts, so 8 cover the 6 that can overlap).
// Preconditions the assembler/emulator check (shapes, bounds, alignment, loaded slots, valid images)
// are not checked again here.
module act_engine #(
    parameter LANES = 128,
    parameter NSB = 8,              // scoreboard entries (in-flight streams)
    parameter MEM_DIR = ""          // folder of rtl/mem's images, with a trailing "/"
) (
    input  wire                 clk,
    input  wire                 rst,
    // instruction queue
    input  wire                 in_valid,
    output wire                 in_ready,
    input  wire [511:0]         in_word,
    output wire                 busy,        // an instruction occupies the engine
    output wire                 drained,     // every accepted instruction has ended (sem.signal may start)
    output reg                  halted,
    output wire                 retire,      // one clock per instruction ended (its last write), in order
    // SBUF/PSUM ports: space 0 sb, 1 psum; word address (byte address >> 2)
    output wire                 rd_space,
    output wire [17:0]          rd_addr,
    output wire [LANES-1:0]     rd_en,
    input  wire [LANES*32-1:0]  rd_data,
    output wire                 wr_space,
    output wire [17:0]          wr_addr,
    output wire [3:0]           wr_be,
    output wire [LANES-1:0]     wr_en,
    output wire [LANES*32-1:0]  wr_data
);
`include "accel_isa.vh"
    localparam IW = (NSB > 1) ? $clog2(NSB) : 1;

    // ------------------------------------------------------------------ states
    localparam [3:0] S_IDLE = 4'd0, S_DEC = 4'd1, S_PRE = 4'd2, S_BIAS = 4'd3, S_RD = 4'd4, S_LAST = 4'd5,
                     S_LRD = 4'd6, S_LDONE = 4'd7, S_HALT = 4'd8;
    reg [3:0] state;

    // ------------------------------------------------------------------ byte ranges (accel.timing.schedule.byte_span)
    // {lo, hi}: the lowest and highest byte of a pattern in its partitions (unused dims have n = 0)
    function [63:0] span;
        input [19:0] offset;
        input [2:0]  dt;
        input [15:0] n0, s0, n1, s1, n2, s2;
        reg signed [31:0] neg, pos, d, size;
        begin
            size = (dt == 3'd1) ? 32'sd2 : (dt == 3'd2) ? 32'sd1 : 32'sd4;
            neg = 0; pos = 0;
            d = (n0 == 16'd0) ? 32'sd0 : ($signed({16'd0, n0}) - 32'sd1) * $signed({{16{s0[15]}}, s0});
            if (d < 0) neg = neg + d; else pos = pos + d;
            d = (n1 == 16'd0) ? 32'sd0 : ($signed({16'd0, n1}) - 32'sd1) * $signed({{16{s1[15]}}, s1});
            if (d < 0) neg = neg + d; else pos = pos + d;
            d = (n2 == 16'd0) ? 32'sd0 : ($signed({16'd0, n2}) - 32'sd1) * $signed({{16{s2[15]}}, s2});
            if (d < 0) neg = neg + d; else pos = pos + d;
            span = {$signed({12'd0, offset}) + size * neg, $signed({12'd0, offset}) + size * (pos + 32'sd1) - 32'sd1};
        end
    endfunction

    // ------------------------------------------------------------------ the word offered (interlocks)
    wire [7:0]  i_opc = in_word[`ACCEL_OPCODE_LSB +: `ACCEL_OPCODE_W];
    wire [4:0]  i_fn = in_word[`ACCEL_F_SEM_LSB +: 5];
    wire        i_stream = i_opc == `ACCEL_OP_ACT_IDENTITY || i_opc == `ACCEL_OP_ACT_RELU || i_opc == `ACCEL_OP_ACT_FUNC;
    wire        i_lut = i_opc == `ACCEL_OP_ACT_LUT_LOAD;
    reg         cur_ok;     // the lanes' units hold the header of slot cur_fn
    reg  [4:0]  cur_fn;
    wire        i_switch = i_opc == `ACCEL_OP_ACT_FUNC && (!cur_ok || i_fn != cur_fn);
    wire        i_flag = in_word[`ACCEL_F_FLAG_LSB];
    wire [63:0] i_src = span(in_word[`ACCEL_F_AP1_OFFSET_LSB +: 20], in_word[`ACCEL_F_AP1_DTYPE_LSB +: 3],
        in_word[`ACCEL_F_AP1_N0_LSB +: 16], in_word[`ACCEL_F_AP1_S0_LSB +: 16], in_word[`ACCEL_F_AP1_N1_LSB +: 16],
        in_word[`ACCEL_F_AP1_S1_LSB +: 16], in_word[`ACCEL_F_AP1_N2_LSB +: 16], in_word[`ACCEL_F_AP1_S2_LSB +: 16]);
    wire [63:0] i_dst = span(in_word[`ACCEL_F_AP0_OFFSET_LSB +: 20], in_word[`ACCEL_F_AP0_DTYPE_LSB +: 3],
        in_word[`ACCEL_F_AP0_N0_LSB +: 16], in_word[`ACCEL_F_AP0_S0_LSB +: 16], in_word[`ACCEL_F_AP0_N1_LSB +: 16],
        in_word[`ACCEL_F_AP0_S1_LSB +: 16], in_word[`ACCEL_F_AP0_N2_LSB +: 16], in_word[`ACCEL_F_AP0_S2_LSB +: 16]);
    wire [31:0] i_bias_lo = {12'd0, in_word[`ACCEL_F_AP2_OFFSET_LSB +: 20]};
    wire        i_src_sp = in_word[`ACCEL_F_AP1_SPACE_LSB];
    wire        i_bias_sp = in_word[`ACCEL_F_AP2_SPACE_LSB];
    wire [8:0]  i_src_ps = {1'b0, in_word[`ACCEL_F_AP1_PSTART_LSB +: 8]};
    wire [8:0]  i_bias_ps = {1'b0, in_word[`ACCEL_F_AP2_PSTART_LSB +: 8]};
    wire [8:0]  i_pc = in_word[`ACCEL_F_AP1_PCOUNT_LSB +: 9];

    // scoreboard: the dst range of every stream in flight
    reg  [NSB-1:0] sb_v;
    reg            sb_sp [0:NSB-1];
    reg  [8:0]     sb_ps [0:NSB-1];
    reg  [8:0]     sb_pe [0:NSB-1];
    reg  [31:0]    sb_lo [0:NSB-1];
    reg  [31:0]    sb_hi [0:NSB-1];
    reg  [IW-1:0]  sb_wp;
    wire [NSB-1:0] hit;
    genvar g;
    generate
        for (g = 0; g < NSB; g = g + 1) begin : g_sb
            wire src_meets = sb_sp[g] == i_src_sp && i_src_ps < sb_pe[g] && sb_ps[g] < i_src_ps + i_pc &&
                             $signed(i_src[63:32]) <= $signed(sb_hi[g]) && $signed(sb_lo[g]) <= $signed(i_src[31:0]);
            wire bias_meets = i_flag && sb_sp[g] == i_bias_sp && i_bias_ps < sb_pe[g] && sb_ps[g] < i_bias_ps + i_pc &&
                              $signed(i_bias_lo) <= $signed(sb_hi[g]) && $signed(sb_lo[g]) <= $signed(i_bias_lo + 32'd3);
            assign hit[g] = sb_v[g] && (src_meets || bias_meets);
        end
    endgenerate
    assign drained = ~|sb_v && (state == S_IDLE || state == S_HALT);
    assign in_ready = state == S_IDLE && !(i_stream && |hit) && !((i_lut || i_switch) && |sb_v);
    assign busy = state != S_IDLE && state != S_HALT;

    // ------------------------------------------------------------------ the instruction being executed
    /* verilator lint_off UNUSEDSIGNAL */
    reg [511:0] ins;  // some fields are not the ACT engine's
    /* verilator lint_on UNUSEDSIGNAL */
    wire [7:0]  opc = ins[`ACCEL_OPCODE_LSB +: `ACCEL_OPCODE_W];
    wire [31:0] scale = ins[`ACCEL_F_IMM0_LSB +: `ACCEL_F_IMM0_W];
    wire [31:0] imm_bias = ins[`ACCEL_F_IMM1_LSB +: `ACCEL_F_IMM1_W];
    wire        flag = ins[`ACCEL_F_FLAG_LSB];
    wire [4:0]  fn = ins[`ACCEL_F_SEM_LSB +: 5];
    wire        ap0_space = ins[`ACCEL_F_AP0_SPACE_LSB];
    wire [7:0]  ap0_ps = ins[`ACCEL_F_AP0_PSTART_LSB +: 8];
    wire [2:0]  ap0_dt = ins[`ACCEL_F_AP0_DTYPE_LSB +: 3];
    wire        ap1_space = ins[`ACCEL_F_AP1_SPACE_LSB];
    wire [7:0]  ap1_ps = ins[`ACCEL_F_AP1_PSTART_LSB +: 8];
    wire [8:0]  ap1_pc = ins[`ACCEL_F_AP1_PCOUNT_LSB +: 9];
    wire [1:0]  ap1_dt = ins[`ACCEL_F_AP1_DTYPE_LSB +: 2];  // src's element type, as the lanes take it
    wire        ap2_space = ins[`ACCEL_F_AP2_SPACE_LSB];
    wire [7:0]  ap2_ps = ins[`ACCEL_F_AP2_PSTART_LSB +: 8];
    wire        is_stream = opc == `ACCEL_OP_ACT_IDENTITY || opc == `ACCEL_OP_ACT_RELU || opc == `ACCEL_OP_ACT_FUNC;
    wire        is_lut = opc == `ACCEL_OP_ACT_LUT_LOAD;
    wire [1:0]  mode = opc == `ACCEL_OP_ACT_IDENTITY ? 2'd1 : opc == `ACCEL_OP_ACT_RELU ? 2'd2 : 2'd0;

    // ------------------------------------------------------------------ walkers
    wire        w_load, w0_last_unused, w1_last, w0_inner_unused, w1_inner_unused;
    wire [19:0] w0_addr, w1_addr;
    wire [17:0] bias_addr = ins[`ACCEL_F_AP2_OFFSET_LSB + 2 +: 18];  // one fp32 per partition
    wire        w_step = state == S_RD || state == S_LRD;
    vec_ap_walk #(.AP(0)) u_w0 (.clk(clk), .load(w_load), .step(w_step), .word(ins), .addr(w0_addr),
        .last(w0_last_unused), .inner_last(w0_inner_unused));
    vec_ap_walk #(.AP(1)) u_w1 (.clk(clk), .load(w_load), .step(w_step), .word(ins), .addr(w1_addr),
        .last(w1_last), .inner_last(w1_inner_unused));

    // ------------------------------------------------------------------ read port
    reg  [8:0] lp;           // act.lut.load: partition being read (0 .. pcount - 1)
    reg  [15:0] lk;          // act.lut.load: image word
    wire [8:0] l_part = {1'b0, ap1_ps} + lp;
    wire       rd_go = state == S_BIAS || state == S_RD || state == S_LRD;
    wire       rd_bias = state == S_BIAS;
    assign rd_space = rd_bias ? ap2_space : ap1_space;
    assign rd_addr = rd_bias ? bias_addr : w1_addr[19:2];
    wire [7:0] rd_ps = rd_bias ? ap2_ps : ap1_ps;
    assign w_load = state == S_DEC || (state == S_LRD && w1_last);  // (re)start the patterns

    reg        bias_pend, elem_q, lw_q;
    reg  [1:0] rlo_q, rdt_q;
    reg  [8:0] lsel_q;
    reg  [4+14:0] lw_addr;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [LANES*32-1:0]   rd_word_all = rd_data >> {lsel_q, 5'd0};
    /* verilator lint_on UNUSEDSIGNAL */

    // ------------------------------------------------------------------ the element's write, carried beside the units
    // {last, entry, space, byte address, dtype, pstart, home pstart}
    localparam DW = 1 + IW + 1 + 20 + 3 + 8 + 8;
    reg  [DW-1:0] dl [0:22];
    reg  [22:0]   dv;
    wire [DW-1:0] dout = dl[22];
    wire          wr_go = dv[22];
    wire          out_last = dout[DW-1];
    wire [IW-1:0] out_id = dout[DW-2 -: IW];
    assign wr_space = dout[DW-2-IW];
    wire [19:0]   out_byte = dout[DW-3-IW -: 20];
    wire [2:0]    out_dt = dout[DW-23-IW -: 3];
    wire [7:0]    out_ps = dout[DW-26-IW -: 8];
    wire [7:0]    out_home = dout[7:0];
    reg  [8:0]    pc_q [0:NSB-1];  // pcount of each scoreboard entry's instruction
    wire [8:0]    out_pc = pc_q[out_id];
    assign wr_addr = out_byte[19:2];

    // the ports (rtl/lane_ports.v): src is the home pattern; bias reads and dst writes are rotated to it;
    // act.lut.load reads one partition a clock
    wire [LANES*32-1:0] rd_log, wr_log;
    lane_ports #(.LANES(LANES)) u_ports (.clk(clk),
        .rd_go(rd_go), .rd_first(state == S_LRD ? l_part : {1'b0, rd_ps}), .rd_count(state == S_LRD ? 9'd1 : ap1_pc),
        .rd_ps(rd_ps), .rd_home(ap1_ps), .rd_en(rd_en), .rd_data(rd_data), .rd_log(rd_log),
        .wr_go(wr_go), .wr_first({1'b0, out_ps}), .wr_count(out_pc), .wr_ps(out_ps), .wr_home(out_home),
        .wr_dt(out_dt), .wr_lo(out_byte[1:0]), .wr_log(wr_log), .wr_en(wr_en), .wr_be(wr_be), .wr_data(wr_data));
    assign retire = (wr_go && out_last) || state == S_LDONE;

    // ------------------------------------------------------------------ image memory and header loading
    reg  [3:1]  sw;            // header load steps of a function switch
    reg         switch_q;
    wire [LANES*14-1:0]  row_addr;
    wire [LANES*288-1:0] rows;
    wire [511:0]         hdr;
    wire [13:0]          t2_desc0;
    act_image_mem #(.LANES(LANES), .MEM_DIR(MEM_DIR)) u_mem (.clk(clk), .we(lw_q), .waddr(lw_addr),
        .wdata(rd_word_all[31:0]), .slot(cur_fn), .row_addr(row_addr), .rows(rows),
        .hdr_addr(sw[2] ? t2_desc0 : 14'd0), .hdr(hdr));

    // ------------------------------------------------------------------ lanes
    reg [31:0] bias_q [0:LANES-1];
    generate
        for (g = 0; g < LANES; g = g + 1) begin : g_lane
            wire [13:0] t2;
            wire [31:0] y;
            wire        ov_unused;
            act_lane #(.EXP_HEX({MEM_DIR, "lut_exp.hex"})) u_lane (.clk(clk), .rword(rd_log[g*32 +: 32]), .rlo(rlo_q),
                .src_dt(rdt_q), .in_valid(elem_q), .scale(scale), .bias(flag ? bias_q[g] : imm_bias), .mode(mode),
                .bf16(ap0_dt == 3'd1), .hdr_we(sw[1]), .hdr(hdr), .d2_we(sw[3]), .d2_words(hdr[127:0]),
                .t2_desc(t2), .row_addr(row_addr[g*14 +: 14]), .row(rows[g*288 +: 288]),
                .out_int(out_dt[1]), .out_int8(out_dt == 3'd2), .out_valid(ov_unused), .y(y));
            assign wr_log[g*32 +: 32] = y << {out_byte[1:0], 3'd0};
            if (g == 0) begin : g_t2
                assign t2_desc0 = t2;
            end else begin : g_t2_unused
                /* verilator lint_off UNUSEDSIGNAL */
                wire [13:0] unused = t2;
                /* verilator lint_on UNUSEDSIGNAL */
            end
            always @(posedge clk) if (bias_pend) bias_q[g] <= rd_log[g*32 +: 32];
        end
    endgenerate

    // ------------------------------------------------------------------ control
    integer k;
    always @(posedge clk) begin
        // read side: what arrives next clock
        rlo_q <= w1_addr[1:0];
        rdt_q <= ap1_dt;
        bias_pend <= rd_bias;
        elem_q <= state == S_RD;
        lw_q <= state == S_LRD;
        lsel_q <= l_part;
        lw_addr <= {fn, lk[13:0]};
        // the element's write travels beside the units: dl[0] is set with its read, dl[22] is its write
        dl[0] <= {state == S_RD && w1_last, sb_wp - {{(IW - 1){1'b0}}, 1'b1}, ap0_space, w0_addr, ap0_dt, ap0_ps,
                  ap1_ps};
        for (k = 1; k <= 22; k = k + 1) dl[k] <= dl[k - 1];
        dv <= {dv[21:0], state == S_RD};
        sw <= {sw[2:1], state == S_PRE && switch_q};
        if (wr_go && out_last) sb_v[out_id] <= 1'b0;
        if (rst) begin
            state <= S_IDLE;
            halted <= 1'b0;
            sb_v <= {NSB{1'b0}};
            sb_wp <= {IW{1'b0}};
            cur_ok <= 1'b0;
            dv <= 23'd0;
            sw <= 3'd0;
            elem_q <= 1'b0;
            lw_q <= 1'b0;
            bias_pend <= 1'b0;
        end else begin
            case (state)
                S_IDLE: if (in_valid && in_ready) begin
                    ins <= in_word;
                    state <= S_DEC;
                    if (i_stream) begin  // its dst range enters the scoreboard
                        sb_v[sb_wp] <= 1'b1;
                        sb_sp[sb_wp] <= in_word[`ACCEL_F_AP0_SPACE_LSB];
                        sb_ps[sb_wp] <= {1'b0, in_word[`ACCEL_F_AP0_PSTART_LSB +: 8]};
                        sb_pe[sb_wp] <= {1'b0, in_word[`ACCEL_F_AP0_PSTART_LSB +: 8]} + i_pc;
                        sb_lo[sb_wp] <= i_dst[63:32];
                        sb_hi[sb_wp] <= i_dst[31:0];
                        pc_q[sb_wp] <= i_pc;
                        sb_wp <= sb_wp + {{(IW - 1){1'b0}}, 1'b1};
                    end
                end
                S_DEC: begin
                    lp <= 9'd0;
                    lk <= 16'd0;
                    switch_q <= opc == `ACCEL_OP_ACT_FUNC && (!cur_ok || fn != cur_fn);
                    if (opc == `ACCEL_OP_ACT_FUNC) begin
                        cur_fn <= fn;
                        cur_ok <= 1'b1;
                    end
                    if (is_lut && fn == cur_fn) cur_ok <= 1'b0;  // its header is rewritten
                    if (opc == `ACCEL_OP_HALT) begin
                        halted <= 1'b1;
                        state <= S_HALT;
                    end else if (is_stream || is_lut) begin
                        state <= S_PRE;
                    end else begin
                        state <= S_IDLE;  // nop, sync, another engine's word
                    end
                end
                S_PRE: state <= is_lut ? S_LRD : flag ? S_BIAS : S_RD;
                S_BIAS: state <= S_RD;
                S_RD: if (w1_last) state <= S_LAST;
                S_LAST: state <= S_IDLE;
                S_LRD: begin
                    lk <= lk + 16'd1;
                    if (w1_last) begin
                        lp <= lp + 9'd1;
                        if (lp + 9'd1 == ap1_pc) state <= S_LDONE;
                    end
                end
                S_LDONE: state <= S_IDLE;
                S_HALT: ;
                default: state <= S_IDLE;
            endcase
        end
    end

    initial begin
        sb_v = {NSB{1'b0}};
        dv = 23'd0;
        cur_ok = 1'b0;
        cur_fn = 5'd0;
        for (k = 0; k < NSB; k = k + 1) begin
            sb_sp[k] = 1'b0; sb_ps[k] = 9'd0; sb_pe[k] = 9'd0; sb_lo[k] = 32'd0; sb_hi[k] = 32'd0; pc_q[k] = 9'd0;
        end
    end
endmodule
