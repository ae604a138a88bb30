#!/usr/bin/env bash
# Figures of the frame-engine cores (FORMAT.md section 12): for each bundled one-lane book
# (Huffman, tANS), role (decoder, encoder) and N, the values per cycle measured under Verilator on
# the whole layer-4 pre-GELU tensor, and synthesis for ECP5-85k grade 6 (Yosys, nextpnr, seeds
# $SEEDS, wide ports through --pin-wrapper) and Xilinx 7 LUT counts. One CSV line per core goes to
# FIGURES (docs/figures/cores.csv by default), replacing an older line of the same core.
#   scripts/engine-sweep.sh [N ...]          (default: 1 2 4 8 16)
# BOOKS="huffman tans" ROLES="decoder encoder" SEEDS="1 2 3" select; SIM=0 skips the simulation;
# FRAME=1024 sizes the buffers for (and simulates) frames of that many values instead of 4,096,
# recorded as kind "engines f1024"; WORDS=Q gives Q words per beat (kind "engines q16", say);
# INTERLEAVE=2 makes each tANS encoder engine code two frames at once (kind "engines i2");
# SHARED=1 or SHARED=0 forces shared banks or a FIFO per engine (kind "engines shared" or "engines fifo").
set -euo pipefail
cd "$(dirname "$0")/.."
hwgen=${HWGEN:-.build/release/hwgen}
[ -x "$hwgen" ] || swift build -c release --product hwgen >/dev/null
figures=${FIGURES:-docs/figures/cores.csv}
data=${HWGEN_DATA:-../shared/data}/minilm_ffn1_acts_layers_1_4.bf16.safetensors
counts=("$@"); [ ${#counts[@]} -gt 0 ] || counts=(1 2 4 8 16)
books=${BOOKS:-huffman tans}
roles=${ROLES:-decoder encoder}
frame=${FRAME:-4096}
options=(); suffix=""
[ "$frame" = 4096 ] || suffix=" f$frame"
[ -z "${WORDS:-}" ] || { options=(--words-per-beat "$WORDS"); suffix="$suffix q$WORDS"; }
interleave=()
case "${SHARED:-}" in
  1) options+=(--shared-buffers); suffix="$suffix shared" ;;
  0) options+=(--no-shared-buffers); suffix="$suffix fifo" ;;
esac
[ "${INTERLEAVE:-1}" = 1 ] || { interleave=(--interleave "$INTERLEAVE"); suffix="$suffix i$INTERLEAVE"; }
kind="engines$suffix"    # the figures' kind; the work folders' names end in the suffix too
export SEEDS=${SEEDS:-1 2 3} SMALL_DEVICES=0
mkdir -p "$(dirname "$figures")"
[ -f "$figures" ] || echo "kind,coder,role,N,xilinx_luts,lut4,ffs,bram,fmax_mhz,fmax_range,seeds,values_per_cycle" >"$figures"

for book in $books; do
  json=examples/minilm_ffn1_$book.json
  for role in $roles; do
    for n in "${counts[@]}"; do
      name="engines-$book-$role-n$n${suffix// /-}"
      # (Two frames in flight are an encoder's: decoders are built as they are.)
      flags=("${options[@]}"); [ "$role" = decoder ] || flags+=("${interleave[@]}")
      rtl=build/sweep/$name/rtl && rm -rf "$rtl" && mkdir -p "$rtl"
      "$hwgen" generate --codebook "$json" --"$role" --engines "$n" --max-frame "$frame" "${flags[@]}" --pin-wrapper --output "$rtl" >/dev/null
      top=$(cd "$rtl" && ls *_"$role"_pins.v | sed 's/\.v$//')
      vpc=-
      if [ "${SIM:-1}" = 1 ]; then
        # The whole layer-4 tensor (3,987,456 values), frames of $frame, full rate.
        vpc=$("$hwgen" sim --codebook "$json" --engines "$n" --frame-size "$frame" "${flags[@]}" --limit 4000000 --tensors 'layer\.4\..*pre_gelu' "$data" |
              grep "_$role:" | sed -E 's/.* ([0-9.]+) values\/cycle.*/\1/')
      fi
      echo "== $name: $vpc values/cycle"
      out=$(scripts/synth.sh "$rtl" "$top" "build/sweep/$name/synth")
      echo "$out"
      xl=$(echo "$out" | awk -F'|' '/Xilinx/ { gsub(/ /, "", $3); print $3 }')
      row=$(echo "$out" | grep 'ECP5 85k')
      lut4=$(echo "$row" | awk -F'|' '{ gsub(/ /, "", $3); print $3 }')
      ffs=$(echo "$row" | awk -F'|' '{ gsub(/ /, "", $4); print $4 }')
      bram=$(echo "$row" | awk -F'|' '{ gsub(/ /, "", $5); print $5 }')
      fmax=$(echo "$row" | awk -F'|' '{ print $6 }' | sed -E 's/^ *([0-9.]+).*/\1/')
      range=$(echo "$row" | awk -F'|' '{ print $6 }' | sed -nE 's/.*\(([0-9.]+-[0-9.]+).*/\1/p')
      # A core that did not place or route has no figures line (the log above says why).
      if ! [[ "$fmax" =~ ^[0-9.]+$ ]]; then echo "== $name: no Fmax, not recorded"; continue; fi
      # Without a simulation, the figure measured before stays.
      [ "$vpc" != - ] || vpc=$(awk -F, -v k="$kind" -v b="$book" -v r="$role" -v n="$n" '$1 == k && $2 == b && $3 == r && $4 == n { print $12 }' "$figures")
      grep -v "^$kind,$book,$role,$n," "$figures" >"$figures.tmp" || true
      echo "$kind,$book,$role,$n,$xl,$lut4,$ffs,$bram,$fmax,${range:-$fmax},$(echo $SEEDS | tr ' ' '/'),$vpc" >>"$figures.tmp"
      mv "$figures.tmp" "$figures"
    done
  done
done
echo "figures: $figures"
