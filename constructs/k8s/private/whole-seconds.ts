import { Duration } from 'cdk8s';
import { IConstruct } from 'constructs';
import { PlatformError } from '../../../lib/private/errors';

/**
 * Throws, naming the prop, for a duration that is not a whole number of seconds: Kubernetes takes these
 * fields in whole seconds, and cdk8s would otherwise fail at serialization without naming the prop.
 * Unset durations pass.
 */
export function checkWholeSeconds(scope: IConstruct | undefined, durations: ReadonlyArray<readonly [string, Duration | undefined]>): void {
  for (const [prop, value] of durations) {
    const seconds = value?.toSeconds({ integral: false });
    if (seconds !== undefined && !Number.isInteger(seconds)) {
      throw new PlatformError(scope, prop, `${seconds}s`, 'must be a whole number of seconds (Kubernetes takes whole seconds)', `round ${prop} to whole seconds, e.g. Duration.seconds(${Math.ceil(seconds)})`);
    }
  }
}
