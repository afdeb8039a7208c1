#!/usr/bin/env bash
# The dashboard's Node packages and build, redone only when their inputs changed: `npm ci` when
# frontend/package-lock.json changed, the Vite build when anything under frontend/ changed. The
# build goes to src/codegenapp/ui/dist, which the server serves and the Python package ships.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null; then
  echo "setup: the dashboard needs Node.js 20.19 or newer with npm (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

lock_hash=$(sha256sum frontend/package-lock.json | cut -d' ' -f1)
installed=frontend/node_modules/.codegenapp-lock-hash
if [[ ! -f $installed || $(<"$installed") != "$lock_hash" ]]; then
  echo "setup: installing the dashboard's packages (npm ci)" >&2
  (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_hash" >"$installed"
fi

source_hash=$(
  cd frontend &&
    find . -path ./node_modules -prune -o -path ./dist -prune -o -type f -print0 |
    LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
)
# Inside .vite/ (beside Vite's manifest): the server serves only the build's top-level files.
built=src/codegenapp/ui/dist/.vite/source-hash
if [[ ! -f $built || $(<"$built") != "$source_hash" ]]; then
  echo "setup: building the dashboard" >&2
  (cd frontend && node_modules/.bin/vite build --logLevel warn)
  echo "$source_hash" >"$built"
fi
