`timescale 1ns/1ps
// vec_lane: one lane of rtl/vec_engine.v: the element arithmetic (rtl/simd_lane.v), the lane's RNG
// (an rtl/rng_philox_iter.v with a one-block cache, an rtl/rng_xoroshiro.v) and its registers (operand
// a, reduction accumulator, mask word, load_state staging). The engine's sequencer drives every
// control input; the lane number is a port (not a parameter) so one module serves all lanes.
// Latency: `wword` (the value to write, already moved to the destination's byte lane) and `keep`
// are combinational; registers change at the rising edge when their strobe is high.
module vec_lane (
    input  wire         clk,
    input  wire         rst,
    input  wire [8:0]   lane,    // this lane's number
    input  wire         active,  // the lane holds a partition of the instruction's home pattern
    // element operand arriving from the read port: the 32-bit word and the element's byte lane
    input  wire [31:0]  rword,
    input  wire [1:0]   rlo,
    // arithmetic controls (rtl/simd_lane.v op and element types)
    input  wire [2:0]   op,
    input  wire [1:0]   a_type,
    input  wire [1:0]   b_type,
    input  wire [1:0]   y_type,
    input  wire         a_acc,      // a = accumulator
    input  wire         a_reg_sel,  // a = the a register (binary ops), else the element read
    input  wire         b_imm,      // b = imm (tensor-scalar immediate or dropout p), else the element read
    input  wire [31:0]  imm,
    input  wire [31:0]  scale,
    input  wire         apply,      // dropout_apply: keep = mask bit
    input  wire         gen1,       // xoroshiro words (else Philox)
    // strobes
    input  wire         pre,        // instruction start: index, cache, accumulator, mask
    input  wire         cap_a,      // capture the a element
    input  wire         cap_mask,   // capture a mask word
    input  wire         ex,         // an element completes
    input  wire         red,        // reduction: the accumulator takes the result
    input  wire         dmask,      // dropout_mask: collect keep bits
    input  wire         load_st,    // rng_load_state: stage the state words
    input  wire         rng_step,   // step xoroshiro with each element
    input  wire         acc_clr,
    input  wire         mask_clr,
    input  wire         phx,        // the instruction takes Philox words: run the block cache
    // RNG registers
    input  wire [31:0]  base,
    input  wire [63:0]  row_stride,
    input  wire [63:0]  hp_rows,    // home pstart * row_stride
    input  wire [63:0]  seed,
    input  wire [63:0]  offset,
    input  wire         sd_valid,
    input  wire [8:0]   sd_lane,
    input  wire [63:0]  sd_s0,
    input  wire [63:0]  sd_s1,
    // write data
    input  wire [4:0]   bit_pos,
    input  wire [1:0]   word_idx,
    input  wire [1:0]   wsel,       // 0 result, 1 raw element (copy), 2 mask word, 3 RNG register
    input  wire         goff,       // RNG register = offset (else the xoroshiro state)
    input  wire [1:0]   wlo,        // destination byte lane
    output wire [31:0]  wword,
    output wire         miss        // active and the Philox block of the current index is not cached yet
);
    /*verilator no_inline_module*/
    wire [31:0] relem = rword >> {rlo, 3'd0};
    reg  [31:0] a_reg, acc, mask, stage0, stage1, stage2;

    // Philox: logical index i = base + (lane - home pstart) * stride + f. The block of the current index
    // is held in `cdata` (number cblk); the core meanwhile computes the next block (number nnum), so a
    // lane stalls only when it needs a block before the core has it. A block arriving from the core serves
    // the element in the same clock it moves into the cache, and the next block starts in that clock:
    // one block (4 words) per 11 clocks per lane at most (back-to-back rate of rtl/rng_philox_iter.v).
    reg  [63:0]  idx;
    reg  [61:0]  cblk, nnum;
    reg          cval;      // cdata holds block cblk
    reg          nval;      // the core's output holds block nnum
    reg          nstale;    // the running block was started for an earlier instruction: drop it
    reg  [127:0] cdata;
    wire [127:0] pblk;
    wire         pbusy, pvalid;
    wire [61:0]  need = idx[63:2];
    wire         hit = cval && cblk == need;
    wire         avail = nval || (pvalid && !nstale);  // the core's output holds block nnum
    wire         nready = avail && nnum == need;       // ... and it is the block needed now
    wire         swap = !hit && nready;                // it moves into the cache this clock
    // start the block after the one in use (prefetch), or the needed one on a miss
    wire         ph_start = phx && active && !pre && !pbusy &&
                            (swap || (hit ? !(avail && nnum == cblk + 62'd1) : !nready));
    wire [61:0]  start_num = swap ? nnum + 62'd1 : hit ? cblk + 62'd1 : need;
    rng_philox_iter u_ph (.clk(clk), .rst(rst), .start(ph_start), .ctr({offset, 2'b00, start_num}),
                          .key(seed), .busy(pbusy), .valid(pvalid), .out(pblk));
    assign miss = phx && active && !hit && !nready;
    wire [31:0] pword = hit ? cdata[{idx[1:0], 5'd0} +: 32] : pblk[{idx[1:0], 5'd0} +: 32];

    // xoroshiro128aox
    /* verilator lint_off UNUSEDSIGNAL */
    wire [63:0]  xout;  // words are the high halves
    /* verilator lint_on UNUSEDSIGNAL */
    wire [127:0] xstate;
    wire xload_seed = sd_valid && sd_lane == lane;
    wire xload_st = ex && load_st && word_idx == 2'd3 && active;
    rng_xoroshiro u_xo (.clk(clk), .load(xload_seed || xload_st),
                        .state_in(xload_seed ? {sd_s1, sd_s0} : {rword, stage2, stage1, stage0}),
                        .step(ex && rng_step && active), .out(xout), .state(xstate));

    // arithmetic
    wire [31:0] word = apply ? 32'hFFFFFFFF : gen1 ? xout[63:32] : pword;
    wire [31:0] la = a_acc ? acc : a_reg_sel ? a_reg : relem;
    wire [31:0] lb = b_imm ? imm : relem;
    wire [31:0] ly;
    wire        lkeep;
    simd_lane u_lane (.op(op), .a_type(a_type), .b_type(b_type), .y_type(y_type), .a(la), .b(lb),
                      .word(word), .scale(scale), .y(ly), .keep(lkeep));
    wire [31:0] yres = (apply && !mask[bit_pos]) ? 32'd0 : ly;
    wire [31:0] regword = goff ? (word_idx[0] ? offset[63:32] : offset[31:0]) : xstate[{word_idx, 5'd0} +: 32];
    wire [31:0] wval = (wsel == 2'd0) ? yres : (wsel == 2'd1) ? relem : (wsel == 2'd2) ? mask : regword;
    assign wword = wval << {wlo, 3'd0};

    always @(posedge clk) begin
        if (pre) begin
            idx <= {32'd0, base} + {55'd0, lane} * row_stride - hp_rows;
            cval <= 1'b0;
            nval <= 1'b0;
            nstale <= pbusy;
            mask <= 32'd0;
            acc <= 32'd0;
        end
        if (cap_a) a_reg <= relem;
        if (cap_mask) mask <= rword;
        if (!pre && phx && active && swap) begin
            cdata <= pblk;
            cblk <= nnum;
            cval <= 1'b1;
        end
        if (ph_start) begin
            nnum <= start_num;
            nval <= 1'b0;
        end else if (pvalid && !pre) begin
            nval <= !nstale;
        end
        if (pvalid) nstale <= 1'b0;
        if (ex) begin
            idx <= idx + 64'd1;
            if (red) acc <= ly;
            if (dmask) mask <= mask | ({31'd0, lkeep} << bit_pos);
            if (load_st) begin
                if (word_idx == 2'd0) stage0 <= rword;
                if (word_idx == 2'd1) stage1 <= rword;
                if (word_idx == 2'd2) stage2 <= rword;
            end
        end
        if (acc_clr) acc <= 32'd0;
        if (mask_clr) mask <= 32'd0;
        // reset (last, so it wins over the strobes above): the index and the cache flags cleared (the
        // core, u_ph, resets itself), so the first Philox instruction after a reset finds every cache and
        // core output empty, as accel.timing.vec assumes, on every simulator and whatever the lane
        // held before (docs/vec.md "Cycles", "Reset")
        if (rst) begin
            idx <= 64'd0;
            cval <= 1'b0;
            nval <= 1'b0;
            nstale <= 1'b0;
        end
    end
endmodule
