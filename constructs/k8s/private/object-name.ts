import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { PlatformError } from '../../../lib/private/errors';

/** A DNS subdomain (RFC 1123), the syntax of most Kubernetes object names. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Throws, naming the prop, for a reference to an object (a service account, a storage class) whose name no
 * Kubernetes object can have: the API server validates these references as DNS subdomains and would refuse the
 * whole workload or claim at apply time (the API server's ValidateServiceAccountName and ValidateClassName are
 * NameIsDNSSubdomain). Unset or empty names and tokens (resolved when the chart is added to a cluster
 * with `addCdk8sChart`) pass.
 */
export function checkObjectName(scope: IConstruct | undefined, prop: string, name: string | undefined, fix: string): void {
  // An empty name is the API's "none": no storage class (no dynamic provisioning), the default service account.
  if (name === undefined || name === '' || Token.isUnresolved(name)) return;
  if (name.length <= 253 && DNS_SUBDOMAIN.test(name)) return;
  throw new PlatformError(scope, prop, name,
    'must be a Kubernetes object name (a DNS subdomain: at most 253 lower-case letters, digits, "-" or ".", starting and ending with a letter or digit)', fix);
}
