#!/usr/bin/env bash
# Entry point of the npm scripts: installs what is missing (node modules with Node 22, the stack's
# services), then runs one of: start | test | stack <args> | bench.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

ensure_node_modules() {
  if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] \
     || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "installing node modules (npm ci)..."
    npm ci --no-audit --no-fund --loglevel=error
  fi
  # The npm package `node` puts Node 22 (the Lambda runtime's major) first on PATH for everything below.
  export PATH="$root/node_modules/.bin:$PATH"
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" != 22 ]; then
    echo "expected Node 22 from node_modules/.bin/node, got $(node --version)" >&2
    exit 1
  fi
}

# Prints the plain closing line CI reads, from jest's JSON reports.
summarise() {
  node -e '
    let passed = 0, failed = 0, skipped = 0;
    for (const f of process.argv.slice(1)) {
      try {
        const r = JSON.parse(require("fs").readFileSync(f, "utf8"));
        passed += r.numPassedTests; failed += r.numFailedTests + (r.numRuntimeErrorTestSuites || 0);
        skipped += r.numPendingTests + r.numTodoTests;
      } catch { failed += 1; }
    }
    console.log(`tests: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
  ' "$@"
}

cmd=${1:-}
shift || true
case "$cmd" in
  start)
    ensure_node_modules
    tsx scripts/stack/cli.ts up
    exec tsx scripts/serve.ts
    ;;
  stack)
    ensure_node_modules
    exec tsx scripts/stack/cli.ts "$@"
    ;;
  test)
    ensure_node_modules
    started_stack=0
    if ! tsx scripts/stack/cli.ts status >/dev/null 2>&1; then started_stack=1; fi
    if [ "$started_stack" = 1 ] && [ "${STACK_KEEP:-0}" != 1 ]; then
      trap 'tsx scripts/stack/cli.ts down >/dev/null 2>&1 || true' EXIT
    fi
    echo "== typecheck"; npm run --silent typecheck
    echo "== lint and format (biome)"; biome check .
    echo "== package"; npm run --silent package >/dev/null
    echo "== stack"; tsx scripts/stack/cli.ts up
    reports=$(mktemp -d)
    status=0
    echo "== unit tests"
    NODE_OPTIONS=--experimental-vm-modules jest --selectProjects unit --json --outputFile="$reports/unit.json" "$@" || status=1
    echo "== integration tests"
    NODE_OPTIONS=--experimental-vm-modules jest --selectProjects integration --runInBand --json --outputFile="$reports/integration.json" "$@" || status=1
    summarise "$reports/unit.json" "$reports/integration.json"
    exit $status
    ;;
  bench)
    ensure_node_modules
    tsx scripts/stack/cli.ts up
    exec tsx scripts/bench.ts "$@"
    ;;
  *)
    echo "usage: bash scripts/run.sh start|test|stack <up|down|status|restart>|bench" >&2
    exit 2
    ;;
esac
