#!/usr/bin/env bash
# A local Kubernetes control plane for the e2e: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
# kwok (nodes and pods without a kubelet), all on 127.0.0.1 with free ports picked per run and certificates generated
# per run. State lives under build/e2e/ (kubeconfig: build/e2e/kubeconfig).
#
#   tools/e2e/cluster.sh up      build what is missing (tools/e2e/build.sh), start, wait until ready, create nodes
#   tools/e2e/cluster.sh nodes F  create the Node objects of YAML file F (kwok runs them) and wait until all are Ready
#   tools/e2e/cluster.sh down    stop the processes this script started (by their recorded pids), remove the state
#   tools/e2e/cluster.sh status  print whether it runs
# Every wait is bounded (E2E_WAIT_SECONDS, default 120) and fails with the log file to read.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
state="${E2E_STATE:-$repo/build/e2e}"
wait_seconds="${E2E_WAIT_SECONDS:-120}"
# Fake nodes' leases: kwok renews each every quarter of its duration. The kubelet's 40 s would be 117 writes a
# second at the 1,171 nodes of the 500-model bench; 120 s makes it 39. The controller manager takes a node for gone
# (and marks its pods NotReady) when its lease is older than the grace period (default 50 s): 600 s here, since a
# lease renewal delayed by a busy 2-core machine is not a node failure. No e2e step tests node failure.
lease_seconds=120
node_grace_seconds=600
export KUBECONFIG="$state/kubeconfig"

