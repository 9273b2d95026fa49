/**
 * Writes the reference platform's Kubernetes charts to `dist/k8s/` (one YAML file per chart and a
 * `kustomization.yaml`), for GitOps tools to apply. Run with `npx tsx bin/k8s.ts`.
 *
 * Set `AIP_SERVER_IMAGE` to serve your own build of the inference server image, `AIP_MODEL_S3_URI` (with
 * `AIP_SERVER_SERVICE_ACCOUNT` allowed to read it, and optionally `AIP_MODEL_NAME`) for the model it serves,
 * and `AIP_TRAINING_IMAGE` to run your trainer instead of the spot GPU check. An optional argument
 * writes to another folder instead (`npx tsx bin/k8s.ts /tmp/k8s`): a missing or empty one, or an earlier output,
 * since the folder is emptied first (any other folder fails, untouched).
 */
import * as path from 'node:path';
import { ModelSource } from '../constructs/k8s/inference-service';
import { writePlatformManifests } from '../lib/platform-chart';

const outdir = process.argv[2] ? path.resolve(process.argv[2]) : path.join(__dirname, '..', 'dist', 'k8s');
const modelUri = process.env.AIP_MODEL_S3_URI || undefined;
const files = writePlatformManifests(outdir, {
  serverImage: process.env.AIP_SERVER_IMAGE || undefined,
  trainingImage: process.env.AIP_TRAINING_IMAGE || undefined,
  model: modelUri ? ModelSource.fromS3Uri(modelUri) : undefined,
  modelName: process.env.AIP_MODEL_NAME || undefined,
  serverServiceAccountName: process.env.AIP_SERVER_SERVICE_ACCOUNT || undefined,
});
if (!modelUri) {
  console.warn('serving.yaml expects the model inside the server image (/opt/ml/model): the bundled image holds none, so '
    + 'set AIP_MODEL_S3_URI to the S3 prefix of your model directory (model.onnx, optional serving.json), and '
    + 'AIP_SERVER_SERVICE_ACCOUNT to a service account that may read it');
} else if (!process.env.AIP_SERVER_SERVICE_ACCOUNT) {
  // The GPU nodes' metadata hop limit is 1, so pods cannot borrow the node role: without a service account
  // that has credentials (IRSA or EKS Pod Identity), fetch-model retries "Unable to locate credentials".
  console.warn(`serving.yaml copies the model from ${modelUri} with the namespace's default service account: set `
    + 'AIP_SERVER_SERVICE_ACCOUNT to a service account that may read it (IRSA or EKS Pod Identity), or give the default one such a role');
}
console.log(`wrote ${files.map((f) => path.relative(process.cwd(), path.join(outdir, f))).join(', ')}`);
