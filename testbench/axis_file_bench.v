// hwgen Icarus bench: streams beats from a hex file into an AXI-Stream design and checks every
// output beat against a second hex file, with pseudo-random tvalid/tready (a second simulator
// next to Verilator). Compile with:
//   iverilog -g2005 -DDUT=<module> -DIN_WIDTH=<bits> -DOUT_WIDTH=<bits> [-DHAS_S_LAST] [-DHAS_M_LAST]
//            [-DS_KEEP_PORT -DS_KEEP=<bits>] [-DM_KEEP_PORT -DM_KEEP=<bits> -DM_PART=<bits>] -o bench testbench/axis_file_bench.v <design files>
// Run: vvp bench +input=in.hex +expected=out.hex +inputs=N +outputs=M
// Each hex line is one beat: {tkeep, tlast, tdata} (tlast in the bit above tdata, tkeep above
// it when the side has one: S_KEEP / M_KEEP bits). With M_KEEP, tdata is M_KEEP parts of M_PART
// bits and only the kept parts are compared (FORMAT.md section 10). With -DM_STREAM (and
// M_KEEP), the expected file holds one part per line, {tlast, part}, whatever the beats: for
// cores whose output beats depend on timing (an encoder's words per beat).
`timescale 1ns / 1ps
`default_nettype none

module axis_file_bench;

localparam MAX_BEATS = 1 << 20;

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
reg [`IN_WIDTH+`S_KEEP:0] in_mem [0:MAX_BEATS-1];
reg [`OUT_WIDTH+`M_KEEP:0] out_mem [0:MAX_BEATS-1];
integer part, kept;
reg differs;
wire [`OUT_WIDTH-1:0] part_mask = {`M_PART{1'b1}};
reg [1023:0] input_path;
reg [1023:0] expected_path;
integer inputs, outputs, in_pos, out_pos, cycles, errors;
reg [31:0] lfsr;
reg s_fire, m_fire;

reg s_valid;
wire s_ready;
wire [`OUT_WIDTH-1:0] m_data;
wire m_valid;
reg m_ready;
wire m_last;
`ifdef M_KEEP_PORT
wire [`M_KEEP-1:0] m_keep;
`endif

`DUT dut (
    .clk(clk),
    .rst(rst),
    .s_axis_tdata(in_mem[in_pos][`IN_WIDTH-1:0]),
    .s_axis_tvalid(s_valid),
    .s_axis_tready(s_ready),
`ifdef HAS_S_LAST
    .s_axis_tlast(in_mem[in_pos][`IN_WIDTH]),
`endif
`ifdef S_KEEP_PORT
    .s_axis_tkeep(in_mem[in_pos][`IN_WIDTH+`S_KEEP:`IN_WIDTH+1]),
`endif
`ifdef M_KEEP_PORT
    .m_axis_tkeep(m_keep),
`endif
    .m_axis_tdata(m_data),
    .m_axis_tvalid(m_valid),
    .m_axis_tready(m_ready),
    .m_axis_tlast(m_last)
);

always #5 clk = ~clk;

initial begin
    if (!$value$plusargs("input=%s", input_path) || !$value$plusargs("expected=%s", expected_path)
        || !$value$plusargs("inputs=%d", inputs) || !$value$plusargs("outputs=%d", outputs)) begin
        $display("usage: vvp bench +input=FILE +expected=FILE +inputs=N +outputs=M");
        $finish;
    end
    $readmemh(input_path, in_mem, 0, inputs - 1);
    $readmemh(expected_path, out_mem, 0, outputs - 1);
    in_pos = 0; out_pos = 0; cycles = 0; errors = 0; lfsr = 32'h1;
    s_valid = 1'b0; m_ready = 1'b0;
    repeat (3) @(posedge clk);
    #1 rst = 1'b0;
    while (out_pos < outputs && cycles < 100 * (inputs + outputs) + 1000) begin
        // Drive this cycle's handshakes just after the previous rising edge.
        lfsr = {lfsr[30:0], lfsr[31] ^ lfsr[21] ^ lfsr[1] ^ lfsr[0]};
        if (!s_valid) s_valid = (in_pos < inputs) && (lfsr[2:0] != 3'd0);
        m_ready = (lfsr[6:4] != 3'd0);
        // Sample the handshakes at the falling edge, when everything has settled.
        @(negedge clk);
        s_fire = s_valid && s_ready;
        m_fire = m_valid && m_ready;
`ifdef M_STREAM
        // The expected file lists parts, not beats: each kept part is the next one, a part that
        // ends its frame must end its beat, and tlast is that part's flag.
        differs = 1'b0;
        kept = 0;
        if (m_fire) begin
            for (part = 0; part < `M_KEEP; part = part + 1) begin
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
    $display("beats in: %0d of %0d, beats out: %0d of %0d, cycles: %0d, errors: %0d", in_pos, inputs, out_pos, outputs, cycles, errors);
    if (errors == 0 && out_pos == outputs && in_pos == inputs) $display("PASS"); else $display("FAIL");
    $finish;
end

endmodule

`resetall
