// hwgen Icarus bench: streams beats from a hex file into an AXI-Stream design and checks every
// output beat against a second hex file, with pseudo-random tvalid/tready (a second simulator
// next to Verilator), and checks that the design is four-state clean (FORMAT.md section 8).
// Compile with:
//   iverilog -g2005 -DDUT=<module> -DIN_WIDTH=<bits> -DOUT_WIDTH=<bits> [-DHAS_S_LAST] [-DHAS_M_LAST]
//            [-DHAS_ERROR] [-DS_KEEP_PORT -DS_KEEP=<bits>] [-DM_KEEP_PORT -DM_KEEP=<bits> -DM_PART=<bits>]
//            -o bench testbench/axis_file_bench.v <design files>
// Run: vvp bench +input=in.hex +expected=out.hex +inputs=N +outputs=M
//                [+stimulus=stim.hex +cycles=C] [+log=beats.log]
// Each hex line is one beat: {tkeep, tlast, tdata} (tlast in the bit above tdata, tkeep above
// it when the side has one: S_KEEP / M_KEEP bits). With M_KEEP, tdata is M_KEEP parts of M_PART
// bits and only the kept parts are compared (FORMAT.md section 10). With -DM_STREAM, the expected file holds one part per line, {tlast, part}, whatever the beats: for
// cores whose output beats depend on timing (an encoder's words per beat).
//
// Handshakes: without +stimulus, a 32-bit LFSR raises tvalid (when a beat waits) and tready in
// 7 of 8 cycles. With +stimulus, line c of the file (one hex digit: bit 0 offer, bit 1 take)
// drives cycle c after reset: a beat is offered in a cycle whose offer bit is 1 if none is
// offered yet (and then held until taken), and tready is the take bit; past line C both are 1.
// The Verilator bench of the tests (TestSupport's FourStateBench) follows the same file, so the
// two simulators' logs can be compared beat by beat.
//
// Four-state checks (every cycle after reset, sampled at the falling edge): tvalid, tready and
// error are never X or Z; while m_axis_tvalid is 1, tlast, tkeep and every kept part of tdata
// are never X or Z. Input tdata, tkeep and tlast are X whenever s_axis_tvalid is 0, so a
// design that lets an input it must ignore reach an output fails here; so are the elements of
// an offered beat that its tkeep leaves out (AXI-Stream null elements). A failed check prints
// "X on ..." and the run ends FAIL.
//
// +log: one line per handshake, "<cycle> i" for an input beat taken and
// "<cycle> o <tkeep> <tlast> <tdata with unkept parts zero>" for an output beat, and
// "<cycle> e" where error is first seen high.
`timescale 1ns / 1ps
`default_nettype none

module axis_file_bench;

localparam MAX_BEATS = 1 << 20;
localparam MAX_CYCLES = 1 << 22;

reg clk = 1'b0;
reg rst = 1'b1;
`ifndef S_KEEP
`define S_KEEP 0
`endif
`ifndef M_KEEP
`define M_KEEP 0
`endif
`ifndef M_PART
`define M_PART `OUT_WIDTH
`endif
`ifdef M_KEEP_PORT
`define M_PARTS `M_KEEP
`else
`define M_PARTS 1
`endif
reg [`IN_WIDTH+`S_KEEP:0] in_mem [0:MAX_BEATS-1];
reg [`OUT_WIDTH+`M_KEEP:0] out_mem [0:MAX_BEATS-1];
reg [1:0] stim_mem [0:MAX_CYCLES-1];
integer part, kept;
reg differs;
wire [`OUT_WIDTH-1:0] part_mask = {`M_PART{1'b1}};
reg [1023:0] input_path;
reg [1023:0] expected_path;
reg [1023:0] stimulus_path;
reg [1023:0] log_path;
integer inputs, outputs, in_pos, out_pos, cycles, errors, x_errors, stim_cycles, log_fd;
reg [31:0] lfsr;
reg s_fire, m_fire, error_seen;
reg offer_bit, take_bit;
reg [`OUT_WIDTH-1:0] kept_data;

reg s_valid;
wire s_ready;
wire [`OUT_WIDTH-1:0] m_data;
wire m_valid;
reg m_ready;
wire m_last;
`ifdef M_KEEP_PORT
wire [`M_KEEP-1:0] m_keep;
`else
wire [0:0] m_keep = 1'b1;
`endif
`ifdef HAS_ERROR
wire error;
`else
wire error = 1'b0;
`endif

// The input beat under offer; unknown while none is offered, and so are its elements that
// tkeep leaves out (S_PART bits each).
wire [`IN_WIDTH+`S_KEEP:0] in_beat = s_valid ? in_mem[in_pos] : {(`IN_WIDTH+`S_KEEP+1){1'bx}};
`ifdef S_KEEP_PORT
`ifndef S_PART
`define S_PART (`IN_WIDTH / `S_KEEP)
`endif
wire [`IN_WIDTH-1:0] in_data;
genvar element;
generate
    for (element = 0; element < `S_KEEP; element = element + 1) begin : unkept_is_x
        assign in_data[element * `S_PART +: `S_PART] =
            in_beat[`IN_WIDTH + 1 + element] === 1'b1 ? in_beat[element * `S_PART +: `S_PART] : {`S_PART{1'bx}};
    end
