`timescale 1ns/1ps
// vec_engine: the VEC engine. LANES lanes (one per partition) execute every VEC instruction of the
// ISA (vec.add .. vec.cast, vec.rng_*, vec.dropout*) bit for bit as accel.model.vec / accel.model.rng,
// in the model's element order. docs/vec.md "The vector engine in RTL" describes it; in short:
//
// * Instructions: 512-bit words on a valid/ready handshake (in_valid, in_ready, in_word), decoded with
//   the generated rtl/include/accel_isa.vh. nop and other engines' words are dropped; `halt` sets
//   `halted`. `busy` is high while an instruction (or the reset-time seeding) runs.
// * Lanes and partitions: the instruction's "home" pattern (src, or dst for rng_fill / get_offset /
//   save_state / load_state) puts logical lane p on lane pstart + p, which owns that lane's RNG state.
//   Each lane has one read and one write port to its own SBUF/PSUM partition (32-bit words, byte
//   enables, synchronous read with one clock latency; address and space shared by all lanes, enables
//   per lane). Operands whose pstart differs from the home pstart pass through one read rotator and
//   one write rotator (LANES x 32-bit barrel rotators; rtl/lane_ports.v, shared with rtl/act_engine.v).
// * Sequencing: all lanes move in lockstep, one pattern element per step, through rtl/vec_ap_walk.v
//   walkers (dst ap0, a/src ap1, b/mask ap2); each lane is an rtl/vec_lane.v. Clocks per element
//   (every lane does one element of its partition in that time): 3 for vec.add..min (read a, read b,
//   compute and write); 2 for the tensor-scalar forms, copy, cast, reductions (plus one clock per
//   reduction result), dropout* with xoroshiro words (plus one per mask word written or read);
//   1 for rng_fill with xoroshiro words, rng_get_offset, rng_save_state. Philox words come from one
//   rtl/rng_philox_iter.v per lane that prefetches the next 4-word block (11 clocks a block), so
//   rng_fill and dropout* with Philox words take about 2.75 clocks per element, whatever the lanes'
//   index alignment. An instruction adds 4 clocks of decode and set-up; dropout* also wait for
//   rtl/dropout_scale.v (its latency, 15 clocks). The ports never stall the engine (one read or one
//   write per clock).
// * RNG registers: seed (64), offset (64), stride (32); per lane rtl/rng_xoroshiro.v. vec.rng_seed
//   (and reset, with seed 0) re-seeds every lane from rtl/splitmix64_seeder.v: 2 * LANES + 4 clocks.
// * Element order matches the model; like the model, a later element of dst overwrites an earlier one.
//   The model reads all sources before writing dst, the engine streams; the two agree because the
//   emulator rejects any overlap where a byte would be written before a later element reads it
//   (accel.machine.Core.check_stream_order).
// Preconditions the assembler/emulator check (shapes, bounds, alignment, a nonzero loaded state)
// are not checked again here.
module vec_engine #(
    parameter LANES = 128
) (
    input  wire                 clk,
    input  wire                 rst,
    // instruction queue
    input  wire                 in_valid,
    output wire                 in_ready,
    input  wire [511:0]         in_word,
    output wire                 busy,
    output reg                  halted,
    output wire                 retire,      // one clock per instruction finished (not nop/halt/others)
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
    localparam LW = (LANES > 1) ? $clog2(LANES) : 1;  // lane number width of the seeder

    // ------------------------------------------------------------------ states
    localparam [4:0] S_IDLE = 5'd0, S_DEC = 5'd1, S_PRE = 5'd2, S_SCALE = 5'd3, S_SEED = 5'd4,
                     S_RM = 5'd5, S_RA = 5'd6, S_RB = 5'd7, S_EX = 5'd8, S_WR = 5'd10,
                     S_WM = 5'd11, S_HALT = 5'd12, S_RST = 5'd13, S_DONE = 5'd14;
    reg [4:0] state;

    /* verilator lint_off UNUSEDSIGNAL */
    reg [511:0] ins;  // the instruction being executed (some fields are not the VEC engine's)
    /* verilator lint_on UNUSEDSIGNAL */
    wire [7:0] opc = ins[`ACCEL_OPCODE_LSB +: `ACCEL_OPCODE_W];
    wire [31:0] imm0 = ins[`ACCEL_F_IMM0_LSB +: `ACCEL_F_IMM0_W];
    wire [31:0] imm1 = ins[`ACCEL_F_IMM1_LSB +: `ACCEL_F_IMM1_W];
    wire        gen1 = ins[`ACCEL_F_FLAG_LSB];

    // operand fields
    wire        ap0_space = ins[`ACCEL_F_AP0_SPACE_LSB];
    wire [7:0]  ap0_ps = ins[`ACCEL_F_AP0_PSTART_LSB +: `ACCEL_F_AP0_PSTART_W];
    wire [8:0]  ap0_pc = ins[`ACCEL_F_AP0_PCOUNT_LSB +: `ACCEL_F_AP0_PCOUNT_W];
    wire [2:0]  ap0_dt = ins[`ACCEL_F_AP0_DTYPE_LSB +: `ACCEL_F_AP0_DTYPE_W];
    wire        ap1_space = ins[`ACCEL_F_AP1_SPACE_LSB];
    wire [7:0]  ap1_ps = ins[`ACCEL_F_AP1_PSTART_LSB +: `ACCEL_F_AP1_PSTART_W];
    wire [8:0]  ap1_pc = ins[`ACCEL_F_AP1_PCOUNT_LSB +: `ACCEL_F_AP1_PCOUNT_W];
    wire [1:0]  ap1_dt = ins[`ACCEL_F_AP1_DTYPE_LSB +: 2];  // the element types the lanes take
    wire        ap2_space = ins[`ACCEL_F_AP2_SPACE_LSB];
    wire [7:0]  ap2_ps = ins[`ACCEL_F_AP2_PSTART_LSB +: `ACCEL_F_AP2_PSTART_W];
    wire [1:0]  ap2_dt = ins[`ACCEL_F_AP2_DTYPE_LSB +: 2];

    // instruction classes
    wire is_bin   = opc >= `ACCEL_OP_VEC_ADD && opc <= `ACCEL_OP_VEC_MIN;
    wire is_scl   = opc >= `ACCEL_OP_VEC_ADDS && opc <= `ACCEL_OP_VEC_MINS;
    wire is_red   = opc == `ACCEL_OP_VEC_REDUCE_SUM || opc == `ACCEL_OP_VEC_REDUCE_MAX;
    wire is_rmax  = opc == `ACCEL_OP_VEC_REDUCE_MAX;
    wire is_copy  = opc == `ACCEL_OP_VEC_COPY;
    wire is_cast  = opc == `ACCEL_OP_VEC_CAST;
    wire is_seed  = opc == `ACCEL_OP_VEC_RNG_SEED;
    wire is_soff  = opc == `ACCEL_OP_VEC_RNG_SET_OFFSET;
    wire is_goff  = opc == `ACCEL_OP_VEC_RNG_GET_OFFSET;
    wire is_sstr  = opc == `ACCEL_OP_VEC_RNG_SET_STRIDE;
    wire is_save  = opc == `ACCEL_OP_VEC_RNG_SAVE_STATE;
    wire is_load  = opc == `ACCEL_OP_VEC_RNG_LOAD_STATE;
    wire is_fill  = opc == `ACCEL_OP_VEC_RNG_FILL;
    wire is_dmask = opc == `ACCEL_OP_VEC_DROPOUT_MASK;
    wire is_dapp  = opc == `ACCEL_OP_VEC_DROPOUT_APPLY;
    wire is_drop  = opc == `ACCEL_OP_VEC_DROPOUT || is_dmask;  // uses RNG words
    wire is_halt  = opc == `ACCEL_OP_HALT;
    wire is_pat   = is_bin || is_scl || is_red || is_copy || is_cast || is_goff || is_save || is_load ||
                    is_fill || is_drop || is_dapp;
    wire uses_rng = is_fill || is_drop;
    wire philox   = uses_rng && !gen1;
    wire home0    = is_fill || is_goff || is_save || is_load;  // home pattern is ap0
    wire no_read  = is_fill || is_goff || is_save;

    wire [7:0] hp = home0 ? ap0_ps : ap1_ps;
    wire [8:0] hc = home0 ? ap0_pc : ap1_pc;

    // ------------------------------------------------------------------ walkers
    wire        w_load = state == S_DEC;
    wire [19:0] w0_addr, w1_addr, w2_addr;
    wire        w0_last, w1_last, w1_inner, w2_last_unused, w0_inner_unused, w2_inner_unused;
    reg         w0_step, w1_step, w2_step;
    vec_ap_walk #(.AP(0)) u_w0 (.clk(clk), .load(w_load), .step(w0_step), .word(ins), .addr(w0_addr),
        .last(w0_last), .inner_last(w0_inner_unused));
    vec_ap_walk #(.AP(1)) u_w1 (.clk(clk), .load(w_load), .step(w1_step), .word(ins), .addr(w1_addr),
        .last(w1_last), .inner_last(w1_inner));
    vec_ap_walk #(.AP(2)) u_w2 (.clk(clk), .load(w_load), .step(w2_step), .word(ins), .addr(w2_addr),
        .last(w2_last_unused), .inner_last(w2_inner_unused));
    wire last = home0 ? w0_last : w1_last;  // current element is the home pattern's last

    // free size of the home pattern (unused dims count 1): the default row stride of the RNG index
    wire [15:0] hn0 = home0 ? ins[`ACCEL_F_AP0_N0_LSB +: 16] : ins[`ACCEL_F_AP1_N0_LSB +: 16];
    wire [15:0] hn1 = home0 ? ins[`ACCEL_F_AP0_N1_LSB +: 16] : ins[`ACCEL_F_AP1_N1_LSB +: 16];
    wire [15:0] hn2 = home0 ? ins[`ACCEL_F_AP0_N2_LSB +: 16] : ins[`ACCEL_F_AP1_N2_LSB +: 16];
    wire [47:0] free = {32'd0, hn0} * {32'd0, (hn1 == 16'd0 ? 16'd1 : hn1)} *
                       {32'd0, (hn2 == 16'd0 ? 16'd1 : hn2)};

    // ------------------------------------------------------------------ RNG registers
    reg  [63:0] seed, offset;
    reg  [31:0] stride;
    reg  [63:0] row_stride;             // stride, or the home free size when stride = 0
    wire [63:0] hp_rows = {56'd0, hp} * row_stride;

    // SplitMix64 lane seeder (vec.rng_seed, and seed 0 after reset)
    reg         sd_start;
    wire        sd_busy_unused, sd_valid, sd_done;
    wire [LW-1:0] sd_lane;
    wire [63:0] sd_s0, sd_s1;
    splitmix64_seeder #(.LANES(LANES), .LW(LW)) u_seeder (.clk(clk), .start(sd_start), .seed(seed), .busy(sd_busy_unused),
        .valid(sd_valid), .lane(sd_lane), .s0(sd_s0), .s1(sd_s1), .done(sd_done));

    // 1/(1-p) for dropout*
    reg         sc_start;
    wire        sc_busy_unused, sc_done;
    wire [31:0] scale;
    dropout_scale u_scale (.clk(clk), .start(sc_start), .p(imm0), .busy(sc_busy_unused), .done(sc_done),
                           .scale(scale));

    // ------------------------------------------------------------------ sequencing registers
    reg  [4:0]  bit_pos;     // f mod 32: mask bit
    reg         red_first;   // first element of a reduction group
    reg         end_pending; // the step just taken was the instruction's last (S_WR / S_WM finish it)
    reg  [1:0]  word_idx;    // element number in rng_get_offset / save / load (0..3)
    reg         mask_pend;   // dropout_apply: the mask word read is arriving

    // ------------------------------------------------------------------ port control
    reg        rd_go, rd_sp;
    reg [19:0] rd_byte;
    reg [7:0]  rd_ps;
    reg        wr_go, wr_sp;
    reg [19:0] wr_byte;
    reg [7:0]  wr_ps;
    reg [2:0]  wr_dt;
    reg [1:0]  wsel;        // write data: 0 lane result, 1 raw element (copy), 2 mask word, 3 RNG register
    reg [1:0]  rlo_q;       // byte lane of the read whose data arrives now

    always @* begin
        rd_go = 1'b0; rd_sp = ap1_space; rd_byte = w1_addr; rd_ps = ap1_ps;
        case (state)
            S_RM: begin rd_go = 1'b1; rd_sp = ap2_space; rd_byte = w2_addr; rd_ps = ap2_ps; end
            S_RA: begin
                rd_go = 1'b1;
                if (is_load) begin rd_sp = ap0_space; rd_byte = w0_addr; rd_ps = ap0_ps; end
            end
            S_RB: begin rd_go = 1'b1; rd_sp = ap2_space; rd_byte = w2_addr; rd_ps = ap2_ps; end
            default: ;
        endcase
    end

    wire [LANES-1:0] lane_miss;       // lanes waiting for a Philox block
    wire ph_miss = |lane_miss;
    wire ex_go = state == S_EX && !ph_miss;
    always @* begin
        wr_go = 1'b0; wr_sp = ap0_space; wr_byte = w0_addr; wr_ps = ap0_ps; wr_dt = ap0_dt; wsel = 2'd0;
        if (ex_go && !is_red && !is_load) begin
            wr_go = 1'b1;
            wsel = is_copy ? 2'd1 : (is_goff || is_save) ? 2'd3 : 2'd0;
        end else if (state == S_WR) begin
            wr_go = 1'b1;
        end else if (state == S_WM) begin
            wr_go = 1'b1; wr_sp = ap2_space; wr_byte = w2_addr; wr_ps = ap2_ps; wr_dt = 3'd3;
            wsel = 2'd2;
        end
    end

    assign rd_space = rd_sp;
    assign rd_addr = rd_byte[19:2];
    assign wr_space = wr_sp;
    assign wr_addr = wr_byte[19:2];

    // the operand's partitions (hc from its pstart), rotated to and from the home lanes
    wire [LANES*32-1:0] rd_log, wr_log;
    lane_ports #(.LANES(LANES)) u_ports (.clk(clk),
        .rd_go(rd_go), .rd_first({1'b0, rd_ps}), .rd_count(hc), .rd_ps(rd_ps), .rd_home(hp), .rd_en(rd_en),
        .rd_data(rd_data), .rd_log(rd_log),
        .wr_go(wr_go), .wr_first({1'b0, wr_ps}), .wr_count(hc), .wr_ps(wr_ps), .wr_home(hp), .wr_dt(wr_dt),
        .wr_lo(wr_byte[1:0]), .wr_log(wr_log), .wr_en(wr_en), .wr_be(wr_be), .wr_data(wr_data));

    // lane control shared by all lanes
    reg  [2:0] l_op;
    reg  [1:0] l_at, l_bt, l_yt;
    reg        l_a_acc;      // lane a input: accumulator (else the element just read / a register)
    always @* begin
        l_op = 3'd7; l_at = ap1_dt; l_bt = ap2_dt; l_yt = ap0_dt[1:0]; l_a_acc = 1'b0;
        if (state == S_WR) begin
            l_op = 3'd7; l_at = 2'd0; l_a_acc = 1'b1;
        end else if (is_bin || is_scl) begin
            l_op = opc[2:0];
            if (is_scl) l_bt = 2'd0;
        end else if (is_red) begin
            l_yt = 2'd0;
            if (is_rmax && red_first) begin
                l_op = 3'd7;
            end else begin
                l_op = is_rmax ? 3'd3 : 3'd0; l_at = 2'd0; l_bt = ap1_dt; l_a_acc = 1'b1;
            end
        end else if (is_fill) begin
            l_op = 3'd6;
        end else if (is_drop || is_dapp) begin
            l_op = 3'd5;
        end
    end

    // ------------------------------------------------------------------ lanes

    wire [LW-1:0] sd_lane_w = sd_lane;
    genvar L;
    generate
        for (L = 0; L < LANES; L = L + 1) begin : g_lane
            wire [8:0] num = L;
            vec_lane u_lane (.clk(clk), .rst(rst), .lane(num), .active(num >= {1'b0, hp} && num < {1'b0, hp} + hc),
                .rword(rd_log[L*32 +: 32]), .rlo(rlo_q),
                .op(l_op), .a_type(l_at), .b_type(l_bt), .y_type(l_yt), .a_acc(l_a_acc), .a_reg_sel(is_bin),
                .b_imm(is_scl || is_drop || is_dapp), .imm(imm0), .scale(scale), .apply(is_dapp), .gen1(gen1),
                .pre(state == S_PRE), .cap_a(state == S_RB), .cap_mask(state == S_RA && mask_pend), .ex(ex_go),
                .red(is_red), .dmask(is_dmask), .load_st(is_load), .rng_step(uses_rng && gen1),
                .acc_clr(state == S_WR), .mask_clr(state == S_WM), .phx(philox),
                .base(imm1), .row_stride(row_stride), .hp_rows(hp_rows), .seed(seed), .offset(offset),
                .sd_valid(sd_valid), .sd_lane({{(9 - LW){1'b0}}, sd_lane_w}), .sd_s0(sd_s0), .sd_s1(sd_s1),
                .bit_pos(bit_pos), .word_idx(word_idx), .wsel(wsel), .goff(is_goff), .wlo(wr_byte[1:0]),
                .wword(wr_log[L*32 +: 32]), .miss(lane_miss[L]));
        end
    endgenerate

    // ------------------------------------------------------------------ control
    assign in_ready = state == S_IDLE;
    assign busy = state != S_IDLE && state != S_HALT;
    assign retire = state == S_DONE;

    always @* begin
        w0_step = 1'b0; w1_step = 1'b0; w2_step = 1'b0;
        if (ex_go) begin
            if (home0) begin
                w0_step = 1'b1;
            end else begin
                w1_step = 1'b1;
                w0_step = !is_red;
                w2_step = is_bin;
            end
        end
        if (state == S_WR) w0_step = 1'b1;
        if (state == S_WM || state == S_RM) w2_step = 1'b1;
    end

    // next element's first state
    wire [4:0] next_elem = no_read ? S_EX : (is_dapp && bit_pos == 5'd31) ? S_RM : S_RA;

    always @(posedge clk) begin
        sd_start <= 1'b0;
        sc_start <= 1'b0;
        rlo_q <= rd_byte[1:0];
        if (rst) begin
            state <= S_RST;
            // no instruction's controls after a reset: the last one's opcode would keep the lanes'
            // Philox cores prefetching for it through the reset and the seeding (docs/vec.md "Reset")
            ins[`ACCEL_OPCODE_LSB +: `ACCEL_OPCODE_W] <= `ACCEL_OP_NOP;
            halted <= 1'b0;
            seed <= 64'd0;
            offset <= 64'd0;
            stride <= 32'd0;
            mask_pend <= 1'b0;
        end else begin
            case (state)
                S_RST: begin
                    sd_start <= 1'b1;
                    state <= S_SEED;
                end
                S_IDLE: if (in_valid) begin
                    ins <= in_word;
                    state <= S_DEC;
                end
                S_DEC: begin
                    row_stride <= stride != 32'd0 ? {32'd0, stride} : {16'd0, free};
                    bit_pos <= 5'd0;
                    word_idx <= 2'd0;
                    red_first <= 1'b1;
                    end_pending <= 1'b0;
                    mask_pend <= 1'b0;
                            if (is_halt) begin
                        halted <= 1'b1;
                        state <= S_HALT;
                    end else if (is_seed) begin
                        seed <= {imm1, imm0};
                        sd_start <= 1'b1;
                        state <= S_SEED;
                    end else if (is_soff) begin
                        offset <= {imm1, imm0};
                        state <= S_DONE;
                    end else if (is_sstr) begin
                        stride <= imm0;
                        state <= S_DONE;
                    end else if (is_pat) begin
                        state <= S_PRE;
                    end else begin
                        state <= S_IDLE;  // nop, another engine's instruction
                    end
                end
                S_PRE: begin
                    if (is_drop || is_dapp) begin
                        sc_start <= 1'b1;
                        state <= S_SCALE;
                    end else begin
                        state <= no_read ? S_EX : S_RA;
                    end
                end
                S_SCALE: if (sc_done) state <= is_dapp ? S_RM : S_RA;
                S_SEED: if (sd_done) state <= S_DONE;
                S_RM: begin
                    mask_pend <= 1'b1;
                    state <= S_RA;
                end
                S_RA: begin
                    mask_pend <= 1'b0;
                    state <= is_bin ? S_RB : S_EX;
                end
                S_RB: state <= S_EX;
                S_EX: begin
                    if (!ph_miss) begin
                        bit_pos <= bit_pos + 5'd1;
                        word_idx <= word_idx + 2'd1;
                        red_first <= is_red && w1_inner;
                        end_pending <= last;
                        if (is_red && w1_inner) state <= S_WR;
                        else if (is_dmask && (bit_pos == 5'd31 || last)) state <= S_WM;
                        else if (last) state <= S_DONE;
                        else state <= next_elem;
                    end
                end
                S_WR, S_WM: state <= end_pending ? S_DONE : next_elem;
                S_DONE: state <= S_IDLE;
                S_HALT: ;
                default: state <= S_IDLE;
            endcase
        end
    end
endmodule
