#!/usr/bin/env bash
# Local test stack: salt-master + salt-api (TLS) + N minions, s3rver, MariaDB, Redis and sshd, all on
# 127.0.0.1, all state under $STACK_DIR (default <project>/.stack), every process stopped by its pidfile.
#
#   bash scripts/stack.sh up | down | status | restart <service>
#   services: salt-master salt-api minion:<id> s3 mariadb redis sshd
#
# `up` is idempotent and writes $STACK_DIR/stack.env (the connection settings the tests and `npm start`
# read). Environment: STACK_DIR, STACK_MINION_COUNT (default 2; minion ids 127.0.0.1 .. 127.0.0.N).
#
# Every minion runs in its own mount namespace in which $STACK_APPS_MOUNT (/srv/stack-apps) is a bind mount
# of $STACK_DIR/hosts/<id>/apps: the minions share this machine's filesystem, except that one directory,
# so they can stand for separate hosts of an application release. Every other mount propagates both ways
# between this namespace and the minions' ('/' is made shared; $STACK_APPS_MOUNT here is a private bind
# of itself, so that the minions' binds over it stay theirs).
#
# s3 runs scripts/stack/s3-server.cjs (s3rver started programmatically): every S3 event (put, post,
# copy, delete) is POSTed as JSON to the URL in each $STACK_DIR/s3-hooks/*.url file.
set -euo pipefail
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin:/sbin" ;; esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE="$ROOT/scripts/stack"
STACK_DIR=${STACK_DIR:-$ROOT/.stack}
case "$STACK_DIR" in /*) ;; *) STACK_DIR="$PWD/$STACK_DIR" ;; esac
STACK_DIR=${STACK_DIR%/}

SALT_VERSION=3007.8
CHERRYPY_VERSION=18.10.0
SALT_REQS="$HERE/salt-requirements.txt"

PUBLISH_PORT=14505
RET_PORT=14506
API_PORT=18000
S3_PORT=19000
MYSQL_PORT=13306
REDIS_PORT=16379
REDIS_TLS_PORT=16380 # the same Redis over TLS (the plain port stays, so both paths are tested)
SSH_PORT=12222

MINION_COUNT=${STACK_MINION_COUNT:-2}
if ! [[ $MINION_COUNT =~ ^[0-9]+$ ]] || [ "$MINION_COUNT" -lt 1 ] || [ "$MINION_COUNT" -gt 254 ]; then
  echo "stack: STACK_MINION_COUNT must be 1..254, got '$MINION_COUNT'" >&2
  exit 2
fi
MINION_IDS=()
for ((i = 1; i <= MINION_COUNT; i++)); do MINION_IDS+=("127.0.0.$i"); done

LOG="$STACK_DIR/log"
SECRETS="$STACK_DIR/secrets"
VENV="$STACK_DIR/venv"
TLS="$STACK_DIR/tls"
SALT="$STACK_DIR/salt"
SALT_ETC="$SALT/etc"
MASTER="$SALT/master"
MASTER_PKI="$MASTER/pki"
MASTER_PID="$MASTER/salt-master.pid"
API_PID="$MASTER/salt-api.pid"
EAUTH_FILE="$SALT/eauth-users.txt"
S3_DIR="$STACK_DIR/s3"
S3_PID="$STACK_DIR/s3rver.pid"
S3_HOOKS="$STACK_DIR/s3-hooks"
S3_LAUNCHER="$HERE/s3-server.cjs"
S3_PAT=s3-server.cjs # what the s3 pidfile's process has on its command line
MDB="$STACK_DIR/mariadb"
MDB_DATA="$MDB/data"
MDB_SOCK="$MDB/mysqld.sock"
MDB_PID="$MDB/mariadbd.pid"
MDB_ARGS="$MDB/mariadbd.args" # the arguments the running mariadbd got: a change restarts it
REDIS_DIR="$STACK_DIR/redis"
REDIS_CONF="$REDIS_DIR/redis.conf"
REDIS_PID="$REDIS_DIR/redis.pid"
SSH_DIR="$STACK_DIR/ssh"
SSHD_CONF="$SSH_DIR/sshd_config"
SSHD_PID="$SSH_DIR/sshd.pid"
SSH_HOST_KEY="$SSH_DIR/ssh_host_ed25519_key"
SSH_CLIENT_KEY="$SSH_DIR/id_ed25519"
ENV_FILE="$STACK_DIR/stack.env"
STACK_APPS_MOUNT=/srv/stack-apps # private to each minion (its mount namespace)
HOSTS_DIR="$STACK_DIR/hosts"     # <id>/apps is what minion <id> sees at $STACK_APPS_MOUNT
API_URL="https://127.0.0.1:$API_PORT"

declare -A CHANGED=()   # service -> 1 when its generated config changed during this run
BG_PIDS=()              # background helpers (pip) to kill if we die early
STOPPED=()              # pids stop_pidfile stopped
POLICY_RC_MADE=""       # set while our temporary /usr/sbin/policy-rc.d exists

# ----------------------------------------------------------------------------------------------- utils

say() { printf '%s\n' "$*"; }
die() {
  printf 'stack: error: %s\n' "$*" >&2
  exit 1
}
cleanup() {
  local p k
  for p in "${BG_PIDS[@]}"; do
    for k in $(descendants "$p") "$p"; do kill "$k" 2>/dev/null || true; done
  done
  if [ -n "$POLICY_RC_MADE" ]; then rm -f /usr/sbin/policy-rc.d; fi
}
trap cleanup EXIT

python_for_json() {
  if [ -x "$VENV/bin/python" ]; then echo "$VENV/bin/python"; else echo python3; fi
}

# Prints the pid in pidfile $1 when that process is alive (not a zombie) and its command line contains $2.
live_pid() {
  local f=$1 pat=$2 pid="" cmd
  [ -s "$f" ] || return 1
  read -r pid <"$f" || true
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  running "$pid" || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"$pat"* ]] || return 1
  printf '%s\n' "$pid"
}

has_pid() { live_pid "$@" >/dev/null; }

# True when pid $1 exists and is not a zombie. A thread-group leader can show Z while its other threads
# are still exiting (and still hold its ports and files): that counts as running.
running() {
  local state tasks
  [ -r "/proc/$1/stat" ] || return 1
  state=$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] || return 1
  if [ "$state" = Z ] || [ "$state" = X ]; then
    tasks=(/proc/"$1"/task/*)
    [ "${#tasks[@]}" -gt 1 ]
    return
  fi
  return 0
}

# All descendants of pid $1 (children, grandchildren, ...).
descendants() {
  ps -e -o pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2 }
    END {
      seen[root] = 1; more = 1
      while (more) { more = 0; for (p in parent) if (!(p in seen) && (parent[p] in seen)) { seen[p] = 1; more = 1 } }
      for (p in seen) if (p != root) print p
    }'
}

# stop_pidfile <name> <pidfile> <pattern> [<name> <pidfile> <pattern>]...: stops every process whose pid
# is in a pidfile (its command line must contain the pattern), all at once: SIGTERM, up to 10 s, then
# SIGKILL; their descendants are waited for (and killed) too. Idempotent.
stop_pidfile() {
  local name f pat pid k i left pids=() kids=""
  while [ "$#" -ge 3 ]; do
    name=$1 f=$2 pat=$3
    shift 3
    if ! pid=$(live_pid "$f" "$pat"); then
      [ -e "$f" ] && rm -f "$f"
      continue
    fi
    kids="$kids $(descendants "$pid" | tr '\n' ' ')"
    say "$name: stopping (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    pids+=("$pid")
    rm -f "$f"
  done
  [ "${#pids[@]}" -eq 0 ] && return 0
  for ((i = 0; i < 50; i++)); do
    left=""
    for k in "${pids[@]}"; do running "$k" && left="$left $k"; done
    [ -z "$left" ] && break
    sleep 0.2
  done
  if [ -n "$left" ]; then
    say "still running after 10 s, SIGKILL:$left"
    for k in $left $kids; do running "$k" && kill -KILL "$k" 2>/dev/null || true; done
  fi
  for ((i = 0; i < 25; i++)); do
    left=""
    for k in $kids; do running "$k" && left="$left $k"; done
    [ -z "$left" ] && break
    sleep 0.2
  done
  for k in $kids; do running "$k" && kill -KILL "$k" 2>/dev/null || true; done
  STOPPED+=("${pids[@]}")
  for k in $kids; do STOPPED+=("$k"); done
  return 0
}

# reap_orphans <name> <command-line fragment>: after the main process of a salt daemon died without its
# children (kill -9, crash), they keep its ports; they are found by their command line, which names this
# stack's own config dir ("bin/salt-api -c <STACK_DIR>/salt/etc -d"), and stopped.
reap_orphans() {
  local name=$1 frag=$2 pids k i left
  pids=$(ps -eo pid=,args= | awk -v frag="$frag" '$2 != "awk" && index($0, frag) { print $1 }' | tr '\n' ' ')
  [ -n "${pids// /}" ] || return 0
  say "$name: stopping leftover processes of a dead $name:$pids"
  for k in $pids; do kill -TERM "$k" 2>/dev/null || true; done
  for ((i = 0; i < 50; i++)); do
    left=""
    for k in $pids; do running "$k" && left="$left $k"; done
    [ -z "$left" ] && break
    sleep 0.2
  done
  for k in $left; do kill -KILL "$k" 2>/dev/null || true; done
  for k in $pids; do STOPPED+=("$k"); done
  return 0
}
master_frag() { echo "bin/salt-master -c $SALT_ETC -d"; }
api_frag() { echo "bin/salt-api -c $SALT_ETC -d"; }
minion_frag() { echo "bin/salt-minion -c $SALT/minions/$1/etc -d"; }
s3_frag() { echo "s3-server.cjs --directory $S3_DIR "; }
s3_legacy_frag() { echo "s3rver.js -d $S3_DIR "; } # the s3rver CLI earlier versions of this script ran
mariadb_frag() { echo "mariadbd --no-defaults --datadir=$MDB_DATA "; }
sshd_frag() { echo "sshd -f $SSHD_CONF "; }

# Waits (up to 5 s) until the stopped processes are gone from the process table: the init process of
# some containers reaps orphans only every few seconds, and until then they show as <defunct>.
await_reaped() {
  local i k left
  for ((i = 0; i < 25; i++)); do
    left=0
    for k in "${STOPPED[@]}"; do [ -e "/proc/$k" ] && left=1 && break; done
    [ "$left" = 0 ] && return 0
    sleep 0.2
  done
  return 0
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

require_port_free() {
  local i
  # a process that was just stopped may still hold the port for a moment
  for ((i = 0; i < 25; i++)); do
    port_open "$2" || return 0
    sleep 0.2
  done
  if port_open "$2"; then
    die "$1: port 127.0.0.1:$2 is already in use by a process this stack did not start (its pidfile is missing); free it first"
  fi
}

# wait_for <seconds> <what> <logfile> <command...>: polls the command until it succeeds.
wait_for() {
  local secs=$1 what=$2 logf=$3 deadline
  shift 3
  deadline=$((SECONDS + secs))
  until "$@"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      printf 'stack: error: timed out after %ss waiting for %s\n' "$secs" "$what" >&2
      if [ -n "$logf" ] && [ -e "$logf" ]; then
        printf -- '--- last lines of %s:\n' "$logf" >&2
        tail -n 25 "$logf" >&2 || true
      fi
      exit 1
    fi
    sleep 0.3
  done
}

# put <service> <path> <mode>: writes stdin to path (atomically) only if the content differs, and then
# marks the service changed. An unchanged file is not touched at all.
put() {
  local svc=$1 path=$2 mode=$3 content tmp
  content=$(cat; printf x)
  content=${content%x}
  if [ -f "$path" ] && printf '%s' "$content" | cmp -s - "$path"; then
    [ "$(stat -c %a "$path")" = "$mode" ] || chmod "$mode" "$path"
    return 0
  fi
  tmp=$(mktemp "$path.XXXXXX")
  printf '%s' "$content" >"$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$path"
  if [ -n "$svc" ]; then CHANGED[$svc]=1; fi
  return 0
}

# symlink <target> <link>: (re)creates the symlink only when it points elsewhere.
symlink() {
  [ "$(readlink "$2" 2>/dev/null)" = "$1" ] || ln -sfn "$1" "$2"
}

# secret <name>: prints the stored password, generating it (24 alphanumerics from /dev/urandom) once.
secret() {
  local f="$SECRETS/$1" s=""
  if [ ! -s "$f" ]; then
    mkdir -p "$SECRETS"
    chmod 700 "$SECRETS"
    while [ "${#s}" -lt 24 ]; do
      s="$s$(LC_ALL=C tr -dc 'A-Za-z0-9' < <(head -c 512 /dev/urandom))"
    done
    (umask 077 && printf '%s\n' "${s:0:24}" >"$f.tmp" && mv -f "$f.tmp" "$f")
  fi
  head -n 1 "$f"
}

# Runs a command in its own session, stdio to a log, writing its pid to pidfile itself.
spawn() {
  local pidfile=$1 logf=$2
  shift 2
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$logf" 2>&1 9>&- &
}

# ------------------------------------------------------------------------------------ system packages

ensure_system_packages() {
  local missing=() b
  for b in mariadbd mariadb-install-db mariadb mariadb-admin redis-server redis-cli ssh ssh-keygen openssl curl; do
    command -v "$b" >/dev/null 2>&1 || missing+=("$b")
  done
  [ -x /usr/sbin/sshd ] || missing+=(sshd)
  [ "${#missing[@]}" -eq 0 ] && return 0
  say "system packages: missing ${missing[*]}; installing with apt-get"
  [ "$(id -u)" = 0 ] || die "need root to apt-get install mariadb-server redis-server openssh-server openssl"
  # Keep the packages' maintainer scripts from starting the system-wide daemons (port 22, 3306, 6379).
  local policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    POLICY_RC_MADE=1
  fi
  local rc=0
  {
    apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q mariadb-server redis-server openssh-server openssl curl
  } >>"$LOG/apt.log" 2>&1 || rc=$?
  if [ -n "$POLICY_RC_MADE" ]; then
    rm -f "$policy"
    POLICY_RC_MADE=""
  fi
  [ "$rc" = 0 ] || { tail -n 25 "$LOG/apt.log" >&2; die "apt-get install failed (see $LOG/apt.log)"; }
  for b in mariadbd mariadb-install-db redis-server ssh-keygen openssl curl; do
    command -v "$b" >/dev/null 2>&1 || die "$b still missing after apt-get install"
  done
}

# --------------------------------------------------------------------------------------- python venv

pick_python() {
  local c v
  for c in python3.11 python3 /usr/bin/python3.11 /usr/bin/python3; do
    command -v "$c" >/dev/null 2>&1 || continue
    v=$("$c" -c 'import sys, venv, ensurepip; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
    [ "$v" = 3.11 ] && { echo "$c"; return 0; }
  done
  return 1
}

venv_marker() {
  printf 'salt==%s CherryPy==%s reqs=%s\n' "$SALT_VERSION" "$CHERRYPY_VERSION" \
    "$(sha256sum "$SALT_REQS" | cut -c1-16)"
}

venv_ok() { [ -x "$VENV/bin/salt-master" ] && [ "$(cat "$VENV/.stack-pins" 2>/dev/null)" = "$(venv_marker)" ]; }

# Starts the pip install in the background (it is the slow part); finish_venv waits for it.
VENV_JOB=""
start_venv() {
  venv_ok && return 0
  local py
  if ! py=$(pick_python); then
    say "python: no Python 3.11 with venv found; installing Debian's python3-venv"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-venv python3-dev gcc; } \
      >>"$LOG/apt.log" 2>&1 || die "apt-get install python3-venv failed (see $LOG/apt.log)"
    py=$(pick_python) || die "no usable Python 3.11 (salt $SALT_VERSION's pinned dependencies are for 3.11)"
  fi
  say "venv: installing salt==$SALT_VERSION CherryPy==$CHERRYPY_VERSION into $VENV (background, log: $LOG/venv.log)"
  (
    set -e
    if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
      rm -rf "$VENV"
      "$py" -m venv "$VENV"
    fi
    rm -f "$VENV/.stack-pins"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input \
      "salt==$SALT_VERSION" "CherryPy==$CHERRYPY_VERSION" -r "$SALT_REQS"
    "$VENV/bin/python" -c 'import salt.version, tornado, zmq, cherrypy' # fails loudly if deps are missing
    venv_marker >"$VENV/.stack-pins"
  ) </dev/null >>"$LOG/venv.log" 2>&1 9>&- &
  VENV_JOB=$!
  BG_PIDS+=("$VENV_JOB")
}

finish_venv() {
  if [ -n "$VENV_JOB" ]; then
    if ! wait "$VENV_JOB"; then
      tail -n 30 "$LOG/venv.log" >&2 || true
      die "pip install of salt failed (see $LOG/venv.log)"
    fi
    VENV_JOB=""
    BG_PIDS=()
    say "venv: ready"
  fi
  venv_ok || die "venv $VENV is not usable (missing $VENV/.stack-pins or salt-master)"
}

# ----------------------------------------------------------------------------------------------- TLS

ensure_tls() {
  mkdir -p "$TLS"
  if [ ! -s "$TLS/ca.pem" ] || [ ! -s "$TLS/ca-key.pem" ]; then
    say "tls: creating CA"
    rm -f "$TLS/server.pem" "$TLS/server-key.pem"
    (umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
      -keyout "$TLS/ca-key.pem" -out "$TLS/ca.pem" -subj "/CN=saltstack-plugin local stack CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      >>"$LOG/tls.log" 2>&1) || die "openssl: CA creation failed (see $LOG/tls.log)"
    chmod 644 "$TLS/ca.pem"
  fi
  if [ ! -s "$TLS/server.pem" ] || [ ! -s "$TLS/server-key.pem" ] ||
    ! openssl x509 -checkend 86400 -noout -in "$TLS/server.pem" >/dev/null 2>&1; then
    say "tls: creating the server certificate (salt-api, mariadb, redis)"
    (
      umask 077
      openssl req -new -newkey rsa:2048 -nodes -keyout "$TLS/server-key.pem" -out "$TLS/server.csr" \
        -subj "/CN=localhost" &&
        openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca-key.pem" \
          -set_serial "0x$(openssl rand -hex 16)" -days 825 -sha256 -out "$TLS/server.pem" \
          -extfile <(printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
            "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth")
    ) >>"$LOG/tls.log" 2>&1 || die "openssl: server certificate failed (see $LOG/tls.log)"
    rm -f "$TLS/server.csr"
    chmod 644 "$TLS/server.pem"
    CHANGED[salt-api]=1 CHANGED[mariadb]=1 CHANGED[redis]=1 # all three serve this certificate
  fi
}

# ---------------------------------------------------------------------------------------------- salt

salt_configs() {
  local pw
  pw=$(secret salt-api)
  mkdir -p "$SALT_ETC" "$MASTER_PKI" "$MASTER/cache" "$MASTER/sock" "$SALT/log" "$SALT/srv/salt" "$SALT/srv/pillar"
  symlink "../salt/log/salt-master.log" "$LOG/salt-master.log"
  symlink "../salt/log/salt-api.log" "$LOG/salt-api.log"
  printf 'saltapi:%s\n' "$pw" | put "" "$EAUTH_FILE" 600
  put salt-master "$SALT_ETC/master" 644 <<EOF
# Generated by scripts/stack.sh on every \`up\`: edit the script, not this file.
id: stack-master
interface: 127.0.0.1
publish_port: $PUBLISH_PORT
ret_port: $RET_PORT
user: root
root_dir: $SALT
pki_dir: $MASTER_PKI
cachedir: $MASTER/cache
sock_dir: $MASTER/sock
pidfile: $MASTER_PID
log_file: $SALT/log/salt-master.log
key_logfile: $SALT/log/salt-key.log
log_level: warning
log_level_logfile: info
auto_accept: False
worker_threads: 4
timeout: 5
keep_jobs_seconds: 86400
max_event_size: 16777216
file_roots:
  base:
    - $SALT/srv/salt
pillar_roots:
  base:
    - $SALT/srv/pillar
netapi_enable_clients:
  - local
  - local_async
  - local_batch
  - local_subset
  - runner
  - runner_async
  - wheel
  - wheel_async
token_expire: 43200
token_expire_user_override: True
external_auth:
  file:
    ^filename: $EAUTH_FILE
    ^filetype: text
    ^hashtype: plaintext
    ^field_separator: ':'
    ^username_field: 1
    ^password_field: 2
    saltapi:
      - '.*'
      - '@wheel'
      - '@runner'
      - '@jobs'
api_pidfile: $API_PID
api_logfile: $SALT/log/salt-api.log
rest_cherrypy:
  host: 127.0.0.1
  port: $API_PORT
  ssl_crt: $TLS/server.pem
  ssl_key: $TLS/server-key.pem
  thread_pool: 30
EOF
  # salt-master and salt-api read the same file
  [ -n "${CHANGED[salt-master]:-}" ] && CHANGED[salt-api]=1
  local id
  for id in "${MINION_IDS[@]}"; do minion_config "$id"; done
}

minion_dir() { echo "$SALT/minions/$1"; }
minion_pidfile() { echo "$SALT/minions/$1/salt-minion.pid"; }

minion_config() {
  local id=$1 d
  d=$(minion_dir "$id")
  mkdir -p "$d/etc" "$d/pki" "$d/cache" "$d/sock"
  symlink "../salt/minions/$id/minion.log" "$LOG/minion-$id.log"
  put "minion:$id" "$d/etc/minion" 644 <<EOF
# Generated by scripts/stack.sh on every \`up\`: edit the script, not this file.
id: $id
master: 127.0.0.1
master_port: $RET_PORT
publish_port: $PUBLISH_PORT
user: root
root_dir: $d
pki_dir: $d/pki
cachedir: $d/cache
sock_dir: $d/sock
pidfile: $d/salt-minion.pid
log_file: $d/minion.log
log_level: warning
log_level_logfile: info
max_event_size: 16777216
acceptance_wait_time: 2
acceptance_wait_time_max: 5
file_client: remote
# no reverse-DNS lookups of every local address (slow without a resolver)
enable_fqdns_grains: False
grains:
  stack: true
EOF
}

ready_salt_master() { port_open "$RET_PORT" && port_open "$PUBLISH_PORT"; }

ensure_salt_master() {
  local pid
  if pid=$(live_pid "$MASTER_PID" salt-master); then
    if [ -n "${CHANGED[salt-master]:-}" ]; then
      say "salt-master: config changed, restarting"
      stop_pidfile salt-master "$MASTER_PID" salt-master
    else
      wait_for 30 "salt-master (pid $pid) to listen on $RET_PORT" "$LOG/salt-master.log" ready_salt_master
      say "salt-master: running (pid $pid)"
      return 0
    fi
  fi
  rm -f "$MASTER_PID"
  reap_orphans salt-master "$(master_frag)"
  require_port_free salt-master "$RET_PORT"
  require_port_free salt-master "$PUBLISH_PORT"
  "$VENV/bin/salt-master" -c "$SALT_ETC" -d </dev/null >>"$LOG/salt-master.log" 2>&1 9>&- ||
    die "salt-master -d failed (see $LOG/salt-master.log)"
  wait_for 30 "salt-master pidfile $MASTER_PID" "$LOG/salt-master.log" has_pid "$MASTER_PID" salt-master
  wait_for 30 "salt-master to listen on $PUBLISH_PORT/$RET_PORT" "$LOG/salt-master.log" ready_salt_master
  say "salt-master: started (pid $(live_pid "$MASTER_PID" salt-master))"
}

api_code() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$TLS/ca.pem" "$API_URL/" 2>/dev/null || true
}
ready_salt_api() { [ "$(api_code)" = 200 ]; }

ensure_salt_api() {
  local pid
  if pid=$(live_pid "$API_PID" salt-api); then
    if [ -n "${CHANGED[salt-api]:-}" ]; then
      say "salt-api: config or certificate changed, restarting"
      stop_pidfile salt-api "$API_PID" salt-api
    else
      wait_for 30 "salt-api (pid $pid) to answer on $API_URL" "$LOG/salt-api.log" ready_salt_api
      say "salt-api: running (pid $pid)"
      return 0
    fi
  fi
  rm -f "$API_PID"
  reap_orphans salt-api "$(api_frag)"
  require_port_free salt-api "$API_PORT"
  "$VENV/bin/salt-api" -c "$SALT_ETC" -d </dev/null >>"$LOG/salt-api.log" 2>&1 9>&- ||
    die "salt-api -d failed (see $LOG/salt-api.log)"
  wait_for 30 "salt-api pidfile $API_PID" "$LOG/salt-api.log" has_pid "$API_PID" salt-api
  wait_for 60 "salt-api to answer on $API_URL" "$LOG/salt-api.log" ready_salt_api
  say "salt-api: started (pid $(live_pid "$API_PID" salt-api))"
}

# ping_request <ids...>: prints salt-api's raw answer to test.ping on those minions (tgt_type list).
ping_request() {
  local pw tgt body
  pw=$(cat "$SECRETS/salt-api" 2>/dev/null) || return 1
  tgt=$(printf '"%s",' "$@")
  body=$(printf '[{"client":"local","tgt":[%s],"tgt_type":"list","fun":"test.ping","timeout":3,"gather_job_timeout":2,"username":"saltapi","password":"%s","eauth":"file"}]' \
    "${tgt%,}" "$pw")
  printf '%s' "$body" | curl -sS --max-time 20 --cacert "$TLS/ca.pem" -H 'Accept: application/json' \
    -H 'Content-Type: application/json' --data-binary @- "$API_URL/run" 2>&1
}

# salt_ping <ids...>: test.ping through salt-api. Prints the ids that did not answer true; returns 0 when
# all did.
salt_ping() {
  local resp
  resp=$(ping_request "$@") || { printf '%s\n' "$*"; return 1; }
  printf '%s' "$resp" | "$(python_for_json)" -c '
import json, sys
ids = sys.argv[1:]
try:
    ret = json.load(sys.stdin)["return"][0]
except Exception:
    ret = {}
bad = [i for i in ids if not isinstance(ret, dict) or ret.get(i) is not True]
print(" ".join(bad))
sys.exit(1 if bad else 0)' "$@"
}

master_key_state() { # prints accepted|pending|rejected|denied|none for minion id $1
  local id=$1
  if [ -e "$MASTER_PKI/minions/$id" ]; then echo accepted
  elif [ -e "$MASTER_PKI/minions_pre/$id" ]; then echo pending
  elif [ -e "$MASTER_PKI/minions_rejected/$id" ]; then echo rejected
  elif [ -e "$MASTER_PKI/minions_denied/$id" ]; then echo denied
  else echo none
  fi
}

salt_key() { "$VENV/bin/salt-key" -c "$SALT_ETC" "$@" </dev/null 9>&-; }

minion_apps() { echo "$HOSTS_DIR/$1/apps"; }

# The top mount on path $1's propagation (shared, private, slave, ...); empty when $1 is no mount point.
propagation_of() { findmnt -n -o PROPAGATION --mountpoint "$1" 2>/dev/null | tail -n 1 | tr -d ' '; }

# Prepares this (the root) mount namespace for the minions' private app directories, idempotently:
# - '/' shared: a mount a minion makes (a disk formatted and mounted through salt) shows here, and one
#   made here shows in the minions' namespaces (they are copies of this one, peers of its '/');
#   not recursive: the mounts below '/' (proc, sys, dev, ...) keep their propagation;
# - $STACK_APPS_MOUNT a private bind mount of itself: each minion binds its own directory over its copy,
#   and since that copy is private too, the bind stays in the minion's namespace.
ensure_apps_mount() {
  local id prop
  for id in "${MINION_IDS[@]}"; do mkdir -p "$(minion_apps "$id")"; done
  chmod 755 "$HOSTS_DIR"
  for id in "${MINION_IDS[@]}"; do chmod 755 "$HOSTS_DIR/$id" "$(minion_apps "$id")"; done
  [ "$(id -u)" = 0 ] || die "the minions' private $STACK_APPS_MOUNT needs root (mount namespaces)"
  command -v unshare >/dev/null 2>&1 || die "unshare (util-linux) not found"
  prop=$(propagation_of /)
  case ",$prop," in
    *,shared,*) ;;
    *) mount --make-shared / || die "mount --make-shared / failed" ;;
  esac
  mkdir -p "$STACK_APPS_MOUNT"
  if ! mountpoint -q "$STACK_APPS_MOUNT"; then
    mount --bind "$STACK_APPS_MOUNT" "$STACK_APPS_MOUNT" || die "mount --bind $STACK_APPS_MOUNT failed"
  fi
  if [ "$(propagation_of "$STACK_APPS_MOUNT")" != private ]; then
    mount --make-private "$STACK_APPS_MOUNT" || die "mount --make-private $STACK_APPS_MOUNT failed"
  fi
}

# True when the minion process $2 sees $STACK_APPS_MOUNT as its own $HOSTS_DIR/<id>/apps: the path is
# looked up through /proc/<pid>/root, that is in the process's mount namespace.
minion_isolated() {
  local want got
  want=$(stat -c %d:%i "$(minion_apps "$1")" 2>/dev/null) || return 1
  got=$(stat -L -c %d:%i "/proc/$2/root$STACK_APPS_MOUNT" 2>/dev/null) || return 1
  [ "$want" = "$got" ]
}

start_minion() {
  local id=$1 d pf apps pid
  d=$(minion_dir "$id")
  pf=$(minion_pidfile "$id")
  apps=$(minion_apps "$id")
  rm -f "$pf"
  reap_orphans "minion:$id" "$(minion_frag "$id")"
  # A minion without its own key pair is new: drop whatever key the master still has under its id.
  if [ ! -s "$d/pki/minion.pem" ] && [ "$(master_key_state "$id")" != none ]; then
    salt_key -d "$id" -y >>"$LOG/minion-$id.log" 2>&1 || true
  fi
  # In a new mount namespace (a copy of this one, same propagation: not unshare's default private),
  # bind the minion's own apps directory over $STACK_APPS_MOUNT, then exec salt-minion, which
  # daemonises (pidfile) inside it. Paths are positional arguments, never part of the script.
  unshare --mount --propagation unchanged \
    sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' stack-minion "$apps" "$STACK_APPS_MOUNT" \
    "$VENV/bin/salt-minion" -c "$d/etc" -d </dev/null >>"$LOG/minion-$id.log" 2>&1 9>&- ||
    die "salt-minion $id -d (in its own mount namespace) failed (see $LOG/minion-$id.log)"
  wait_for 30 "salt-minion $id pidfile" "$LOG/minion-$id.log" has_pid "$pf" salt-minion
  pid=$(live_pid "$pf" salt-minion)
  minion_isolated "$id" "$pid" ||
    die "minion:$id (pid $pid) does not see $apps at $STACK_APPS_MOUNT (findmnt -N $pid $STACK_APPS_MOUNT)"
  say "minion:$id: started (pid $pid, $STACK_APPS_MOUNT -> $apps)"
}

# Starts the minions that are not running, accepts their pending keys and waits until every one answers
# test.ping. Minions that are up and answering are left alone.
ensure_minions() {
  local id pid pf quiet=0 to_accept=() state not_answering deadline
  ensure_apps_mount
  for id in "${MINION_IDS[@]}"; do
    pf=$(minion_pidfile "$id")
    if pid=$(live_pid "$pf" salt-minion); then
      if [ -n "${CHANGED[minion:$id]:-}" ]; then
        say "minion:$id: config changed, restarting"
        stop_pidfile "minion:$id" "$pf" salt-minion
      elif ! minion_isolated "$id" "$pid"; then
        say "minion:$id: $STACK_APPS_MOUNT is not its private $(minion_apps "$id"), restarting"
        stop_pidfile "minion:$id" "$pf" salt-minion
      else
        continue
      fi
    fi
    start_minion "$id"
    quiet=1
  done
  for id in "${MINION_IDS[@]}"; do
    state=$(master_key_state "$id")
    case "$state" in
      accepted) ;;
      rejected | denied)
        die "minion:$id: its key is $state on the master; run: $VENV/bin/salt-key -c $SALT_ETC -d $id -y, then restart minion:$id" ;;
      *) to_accept+=("$id") ;;
    esac
  done
  if [ "${#to_accept[@]}" -gt 0 ]; then
    for id in "${to_accept[@]}"; do
      wait_for 60 "the key of minion $id to show up as pending" "$LOG/minion-$id.log" \
        test -e "$MASTER_PKI/minions_pre/$id"
    done
    for id in "${to_accept[@]}"; do
      salt_key -a "$id" -y >>"$SALT/log/salt-key.log" 2>&1 || die "salt-key -a $id failed (see $SALT/log/salt-key.log)"
    done
    say "minions: accepted keys of ${to_accept[*]}"
  fi
  deadline=$((SECONDS + 60))
  while ! not_answering=$(salt_ping "${MINION_IDS[@]}"); do
    if [ "$SECONDS" -ge "$deadline" ]; then
      for id in $not_answering; do
        printf -- '--- last lines of %s:\n' "$LOG/minion-$id.log" >&2
        tail -n 15 "$LOG/minion-$id.log" >&2 || true
      done
      printf -- '--- salt-api answered test.ping with: %s\n' "$(ping_request "${MINION_IDS[@]}" | head -c 600)" >&2
      die "timed out after 60s waiting for test.ping from: $not_answering"
    fi
    [ "$quiet" = 1 ] || say "minions: waiting for test.ping from $not_answering"
    quiet=1
    sleep 1
  done
  say "minions: ${MINION_IDS[*]} answer test.ping"
}

# Minions of an earlier, larger STACK_MINION_COUNT: stop them and drop their keys.
stop_extra_minions() {
  local d id keep
  for d in "$SALT"/minions/*/; do
    [ -d "$d" ] || continue
    id=$(basename "$d")
    keep=0
    for k in "${MINION_IDS[@]}"; do [ "$k" = "$id" ] && keep=1; done
    [ "$keep" = 1 ] && continue
    if live_pid "$(minion_pidfile "$id")" salt-minion >/dev/null; then
      stop_pidfile "minion:$id" "$(minion_pidfile "$id")" salt-minion
    fi
    if [ "$(master_key_state "$id")" != none ]; then
      salt_key -d "$id" -y >/dev/null 2>&1 || true
      say "minion:$id: not in STACK_MINION_COUNT=$MINION_COUNT, stopped and key deleted"
    fi
  done
}

