#!/usr/bin/env bash
# Starts a real single-node Slurm cluster on localhost (slurmctld + slurmd,
# auth/none, config in a temporary folder), submits launch/slurm's batch
# template for a 2-rank CPU run of `dcomp oneshot`, waits, checks the output
# checkpoint; then submits a 2-rank run with --collective-timeout 5, stops rank 1
# (SIGSTOP) once two layers are saved, and expects the job to end within 60 s with
# exit code 75, naming rank 1, with the temporary folder kept and no rank left
# behind; and stops the daemons by PID.
# Usage: slurm_oneshot_test.sh <dcomp binary> <repo root> <shared data folder>
set -euo pipefail
dcomp="$1"; repo="$2"; data="$3"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null; then
  echo "slurm-wlm is not installed (launch/test.sh installs it)"; exit 1
fi
model="$data/tinystories-656k"
if [ ! -d "$model" ]; then echo "SKIP: shared data folder not found: $data"; exit 77; fi

dir="$(mktemp -d /tmp/dcomp-slurm.XXXXXX)"
mkdir -p "$dir"/{state,spool,log}
cpus="$(nproc)"
# shellcheck source=tests/support/slurm_conf.sh
source "$repo/tests/support/slurm_conf.sh"
{
  slurm_test_conf "$dir" dcomptest localhost "$dir/slurmd.pid" "$dir/log/slurmd.log"
  echo "NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=4000 State=UNKNOWN"
  echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
} >"$dir/slurm.conf"
mkdir -p "$dir/spool/localhost"
export SLURM_CONF="$dir/slurm.conf"

stop_daemons() {
  for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid"; do
    if [ -f "$pidfile" ]; then kill -TERM "$(cat "$pidfile")" 2>/dev/null || true; fi
  done
  for _ in $(seq 50); do
    [ -f "$dir/slurmd.pid" ] || [ -f "$dir/slurmctld.pid" ] || break
    sleep 0.2
  done
  rm -rf "$dir"
}
trap stop_daemons EXIT

slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N localhost
for _ in $(seq 100); do
  if sinfo -h -o '%t' 2>/dev/null | grep -q idle; then break; fi
  sleep 0.2
done
sinfo -h -o '%t' | grep -q idle || { echo "the Slurm node did not become idle"; cat "$dir/log/"*.log; exit 1; }

output="$dir/out/tinystories-w4a16"
export OMPI_MCA_btl=self,vader OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$dir/out"
job=$(sbatch --parsable --wait --nodes=1 --ntasks-per-node=2 --cpus-per-task=1 --chdir="$dir" \
  --output="$dir/job-%j.out" \
  --export=ALL,DCOMP_BIN="$dcomp",DCOMP_MODEL="$model",DCOMP_OUTPUT="$output",DCOMP_SCHEME=W4A16,DCOMP_DATASET="$data/text/tinystories_valid_sample.txt",DCOMP_SAMPLES=8,DCOMP_MAX_SEQ_LENGTH=128 \
  "$repo/launch/slurm/dcomp-oneshot.sbatch") || { echo "sbatch failed"; cat "$dir"/job-*.out; exit 1; }
cat "$dir/job-$job.out"
grep -q "2 rank(s)" "$dir/job-$job.out" || { echo "the job did not run 2 ranks"; exit 1; }
grep -q "rank 0/2 (mpi backend)" "$dir/job-$job.out" || { echo "dcomp did not start as 2 MPI ranks"; exit 1; }
[ -f "$output/config.json" ] || { echo "no output checkpoint at $output"; exit 1; }
grep -q '"quant_method": "compressed-tensors"' "$output/config.json" || { echo "config.json has no quantization_config"; exit 1; }
ls "$output"/*.safetensors >/dev/null
echo "slurm oneshot job $job passed"

# A hung rank: rank 1 of a running job is stopped; rank 0's collective watchdog ends the job.
"$dcomp" create-model --output "$dir/model24" --layers 24 --hidden-size 512 --intermediate-size 1536 \
  --heads 8 --kv-heads 4 --write-text "$dir/text24.txt" >/dev/null
stopped_output="$dir/out/stopped"
job=$(sbatch --parsable --nodes=1 --ntasks-per-node=2 --cpus-per-task=1 --chdir="$dir" \
  --output="$dir/job-%j.out" \
  --export=ALL,DCOMP_BIN="$dcomp",DCOMP_MODEL="$dir/model24",DCOMP_OUTPUT="$stopped_output",DCOMP_SCHEME=W4A16,DCOMP_DATASET="$dir/text24.txt",DCOMP_SAMPLES=16,DCOMP_MAX_SEQ_LENGTH=256,DCOMP_EXTRA_ARGS="--collective-timeout 5" \
  "$repo/launch/slurm/dcomp-oneshot.sbatch") || { echo "sbatch failed"; exit 1; }
log="$dir/job-$job.out"
job_ranks() {  # the dcomp processes of this job, as "<pid>:<rank>"
  for pid in $(pgrep -x dcomp || true); do
    environment=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null || true)
    grep -qx "SLURM_JOB_ID=$job" <<<"$environment" || continue
    echo "$pid:$(sed -n 's/^SLURM_PROCID=//p' <<<"$environment")"
  done
}
for _ in $(seq 900); do
  grep -q "layer 2/" "$log" 2>/dev/null && break
  sleep 0.1
done
victim=$(job_ranks | sed -n 's/:1$//p')
[ -n "$victim" ] || { echo "rank 1 of job $job not found"; cat "$log"; scancel "$job"; exit 1; }
kill -STOP "$victim"
stopped_at=$(date +%s)
state=""
for _ in $(seq 600); do
  state=$(scontrol show job "$job" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
  case "$state" in PENDING|RUNNING|COMPLETING|"") sleep 0.1 ;; *) break ;; esac
done
elapsed=$(( $(date +%s) - stopped_at ))
exit_code=$(scontrol show job "$job" 2>/dev/null | sed -n 's/.* ExitCode=\([0-9]*\):.*/\1/p')
leftover=""
for _ in $(seq 50); do  # Slurm ends the job's tasks; give it 5 s
  leftover=$(job_ranks | cut -d: -f1 | tr '\n' ' ')
  [ -n "$leftover" ] || break
  sleep 0.1
done
for pid in $leftover; do kill -CONT "$pid" 2>/dev/null || true; kill -9 "$pid" 2>/dev/null || true; done
echo "job $job ended ($state, exit code $exit_code) $elapsed s after SIGSTOP of rank 1"
grep "collective timeout" "$log" || true
[ "$state" != RUNNING ] && [ "$elapsed" -lt 60 ] || { echo "the job still ran 60 s after rank 1 was stopped"; scancel "$job"; exit 1; }
[ "$exit_code" = 75 ] || { echo "expected exit code 75 (collective timeout), got $exit_code"; tail -n 20 "$log"; exit 1; }
grep -q "rank 1 did not arrive" "$log" || { echo "the timeout message does not name rank 1"; exit 1; }
ls -d "$stopped_output".tmp-*/progress/state.json >/dev/null || { echo "the temporary folder was not kept"; exit 1; }
[ -z "$leftover" ] || { echo "rank processes left behind: $leftover"; exit 1; }
echo "slurm oneshot test passed"
