import { shellJoin } from '../scripts/shell-quote.js';
import type { MinionPaths } from './minion-config.js';
import { PUB_MARKERS } from './salt-key-finger.js';

/**
 * How salt-minion gets onto the host: a package repository (apt/dnf/yum), the salt bootstrap script from
 * a URL, an offline bundle (a .tar.gz with `install.sh` at its root, fetched from a presigned S3 URL), or
 * `preinstalled` (configure and start only).
 */
export type InstallMethod = 'repository' | 'bootstrap' | 'bundle' | 'preinstalled';

// Shared by both scripts: stdin is closed (sudo may leave the password line unread), each step is announced
// on stdout so that a failure names it, and systemd is used only for the packaged /etc/salt layout.
const PRELUDE =
  'exec </dev/null; set -u; ' +
  'step() { echo "agent-step: $1"; }; ' +
  'fail() { echo "agent-fail: $1" >&2; exit 1; }; ' +
  'use_systemd() { [ "$dir" = /etc/salt ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }; ' +
  'stop_pid() { [ -f "$pidfile" ] || return 0; pid=$(cat "$pidfile" 2>/dev/null); ' +
  'if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; i=0; ' +
  'while kill -0 "$pid" 2>/dev/null && [ $i -lt 40 ]; do sleep 0.25; i=$((i+1)); done; kill -9 "$pid" 2>/dev/null; fi; rm -f "$pidfile"; }; ';

/**
 * Installs (per method), configures and starts salt-minion, then prints its public key between markers.
 * A constant: everything variable arrives as positional parameters quoted by shellQuote.
 * $1 method, $2 config dir, $3 salt-minion program, $4 config text, $5 bootstrap script or bundle URL, $6 pki dir, $7 pidfile.
 */
export const INSTALL_SCRIPT =
  'method=$1; dir=$2; bin=$3; conf=$4; url=$5; pki=$6; pidfile=$7; ' +
  PRELUDE +
  'case $method in ' +
  'repository) step install-package; ' +
  'if command -v apt-get >/dev/null 2>&1; then DEBIAN_FRONTEND=noninteractive apt-get install -y salt-minion || fail "apt-get install salt-minion failed"; ' +
  'elif command -v dnf >/dev/null 2>&1; then dnf install -y salt-minion || fail "dnf install salt-minion failed"; ' +
  'elif command -v yum >/dev/null 2>&1; then yum install -y salt-minion || fail "yum install salt-minion failed"; ' +
  'else fail "no apt-get, dnf or yum on this host"; fi ;; ' +
  'bootstrap) step bootstrap; tmp=$(mktemp) || fail "mktemp failed"; ' +
  'if command -v curl >/dev/null 2>&1; then curl -fsSL -o "$tmp" "$url" || fail "download of $url failed"; ' +
  'elif command -v wget >/dev/null 2>&1; then wget -q -O "$tmp" "$url" || fail "download of $url failed"; ' +
  'else fail "neither curl nor wget on this host"; fi; ' +
  'sh "$tmp" -X stable || { rm -f "$tmp"; fail "the bootstrap script failed"; }; rm -f "$tmp" ;; ' +
  'bundle) step bundle; tmp=$(mktemp -d) || fail "mktemp failed"; ' +
  'if command -v curl >/dev/null 2>&1; then curl -fsS -o "$tmp/bundle.tar.gz" "$url" || { rm -rf "$tmp"; fail "download of the bundle failed"; }; ' +
  'elif command -v wget >/dev/null 2>&1; then wget -q -O "$tmp/bundle.tar.gz" "$url" || { rm -rf "$tmp"; fail "download of the bundle failed"; }; ' +
  'else rm -rf "$tmp"; fail "neither curl nor wget on this host"; fi; ' +
  'tar -xzf "$tmp/bundle.tar.gz" -C "$tmp" || { rm -rf "$tmp"; fail "the bundle is not a .tar.gz"; }; ' +
  '[ -f "$tmp/install.sh" ] || { rm -rf "$tmp"; fail "the bundle has no install.sh at its root"; }; ' +
  '(cd "$tmp" && sh ./install.sh) || { rm -rf "$tmp"; fail "the bundle install.sh failed"; }; rm -rf "$tmp" ;; ' +
  'preinstalled) ;; ' +
  '*) fail "unknown install method $method" ;; esac; ' +
  'case $bin in */*) [ -x "$bin" ] || fail "salt-minion not found at $bin" ;; ' +
  '*) command -v "$bin" >/dev/null 2>&1 || fail "salt-minion is not installed (not on PATH)" ;; esac; ' +
  'step configure; umask 077; mkdir -p "$dir" "$pki" || fail "cannot create $dir"; ' +
  'printf "%s" "$conf" > "$dir/minion.agent-tmp" && mv -f "$dir/minion.agent-tmp" "$dir/minion" || fail "cannot write $dir/minion"; ' +
  'step start; ' +
  'if use_systemd; then systemctl enable salt-minion >/dev/null 2>&1; systemctl restart salt-minion || fail "systemctl restart salt-minion failed"; ' +
  'else stop_pid; "$bin" -c "$dir" -d || fail "salt-minion -c $dir -d failed"; fi; ' +
  'step wait-key; i=0; while [ ! -s "$pki/minion.pub" ]; do i=$((i+1)); ' +
  '[ $i -gt 120 ] && fail "salt-minion did not create $pki/minion.pub within 30 s"; sleep 0.25; done; ' +
  `echo ${PUB_MARKERS.begin}; cat "$pki/minion.pub"; echo; echo ${PUB_MARKERS.end}`;

