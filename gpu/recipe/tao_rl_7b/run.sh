#!/usr/bin/env bash
# TAO-RL, the paper's 7B setup, on verl b178a3cd (gpu/VERL_PIN). Run from the taorl repository root on the
# Ray head node, with verl (and its vLLM, Ray, hydra) installed at that commit, after:
#   taorl serve --port 8787 &                              # the code sandbox (SandboxFusion POST /run_code)
#   taorl export verl --out data/verl --task-count 4096    # parquet in verl's RL dataset schema
# Settings: gpu/recipe/tao_rl_7b/tao_rl_7b.yaml. Extra arguments are hydra overrides, e.g.
#   gpu/recipe/tao_rl_7b/run.sh trainer.nnodes=4 trainer.total_training_steps=200
# Environment: MODEL_PATH (Qwen/Qwen2.5-7B), DATA_DIR (data/verl), TRAIN_FILES (DATA_DIR/task_train.parquet),
# TAORL_SANDBOX_URL (http://127.0.0.1:8787), VAL_ONLY=1 to only evaluate (10 turns, TAO-RL.md §6).
# On a multi-node cluster every node needs the same PYTHONPATH, VERL_USE_EXTERNAL_MODULES and sandbox URL.
set -euo pipefail

ROOT=$(pwd)
[ -f "$ROOT/gpu/VERL_PIN" ] || { echo "run.sh: run from the taorl repository root" >&2; exit 2; }
MODEL_PATH=${MODEL_PATH:-Qwen/Qwen2.5-7B}
DATA_DIR=$(cd "${DATA_DIR:-data/verl}" && pwd)
TRAIN_FILES=${TRAIN_FILES:-$DATA_DIR/task_train.parquet}

# Validation: the paper's benchmarks that `taorl export verl` found, else the task family's test split.
val=()
for name in aime24 aime25 math500 olympiadbench amc23 minerva; do
  [ -f "$DATA_DIR/$name.parquet" ] && val+=("'$DATA_DIR/$name.parquet'")
done
[ ${#val[@]} -gt 0 ] || val=("'$DATA_DIR/task_test.parquet'")
VAL_FILES="[$(IFS=,; echo "${val[*]}")]"

export TAORL_SANDBOX_URL=${TAORL_SANDBOX_URL:-http://127.0.0.1:8787}
export PYTHONPATH="$ROOT/gpu${PYTHONPATH:+:$PYTHONPATH}"
# Registers the agent loop "taorl_tir" in the driver and in every verl worker.
export VERL_USE_EXTERNAL_MODULES=taorl_verl.verl_plugin.agent_loop

curl -fsS "$TAORL_SANDBOX_URL/health" >/dev/null || { echo "run.sh: no sandbox at $TAORL_SANDBOX_URL (taorl serve)" >&2; exit 2; }

mode=()
if [ "${VAL_ONLY:-0}" = 1 ]; then
  mode=(trainer.val_only=true trainer.val_before_train=true tao.max_turns=10)
fi

exec python3 -m taorl_verl.verl_plugin.main_tao \
  actor_rollout_ref.model.path="$MODEL_PATH" \
  data.train_files="['$TRAIN_FILES']" \
  data.val_files="$VAL_FILES" \
  custom_reward_function.path="$ROOT/gpu/taorl_verl/verl_plugin/reward.py" \
  trainer.default_local_dir="$ROOT/checkpoints/tao_rl_qwen2.5_7b" \
  ${mode[@]+"${mode[@]}"} "$@"
