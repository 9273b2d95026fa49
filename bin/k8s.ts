/**
 * Writes the reference platform's Kubernetes charts to `dist/k8s/` (one YAML file per chart and a
 * `kustomization.yaml`), for GitOps tools to apply. Run with `npx tsx bin/k8s.ts`.
 *
 * Set `AIP_SERVER_IMAGE` to serve your own build of the inference server image, and `AIP_TRAINING_IMAGE` to run
 * your trainer instead of the spot GPU check. An optional argument
 * writes to another folder instead (`npx tsx bin/k8s.ts /tmp/k8s`).
 */
import * as path from 'node:path';
import { writePlatformManifests } from '../lib/platform-chart';

const outdir = process.argv[2] ? path.resolve(process.argv[2]) : path.join(__dirname, '..', 'dist', 'k8s');
const files = writePlatformManifests(outdir, {
  serverImage: process.env.AIP_SERVER_IMAGE || undefined,
  trainingImage: process.env.AIP_TRAINING_IMAGE || undefined,
});
console.log(`wrote ${files.map((f) => path.relative(process.cwd(), path.join(outdir, f))).join(', ')}`);
