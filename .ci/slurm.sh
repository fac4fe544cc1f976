#!/usr/bin/env bash
# A real Slurm job array on this machine: installs Debian's slurm-wlm and munge where missing,
# starts munged, slurmctld and slurmd for one node, submits reports/cluster/sortmark-array.sbatch
# as a three-task array over tests/fixtures/shards.toml with `sbatch --wait`, and checks that the
# merged run holds every planned case exactly once, verified. The daemons it started are stopped
# on exit. Needs root (the daemons and apt-get); .ci/run calls it in CI and when run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
    echo "slurm: needs root to start the Slurm and munge daemons" >&2
    exit 1
fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "== installing slurm-wlm and munge"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

cargo build --locked --quiet
sortmark="$PWD/target/debug/sortmark"
work="$(mktemp -d)"
chmod 755 "$work"
started=()
stop() {
    # Only what this script started, by the pid each daemon wrote.
    for pidfile in "${started[@]}"; do
        [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
    sleep 1
    rm -rf "$work"
}
trap stop EXIT

# munged runs as the munge user; its socket folder must exist first (tmpfs /run is empty in a
# fresh container). A munged that already runs is used as it is.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    chmod 755 /run/munge
    [ -s /etc/munge/munge.key ] || runuser -u munge -- mungekey --create
    runuser -u munge -- /usr/sbin/munged
    started+=(/run/munge/munged.pid)
    munge -n | unmunge >/dev/null
fi

# One node, this machine, with no cgroups: processes tracked through /proc, no task binding.
# The ports default away from Slurm's own so that a site's Slurm on this host is left alone.
node="$(hostname -s)"
ctld_port="${SORTMARK_SLURMCTLD_PORT:-16817}"
slurmd_port="${SORTMARK_SLURMD_PORT:-16818}"
mkdir -p "$work/state" "$work/spool"
export SLURM_CONF="$work/slurm.conf"
cat > "$SLURM_CONF" <<CONF
ClusterName=sortmark-ci
SlurmctldHost=$node
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
NodeName=$node CPUs=$(nproc) State=UNKNOWN
PartitionName=ci Nodes=$node Default=YES MaxTime=30 State=UP
CONF
echo "== starting slurmctld and slurmd (one node: $node)"
started+=("$work/slurmd.pid" "$work/slurmctld.pid")
slurmctld
slurmd
for _ in $(seq 60); do
    sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed)' && break
    sleep 1
done
sinfo -h -o '%T' | grep -qE '^(idle|mixed)' || {
    echo "slurm: the node did not come up" >&2
    sinfo >&2 || true
    tail -n 20 "$work/slurmctld.log" "$work/slurmd.log" >&2 || true
    exit 1
}

echo "== sbatch --wait --array=0-2 reports/cluster/sortmark-array.sbatch"
archive="$work/archive"
mkdir -p "$archive"
SORTMARK="$sortmark" sbatch --wait --array=0-2 --chdir="$PWD" --output="$work/task-%a.out" \
    reports/cluster/sortmark-array.sbatch tests/fixtures/shards.toml "$archive" || {
    echo "slurm: the array job failed" >&2
    cat "$work"/task-*.out >&2 || true
    exit 1
}
merged="$(cat "$archive"/parts/*/.merged)"
echo "merged run: $merged"

# Every planned case exactly once in the merged run, verified unless the plan skips it.
"$sortmark" check tests/fixtures/shards.toml --format json > "$work/plan.json"
python3 - "$work/plan.json" "$merged/results.json" <<'PY'
import json
import sys
from collections import Counter

fields = ("sweep", "backend", "algorithm", "key_type", "distribution", "n", "threads", "device")
with open(sys.argv[1]) as f:
    plan = json.load(f)["cases"]
with open(sys.argv[2]) as f:
    run = json.load(f)
key = lambda case: tuple(case[f] for f in fields)
seen = Counter(key(c) for c in run["cases"])
planned = {key(c): c for c in plan}
errors = [f"{k}: {n} times" for k, n in seen.items() if n != 1]
errors += [f"{k}: missing" for k in planned if k not in seen]
errors += [f"{k}: not planned" for k in seen if k not in planned]
for case in run["cases"]:
    if planned.get(key(case), {}).get("skip") is None and not case["verified"]:
        errors.append(f"{key(case)}: not verified ({case['reason']})")
parts = sorted(p["shard"]["index"] for p in run["parts"])
if parts != [0, 1, 2] or not run["complete"]:
    errors.append(f"parts {parts}, complete {run['complete']}")
for error in errors:
    print(f"slurm: {error}", file=sys.stderr)
print(f"slurm: {len(run['cases'])} of {len(plan)} planned cases, each once, from parts {parts}")
print(f"slurm array: {int(not errors)} passed, {int(bool(errors))} failed")
sys.exit(1 if errors else 0)
PY
