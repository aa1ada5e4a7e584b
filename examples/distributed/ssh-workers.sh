#!/usr/bin/env bash
# nos-search workers on other machines over ssh, for a search whose controller runs elsewhere
# (nos-search run --db URL --workers 0 --name NAME ...). One worker per device listed for a host:
#
#   examples/distributed/ssh-workers.sh postgresql://nos@db.example/nos lstm-1 \
#       gpu1:cuda:0,cuda:1,cuda:2,cuda:3  gpu2:cuda:0,cuda:1  cpu1:cpu,cpu  -- --max-idle 600
#
# HOST alone is one CPU worker; HOST:DEVICE,DEVICE,... one worker per device. Options after `--`
# go to every worker (--threads, --max-idle, ...). Every line a worker prints is shown with its
# host and device. Ctrl-C (or SIGTERM) stops them the way nos-search worker stops: each hands back
# the candidate it was evaluating. The script ends when every worker has ended (--max-idle makes
# them end once the search has no work left).
#
# Each host needs nos-search (NOS_SEARCH, default nos-search on the remote PATH), the search's data
# at the same path, and the database's password in its ~/.pgpass; ssh must log in without a
# prompt (keys: BatchMode). NOS_SSH replaces the ssh command (e.g. "ssh -i key").
set -euo pipefail

usage() {
  echo "usage: $0 DB SEARCH HOST[:DEVICE,...]... [-- WORKER-OPTIONS]" >&2
  exit 2
}
[ $# -ge 3 ] || usage
db=$1 search=$2
shift 2
hosts=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do hosts+=("$1"); shift; done
[ $# -gt 0 ] && shift  # the --
[ ${#hosts[@]} -gt 0 ] || usage
read -r -a ssh <<<"${NOS_SSH:-ssh}"
nos=${NOS_SEARCH:-nos-search}

pids_file=$(mktemp)  # "HOST PID" of every remote worker, for stopping them
trap 'rm -f "$pids_file"' EXIT

stop_all() {
  trap '' INT TERM
  echo "ssh-workers.sh: stopping the workers (each hands back its candidate)" >&2
  while read -r host pid; do
    "${ssh[@]}" -n -o BatchMode=yes "$host" "kill -TERM $pid" 2>/dev/null || true
  done <"$pids_file"
  wait
  exit 130
}
trap stop_all INT TERM

for spec in "${hosts[@]}"; do
  host=${spec%%:*}
  devices=cpu
  [ "$spec" != "$host" ] && devices=${spec#*:}
  IFS=, read -r -a list <<<"$devices"
  for device in "${list[@]}"; do
    # The remote shell prints its PID, then becomes the worker (the same PID).
    remote="echo \$\$; exec $(printf '%q ' "$nos" worker --db "$db" --search "$search" --device "$device" "$@")"
    {
      "${ssh[@]}" -n -o BatchMode=yes "$host" "$remote" 2>&1 | {
        read -r pid || exit 0
        if [[ $pid =~ ^[0-9]+$ ]]; then echo "$host $pid" >>"$pids_file"; else echo "[$host $device] $pid"; fi
        sed -u "s|^|[$host $device] |"
      }
    } &
  done
done
wait
