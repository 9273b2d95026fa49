import { Size, SizeRoundingBehavior } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { PlatformError } from '../../../lib/private/errors';

/** Millicores of a cdk8s-plus CPU amount ("2", "0.5", "500m"); undefined for anything else (a token). */
function millicores(cpu: kplus.Cpu): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(cpu.amount);
  if (!m) return undefined;
  return m[2] ? Number(m[1]) : Number(m[1]) * 1000;
}

const kibibytes = (size: Size) => size.toKibibytes({ rounding: SizeRoundingBehavior.NONE });

/**
 * Throws, naming the prop, for a CPU amount that is no Kubernetes quantity (infinite, NaN, negative), and, naming both
 * props, for a CPU, memory or ephemeral-storage request above its limit: the API server
 * refuses such a pod template ("resources.requests: Invalid value: ...: must be less than or equal to memory
 * limit"), so the Deployment or Job would fail to apply rather than synthesis. Unset values pass.
 */
export function checkRequestsWithinLimits(scope: IConstruct, resources: {
  readonly cpu?: kplus.CpuResources;
  readonly memory?: kplus.MemoryResources;
  readonly ephemeralStorage?: kplus.EphemeralStorageResources;
} | undefined): void {
  const check = (field: string, request: number | undefined, limit: number | undefined, shown: [string, string]) => {
    if (request === undefined || limit === undefined || request <= limit) return;
    throw new PlatformError(scope, `resources.${field}.request`, shown[0], `must be <= 'resources.${field}.limit' (${shown[1]}): the API server refuses a request above its limit`,
      `lower resources.${field}.request or raise resources.${field}.limit`);
  };
  // cdk8s-plus renders Cpu.units(Infinity) as "Infinity" and Cpu.millis(-5) as "-5m", neither a Kubernetes quantity:
  // the Deployment or Job would fail to apply. (Sizes: see checkContainerSizes.)
  for (const bound of ['request', 'limit'] as const) {
    const amount = resources?.cpu?.[bound]?.amount;
    if (amount !== undefined && (/Infinity|NaN/.test(amount) || amount.startsWith('-'))) {
      throw new PlatformError(scope, `resources.cpu.${bound}`, amount, 'must be a finite number of CPUs of at least 0', 'use e.g. Cpu.millis(500) or Cpu.units(2)');
    }
  }
  const cpu = resources?.cpu;
  if (cpu?.request && cpu.limit) check('cpu', millicores(cpu.request), millicores(cpu.limit), [cpu.request.amount, cpu.limit.amount]);
  for (const field of ['memory', 'ephemeralStorage'] as const) {
    const r = resources?.[field];
    if (r?.request && r.limit) check(field, kibibytes(r.request), kibibytes(r.limit), [r.request.asString(), r.limit.asString()]);
  }
}
