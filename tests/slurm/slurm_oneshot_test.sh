#!/usr/bin/env bash
# Starts a real single-node Slurm cluster on localhost (slurmctld + slurmd,
# auth/none, config in a temporary folder), submits launch/slurm's batch
# template for a 2-rank CPU run of `dcomp oneshot`, waits, checks the output
# checkpoint, and stops the daemons by PID.
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
cat >"$dir/slurm.conf" <<CONF
ClusterName=dcomptest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/none
CredType=cred/none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=${DCOMP_SLURMCTLD_PORT:-16817}
SlurmdPort=${DCOMP_SLURMD_PORT:-16818}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MailProg=/bin/true
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=60
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
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
echo "slurm oneshot test passed (job $job)"
