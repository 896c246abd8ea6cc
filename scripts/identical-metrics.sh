#!/usr/bin/env bash
# Same numbers before and after a change (issue 23's check): short runs of every shipped preset.
#
#   scripts/identical-metrics.sh BIN OUT           train with the xtask binary BIN into OUT/
#   scripts/identical-metrics.sh --compare A B     compare two such folders
#
# A2C, ACER and PPO presets run 20 000 steps, SAC's 3 000 (learning_starts 1000), all with seed 3 and
# two evaluations. --compare checks metrics/train.csv (without its wall-clock column),
# episodes.csv, eval.csv and the final checkpoint's safetensors files byte for byte. Keep a copy
# of the old binary (cp target/debug/xtask /tmp/xtask-old) before building the new one.
set -euo pipefail

if [ "${1:-}" = "--compare" ]; then
  a=$2 b=$3 bad=0
  for d in "$a"/*/; do
    d=$(basename "$d")
    cmp -s <(sed 's/,[^,]*$//' "$a/$d/metrics/train.csv") <(sed 's/,[^,]*$//' "$b/$d/metrics/train.csv") \
      || { echo "DIFF $d train.csv"; bad=1; }
    for f in episodes.csv eval.csv; do
      cmp -s "$a/$d/metrics/$f" "$b/$d/metrics/$f" || { echo "DIFF $d $f"; bad=1; }
    done
    la=$(cat "$a/$d/checkpoints/LATEST") lb=$(cat "$b/$d/checkpoints/LATEST")
    for s in "$a/$d/checkpoints/$la"/*.safetensors; do
      cmp -s "$s" "$b/$d/checkpoints/$lb/$(basename "$s")" || { echo "DIFF $d $(basename "$s")"; bad=1; }
    done
  done
  [ $bad = 0 ] && echo "ALL IDENTICAL ($(ls -d "$a"/*/ | wc -l) runs)"
  exit $bad
fi

bin=$1 out=$2
rm -rf "$out" && mkdir -p "$out"
run() {
  local tag=$1; shift
  "$bin" train "$@" --seed 3 --no-progress --out "$out/$tag" >/dev/null 2>"$out/$tag.err" \
    || { echo "FAILED $tag (see $out/$tag.err)"; exit 1; }
}
for env in CartPole-v1 Acrobot-v1 MountainCar-v0 Pendulum-v1; do
  run "a2c-$env" a2c --env "$env" --steps 20000 --set run.eval_freq=10000
  run "acer-$env" acer --env "$env" --steps 20000 --set run.eval_freq=10000
done
run a2c-td a2c --preset CartPole-v1-td-actor-critic --steps 20000 --set run.eval_freq=10000
for env in CartPole-v1 Acrobot-v1 Pendulum-v1; do
  run "sac-$env" sac --env "$env" --steps 3000 --set run.eval_freq=1500 --set learning_starts=1000
done
run sac-v1 sac --preset Pendulum-v1-sac-v1 --steps 3000 --set run.eval_freq=1500 --set learning_starts=1000
for env in CartPole-v1 Acrobot-v1 Pendulum-v1 MountainCarContinuous-v0; do
  run "ppo-$env" ppo --env "$env" --steps 20000 --set run.eval_freq=10000
done
echo "$(ls -d "$out"/*/ | wc -l) runs in $out"
