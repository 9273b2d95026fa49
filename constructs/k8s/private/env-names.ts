import { IConstruct } from 'constructs';
import { PlatformError } from '../../../lib/private/errors';

/** Printable ASCII but "=": what the API server takes as an environment variable name (Kubernetes 1.34, 1.32 and 1.33 by default). */
const ENV_NAME = /^[\x20-\x3c\x3e-\x7e]+$/;

/**
 * Throws, naming the prop and the first bad name, for an environment variable name the API server refuses, so the
 * whole workload would fail to apply: an empty name, one holding "=", or one with a character that is not printable
 * ASCII (RelaxedEnvironmentVariableValidation, KEP-4369, on by default from Kubernetes 1.32 and GA in 1.34).
 */
export function checkEnvNames(scope: IConstruct, prop: string, env: Readonly<Record<string, string>> | undefined): void {
  const bad = Object.keys(env ?? {}).find((name) => !ENV_NAME.test(name));
  if (bad === undefined) return;
  throw new PlatformError(scope, prop, bad,
    'must be environment variable names: at least one printable ASCII character, none of them "=" (the API server refuses the workload otherwise)',
    `rename or remove the variable in ${prop}`);
}
