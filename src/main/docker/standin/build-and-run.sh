#!/usr/bin/env bash
# Builds src/main/docker/Dockerfile.jvm, unchanged but for its FROM, on a stand-in base image made from Debian
# packages, runs the image and checks it (README "The container image on a stand-in base"). For machines that reach
# Debian's package mirror but no container registry, so that registry.access.redhat.com/ubi9/openjdk-17-runtime
# cannot be pulled. Needs root, debootstrap, podman (with buildah) and runc: apt-get install -y podman buildah runc
# debootstrap. Build the application first: ./mvnw package -DskipTests.
#
#   src/main/docker/standin/build-and-run.sh [--real-scripts DIR] [--rebuild-rootfs] [--jib] [--keep]
#
#   --real-scripts DIR  put the base image's real start script and its helpers into the stand-in instead of
#                       src/main/docker/standin/run-java.sh: DIR is a checkout of
#                       github.com/rh-openjdk/redhat-openjdk-containers (branch ubi9)
#   --rebuild-rootfs    bootstrap the Debian root filesystem again (otherwise the one imported earlier is reused)
#   --jib               also build the image with jib (quarkus.container-image.build) on the stand-in base, and run
#                       the same checks on it
#   --keep              leave the last container and the images in place
#
# It exits non-zero at the first check that fails, saying which. Environment: STANDIN_MIRROR (Debian mirror,
# default http://deb.debian.org/debian), STANDIN_SUITE (default bookworm), PODMAN_RUNTIME (default runc: podman's
# default crun refuses cgroup v1/v2 hybrid hosts such as ours).
set -euo pipefail

cd "$(dirname "$0")/../../../.."
PROJECT_DIR=$PWD
STANDIN_DIR=src/main/docker/standin
MIRROR=${STANDIN_MIRROR:-http://deb.debian.org/debian}
SUITE=${STANDIN_SUITE:-bookworm}
ROOTFS_IMAGE=localhost/state-versions-standin-rootfs:$SUITE
BASE_IMAGE=localhost/state-versions-standin-base:1.23
APP_IMAGE=localhost/state-versions:standin
JIB_IMAGE=localhost/state-versions-jib:standin
CONTAINER=state-versions-standin
# The sandboxes we run in refuse podman's default limits (nofile 1048576 above the hard limit; nproc, even a lower
# one than the host's): set ones they accept. The JVM and the embedded PostgreSQL need far less.
PODMAN=(podman --runtime "${PODMAN_RUNTIME:-runc}")
RUN_LIMITS=(--ulimit nofile=16384:16384 --ulimit nproc=4096:4096)

real_scripts=""
rebuild_rootfs=false
with_jib=false
keep=false
while [ $# -gt 0 ]; do
  case "$1" in
    --real-scripts) real_scripts=$(cd "$2" && pwd); shift 2 ;;
    --rebuild-rootfs) rebuild_rootfs=true; shift ;;
    --jib) with_jib=true; shift ;;
    --keep) keep=true; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

step() { echo; echo "=== $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

for tool in podman debootstrap curl; do
  command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install -y podman buildah runc debootstrap curl)"
done
[ "$(id -u)" = 0 ] || fail "run as root (debootstrap and rootful podman)"
[ -f target/quarkus-app/quarkus-run.jar ] || fail "no target/quarkus-app: run ./mvnw package -DskipTests first"

