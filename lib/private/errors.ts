import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * The error this library throws for props or configuration it cannot work with.
 *
 * It records the path of the construct that rejected the input, and its message always
 * says four things: which prop, the value received, what is allowed, and how to fix it.
 *
 * @example
 * throw new PlatformError(this, 'minCapacity', 5, "must be <= 'maxCapacity' (2)", 'lower minCapacity or raise maxCapacity');
 * // => [Root/Endpoint] 'minCapacity' (5) must be <= 'maxCapacity' (2): lower minCapacity or raise maxCapacity
 */
export class PlatformError extends Error {
  /** Path of the construct that raised the error, or undefined when thrown outside a construct tree. */
  public readonly constructPath?: string;
  /** The prop (or configuration field) that is wrong. */
  public readonly prop: string;
  /** The value that was received. */
  public readonly received: unknown;

  constructor(scope: IConstruct | undefined, prop: string, received: unknown, allowed: string, fix?: string) {
    const path = scope?.node.path;
    const where = path ? `[${path}] ` : '';
    super(`${where}'${prop}' (${describeValue(received)}) ${allowed}${fix ? `: ${fix}` : ''}`);
    this.name = 'PlatformError';
    this.constructPath = path;
    this.prop = prop;
    this.received = received;
    Object.setPrototypeOf(this, PlatformError.prototype);
  }
}

/** Renders a received value for an error message: strings quoted, arrays and objects as short JSON. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  try {
    const json = JSON.stringify(value);
    return json.length > 200 ? `${json.slice(0, 197)}...` : json;
  } catch {
    return String(value);
  }
}

/** The kind of value a required prop holds: `object` is a class instance or plain object (not an array), never null. */
export type PropKind = 'object' | 'array' | 'string' | 'number';

/**
 * Throws a `PlatformError` unless the required prop is there and of its kind: a JavaScript caller has no
 * type checker, and would otherwise get a bare TypeError from wherever the prop is first dereferenced.
 * Call it before anything reads the prop. A string or number may be an unresolved token.
 *
 * @param prop the prop as the caller writes it (`cluster`, `modelData`)
 * @param what what is allowed, e.g. `an eks.ICluster (the cluster the nodes join)`
 *
 * @example
 * requireProp(this, 'modelData', props?.modelData, 'object', 'a ModelData (the model artifacts)');
 * // => [Root/Endpoint] 'modelData' (undefined) is required: a ModelData (the model artifacts)
 */
export function requireProp(scope: IConstruct | undefined, prop: string, value: unknown, kind: PropKind, what: string, fix?: string): void {
  if (value === undefined || value === null) {
    throw new PlatformError(scope, prop, value, `is required: ${what}`, fix);
  }
  const fits = kind === 'array' ? Array.isArray(value)
    : kind === 'object' ? typeof value === 'object' && !Array.isArray(value)
      : typeof value === kind || Token.isUnresolved(value);
  if (!fits) {
    throw new PlatformError(scope, prop, value, `must be ${what}`, fix);
  }
}
