#!/usr/bin/env bash
# Reproduces the Fashion-MNIST results in the README (several hours on two cores):
# train -> distortion (exact and fast) -> knapsack at 18/9/6/3% -> fine-tune each -> accuracy and traffic,
# and the secure run of the 6% network on all 10,000 test images. Shipped files go to packages/cli/assets,
# everything else to results/fmnist. Fine-tuning distils from the all-ReLU network (--teacher): 16 epochs at
# 6% (the shipped network), 2 epochs at 18/9/3%.
set -euo pipefail
cd "$(dirname "$0")/.."
si() { pnpm -s si "$@"; }
A=packages/cli/assets R=results/fmnist
mkdir -p "$A" "$R"
[ -f "$A/fmnist-resnet.safetensors" ] || si train --epochs 6 --seed 0 --out "$A/fmnist-resnet.safetensors"
W="file:$A/fmnist-resnet.safetensors"
[ -f "$R/distortion-exact.json" ] || si distortion --weights "$W" --method exact --images 16 --out "$R/distortion-exact.json"
[ -f "$R/distortion-fast.json" ] || si distortion --weights "$W" --method fast --images 16 --out "$R/distortion-fast.json"
si compare-distortion "$R/distortion-exact.json" "$R/distortion-fast.json" --json > "$R/distortion-compare.json"
si accuracy --weights "$W" > "$R/accuracy-100pct.json"
for pct in 18 9 6 3; do
  b=$(printf '0.%02d' "$pct")
  epochs=2; [ "$pct" = 6 ] && epochs=16
  si knapsack --distortion "$R/distortion-exact.json" --budget "$b" --out "$R/spec-${pct}pct.json" > "$R/knapsack-${pct}pct.json"
  si finetune --weights "$W" --spec "file:$R/spec-${pct}pct.json" --teacher "$W" --epochs "$epochs" --out "$R/fmnist-resnet-${pct}pct.safetensors" > "$R/finetune-${pct}pct.json"
  si accuracy --weights "file:$R/fmnist-resnet-${pct}pct.safetensors" --spec "file:$R/spec-${pct}pct.json" > "$R/accuracy-${pct}pct.json"
  si eval --weights "file:$R/fmnist-resnet-${pct}pct.safetensors" --spec "file:$R/spec-${pct}pct.json" --secure --limit 100 --json --out "$R/secure-100-${pct}pct.json" > /dev/null
done
si eval --weights "$W" --secure --limit 100 --json --out "$R/secure-100-100pct.json" > /dev/null
cp "$R/fmnist-resnet-6pct.safetensors" "$A/fmnist-resnet-6pct.safetensors"
cp "$R/spec-6pct.json" "$A/fmnist-resnet-6pct.spec.json"
si eval --weights "file:$A/fmnist-resnet-6pct.safetensors" --spec "file:$A/fmnist-resnet-6pct.spec.json" --secure --json --out "$R/secure-10000-6pct.json" > /dev/null
echo "results in $R"
