#!/usr/bin/env bash
# A Slurm cluster of two simulated nodes (tests/cluster/two_nodes.sh): slurmctld and one
# slurmd on node A, a second slurmd on node B, each slurmd started with its node's name (-N)
# inside its namespace, talking over the veth pair (auth/none, MpiDefault=pmix). Checked:
#   - `srun -N 2 --ntasks-per-node 2` places 2 tasks on each node, and what each task sees
#     of its node (SLURM_NODEID, SLURM_LOCALID, the step's tasks per node);
#   - launch/slurm/dcomp-oneshot.sbatch submitted with --nodes=2 --ntasks-per-node=2 runs
#     `dcomp oneshot` (GPTQ W4A16, TinyStories-656K) as 4 MPI ranks through srun --mpi=pmix,
#     2 on each node, and writes the same bytes as 1 rank without Slurm, and so does
#     `srun -N 2 -n 4` of dcomp; in both, dcomp counts the 2 ranks on its node (a step
#     without --ntasks-per-node has no SLURM_NTASKS_PER_NODE: its layout says it);
#   - nothing is left running on either node after the job; the daemons are stopped by PID.
# Usage: slurm_two_nodes_test.sh <dcomp binary> <repo root> <shared data folder>
set -euo pipefail
dcomp="$(realpath "$1")"; repo="$2"; data="$3"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null; then
  echo "slurm-wlm is not installed (launch/test.sh installs it)"; exit 1
fi
model="$data/tinystories-656k"
[ -d "$model" ] || { echo "SKIP: shared data folder not found: $data"; exit 77; }
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/two_nodes.sh"
source "$here/../support/same_checkpoint.sh"
fail() { echo "FAIL: $*"; exit 1; }
two_nodes_setup

# On the shared folder: each node has its own /tmp (Slurm's PMIx plugin makes the same
# /tmp/spmix_appdir_<uid>_<job>.<step> on every node of a step).
dir="$(mktemp -d "$TWO_NODES_SHARED/slurm.XXXXXX")"
mkdir -p "$dir"/{state,log,out} "$dir/spool/$TWO_NODES_NODE_A" "$dir/spool/$TWO_NODES_NODE_B"
# shellcheck source=tests/support/slurm_conf.sh
source "$here/../support/slurm_conf.sh"
{
  DCOMP_SLURMCTLD_PORT=16817 DCOMP_SLURMD_PORT=16818 slurm_test_conf "$dir" dcomptwo \
    "$TWO_NODES_NODE_A($TWO_NODES_ADDR_A)" "$dir/slurmd-%n.pid" "$dir/log/slurmd-%n.log"
  echo "NodeName=$TWO_NODES_NODE_A NodeAddr=$TWO_NODES_ADDR_A CPUs=2 RealMemory=2000 State=UNKNOWN"
  echo "NodeName=$TWO_NODES_NODE_B NodeAddr=$TWO_NODES_ADDR_B CPUs=2 RealMemory=2000 State=UNKNOWN"
  echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
} >"$dir/slurm.conf"
export SLURM_CONF="$dir/slurm.conf"
# The ranks srun starts take Open MPI's settings from the environment: TCP over the link between
# the nodes, whatever the caller set (the test suite keeps single-node jobs on shared memory).
export OMPI_MCA_btl=tcp,self OMPI_MCA_btl_tcp_if_include="$TWO_NODES_IFACE" \
  OMPI_MCA_oob_tcp_if_include="$TWO_NODES_IFACE"
# Slurm's commands run on node A: only there is the controller's address reachable.
on_a() { on_node "$TWO_NODES_NODE_A" "$@"; }

# The daemons run in the foreground (-D) as background jobs of this shell, each the same
# process as its on_node.sh (which execs): stopped by these PIDs, the slurmds first.
daemons=()
stop_daemons() {
  local pid
  for pid in "${daemons[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${daemons[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$dir"
}
two_nodes_at_exit stop_daemons
on_a slurmctld -D -f "$SLURM_CONF" >"$dir/log/slurmctld.out" 2>&1 &
daemons=("$!" "${daemons[@]}")
on_node "$TWO_NODES_NODE_A" slurmd -D -f "$SLURM_CONF" -N "$TWO_NODES_NODE_A" >"$dir/log/slurmd-a.out" 2>&1 &
daemons=("$!" "${daemons[@]}")
on_node "$TWO_NODES_NODE_B" slurmd -D -f "$SLURM_CONF" -N "$TWO_NODES_NODE_B" >"$dir/log/slurmd-b.out" 2>&1 &
daemons=("$!" "${daemons[@]}")
idle=""
for _ in $(seq 150); do
  idle=$(on_a sinfo -h -N -t idle -o '%N' 2>/dev/null | sort | tr '\n' ' ')
  [ "$idle" = "$TWO_NODES_NODE_A $TWO_NODES_NODE_B " ] && break
  sleep 0.2
