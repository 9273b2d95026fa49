import { Chart, Testing } from 'cdk8s';
import { validateManifests } from './validate';

/** A manifest as synthesized. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Manifest = any;

/** Synthesizes the chart, validates every manifest against its schema, and returns them. */
export function synthValid(chart: Chart): Manifest[] {
  const manifests = Testing.synth(chart);
  validateManifests(manifests);
  return manifests;
}

/** The one manifest of this kind (and name, when given); fails when there is not exactly one. */
export function only(manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata?.name === name));
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` named ${name}` : ''}, found ${found.length}`);
  }
  return found[0];
}

/** The pod spec of a Deployment, Job or DaemonSet. */
export function podSpec(workload: Manifest): Manifest {
  return workload.spec.template.spec;
}