endgenerate
`else
wire [`IN_WIDTH-1:0] in_data = in_beat[`IN_WIDTH-1:0];
`endif

`DUT dut (
    .clk(clk),
    .rst(rst),
    .s_axis_tdata(in_data),
    .s_axis_tvalid(s_valid),
    .s_axis_tready(s_ready),
`ifdef HAS_S_LAST
    .s_axis_tlast(in_beat[`IN_WIDTH]),
`endif
`ifdef S_KEEP_PORT
    .s_axis_tkeep(in_beat[`IN_WIDTH+`S_KEEP:`IN_WIDTH+1]),
`endif
`ifdef M_KEEP_PORT
    .m_axis_tkeep(m_keep),
`endif
`ifdef HAS_ERROR
    .error(error),
`endif
    .m_axis_tdata(m_data),
    .m_axis_tvalid(m_valid),
    .m_axis_tready(m_ready),
    .m_axis_tlast(m_last)
);

always #5 clk = ~clk;

// Reports an X or Z on a signal the bench sees (one line each, the first 5).
task x_found;
    input [8*24-1:0] what;
    begin
        if (x_errors < 5) $display("X on %0s at cycle %0d (output beat %0d)", what, cycles, out_pos);
        x_errors = x_errors + 1;
    end
endtask

initial begin
    if (!$value$plusargs("input=%s", input_path) || !$value$plusargs("expected=%s", expected_path)
        || !$value$plusargs("inputs=%d", inputs) || !$value$plusargs("outputs=%d", outputs)) begin
        $display("usage: vvp bench +input=FILE +expected=FILE +inputs=N +outputs=M [+stimulus=FILE +cycles=C] [+log=FILE]");
        $finish;
    end
    $readmemh(input_path, in_mem, 0, inputs - 1);
    $readmemh(expected_path, out_mem, 0, outputs - 1);
    stim_cycles = 0;
    if ($value$plusargs("stimulus=%s", stimulus_path)) begin
        if (!$value$plusargs("cycles=%d", stim_cycles)) begin
            $display("+stimulus needs +cycles=C (its line count)");
            $finish;
        end
        if (stim_cycles > 0) $readmemh(stimulus_path, stim_mem, 0, stim_cycles - 1);
    end
    log_fd = 0;
    if ($value$plusargs("log=%s", log_path)) log_fd = $fopen(log_path, "w");
    in_pos = 0; out_pos = 0; cycles = 0; errors = 0; x_errors = 0; lfsr = 32'h1;
    s_valid = 1'b0; m_ready = 1'b0; error_seen = 1'b0;
    repeat (3) @(posedge clk);
    #1 rst = 1'b0;
    while (out_pos < outputs && cycles < 100 * (inputs + outputs) + 1000 + stim_cycles) begin
        // Drive this cycle's handshakes just after the previous rising edge.
        lfsr = {lfsr[30:0], lfsr[31] ^ lfsr[21] ^ lfsr[1] ^ lfsr[0]};
        if ($test$plusargs("stimulus")) begin
            offer_bit = cycles >= stim_cycles || stim_mem[cycles][0];
            take_bit = cycles >= stim_cycles || stim_mem[cycles][1];
        end else begin
            offer_bit = lfsr[2:0] != 3'd0;
            take_bit = lfsr[6:4] != 3'd0;
        end
        if (!s_valid) s_valid = (in_pos < inputs) && offer_bit;
        m_ready = take_bit;
        // Sample the handshakes at the falling edge, when everything has settled.
        @(negedge clk);
        if (^{s_ready, m_valid, error} === 1'bx) x_found("tvalid, tready or error");
        if (m_valid === 1'b1) begin
            if (m_last !== 1'b0 && m_last !== 1'b1) x_found("m_axis_tlast");
            if (^m_keep === 1'bx) x_found("m_axis_tkeep");
            for (part = 0; part < `M_PARTS; part = part + 1)
                if (m_keep[part] === 1'b1 && ^((m_data >> (part * `M_PART)) & part_mask) === 1'bx) x_found("kept m_axis_tdata");
        end
        s_fire = s_valid && s_ready === 1'b1;
        m_fire = m_valid === 1'b1 && m_ready;
