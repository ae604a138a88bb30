# hwgen: make sim (watch the hardware run), make test (everything CI runs).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
# pip puts the tools it installs (yowasp-*, fusesoc) in ~/.local/bin when it installs for the
# user (Debian 12's Python, PEP 668): every recipe sees them.
export PATH := $(HOME)/.local/bin:$(PATH)

BUILD     := build
SIM_DIR   := $(BUILD)/sim
BIN       := .build/debug
HWGEN     := $(BIN)/hwgen
VERILATOR_FLAGS := -O3 --x-assign fast --x-initial fast --noassert -Wno-fatal

# make sim knobs: random seed, percentage of cycles with tvalid / tready, waveform.
SEED  ?= 1
VALID ?= 70
READY ?= 60
# make sim CODEBOOK=...: full rate unless VALID/READY are given on the command line.
VALID_SIM := $(if $(filter command line,$(origin VALID)),$(VALID),100)
READY_SIM := $(if $(filter command line,$(origin READY)),$(READY),100)
TRACE ?= 0
# TRACE=1 writes VCD, TRACE=fst FST; TRACE_FROM / TRACE_TO keep only those clock cycles.
TRACE_FROM ?= 0
TRACE_TO   ?=
TRACE_EXT  := $(if $(filter fst,$(TRACE)),fst,vcd)
TRACE_ARGS  = $(if $(filter 1 fst,$(TRACE)),--trace $(1).$(TRACE_EXT) --trace-from $(TRACE_FROM) $(if $(TRACE_TO),--trace-to $(TRACE_TO)))
COUNT ?= 100000

.PHONY: all deps hwgen generated check-generated sim sim-demo test test-cocotb test-long bench synth synth-engines plot-cores formal fuzz fuzz-ci clean

all: hwgen

deps:
	@scripts/ensure-tools.sh

hwgen: deps
	swift build --product hwgen