# ------------------------------------------------------------------------------------------------ s3

s3rver_installed() {
  [ -f "$ROOT/node_modules/s3rver/package.json" ] || die "s3rver is not installed: run npm install (or npm ci) in $ROOT first"
  [ -f "$S3_LAUNCHER" ] || die "$S3_LAUNCHER is missing"
}

node_bin() {
  if [ -x "$ROOT/node_modules/.bin/node" ]; then echo "$ROOT/node_modules/.bin/node"
  elif command -v node >/dev/null 2>&1; then command -v node
  else die "node not found: run npm install (or npm ci) in $ROOT first"
  fi
}

ready_s3() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$S3_PORT/artifacts?max-keys=1" 2>/dev/null || true)
  [ -n "$code" ] && [ "$code" != 000 ]
}

# s3rver, started by scripts/stack/s3-server.cjs, which also POSTs its events to the $S3_HOOKS/*.url URLs.
ensure_s3() {
  local pid nodeb
  mkdir -p "$S3_HOOKS"
  if pid=$(live_pid "$S3_PID" "$S3_PAT"); then
    wait_for 30 "s3 (pid $pid) to answer on :$S3_PORT" "$LOG/s3.log" ready_s3
    say "s3: running (pid $pid)"
    return 0
  fi
  rm -f "$S3_PID"
  reap_orphans s3 "$(s3_frag)"
  reap_orphans s3 "$(s3_legacy_frag)"
  require_port_free s3 "$S3_PORT"
  s3rver_installed
  nodeb=$(node_bin)
  mkdir -p "$S3_DIR"
  spawn "$S3_PID" "$LOG/s3.log" nohup "$nodeb" "$S3_LAUNCHER" --directory "$S3_DIR" --address 127.0.0.1 \
    --port "$S3_PORT" --bucket artifacts --hooks "$S3_HOOKS"
  wait_for 30 "s3 to answer on :$S3_PORT" "$LOG/s3.log" ready_s3
  say "s3: started (pid $(live_pid "$S3_PID" "$S3_PAT"), event hooks: $S3_HOOKS/*.url)"
}

