"""cocotb test of one hwgen core (decoder or encoder) with cocotbext-axi's AXI-Stream source,
sink and monitors, under Icarus: the stream files the reference coder wrote (hwgen bench-vectors)
go in, and what comes out must equal the reference output frame by frame.

Driven by testbench/cocotb/run.py, which sets these environment variables:
  HWGEN_ROLE      decoder or encoder
  HWGEN_INPUT     the input beats, one "<hex> <tlast>" line per element (words or values)
  HWGEN_EXPECTED  the expected output, one "<hex> <tlast>" line per element
  HWGEN_VALID     percent of cycles in which the source offers a beat (tvalid)
  HWGEN_READY     percent of cycles in which the sink takes one (tready)
  HWGEN_SEED      seed of both patterns

An element is a value (decoder output, encoder input) or a 32-bit stream word. tkeep, where a
side has it, has one bit per element (FORMAT.md section 10), so cocotbext-axi's "bytes" are the
elements: it cuts each frame into beats of P values or Q words and keeps the last beat short.
The output side's tvalid, tready, error and every kept element must be 0 or 1 (never X or Z):
cocotb raises on reading an unresolved value, and a watcher checks error and the handshakes
every cycle.
"""

import os
import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge, with_timeout
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamMonitor, AxiStreamSink, AxiStreamSource


def read_frames(path):
    """Elements grouped into frames by their tlast flags."""
    frames, current = [], []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            value, last = line.split()
            current.append(int(value, 16))
            if last == "1":
                frames.append(current)
                current = []
    if current:
        frames.append(current)
    return frames


def pauses(percent, rng):
    """A pause generator: True (pause) in (100 - percent)% of cycles."""
    while True:
        yield rng.randrange(100) >= percent


def lanes(dut, prefix):
    """cocotbext-axi's byte_lanes for a side without tkeep: one element per beat."""
    return None if hasattr(dut, f"{prefix}_tkeep") else 1


async def watch_known(dut, role):
    """Every cycle after reset: the handshakes and error are 0 or 1."""
    names = ["s_axis_tready", "m_axis_tvalid"] + (["error"] if hasattr(dut, "error") else [])
    while True:
        await FallingEdge(dut.clk)
        for name in names:
            value = getattr(dut, name).value
            assert value.is_resolvable, f"{name} is {value} (X or Z) at {cocotb.utils.get_sim_time('ns')} ns"
        if role == "decoder" and hasattr(dut, "error"):
            assert int(dut.error.value) == 0, "error rose on a valid stream"


@cocotb.test()
async def reference_stream(dut):
    role = os.environ["HWGEN_ROLE"]
    inputs = read_frames(os.environ["HWGEN_INPUT"])
    expected = read_frames(os.environ["HWGEN_EXPECTED"])
    valid = int(os.environ.get("HWGEN_VALID", "100"))
    ready = int(os.environ.get("HWGEN_READY", "100"))
    rng = random.Random(int(os.environ.get("HWGEN_SEED", "1")))

    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis"), dut.clk, dut.rst, byte_lanes=lanes(dut, "s_axis"))
    sink = AxiStreamSink(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk, dut.rst, byte_lanes=lanes(dut, "m_axis"))
    in_monitor = AxiStreamMonitor(AxiStreamBus.from_prefix(dut, "s_axis"), dut.clk, dut.rst, byte_lanes=lanes(dut, "s_axis"))
    out_monitor = AxiStreamMonitor(AxiStreamBus.from_prefix(dut, "m_axis"), dut.clk, dut.rst, byte_lanes=lanes(dut, "m_axis"))
    if valid < 100:
        source.set_pause_generator(pauses(valid, rng))
    if ready < 100:
        sink.set_pause_generator(pauses(ready, rng))

    dut.rst.value = 1
    await ClockCycles(dut.clk, 3)
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    cocotb.start_soon(watch_known(dut, role))

    for frame in inputs:
        await source.send(AxiStreamFrame(frame))

    elements = sum(len(f) for f in expected) + sum(len(f) for f in inputs)
    budget = 200 * elements + 10_000
    for n, want in enumerate(expected):
        got = await with_timeout(sink.recv(), budget * 10, "ns")
        got_elements = list(got.tdata)
        if got_elements != want:
            first = next((i for i, (a, b) in enumerate(zip(got_elements, want)) if a != b), min(len(got_elements), len(want)))
            raise AssertionError(
                f"frame {n}: {len(got_elements)} elements, expected {len(want)}; first difference at element {first}: "
                f"{got_elements[first] if first < len(got_elements) else None!r} for {want[first] if first < len(want) else None!r}")
        # The monitor saw the same frame on the output bus.
        seen = await with_timeout(out_monitor.recv(), budget * 10, "ns")
        assert list(seen.tdata) == want, f"frame {n}: the output monitor saw another frame"

    # Every input element was taken, in order (the input monitor's view).
    taken = []
    while not in_monitor.empty():
        taken.extend(in_monitor.recv_nowait().tdata)
    assert taken == [e for f in inputs for e in f], f"{len(taken)} input elements taken of {sum(len(f) for f in inputs)}"
    await ClockCycles(dut.clk, 20)
    assert sink.empty(), "output beats after the last expected frame"
    dut._log.info("%s: %d frames, %d elements out, bit-exact", role, len(expected), sum(len(f) for f in expected))