# The committed example Verilog in generated/ (tests fail when it is stale).
generated: hwgen
	rm -f generated/*.v
	$(HWGEN) generate --design axis-rom-demo --output generated
	$(HWGEN) generate --codebook $(HUFFMAN_BOOK) --output generated
	$(HWGEN) generate --codebook $(TANS_BOOK) --output generated
	$(HWGEN) generate --codebook $(LANES_BOOK) --output generated
	$(HWGEN) generate --codebook $(TANS_LANES_BOOK) --output generated
	$(HWGEN) generate --codebook $(TANS_LANES8_BOOK) --values-per-beat 8 --output generated

check-generated: hwgen
	rm -rf $(BUILD)/generated-check
	$(HWGEN) generate --design axis-rom-demo --output $(BUILD)/generated-check >/dev/null
	$(HWGEN) generate --codebook $(HUFFMAN_BOOK) --output $(BUILD)/generated-check >/dev/null
	$(HWGEN) generate --codebook $(TANS_BOOK) --output $(BUILD)/generated-check >/dev/null
	$(HWGEN) generate --codebook $(LANES_BOOK) --output $(BUILD)/generated-check >/dev/null
	$(HWGEN) generate --codebook $(TANS_LANES_BOOK) --output $(BUILD)/generated-check >/dev/null
	$(HWGEN) generate --codebook $(TANS_LANES8_BOOK) --values-per-beat 8 --output $(BUILD)/generated-check >/dev/null
	@if ! diff -u <(cd generated && ls *.v) <(cd $(BUILD)/generated-check && ls *.v) || \
	    ! for f in $(BUILD)/generated-check/*.v; do diff -u generated/$$(basename $$f) $$f || exit 1; done; then \
	  echo "error: generated/ is stale: run 'make generated' and commit the result" >&2; exit 1; fi
	@echo "generated/ is up to date"

# The cores of the bundled example codebooks (Huffman and tANS, both trained on MiniLM layer-1
# FFN1 activations) on a bundled real sample: each decoder over the whole stream, each encoder
# over the values, at full rate and with random backpressure (VALID/READY percent), each checked
# bit for bit.
HUFFMAN_BOOK := examples/minilm_ffn1_huffman.json
TANS_BOOK    := examples/minilm_ffn1_tans.json
# The Huffman example's code in 8 lanes (FORMAT.md section 9): the K-lane decoder and encoder.
LANES_BOOK   := examples/minilm_ffn1_huffman_lanes8.json
# The tANS example's table in 2 lanes: the pipelined K-lane tANS decoder and the K-lane encoder (P = 1).
TANS_LANES_BOOK := examples/minilm_ffn1_tans_lanes2.json
# The tANS table in 8 lanes: the K-lane tANS decoder at P = 8 values per beat (and the encoder, P = 1).
TANS_LANES8_BOOK := examples/minilm_ffn1_tans_lanes8.json
EXAMPLE_DATA := examples/minilm_l1_ffn1_pre_gelu_sample.bf16.safetensors
SET_BOOK := examples/minilm_set_huffman.json
SET_DATA := examples/minilm_l4_mixed_sample.bf16.safetensors
FRAME ?= 4096

define verilate_bench
	verilator --cc --exe --build -j 2 $(VERILATOR_FLAGS) $(if $(filter 1,$(TRACE)),--trace) $(if $(filter fst,$(TRACE)),--trace-fst) \
	  --prefix Vtop --top-module $(1) --Mdir $(2) -o bench -CFLAGS "$(3)" \
	  $(CURDIR)/testbench/axis_stream_bench.cpp $(4) >$(2).log
endef

# $(1): codebook, $(2): module name prefix, $(3): output folder.
define sim_codebook
	mkdir -p $(3)/rtl
	$(HWGEN) generate --codebook $(1) --output $(3)/rtl >/dev/null
	@echo "== $(EXAMPLE_DATA) with $(1), frames of $(FRAME) values (reference coder):"
	@$(HWGEN) bench-vectors --codebook $(1) --frame-size $(FRAME) $(EXAMPLE_DATA) --output $(3)
	$(call verilate_bench,$(2)_decoder,$(3)/decoder,-DHAS_M_LAST,$(3)/rtl/$(2)_decoder*.v)
	$(call verilate_bench,$(2)_encoder,$(3)/encoder,-DHAS_S_LAST -DHAS_M_LAST,$(3)/rtl/$(2)_encoder*.v)
	@echo "== $(2)_decoder: stream words in, values out, full rate"
	@$(3)/decoder/bench $(3)/decoder_in.txt $(3)/decoder_expected.txt --seed $(SEED)
	@echo "== $(2)_decoder: tvalid $(VALID)% / tready $(READY)% of cycles"
	@$(3)/decoder/bench $(3)/decoder_in.txt $(3)/decoder_expected.txt --seed $(SEED) --valid $(VALID) --ready $(READY) \
	  $(call TRACE_ARGS,$(3)/decoder)
	@echo "== $(2)_encoder: values in, stream words out, full rate"
	@$(3)/encoder/bench $(3)/encoder_in.txt $(3)/encoder_expected.txt --seed $(SEED)
	@echo "== $(2)_encoder: tvalid $(VALID)% / tready $(READY)% of cycles"
	@$(3)/encoder/bench $(3)/encoder_in.txt $(3)/encoder_expected.txt --seed $(SEED) --valid $(VALID) --ready $(READY) \
	  $(call TRACE_ARGS,$(3)/encoder)
	@if [ "$(TRACE)" = 1 ] || [ "$(TRACE)" = fst ]; then echo "waveforms: $(3)/decoder.$(TRACE_EXT) $(3)/encoder.$(TRACE_EXT)"; fi
endef

# With CODEBOOK=x.json (and DATA=files or folders, default the bundled sample): your codebook's
# cores over your data through hwgen sim, with VALID/READY/SEED, and TRACE=1 for VCDs.
CODEBOOK ?=
DATA     ?= $(EXAMPLE_DATA)
sim: hwgen
	rm -rf $(SIM_DIR)
ifneq ($(CODEBOOK),)
	$(HWGEN) sim --codebook $(CODEBOOK) --valid $(VALID_SIM) --ready $(READY_SIM) --seed $(SEED) \
	  $(if $(filter 1 fst,$(TRACE)),--trace $(SIM_DIR)/trace --trace-format $(TRACE_EXT)) $(DATA)
else
	$(call sim_codebook,$(HUFFMAN_BOOK),minilm_ffn1,$(SIM_DIR)/huffman)
	$(call sim_codebook,$(TANS_BOOK),minilm_ffn1_tans,$(SIM_DIR)/tans)
	@echo "== $(LANES_BOOK): the K = 8 lane Huffman decoder (8 values per beat) and encoder (1 value per beat), full rate"
	@$(HWGEN) sim --codebook $(LANES_BOOK) --seed $(SEED) $(EXAMPLE_DATA)
	@echo "== $(LANES_BOOK): the K = 8 lane Huffman decoder and encoder at 8 values per beat, full rate, then tvalid $(VALID)% / tready $(READY)%"
	@$(HWGEN) sim --codebook $(LANES_BOOK) --values-per-beat 8 --seed $(SEED) $(EXAMPLE_DATA)
	@$(HWGEN) sim --codebook $(LANES_BOOK) --values-per-beat 8 --seed $(SEED) --valid $(VALID) --ready $(READY) $(EXAMPLE_DATA)
	@echo "== $(TANS_LANES_BOOK): the pipelined K = 2 lane tANS decoder and the K = 2 lane tANS encoder (1 value per beat), full rate, then tvalid $(VALID)% / tready $(READY)%"
	@$(HWGEN) sim --codebook $(TANS_LANES_BOOK) --seed $(SEED) $(EXAMPLE_DATA)
	@$(HWGEN) sim --codebook $(TANS_LANES_BOOK) --seed $(SEED) --valid $(VALID) --ready $(READY) $(EXAMPLE_DATA)
	@echo "== $(TANS_LANES8_BOOK): the K = 8 lane tANS decoder and encoder at 8 values per beat, full rate, then tvalid $(VALID)% / tready $(READY)%"
	@$(HWGEN) sim --codebook $(TANS_LANES8_BOOK) --values-per-beat 8 --seed $(SEED) $(EXAMPLE_DATA)
	@$(HWGEN) sim --codebook $(TANS_LANES8_BOOK) --values-per-beat 8 --seed $(SEED) --valid $(VALID) --ready $(READY) $(EXAMPLE_DATA)
	@echo "== $(TANS_BOOK): the one-lane tANS encoder with two frames in flight (--interleave 2: a two-cycle state loop; the sample's last frame codes alone at half rate), full rate, then tvalid $(VALID)% / tready $(READY)%"
	@$(HWGEN) sim --codebook $(TANS_BOOK) --interleave 2 --seed $(SEED) $(EXAMPLE_DATA)
	@$(HWGEN) sim --codebook $(TANS_BOOK) --interleave 2 --seed $(SEED) --valid $(VALID) --ready $(READY) $(EXAMPLE_DATA)
	@echo "== $(HUFFMAN_BOOK) and $(TANS_BOOK): decoders and encoders with 8 frame engines (8 values per beat), full rate (the sample is 18 frames: the first frame's start shows)"
	@$(HWGEN) sim --codebook $(HUFFMAN_BOOK) --engines 8 --seed $(SEED) $(EXAMPLE_DATA)
	@$(HWGEN) sim --codebook $(TANS_BOOK) --engines 8 --seed $(SEED) $(EXAMPLE_DATA)
	@echo "== $(SET_BOOK): one decoder and one encoder for a set of 4 Huffman codebooks (FFN1 pre- and post-GELU activations, attention and other weights), each frame's codebook id on tuser; layer-4 tensors, full rate, then tvalid $(VALID)% / tready $(READY)%"
	@$(HWGEN) sim --set $(SET_BOOK) --seed $(SEED) $(SET_DATA)
	@$(HWGEN) sim --set $(SET_BOOK) --seed $(SEED) --valid $(VALID) --ready $(READY) $(SET_DATA)
endif

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

# The bundled example cores, every kind (one-lane, pipelined P = 1, K-lane encoders at P = 1,
# P = K both ways, both coders), through cocotb with cocotbext-axi's AXI-Stream source, sink and
# monitors under Icarus, against the reference coder's files (testbench/cocotb/run.py; run it on
# your own codebook the same way). COCOTB_FRAMES frames of 4,096 values, COCOTB_PATTERNS
# valid/ready percentages. Logs in build/cocotb/*.log.
COCOTB_FRAMES   ?= 2
COCOTB_PATTERNS ?= 100/100,25/90
COCOTB_RUNS := $(HUFFMAN_BOOK) $(TANS_BOOK) $(LANES_BOOK):8 $(LANES_BOOK):1 $(TANS_LANES_BOOK) $(TANS_LANES8_BOOK):8
test-cocotb: hwgen
	@mkdir -p $(BUILD)/cocotb
	@for run in $(COCOTB_RUNS); do \
	  book=$${run%%:*}; p=$${run#*:}; options=; if [ "$$p" != "$$run" ]; then options="--values-per-beat $$p"; fi; \
	  log=$(BUILD)/cocotb/$$(basename $$book .json)$${options:+_p$$p}.log; \
	  if python3 testbench/cocotb/run.py --hwgen $(HWGEN) --codebook $$book $$options --frames $(COCOTB_FRAMES) --patterns $(COCOTB_PATTERNS) >$$log 2>&1; \
	  then grep '^cocotb ' $$log; \
	  else grep '^cocotb ' $$log; tail -40 $$log; echo "error: cocotb run of $$book $$options failed; log: $$log" >&2; exit 1; fi; \
	done

# Everything CI runs: the make-sim demo, generated/ freshness, a short fuzz run, the cocotb runs,
# then the Swift test suites (Verilator co-simulation, lint, Icarus, Yosys). The Swift summary is
# the last line.
test: sim sim-demo check-generated fuzz-ci test-cocotb
	swift test --disable-xctest

# Longer random sweeps (more seeds and beats); report their results in closing notes.
test-long: deps
	$(MAKE) test-cocotb COCOTB_FRAMES=8 COCOTB_PATTERNS=100/100,25/90,90/25,60/70
	HWGEN_LONG_TESTS=1 swift test --disable-xctest

# Formal proofs (SymbiYosys, docs/FORMAL.md): every core of the small formal codebooks and of the
# bundled examples; bmc and cover to FORMAL_DEPTH cycles from reset (two frames and more: a tANS
# encoder's first frame ends at step 17), the example decoders to FORMAL_DECODER_DEPTH (their
# 4096- and 2048-entry tables make each step dearer); k-induction for the unbounded proof.
# Logs and traces in build/formal/.
# The lane books' cores (K = 2) go to FORMAL_LANES_DEPTH: a K-lane tANS encoder's second frame
# ends at step 27 (each lane's state bits and last word add cycles per frame); then the same
# books' cores at P = K = 2 (tkeep on both sides): Huffman to FORMAL_ROUNDS_DEPTH (two frames by
# step 17; at 30 its encoder's bmc took over 10 minutes a step), tANS to FORMAL_LANES_DEPTH.
FORMAL_DEPTH         ?= 24
FORMAL_DECODER_DEPTH ?= 16
FORMAL_LANES_DEPTH   ?= 30
FORMAL_ROUNDS_DEPTH  ?= 20
formal: hwgen
	@scripts/ensure-tools.sh
	scripts/formal.sh $(HWGEN) $(BUILD)/formal $(FORMAL_DEPTH) 16 both $(sort $(filter-out %_lanes2.json,$(wildcard testbench/formal/*.json)))
	scripts/formal.sh $(HWGEN) $(BUILD)/formal $(FORMAL_LANES_DEPTH) 16 both $(sort $(wildcard testbench/formal/*_lanes2.json))
	HWGEN_FORMAL_OPTIONS="--values-per-beat 2" scripts/formal.sh $(HWGEN) $(BUILD)/formal/p2 $(FORMAL_ROUNDS_DEPTH) 16 both testbench/formal/formal_huffman_incomplete_lanes2.json
	HWGEN_FORMAL_OPTIONS="--values-per-beat 2" scripts/formal.sh $(HWGEN) $(BUILD)/formal/p2 $(FORMAL_LANES_DEPTH) 16 both testbench/formal/formal_tans_small_lanes2.json
	scripts/formal.sh $(HWGEN) $(BUILD)/formal $(FORMAL_DECODER_DEPTH) 4096 decoder $(HUFFMAN_BOOK) $(TANS_BOOK)
	scripts/formal.sh $(HWGEN) $(BUILD)/formal $(FORMAL_DEPTH) 4096 encoder $(HUFFMAN_BOOK) $(TANS_BOOK)

# Figures for docs/BENCHMARKS.md: bridge cycles/s and emit time (release build).
# The coders are compiled for this processor, as the peers are (-march=native), in a build
# folder of their own.
bench: deps
	HWGEN_TARGET_CPU=native swift build -c release --product hwgen-bench --build-path .build-native
	.build-native/release/hwgen-bench all --data ../shared/data
	@echo "== portable build (no -target-cpu): the software coders =="
	swift build -c release --product hwgen-bench --build-path .build-portable
	.build-portable/release/hwgen-bench codec --data ../shared/data

# The cores' figures (docs/figures/cores.csv) drawn as M values/s against Xilinx LUTs.
plot-cores:
	swift build --product hwgen-bench
	$$(swift build --show-bin-path)/hwgen-bench plot-cores --figures docs/figures/cores.csv --output docs/figures/cores.svg

# Frame-engine cores of the bundled one-lane books, N = ENGINES (values per cycle on the whole
# layer-4 tensor, ECP5-85k place and route for each seed of SEEDS), into docs/figures/cores.csv.
ENGINES ?= 1 2 4 8 16
synth-engines: deps
	@scripts/ensure-tools.sh synth
	scripts/engine-sweep.sh $(ENGINES)
	$(MAKE) plot-cores

# Synthesis and place-and-route figures for the generated designs.
# The codebooks make synth builds: the bundled examples, or CODEBOOK=x.json. SEEDS="1 2 3" places
# and routes ECP5 once per seed and reports the mean Fmax.
SEEDS ?= 1
export SEEDS
SYNTH_BOOKS := $(if $(CODEBOOK),$(CODEBOOK),$(HUFFMAN_BOOK) $(TANS_BOOK) $(TANS_LANES_BOOK) $(LANES_BOOK))
synth: hwgen
	@scripts/ensure-tools.sh synth
	rm -rf $(BUILD)/synth-rtl && mkdir -p $(BUILD)/synth-rtl/demo
	$(HWGEN) generate --design axis-rom-demo --output $(BUILD)/synth-rtl/demo >/dev/null
	@for book in $(SYNTH_BOOKS); do \
	  for core in decoder encoder; do \
	    rtl=$(BUILD)/synth-rtl/$$(basename $$book .json)_$$core && mkdir -p $$rtl && \
	    $(HWGEN) generate --codebook $$book --$$core --output $$rtl >/dev/null && \
	    top=$$(cd $$rtl && ls *_$$core.v | sed 's/\.v$$//') && \
	    echo "== $$top" && \
	    scripts/synth.sh $$rtl $$top $(BUILD)/synth/$$top || exit 1; \
	  done; \
	done
	@if [ -z "$(CODEBOOK)" ]; then \
	  rtl=$(BUILD)/synth-rtl/minilm_ffn1_tans_lanes8_decoder && mkdir -p $$rtl && \
	  $(HWGEN) generate --codebook $(TANS_LANES8_BOOK) --decoder --values-per-beat 8 --output $$rtl >/dev/null && \
	  echo "== minilm_ffn1_tans_lanes8_decoder (P = 8)" && \
	  scripts/synth.sh $$rtl minilm_ffn1_tans_lanes8_decoder $(BUILD)/synth/minilm_ffn1_tans_lanes8_decoder && \
	  rtl=$(BUILD)/synth-rtl/minilm_ffn1_lanes8_encoder_p8 && mkdir -p $$rtl && \
	  $(HWGEN) generate --codebook $(LANES_BOOK) --encoder --values-per-beat 8 --output $$rtl >/dev/null && \
	  echo "== minilm_ffn1_lanes8_encoder (P = 8)" && \
	  scripts/synth.sh $$rtl minilm_ffn1_lanes8_encoder $(BUILD)/synth/minilm_ffn1_lanes8_encoder_p8 && \
	  rtl=$(BUILD)/synth-rtl/minilm_ffn1_tans_lanes8_encoder && mkdir -p $$rtl && \
	  $(HWGEN) generate --codebook $(TANS_LANES8_BOOK) --encoder --values-per-beat 8 --output $$rtl >/dev/null && \
	  echo "== minilm_ffn1_tans_lanes8_encoder (P = 8)" && \
	  scripts/synth.sh $$rtl minilm_ffn1_tans_lanes8_encoder $(BUILD)/synth/minilm_ffn1_tans_lanes8_encoder; \
	fi
	@echo "== axis_rom_demo"
	@scripts/synth.sh $(BUILD)/synth-rtl/demo axis_rom_demo $(BUILD)/synth/axis_rom_demo

# libFuzzer over every parser of untrusted input (Fuzz/HWGenFuzz.swift): codebook JSON, bare
# streams, stream files, safetensors, raw value files, training histograms. Codec, FileIO and
# Training are compiled as modules with coverage and AddressSanitizer, then the harness against
# them. FUZZ_SECONDS bounds the run (make test runs it for FUZZ_CI_SECONDS). Leak detection is off:
# the harness keeps its codec tables for the whole process, and Swift packs enum tags into
# pointer bits that LeakSanitizer cannot follow (a false report at exit).
FUZZ_SECONDS ?= 60
FUZZ_CI_SECONDS ?= 20
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_FLAGS := -sanitize=fuzzer,address -parse-as-library -O -I $(FUZZ_DIR) -I Sources/CCRC32C/include -I Sources/CCodecKernels/include
# ld.gold warns once per ASan helper symbol; the warnings say nothing about the harness.
FUZZ_QUIET := 2>&1 | { grep -v "Cannot export local symbol" || true; }
define fuzz_module
	rm -f $(FUZZ_DIR)/lib$(1).a  # (an archive keeps members of renamed source files)
	swiftc -emit-library -static -module-name $(1) -emit-module -emit-module-path $(FUZZ_DIR)/$(1).swiftmodule \
	  $(FUZZ_FLAGS) Sources/$(1)/*.swift -o $(FUZZ_DIR)/lib$(1).a $(FUZZ_QUIET)
endef

$(FUZZ_DIR)/hwgen-fuzz: Fuzz/HWGenFuzz.swift $(wildcard Sources/Codec/*.swift Sources/FileIO/*.swift Sources/Training/*.swift Sources/CCRC32C/*.c Sources/CCodecKernels/*.c Sources/CCodecKernels/include/*.h)
	@scripts/ensure-tools.sh
	mkdir -p $(FUZZ_DIR)
	clang -O2 -fsanitize=fuzzer-no-link,address -I Sources/CCRC32C/include -c Sources/CCRC32C/ccrc32c.c -o $(FUZZ_DIR)/ccrc32c.o
	clang -O2 -fsanitize=fuzzer-no-link,address -I Sources/CCodecKernels/include -c Sources/CCodecKernels/ccodeckernels.c -o $(FUZZ_DIR)/ccodeckernels.o
	$(call fuzz_module,Codec)
	$(call fuzz_module,FileIO)
	$(call fuzz_module,Training)
	swiftc $(FUZZ_FLAGS) Fuzz/HWGenFuzz.swift $(FUZZ_DIR)/libTraining.a $(FUZZ_DIR)/libFileIO.a $(FUZZ_DIR)/libCodec.a \
	  $(FUZZ_DIR)/ccrc32c.o $(FUZZ_DIR)/ccodeckernels.o -o $@ $(FUZZ_QUIET)

fuzz: $(FUZZ_DIR)/hwgen-fuzz
	mkdir -p $(FUZZ_DIR)/corpus && cp Fuzz/corpus/* $(FUZZ_DIR)/corpus/
	cd $(FUZZ_DIR) && ASAN_OPTIONS=detect_leaks=0 ./hwgen-fuzz corpus -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  -timeout=5 -rss_limit_mb=2048 -detect_leaks=0 2>&1 | tail -3

# The short fuzz run of make test.
fuzz-ci:
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_CI_SECONDS)

clean:
	rm -rf $(BUILD)
