/**
 * Schema validation for every manifest the k8s constructs synthesize.
 *
 * Built-in kinds are checked with `kubernetes-models` (the Kubernetes OpenAPI schema compiled to
 * validators). Those validators accept unknown fields, but everything built through cdk8s-plus-28's
 * typed objects passes through its generated `toJson_*` mappers, which keep only fields of the
 * Kubernetes 1.28 schema, so an unknown field cannot reach the output from there; field assertions in
 * the tests catch a field that went missing. Karpenter's CRDs have no installed models: they are checked
 * with ajv against the JSON schemas in `./schemas`, written from the CRDs' published OpenAPI and
 * rejecting unknown fields. A manifest of any other kind fails validation, so nothing goes unchecked.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { StorageClass } from 'kubernetes-models/storage.k8s.io/v1/StorageClass';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';

type Validator = (manifest: unknown) => void;

const model = (Cls: new (data: never) => { validate(): void }): Validator => (m) => new Cls(m as never).validate();

const BUILT_IN: Record<string, Validator> = {
  'apps/v1/Deployment': model(Deployment),
  'apps/v1/DaemonSet': model(DaemonSet),
  'autoscaling/v2/HorizontalPodAutoscaler': model(HorizontalPodAutoscaler),
  'batch/v1/Job': model(Job),
  'networking.k8s.io/v1/NetworkPolicy': model(NetworkPolicy),
  'policy/v1/PodDisruptionBudget': model(PodDisruptionBudget),
  'rbac.authorization.k8s.io/v1/ClusterRole': model(ClusterRole),
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': model(ClusterRoleBinding),
  'storage.k8s.io/v1/StorageClass': model(StorageClass),
  'v1/Namespace': model(Namespace),
  'v1/PersistentVolumeClaim': model(PersistentVolumeClaim),
  'v1/Service': model(Service),
  'v1/ServiceAccount': model(ServiceAccount),
};

const ajv = new Ajv({ allErrors: true, strict: false });
const CRD: Record<string, Validator> = {};
for (const file of fs.readdirSync(path.join(__dirname, 'schemas'))) {
  const key = file.replace(/\.json$/, '').replace(/_/g, '/');
  const check = ajv.compile(JSON.parse(fs.readFileSync(path.join(__dirname, 'schemas', file), 'utf8')));
  CRD[key] = (m) => {
    if (!check(m)) {
      throw new Error(ajv.errorsText(check.errors, { separator: '; ' }));
    }
  };
}

/** Kinds this module can validate, `apiVersion/kind`. */
export const VALIDATED_KINDS = [...Object.keys(BUILT_IN), ...Object.keys(CRD)].sort();

/** Validates one manifest; throws naming the object and the schema violations. */
export function validateManifest(manifest: { apiVersion?: string; kind?: string; metadata?: { name?: string } }): void {
  const key = `${manifest.apiVersion}/${manifest.kind}`;
  const validator = BUILT_IN[key] ?? CRD[key];
  if (!validator) {
    throw new Error(`no schema for ${key} (${manifest.metadata?.name}): add one to test/k8s/validate.ts`);
  }
  if (!manifest.metadata?.name) {
    throw new Error(`${key} has no metadata.name`);
  }
  try {
    validator(manifest);
  } catch (e) {
    throw new Error(`${key} ${manifest.metadata.name}: ${(e as Error).message}`, { cause: e });
  }
}

/** Validates every manifest and returns how many were checked. */
export function validateManifests(manifests: Array<Record<string, unknown>>): number {
  for (const m of manifests) validateManifest(m);
  return manifests.length;
}
