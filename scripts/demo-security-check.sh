#!/usr/bin/env bash
# Audit the demo app's production profile (examples/erp/.env.production.example) the way a
# deployment would run it: the profile's variables, secrets generated here as a secret
# store would provide them, the compiled artifacts production needs, then
# `keel security:check --production`, which exits 1 on any critical finding.
set -euo pipefail
cd "$(dirname "$0")/.."

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

set -a
# shellcheck disable=SC1091
. examples/erp/.env.production.example
set +a
secret() { node -e "console.log(require('node:crypto').randomBytes(${1:-32}).toString('base64url'))"; }
APP_KEY="base64:$(node -e "console.log(require('node:crypto').randomBytes(32).toString('base64'))")"
METRICS_API_KEY="$(secret)"
HEALTH_API_KEY="$(secret)"
DB_FILENAME="$work/erp.sqlite"
export APP_KEY METRICS_API_KEY HEALTH_API_KEY DB_FILENAME

node bin/keel.js compile --cwd examples/erp >/dev/null
node bin/keel.js security:check --production --cwd examples/erp --report "$work/security-report.md"
cat "$work/security-report.md"
