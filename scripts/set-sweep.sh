#!/usr/bin/env bash
# Codebook sets against separate cores (issue 28): trains sets of 1, 2, 4 and 8 codebooks (CODER=huffman or tans)
# on the bundled MiniLM data (`hwgen train --set`), synthesises each set's decoder and encoder and
# every member's own cores (scripts/synth.sh: Xilinx LUTs from Yosys, ECP5-85k grade 6 through
# nextpnr), and prints per set and role the set core against its members as separate cores
# (LUTs, flip-flops and block RAMs summed, the slowest member's Fmax).
# With LOADABLE=1, each role's loadable core (`--loadable`, where built) too; SEPARATE=0 leaves the
# separate cores out; MEMBERS="1 8" picks the set sizes.
#   scripts/set-sweep.sh            (HWGEN=..., CODER=huffman, WORK=build/set-sweep, SEEDS="1 2 3", FIGURES=file.csv,
#                                    LOADABLE=0, SEPARATE=1, MEMBERS="1 2 4 8", ROLES="decoder encoder")
set -euo pipefail
HWGEN=${HWGEN:-build/bin/hwgen}
HWGEN=$(cd "$(dirname "$HWGEN")" && pwd)/$(basename "$HWGEN")
CODER=${CODER:-huffman}
WORK=${WORK:-build/set-sweep-$CODER}
DATA=${DATA:-../shared/data}
export SEEDS=${SEEDS:-1} SMALL_DEVICES=0
weights=$DATA/minilm_weights_layers_1_4.bf16.safetensors
acts=$DATA/minilm_ffn1_acts_layers_1_4.bf16.safetensors
rm -rf "$WORK"; mkdir -p "$WORK"; WORK=$(cd "$WORK" && pwd)

train() { # train NAME GROUP...: a set of one codebook per --group (none: one pooled codebook)
  local name=$1; shift
  "$HWGEN" train --set --coder "$CODER" --name "$name" "$@" -o "$WORK/$name.json" "$weights" "$acts" >"$WORK/$name.report" 2>/dev/null
  tail -1 "$WORK/$name.report"
}
train set1
train set2 --group weights='weight|bias' --group acts=gelu
train set4 --group pre=pre_gelu --group post=post_gelu --group attn=attention --group ffn=.
train set8 --group pre1='layer\.1\..*pre_gelu' --group pre4=pre_gelu --group post1='layer\.1\..*post_gelu' --group post4=post_gelu \
           --group attn1='layer\.1\.attention' --group attn4=attention --group ffn1='layer\.1\.' --group ffn4=.

figures() { # figures RTL TOP: "xilinx_luts lut4 ffs bram fmax" of one core
  local table; table=$(scripts/synth.sh "$1" "$2" "$1/work")
  local x e
  x=$(echo "$table" | grep '^| Xilinx' | awk -F'|' '{ gsub(/ /, ""); print $3 }')
  e=$(echo "$table" | grep '^| ECP5 85k' | awk -F'|' '{ gsub(/^ +| +$/, "", $3); gsub(/^ +| +$/, "", $4); gsub(/^ +| +$/, "", $5); gsub(/^ +| +$/, "", $6); split($6, f, " "); print $3, $4, $5, f[1] }')
  echo "$x $e"
}

csv=${FIGURES:-$WORK/sets.csv}
echo "coder,members,role,kind,xilinx_luts,lut4,ffs,bram,fmax_mhz" >"$csv"
for m in ${MEMBERS:-1 2 4 8}; do
  set=$WORK/set$m.json
  for role in ${ROLES:-decoder encoder}; do
    rtl=$WORK/set${m}_$role; mkdir -p "$rtl"
    "$HWGEN" --set "$set" --$role --output "$rtl" >/dev/null
    read -r x l f b fmax <<<"$(figures "$rtl" "set${m}_$role")"
    echo "$CODER,$m,$role,set,$x,$l,$f,$b,$fmax" >>"$csv"
    if [ "${LOADABLE:-0}" = 1 ] && "$HWGEN" --set "$set" --loadable --$role --output "$rtl-loadable" >/dev/null 2>&1; then
      read -r x l f b fmax <<<"$(figures "$rtl-loadable" "set${m}_$role")"
      echo "$CODER,$m,$role,loadable,$x,$l,$f,$b,$fmax" >>"$csv"
      echo "set of $m, $role, loadable: $(tail -1 "$csv")"
    fi
    [ "${SEPARATE:-1}" = 1 ] || { echo "set of $m, $role: $(grep ",$m,$role,set," "$csv")"; continue; }
    # Each member as a core of its own.
    sx=0; sl=0; sf=0; sb=0; smin=""
    for id in $(seq 0 $((m - 1))); do
      book=$WORK/set${m}_member$id.json
      python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); json.dump(s["codebooks"][int(sys.argv[2])], open(sys.argv[3], "w"), indent=1)' "$set" "$id" "$book"
      name=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["name"])' "$book")
      mrtl=$WORK/set${m}_member${id}_$role; mkdir -p "$mrtl"
      "$HWGEN" --codebook "$book" --$role --output "$mrtl" >/dev/null
      read -r x l f b fmax <<<"$(figures "$mrtl" "${name}_$role")"
      sx=$((sx + x)); sl=$((sl + l)); sf=$((sf + f)); sb=$((sb + b))
      smin=$(awk -v a="$smin" -v b="$fmax" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }')
    done
    echo "$CODER,$m,$role,separate,$sx,$sl,$sf,$sb,$smin" >>"$csv"
    echo "set of $m, $role: $(grep ",$m,$role,set," "$csv") | separate: $(tail -1 "$csv")"
  done
done
echo "wrote $csv"
