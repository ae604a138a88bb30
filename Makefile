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

.PHONY: all deps hwgen generated check-generated sim sim-demo test test-long bench synth fuzz clean

all: hwgen

deps:
	@scripts/ensure-tools.sh

hwgen: deps
	swift build --product hwgen

# The committed example Verilog in generated/ (tests fail when it is stale).
generated: hwgen
	rm -f generated/*.v
	$(HWGEN) generate --design axis-rom-demo --output generated
	$(HWGEN) generate --codebook $(EXAMPLE_BOOK) --output generated

check-generated: hwgen
	rm -rf $(BUILD)/generated-check
	$(HWGEN) generate --design axis-rom-demo --output $(BUILD)/generated-check >/dev/null
	$(HWGEN) generate --codebook $(EXAMPLE_BOOK) --output $(BUILD)/generated-check >/dev/null
	@if ! diff -u <(cd generated && ls *.v) <(cd $(BUILD)/generated-check && ls *.v) || \
	    ! for f in $(BUILD)/generated-check/*.v; do diff -u generated/$$(basename $$f) $$f || exit 1; done; then \
	  echo "error: generated/ is stale: run 'make generated' and commit the result" >&2; exit 1; fi
	@echo "generated/ is up to date"

# The Huffman cores of the bundled example codebook (trained on MiniLM layer-1 FFN1 activations)
# on a bundled real sample: the decoder over the whole stream, the encoder over the values, at
# full rate and with random backpressure (VALID/READY percent), each checked bit for bit.
EXAMPLE_BOOK := examples/minilm_ffn1_huffman.json
EXAMPLE_DATA := examples/minilm_l1_ffn1_pre_gelu_sample.bf16.safetensors
EXAMPLE_NAME := minilm_ffn1
FRAME ?= 4096

define verilate_bench
	verilator --cc --exe --build -j 2 $(VERILATOR_FLAGS) $(if $(filter 1,$(TRACE)),--trace) \
	  --prefix Vtop --top-module $(1) --Mdir $(2) -o bench -CFLAGS "$(3)" \
	  $(CURDIR)/testbench/axis_stream_bench.cpp $(4) >$(2).log
endef

sim: hwgen
	rm -rf $(SIM_DIR) && mkdir -p $(SIM_DIR)/rtl
	$(HWGEN) generate --codebook $(EXAMPLE_BOOK) --output $(SIM_DIR)/rtl >/dev/null
	@echo "== $(EXAMPLE_DATA) with $(EXAMPLE_BOOK), frames of $(FRAME) values (reference coder):"
	@$(HWGEN) bench-vectors --codebook $(EXAMPLE_BOOK) --frame-size $(FRAME) $(EXAMPLE_DATA) --output $(SIM_DIR)
	$(call verilate_bench,$(EXAMPLE_NAME)_decoder,$(SIM_DIR)/decoder,-DHAS_M_LAST,$(SIM_DIR)/rtl/$(EXAMPLE_NAME)_decoder*.v)
	$(call verilate_bench,$(EXAMPLE_NAME)_encoder,$(SIM_DIR)/encoder,-DHAS_S_LAST -DHAS_M_LAST,$(SIM_DIR)/rtl/$(EXAMPLE_NAME)_encoder*.v)
	@echo "== decoder: stream words in, values out, full rate"
	@$(SIM_DIR)/decoder/bench $(SIM_DIR)/decoder_in.txt $(SIM_DIR)/decoder_expected.txt --seed $(SEED)
	@echo "== decoder: tvalid $(VALID)% / tready $(READY)% of cycles"
	@$(SIM_DIR)/decoder/bench $(SIM_DIR)/decoder_in.txt $(SIM_DIR)/decoder_expected.txt --seed $(SEED) --valid $(VALID) --ready $(READY) \
	  $(if $(filter 1,$(TRACE)),--trace $(SIM_DIR)/decoder.vcd)
	@echo "== encoder: values in, stream words out, full rate"
	@$(SIM_DIR)/encoder/bench $(SIM_DIR)/encoder_in.txt $(SIM_DIR)/encoder_expected.txt --seed $(SEED)
	@echo "== encoder: tvalid $(VALID)% / tready $(READY)% of cycles"
	@$(SIM_DIR)/encoder/bench $(SIM_DIR)/encoder_in.txt $(SIM_DIR)/encoder_expected.txt --seed $(SEED) --valid $(VALID) --ready $(READY) \
	  $(if $(filter 1,$(TRACE)),--trace $(SIM_DIR)/encoder.vcd)
	@if [ "$(TRACE)" = 1 ]; then echo "waveforms: $(SIM_DIR)/decoder.vcd $(SIM_DIR)/encoder.vcd"; fi

# The bridge demo: an AXI-Stream byte pipeline through the AES S-box ROM in block RAM.
sim-demo: hwgen
	rm -rf $(SIM_DIR)-demo && mkdir -p $(SIM_DIR)-demo/rtl
	$(HWGEN) generate --design axis-rom-demo --output $(SIM_DIR)-demo/rtl >/dev/null
	$(HWGEN) demo-vectors --count $(COUNT) --seed $(SEED) --output $(SIM_DIR)-demo
	$(call verilate_bench,axis_rom_demo,$(SIM_DIR)-demo/obj,-DHAS_S_LAST -DHAS_M_LAST,$(SIM_DIR)-demo/rtl/*.v)
	@echo "== axis_rom_demo: $(COUNT) bytes through the S-box ROM, full rate"
	@$(SIM_DIR)-demo/obj/bench $(SIM_DIR)-demo/input.txt $(SIM_DIR)-demo/expected.txt --seed $(SEED)
	@echo "== axis_rom_demo: tvalid $(VALID)% / tready $(READY)% of cycles"
	@$(SIM_DIR)-demo/obj/bench $(SIM_DIR)-demo/input.txt $(SIM_DIR)-demo/expected.txt --seed $(SEED) --valid $(VALID) --ready $(READY)

# Everything CI runs: the make-sim demo, generated/ freshness, then the Swift test suites
# (Verilator co-simulation, lint, Icarus, Yosys). The Swift summary is the last line.
test: sim sim-demo check-generated
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
	rm -rf $(BUILD)/synth-rtl && mkdir -p $(BUILD)/synth-rtl/demo $(BUILD)/synth-rtl/decoder $(BUILD)/synth-rtl/encoder
	$(HWGEN) generate --design axis-rom-demo --output $(BUILD)/synth-rtl/demo >/dev/null
	$(HWGEN) generate --codebook $(EXAMPLE_BOOK) --decoder --output $(BUILD)/synth-rtl/decoder >/dev/null
	$(HWGEN) generate --codebook $(EXAMPLE_BOOK) --encoder --output $(BUILD)/synth-rtl/encoder >/dev/null
	@echo "== $(EXAMPLE_NAME)_decoder"
	@scripts/synth.sh $(BUILD)/synth-rtl/decoder $(EXAMPLE_NAME)_decoder $(BUILD)/synth/decoder
	@echo "== $(EXAMPLE_NAME)_encoder"
	@scripts/synth.sh $(BUILD)/synth-rtl/encoder $(EXAMPLE_NAME)_encoder $(BUILD)/synth/encoder
	@echo "== axis_rom_demo"
	@scripts/synth.sh $(BUILD)/synth-rtl/demo axis_rom_demo $(BUILD)/synth/axis_rom_demo

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