# ------------------------------------------------------------------------------------------- mariadb

mdb_admin() { mariadb-admin --no-defaults --socket="$MDB_SOCK" -uroot --connect-timeout=2 "$@" </dev/null 9>&-; }
ready_mariadb() { mdb_admin ping >/dev/null 2>&1; }

# TLS is offered on the normal port (with the stack CA's server certificate) and not required, so that
# both the plain and the TLS paths of the database operations are tested against the same server.
mariadb_args() {
  printf '%s\n' --no-defaults --datadir="$MDB_DATA" --socket="$MDB_SOCK" --port="$MYSQL_PORT" \
    --bind-address=127.0.0.1 --pid-file="$MDB_PID" --user=root --log-error="$LOG/mariadb.log" \
    --skip-name-resolve --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --innodb-buffer-pool-size=64M --ssl-ca="$TLS/ca.pem" --ssl-cert="$TLS/server.pem" --ssl-key="$TLS/server-key.pem"
}
ready_mariadb_tls() { [ "$(mdb_admin variables 2>/dev/null | awk '$2 == "have_ssl" { print $4 }')" = YES ]; }

ensure_mariadb() {
  local pid pw args=()
  mkdir -p "$MDB"
  mapfile -t args < <(mariadb_args)
  # A mariadbd started with other arguments (before TLS, or before a new certificate) is restarted.
  put mariadb "$MDB_ARGS" 600 < <(mariadb_args)
  if pid=$(live_pid "$MDB_PID" mariadbd); then
    if [ -n "${CHANGED[mariadb]:-}" ]; then
      say "mariadb: arguments or certificate changed, restarting"
      stop_pidfile mariadb "$MDB_PID" mariadbd
    else
      wait_for 60 "mariadbd (pid $pid) to answer ping" "$LOG/mariadb.log" ready_mariadb
      say "mariadb: running (pid $pid)"
      return 0
    fi
  fi
  rm -f "$MDB_PID"
  reap_orphans mariadb "$(mariadb_frag)"
  require_port_free mariadb "$MYSQL_PORT"
  if [ ! -d "$MDB_DATA/mysql" ]; then
    say "mariadb: initialising $MDB_DATA"
    rm -rf "$MDB_DATA" "$MDB/data.init"
    mariadb-install-db --no-defaults --datadir="$MDB/data.init" --user=root --skip-test-db \
      --auth-root-authentication-method=socket </dev/null >>"$LOG/mariadb.log" 2>&1 9>&- ||
      { tail -n 25 "$LOG/mariadb.log" >&2; die "mariadb-install-db failed (see $LOG/mariadb.log)"; }
    mv "$MDB/data.init" "$MDB_DATA"
  fi
  spawn "$MDB_PID" "$LOG/mariadb.log" "$(command -v mariadbd)" "${args[@]}"
  wait_for 60 "mariadbd to answer ping on $MDB_SOCK" "$LOG/mariadb.log" ready_mariadb
  # mariadbd starts without TLS (a log line only) when it cannot load the certificate or the key.
  ready_mariadb_tls || { tail -n 25 "$LOG/mariadb.log" >&2; die "mariadb: TLS is not enabled (have_ssl is not YES; see $LOG/mariadb.log)"; }
  pw=$(secret mysql)
  local sql="" h
  for h in '%' localhost 127.0.0.1; do
    sql+="CREATE USER IF NOT EXISTS 'plugin'@'$h' IDENTIFIED BY '$pw';"
    sql+="ALTER USER 'plugin'@'$h' IDENTIFIED BY '$pw';"
    sql+="GRANT ALL PRIVILEGES ON *.* TO 'plugin'@'$h' WITH GRANT OPTION;"
  done
  sql+="FLUSH PRIVILEGES;"
  printf '%s\n' "$sql" | mariadb --no-defaults --socket="$MDB_SOCK" -uroot 9>&- ||
    die "mariadb: creating user plugin failed"
  say "mariadb: started (pid $(live_pid "$MDB_PID" mariadbd))"
}

