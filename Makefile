# hwgen: make sim (watch the hardware run), make test (everything CI runs).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c

BUILD     := build
SIM_DIR   := $(BUILD)/sim
BIN       := .build/debug
HWGEN     := $(BIN)/hwgen
VERILATOR_FLAGS := -O3 --x-assign fast --x-initial fast --noassert -Wno-fatal

# make sim knobs: random seed, percentage of cycles with tvalid / tready, waveform.
SEED  ?= 1
VALID ?= 70
READY ?= 60
TRACE ?= 0
COUNT ?= 100000

.PHONY: all deps hwgen generated check-generated sim test test-long bench synth fuzz clean

all: hwgen

deps:
	@scripts/ensure-tools.sh

hwgen: deps
	swift build --product hwgen

# The committed example Verilog in generated/ (tests fail when it is stale).
generated: hwgen
	rm -f generated/*.v
	$(HWGEN) generate --design axis-rom-demo --output generated

check-generated: hwgen
	rm -rf $(BUILD)/generated-check
	$(HWGEN) generate --design axis-rom-demo --output $(BUILD)/generated-check >/dev/null
	@if ! diff -u <(cd generated && ls *.v) <(cd $(BUILD)/generated-check && ls *.v) || \
	    ! for f in $(BUILD)/generated-check/*.v; do diff -u generated/$$(basename $$f) $$f || exit 1; done; then \
	  echo "error: generated/ is stale: run 'make generated' and commit the result" >&2; exit 1; fi
	@echo "generated/ is up to date"

# Until the coder cores land, sim runs the bridge demo (AES S-box ROM in block RAM behind a
# skid buffer): full rate first, then with random backpressure (VALID/READY percent).
sim: hwgen
	rm -rf $(SIM_DIR) && mkdir -p $(SIM_DIR)/rtl
	$(HWGEN) generate --design axis-rom-demo --output $(SIM_DIR)/rtl >/dev/null
	$(HWGEN) demo-vectors --count $(COUNT) --seed $(SEED) --output $(SIM_DIR)
	verilator --cc --exe --build -j 2 $(VERILATOR_FLAGS) $(if $(filter 1,$(TRACE)),--trace) \
	  --prefix Vtop --top-module axis_rom_demo --Mdir $(SIM_DIR)/obj -o bench \
	  -CFLAGS "-DHAS_S_LAST -DHAS_M_LAST" \
	  $(CURDIR)/testbench/axis_stream_bench.cpp $(SIM_DIR)/rtl/*.v >$(SIM_DIR)/verilator.log
	@echo "== axis_rom_demo: $(COUNT) bytes through the S-box ROM, full rate"
	$(SIM_DIR)/obj/bench $(SIM_DIR)/input.txt $(SIM_DIR)/expected.txt --seed $(SEED) --valid 100 --ready 100
	@echo "== axis_rom_demo: same bytes, tvalid $(VALID)% / tready $(READY)% of cycles"
	$(SIM_DIR)/obj/bench $(SIM_DIR)/input.txt $(SIM_DIR)/expected.txt --seed $(SEED) --valid $(VALID) --ready $(READY) \
	  $(if $(filter 1,$(TRACE)),--trace $(SIM_DIR)/axis_rom_demo.vcd)
	@if [ "$(TRACE)" = 1 ]; then echo "waveform: $(SIM_DIR)/axis_rom_demo.vcd"; fi

# Everything CI runs: the make-sim demo, generated/ freshness, then the Swift test suites
# (Verilator co-simulation, lint, Icarus, Yosys). The Swift summary is the last line.
test: sim check-generated
	swift test --disable-xctest

# Longer random sweeps (more seeds and beats); report their results in closing notes.
test-long: deps
	HWGEN_LONG_TESTS=1 swift test --disable-xctest

# Figures for docs/BENCHMARKS.md: bridge cycles/s and emit time (release build).
bench: deps
	swift build -c release --product hwgen-bench
	.build/release/hwgen-bench all --data ../shared/data

# Synthesis and place-and-route figures for the generated designs.
synth: hwgen
	@scripts/ensure-tools.sh synth
	rm -rf $(BUILD)/synth-rtl && $(HWGEN) generate --design axis-rom-demo --output $(BUILD)/synth-rtl >/dev/null
	scripts/synth.sh $(BUILD)/synth-rtl axis_rom_demo $(BUILD)/synth/axis_rom_demo

# libFuzzer over the reference decoders and the codebook parser (FUZZ_SECONDS, default 60).
# Leak detection is off: the harness keeps its codec tables for the whole process, and Swift
# packs enum tags into pointer bits that LeakSanitizer cannot follow (a false report at exit).
FUZZ_SECONDS ?= 60
fuzz: deps
	mkdir -p $(BUILD)/fuzz-corpus && cp Fuzz/corpus/* $(BUILD)/fuzz-corpus/
	swiftc -sanitize=fuzzer,address -parse-as-library -O Fuzz/CodecFuzz.swift Sources/Codec/*.swift -o $(BUILD)/codec-fuzz
	cd $(BUILD) && ASAN_OPTIONS=detect_leaks=0 ./codec-fuzz fuzz-corpus -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=5 -detect_leaks=0 2>&1 | tail -3

clean:
	rm -rf $(BUILD)
