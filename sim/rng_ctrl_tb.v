`timescale 1ns/1ps
// rng_ctrl_tb: bench wrapper for rtl/dropout_scale.v and rtl/splitmix64_seeder.v (not synthesizable:
// it loads vector files). On `start` it reads rngctrl_exp.hex (and, in seeder modes, rngctrl_seed.hex)
// from the simulator's working folder, runs `count` operations without Python in the loop, each block
// restarted in the cycle its busy drops (the `done` cycle), compares every result and counts
// mismatches (sim/mismatch_tally.v); Python waits for `done`.
//
// mode 0 dropout_scale: line i is {p, expected scale} in bits 63:0; one check per p. NSC instances
//        share the work (instance k takes p number k, k + NSC, ...), so the bench needs fewer clocks.
// mode 1 splitmix64_seeder (LANES lanes): line k of rngctrl_seed.hex is a seed; line k * LANES + L
//        of rngctrl_exp.hex is {lane L (16 bits), s0, s1}; one check per `valid`, and a seed whose run
//        does not show exactly LANES `valid` clocks before `done` counts as one more mismatch
//        (first_bad_index then has bit 31 set over the seed's number).
// mode 2 as mode 1 on a second splitmix64_seeder of SMALL_LANES lanes (a width that is no power of 2).
// lat_min / lat_max: clocks from the edge that samples `start` to the `done` clock (dropout_scale
// instance 0, or the seeder); fv_min / fv_max: the same to a seed's first `valid` clock (modes 1, 2).
module rng_ctrl_tb #(
    parameter DEPTH_LOG2 = 17,
    parameter LANES = 128,
    parameter SMALL_LANES = 5
) (
    input  wire                  clk,
    input  wire                  start,
    input  wire [1:0]            mode,
    input  wire [DEPTH_LOG2:0]   count,
    output reg                   done,
    output wire [DEPTH_LOG2:0]   checked,
    output wire [31:0]           mismatches,
    output wire [31:0]           first_bad_index,
    output wire [143:0]          first_bad_got,
    output reg  [15:0]           lat_min,
    output reg  [15:0]           lat_max,
    output reg  [15:0]           fv_min,
    output reg  [15:0]           fv_max
);
    localparam LW = (LANES > 1) ? $clog2(LANES) : 1;
    localparam SW = (SMALL_LANES > 1) ? $clog2(SMALL_LANES) : 1;
    localparam NSC = 4;
    localparam [31:0] NSC32 = NSC;

    reg [143:0] mem_exp  [0:(1 << DEPTH_LOG2) - 1];
    reg [63:0]  mem_seed [0:(1 << DEPTH_LOG2) - 1];

    reg                  running;
    reg [DEPTH_LOG2:0]   issued;     // seeder operations started
    reg [DEPTH_LOG2:0]   completed;  // operations whose `done` was seen
    reg [15:0]           cyc, t_go;  // clocks mod 2**16: latencies fit 16 bits (lat_min .. fv_max)
    reg [31:0]           seen;       // `valid` clocks of the current seed
    wire [DEPTH_LOG2-1:0] issue_at = issued[DEPTH_LOG2-1:0];
    wire [DEPTH_LOG2-1:0] check_at = checked[DEPTH_LOG2-1:0];
    wire [143:0] want = mem_exp[check_at];
    wire [31:0]  count32 = {{(31 - DEPTH_LOG2){1'b0}}, count};

    // dropout_scale instances
    reg  [DEPTH_LOG2:0] sc_next [0:NSC-1];  // the p number instance k starts next
    reg  [DEPTH_LOG2:0] sc_cur  [0:NSC-1];  // the p number instance k works on
    wire [NSC-1:0]      sc_busy, sc_done, sc_go, sc_bad;
    wire [32*NSC-1:0]   sc_scale;
    genvar k;
    generate
        for (k = 0; k < NSC; k = k + 1) begin : g_scale
            wire [31:0] p_in = mem_exp[sc_next[k][DEPTH_LOG2-1:0]][63:32];     // line {p, scale}
            wire [31:0] scale_want = mem_exp[sc_cur[k][DEPTH_LOG2-1:0]][31:0];
            assign sc_go[k] = running && mode == 2'd0 && !sc_busy[k] && sc_next[k] < count;
            assign sc_bad[k] = sc_done[k] && sc_scale[32 * k +: 32] != scale_want;
            dropout_scale u_scale (.clk(clk), .start(sc_go[k]), .p(p_in), .busy(sc_busy[k]),
                                   .done(sc_done[k]), .scale(sc_scale[32 * k +: 32]));
        end
    endgenerate

    // this clock's dropout_scale results: how many, how many wrong, the lowest instance that is wrong
    reg [DEPTH_LOG2:0] sc_ndone;
    reg [31:0]         sc_nbad;
    reg [31:0]         sc_bad_index;
    reg [143:0]        sc_bad_got;
    integer j;
    always @* begin
        sc_ndone = {(DEPTH_LOG2 + 1){1'b0}};
        sc_nbad = 32'd0;
        sc_bad_index = 32'd0;
        sc_bad_got = 144'd0;
        for (j = NSC - 1; j >= 0; j = j - 1) begin
            sc_ndone = sc_ndone + {{DEPTH_LOG2{1'b0}}, sc_done[j]};
            sc_nbad = sc_nbad + {31'd0, sc_bad[j]};
            if (sc_bad[j]) begin
                sc_bad_index = {{(31 - DEPTH_LOG2){1'b0}}, sc_cur[j]};
                sc_bad_got = {80'd0, 32'd0, sc_scale[32 * j +: 32]};
            end
        end
    end

    // splitmix64_seeder instances
    wire          sd_busy, sd_valid, sd_done;
    wire [LW-1:0] sd_lane;
    wire [63:0]   sd_s0, sd_s1;
    wire          sd_go = running && mode == 2'd1 && !sd_busy && issued != count;
    splitmix64_seeder #(.LANES(LANES)) u_seed (.clk(clk), .start(sd_go), .seed(mem_seed[issue_at]),
                                               .busy(sd_busy), .valid(sd_valid), .lane(sd_lane), .s0(sd_s0),
                                               .s1(sd_s1), .done(sd_done));
    wire          sm_busy, sm_valid, sm_done;
    wire [SW-1:0] sm_lane;
    wire [63:0]   sm_s0, sm_s1;
    wire          sm_go = running && mode == 2'd2 && !sm_busy && issued != count;
    splitmix64_seeder #(.LANES(SMALL_LANES)) u_small (.clk(clk), .start(sm_go), .seed(mem_seed[issue_at]),
                                                      .busy(sm_busy), .valid(sm_valid), .lane(sm_lane),
                                                      .s0(sm_s0), .s1(sm_s1), .done(sm_done));

    wire         seeding = mode != 2'd0;
    wire         sd_op_done = mode == 2'd1 ? sd_done : mode == 2'd2 && sm_done;
    wire         s_valid = mode == 2'd1 ? sd_valid : mode == 2'd2 && sm_valid;
    wire [143:0] got = mode == 2'd1 ? {{(16 - LW){1'b0}}, sd_lane, sd_s0, sd_s1}
                                    : {{(16 - SW){1'b0}}, sm_lane, sm_s0, sm_s1};
    wire         s_bad = s_valid && got != want;
    wire [31:0]  lanes = mode == 2'd1 ? LANES : SMALL_LANES;
    wire         bad_count = sd_op_done && seen != lanes;
    // per clock, over both kinds: results checked, operations done, mismatches, the first bad one
    wire [DEPTH_LOG2:0] n_done = seeding ? {{DEPTH_LOG2{1'b0}}, sd_op_done} : sc_ndone;
    wire [DEPTH_LOG2:0] n_check = seeding ? {{DEPTH_LOG2{1'b0}}, s_valid} : sc_ndone;
    wire [31:0]  n_bad = seeding ? {31'd0, s_bad} + {31'd0, bad_count} : sc_nbad;
    wire [31:0]  bad_index = !seeding ? sc_bad_index
                           : s_bad ? {{(31 - DEPTH_LOG2){1'b0}}, checked}
                           : {1'b1, {(31 - DEPTH_LOG2){1'b0}}, completed[DEPTH_LOG2-1:0]};
    wire [143:0] bad_got = !seeding ? sc_bad_got : s_bad ? got : {112'd0, seen};
    mismatch_tally #(.W(144), .CW(DEPTH_LOG2 + 1)) u_check (
        .clk(clk), .clear(start), .n_check(running ? n_check : {(DEPTH_LOG2 + 1){1'b0}}),
        .n_bad(running ? n_bad : 32'd0), .bad_index(bad_index),
        .bad_got(bad_got), .checked(checked), .mismatches(mismatches), .first_bad_index(first_bad_index),
        .first_bad_got(first_bad_got));
    wire         lat_go = seeding ? sd_go || sm_go : sc_go[0];
    wire         lat_done = seeding ? sd_op_done : sc_done[0];
    wire [15:0]  lat = cyc - t_go;
    integer i;

    initial begin
        running = 1'b0;
        issued = {(DEPTH_LOG2 + 1){1'b0}};
        completed = {(DEPTH_LOG2 + 1){1'b0}};
        cyc = 16'd0;
        t_go = 16'd0;
        seen = 32'd0;
        done = 1'b0;
        lat_min = 16'hFFFF;
        lat_max = 16'd0;
        fv_min = 16'hFFFF;
        fv_max = 16'd0;
        for (i = 0; i < NSC; i = i + 1) begin
            sc_next[i] = {(DEPTH_LOG2 + 1){1'b0}};
            sc_cur[i] = {(DEPTH_LOG2 + 1){1'b0}};
        end
    end

    always @(posedge clk) begin
        cyc <= cyc + 16'd1;
        if (start) begin
            $readmemh("rngctrl_exp.hex", mem_exp, 0, seeding ? count32 * lanes - 1 : count32 - 1);
            if (seeding) $readmemh("rngctrl_seed.hex", mem_seed, 0, count - 1);
            running <= count != 0;
            done <= count == 0;
            issued <= {(DEPTH_LOG2 + 1){1'b0}};
            completed <= {(DEPTH_LOG2 + 1){1'b0}};
            lat_min <= 16'hFFFF;
            lat_max <= 16'd0;
            fv_min <= 16'hFFFF;
            fv_max <= 16'd0;
            for (i = 0; i < NSC; i = i + 1)
                sc_next[i] <= i[DEPTH_LOG2:0];
        end else if (running) begin
            if (seeding && s_valid && seen == 32'd0) begin
                if (lat < fv_min) fv_min <= lat;
                if (lat > fv_max) fv_max <= lat;
            end
            seen <= sd_op_done ? 32'd0 : seen + {31'd0, s_valid};
            if (lat_done) begin
                if (lat < lat_min) lat_min <= lat;
                if (lat > lat_max) lat_max <= lat;
            end
            if (lat_go) t_go <= cyc + 16'd1;  // cyc after the start edge
            if (sd_go || sm_go) issued <= issued + 1'b1;
            for (i = 0; i < NSC; i = i + 1)
                if (sc_go[i]) begin
                    sc_cur[i] <= sc_next[i];
                    sc_next[i] <= sc_next[i] + NSC32[DEPTH_LOG2:0];
                end
            completed <= completed + n_done;
            if (completed + n_done == count) begin
                running <= 1'b0;
                done <= 1'b1;
            end
        end
    end
endmodule
