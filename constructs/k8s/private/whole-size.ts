import { Size, SizeRoundingBehavior } from 'cdk8s';
import { IConstruct } from 'constructs';
import { PlatformError } from '../../../lib/private/errors';

/** A unit cdk8s-plus writes a size in, and the `Size` factory for it. */
const UNITS = {
  MiB: { inUnit: (s: Size) => s.toMebibytes({ rounding: SizeRoundingBehavior.NONE }), factory: 'mebibytes' },
  GiB: { inUnit: (s: Size) => s.toGibibytes({ rounding: SizeRoundingBehavior.NONE }), factory: 'gibibytes' },
} as const;

/**
 * Throws, naming the prop and the value, for a size that is no whole number of `unit`: cdk8s-plus writes
 * these quantities in that unit (`Mi` for memory and emptyDir size limits, `Gi` for ephemeral storage and
 * claims) and otherwise fails at serialization, without naming the prop (`'1500 mebibytes' cannot be
 * converted into a whole number of gibibytes`). `where` says what is written in that unit. Unset sizes pass.
 */
export function checkWholeSize(scope: IConstruct | undefined, prop: string, size: Size | undefined, unit: keyof typeof UNITS, where: string): void {
  if (size === undefined) return;
  const amount = UNITS[unit].inUnit(size);
  if (Number.isInteger(amount)) return;
  // Size.gibibytes(NaN) or Infinity: cdk8s writes "NaNGi" or "InfinityGi", which is no Kubernetes quantity.
  if (!Number.isFinite(amount)) throw new PlatformError(scope, prop, size.asString(), 'must be a finite size', `use e.g. Size.${UNITS[unit].factory}(1)`);
  throw new PlatformError(scope, prop, size.asString(), `must be a whole number of ${unit} (${where})`,
    `use e.g. Size.${UNITS[unit].factory}(${Math.ceil(amount)})`);
}

/** `checkWholeSize` for the memory and ephemeral-storage requests and limits of a container. */
export function checkContainerSizes(scope: IConstruct, resources: {
  readonly memory?: { readonly request?: Size; readonly limit?: Size };
  readonly ephemeralStorage?: { readonly request?: Size; readonly limit?: Size };
} | undefined): void {
  for (const field of ['request', 'limit'] as const) {
    checkWholeSize(scope, `resources.memory.${field}`, resources?.memory?.[field], 'MiB', 'cdk8s-plus writes memory in Mi');
    checkWholeSize(scope, `resources.ephemeralStorage.${field}`, resources?.ephemeralStorage?.[field], 'GiB', 'cdk8s-plus writes ephemeral storage in Gi');
  }
}
