#!/usr/bin/env bash
# Builds container/Dockerfile with podman and checks the image: it starts with `serve` as an arbitrary
# uid on a read-only root filesystem (only /tmp writable), answers /ping and /invocations, passes its
# HEALTHCHECK, leaves no onnxruntime telemetry files, and exits 0 on SIGTERM.
#
# Where no image registry is reachable, the base image is assembled locally: a Debian bookworm
# minbase root filesystem (debootstrap, from the Debian mirror) plus the Node.js major version of the Dockerfile's
# default base image (this machine's, or else one from the npm registry) and npm, imported as
# localhost/aip-node<version>-base.
# Set BASE_IMAGE to use another base image instead.
#
# Needs: podman, runc, debootstrap (Debian packages), root or rootless podman, npm registry access
# for `npm ci` inside the build. Usage: npm run image:check   (from container/)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=server-smoke.sh
. "$here/scripts/server-smoke.sh"
work="$(mktemp -d)"
name="aip-inference-check-$$"
port="${CHECK_PORT:-18080}"
image="localhost/aip-inference-server:check"

conf="$work/containers.conf"
printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\n' > "$conf"
export CONTAINERS_CONF="$conf"
pm() { podman --storage-driver vfs --runtime runc "$@"; }

cleanup() {
  pm rm -f "$name" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

base="${BASE_IMAGE:-}"
if [ -z "$base" ]; then
  # The base image runs the Node.js major version of the Dockerfile's default base image (a dependency
  # the image ships, cookie 2, requires 22 or later): this machine's Node.js where it is that version,
  # else that version's official Linux build from the npm registry (fetch-node.sh).
  want="$(bash "$here/scripts/fetch-node.sh" --images-major)"
  node_bin="$(node -p process.execPath)"
  if [ "$(node -p 'process.versions.node.split(".")[0]')" != "$want" ]; then
    echo "== this machine's Node.js is $(node --version), the images' is $want: fetching Node.js $want from the npm registry"
    node_bin="$(bash "$here/scripts/fetch-node.sh" "$want" "$work/node")" \
      || { echo "set BASE_IMAGE to a Debian-based Node.js $want image instead" >&2; exit 1; }
  fi
  base="localhost/aip-node$("$node_bin" -p process.versions.node)-base:latest"
  if ! pm image exists "$base"; then
    echo "== assembling the base image $base (debootstrap bookworm minbase + Node.js $("$node_bin" --version))"
    rootfs="$work/rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
      || { tail -20 "$work/debootstrap.log"; exit 1; }
    npm_dir="$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)"
    install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
    mkdir -p "$rootfs/usr/local/lib/node_modules"
    cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
    ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
    # This machine's trust store (it may include a TLS-intercepting proxy's CA), so `npm ci` in the
    # build reaches the registry the way the host does.
    mkdir -p "$rootfs/etc/ssl/certs"
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
    rm -rf "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/var/lib/apt/lists/"*
    tar -C "$rootfs" -c . | pm import --change 'CMD ["node"]' \
      --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' - "$base" >/dev/null
  fi
fi

echo "== building $image from $here/Dockerfile on $base"
t0=$(date +%s)
pm build --format docker --network host --build-arg BASE_IMAGE="$base" -t "$image" -f "$here/Dockerfile" "$here" >"$work/build.log" 2>&1 \
  || { tail -40 "$work/build.log"; exit 1; }
echo "   built in $(( $(date +%s) - t0 )) s; size $(pm image inspect "$image" --format '{{.Size}}') bytes"
echo "   user: $(pm image inspect "$image" --format '{{.Config.User}}'), entrypoint: $(pm image inspect "$image" --format '{{.Config.Entrypoint}} {{.Config.Cmd}}')"

echo "== building the example model"
(cd "$here" && npx tsc -p tsconfig.json >/dev/null && node dist/tools/build-example-model.js "$work/model" >/dev/null)
chmod -R a+rX "$work/model"

echo "== running it as uid 12345 with a read-only root filesystem"
pm run -d --name "$name" --network host --user 12345:12345 --read-only --tmpfs /tmp \
  -e SAGEMAKER_BIND_TO_PORT="$port" -e HOST=127.0.0.1 -e MODEL_NAME=fraud-mlp -e DRAIN_TIMEOUT_MS=5000 \
  -v "$work/model:/opt/ml/model:ro" "$image" serve >/dev/null
pm_logs() { pm logs "$name"; }
smoke_server "$port" 60 pm_logs
if pm healthcheck run "$name"; then echo "   HEALTHCHECK: healthy"; else echo "HEALTHCHECK failed"; exit 1; fi
# onnxruntime's telemetry (off in the image) would have left a device id and mat-debug-<pid>.log here.
telemetry="$(pm exec "$name" find /tmp -name deviceid -o -name 'onnxruntime.db' -o -name 'mat-debug-*')"
if [ -n "$telemetry" ]; then echo "onnxruntime telemetry files in /tmp: $telemetry"; exit 1; fi
echo "   onnxruntime telemetry: off (no device id or event database in /tmp)"
echo "== SIGTERM"
t0=$(date +%s)
pm stop -t 30 "$name" >/dev/null
code="$(pm inspect "$name" --format '{{.State.ExitCode}}')"
echo "   exited with $code after $(( $(date +%s) - t0 )) s"
pm logs "$name" 2>&1 | grep -E '"(draining|drained)' | sed 's/^/   /' | cut -c1-160
[ "$code" = 0 ] || { echo "expected exit code 0"; exit 1; }
echo "== image check passed"
