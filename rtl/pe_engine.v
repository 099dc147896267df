`timescale 1ns/1ps
// pe_engine: the PE engine of the core (rtl/core.v): the R x C array (rtl/pe_array.v; with SM > 1
// rtl/sparse_array.v, N = 1, M = SM, for the sparse forms too) behind the PE queue, with the access-pattern
// walkers that read its operands from SBUF and the PSUM write/accumulate stage.
// It starts pe.load_weights and pe.matmul by the rules of docs/pe_array.md ("Cycles"), which
// accel.timing.schedule applies: one PE instruction per cycle, in order;
//   a load of K x N weights may start at L >= the load bus's free cycle and >= the most recent swap's
//     S + N; it writes weight row k (SBUF partition pstart + k, its N pattern elements) at cycle L + k
//     and ends at L + K;
//   a matmul of M vectors may start at S >= the stream port's free cycle and, when it swaps in newly
//     loaded weights, >= that load's end; vector m (element m of the moving pattern in partitions
//     pstart .. pstart + K - 1) enters the array at S + m and is written to PSUM (partitions
//     dst pstart + n, n < N, element m of the destination pattern) at the end of cycle S + m + R + C - 2;
//     the matmul ends at S + M + R + C - 2.
// Sparse forms (SM > 1; docs/core.md): pe.load_sparse loads as pe.load_weights with K = G*N rows and writes
// each weight's b-bit index (b = ceil(log2 M), bits c*b.. of the row's index bytes) beside it; pe.matmul_sparse
// streams M' vectors (dst's elements), row r's lane i carrying X row q = (r div N) * M + i, which is SBUF
// partition pstart + q mod P, element (q div P) * M' + t of the moving pattern at vector t. Dense weights
// get index 0 and their moving value in lane 0.
// `ready` says the head (`word`) may start this cycle by those rules; the core adds the PSUM bank rule
// and raises `issue`. `hold_end` is the cycle a matmul started now would end (its PSUM banks are held
// until then). The SBUF and PSUM ports are combinational reads (address and data in one cycle, as the
// cycle rules have no read latency) and a PSUM write at the clock edge ending the cycle: acc = 0 writes
// the array's result, acc = 1 old + result (a wrapping int32 add, or fp32_add for an fp32 destination).
// `idle` is high when no load or matmul is in flight (a sem.signal on PE waits for it). ld_end / mm_end
// pulse in the last cycle a load / a matmul occupies, with its instruction index.
//
// FAULT (planted faults for the mutation tests; 0 in a real core): 3 writes PSUM one cycle after the
// array's output (the old value still read in the output cycle), so an accumulation into a word written
// the cycle before reads a stale value.
module pe_engine #(
    parameter R = 4,
    parameter C = 4,
    parameter PCW = 10,
    parameter SM = 0,   // sparse forms: 0 none (rtl/pe_array.v); else the largest M of N:M (rtl/sparse_array.v)
    parameter FAULT = 0
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire [31:0]             cycle,
    // the PE queue's head (a pe.load_weights or pe.matmul when `issue` is high)
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [511:0]            word,   // the fields of ap0, ap1 and the flag
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [PCW-1:0]          pc,
    output wire                    ready,
    output wire [31:0]             hold_end,
    input  wire                    issue,
    output wire                    idle,
    // SBUF: a weight row (C elements of one partition) and a moving vector (one element of R partitions)
    output wire [7:0]              w_part,
    output wire [C*20-1:0]         w_addr,   // byte address of element n in lane n
    input  wire [C*16-1:0]         w_rdata,  // lane n: bytes w_addr[n] + 1, w_addr[n]
    output wire [(SM > 1 ? R * SM : R)*8-1:0]  x_part,   // lane l's partition (dense: lane k of row k; sparse: SM per row)
    output wire [(SM > 1 ? R * SM : R)*20-1:0] x_addr,   // lane l's byte address
    input  wire [(SM > 1 ? R * SM : R)*16-1:0] x_rdata,  // lane l: bytes x_addr[l] + 1, x_addr[l] of partition x_part[l]
    // SBUF: a sparse load's index bytes (two per column, of one partition)
    output wire [7:0]              i_part,
    output wire [C*40-1:0]         i_addr,
    input  wire [C*16-1:0]         i_rdata,
    // PSUM: reads the word at ps_raddr of partitions ps_rpart + n, writes lanes n < ps_n at ps_waddr of
    // partitions ps_wpart + n
    output wire [7:0]              ps_rpart,
    output wire [19:0]             ps_raddr,
    input  wire [C*32-1:0]         ps_old,   // lane n: the 4 bytes at ps_raddr of partition ps_rpart + n
    output wire                    ps_we,
    output wire [7:0]              ps_wpart,
    output wire [19:0]             ps_waddr,
    output wire [$clog2(C+1)-1:0]  ps_n,
    output wire [C*32-1:0]         ps_wdata,
    // trace
    output wire                    ld_end,
    output wire [PCW-1:0]          ld_end_pc,
    output wire                    mm_end,
    output wire [PCW-1:0]          mm_end_pc
);
`include "accel_isa.vh"
    localparam SPARSE = SM > 1;
    localparam IW = SPARSE ? $clog2(SM) : 1;   // index bits per weight
    localparam KW = $clog2(R + 1);
    localparam NW = $clog2(C + 1);
    localparam LAT = R + C - 2;
    localparam TW = 1 + PCW + 20 + 8 + NW + 2;  // last, index, PSUM address, first partition, N, acc, fp32
    localparam [KW-1:0] ONE_K = 1;

    // ------------------------------------------------------------------ access-pattern walking
    // A pattern's dims normalized to three, outermost first (a missing dim is (1, 0)), element strides
    // sign-extended to 20 bits; the walk state is the three indices and running offsets, stepped in the
    // model's row-major order (accel.isa.operands.AP.element_offsets) by rtl/ap_step.v, as rtl/vec_ap_walk.v does.
    function [107:0] ap_dims;  // {na, sa, nb, sb, nc, sc}
        input [15:0] n0, s0, n1, s1, n2, s2;
        begin
            if (n1 == 16'd0) ap_dims = {16'd1, 20'd0, 16'd1, 20'd0, n0, {{4{s0[15]}}, s0}};
            else if (n2 == 16'd0) ap_dims = {16'd1, 20'd0, n0, {{4{s0[15]}}, s0}, n1, {{4{s1[15]}}, s1}};
            else ap_dims = {n0, {{4{s0[15]}}, s0}, n1, {{4{s1[15]}}, s1}, n2, {{4{s2[15]}}, s2}};
        end
    endfunction
    function [1:0] size_shift;  // log2 of the element size: bf16 2, int8 1, fp32 / int32 4 bytes
        input [2:0] dtype;
        begin
            size_shift = (dtype == `ACCEL_DTYPE_BF16) ? 2'd1 : (dtype == `ACCEL_DTYPE_INT8) ? 2'd0 : 2'd2;
        end
    endfunction
    function [2:0] idx_bits;  // bits of a sparse position index: ceil(log2 M), 1 for M = 2
        input [4:0] m;
        begin
            idx_bits = (m <= 5'd2) ? 3'd1 : (m <= 5'd4) ? 3'd2 : (m <= 5'd8) ? 3'd3 : 3'd4;
        end
    endfunction
    /* verilator lint_off UNUSEDSIGNAL */  // the outermost count; index bits beyond a 20-bit offset
    function [19:0] elem_addr;  // byte address of element e of a pattern (dims as ap_dims), by division
        input [19:0]  base;
        input [1:0]   shift;
        input [107:0] d;
        input [31:0]  e;
        reg [15:0] na, nb, nc;
        reg [19:0] sa, sb, sc;
        reg [31:0] b, c, ka, kb, kc;
        begin
            {na, sa, nb, sb, nc, sc} = d;
            c = (nc == 16'd0) ? 32'd1 : {16'd0, nc};
            b = (nb == 16'd0) ? 32'd1 : {16'd0, nb};
            kc = e % c;
            kb = (e / c) % b;
            ka = e / (c * b);
            elem_addr = base + ((ka[19:0] * sa + kb[19:0] * sb + kc[19:0] * sc) << shift);
        end
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */
    function [31:0] free_size;
        input [15:0] n0, n1, n2;
        begin
            free_size = {16'd0, n0} * (n1 == 16'd0 ? 32'd1 : {16'd0, n1}) * (n2 == 16'd0 ? 32'd1 : {16'd0, n2});
        end
    endfunction

    /* verilator lint_off UNUSEDSIGNAL */  // counts wider than the array's K and N
    // the head's fields: ap0 (a load's source, a matmul's destination), ap1 (a matmul's source), the flag
    wire [7:0]   a0_pstart = word[`ACCEL_F_AP0_PSTART_LSB +: 8];
    wire [8:0]   a0_pcount = word[`ACCEL_F_AP0_PCOUNT_LSB +: 9];
    wire [19:0]  a0_offset = word[`ACCEL_F_AP0_OFFSET_LSB +: 20];
    wire [2:0]   a0_dtype = word[`ACCEL_F_AP0_DTYPE_LSB +: 3];
    wire [15:0]  a0_n0 = word[`ACCEL_F_AP0_N0_LSB +: 16];
    wire [15:0]  a0_s0 = word[`ACCEL_F_AP0_S0_LSB +: 16];
    wire [15:0]  a0_n1 = word[`ACCEL_F_AP0_N1_LSB +: 16];
    wire [15:0]  a0_s1 = word[`ACCEL_F_AP0_S1_LSB +: 16];
    wire [15:0]  a0_n2 = word[`ACCEL_F_AP0_N2_LSB +: 16];
    wire [15:0]  a0_s2 = word[`ACCEL_F_AP0_S2_LSB +: 16];
    wire [7:0]   a1_pstart = word[`ACCEL_F_AP1_PSTART_LSB +: 8];
    wire [8:0]   a1_pcount = word[`ACCEL_F_AP1_PCOUNT_LSB +: 9];
    wire [19:0]  a1_offset = word[`ACCEL_F_AP1_OFFSET_LSB +: 20];
    wire [2:0]   a1_dtype = word[`ACCEL_F_AP1_DTYPE_LSB +: 3];
    wire [15:0]  a1_n0 = word[`ACCEL_F_AP1_N0_LSB +: 16];
    wire [15:0]  a1_s0 = word[`ACCEL_F_AP1_S0_LSB +: 16];
    wire [15:0]  a1_n1 = word[`ACCEL_F_AP1_N1_LSB +: 16];
    wire [15:0]  a1_s1 = word[`ACCEL_F_AP1_S1_LSB +: 16];
    wire [15:0]  a1_n2 = word[`ACCEL_F_AP1_N2_LSB +: 16];
    wire [15:0]  a1_s2 = word[`ACCEL_F_AP1_S2_LSB +: 16];
    wire [7:0]   h_op = word[`ACCEL_OPCODE_LSB +: `ACCEL_OPCODE_W];
    wire         is_lsp = SPARSE && h_op == `ACCEL_OP_PE_LOAD_SPARSE;
    wire         is_msp = SPARSE && h_op == `ACCEL_OP_PE_MATMUL_SPARSE;
    wire         is_load = h_op == `ACCEL_OP_PE_LOAD_WEIGHTS || is_lsp;
    wire         is_mm = h_op == `ACCEL_OP_PE_MATMUL || is_msp;
    wire [4:0]   h_n = word[`ACCEL_F_IMM0_LSB +: 5];  // a sparse load's N:M
    wire [4:0]   h_m = word[`ACCEL_F_IMM1_LSB +: 5];
    wire [31:0]  a0_free = free_size(a0_n0, a0_n1, a0_n2);
    wire [31:0]  a1_free = free_size(a1_n0, a1_n1, a1_n2);
    wire [107:0] a0_dims = ap_dims(a0_n0, a0_s0, a0_n1, a0_s1, a0_n2, a0_s2);
    wire [107:0] a1_dims = ap_dims(a1_n0, a1_s0, a1_n1, a1_s1, a1_n2, a1_s2);
    wire [31:0]  mv_free = is_msp ? a0_free : a1_free;  // a matmul's moving vectors: dst's elements if sparse
    /* verilator lint_on UNUSEDSIGNAL */
    wire         issue_ld = issue && is_load;
    wire         issue_mm = issue && is_mm;

    // ------------------------------------------------------------------ the cycle rules
    reg [31:0] load_free, swap_done, stream_free, pending_end;
    reg        pending;      // weights loaded and not yet swapped in
    reg [NW-1:0] pending_n;  // their N
    assign ready = (is_load && cycle >= load_free && cycle >= swap_done) ||
                   (is_mm && cycle >= stream_free && (!pending || cycle >= pending_end));
    assign hold_end = cycle + mv_free + LAT;
    always @(posedge clk) begin
        if (rst) begin
            load_free <= 32'd0;
            swap_done <= 32'd0;
            stream_free <= 32'd0;
            pending_end <= 32'd0;
            pending <= 1'b0;
        end else if (issue_ld) begin
            load_free <= cycle + {23'd0, a0_pcount};
            pending_end <= cycle + {23'd0, a0_pcount};
            pending <= 1'b1;
            pending_n <= a0_free[NW-1:0];
        end else if (issue_mm) begin
            stream_free <= cycle + mv_free;
            if (pending) begin
                pending <= 1'b0;
                swap_done <= cycle + {{(32 - NW){1'b0}}, pending_n};
            end
        end
    end

    // ------------------------------------------------------------------ weight loads: one row a cycle
    // element n's byte address within the partition, for every n (the same in every row)
    wire [C*20-1:0] l_addr_now;
    genvar n;
    generate
        for (n = 0; n < C; n = n + 1) begin : g_lelem
            wire [107:0] st;  // the walk state of element n
            /* verilator lint_off UNUSEDSIGNAL */  // the last element's
            wire [107:0] nx;
            /* verilator lint_on UNUSEDSIGNAL */
            if (n == 0) begin : g_first
                assign st = 108'd0;
            end else begin : g_next
                assign st = g_lelem[n - 1].nx;
            end
            ap_step u_step (.dims(a0_dims), .state(st), .base(a0_offset), .shift(size_shift(a0_dtype)),
                .addr(l_addr_now[n*20 +: 20]), .next(nx));
        end
    endgenerate
    reg           ld_busy;  // rows 1.. of a load still to write
    reg [KW-1:0]  w_k;      // rows of the most recent load: the rows the next matmuls use
    reg           ld_sp;    // the load is sparse
    reg [4:0]     sp_n, sp_m;
    reg [2:0]     sp_b;     // index bits: ceil(log2 M)
    reg [19:0]    ld_i_base;
    reg [107:0]   ld_i_dims;
    reg [7:0]     ld_i_part;
    reg [KW-1:0]  ld_row, ld_k;
    reg [NW-1:0]  ld_n;
    reg [7:0]     ld_part0;
    reg           ld_bf16;
    reg [PCW-1:0] ld_pc;
    reg [C*20-1:0] ld_addr;
    wire          w_valid = issue_ld || ld_busy;
    wire [KW-1:0] row = issue_ld ? {KW{1'b0}} : ld_row;
    wire [KW-1:0] rows = issue_ld ? a0_pcount[KW-1:0] : ld_k;
    wire [NW-1:0] cols = issue_ld ? a0_free[NW-1:0] : ld_n;
    wire          wbf16 = issue_ld ? a0_dtype == `ACCEL_DTYPE_BF16 : ld_bf16;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [15:0]   w_part16 = {8'd0, issue_ld ? a0_pstart : ld_part0} + {{(16 - KW){1'b0}}, row};
    /* verilator lint_on UNUSEDSIGNAL */
    assign w_part = w_part16[7:0];
    assign w_addr = issue_ld ? l_addr_now : ld_addr;
    wire [C*16-1:0] w_data;
    generate
        for (n = 0; n < C; n = n + 1) begin : g_wdata  // columns >= N get 0; int8 in the low byte
            assign w_data[n*16 +: 16] = n < cols ? {wbf16 ? w_rdata[n*16 + 8 +: 8] : 8'd0, w_rdata[n*16 +: 8]} : 16'd0;
        end
    endgenerate
    // a sparse load's indices: column c's b bits start at bit c*b of the row's index bytes (little-endian
    // bit string); its two bytes e0 = c*b/8 and e0 + 1 are read through the index pattern
    wire          sp_now = issue_ld ? is_lsp : ld_sp;
    wire [2:0]    b_now = issue_ld ? idx_bits(h_m) : sp_b;
    /* verilator lint_off UNUSEDSIGNAL */  // high bits; the indices in a dense-only engine
    wire [15:0]   i_part16 = {8'd0, issue_ld ? a1_pstart : ld_i_part} + {{(16 - KW){1'b0}}, row};
    assign i_part = i_part16[7:0];
    wire [C*IW-1:0] w_index;
    generate
        for (n = 0; n < C; n = n + 1) begin : g_index
            wire [31:0] bit0 = n * {29'd0, b_now};
            wire [19:0] base = issue_ld ? a1_offset : ld_i_base;
            wire [107:0] dims = issue_ld ? a1_dims : ld_i_dims;
            assign i_addr[n*40 +: 20] = elem_addr(base, 2'd0, dims, bit0 >> 3);
            assign i_addr[n*40 + 20 +: 20] = elem_addr(base, 2'd0, dims, (bit0 >> 3) + 32'd1);
            wire [15:0] two = i_rdata[n*16 +: 16] >> bit0[2:0];
            wire [3:0]  mask = (4'd1 << b_now) - 4'd1;
            wire [3:0]  idx = two[3:0] & mask;
            assign w_index[n*IW +: IW] = sp_now ? idx[IW-1:0] : {IW{1'b0}};
        end
    endgenerate
    /* verilator lint_on UNUSEDSIGNAL */
    wire last_row = row == rows - ONE_K;
    assign ld_end = w_valid && last_row;
    assign ld_end_pc = issue_ld ? pc : ld_pc;
    always @(posedge clk) begin
        if (rst) begin
            ld_busy <= 1'b0;
        end else begin
            if (issue_ld) begin
                w_k <= a0_pcount[KW-1:0];
                ld_sp <= is_lsp;
                if (is_lsp) begin
                    sp_n <= h_n;
                    sp_m <= h_m;
                    sp_b <= idx_bits(h_m);
                end
                ld_i_base <= a1_offset;
                ld_i_dims <= a1_dims;
                ld_i_part <= a1_pstart;
                ld_k <= a0_pcount[KW-1:0];
                ld_n <= a0_free[NW-1:0];
                ld_part0 <= a0_pstart;
                ld_bf16 <= a0_dtype == `ACCEL_DTYPE_BF16;
                ld_pc <= pc;
                ld_addr <= l_addr_now;
            end
            if (w_valid) begin
                ld_busy <= !last_row;
                ld_row <= row + ONE_K;
            end
        end
    end

    // ------------------------------------------------------------------ matmul streams: one vector a cycle
    reg           st_busy;  // vectors 1.. of a matmul still to stream
    reg [31:0]    st_rem;   // vectors left, the current one included
    reg [107:0]   st_src, st_dst, st_src_dims, st_dst_dims;
    reg [19:0]    st_src_base, st_dst_base;
    reg [1:0]     st_src_shift;
    reg [7:0]     st_src_part, st_dst_part;
    reg [KW-1:0]  st_k;
    reg [NW-1:0]  st_n;
    reg           st_acc, st_fp;
    reg [PCW-1:0] st_pc;
    /* verilator lint_off UNUSEDSIGNAL */  // used by the sparse lanes only
    reg           st_sp;    // sparse: the lanes' rows by N:M groups and J blocks
    reg [4:0]     st_sn, st_sm;
    reg [8:0]     st_p;     // the moving pattern's partitions P
    reg [31:0]    st_mv, st_t;  // moving vectors M', and the current one's index
    /* verilator lint_on UNUSEDSIGNAL */
    wire          x_valid = issue_mm || st_busy;
    wire [107:0]  src_now = issue_mm ? 108'd0 : st_src;
    wire [107:0]  dst_now = issue_mm ? 108'd0 : st_dst;
    wire [107:0]  src_dims = issue_mm ? a1_dims : st_src_dims;
    wire [107:0]  dst_dims = issue_mm ? a0_dims : st_dst_dims;
    wire [31:0]   rem = issue_mm ? mv_free : st_rem;
    wire          last_vec = rem == 32'd1;
    wire [7:0]    src_part = issue_mm ? a1_pstart : st_src_part;
    wire [19:0]   walk_addr, dst_addr;
    wire [107:0]  src_next, dst_next;
    ap_step u_src (.dims(src_dims), .state(src_now), .base(issue_mm ? a1_offset : st_src_base),
        .shift(issue_mm ? size_shift(a1_dtype) : st_src_shift), .addr(walk_addr), .next(src_next));
    ap_step u_dst (.dims(dst_dims), .state(dst_now), .base(issue_mm ? a0_offset : st_dst_base), .shift(2'd2),
        .addr(dst_addr), .next(dst_next));
    genvar r, i;
    generate
        if (SPARSE) begin : g_sparse_lanes
            // row r's lane i is X row q = (r div N) * M + i: src partition q mod P, element (q div P) * M' + t
            wire        sp_mm = issue_mm ? is_msp : st_sp;
            wire [31:0] mm_n = {27'd0, issue_mm ? sp_n : st_sn};
            wire [31:0] mm_m = {27'd0, issue_mm ? sp_m : st_sm};
            wire [31:0] mm_p = {23'd0, issue_mm ? a1_pcount : st_p};
            wire [31:0] mm_mv = issue_mm ? a0_free : st_mv;
            wire [31:0] t_now = issue_mm ? 32'd0 : st_t;
            wire [19:0] sbase = issue_mm ? a1_offset : st_src_base;
            wire [1:0]  sshift = issue_mm ? size_shift(a1_dtype) : st_src_shift;
            wire [31:0] nn = (mm_n == 32'd0) ? 32'd1 : mm_n;
            wire [31:0] pp = (mm_p == 32'd0) ? 32'd1 : mm_p;
            for (r = 0; r < R; r = r + 1) begin : g_row
                for (i = 0; i < SM; i = i + 1) begin : g_lane
                    wire [31:0] q = (r / nn) * mm_m + i;
                    /* verilator lint_off UNUSEDSIGNAL */
                    wire [31:0] part = {24'd0, src_part} + (sp_mm ? q % pp : r);
                    /* verilator lint_on UNUSEDSIGNAL */
                    assign x_part[(r*SM + i)*8 +: 8] = part[7:0];
                    assign x_addr[(r*SM + i)*20 +: 20] = sp_mm ? elem_addr(sbase, sshift, src_dims, (q / pp) * mm_mv + t_now)
                                                               : walk_addr;
                end
            end
        end else begin : g_dense_lanes
            for (r = 0; r < R; r = r + 1) begin : g_row
                /* verilator lint_off UNUSEDSIGNAL */
                wire [15:0] part = {8'd0, src_part} + r;
                /* verilator lint_on UNUSEDSIGNAL */
                assign x_part[r*8 +: 8] = part[7:0];
                assign x_addr[r*20 +: 20] = walk_addr;
            end
        end
    endgenerate
    wire [TW-1:0] tag = issue_mm ? {last_vec, pc, dst_addr, a0_pstart, a0_pcount[NW-1:0],
                                    word[`ACCEL_F_FLAG_LSB], a0_dtype == `ACCEL_DTYPE_FP32}
                                 : {last_vec, st_pc, dst_addr, st_dst_part, st_n, st_acc, st_fp};
    always @(posedge clk) begin
        if (rst) begin
            st_busy <= 1'b0;
        end else begin
            if (issue_mm) begin
                st_src_dims <= a1_dims;
                st_dst_dims <= a0_dims;
                st_src_base <= a1_offset;
                st_dst_base <= a0_offset;
                st_src_shift <= size_shift(a1_dtype);
                st_src_part <= a1_pstart;
                st_dst_part <= a0_pstart;
                st_k <= w_k;
                st_n <= a0_pcount[NW-1:0];
                st_acc <= word[`ACCEL_F_FLAG_LSB];
                st_fp <= a0_dtype == `ACCEL_DTYPE_FP32;
                st_pc <= pc;
                st_sp <= is_msp;
                st_sn <= sp_n;
                st_sm <= sp_m;
                st_p <= a1_pcount;
                st_mv <= a0_free;
            end
            if (x_valid) begin
                st_t <= (issue_mm ? 32'd0 : st_t) + 32'd1;
                st_busy <= !last_vec;
                st_rem <= rem - 32'd1;
                st_src <= src_next;
                st_dst <= dst_next;
            end
        end
    end

    // ------------------------------------------------------------------ the array
    wire          out_valid;
    wire [TW-1:0] out_tag;
    wire [C*32-1:0] out_psum;
    generate
        if (SPARSE) begin : g_sparse_array  // every row its own group of SM lanes; dense: lane 0, index 0
            sparse_array #(.R(R), .C(C), .N(1), .M(SM), .IW(IW), .TW(TW)) u_array (.clk(clk), .rst(rst),
                .in_valid(x_valid), .in_swap(issue_mm && pending), .in_k(issue_mm ? w_k : st_k), .in_x(x_rdata),
                .in_tag(tag), .w_valid(w_valid), .w_row(row), .w_bf16(wbf16), .w_data(w_data), .w_index(w_index),
                .out_valid(out_valid), .out_tag(out_tag), .out_psum(out_psum));
        end else begin : g_dense_array
            pe_array #(.R(R), .C(C), .TW(TW)) u_array (.clk(clk), .rst(rst), .in_valid(x_valid),
                .in_swap(issue_mm && pending), .in_k(issue_mm ? w_k : st_k), .in_x(x_rdata), .in_tag(tag),
                .w_valid(w_valid), .w_row(row), .w_bf16(wbf16), .w_data(w_data),
                .out_valid(out_valid), .out_tag(out_tag), .out_psum(out_psum));
        end
    endgenerate

    // ------------------------------------------------------------------ PSUM write / accumulate
    wire          o_last = out_tag[TW-1];
    wire [19:0]   o_addr = out_tag[NW + 10 +: 20];
    wire [7:0]    o_part = out_tag[NW + 2 +: 8];
    wire [NW-1:0] o_n = out_tag[2 +: NW];
    wire          o_acc = out_tag[1];
    wire          o_fp = out_tag[0];
    wire [C*32-1:0] o_data;
    generate
        for (n = 0; n < C; n = n + 1) begin : g_acc
            wire [31:0] a = ps_old[n*32 +: 32];
            wire [31:0] b = out_psum[n*32 +: 32];
            wire        fadd = out_valid && o_acc && o_fp;  // operand isolation of the adder
            wire [31:0] sum_f;
            fp32_add u_add (.a(fadd ? a : 32'd0), .b(fadd ? b : 32'd0), .sub(1'b0), .y(sum_f));
            assign o_data[n*32 +: 32] = !o_acc ? b : o_fp ? sum_f : a + b;
        end
    endgenerate
    assign ps_rpart = o_part;
    assign ps_raddr = o_addr;
    assign mm_end = out_valid && o_last;
    assign mm_end_pc = out_tag[NW + 30 +: PCW];
    reg [15:0] mm_inflight;
    always @(posedge clk) begin
        if (rst) mm_inflight <= 16'd0;
        else mm_inflight <= mm_inflight + {15'd0, issue_mm} - {15'd0, mm_end};
    end
    generate
        if (FAULT == 3) begin : g_late  // planted fault: the write lands a cycle late
            reg           we_q;
            reg [7:0]     part_q;
            reg [19:0]    addr_q;
            reg [NW-1:0]  n_q;
            reg [C*32-1:0] data_q;
            always @(posedge clk) begin
                we_q <= !rst && out_valid;
                part_q <= o_part;
                addr_q <= o_addr;
                n_q <= o_n;
                data_q <= o_data;
            end
            assign ps_we = we_q;
            assign ps_wpart = part_q;
            assign ps_waddr = addr_q;
            assign ps_n = n_q;
            assign ps_wdata = data_q;
            assign idle = !ld_busy && mm_inflight == 16'd0 && !we_q;
        end else begin : g_write
            assign ps_we = out_valid;
            assign ps_wpart = o_part;
            assign ps_waddr = o_addr;
            assign ps_n = o_n;
            assign ps_wdata = o_data;
            assign idle = !ld_busy && mm_inflight == 16'd0;
        end
    endgenerate
endmodule
