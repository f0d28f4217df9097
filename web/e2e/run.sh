#!/usr/bin/env bash
# The web client's end-to-end suite (make test runs it; also `bash web/e2e/run.sh`).
#
# Playwright drives the operating system's Chromium (never a downloaded
# browser: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1). When Chromium is missing it
# is installed with apt-get if we are root; otherwise the suite fails with
# the command to run. It never skips.
#
# Everything runs inside a private network namespace (unshare --net, then
# lo up): the suite's own stack (stack.ts) uses the default ports there
# without meeting anyone else's, and WebRTC media stays on loopback.
# Prints "e2e: N passed, M failed" (reporter.ts) and exits non-zero on any
# test that did not pass cleanly. Scratch (logs, screenshots, traces of
# failures, figures) goes to web/e2e/.scratch, which git ignores;
# `make screenshots` copies the screenshots to docs/.
source "$(dirname "$0")/../../deploy/local/lib.sh"
cd "$CHECKOUT"
start_ns=$(date +%s%N)

ensure_chromium
for tool in unshare ip; do
  command -v "$tool" >/dev/null 2>&1 || {
    log "e2e: $tool is missing. Install it with: sudo apt-get install -y util-linux iproute2"; exit 1; }
done
ensure_binaries

# The binaries the stack runs, and the web client's production build (npm
# ci only when package-lock.json changed, next build only when web/ did).
make -s build
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 NEXT_TELEMETRY_DISABLED=1
web_build

SCRATCH="${E2E_SCRATCH:-$WEB_DIR/e2e/.scratch}"
rm -rf "$SCRATCH"
mkdir -p "$SCRATCH"
export E2E_SCRATCH="$SCRATCH"

# Root makes the namespace itself; anyone else through a user namespace.
ns=(unshare --net)
[ "$(id -u)" -eq 0 ] || ns=(unshare --net --map-root-user)
st=0
# Arguments go to playwright test (a spec file, -g "title"), for working on the suite.
"${ns[@]}" bash -c 'ip link set lo up && cd "$0" && exec node_modules/.bin/playwright test -c e2e/playwright.config.ts "$@"' "$WEB_DIR" "$@" || st=$?
ms=$((($(date +%s%N) - start_ns) / 1000000))
printf 'e2e: wall time %d.%d s (build checks, stack and suite)\n' $((ms / 1000)) $((ms % 1000 / 100))
exit "$st"