# --- 1. The stand-in base -------------------------------------------------------------------------------------------
if $rebuild_rootfs || ! podman image exists "$ROOTFS_IMAGE"; then
  step "bootstrapping Debian $SUITE with openjdk-17-jre-headless from $MIRROR"
  rootfs=$(mktemp -d /tmp/state-versions-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase --include=openjdk-17-jre-headless "$SUITE" "$rootfs" "$MIRROR" \
    > "$rootfs.log" 2>&1 || { tail -20 "$rootfs.log"; fail "debootstrap (log: $rootfs.log)"; }
  # What the real base's module scripts do on top of its packages (modules/user, jre/17, run of the ubi9 branch).
  chroot "$rootfs" /bin/sh -ec '
    groupadd -r default -g 185
    useradd -u 185 -r -g root -G default -m -d /home/default -s /sbin/nologin -c "Default user" default
    chmod 0770 /home/default
    ln -s "$(basename "$(dirname "$(dirname "$(readlink -f /usr/bin/java)")")")" /usr/lib/jvm/jre
    mkdir -p /deployments/data
    chmod -R ug+rwX /deployments/data
    chown -R default:root /deployments/data
    sed -i --follow-symlinks "s/\(networkaddress.cache.negative.ttl\)=[0-9]\+$/\1=0/" \
      /usr/lib/jvm/jre/conf/security/java.security
    apt-get clean
    rm -rf /var/lib/apt/lists/* /var/log/*.log'
  tar -C "$rootfs" --numeric-owner -cf - . | podman import - "$ROOTFS_IMAGE" >/dev/null
  rm -rf "$rootfs" "$rootfs.log"
  trap - EXIT
fi

step "building the stand-in base $BASE_IMAGE"
context=$(mktemp -d /tmp/state-versions-standin.XXXXXX)
trap 'rm -rf "$context"' EXIT
cp "$STANDIN_DIR/Containerfile.base" "$context/"
if [ -n "$real_scripts" ]; then
  # The modules of the real base that put files under /opt (the run script, its logging, JVM-default, debug and proxy
  # helpers, the JRE's options), as its configure.sh scripts copy them.
  for module in run jvm proxy util/logging jre/17; do
    cp -pr "$real_scripts/modules/$module/artifacts/." "$context/"
  done
  chmod -R a+rX,ug+x "$context/opt"
  echo "with the real start script from $real_scripts ($(git -C "$real_scripts" rev-parse --short HEAD 2>/dev/null || echo '?'))"
else
  install -D -m 0755 "$STANDIN_DIR/run-java.sh" "$context/opt/jboss/container/java/run/run-java.sh"
  echo "with the stand-in start script $STANDIN_DIR/run-java.sh"
fi
podman build -q --build-arg ROOTFS_IMAGE="$ROOTFS_IMAGE" -f "$context/Containerfile.base" -t "$BASE_IMAGE" \
  "$context" >/dev/null
rm -rf "$context"
trap - EXIT
"${PODMAN[@]}" run --rm "${RUN_LIMITS[@]}" "$BASE_IMAGE" sh -c 'echo "base: $(id) in $PWD, JAVA_HOME=$JAVA_HOME \
  ($(readlink -f "$JAVA_HOME")), $(java -version 2>&1 | head -1), /deployments/data $(stat -c "%u:%g %A" /deployments/data)"'

# --- 2. Our image, from Dockerfile.jvm as it is ----------------------------------------------------------------------
step "building $APP_IMAGE from src/main/docker/Dockerfile.jvm with --from $BASE_IMAGE"
podman build --from "$BASE_IMAGE" -f src/main/docker/Dockerfile.jvm -t "$APP_IMAGE" . | grep -E '^STEP|^COMMIT' || true
podman image exists "$APP_IMAGE" || fail "podman build of Dockerfile.jvm"

# --- 3. Running it ---------------------------------------------------------------------------------------------------
API_PORT=""
MANAGEMENT_PORT=""

# Starts the image with extra podman arguments and waits until it is ready; sets API_PORT and MANAGEMENT_PORT.
start() {
  local image=$1
  shift
  podman rm -f "$CONTAINER" >/dev/null 2>&1 || true
  "${PODMAN[@]}" run -d --name "$CONTAINER" "${RUN_LIMITS[@]}" -p 127.0.0.1::8080 -p 127.0.0.1::9000 "$@" "$image" \
    >/dev/null
  API_PORT=$(podman port "$CONTAINER" 8080/tcp | sed 's/.*://')
  MANAGEMENT_PORT=$(podman port "$CONTAINER" 9000/tcp | sed 's/.*://')
  wait_ready
}

wait_ready() {
  local started=$SECONDS
  until curl -sf "localhost:$MANAGEMENT_PORT/q/health/ready" > /tmp/$CONTAINER-ready.json 2>/dev/null; do
    [ "$(podman inspect -f '{{.State.Running}}' "$CONTAINER")" = true ] \
      || { podman logs "$CONTAINER" | tail -30; fail "the container exited before it was ready"; }
    [ $((SECONDS - started)) -lt 120 ] || { podman logs "$CONTAINER" | tail -30; fail "not ready within 120 s"; }
    sleep 1
  done
  grep -q '"status": *"UP"' /tmp/$CONTAINER-ready.json || fail "readiness: $(cat /tmp/$CONTAINER-ready.json)"
  ok "ready (UP on the management port 9000) $((SECONDS - started)) s after start: $(tr -d ' \n' < /tmp/$CONTAINER-ready.json | cut -c1-160)"
}

# The JVM's command line as the container's process 1 has it.
process_1() {
  podman exec "$CONTAINER" cat /proc/1/cmdline | tr '\0' ' '
}

heap_max_bytes() {
  curl -sf "localhost:$MANAGEMENT_PORT/q/metrics" | grep -E '^jvm_memory_max_bytes\{area="heap",id="G1 Old Gen"' \
    | sed 's/.* //'
}

expect_cmdline() {
  local cmdline=$1 expected=$2 what=$3
  case "$cmdline" in
    *"$expected"*) ok "$what" ;;
    *) fail "$what: expected '$expected' in /proc/1/cmdline: $cmdline" ;;
  esac
}

# SIGTERM, as podman stop and Kubernetes send it: readiness must turn DOWN, and the process must exit cleanly
# (0, or 143 for a JVM that exits by the signal) well within Kubernetes' grace period of 40 s (no SIGKILL).
# With "podman-stop", podman stop itself sends the signal (and would send SIGKILL after 40 s); readiness is then
# polled alongside it.
stop_and_check() {
  local started=$SECONDS code stopper=""
  if [ "${1:-}" = podman-stop ]; then
    podman stop -t 40 "$CONTAINER" >/dev/null &
    stopper=$!
  else
    podman kill --signal TERM "$CONTAINER" >/dev/null
  fi
  # Only curl in this loop: podman commands wait for podman stop to finish.
  local ready_status=""
  while [ $((SECONDS - started)) -lt 10 ]; do
    ready_status=$(curl -s -o /dev/null -w '%{http_code}' "localhost:$MANAGEMENT_PORT/q/health/ready" || true)
    [ "$ready_status" = 503 ] && break
    sleep 0.2
  done
  [ "$ready_status" = 503 ] || fail "readiness did not turn DOWN (503) after SIGTERM (last: $ready_status)"
  ok "readiness DOWN (503) $((SECONDS - started)) s after SIGTERM"
  code=$(timeout 60 podman wait "$CONTAINER")
  if [ -n "$stopper" ]; then wait "$stopper" || fail "podman stop"; fi
  local elapsed=$((SECONDS - started))
  { [ "$code" = 0 ] || [ "$code" = 143 ]; } || { podman logs "$CONTAINER" | tail -20; fail "exit code $code after SIGTERM"; }
  [ "$elapsed" -lt 40 ] || fail "took $elapsed s to exit, not within the 40 s grace period"
  ok "exited with $code, $elapsed s after SIGTERM"
  podman logs "$CONTAINER" 2>&1 | grep -E 'stopped in|Stopping|embedded PostgreSQL' | tail -3 | sed 's/^/    /'
}

# Opens a shard, appends a batch [0, 10) and reads the shard back.
append_round_trip() {
  local shard=$1 writer=w1d2e3f4a-5b6c-4d7e-8f90-a1b2c3d4e5f6 answer
  answer=$(curl -sf -X PUT "localhost:$API_PORT/v1/shards/$shard" -H 'content-type: application/json' \
    -d '{"keyCodec": "bytes", "valCodec": "bytes", "tsCodec": "u64", "diffCodec": "i64"}')
  echo "    PUT /v1/shards/$shard: $answer"
  answer=$(curl -sf "localhost:$API_PORT/v1/shards/$shard/batches" -H 'content-type: application/json' \
    -d "{\"writerId\": \"$writer\", \"idempotencyToken\": \"i2e3f4a5b-6c7d-4e8f-9a0b-b1c2d3e4f5a6\",
         \"lower\": [0], \"upper\": [10], \"len\": 3,
         \"parts\": [{\"key\": \"$writer/p3f4a5b6c-7d8e-4f9a-0b1c-c1d2e3f4a5b6\", \"encodedSizeBytes\": 1024}]}")
  echo "    POST /v1/shards/$shard/batches: $answer"
  case "$answer" in *'"upper":[10]'*'"alreadyCommitted":false'*) ok "append committed" ;; *) fail "append: $answer" ;; esac
  answer=$(curl -sf "localhost:$API_PORT/v1/shards/$shard")
  case "$answer" in *'"upper":[10]'*) ok "read back: upper [10]" ;; *) fail "state after the append: $answer" ;; esac
}

check_image() {
  local image=$1
  local shard=s0c1d2e3f-4a5b-4c6d-8e7f-a0b1c2d3e4f5
  step "running $image on its embedded defaults"
  start "$image"
  podman logs "$CONTAINER" 2>&1 | grep -E '^INFO (exec|running)' | cut -c1-300 | sed 's/^/    /'
  local user
  user=$(podman exec "$CONTAINER" id)
  case "$user" in uid=185\(default\)\ gid=0\(root\)*) ok "runs as $user" ;; *) fail "runs as $user, not 185" ;; esac
  local cmdline
  cmdline=$(process_1)
  echo "    /proc/1/cmdline: $cmdline"
  expect_cmdline "$cmdline" "java -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Xmx512m -XX:+ExitOnOutOfMemoryError " \
    "process 1 is the JVM (exec, no shell left) with the shipped options first"
  expect_cmdline "$cmdline" "-jar /deployments/quarkus-run.jar" "it runs /deployments/quarkus-run.jar"
  case "$cmdline" in *UseParallelGC*|*MaxRAMPercentage*) fail "the base's default options are in: $cmdline" ;; esac
  ok "none of the base's default options (-XX:+UseParallelGC, -XX:MaxRAMPercentage)"
  [ "$(heap_max_bytes)" = 5.36870912E8 ] || fail "heap max $(heap_max_bytes), not 512 MiB"
  ok "heap max (jvm_memory_max_bytes, G1 Old Gen) $(heap_max_bytes) = 512 MiB"
  podman exec "$CONTAINER" sh -c 'ls -ld /deployments/* /deployments/data/*' | sed 's/^/    /'
  append_round_trip "$shard"
  local answer

  step "SIGTERM (podman kill --signal TERM, as podman stop sends it first)"
  stop_and_check

  step "starting the same container again: the state is in /deployments/data; then podman stop"
  podman start "$CONTAINER" >/dev/null
  wait_ready
  answer=$(curl -sf "localhost:$API_PORT/v1/shards/$shard")
  case "$answer" in *'"upper":[10]'*) ok "after the restart: upper [10]" ;; *) fail "after the restart: $answer" ;; esac
  # PostgreSQL says at start whether it had been shut down cleanly or recovers from a crash.
  local shutdown
  shutdown=$(podman exec "$CONTAINER" grep -hE 'database system (was|is)' /deployments/data/postgres.log | tail -3)
  echo "$shutdown" | sed 's/^/    postgres.log: /'
  case "$shutdown" in
    *"was shut down at"*) ok "the embedded PostgreSQL had been shut down cleanly" ;;
    *) fail "the embedded PostgreSQL was not shut down cleanly: $shutdown" ;;
  esac
  stop_and_check podman-stop

  # k8s/deployment.yaml: a read-only root filesystem with an emptyDir on /tmp, the data directory under /tmp.
  step "as k8s/deployment.yaml runs it (read-only root, only /tmp writable, STATEVERSIONS_DATA_DIR=/tmp/state-versions)
    with JAVA_OPTS_APPEND=\"-Xmx256m -Dstandin.append=yes\", which adds to the shipped options (a later -Xmx wins)"
  start "$image" --read-only --read-only-tmpfs=false --tmpfs /tmp:rw,mode=1777 \
    -e STATEVERSIONS_DATA_DIR=/tmp/state-versions -e JAVA_OPTS_APPEND="-Xmx256m -Dstandin.append=yes"
  if podman exec "$CONTAINER" touch /deployments/data/x 2>/dev/null; then fail "the root filesystem is writable"; fi
  ok "the root filesystem is read-only; the service keeps $(podman exec "$CONTAINER" ls /tmp/state-versions | xargs) in /tmp/state-versions"
  append_round_trip s1d2e3f4a-5b6c-4d7e-8f90-b1c2d3e4f5a6
  cmdline=$(process_1)
  echo "    /proc/1/cmdline: $cmdline"
  expect_cmdline "$cmdline" "-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Xmx512m -XX:+ExitOnOutOfMemoryError" \
    "the shipped options are kept"
  expect_cmdline "$cmdline" "-Djava.util.logging.manager=org.jboss.logmanager.LogManager -Xmx256m -Dstandin.append=yes " \
    "JAVA_OPTS_APPEND comes after them"
  [ "$(heap_max_bytes)" = 2.68435456E8 ] || fail "heap max $(heap_max_bytes), not 256 MiB"
  ok "heap max $(heap_max_bytes) = 256 MiB: the appended -Xmx wins"
  stop_and_check

  step "JAVA_OPTS=\"-Xmx300m -Dquarkus.http.host=0.0.0.0\" replaces them"
  start "$image" -e JAVA_OPTS="-Xmx300m -Dquarkus.http.host=0.0.0.0"
  cmdline=$(process_1)
  echo "    /proc/1/cmdline: $cmdline"
  expect_cmdline "$cmdline" "java -Xmx300m -Dquarkus.http.host=0.0.0.0 -cp . -jar" "only the given options"
  stop_and_check
}

check_image "$APP_IMAGE"

# --- 4. The same with jib ----------------------------------------------------------------------------------------------
if $with_jib; then
  # jib reads a docker:// base with the docker command whatever quarkus.jib.docker-executable-name says (that name
  # is used only to load the result), so the base goes to jib as a tarball.
  step "building $JIB_IMAGE with jib on tar://target/standin-base.tar (podman to load the result)"
  rm -f target/standin-base.tar
  podman save -q --format docker-archive -o target/standin-base.tar "$BASE_IMAGE"
  ./mvnw -o -q package -DskipTests -Dquarkus.container-image.build=true \
    -Dquarkus.jib.base-jvm-image="tar://$PROJECT_DIR/target/standin-base.tar" \
    -Dquarkus.jib.docker-executable-name=podman -Dquarkus.container-image.image="$JIB_IMAGE" || fail "the jib build"
  rm -f target/standin-base.tar
  podman image exists "$JIB_IMAGE" || fail "jib left no image $JIB_IMAGE"
  check_image "$JIB_IMAGE"
fi

if ! $keep; then
  podman rm -f "$CONTAINER" >/dev/null
  podman rmi "$APP_IMAGE" >/dev/null
  if $with_jib; then podman rmi "$JIB_IMAGE" >/dev/null; fi
fi
step "all checks passed"
