# A single-node Slurm cluster on localhost for the Slurm tests, from Debian's slurmctld, slurmd and
# munge (the recipe in ../shared/DESIGN.md). Sourced after common.sh.
#
# slurm_start DIR: writes DIR/slurm.conf (state, spool, pid and log files under DIR, ports of its
# own), starts munged if none runs, then slurmctld and slurmd, and waits until the node is idle.
# slurm_stop: stops exactly the daemons slurm_start started (by the PIDs in their pid files).
# Exports SLURM_CONF so that sbatch, squeue and scontrol talk to this cluster.

SLURM_STARTED_PIDS=()
SLURM_DIR=

slurm_stop() {
  local pid
  for pid in "${SLURM_STARTED_PIDS[@]}"; do
    kill "$pid" 2> /dev/null
  done
  for pid in "${SLURM_STARTED_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2> /dev/null
  done
  SLURM_STARTED_PIDS=()
}

# slurm_pid FILE: the PID a daemon wrote, once it has.
slurm_pid() {
  local file=$1
  for _ in $(seq 100); do
    [[ -s $file ]] && { cat "$file"; return 0; }
    sleep 0.1
  done
  return 1
}

slurm_start() {
  SLURM_DIR=$1
  local host cpus memory
  for tool in slurmctld slurmd sbatch squeue scontrol munged; do
    command -v "$tool" > /dev/null || PATH=$PATH:/usr/sbin command -v "$tool" > /dev/null ||
      skip "$tool not installed (Debian: slurmctld slurmd slurm-client munge; scripts/test installs them)"
  done
  export PATH=$PATH:/usr/sbin
  host=$(hostname -s)
  cpus=$(nproc)
  memory=$(($(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) / 2))
  mkdir -p "$SLURM_DIR"/{state,spool,log,run}
  cat > "$SLURM_DIR/slurm.conf" << CONF
ClusterName=lineage-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# A requeued job waits cred_expire seconds before it starts again (default 120: most of this
# test's time); steps launch within a second here.
AuthInfo=cred_expire=15
MpiDefault=pmix
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SchedulerType=sched/backfill
JobRequeue=1
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
SlurmctldPidFile=$SLURM_DIR/run/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/run/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$SLURM_DIR/log/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
MinJobAge=600
KillWait=10
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
  export SLURM_CONF=$SLURM_DIR/slurm.conf

  if ! pgrep -x munged > /dev/null; then
    [[ -s /etc/munge/munge.key ]] || {
      mkdir -p /etc/munge
      dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
      chown munge:munge /etc/munge/munge.key
      chmod 400 /etc/munge/munge.key
    }
    install -d -o munge -g munge /run/munge /var/lib/munge /var/log/munge 2> /dev/null
    runuser -u munge -- /usr/sbin/munged || fail "munged did not start"
    SLURM_STARTED_PIDS+=("$(slurm_pid /run/munge/munged.pid)") || fail "munged wrote no pid file"
  fi
  /usr/sbin/slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start: $(tail -5 "$SLURM_DIR/log/slurmctld.log" 2> /dev/null)"
  SLURM_STARTED_PIDS+=("$(slurm_pid "$SLURM_DIR/run/slurmctld.pid")") || fail "slurmctld wrote no pid file"
  /usr/sbin/slurmd -f "$SLURM_CONF" || fail "slurmd did not start: $(tail -5 "$SLURM_DIR/log/slurmd.log" 2> /dev/null)"
  SLURM_STARTED_PIDS+=("$(slurm_pid "$SLURM_DIR/run/slurmd.pid")") || fail "slurmd wrote no pid file"
  local state=
  for _ in $(seq 150); do
    state=$(sinfo -h -N -o %t 2> /dev/null | head -1)
    [[ $state == idle ]] && return 0
    sleep 0.2
  done
  fail "the node did not become idle (state '$state'): $(tail -5 "$SLURM_DIR/log/slurmctld.log")"
}

# slurm_wait JOB SECONDS: waits until the job has ended; prints its final state.
slurm_wait() {
  local job=$1 limit=$2 state=
  for _ in $(seq $((limit * 5))); do
    state=$(scontrol show job "$job" 2> /dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2)
    case $state in
      COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | PREEMPTED | BOOT_FAIL | DEADLINE)
        echo "$state"
        return 0
        ;;
    esac
    sleep 0.2
  done
  echo "TIMEOUT_WAITING($state)"
  return 1
}

# slurm_exit_code JOB: "status:signal" as scontrol reports it.
slurm_exit_code() { scontrol show job "$1" | grep -o ' ExitCode=[0-9:]*' | cut -d= -f2; }
