#!/usr/bin/env bash
# Peak memory and time of train, encode, decode and analyze on a large tensor (docs/BENCHMARKS.md).
#   scripts/big-input-bench.sh [DIR] [REPEATS]
# Builds DIR/acts.bf16.safetensors (default /tmp/hwgen-big; REPEATS = 70 copies of the four
# MiniLM FFN1 activation tensors of ../shared/data: 2,232,975,360 bytes, 1,116,487,680 bf16
# values), then runs each command with --stats on a release build and checks the decoded bytes.
# Needs about 3 times the input's size on disk.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/tmp/hwgen-big}
repeats=${2:-70}
data=${HWGEN_DATA:-../shared/data}/minilm_ffn1_acts_layers_1_4.bf16.safetensors
mkdir -p "$dir"
swift build -c release --product hwgen >/dev/null
hwgen=.build/release/hwgen
python3 - "$data" "$dir/acts.bf16.safetensors" "$repeats" <<'EOF'
import json, struct, sys
src, dst, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
b = open(src, 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
header = json.loads(b[8:8 + n])
data = b[8 + n:]
block = b''.join(data[v['data_offsets'][0]:v['data_offsets'][1]] for k, v in header.items() if k != '__metadata__')
total = len(block) * reps
h = json.dumps({"acts": {"dtype": "BF16", "shape": [total // 2], "data_offsets": [0, total]}}).encode()
h += b' ' * ((8 - len(h) % 8) % 8)
with open(dst, 'wb') as f:
    f.write(struct.pack('<Q', len(h)) + h)
    for _ in range(reps):
        f.write(block)
print(f"{dst}: {total + 8 + len(h)} bytes, {total // 2} bf16 values")
EOF
input=$dir/acts.bf16.safetensors
for coder in huffman tans; do
  echo "== $coder"
  "$hwgen" train --coder "$coder" --name big --stats -o "$dir/$coder.json" "$input" 2>&1 | grep -E "stats|wrote"
  "$hwgen" encode --codebook "$dir/$coder.json" --stats "$input" -o "$dir/$coder.hwgs" 2>&1
  "$hwgen" decode --stats "$dir/$coder.hwgs" -o "$dir/$coder.bin" 2>&1
  "$hwgen" analyze --codebook "$dir/$coder.json" --totals --stats "$input" 2>&1 >/dev/null
  header=$(python3 -c "import struct,sys; print(8 + struct.unpack('<Q', open(sys.argv[1], 'rb').read(8))[0])" "$input")
  if tail -c +$((header + 1)) "$input" | cmp -s - "$dir/$coder.bin"; then echo "decoded: BYTE-EXACT"; else echo "decoded: DIFFERS"; exit 1; fi
  rm -f "$dir/$coder.bin"
done
