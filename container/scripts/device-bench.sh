#!/usr/bin/env bash
# The benchmark on a lent many-CPU machine that reaches no registry (the project's GPU machine).
#
#   bash container/scripts/device-bench.sh pack   # here: writes .bench-pack/ (about 45 MB, git-ignored)
#   bash container/scripts/device-bench.sh run    # there, from the repository root, with .bench-pack carried
#
# `pack` builds the server and its benchmark and puts them in one archive with everything they need to
# run on a bare x86-64 Linux machine: the images' Node.js (from the npm registry), the runtime and benchmark dependencies
# (onnxruntime's Linux x86-64 binaries only, no TypeScript), and wrk with its LuaJIT library.
# `run` unpacks it under /tmp and runs `npm run bench`'s program with the servers and ceilings pinned to
# all CPUs but the last four and wrk (four threads) on those, as the figures in container/README.md's
# "16-CPU machine" were taken. BENCH_* variables pass through (BENCH_MODELS=heavy-mlp, say). The
# results (results.md, results.json) and the log land in $OUT when it is set, else in the current
# directory.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
pack_dir="$root/.bench-pack"

work=""
trap '[ -z "$work" ] || rm -rf "$work"' EXIT

pack() {
  work="$(mktemp -d)"
  (cd "$root/container" && npx tsc -p tsconfig.json)
  mkdir -p "$work/bin" "$work/lib" "$work/app/container"
  # The images' Node.js (the Dockerfile's BASE_IMAGE major), as the server runs in them; this machine's
  # node where the npm registry cannot give it.
  local node_bin
  if node_bin="$(bash "$root/container/scripts/fetch-node.sh" images "$work/node" x64)"; then
    cp "$node_bin" "$work/bin/node"
  else
    echo "device-bench: packing this machine's Node.js $(node --version) instead of the images'" >&2
    cp "$(readlink -f "$(command -v node)")" "$work/bin/node"
  fi
  rm -rf "$work/node"
  local wrk
  wrk="$(command -v wrk || true)"
  if [ -n "$wrk" ]; then
    cp "$wrk" "$work/bin/wrk"
    # wrk's libraries that a bare machine may lack (LuaJIT); libc, libssl and the like it has.
    ldd "$wrk" | awk '/luajit/ { print $3 }' | while read -r lib; do cp "$(readlink -f "$lib")" "$work/lib/$(basename "$lib")"; done
  else
    echo "device-bench: wrk is not installed here (apt-get install wrk); the run will use the slower Node client" >&2
  fi
  # The benchmark's layout: container/dist holds bench/, src/ and tools/, and writes to container/bench/results.
  cp -r "$root/container/dist" "$work/app/container/dist"
  cp "$root/container/package.json" "$work/app/container/package.json"
  cp "$root/container/image-package-lock.json" "$work/app/container/package-lock.json"
  (cd "$work/app/container" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  local ort="$work/app/container/node_modules/onnxruntime-node/bin/napi-v6"
  rm -rf "$ort/darwin" "$ort/win32" "$ort/linux/arm64" "$work/app/container/node_modules/typescript"
  test -f "$ort/linux/x64/libonnxruntime.so.1"
  mkdir -p "$pack_dir"
  tar -C "$work" -cf - bin lib app | xz -T0 -6 > "$pack_dir/bench-pack.tar.xz"
  du -h "$pack_dir/bench-pack.tar.xz"
  grep -qx '/.bench-pack/' "$root/.gitignore" || echo "device-bench: add /.bench-pack/ to .gitignore" >&2
}

run() {
  local out="${OUT:-$PWD}" dest=/tmp/bench-pack
  rm -rf "$dest" && mkdir -p "$dest"
  if command -v xz >/dev/null; then
    tar -C "$dest" -xJf "$pack_dir/bench-pack.tar.xz"
  else # a bare image may lack xz-utils; Python's tarfile reads xz itself
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$pack_dir/bench-pack.tar.xz" "$dest"
  fi
  export PATH="$dest/bin:$PATH" LD_LIBRARY_PATH="$dest/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  local cpus last
  cpus="$(nproc)"
  {
    echo "node $(node --version), $cpus CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
    cd "$dest/app/container"
    if [ "$cpus" -ge 8 ]; then
      last=$((cpus - 1))
      BENCH_LOAD_CPUS="${BENCH_LOAD_CPUS:-$((cpus - 4))-$last}" BENCH_WRK_THREADS="${BENCH_WRK_THREADS:-4}" \
        taskset -c "0-$((cpus - 5))" node dist/bench/run.js
    else
      node dist/bench/run.js
    fi
  } 2>&1 | tee "$out/bench.log"
  cp "$dest/app/container/bench/results/results.md" "$dest/app/container/bench/results/results.json" "$out/"
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) echo "usage: $0 pack|run" >&2; exit 2 ;;
esac