die() { echo "cluster.sh: $*" >&2; exit 1; }
log() { echo "cluster.sh: $*" >&2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

running() { [[ -f "$state/pids/$1" ]] && kill -0 "$(cat "$state/pids/$1")" 2>/dev/null; }

start() {  # start <name> <command...>: in the background, own process group, log to logs/<name>.log
  local name="$1"; shift
  setsid "$@" >"$state/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$state/pids/$name"
}

wait_for() {  # wait_for <what> <log name> <command...>: retry until the command succeeds, bounded
  local what="$1" name="$2"; shift 2
  local deadline=$(( $(date +%s) + wait_seconds ))
  until "$@" >/dev/null 2>&1; do
    running "$name" || die "$name exited while waiting for $what; last lines of $state/logs/$name.log:
$(tail -n 15 "$state/logs/$name.log")"
    (( $(date +%s) < deadline )) || die "$what not ready after ${wait_seconds}s; see $state/logs/$name.log"
    sleep 1
  done
}

certs() {  # a CA, the API server's serving cert, client certs per component, the service-account key pair
  local d="$state/pki"
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=ml-serving-e2e-ca" \
      2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' > apiserver.ext
    printf 'extendedKeyUsage=clientAuth\n' > client.ext
    sign() {  # sign <name> <subject> <extfile>
      openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile "$3" \
        -out "$1.crt" 2>/dev/null
      rm -f "$1.csr"
    }
    sign apiserver "/CN=kube-apiserver" apiserver.ext
    sign admin "/O=system:masters/CN=e2e-admin" client.ext
    sign controller-manager "/CN=system:kube-controller-manager" client.ext
    sign scheduler "/CN=system:kube-scheduler" client.ext
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    chmod 600 ./*.key
  )
}

kubeconfig() {  # kubeconfig <file> <client cert name> <server>
  local d="$state/pki"
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: "$3", certificate-authority: "$d/ca.crt"}
users:
- name: $2
  user: {client-certificate: "$d/$2.crt", client-key: "$d/$2.key"}
contexts:
- name: e2e
  context: {cluster: e2e, user: $2}
current-context: e2e
EOF
  chmod 600 "$1"
}

stop_processes() {  # the pids this script recorded, in reverse start order, each in its own process group
  local stopped=0 p pid
  for p in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
    [[ -f "$state/pids/$p" ]] || continue
    pid="$(cat "$state/pids/$p")"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -0 "$pid" 2>/dev/null && { log "$p (pid $pid) ignored TERM for 15s; killing it"; kill -KILL "$pid" || true; }
      stopped=$((stopped + 1))
    fi
    rm -f "$state/pids/$p"
  done
  log "stopped $stopped process(es)"
}

up() {
  for p in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
    running "$p" && die "$p is already running (pid $(cat "$state/pids/$p")); run \`make cluster-down\` first"
  done
  command -v openssl >/dev/null || die "openssl is needed to generate the certificates"
  local bin; bin="$("$here/build.sh" kubernetes etcd kwok)"
  rm -rf "$state" && mkdir -p "$state/logs" "$state/pids" "$state/etcd"
  # A failed start leaves nothing running; the logs stay for reading.
  trap 'log "start failed: stopping what was started; logs in $state/logs"; stop_processes' ERR EXIT
  certs
  local etcd_port peer_port api_port kcm_port sched_port
  etcd_port=$(free_port); peer_port=$(free_port); api_port=$(free_port); kcm_port=$(free_port); sched_port=$(free_port)
  local server="https://127.0.0.1:$api_port" pki="$state/pki"
  kubeconfig "$state/kubeconfig" admin "$server"
  kubeconfig "$state/controller-manager.kubeconfig" controller-manager "$server"
  kubeconfig "$state/scheduler.kubeconfig" scheduler "$server"
  echo "$bin" > "$state/bin"

  log "etcd on 127.0.0.1:$etcd_port"
  start etcd "$bin/etcd" --name e2e --data-dir "$state/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "e2e=http://127.0.0.1:$peer_port" --unsafe-no-fsync --log-level warn
  wait_for "etcd" etcd curl -fsS "http://127.0.0.1:$etcd_port/health"

  log "kube-apiserver on $server"
  start kube-apiserver "$bin/kube-apiserver" --bind-address 127.0.0.1 --advertise-address 127.0.0.1 \
    --secure-port "$api_port" --etcd-servers "http://127.0.0.1:$etcd_port" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" --client-ca-file "$pki/ca.crt" \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc --api-audiences https://kubernetes.default.svc \
    --service-cluster-ip-range 10.96.0.0/16 --authorization-mode RBAC --allow-privileged=false \
    --endpoint-reconciler-type none --profiling=false --v=1
  wait_for "kube-apiserver /readyz" kube-apiserver "$bin/kubectl" get --raw /readyz

  log "kube-controller-manager and kube-scheduler"
  start kube-controller-manager "$bin/kube-controller-manager" --kubeconfig "$state/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$state/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$state/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$kcm_port" --leader-elect=false \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --use-service-account-credentials=true --service-cluster-ip-range 10.96.0.0/16 \
    --node-monitor-grace-period "${node_grace_seconds}s" --v=1
  start kube-scheduler "$bin/kube-scheduler" --kubeconfig "$state/scheduler.kubeconfig" \
    --authentication-kubeconfig "$state/scheduler.kubeconfig" --authorization-kubeconfig "$state/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$sched_port" --leader-elect=false --v=1
  wait_for "kube-controller-manager /healthz" kube-controller-manager \
    curl -fsSk "https://127.0.0.1:$kcm_port/healthz"
  wait_for "kube-scheduler /healthz" kube-scheduler curl -fsSk "https://127.0.0.1:$sched_port/healthz"
  # The controller manager's service-account controller makes the default ServiceAccount of each namespace.
  wait_for "the default ServiceAccount" kube-controller-manager "$bin/kubectl" -n default get serviceaccount default

  # The CRDs of E2E_CRDS (a directory; `make cluster-up` passes ../shared/crds): installed before kwok starts, so that
  # kwok can stand in for KEDA's status too (kwok-keda-stage.yaml).
  local stages=(--config "$here/kwok-config.yaml" --config "$bin/kwok-stages.yaml" --config "$here/kwok-ingress-stage.yaml")
  if [[ -n "${E2E_CRDS:-}" ]]; then
    [[ -d "$E2E_CRDS" ]] || die "E2E_CRDS=$E2E_CRDS is not a directory"
    log "CRDs of $E2E_CRDS"
    "$bin/kubectl" apply --server-side --field-manager ml-serving-e2e -f "$E2E_CRDS" >/dev/null
    "$bin/kubectl" wait --for=condition=Established --timeout="${wait_seconds}s" crd --all >/dev/null
    stages+=(--config "$here/kwok-keda-stage.yaml")
  fi
  log "kwok (fake nodes and pods)"
  start kwok "$bin/kwok" --kubeconfig "$state/kubeconfig" "${stages[@]}" --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --cidr 10.244.0.0/16 --node-ip 10.0.0.1 --node-lease-duration-seconds "$lease_seconds"
  trap - ERR EXIT
  log "ready: export KUBECONFIG=$state/kubeconfig"
}

nodes() {
  local file="$1" bin deadline
  [[ -f "$file" ]] || die "no such file: $file"
  running kwok || die "the control plane is not running; run \`make cluster-up\` first"
  bin="$(cat "$state/bin")"
  "$bin/kubectl" apply --server-side --field-manager ml-serving-e2e -f "$file" >/dev/null
  local names; names="$("$bin/kubectl" get -f "$file" -o name | tr '\n' ' ')"
  # kwok readies a few nodes a second on a busy 2-core machine: the bound grows with their number.
  local count wait; count=$(wc -w <<<"$names"); wait=$(( wait_seconds + count / 4 ))
  # shellcheck disable=SC2086
  "$bin/kubectl" wait --for=condition=Ready --timeout="${wait}s" $names >/dev/null \
    || die "$count nodes not Ready after ${wait}s; see $state/logs/kwok.log"
  log "$(echo $names | wc -w) nodes Ready"
}

down() {
  stop_processes
  # Only the state this script made (certificates, etcd data, logs, kubeconfigs).
  [[ -d "$state/pids" ]] && rm -rf "$state"
  return 0
}

status() {
  local p rc=0
  for p in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
    if running "$p"; then echo "$p: running (pid $(cat "$state/pids/$p"))"; else echo "$p: not running"; rc=1; fi
  done
  return $rc
}

case "${1:-}" in
  up) up ;;
  nodes) nodes "${2:?usage: $0 nodes FILE}" ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|nodes FILE|down|status" >&2; exit 2 ;;
esac
