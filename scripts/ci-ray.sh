#!/usr/bin/env bash
# CI: a real local Ray cluster for the Ray executor tests -- a head node and a second worker
# node, each its own `ray start --block` process with one CPU, on 127.0.0.1.
#
#   eval "$(bash scripts/ci-ray.sh start)"   # prints the exports (address, pids, temp dir)
#   bash scripts/ci-ray.sh stop              # stops the two nodes (call it from a trap)
#
# `stop` ends only the two `ray start` processes this script started (by pid, then their
# process groups), never other Ray processes on the machine. Logs: $DATASTEWARD_CI_RAY_DIR.
# Port: $DATASTEWARD_CI_RAY_PORT (default 6379); the dashboard (it serves the state API the
# worker-kill test uses) on the port + 1900; the nodes' S3 endpoint (a moto server the Ray + S3
# test starts) on the port + 1901 ($DATASTEWARD_CI_RAY_S3_PORT).
set -euo pipefail

cmd="${1:-}"
port="${DATASTEWARD_CI_RAY_PORT:-6379}"
ray_bin="$(command -v ray || echo "$(dirname "$0")/../.venv/bin/ray")"
python_bin="$(dirname "$ray_bin")/python"
# the test cluster has no token: every node and client on 127.0.0.1 only
export RAY_AUTH_MODE=disabled
export RAY_USAGE_STATS_ENABLED=0
# S3 for the nodes, as a real cluster has it: credentials in every node's environment, never
# sent by the driver. tests/executors/test_ray_s3.py starts its S3 server (moto) on this port
# with these test-only credentials (the same literals are in the test).
s3_port="${DATASTEWARD_CI_RAY_S3_PORT:-$((port + 1901))}"
export AWS_ENDPOINT_URL="http://127.0.0.1:$s3_port" AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=ds-test-key-id AWS_SECRET_ACCESS_KEY=ds-test-secret-3f9c1a7e
export AWS_EC2_METADATA_DISABLED=true

start() {
  dir="$(mktemp -d /tmp/dsray-XXXXXX)"   # short: Ray's Unix sockets live under it
  start_head() {
    setsid "$ray_bin" start --head --block --num-cpus 1 --node-ip-address 127.0.0.1 \
      --port "$port" --dashboard-host 127.0.0.1 --dashboard-port "$((port + 1900))" \
      --include-dashboard true --temp-dir "$dir" --disable-usage-stats \
      >>"$dir/head.log" 2>&1 </dev/null &
    head_pid=$!
  }
  # the head must be up before the worker node joins; a node gives up after 30 s when the
  # machine is busy: then it is started again, up to 3 times
  head_up=0
  for attempt in 1 2 3; do
    start_head
    for _ in $(seq 1 60); do
      if ! kill -0 "$head_pid" 2>/dev/null; then break; fi
      if grep -q "Ray runtime started" "$dir/head.log" 2>/dev/null; then head_up=1; break; fi
      sleep 1
    done
    [ "$head_up" = 1 ] && break
    echo "ci-ray: the head node did not start (attempt $attempt)" >&2
    kill -TERM -- "-$head_pid" 2>/dev/null || true
    sleep 2
  done
  if [ "$head_up" != 1 ]; then
    echo "ci-ray: the head node did not start; see $dir/head.log" >&2
    tail -n 20 "$dir/head.log" >&2
    exit 1
  fi
  start_worker() {
    setsid "$ray_bin" start --block --address "127.0.0.1:$port" --num-cpus 1 \
      --node-ip-address 127.0.0.1 --disable-usage-stats \
      >>"$dir/worker.log" 2>&1 </dev/null &
    worker_pid=$!
  }
  start_worker
  worker_tries=1
  # wait until the cluster has both nodes alive (a node gives up after 30 s when the machine
  # is busy: the worker node is started again, up to 3 times)
  for _ in $(seq 1 180); do
    nodes="$("$python_bin" - "$port" 2>/dev/null <<'PY' || true
import sys, ray
ray.init(address=f"127.0.0.1:{sys.argv[1]}", log_to_driver=False, logging_level="ERROR")
print(sum(1 for n in ray.nodes() if n["Alive"]))
ray.shutdown()
PY
)"
    [ "${nodes:-0}" = "2" ] && break
    if ! kill -0 "$worker_pid" 2>/dev/null && [ "$worker_tries" -lt 3 ]; then
      echo "ci-ray: the worker node exited; starting it again" >&2
      start_worker
      worker_tries=$((worker_tries + 1))
      continue
    fi
    for p in "$head_pid" "$worker_pid"; do
      if ! kill -0 "$p" 2>/dev/null; then
        echo "ci-ray: a node exited; see $dir/*.log" >&2; tail -n 20 "$dir"/*.log >&2
        kill -TERM "$head_pid" "$worker_pid" 2>/dev/null || true
        exit 1
      fi
    done
    sleep 1
  done
  if [ "${nodes:-0}" != "2" ]; then
    echo "ci-ray: the cluster did not come up with 2 nodes; see $dir/*.log" >&2
    kill -TERM "$head_pid" "$worker_pid" 2>/dev/null || true
    exit 1
  fi
  echo "ci-ray: 2 nodes (1 CPU each) at 127.0.0.1:$port" >&2
  echo "export RAY_AUTH_MODE=disabled"
  echo "export DATASTEWARD_TEST_RAY_ADDRESS=127.0.0.1:$port"
  echo "export DATASTEWARD_TEST_RAY_S3_PORT=$s3_port"
  echo "export DATASTEWARD_CI_RAY_PIDS='$head_pid $worker_pid'"
  echo "export DATASTEWARD_CI_RAY_DIR='$dir'"
}

stop() {
  pids="${DATASTEWARD_CI_RAY_PIDS:-}"
  [ -n "$pids" ] || { echo "ci-ray: nothing to stop" >&2; return 0; }
  # `ray start --block` ends what it started when it gets SIGTERM; worker node first
  for p in $(echo "$pids" | tr ' ' '\n' | tac); do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 1 20); do
    alive=0
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.5
  done
  # whatever is left of the nodes' process groups (setsid made each its own)
  for p in $pids; do kill -KILL -- "-$p" 2>/dev/null || true; done
  echo "ci-ray: stopped" >&2
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
