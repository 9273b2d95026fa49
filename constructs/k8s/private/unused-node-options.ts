import { PlatformError } from '../../../lib/private/errors';
import { Capacity } from '../../compute/capacity';

/**
 * The validation errors for scheduling options set on a workload that never got nodes (no `nodes`, no
 * `runOn`, which may come after construction, so this runs when the app is synthesized): they apply only in
 * runOn, so they would be dropped and the pods would request no accelerator.
 *
 * @param workload what the workload is called in the message (`service`, `job`)
 * @param options each option's prop, as the user writes it, and its value (undefined when not set)
 */
export function unusedNodeOptions(workload: string, options: Array<[prop: string, value: number | Capacity | undefined]>): string[] {
  return options.filter(([, value]) => value !== undefined).map(([prop, value]) => new PlatformError(undefined, prop,
    value instanceof Capacity ? (value.isSpot ? 'spot' : 'on-demand') : value,
    `applies only on accelerator nodes, and the ${workload} has no nodes and no runOn: it would be ignored, and the pods would request no accelerator`,
    'pass nodes (or call runOn), or remove it').message);
}
