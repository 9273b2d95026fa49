#!/bin/sh
# Runs its arguments (the inference server, in Dockerfile.gpu) with CUDA's forward-compatibility
# libraries first on the library path when the host's NVIDIA driver is older than CUDA 12's minimum
# (branch 525). The image's CUDA 12.8 runs on drivers of branch 525 and later through CUDA's minor
# version compatibility, with the host's own libcuda; on an older driver (470, CUDA 11.4: SageMaker's
# default on ml.g4dn, ml.g5 and ml.p4d, and on batch transform) it can run only with the base image's
# compat libraries (/usr/local/cuda/compat; data-centre GPUs only), which NVIDIA's container toolkit
# no longer puts on the path itself (1.17.4 and later). Without a GPU, or with no compat libraries
# in the image, the arguments run unchanged. CUDA_COMPAT=off never uses them, CUDA_COMPAT=on always does.
# CUDA_COMPAT_DIR and NVIDIA_DRIVER_VERSION_FILE name other locations (for tests).
set -eu

compat_dir=${CUDA_COMPAT_DIR:-/usr/local/cuda/compat}
version_file=${NVIDIA_DRIVER_VERSION_FILE:-/proc/driver/nvidia/version}
mode=${CUDA_COMPAT:-auto}

driver_major() {
  # "NVRM version: NVIDIA UNIX x86_64 Kernel Module  470.256.02  ..." (or "Open Kernel Module for x86_64  570.86.15 ...")
  if [ -r "$version_file" ]; then
    head -n 1 "$version_file" | grep -o '[0-9][0-9]*\.[0-9][0-9]*' | head -n 1 | cut -d. -f1
  elif command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -n 1 | cut -d. -f1
  fi
}

use_compat=no
case "$mode" in
  on) use_compat=yes ;;
  off) ;;
  auto)
    if [ -d "$compat_dir" ]; then
      major=$(driver_major || true)
      case "$major" in
        '' | *[!0-9]*) ;;
        *) if [ "$major" -lt 525 ]; then use_compat=yes; fi ;;
      esac
    fi
    ;;
  *)
    echo "cuda-compat-env: CUDA_COMPAT is '$mode'; allowed: auto (the default), on, off" >&2
    exit 2
    ;;
esac

if [ "$use_compat" = yes ]; then
  LD_LIBRARY_PATH="$compat_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export LD_LIBRARY_PATH
fi
exec "$@"
