#!/usr/bin/env bash
# Reproduces the Fashion-MNIST scenes (segmentation) results in the README (about two hours on two cores):
# train -> distortion (fast) -> knapsack at 18/9/6/3% -> fine-tune each with distillation -> mean IoU, and
# the secure run of each network over TLS on test scenes against the fixed-point twin. Everything goes to
# results/scenes. Set EPOCHS / FT_EPOCHS / FT_LR / SECURE_SCENES for a shorter run (the README's rows: FT_EPOCHS=1
# and 4 at FT_LR=0.01, 6 at 0.03 for 6%; FT_EPOCHS=2 at 0.03 for 18%, 9% and 3%, whose files carry the suffix -2ep).
# The 6% rows at 10 and 14 epochs continue from the previous network (4 epochs at 0.03 each time), e.g.
#   si finetune --task segmentation --weights file:results/scenes/scenes-6pct-10ep.safetensors \
#     --spec file:results/scenes/spec-6pct.json --teacher file:results/scenes/scenes.safetensors \
#     --epochs 4 --lr 0.03 --batch 32 --out results/scenes/scenes-6pct-14ep.safetensors
set -euo pipefail
cd "$(dirname "$0")/.."
si() { pnpm -s si "$@"; }
R=results/scenes EPOCHS=${EPOCHS:-2} FT_EPOCHS=${FT_EPOCHS:-6} FT_LR=${FT_LR:-0.03} SECURE_SCENES=${SECURE_SCENES:-100} M=${SECURE_MODEL:-fmnist-scenes}
mkdir -p "$R"
[ -f "$R/scenes.safetensors" ] || si train --task segmentation --epochs "$EPOCHS" --batch 32 --seed 0 --out "$R/scenes.safetensors" > "$R/train.json"
W="file:$R/scenes.safetensors"
[ -f "$R/distortion-fast.json" ] || si distortion --task segmentation --weights "$W" --method fast --images 16 --out "$R/distortion-fast.json"
si accuracy --task segmentation --weights "$W" > "$R/miou-100pct.json"
si eval --task segmentation --model "$M" --weights "$W" --secure --limit "$SECURE_SCENES" --json --out "$R/secure-100pct.json" > /dev/null
for pct in 6 18 9 3; do
  b=$(printf '0.%02d' "$pct")
  si knapsack --task segmentation --distortion "$R/distortion-fast.json" --budget "$b" --out "$R/spec-${pct}pct.json" > "$R/knapsack-${pct}pct.json"
  [ -f "$R/scenes-${pct}pct.safetensors" ] || si finetune --task segmentation --weights "$W" --spec "file:$R/spec-${pct}pct.json" --teacher "$W" --epochs "$FT_EPOCHS" --lr "$FT_LR" --batch 32 --out "$R/scenes-${pct}pct.safetensors" > "$R/finetune-${pct}pct.json"
  si accuracy --task segmentation --weights "file:$R/scenes-${pct}pct.safetensors" --spec "file:$R/spec-${pct}pct.json" > "$R/miou-${pct}pct.json"
  si eval --task segmentation --model "$M" --weights "file:$R/scenes-${pct}pct.safetensors" --spec "file:$R/spec-${pct}pct.json" --secure --limit "$SECURE_SCENES" --json --out "$R/secure-${pct}pct.json" > /dev/null
done
echo "results in $R"
