#!/bin/bash
# A stand-in for /opt/jboss/container/java/run/run-java.sh of registry.access.redhat.com/ubi9/openjdk-17-runtime,
# used only by build-and-run.sh (README "The container image on a stand-in base"). It keeps the real script's
# behaviour where our image relies on it, with the real script's own lines where they matter
# (source: github.com/rh-openjdk/redhat-openjdk-containers, branch ubi9, modules/run/artifacts/...):
#   - a set JAVA_OPTS is the whole option list; unset, the defaults of java-default-options plus JAVA_OPTS_APPEND;
#   - it changes to JAVA_APP_DIR (/deployments) and runs `java <options> -cp "." -jar $JAVA_APP_JAR <arguments>`
#     with exec (the JVM is the container's process 1 and gets podman stop's SIGTERM itself) as argv[0] "java";
#   - it logs the same two INFO lines before it.
# Left out, because our image sets JAVA_OPTS and JAVA_APP_JAR: the debug and proxy options (JAVA_DEBUG, http_proxy)
# and the GC_*/JAVA_MAX_MEM_RATIO/JAVA_DIAGNOSTICS variants of the defaults, JAVA_MAIN_CLASS and classpath files,
# run-env.sh, and the masking of "password" options in the logged command line.
set -eo pipefail

JAVA_APP_DIR=${JAVA_APP_DIR:-/deployments}

log_info() {
  echo >&2 -e "INFO ${1}"
}

log_error() {
  echo >&2 -e "ERROR ${1}"
  exit 1
}

# The options java-default-options prints when none of its variables is set (and neither debugging nor a proxy is).
default_options() {
  echo "-XX:MaxRAMPercentage=80.0 -XX:+UseParallelGC -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20" \
    "-XX:GCTimeRatio=4 -XX:AdaptiveSizePolicyWeight=90 -XX:+ExitOnOutOfMemoryError"
}

# As in the real script: JAVA_OPTS, when set (even empty), replaces the defaults and JAVA_OPTS_APPEND alike.
get_java_options() {
  local opts
  opts=${JAVA_OPTS-$(default_options) ${JAVA_OPTS_APPEND}}
  echo "${opts}" | awk '$1=$1'
}

if [ -z "${JAVA_APP_JAR}" ]; then
  if [ -f "${JAVA_APP_DIR}/quarkus-app/quarkus-run.jar" ]; then
    JAVA_APP_JAR=quarkus-app/quarkus-run.jar
  else
    log_error "JAVA_APP_JAR is not set and there is no ${JAVA_APP_DIR}/quarkus-app/quarkus-run.jar (this stand-in" \
      "does not look for a single jar or JAVA_MAIN_CLASS)"
  fi
fi
if [ "${JAVA_APP_JAR:0:1}" != "/" ]; then
  JAVA_APP_JAR="${JAVA_APP_DIR}/${JAVA_APP_JAR}"
fi
[ -f "${JAVA_APP_JAR}" ] || log_error "No such file ${JAVA_APP_JAR}"

cd "${JAVA_APP_DIR}"
procname="${JAVA_APP_NAME-java}"
log_info "exec -a \"${procname}\" java $(get_java_options) -cp \".\" -jar ${JAVA_APP_JAR} $*"
log_info "running in $PWD"
# Unquoted, as in the real script: the options are split on spaces (an option cannot contain one).
# shellcheck disable=SC2046,SC2086
exec -a "${procname}" java $(get_java_options) -cp "." -jar ${JAVA_APP_JAR} $*