# --------------------------------------------------------------------------------------------- redis

redis_cli() { REDISCLI_AUTH=$(cat "$SECRETS/redis" 2>/dev/null) redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@" </dev/null 9>&-; }
ready_redis() { [ "$(redis_cli ping 2>/dev/null)" = PONG ]; }
redis_tls_cli() {
  REDISCLI_AUTH=$(cat "$SECRETS/redis" 2>/dev/null) redis-cli -h 127.0.0.1 -p "$REDIS_TLS_PORT" --tls --cacert "$TLS/ca.pem" \
    "$@" </dev/null 9>&-
}
ready_redis_tls() { [ "$(redis_tls_cli ping 2>/dev/null)" = PONG ]; }

ensure_redis() {
  local pid pw
  pw=$(secret redis)
  mkdir -p "$REDIS_DIR"
  put redis "$REDIS_CONF" 600 <<EOF
# Generated by scripts/stack.sh on every \`up\`: edit the script, not this file.
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize yes
pidfile $REDIS_PID
logfile $LOG/redis.log
dir $REDIS_DIR
save ""
appendonly no
requirepass $pw
# TLS on a second port (clients are not asked for certificates); Debian's redis-server is built with TLS.
tls-port $REDIS_TLS_PORT
tls-cert-file $TLS/server.pem
tls-key-file $TLS/server-key.pem
tls-ca-cert-file $TLS/ca.pem
tls-auth-clients no
EOF
  if pid=$(live_pid "$REDIS_PID" redis-server); then
    if [ -n "${CHANGED[redis]:-}" ]; then
      say "redis: config changed, restarting"
      stop_pidfile redis "$REDIS_PID" redis-server
    else
      wait_for 30 "redis (pid $pid) to answer PING" "$LOG/redis.log" ready_redis
      wait_for 30 "redis (pid $pid) to answer PING over TLS on :$REDIS_TLS_PORT" "$LOG/redis.log" ready_redis_tls
      say "redis: running (pid $pid)"
      return 0
    fi
  fi
  rm -f "$REDIS_PID"
  require_port_free redis "$REDIS_PORT"
  require_port_free redis "$REDIS_TLS_PORT"
  redis-server "$REDIS_CONF" </dev/null >>"$LOG/redis.log" 2>&1 9>&- || die "redis-server failed (see $LOG/redis.log)"
  wait_for 30 "redis pidfile" "$LOG/redis.log" has_pid "$REDIS_PID" redis-server
  wait_for 30 "redis to answer PING" "$LOG/redis.log" ready_redis
  wait_for 30 "redis to answer PING over TLS on :$REDIS_TLS_PORT" "$LOG/redis.log" ready_redis_tls
  say "redis: started (pid $(live_pid "$REDIS_PID" redis-server), TLS on :$REDIS_TLS_PORT)"
}

# ---------------------------------------------------------------------------------------------- sshd

ssh_check() {
  ssh -i "$SSH_CLIENT_KEY" -p "$SSH_PORT" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o BatchMode=yes -o ConnectTimeout=5 -o LogLevel=ERROR -o IdentitiesOnly=yes root@127.0.0.1 true \
    </dev/null 9>&-
}
ready_sshd() { ssh_check >/dev/null 2>&1; }

sshd_config() {
  local use_pam=$1
  put sshd "$SSHD_CONF" 600 <<EOF
# Generated by scripts/stack.sh on every \`up\`: edit the script, not this file.
ListenAddress 127.0.0.1
Port $SSH_PORT
HostKey $SSH_HOST_KEY
PidFile $SSHD_PID
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
AuthorizedKeysFile $SSH_DIR/authorized_keys
UsePAM $use_pam
StrictModes no
PrintMotd no
PrintLastLog no
UseDNS no
MaxStartups 100:30:200
MaxSessions 50
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
EOF
}

start_sshd() {
  rm -f "$SSHD_PID"
  reap_orphans sshd "$(sshd_frag)"
  require_port_free sshd "$SSH_PORT"
  mkdir -p /run/sshd
  chmod 755 /run/sshd
  /usr/sbin/sshd -t -f "$SSHD_CONF" >>"$LOG/sshd.log" 2>&1 || die "sshd -t rejected $SSHD_CONF (see $LOG/sshd.log)"
  /usr/sbin/sshd -f "$SSHD_CONF" -E "$LOG/sshd.log" </dev/null 9>&- || die "sshd failed to start (see $LOG/sshd.log)"
  wait_for 30 "sshd pidfile" "$LOG/sshd.log" has_pid "$SSHD_PID" sshd
}

ensure_sshd() {
  local pid use_pam=yes deadline
  mkdir -p "$SSH_DIR"
  chmod 700 "$SSH_DIR"
  [ -s "$SSH_HOST_KEY" ] || ssh-keygen -q -t ed25519 -N '' -C "stack-sshd-host" -f "$SSH_HOST_KEY" </dev/null
  [ -s "$SSH_CLIENT_KEY" ] || ssh-keygen -q -t ed25519 -N '' -C "stack-client" -f "$SSH_CLIENT_KEY" </dev/null
  put sshd "$SSH_DIR/authorized_keys" 600 <"$SSH_CLIENT_KEY.pub"
  # UsePAM yes unless it was found not to work here (decided once, remembered in use-pam).
  [ -s "$SSH_DIR/use-pam" ] && use_pam=$(cat "$SSH_DIR/use-pam")
  sshd_config "$use_pam"
  if pid=$(live_pid "$SSHD_PID" sshd); then
    if [ -n "${CHANGED[sshd]:-}" ]; then
      say "sshd: config changed, restarting"
      stop_pidfile sshd "$SSHD_PID" sshd
    else
      wait_for 30 "sshd (pid $pid) to accept the client key" "$LOG/sshd.log" ready_sshd
      say "sshd: running (pid $pid)"
      return 0
    fi
  fi
  start_sshd
  deadline=$((SECONDS + 15))
  until ready_sshd; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      if [ "$use_pam" = yes ]; then
        say "sshd: key login fails with UsePAM yes; switching to UsePAM no"
        echo no >"$SSH_DIR/use-pam"
        use_pam=no
        stop_pidfile sshd "$SSHD_PID" sshd
        sshd_config no
        start_sshd
        deadline=$((SECONDS + 15))
        continue
      fi
      ssh_check >&2 || true
      tail -n 25 "$LOG/sshd.log" >&2 || true
      die "ssh root@127.0.0.1 -p $SSH_PORT with $SSH_CLIENT_KEY does not work"
    fi
    sleep 0.3
  done
  [ -s "$SSH_DIR/use-pam" ] || echo "$use_pam" >"$SSH_DIR/use-pam"
  say "sshd: started (pid $(live_pid "$SSHD_PID" sshd), UsePAM $use_pam)"
}

# ------------------------------------------------------------------------------------------- env file

write_env() {
  local minions fp
  minions=$(IFS=,; echo "${MINION_IDS[*]}")
  fp=$(ssh-keygen -lf "$SSH_HOST_KEY.pub" | awk '{print $2}')
  put "" "$ENV_FILE" 600 <<EOF
STACK_DIR=$STACK_DIR
SALT_API_URL=$API_URL
SALT_API_EAUTH=file
SALT_API_USER=saltapi
SALT_API_PASSWORD=$(secret salt-api)
SALT_API_CA_FILE=$TLS/ca.pem
SALT_MASTER_CONFIG_DIR=$SALT_ETC
SALT_VENV=$VENV
STACK_MINIONS=$minions
S3_ENDPOINT=http://127.0.0.1:$S3_PORT
S3_REGION=us-east-1
S3_ACCESS_KEY=S3RVER
S3_SECRET_KEY=S3RVER
S3_BUCKET=artifacts
S3_FORCE_PATH_STYLE=true
RELEASE_UPLOADERS=AWS:S3RVER
MYSQL_HOST=127.0.0.1
MYSQL_PORT=$MYSQL_PORT
MYSQL_USER=plugin
MYSQL_PASSWORD=$(secret mysql)
MYSQL_SOCKET=$MDB_SOCK
REDIS_HOST=127.0.0.1
REDIS_PORT=$REDIS_PORT
REDIS_PASSWORD=$(secret redis)
REDIS_TLS_PORT=$REDIS_TLS_PORT
STACK_CA_FILE=$TLS/ca.pem
SSH_HOST=127.0.0.1
SSH_PORT=$SSH_PORT
SSH_USER=root
SSH_KEY_FILE=$SSH_CLIENT_KEY
SSH_HOST_KEY_FINGERPRINT=$fp
AGENT_MINION_MASTERS=127.0.0.1
AGENT_MINION_MASTER_PORT=$RET_PORT
AGENT_MINION_PUBLISH_PORT=$PUBLISH_PORT
STACK_APPS_MOUNT=$STACK_APPS_MOUNT
STACK_HOSTS_DIR=$HOSTS_DIR
STACK_S3_HOOKS_DIR=$S3_HOOKS
EOF
}

# -------------------------------------------------------------------------------------------- commands

lock() {
  mkdir -p "$STACK_DIR" "$LOG"
  exec 9>>"$STACK_DIR/.lock"
  flock -w 900 9 || die "another stack.sh is still running (lock $STACK_DIR/.lock)"
}

prepare() {
  lock
  ensure_system_packages
  secret salt-api >/dev/null
  secret mysql >/dev/null
  secret redis >/dev/null
}

cmd_up() {
  prepare
  start_venv # in the background: the other services start meanwhile
  ensure_tls
  ensure_s3
  ensure_mariadb
  ensure_redis
  ensure_sshd
  finish_venv
  salt_configs
  ensure_salt_master
  ensure_salt_api
  stop_extra_minions
  ensure_minions
  write_env
  say "stack ready: $ENV_FILE"
}

cmd_down() {
  if [ ! -d "$STACK_DIR" ]; then
    say "stack down (no $STACK_DIR)"
    return 0
  fi
  lock
  local d id args=(salt-api "$API_PID" salt-api)
  for d in "$SALT"/minions/*/; do
    [ -d "$d" ] || continue
    id=$(basename "$d")
    args+=("minion:$id" "$(minion_pidfile "$id")" salt-minion)
  done
  args+=(salt-master "$MASTER_PID" salt-master s3 "$S3_PID" "$S3_PAT" mariadb "$MDB_PID" mariadbd)
  args+=(redis "$REDIS_PID" redis-server sshd "$SSHD_PID" sshd)
  stop_pidfile "${args[@]}"
  reap_orphans salt-api "$(api_frag)"
  reap_orphans salt-master "$(master_frag)"
  for d in "$SALT"/minions/*/; do
    [ -d "$d" ] || continue
    id=$(basename "$d")
    reap_orphans "minion:$id" "$(minion_frag "$id")"
  done
  reap_orphans s3 "$(s3_frag)"
  reap_orphans s3 "$(s3_legacy_frag)"
  reap_orphans mariadb "$(mariadb_frag)"
  reap_orphans sshd "$(sshd_frag)"
  await_reaped
  say "stack down"
}

cmd_restart() {
  local svc=${1:-}
  [ -n "$svc" ] || die "usage: stack.sh restart salt-api|salt-master|minion:<id>|s3|mariadb|redis|sshd"
  local id=${svc#minion:} k ok=0
  case "$svc" in
    minion:*)
      for k in "${MINION_IDS[@]}"; do [ "$k" = "$id" ] && ok=1; done
      [ "$ok" = 1 ] || die "no minion '$id' (STACK_MINION_COUNT=$MINION_COUNT: ${MINION_IDS[*]})"
      ;;
    salt-master | salt-api) ;;
    s3 | mariadb | redis | sshd) ;;
    *) die "unknown service '$svc' (salt-api, salt-master, minion:<id>, s3, mariadb, redis, sshd)" ;;
  esac
  prepare
  case "$svc" in
    salt-master | salt-api | minion:*)
      start_venv
      finish_venv
      ensure_tls
      salt_configs
      ;;
    mariadb | redis) ensure_tls ;; # they serve its certificate (created if missing)
  esac
  case "$svc" in
    salt-master)
      stop_pidfile salt-master "$MASTER_PID" salt-master
      ensure_salt_master
      ensure_minions # wait until the minions are back on the new master
      ;;
    salt-api)
      stop_pidfile salt-api "$API_PID" salt-api
      ensure_salt_api
      ;;
    minion:*)
      stop_pidfile "$svc" "$(minion_pidfile "$id")" salt-minion
      ensure_minions
      ;;
    s3)
      stop_pidfile s3 "$S3_PID" "$S3_PAT"
      ensure_s3
      ;;
    mariadb)
      stop_pidfile mariadb "$MDB_PID" mariadbd
      ensure_mariadb
      ;;
    redis)
      stop_pidfile redis "$REDIS_PID" redis-server
      ensure_redis
      ;;
    sshd)
      stop_pidfile sshd "$SSHD_PID" sshd
      ensure_sshd
      ;;
  esac
  write_env # a restart after a change of this script may change the settings (mariadb, redis: TLS)
  say "restarted $svc"
}

