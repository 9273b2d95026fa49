/**
 * Schema validation for every manifest the k8s constructs synthesize.
 *
 * Built-in kinds are checked with `kubernetes-models` (the Kubernetes OpenAPI schema compiled to
 * validators). Those validators accept unknown fields, but everything built through cdk8s-plus-28's
 * typed objects passes through its generated `toJson_*` mappers, which keep only fields of the
 * Kubernetes 1.28 schema, so an unknown field cannot reach the output from there; field assertions in
 * the tests catch a field that went missing. Karpenter's CRDs have no installed models: they are checked
 * with ajv against the JSON schemas in `./schemas`, written from the CRDs' published OpenAPI and
 * rejecting unknown fields, plus the NodePool CRD's CEL rules on template labels. A manifest of any
 * other kind fails validation, so nothing goes unchecked.
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

/**
 * The NodePool CRD's CEL rules on `spec.template.metadata.labels`, which a JSON schema cannot express (kubernetes-sigs/karpenter
 * and aws/karpenter-provider-aws `hack/validation/labels.sh`): a label's domain (the key up to its first `/`, or the whole key)
 * may not end in `kubernetes.io` (except well-known keys and the node.kubernetes.io and node-restriction.kubernetes.io
 * domains), `k8s.io` (except kops.k8s.io), `karpenter.sh` (except karpenter.sh/capacity-type) or `karpenter.k8s.aws`
 * (except the instance labels); karpenter.sh/nodepool and kubernetes.io/hostname are refused outright.
 */
const KUBERNETES_IO_ALLOWED = [
  'beta.kubernetes.io/instance-type', 'failure-domain.beta.kubernetes.io/region', 'beta.kubernetes.io/os', 'beta.kubernetes.io/arch',
  'failure-domain.beta.kubernetes.io/zone', 'topology.kubernetes.io/zone', 'topology.kubernetes.io/region', 'kubernetes.io/arch',
  'kubernetes.io/os', 'node.kubernetes.io/windows-build',
];
const KARPENTER_AWS_ALLOWED = [
  'encryption-in-transit-supported', 'category', 'hypervisor', 'family', 'generation', 'local-nvme', 'size', 'cpu', 'memory',
  'network-bandwidth', 'gpu-name', 'gpu-manufacturer', 'gpu-count', 'gpu-memory', 'accelerator-name', 'accelerator-manufacturer',
  'accelerator-count',
].map((l) => `karpenter.k8s.aws/instance-${l}`);

function checkNodePoolLabels(manifest: unknown): void {
  const labels: Record<string, string> = (manifest as { spec?: { template?: { metadata?: { labels?: Record<string, string> } } } })
    .spec?.template?.metadata?.labels ?? {};
  for (const key of Object.keys(labels)) {
    const domain = /^([^/]+)/.exec(key)?.[1] ?? '';
    const refused = (key === 'karpenter.sh/nodepool' || key === 'kubernetes.io/hostname') ? 'restricted'
      : (domain.endsWith('kubernetes.io') && !KUBERNETES_IO_ALLOWED.includes(key) && !domain.endsWith('node.kubernetes.io') && !domain.endsWith('node-restriction.kubernetes.io')) ? 'in the restricted domain "kubernetes.io"'
        : (domain.endsWith('k8s.io') && !domain.endsWith('kops.k8s.io')) ? 'in the restricted domain "k8s.io"'
          : (domain.endsWith('karpenter.sh') && key !== 'karpenter.sh/capacity-type') ? 'in the restricted domain "karpenter.sh"'
            : (domain.endsWith('karpenter.k8s.aws') && !KARPENTER_AWS_ALLOWED.includes(key)) ? 'in the restricted domain "karpenter.k8s.aws"'
              : undefined;
    if (refused) throw new Error(`spec.template.metadata.labels: label "${key}" is ${refused}`);
  }
}

/** CRD rules beyond the JSON schemas, by `apiVersion/kind`. */
const CEL: Record<string, Validator> = { 'karpenter.sh/v1/NodePool': checkNodePoolLabels };

const ajv = new Ajv({ allErrors: true, strict: false });
const CRD: Record<string, Validator> = {};
for (const file of fs.readdirSync(path.join(__dirname, 'schemas'))) {
  const key = file.replace(/\.json$/, '').replace(/_/g, '/');
  const check = ajv.compile(JSON.parse(fs.readFileSync(path.join(__dirname, 'schemas', file), 'utf8')));
  CRD[key] = (m) => {
    if (!check(m)) {
      throw new Error(ajv.errorsText(check.errors, { separator: '; ' }));
    }
    CEL[key]?.(m);
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
