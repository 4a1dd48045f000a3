#!/usr/bin/env bash
# Bring up a one-node Slurm cluster on this host (as root), for the tests marked `slurm`.
# Idempotent and quick: when the node already answers idle it returns at once.
# Installs Debian's slurm-wlm and munge if they are missing. Slurm talks only on this host.
set -euo pipefail

NODE="$(hostname -s)"
CONF_DIR=/etc/slurm
CONF="$CONF_DIR/slurm.conf"
WAIT_SECONDS="${SLURM_UP_WAIT:-60}"

node_idle() {
  # "idle" or "mixed"/"allocated" all mean the node takes jobs
  local state
  state="$(sinfo -h -n "$NODE" -o '%T' 2>/dev/null | head -n1)" || return 1
  [[ "$state" =~ ^(idle|mixed|allocated|completing) ]]
}

if command -v sinfo >/dev/null && node_idle; then
  exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
  echo "slurm_up: must run as root to start munged, slurmctld and slurmd" >&2
  exit 1
fi

# one starter at a time (parallel test workers may all call this); the next one finds it up
exec 9>/run/nodefix-slurm-up.lock
flock 9
if command -v sinfo >/dev/null && node_idle; then
  exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

# munge: a key readable by the munge user only, its folders, the daemon as the munge user
if [[ ! -s /etc/munge/munge.key ]]; then
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key
chmod 400 /etc/munge/munge.key
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
if ! munge -n </dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged --force
fi

CPUS="$(nproc)"
(( CPUS > 2 )) && CPUS=2
mkdir -p "$CONF_DIR" /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
NEW_CONF="$(cat <<EOF
# written by nodefix .ci/slurm_up.sh: a one-node cluster on $NODE
ClusterName=nodefix
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
SlurmdTimeout=30
MinJobAge=30
KillWait=5
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
)"
if [[ ! -f "$CONF" ]] || [[ "$(cat "$CONF")" != "$NEW_CONF" ]]; then
  printf '%s\n' "$NEW_CONF" >"$CONF"
fi

pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld
pgrep -x slurmd >/dev/null || /usr/sbin/slurmd

deadline=$((SECONDS + WAIT_SECONDS))
while ! node_idle; do
  if (( SECONDS >= deadline )); then
    echo "slurm_up: node $NODE not idle after ${WAIT_SECONDS}s; see /var/log/slurm/" >&2
    sinfo >&2 || true
    exit 1
  fi
  # a node left down by an earlier run comes back once slurmd answers
  scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true
  sleep 0.5
done
