import { Chart } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { PlatformError } from '../../../lib/private/errors';

/** The constructs that label their pods `app.kubernetes.io/name: <name>`. */
export type AppNameOwner = 'InferenceService' | 'TrainingJob';

/** Per app (the construct tree's root): which construct labels pods with which name, by namespace. */
const owners = new WeakMap<IConstruct, Map<string, { readonly kind: AppNameOwner; readonly path: string }>>();

/**
 * Records that `scope` (an InferenceService or a TrainingJob) labels its pods `app.kubernetes.io/name: name` in its
 * chart's namespace, and fails, naming `name`, when another one already does so in the same namespace in this app. Of
 * the other kind: an InferenceService's Service, PodDisruptionBudget and NetworkPolicy select pods by that label alone,
 * so its Service would send requests to the training pods, and its PodDisruptionBudget would count them. Of the same
 * kind: both render objects of that name (a Job; a Deployment, Service, PodDisruptionBudget), which are one object in
 * Kubernetes. Charts without a namespace are taken to share one (the namespace `kubectl apply` puts them in).
 */
export function claimAppName(scope: Construct, kind: AppNameOwner, name: string): void {
  const root = scope.node.root;
  let claims = owners.get(root);
  if (!claims) owners.set(root, claims = new Map());
  const namespace = Chart.of(scope).namespace;
  const key = `${namespace ?? ''}/${name}`;
  const other = claims.get(key);
  const where = namespace ? `namespace ${namespace}` : 'the same namespace (their charts set none)';
  if (other && other.kind === kind) {
    const objects = kind === 'TrainingJob' ? 'a Job' : 'a Deployment, Service and PodDisruptionBudget';
    throw new PlatformError(scope, 'name', name,
      `is also the name of ${other.kind} ${other.path} in ${where}: both render ${objects} named ${name}, which Kubernetes holds as one object each, so applying the folder would replace one with the other${kind === 'TrainingJob' ? ' (or fail, as a Job\'s pod template cannot change)' : ''}`,
      'give one of them another name, or put them in charts of different namespaces');
  }
  if (other) {
    throw new PlatformError(scope, 'name', name,
      `is also the name of ${other.kind} ${other.path} in ${where}: both label their pods app.kubernetes.io/name=${name}, and the InferenceService's Service, PodDisruptionBudget and NetworkPolicy select pods by that label alone, so the Service would send requests to the training pods`,
      'give one of them another name, or put them in charts of different namespaces');
  }
  claims.set(key, { kind, path: scope.node.path });
}