done
[ "$idle" = "$TWO_NODES_NODE_A $TWO_NODES_NODE_B " ] || { tail -n 20 "$dir"/log/*; fail "the two Slurm nodes did not become idle (idle: '$idle')"; }
echo "slurmctld on $TWO_NODES_NODE_A, slurmd on $TWO_NODES_NODE_A and $TWO_NODES_NODE_B: both idle"

# What each task of a 2 x 2 step sees of its node.
on_a srun -N 2 --ntasks-per-node 2 --mpi=pmix sh -c \
  'echo "$(hostname) rank=$SLURM_PROCID node=$SLURM_NODEID local=$SLURM_LOCALID step_tasks_per_node=$SLURM_STEP_TASKS_PER_NODE ntasks_per_node=${SLURM_NTASKS_PER_NODE:-unset}"' \
  | sort -t= -k2 -n >"$dir/tasks.txt" || { cat "$dir/tasks.txt"; fail "srun -N 2 --ntasks-per-node 2 failed"; }
cat "$dir/tasks.txt"
placement=$(cut -d' ' -f1 "$dir/tasks.txt" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')
[ "$placement" = "$TWO_NODES_NODE_A=2 $TWO_NODES_NODE_B=2 " ] || fail "srun did not place 2 tasks on each node: $placement"
[ "$(cut -d' ' -f4 "$dir/tasks.txt" | tr '\n' ' ')" = "local=0 local=1 local=0 local=1 " ] ||
  fail "node-local task ids are not 0 and 1 on each node"

# The batch template on 2 nodes x 2 tasks, against 1 rank without Slurm.
dataset="$data/text/tinystories_valid_sample.txt"
"$dcomp" --log-level warn oneshot --model "$model" --scheme W4A16 --dataset "$dataset" \
  --num-calibration-samples 8 --max-seq-length 128 --threads 1 --output "$dir/out/reference"
output="$dir/out/tinystories-w4a16"
started=$(date +%s)
job=$(on_a sbatch --parsable --wait --nodes=2 --ntasks-per-node=2 --cpus-per-task=1 --chdir="$dir" \
  --output="$dir/job-%j.out" \
  --export=ALL,DCOMP_BIN="$dcomp",DCOMP_MODEL="$model",DCOMP_OUTPUT="$output",DCOMP_SCHEME=W4A16,DCOMP_DATASET="$dataset",DCOMP_SAMPLES=8,DCOMP_MAX_SEQ_LENGTH=128 \
  "$repo/launch/slurm/dcomp-oneshot.sbatch") || { cat "$dir"/job-*.out; tail -n 30 "$dir"/log/slurmd-*.log; fail "sbatch failed"; }
cat "$dir/job-$job.out"
echo "job $job took $(( $(date +%s) - started )) s"
grep -q "on 2 node(s), 4 rank(s)" "$dir/job-$job.out" || fail "the job did not run on 2 nodes with 4 ranks"
grep -q "rank 0/4 (mpi backend)" "$dir/job-$job.out" || fail "dcomp did not start as 4 MPI ranks"
same_checkpoint "$dir/out/reference" "$output"
grep -q "Hessians inline with the forward passes: 2 rank(s) on this node, 1 thread(s) each" "$dir/job-$job.out" ||
  fail "dcomp did not count 2 ranks on its node"
echo "2 nodes x 2 ranks under Slurm wrote the same bytes as 1 rank"

# srun without --ntasks-per-node (SLURM_NTASKS_PER_NODE unset): 2 ranks per node all the
# same, read from the step's layout; the same bytes again.
on_a srun -N 2 -n 4 --mpi=pmix --kill-on-bad-exit=1 "$dcomp" oneshot --model "$model" --scheme W4A16 \
  --dataset "$dataset" --num-calibration-samples 8 --max-seq-length 128 --threads 1 \
  --output "$dir/out/srun-n4" >"$dir/srun-n4.log" 2>&1 || { cat "$dir/srun-n4.log"; fail "srun -N 2 -n 4 dcomp failed"; }
grep "Hessians" "$dir/srun-n4.log"
grep -q "Hessians inline with the forward passes: 2 rank(s) on this node" "$dir/srun-n4.log" ||
  fail "with srun -N 2 -n 4, dcomp did not count 2 ranks on its node"
same_checkpoint "$dir/out/reference" "$dir/out/srun-n4"
echo "srun -N 2 -n 4: 2 ranks on each node seen, the same bytes as 1 rank"

left=""
for _ in $(seq 100); do
  left=$(pgrep -x dcomp | while read -r pid; do
    tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "SLURM_JOB_ID=$job" && echo -n " $pid"; done || true)
  [ -z "$left" ] && break
  sleep 0.1
done
[ -z "$left" ] || fail "ranks of job $job left behind:$left"
echo "slurm two-node test passed"