cmd_status() {
  local down=0 pid id not_answering="" api_up=0
  line() { # name up|down detail
    say "$1: $2 ($3)"
    [ "$2" = up ] || down=1
  }
  check() { # name pidfile pattern ready-fn detail-when-up
    local name=$1 f=$2 pat=$3 fn=$4 detail=$5 p
    if ! p=$(live_pid "$f" "$pat"); then
      if [ -e "$f" ]; then line "$name" down "stale pidfile $f"; else line "$name" down "not running"; fi
    elif "$fn"; then
      line "$name" up "pid $p, $detail"
    else
      line "$name" down "pid $p alive but not answering"
    fi
  }
  check salt-master "$MASTER_PID" salt-master ready_salt_master "127.0.0.1:$PUBLISH_PORT/$RET_PORT"
  check salt-api "$API_PID" salt-api ready_salt_api "$API_URL"
  if ready_salt_api >/dev/null 2>&1; then
    api_up=1
    not_answering=$(salt_ping "${MINION_IDS[@]}" 2>/dev/null) || true
  fi
  for id in "${MINION_IDS[@]}"; do
    if ! pid=$(live_pid "$(minion_pidfile "$id")" salt-minion); then
      line "minion:$id" down "not running"
    elif ! minion_isolated "$id" "$pid"; then
      line "minion:$id" down "pid $pid alive but $STACK_APPS_MOUNT is not its private $(minion_apps "$id"): run up"
    elif [ "$api_up" = 0 ]; then
      line "minion:$id" up "pid $pid, test.ping not checked: salt-api is down"
    elif [[ " $not_answering " == *" $id "* ]]; then
      line "minion:$id" down "pid $pid alive but no test.ping answer through salt-api"
    else
      line "minion:$id" up "pid $pid, test.ping true"
    fi
  done
  check s3 "$S3_PID" "$S3_PAT" ready_s3 "http://127.0.0.1:$S3_PORT, hooks $S3_HOOKS/*.url"
  check mariadb "$MDB_PID" mariadbd ready_mariadb "127.0.0.1:$MYSQL_PORT, TLS offered"
  check redis "$REDIS_PID" redis-server ready_redis "127.0.0.1:$REDIS_PORT, TLS on :$REDIS_TLS_PORT"
  check sshd "$SSHD_PID" sshd ready_sshd "127.0.0.1:$SSH_PORT"
  return "$down"
}

usage() {
  echo "usage: bash scripts/stack.sh up|down|status|restart <salt-api|salt-master|minion:<id>|s3|mariadb|redis|sshd>" >&2
  exit 2
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  restart) cmd_restart "${2:-}" ;;
  *) usage ;;
esac
