#!/bin/bash
# pair.sh GROUP ARG N: run GROUP (see drv.py) N times, before and after interleaved (the order
# alternates), appending one JSON line per run to $BA/results.jsonl. Checkouts with their own
# venvs in $WT/wt-before and $WT/wt-after (git worktree add --detach …; pip install -e '.[dev]').
BA=${BA:-/tmp/ba}; WT=${WT:-..}; HERE=$(cd "$(dirname "$0")" && pwd)
g=$1; a=$2; n=$3
mkdir -p "$BA"
for i in $(seq 1 "$n"); do
  if [ $((i % 2)) -eq 1 ]; then order="before after"; else order="after before"; fi
  for v in $order; do
    t0=$(date +%s)
    r=$(cd "$WT/wt-$v" && .venv/bin/python "$HERE/drv.py" "$g" "$BA/work-$v" "$a" 2>>"$BA/err-$v.log" | grep '^RESULT ' | sed 's/^RESULT //')
    echo "{\"group\":\"$g\",\"v\":\"$v\",\"i\":$i,\"wall\":$(( $(date +%s)-t0 )),\"r\":${r:-null}}" | tee -a "$BA/results.jsonl"
  done
done
