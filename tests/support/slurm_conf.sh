# Sourced by the Slurm tests. slurm_test_conf <dir> <cluster name> <SlurmctldHost> <slurmd pid
# file> <slurmd log file> prints the slurm.conf settings they share (root, auth/none, pmix, no
# accounting, state, spool and logs under <dir>); the caller adds its NodeName and
# PartitionName lines.
slurm_test_conf() {
  local dir="$1"
  cat <<CONF
ClusterName=$2
SlurmctldHost=$3
SlurmUser=root
SlurmdUser=root
AuthType=auth/none
CredType=cred/none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$4
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$5
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
CONF
}