`ifdef M_STREAM
        // The expected file lists parts, not beats: each kept part is the next one, a part that
        // ends its frame must end its beat, and tlast is that part's flag.
        differs = 1'b0;
        kept = 0;
        if (m_fire) begin
            for (part = 0; part < `M_PARTS; part = part + 1) begin
                if (m_keep[part]) begin
                    if (kept != part) differs = 1'b1;
                    if (((m_data >> (part * `M_PART)) & part_mask) !== (out_mem[out_pos + part] & part_mask)) differs = 1'b1;
                    if (out_mem[out_pos + part][`M_PART] && ((m_keep >> (part + 1)) & 1)) differs = 1'b1;
                    kept = part + 1;
                end
            end
            if (kept == 0 || m_last !== out_mem[out_pos + kept - 1][`M_PART]) differs = 1'b1;
        end
`else
        differs = m_fire && (m_last !== out_mem[out_pos][`OUT_WIDTH]);
`endif
`ifdef M_STREAM
`elsif M_KEEP_PORT
        if (m_fire) begin
            if (m_keep !== out_mem[out_pos][`OUT_WIDTH+`M_KEEP:`OUT_WIDTH+1]) differs = 1'b1;
            for (part = 0; part < `M_KEEP; part = part + 1)
                if (m_keep[part] && ((m_data >> (part * `M_PART)) & part_mask) !== ((out_mem[out_pos][`OUT_WIDTH-1:0] >> (part * `M_PART)) & part_mask))
                    differs = 1'b1;
        end
`else
        if (m_fire && m_data !== out_mem[out_pos][`OUT_WIDTH-1:0]) differs = 1'b1;
`endif
        if (differs) begin
            if (errors < 5) $display("mismatch at beat %0d: got %h last %b, expected %h", out_pos, m_data, m_last, out_mem[out_pos]);
            errors = errors + 1;
        end
        if (error === 1'b1 && !error_seen) begin
            error_seen = 1'b1;
            if (log_fd != 0) $fdisplay(log_fd, "%0d e", cycles);
        end
        if (log_fd != 0) begin
            if (s_fire) $fdisplay(log_fd, "%0d i", cycles);
            if (m_fire) begin
                kept_data = 0;
                for (part = 0; part < `M_PARTS; part = part + 1)
                    if (m_keep[part] !== 1'b0) kept_data = kept_data | (m_data & (part_mask << (part * `M_PART)));
                $fdisplay(log_fd, "%0d o %h %b %h", cycles, m_keep, m_last, kept_data);
            end
        end
        @(posedge clk);
        #1;
        if (s_fire) begin
            in_pos = in_pos + 1;
            s_valid = 1'b0;
        end
`ifdef M_STREAM
        if (m_fire) out_pos = out_pos + kept;
`else
        if (m_fire) out_pos = out_pos + 1;
`endif
        cycles = cycles + 1;
    end
    if (log_fd != 0) $fclose(log_fd);
    $display("beats in: %0d of %0d, beats out: %0d of %0d, cycles: %0d, errors: %0d, X or Z: %0d", in_pos, inputs, out_pos, outputs, cycles, errors, x_errors);
    if (errors == 0 && x_errors == 0 && out_pos == outputs && in_pos == inputs) $display("PASS"); else $display("FAIL");
    $finish;
end

endmodule

`resetall
