/**
 * The GPUs this process may use, so that a server given several runs a worker on each.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * A device list as the CUDA and NVIDIA variables give it: its length, or undefined when it does not
 * list devices ("all", or the device plugin's volume-mounts path, which starts with '/'). CUDA stops
 * at the first invalid entry, so `-1` (the usual way to hide every GPU) lists none. MIG devices
 * (`MIG-<uuid>`, or the older `MIG-GPU-<uuid>/<gi>/<ci>`) count as one, however many are listed.
 */
function listed(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === 'all' || v.startsWith('/')) return undefined;
  if (v === '' || v === 'none' || v === 'void' || v === 'NoDevFiles') return 0;
  const ids = v.split(',').map((id) => id.trim());
  const invalid = ids.findIndex((id) => id === '' || id.startsWith('-'));
  const valid = invalid < 0 ? ids : ids.slice(0, invalid);
  // A CUDA process enumerates only the first MIG device it is given, and then no whole GPU beside it
  // (NVIDIA's MIG user guide, "CUDA Device Enumeration"): two MIG devices are one device 0, not 0 and 1.
  return valid.some((id) => id.startsWith('MIG-')) ? 1 : valid.length;
}

/**
 * How many GPUs are visible: `CUDA_VISIBLE_DEVICES` when set (CUDA numbers the devices it lists from
 * 0), else `NVIDIA_VISIBLE_DEVICES` when it lists devices (the NVIDIA container runtime and the
 * Kubernetes device plugin set it to the GPUs a container was given), else the `/dev/nvidiaN`
 * device files present (a container sees only its own).
 */
export function visibleGpuCount(env: NodeJS.ProcessEnv = process.env, devDir = '/dev'): number {
  const cuda = listed(env.CUDA_VISIBLE_DEVICES);
  if (cuda !== undefined) return cuda;
  const nvidia = listed(env.NVIDIA_VISIBLE_DEVICES);
  if (nvidia !== undefined) return nvidia;
  try {
    return fs.readdirSync(devDir).filter((f) => /^nvidia\d+$/.test(f) && !fs.statSync(path.join(devDir, f)).isDirectory()).length;
  } catch {
    return 0;
  }
}

/**
 * Whether a list of execution providers asks for a GPU. Providers after `cpu` are never tried (the
 * worker stops at the CPU), so only those before it count: `cpu,cuda` runs on the CPU.
 */
export function wantsGpu(providers: readonly string[]): boolean {
  const cpuAt = providers.indexOf('cpu');
  return (cpuAt < 0 ? providers : providers.slice(0, cpuAt)).some((p) => p === 'cuda' || p === 'tensorrt');
}
