`timescale 1ns/1ps
// pe_array_tb: bench wrapper that plays a PE-array program from $readmemh files through
// rtl/pe_array.v (SPARSE = 0) or rtl/sparse_array.v (SPARSE = 1, an N:M pattern) and
// rtl/psum_acc.v, and dumps every PSUM write with its cycle (not synthesizable: it reads and
// writes files). Written and read by accel/tb/verify_pe_array.py and accel/tb/verify_sparse.py.
//
// A program is two cycle-stamped record lists, computed in Python from docs/pe_array.md:
//   pe_stream_ctrl.hex  96-bit: [95:64] cycle, [50] swap, [49] acc, [48] bf16, [47:32] n,
//                       [31:16] k, [15:0] PSUM address; one record per moving vector
//   pe_stream_x.hex     R x 16 bits: the moving vector (lane k = row k); sparse: R/N*M lanes
//                       (lane g*M + i: position i of group g), and [31:16] is the physical rows used
//   pe_weight_ctrl.hex  64-bit: [63:32] cycle, [16] bf16, [15:0] row; one record per row
//   pe_weight_data.hex  C x 16 bits: the weight row (lane n = column n)
//   pe_weight_idx.hex   sparse only, C x 4 bits: the row's indices (low IW bits of each nibble)
// A one-cycle `start` resets the array's control bits and, with `files` high, reads the
// files (a replay of the loaded program leaves `files` low); cycle 0 is the next cycle. A
// record is applied in the cycle its stamp names (stamps must not decrease). When the cycle
// counter reaches last_cycle the wrapper reads the whole PSUM memory and, if the run was
// started with `files` high, writes
//   pe_log_ctrl.hex  64-bit: [63:32] cycle during which the write happened, [15:0] address
//   pe_log_data.hex  C x 32 bits: the PSUM entry as written (untouched lanes included)
//   pe_psum.hex      C x 32 bits x 2**AW: the final PSUM memory
// then raises done, with n_writes the number of PSUM writes logged.
module pe_array_tb #(
    parameter R = 4,
    parameter C = 4,
    parameter AW = 6,   // PSUM entries: 2**AW
    parameter DW = 14,  // stream, weight and log records: 2**DW each
    parameter SPARSE = 0,
    parameter N = 1,
    parameter M = 1,
    parameter IW = 1
) (
    input  wire        clk,
    input  wire        start,
    input  wire        files,
    input  wire [DW:0] n_stream,
    input  wire [DW:0] n_weight,
    input  wire [31:0] last_cycle,
    output reg         done,
    output reg  [DW:0] n_writes
);
    localparam KW = $clog2(R + 1);
    localparam NW = $clog2(C + 1);
    localparam TW = 2 + NW + AW;  // tag: {bf16, acc, n, address}
    localparam XW = SPARSE ? R / N * M * 16 : R * 16;  // moving vector bits

    reg [95:0]     st_ctrl [0:(1 << DW) - 1];
    reg [XW-1:0]   st_x    [0:(1 << DW) - 1];
    reg [C*4-1:0]  wt_idx  [0:(1 << DW) - 1];
    reg [63:0]     wt_ctrl [0:(1 << DW) - 1];
    reg [C*16-1:0] wt_data [0:(1 << DW) - 1];
    reg [63:0]     log_ctrl [0:(1 << DW) - 1];
    reg [C*32-1:0] log_data [0:(1 << DW) - 1];
    reg [C*32-1:0] psum_dump [0:(1 << AW) - 1];

    reg        running, dumping, dump_files;
    reg [31:0] cycle;
    reg [DW:0] sp, wp;
    reg [AW:0] dp;

    wire [95:0] sc = st_ctrl[sp[DW-1:0]];
    wire [63:0] wc = wt_ctrl[wp[DW-1:0]];
    wire        s_hit = running && (sp < n_stream) && (sc[95:64] == cycle);
    wire        w_hit = running && (wp < n_weight) && (wc[63:32] == cycle);

    wire          out_valid;
    wire [TW-1:0] out_tag;
    wire [C*32-1:0] out_psum, wr_data, rd_data;

    wire [C*4-1:0] idx_word = wt_idx[wp[DW-1:0]];
    genvar gc;
    generate
        if (SPARSE) begin : g_sparse
            wire [C*IW-1:0] w_index;
            for (gc = 0; gc < C; gc = gc + 1) begin : g_idx
                assign w_index[IW*gc +: IW] = idx_word[4*gc +: IW];
            end
            sparse_array #(.R(R), .C(C), .N(N), .M(M), .IW(IW), .TW(TW)) u_array (
                .clk(clk), .rst(start),
                .in_valid(s_hit), .in_swap(s_hit && sc[50]), .in_k(sc[16 +: KW]),
                .in_x(st_x[sp[DW-1:0]]), .in_tag({sc[48], sc[49], sc[32 +: NW], sc[0 +: AW]}),
                .w_valid(w_hit), .w_row(wc[0 +: KW]), .w_bf16(wc[16]), .w_data(wt_data[wp[DW-1:0]]),
                .w_index(w_index),
                .out_valid(out_valid), .out_tag(out_tag), .out_psum(out_psum)
            );
        end else begin : g_dense
            pe_array #(.R(R), .C(C), .TW(TW)) u_array (
                .clk(clk), .rst(start),
                .in_valid(s_hit), .in_swap(s_hit && sc[50]), .in_k(sc[16 +: KW]),
                .in_x(st_x[sp[DW-1:0]]), .in_tag({sc[48], sc[49], sc[32 +: NW], sc[0 +: AW]}),
                .w_valid(w_hit), .w_row(wc[0 +: KW]), .w_bf16(wc[16]), .w_data(wt_data[wp[DW-1:0]]),
                .out_valid(out_valid), .out_tag(out_tag), .out_psum(out_psum)
            );
        end
    endgenerate

    psum_acc #(.C(C), .AW(AW)) u_psum (
        .clk(clk), .in_valid(out_valid), .in_acc(out_tag[TW-2]), .in_bf16(out_tag[TW-1]),
        .in_n(out_tag[AW +: NW]), .in_addr(out_tag[AW-1:0]), .in_psum(out_psum),
        .wr_data(wr_data), .rd_addr(dp[AW-1:0]), .rd_data(rd_data)
    );

    /* verilator lint_off UNUSEDSIGNAL */  // record fields the wrapper does not need
    wire unused = ^{sc[63:51], sc[31:16+KW], sc[47:32+NW], sc[15:AW], wc[31:17], wc[15:KW], idx_word};
    /* verilator lint_on UNUSEDSIGNAL */

    initial begin
        done = 1'b0;
        running = 1'b0;
        dumping = 1'b0;
        n_writes = {(DW+1){1'b0}};
    end

    always @(posedge clk) begin
        if (start) begin
            dump_files <= files;
            if (files && n_stream != 0) begin
                $readmemh("pe_stream_ctrl.hex", st_ctrl, 0, n_stream - 1);
                $readmemh("pe_stream_x.hex", st_x, 0, n_stream - 1);
            end
            if (files && n_weight != 0) begin
                $readmemh("pe_weight_ctrl.hex", wt_ctrl, 0, n_weight - 1);
                $readmemh("pe_weight_data.hex", wt_data, 0, n_weight - 1);
                if (SPARSE) $readmemh("pe_weight_idx.hex", wt_idx, 0, n_weight - 1);
            end
            running <= 1'b1;
            dumping <= 1'b0;
            done <= 1'b0;
            cycle <= 32'd0;
            sp <= 0;
            wp <= 0;
            dp <= 0;
            n_writes <= 0;
        end else if (running) begin
            cycle <= cycle + 32'd1;
            if (s_hit) sp <= sp + 1'b1;
            if (w_hit) wp <= wp + 1'b1;
            if (out_valid) begin
                log_ctrl[n_writes[DW-1:0]] <= {cycle, {(32-AW){1'b0}}, out_tag[AW-1:0]};
                log_data[n_writes[DW-1:0]] <= wr_data;
                n_writes <= n_writes + 1'b1;
            end
            if (cycle == last_cycle) begin
                running <= 1'b0;
                dumping <= 1'b1;
            end
        end else if (dumping) begin
            if (dp[AW]) begin
                dumping <= 1'b0;
                done <= 1'b1;
                if (dump_files && n_writes != 0) begin
                    $writememh("pe_log_ctrl.hex", log_ctrl, 0, n_writes - 1);
                    $writememh("pe_log_data.hex", log_data, 0, n_writes - 1);
                end
                if (dump_files) $writememh("pe_psum.hex", psum_dump);
            end else begin
                psum_dump[dp[AW-1:0]] <= rd_data;
                dp <= dp + 1'b1;
            end
        end
    end
endmodule