/**
 * Stops salt-minion and removes what the install put there: the package (repository, bootstrap) or only
 * its config and files (preinstalled). A bundle is taken to have installed the distribution's package. Idempotent: absent pieces are skipped.
 * $1 method, $2 config dir, $3 pidfile, $4 pki dir, $5 cache dir.
 */
export const UNINSTALL_SCRIPT =
  'method=$1; dir=$2; pidfile=$3; pki=$4; cache=$5; ' +
  PRELUDE +
  'step stop; if use_systemd; then systemctl disable --now salt-minion >/dev/null 2>&1; fi; stop_pid; ' +
  'case $method in repository|bootstrap|bundle) step remove-package; ' +
  'if command -v apt-get >/dev/null 2>&1; then dpkg -s salt-minion >/dev/null 2>&1 && { DEBIAN_FRONTEND=noninteractive apt-get remove -y salt-minion || fail "apt-get remove salt-minion failed"; }; ' +
  'elif command -v dnf >/dev/null 2>&1; then rpm -q salt-minion >/dev/null 2>&1 && { dnf remove -y salt-minion || fail "dnf remove salt-minion failed"; }; ' +
  'elif command -v yum >/dev/null 2>&1; then rpm -q salt-minion >/dev/null 2>&1 && { yum remove -y salt-minion || fail "yum remove salt-minion failed"; }; fi ;; esac; ' +
  'step remove-files; rm -rf "$dir/minion" "$dir/minion.d" "$pki" "$cache" || fail "cannot remove the minion files under $dir"; ' +
  'echo agent-uninstalled';

/**
 * Wraps a fixed program for the login user: root runs it directly; anyone else through `sudo -S -p ''`,
 * which reads the password from stdin (the caller sends it there), so it never shows in a process list.
 */
export function privileged(user: string, words: readonly string[]): string {
  return shellJoin(user === 'root' ? words : ['sudo', '-S', '-p', '', '--', ...words]);
}

export function installCommand(user: string, input: { method: InstallMethod; paths: MinionPaths; minionBin: string; config: string; url: string }): string {
  const { paths } = input;
  return privileged(user, [
    'sh',
    '-c',
    INSTALL_SCRIPT,
    'agent-install',
    input.method,
    paths.configDir,
    input.minionBin,
    input.config,
    input.url,
    paths.pkiDir,
    paths.pidFile,
  ]);
}

export function uninstallCommand(user: string, input: { method: InstallMethod; paths: MinionPaths }): string {
  const { paths } = input;
  return privileged(user, ['sh', '-c', UNINSTALL_SCRIPT, 'agent-uninstall', input.method, paths.configDir, paths.pidFile, paths.pkiDir, paths.cacheDir]);
}

/** Proves sudo works for the login user before anything is changed (`true` as root). */
export const sudoCheckCommand = (user: string): string => privileged(user, ['true']);

/** The step a failed script reached: its last `agent-step:` line. */
export function lastStep(stdout: string): string | undefined {
  const steps = [...stdout.matchAll(/^agent-step: (\S+)$/gm)];
  return steps.length ? steps[steps.length - 1]![1] : undefined;
}

/** The script's own failure text (`agent-fail:` on stderr), else the stderr tail. */
export function failureText(stderr: string): string {
  const m = /^agent-fail: (.*)$/m.exec(stderr);
  return (m ? m[1]! : stderr.replace(/\s+/g, ' ').trim().slice(-300)) || 'no output';
}
