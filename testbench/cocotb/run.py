#!/usr/bin/env python3
"""Runs a codebook's hwgen cores under cocotb + cocotbext-axi + Icarus against the reference coder.

    python3 testbench/cocotb/run.py --codebook x.json [--values-per-beat P] [--words-per-beat Q]
        [--data tensors.safetensors] [--tensors REGEX] [--frames N] [--patterns 100/100,25/90]
        [--hwgen .build/debug/hwgen] [--out build/cocotb]

For the codebook it writes the decoder and encoder (hwgen generate, with the options given), has
the reference coder encode the data (hwgen bench-vectors, frames of 4,096 values), keeps the
first N frames, and runs testbench/cocotb/test_axis_core.py on each core once per valid/ready
pattern. Exit status 0 only if every run is bit-exact and four-state clean.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def cut(src, dst, frames):
    """The first `frames` frames of a bench-vectors file (lines "<hex> <tlast>")."""
    seen = 0
    with open(src) as f, open(dst, "w") as out:
        for line in f:
            out.write(line)
            if line.split()[1] == "1":
                seen += 1
                if seen == frames:
                    break


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--codebook", required=True)
    parser.add_argument("--values-per-beat", type=int)
    parser.add_argument("--words-per-beat", type=int)
    parser.add_argument("--data", default=str(ROOT / "examples/minilm_l1_ffn1_pre_gelu_sample.bf16.safetensors"))
    parser.add_argument("--tensors")
    parser.add_argument("--frames", type=int, default=2, help="frames of 4,096 values to run (default 2)")
    parser.add_argument("--patterns", default="100/100,25/90", help="valid/ready percentages, comma-separated")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hwgen", default=str(ROOT / ".build/debug/hwgen"))
    parser.add_argument("--out", default=str(ROOT / "build/cocotb"))
    args = parser.parse_args()

    try:
        from cocotb_tools.runner import get_results, get_runner
    except ImportError:
        sys.exit("error: cocotb is not installed; install it with: pip install cocotb cocotbext-axi")
    try:
        import cocotbext.axi  # noqa: F401
    except ImportError:
        sys.exit("error: cocotbext-axi is not installed; install it with: pip install cocotbext-axi")

    book = Path(args.codebook).resolve()
    name = book.stem
    options = []
    if args.values_per_beat:
        options += ["--values-per-beat", str(args.values_per_beat)]
    if args.words_per_beat:
        options += ["--words-per-beat", str(args.words_per_beat)]
    out = Path(args.out) / (name + "".join(o.replace("--", "_").replace("-", "") for o in options))
    rtl, vec = out / "rtl", out / "vectors"
    subprocess.run(["rm", "-rf", str(out)], check=True)
    rtl.mkdir(parents=True)
    subprocess.run([args.hwgen, "generate", "--codebook", str(book), "--output", str(rtl)] + options, check=True, stdout=subprocess.DEVNULL)
    vectors = [args.hwgen, "bench-vectors", "--codebook", str(book), "--frame-size", "4096", args.data, "--output", str(vec)]
    if args.tensors:
        vectors += ["--tensors", args.tensors]
    subprocess.run(vectors, check=True, stdout=subprocess.DEVNULL)
    # The stream words with their frames' tlast (what the encoder must write, and the decoder
    # reads), and the values with theirs (the other way round).
    cut(vec / "encoder_expected.txt", vec / "words.txt", args.frames)
    cut(vec / "encoder_in.txt", vec / "values.txt", args.frames)
    files = {"decoder": ("words.txt", "values.txt"), "encoder": ("values.txt", "words.txt")}

    runner = get_runner("icarus")
    failures = 0
    for role in ["decoder", "encoder"]:
        sources = sorted(str(p) for p in rtl.glob("*.v"))
        top = next((p.stem for p in rtl.glob(f"*_{role}.v")), None)
        if top is None:
            sys.exit(f"error: hwgen wrote no {role} into {rtl}")
        build = out / role
        runner.build(verilog_sources=sources, hdl_toplevel=top, build_dir=build, always=True, timescale=("1ns", "1ps"))
        for n, pattern in enumerate(args.patterns.split(",")):
            valid, ready = pattern.split("/")
            env = {
                "HWGEN_ROLE": role, "HWGEN_INPUT": str(vec / files[role][0]), "HWGEN_EXPECTED": str(vec / files[role][1]),
                "HWGEN_VALID": valid, "HWGEN_READY": ready, "HWGEN_SEED": str(args.seed + n),
            }
            results = runner.test(test_module="test_axis_core", hdl_toplevel=top, test_dir=HERE, build_dir=build,
                                  extra_env=env, results_xml=str(build / f"results_{valid}_{ready}.xml"))
            tests, failed = get_results(results)
            verdict = "PASS" if tests > 0 and failed == 0 else "FAIL"
            failures += verdict == "FAIL"
            kind = f" ({' '.join(options)})" if options else ""
            print(f"cocotb {top}{kind}: tvalid {valid}% tready {ready}%: {verdict}", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
