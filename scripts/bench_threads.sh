#!/usr/bin/env bash
# Benchmark (not a test) of projection speed on a shared machine: the same
# `facemix project` run idle, beside one busy process (a shell loop), and as
# two facemix processes at once, for several threading modes; prints the
# median 32 px steps/s and wall seconds of REPS rounds as a Markdown table,
# with the load average before and after (the figures depend on it).
#
#   scripts/bench_threads.sh [FACEMIX]          # default: build/src/facemix
#   REPS=5 MODES="new old spin:10000" scripts/bench_threads.sh
#   BASELINE=/path/to/old/facemix MODES="new main" scripts/bench_threads.sh
#
# Modes: new    facemix's defaults (OMP_WAIT_POLICY and GOMP_SPINCOUNT unset)
#        old    GOMP_SPINCOUNT=300000: libgomp's built-in default, what facemix
#               ran with before it chose a wait policy
#        active OMP_WAIT_POLICY=ACTIVE (spin without limit)
#        spin:N GOMP_SPINCOUNT=N
#        main   the binary $BASELINE with both variables unset
# Other settings: MODEL, PHOTOS (two paths), SCHEDULE (default 32:100),
# THREADS (passed as --threads; default: facemix's own), REPS (default 3),
# NICE (e.g. -20, as root: run facemix and the busy loop at that priority, so
# that other work on a shared machine hardly disturbs the comparison).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
fm=${1:-"$here/build/src/facemix"}
model=${MODEL:-"$here/../shared/golden/small.safetensors"}
photos=${PHOTOS:-"$here/../shared/faces/congress_C001080.jpg $here/../shared/faces/congress_K000389_flag.jpg"}
schedule=${SCHEDULE:-32:100}
reps=${REPS:-3}
modes=${MODES:-"new old"}
threads_arg=()
[ -n "${THREADS:-}" ] && threads_arg=(--threads "$THREADS")
nice_cmd=()
[ -n "${NICE:-}" ] && nice_cmd=(nice -n "$NICE")

tmp=$(mktemp -d)
busy=""
cleanup() {
  if [ -n "$busy" ]; then kill "$busy" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# run MODE TAG: one projection in the background-safe form; writes
# "STEPS_PER_S WALL_S" (first stage's rate) to $tmp/TAG.result.
run() {
  local mode=$1 tag=$2 bin=$fm
  local -a env_args
  case $mode in
    new) env_args=(-u OMP_WAIT_POLICY -u GOMP_SPINCOUNT) ;;
    old) env_args=(-u OMP_WAIT_POLICY GOMP_SPINCOUNT=300000) ;;
    active) env_args=(-u GOMP_SPINCOUNT OMP_WAIT_POLICY=ACTIVE) ;;
    spin:*) env_args=(-u OMP_WAIT_POLICY "GOMP_SPINCOUNT=${mode#spin:}") ;;
    main) env_args=(-u OMP_WAIT_POLICY -u GOMP_SPINCOUNT); bin=${BASELINE:?mode main needs BASELINE} ;;
    *) echo "bench_threads: unknown mode $mode" >&2; exit 2 ;;
  esac
  mkdir -p "$tmp/$tag"
  local t0 t1
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086  # $photos is a list of paths
  "${nice_cmd[@]}" env "${env_args[@]}" "$bin" project $photos --model "$model" --schedule "$schedule" \
    --out-dir "$tmp/$tag" -y -v "${threads_arg[@]}" 2>"$tmp/$tag.log" >/dev/null \
    || { echo "bench_threads: facemix failed, see its log:" >&2; cat "$tmp/$tag.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  local sps
  sps=$(grep -o '[0-9.]* steps/s' "$tmp/$tag.log" | head -n 1 | cut -d' ' -f1)
  awk -v s="$sps" -v a="$t0" -v b="$t1" 'BEGIN { printf "%s %.2f\n", s, b - a }' >"$tmp/$tag.result"
}

echo "facemix: $fm ($(nproc) cores usable), schedule $schedule, $reps round(s)${NICE:+, nice $NICE}"
echo "load before: $(uptime)"
: >"$tmp/all"
for ((r = 1; r <= reps; r++)); do
  for mode in $modes; do
    run "$mode" "idle-$r"
    echo "$mode idle $(cat "$tmp/idle-$r.result")" >>"$tmp/all"

    "${nice_cmd[@]}" sh -c 'while :; do :; done' &
    busy=$!
    run "$mode" "busy-$r"
    kill "$busy"; wait "$busy" 2>/dev/null || true; busy=""
    echo "$mode busy $(cat "$tmp/busy-$r.result")" >>"$tmp/all"

    run "$mode" "pair-a-$r" & a=$!
    run "$mode" "pair-b-$r" & b=$!
    wait "$a"; wait "$b"
    # per process: the mean rate and the longer wall of the two
    paste "$tmp/pair-a-$r.result" "$tmp/pair-b-$r.result" |
      awk -v m="$mode" '{ printf "%s pair %.2f %.2f\n", m, ($1 + $3) / 2, ($2 > $4 ? $2 : $4) }' >>"$tmp/all"
  done
done
echo "load after:  $(uptime)"
echo "rounds (mode situation steps/s wall):"
cat "$tmp/all"
echo
# Medians per (mode, situation), then the slowdown against the same mode idle.
echo "| mode | situation | 32 px steps/s | wall s | slowdown vs idle |"
echo "| --- | --- | ---: | ---: | ---: |"
for mode in $modes; do
  for sit in idle busy pair; do
    med_s=$(awk -v m="$mode" -v s="$sit" '$1 == m && $2 == s { print $3 }' "$tmp/all" | sort -g |
      awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    med_w=$(awk -v m="$mode" -v s="$sit" '$1 == m && $2 == s { print $4 }' "$tmp/all" | sort -g |
      awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    [ "$sit" = idle ] && idle_s=$med_s
    awk -v m="$mode" -v s="$sit" -v r="$med_s" -v w="$med_w" -v i="$idle_s" \
      'BEGIN { printf "| %s | %s | %.1f | %.1f | %.2fx |\n", m, s, r, w, i / r }'
  done
done
