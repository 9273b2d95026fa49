/**
 * Writes the reference platform's Kubernetes charts to `dist/k8s/` (one YAML file per chart and a
 * `kustomization.yaml`), for GitOps tools to apply. Run with `npx tsx bin/k8s.ts`.
 *
 * Set `AIP_SERVER_IMAGE` to the inference server image you pushed (the default name is published nowhere: without it the
 * script warns), `AIP_MODEL_S3_URI` (with
 * `AIP_SERVER_SERVICE_ACCOUNT` allowed to read it, and optionally `AIP_MODEL_NAME`) for the model it serves,
 * and `AIP_TRAINING_IMAGE` to run your trainer instead of the spot GPU check. `AIP_DEVICE_PLUGIN=true` adds the
 * `device-plugins` chart, for a cluster that has no device plugin. Warnings and errors recorded on the charts are
 * printed to stderr as the cdk CLI prints them (`[Warning at /path] message [ack: id]`); the folder is written
 * either way, and an error makes the script exit with status 1. An optional argument
 * writes to another folder instead (`npx tsx bin/k8s.ts /tmp/k8s`): a missing or empty one, or an earlier output,
 * since the folder is emptied first (any other folder fails, untouched).
 */
import * as path from 'node:path';
import { ModelSource } from '../constructs/k8s/inference-service';
import { AnnotationLevel, formatAnnotation } from '../lib/construct-annotations';
import { DEFAULT_SERVER_IMAGE, PlatformManifests, writePlatformManifests } from '../lib/platform-chart';
import { PlatformError } from '../lib/private/errors';

const outdir = process.argv[2] ? path.resolve(process.argv[2]) : path.join(__dirname, '..', 'dist', 'k8s');
const modelUri = process.env.AIP_MODEL_S3_URI || undefined;
const serverImage = process.env.AIP_SERVER_IMAGE || undefined;
const devicePluginValue = process.env.AIP_DEVICE_PLUGIN ?? '';
if (!['', 'true', 'false'].includes(devicePluginValue)) {
  console.error(`AIP_DEVICE_PLUGIN (${JSON.stringify(devicePluginValue)}) must be "true" or "false": set it to true to add the device-plugins chart, or leave it unset`);
  process.exit(1);
}
let written: PlatformManifests;
try {
  written = writePlatformManifests(outdir, {
    serverImage,
    trainingImage: process.env.AIP_TRAINING_IMAGE || undefined,
    model: modelUri ? ModelSource.fromS3Uri(modelUri) : undefined,
    modelName: process.env.AIP_MODEL_NAME || undefined,
    serverServiceAccountName: process.env.AIP_SERVER_SERVICE_ACCOUNT || undefined,
    devicePlugin: devicePluginValue === 'true',
  });
} catch (e) {
  // A setting or output folder the library refuses: its message names what is wrong; a stack trace adds nothing.
  if (!(e instanceof PlatformError)) throw e;
  console.error(e.message);
  process.exit(1);
}
const { files, annotations } = written;
// cdk8s prints no construct annotations: print the warnings and errors the charts recorded, as the cdk CLI would.
for (const annotation of annotations) {
  if (annotation.level !== AnnotationLevel.INFO) console.error(formatAnnotation(annotation));
}
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
// A warning, as for the model source: `npm run synth` writes this folder with no registry to push to, and the
// output is a template until the image is pushed. Nothing publishes the default name, so the pods would stay in
// ImagePullBackOff (the cluster looks for it on Docker Hub).
if (!serverImage) {
  console.warn(`serving.yaml runs the image ${DEFAULT_SERVER_IMAGE}, a local build tag: no registry serves it, `
    + 'so its pods would stay in ImagePullBackOff: build it (`docker build -f container/Dockerfile.gpu -t <registry>/inference-server-gpu:0.1.0 container/`), '
    + 'push it where the cluster can pull it (Amazon ECR, for example), and set AIP_SERVER_IMAGE to that name');
}
console.log(`wrote ${files.map((f) => path.relative(process.cwd(), path.join(outdir, f))).join(', ')}`);
if (annotations.some((a) => a.level === AnnotationLevel.ERROR)) process.exitCode = 1;
