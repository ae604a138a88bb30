// hwgen make-sim bench: streams beats from a file into a Verilated AXI-Stream design and checks
// every output beat against an expected file, with random valid/ready patterns.
//
// The design is Verilated with --prefix Vtop. Ports: s_axis_tdata/tvalid/tready, m_axis_tdata/
// tvalid/tready, plus s_axis_tlast (-DHAS_S_LAST) and m_axis_tlast (-DHAS_M_LAST).
// Files: one beat per line, "<hex data> <tlast>".
//
// usage: bench INPUT EXPECTED [--seed N] [--valid PERCENT] [--ready PERCENT] [--trace FILE]
//              [--trace-from CYCLE] [--trace-to CYCLE]
// The waveform is VCD, or FST when Verilated with --trace-fst; only cycles in the window
// [--trace-from, --trace-to] are written.
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "Vtop.h"
#include "verilated.h"
#if VM_TRACE_FST
#include "verilated_fst_c.h"
typedef VerilatedFstC Tracer;
#elif VM_TRACE
#include "verilated_vcd_c.h"
typedef VerilatedVcdC Tracer;
#endif

struct Beat {
    uint64_t data;
    int last;
};

static std::vector<Beat> read_beats(const char* path) {
    std::vector<Beat> beats;
    FILE* f = std::fopen(path, "r");
    if (!f) {
        std::fprintf(stderr, "bench: cannot open %s\n", path);
        std::exit(2);
    }
    char line[128];
    unsigned long lineno = 0;
    while (std::fgets(line, sizeof line, f)) {
        ++lineno;
        if (line[0] == '\n' || line[0] == '#') continue;
        Beat b{};
        if (std::sscanf(line, "%" SCNx64 " %d", &b.data, &b.last) != 2) {
            std::fprintf(stderr, "bench: %s:%lu: expected \"<hex data> <tlast>\"\n", path, lineno);
            std::exit(2);
        }
        beats.push_back(b);
    }
    std::fclose(f);
    return beats;
}

static uint64_t rng_state = 1;
static unsigned percent() {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (unsigned)((rng_state * 0x2545F4914F6CDD1DULL) >> 33) % 100;
}

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s INPUT EXPECTED [--seed N] [--valid PCT] [--ready PCT] [--trace FILE]\n", argv[0]);
        return 2;
    }
    unsigned valid_pct = 100, ready_pct = 100;
    const char* trace_path = nullptr;
    uint64_t trace_from = 0, trace_to = UINT64_MAX;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--seed")) rng_state = std::strtoull(argv[i + 1], nullptr, 0) | 1;
        else if (!std::strcmp(argv[i], "--valid")) valid_pct = (unsigned)std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--ready")) ready_pct = (unsigned)std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--trace")) trace_path = argv[i + 1];
        else if (!std::strcmp(argv[i], "--trace-from")) trace_from = std::strtoull(argv[i + 1], nullptr, 0);
        else if (!std::strcmp(argv[i], "--trace-to")) trace_to = std::strtoull(argv[i + 1], nullptr, 0);
        else { std::fprintf(stderr, "bench: unknown option %s\n", argv[i]); return 2; }
    }
    const std::vector<Beat> input = read_beats(argv[1]);
    const std::vector<Beat> expected = read_beats(argv[2]);

    auto context = std::make_unique<VerilatedContext>();
    auto top = std::make_unique<Vtop>(context.get());
#if VM_TRACE
    std::unique_ptr<Tracer> vcd;
    if (trace_path) {
        context->traceEverOn(true);
        vcd = std::make_unique<Tracer>();
        top->trace(vcd.get(), 99);
        vcd->open(trace_path);
    }
#else
    if (trace_path) std::fprintf(stderr, "bench: built without tracing; rebuild with TRACE=1 or TRACE=fst\n");
#endif
    uint64_t half_cycles = 0;  // two per clock cycle
    auto settle = [&]() {
        top->eval();
        ++half_cycles;
#if VM_TRACE
        const uint64_t cycle = (half_cycles - 1) / 2;
        context->timeInc(1);
        if (vcd && cycle >= trace_from && cycle <= trace_to) vcd->dump(context->time());
#endif
    };
    auto tick = [&]() {
        top->clk = 1; settle();
        top->clk = 0; settle();
    };

    top->clk = 0;
    top->rst = 1;
    top->s_axis_tvalid = 0;
    top->m_axis_tready = 0;
    settle();
    tick(); tick();
    top->rst = 0;
    settle();

    size_t in_pos = 0, out_pos = 0;
    uint64_t cycles = 0, protocol_errors = 0;
    const uint64_t limit = 64 + 40 * (uint64_t)(input.size() + expected.size());
    bool offering = false, pending = false;
    uint64_t pending_data = 0;
    long first_mismatch = -1;
    while (out_pos < expected.size() && cycles < limit) {
        if (!offering) offering = in_pos < input.size() && percent() < valid_pct;
        top->s_axis_tvalid = offering;
        if (offering) {
            top->s_axis_tdata = input[in_pos].data;
#ifdef HAS_S_LAST
            top->s_axis_tlast = input[in_pos].last;
#endif
        }
        const bool ready = percent() < ready_pct;
        top->m_axis_tready = ready;
        settle();
        const bool accepted = offering && top->s_axis_tready;
        if (pending && (!top->m_axis_tvalid || (uint64_t)top->m_axis_tdata != pending_data)) ++protocol_errors;
        if (top->m_axis_tvalid && ready) {
            int last = 0;
#ifdef HAS_M_LAST
            last = top->m_axis_tlast;
#endif
            const Beat& want = expected[out_pos];
            if (first_mismatch < 0 && ((uint64_t)top->m_axis_tdata != want.data || last != want.last)) {
                first_mismatch = (long)out_pos;
                std::printf("MISMATCH at beat %zu: got %" PRIx64 " last %d, expected %" PRIx64 " last %d\n",
                            out_pos, (uint64_t)top->m_axis_tdata, last, want.data, want.last);
            }
            ++out_pos;
        }
        pending = top->m_axis_tvalid && !ready;
        pending_data = top->m_axis_tdata;
        tick();
        ++cycles;
        if (accepted) { ++in_pos; offering = false; }
    }
    top->final();

    const bool exact = first_mismatch < 0 && out_pos == expected.size() && in_pos == input.size() && protocol_errors == 0;
    std::printf("beats in:        %zu of %zu\n", in_pos, input.size());
    std::printf("beats out:       %zu of %zu expected\n", out_pos, expected.size());
    std::printf("cycles:          %" PRIu64 " (valid %u%%, ready %u%%)\n", cycles, valid_pct, ready_pct);
    std::printf("beats in/cycle:  %.4f\n", cycles ? (double)in_pos / (double)cycles : 0.0);
    std::printf("beats out/cycle: %.4f\n", cycles ? (double)out_pos / (double)cycles : 0.0);
    std::printf("protocol errors: %" PRIu64 "\n", protocol_errors);
    std::printf("verdict:         %s\n", exact ? "BIT-EXACT" : "FAIL");
    return exact ? 0 : 1;
}
