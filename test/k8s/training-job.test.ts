import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { AcceleratorVendor, Capacity, GpuInstanceType } from '../../constructs/compute';
import { AcceleratorNodes, CheckpointStorage, InferenceService, TrainingJob, TrainingJobProps } from '../../constructs/k8s';
import { buildPlatformCharts } from '../../lib/platform-chart';
import { LABEL_CAPACITY_TYPE, LABEL_NODE_GROUP } from '../../lib/private/labels';
import { only, podSpec, synthValid } from './helpers';

const IMAGE = 'registry.example.com/trainer:2.1';

const spotNodes = (acceleratorsPerNode = 4) => AcceleratorNodes.labeled({
  vendor: AcceleratorVendor.NVIDIA,
  labels: { [LABEL_NODE_GROUP]: 'training', [LABEL_CAPACITY_TYPE]: 'spot' },
  acceleratorsPerNode,
  instanceTypeNames: ['g5.12xlarge'],
});

function synth(props: Partial<TrainingJobProps> = {}) {
  const chart = Testing.chart();
  const job = new TrainingJob(chart, 'Train', { image: IMAGE, ...props });
  return { chart, job, manifests: synthValid(chart) };
}

describe('TrainingJob', () => {
  test('the pod template carries no label derived from the construct path: a Job\'s template cannot change, so moving the construct must not change it', () => {
    const template = only(synth().manifests, 'Job').spec.template;
    expect(template.metadata.labels).toEqual({ 'app.kubernetes.io/name': 'train' });
    expect(only(synth().manifests, 'Job').spec.selector).toBeUndefined();
  });

  test('an InferenceService of the same name in the same namespace fails, naming it: its Service selects pods by app.kubernetes.io/name alone and would send requests to the training pods', () => {
    const app = Testing.app();
    const serving = new Chart(app, 'Serving', { namespace: 'ml' });
    new InferenceService(serving, 'Fraud', { image: 'registry.example.com/server:1' });
    const training = new Chart(app, 'Training', { namespace: 'ml' });
    expect(() => new TrainingJob(training, 'Fraud', { image: IMAGE }))
      .toThrow(/'name' \("fraud"\) is also the name of InferenceService Serving\/Fraud in namespace ml: both label their pods app.kubernetes.io\/name=fraud, .*so the Service would send requests to the training pods: give one of them another name, or put them in charts of different namespaces/);
    // The other order, and charts without a namespace (kubectl apply puts both in its current one).
    const other = Testing.app();
    new TrainingJob(new Chart(other, 'A'), 'Job', { image: IMAGE, name: 'scoring' });
    expect(() => new InferenceService(new Chart(other, 'B'), 'Svc', { image: 'registry.example.com/server:1', name: 'scoring' }))
      .toThrow(/'name' \("scoring"\) is also the name of TrainingJob A\/Job in the same namespace \(their charts set none\)/);
    // Another namespace, another name, or another app: no clash.
    const apart = Testing.app();
    new InferenceService(new Chart(apart, 'S', { namespace: 'serving' }), 'Fraud', { image: 'registry.example.com/server:1' });
    expect(() => new TrainingJob(new Chart(apart, 'T', { namespace: 'training' }), 'Fraud', { image: IMAGE })).not.toThrow();
    expect(() => new TrainingJob(new Chart(apart, 'U', { namespace: 'serving' }), 'Fraud2', { image: IMAGE })).not.toThrow();
    expect(() => new TrainingJob(Testing.chart(), 'Fraud', { image: IMAGE })).not.toThrow();
  });

  test('two of the same kind and name in one namespace fail, naming the first: they would be one Job, or one Deployment and Service, in Kubernetes', () => {
    const app = Testing.app();
    new TrainingJob(new Chart(app, 'First', { namespace: 'ml' }), 'Job', { image: IMAGE, name: 'nightly' });
    expect(() => new TrainingJob(new Chart(app, 'Second', { namespace: 'ml' }), 'Job', { image: IMAGE, name: 'nightly' }))
      .toThrow(/'name' \("nightly"\) is also the name of TrainingJob First\/Job in namespace ml: both render a Job named nightly, which Kubernetes holds as one object each, .*a Job's pod template cannot change\): give one of them another name/);
    new InferenceService(new Chart(app, 'S1'), 'Svc', { image: 'registry.example.com/server:1', name: 'scoring' });
    expect(() => new InferenceService(new Chart(app, 'S2'), 'Svc', { image: 'registry.example.com/server:2', name: 'scoring' }))
      .toThrow(/'name' \("scoring"\) is also the name of InferenceService S1\/Svc in the same namespace \(their charts set none\): both render a Deployment, Service and PodDisruptionBudget named scoring/);
    // Another namespace: no clash.
    expect(() => new TrainingJob(new Chart(app, 'Third', { namespace: 'research' }), 'Job', { image: IMAGE, name: 'nightly' })).not.toThrow();
  });

  test('renders completions, parallelism, backoffLimit, activeDeadlineSeconds and ttlSecondsAfterFinished', () => {
    const checkpoints = CheckpointStorage.newClaim({ storageClassName: 'efs-sc' });
    const job = only(synth({ completions: 4, parallelism: 2, backoffLimit: 3, activeDeadline: Duration.hours(6), ttlAfterFinished: Duration.hours(2), checkpoints }).manifests, 'Job');
    expect(job.spec).toMatchObject({ completions: 4, parallelism: 2, backoffLimit: 3, activeDeadlineSeconds: 21600, ttlSecondsAfterFinished: 7200 });
    expect(podSpec(job).restartPolicy).toBe('Never');
  });

  test('a request above its limit (CPU or memory) fails naming both: the API server would refuse the Job', () => {
    expect(() => synth({ resources: { cpu: { request: kplus.Cpu.units(8), limit: kplus.Cpu.units(4) } } }))
      .toThrow(/'resources\.cpu\.request' \("8"\) must be <= 'resources\.cpu\.limit' \(4\)/);
    expect(() => synth({ resources: { memory: { request: Size.gibibytes(32), limit: Size.gibibytes(16) } } }))
      .toThrow(/'resources\.memory\.request' \("32Gi"\) must be <= 'resources\.memory\.limit' \(16Gi\)/);
    expect(() => synth({ resources: { cpu: { request: kplus.Cpu.millis(500), limit: kplus.Cpu.units(0.5) } } })).not.toThrow();
  });

  test('sizes that cannot be written in the unit Kubernetes gets them in fail naming the prop and the value', () => {
    // cdk8s-plus writes a claim's storage in Gi and memory in Mi.
    expect(() => CheckpointStorage.newClaim({ size: Size.mebibytes(1500) }))
      .toThrow(/'size' \("1500Mi"\) must be a whole number of GiB \(cdk8s-plus writes a claim's storage in Gi\): use e\.g\. Size\.gibibytes\(2\)/);
    expect(() => synth({ resources: { memory: { request: Size.kibibytes(1000), limit: Size.gibibytes(16) } } }))
      .toThrow(/'resources\.memory\.request' \("1000Ki"\) must be a whole number of MiB \(cdk8s-plus writes memory in Mi\)/);
    expect(() => synth({ resources: { memory: { limit: Size.kibibytes(1500) } } }))
      .toThrow(/'resources\.memory\.limit' \("1500Ki"\) must be a whole number of MiB/);
    const claim = only(synth({ checkpoints: CheckpointStorage.newClaim({ size: Size.mebibytes(2048) }) }).manifests, 'PersistentVolumeClaim');
    expect(claim.spec.resources.requests.storage).toBe('2Gi');
  });

  test('by default stops after 24 hours and is kept once finished: a GitOps tool would recreate a deleted Job, running the training again', () => {
    const job = only(synth().manifests, 'Job');
    expect(job.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6, activeDeadlineSeconds: 86400 });
    expect(job.spec.ttlSecondsAfterFinished).toBeUndefined();
  });

  test('asks Flux to recreate the Job when its spec changes: a Job\'s pod template is immutable, so an update would fail every reconciliation', () => {
    const job = only(synth().manifests, 'Job');
    expect(job.metadata.annotations).toEqual({ 'kustomize.toolkit.fluxcd.io/force': 'enabled' });
  });

  test('the platform charts\' training job, written for Argo CD and Flux, is not deleted when it finishes', () => {
    const charts = buildPlatformCharts(Testing.app());
    expect(only(synthValid(charts.training), 'Job').spec.ttlSecondsAfterFinished).toBeUndefined();
  });

  test('its pods opt out of Karpenter\'s voluntary disruption (drift, consolidation) and of cluster-autoscaler\'s scale-down, which would evict a running training', () => {
    const job = only(synth({ nodes: spotNodes() }).manifests, 'Job');
    expect(job.spec.template.metadata.annotations).toEqual({ 'karpenter.sh/do-not-disrupt': 'true', 'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false' });
  });

  test('spot interruptions (DisruptionTarget) do not count against backoffLimit', () => {
    const job = only(synth().manifests, 'Job');
    expect(job.spec.podFailurePolicy.rules[0]).toEqual({ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] });
  });

  test('a trainer that exits 143 after SIGTERM is retried without counting: Karpenter deletes do-not-disrupt pods without DisruptionTarget', () => {
    // Karpenter deletes a karpenter.sh/do-not-disrupt pod on a node it terminates (spot interruption, expiry) with a plain
    // delete, not the Eviction API, and such a pod gets no DisruptionTarget condition (kubernetes-sigs/karpenter#3218).
    const job = only(synth({ nonRetryableExitCodes: [2] }).manifests, 'Job');
    expect(job.spec.podFailurePolicy.rules).toEqual([
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
      { action: 'Ignore', onExitCodes: { containerName: 'trainer', operator: 'In', values: [143] } },
      { action: 'FailJob', onExitCodes: { containerName: 'trainer', operator: 'In', values: [2] } },
    ]);
  });

  test('with 143 (SIGTERM) as a non-retryable exit code, synthesis fails: it is how the trainer reports an interruption', () => {
    expect(() => synth({ nonRetryableExitCodes: [2, 143] })).toThrow(
      /'nonRetryableExitCodes' \(\[2,143\]\) must not hold 143, the exit code of a trainer stopped by SIGTERM .*: remove 143/);
  });

  test('non-retryable exit codes fail the job at once', () => {
    const job = only(synth({ nonRetryableExitCodes: [3, 2] }).manifests, 'Job');
    expect(job.spec.podFailurePolicy.rules[2]).toEqual({ action: 'FailJob', onExitCodes: { containerName: 'trainer', operator: 'In', values: [2, 3] } });
  });

  test('a non-retryable exit code given twice is listed once (the API server refuses duplicate values)', () => {
    const job = only(synth({ nonRetryableExitCodes: [3, 2, 3] }).manifests, 'Job');
    expect(job.spec.podFailurePolicy.rules[2].onExitCodes.values).toEqual([2, 3]);
  });

  test('an empty list of non-retryable exit codes adds no FailJob rule (the API server refuses a rule with no values)', () => {
    const job = only(synth({ nonRetryableExitCodes: [] }).manifests, 'Job');
    expect(job.spec.podFailurePolicy.rules.map((r: { action: string }) => r.action)).toEqual(['Ignore', 'Ignore']);
  });

  test('checkpoints go to a created claim mounted at /checkpoints, named by CHECKPOINT_DIR', () => {
    const { manifests, job } = synth({ checkpoints: CheckpointStorage.newClaim({ size: Size.gibibytes(500), storageClassName: 'efs' }), parallelism: 2, completions: 2 });
    const pvc = only(manifests, 'PersistentVolumeClaim');
    expect(pvc.metadata.name).toBe('train-checkpoints');
    expect(pvc.spec).toMatchObject({ accessModes: ['ReadWriteMany'], storageClassName: 'efs', resources: { requests: { storage: '500Gi' } } });
    expect(job.checkpointClaim).toBeDefined();
    const spec = podSpec(only(manifests, 'Job'));
    expect(spec.containers[0].env).toContainEqual({ name: 'CHECKPOINT_DIR', value: '/checkpoints' });
    expect(spec.containers[0].volumeMounts).toContainEqual({ mountPath: '/checkpoints', name: 'checkpoints' });
    expect(spec.volumes).toContainEqual({ name: 'checkpoints', persistentVolumeClaim: { claimName: 'train-checkpoints', readOnly: false } });
  });

  test('raising parallelism from 1 changes the access mode of the same claim, which Kubernetes refuses on an existing claim (documented); a pinned accessMode stays', () => {
    const claim = (props: Partial<TrainingJobProps>) => only(synth(props).manifests, 'PersistentVolumeClaim');
    const one = claim({ checkpoints: CheckpointStorage.newClaim({ storageClassName: 'efs' }) });
    const two = claim({ checkpoints: CheckpointStorage.newClaim({ storageClassName: 'efs' }), parallelism: 2, completions: 2 });
    expect(two.metadata.name).toBe(one.metadata.name);
    expect([one.spec.accessModes, two.spec.accessModes]).toEqual([['ReadWriteOnce'], ['ReadWriteMany']]);
    const pinned = (parallelism: number) => claim({
      checkpoints: CheckpointStorage.newClaim({ storageClassName: 'efs', accessMode: kplus.PersistentVolumeAccessMode.READ_WRITE_MANY }), parallelism, completions: 2,
    }).spec.accessModes;
    expect(pinned(1)).toEqual(pinned(2));
  });

  test('a single-pod job gets a ReadWriteOnce claim of 100 GiB by default', () => {
    expect(only(synth().manifests, 'PersistentVolumeClaim').spec).toMatchObject({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '100Gi' } } });
  });

  test('an existing claim is mounted and no claim is created', () => {
    const { manifests } = synth({ checkpoints: CheckpointStorage.existingClaim('shared-fsx') });
    expect(manifests.filter((m) => m.kind === 'PersistentVolumeClaim')).toHaveLength(0);
    expect(podSpec(only(manifests, 'Job')).volumes).toContainEqual({ name: 'checkpoints', persistentVolumeClaim: { claimName: 'shared-fsx', readOnly: false } });
  });

  test('on spot GPU nodes, requests the accelerators, tolerates the taint and requires the spot labels', () => {
    const spec = podSpec(only(synth({ nodes: spotNodes(), acceleratorsPerPod: 4 }).manifests, 'Job'));
    expect(spec.containers[0].resources.limits).toMatchObject({ 'nvidia.com/gpu': 4, 'cpu': '8', 'memory': '16384Mi' });
    expect(spec.containers[0].resources.requests).toMatchObject({ 'nvidia.com/gpu': 4, 'cpu': '4', 'memory': '16384Mi' });
    expect(spec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }]);
    expect(spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions).toContainEqual(
      { key: 'ai-platform.dev/capacity-type', operator: 'In', values: ['spot'] });
  });

  test('preferring spot keeps on-demand as a fallback', () => {
    const spec = podSpec(only(synth({ nodes: spotNodes(), preferCapacity: Capacity.spot() }).manifests, 'Job'));
    expect(spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]).toEqual({
      weight: 100, preference: { matchExpressions: [{ key: 'ai-platform.dev/capacity-type', operator: 'In', values: ['spot'] }] },
    });
    expect(JSON.stringify(spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution)).not.toContain('capacity-type');
  });

  test('runs non-root, read-only, with /tmp and a memory-backed /dev/shm, and leaves time for a last checkpoint', () => {
    const spec = podSpec(only(synth({ serviceAccountName: 'trainer' }).manifests, 'Job'));
    expect(spec.serviceAccountName).toBe('trainer');
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.terminationGracePeriodSeconds).toBe(90);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    // The checkpoint volume is re-owned only when its root is not the job's group yet, not on every restart.
    expect(spec.securityContext).toMatchObject({ fsGroup: 10001, fsGroupChangePolicy: 'OnRootMismatch' });
    expect(spec.containers[0].securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(spec.volumes).toContainEqual({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '8192Mi' } });
    expect(spec.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '10240Mi' } });
    expect(spec.containers[0].volumeMounts).toContainEqual({ mountPath: '/tmp', name: 'tmp' });
    expect(spec.containers[0].volumeMounts).toContainEqual({ mountPath: '/dev/shm', name: 'dshm' });
  });

  test('command, args, env and resources are passed through', () => {
    const c = podSpec(only(synth({
      command: ['python', 'train.py'], args: ['--epochs', '3'], env: { EPOCHS: '3' },
      resources: { cpu: { request: kplus.Cpu.units(2), limit: kplus.Cpu.units(2) } },
    }).manifests, 'Job')).containers[0];
    expect(c.command).toEqual(['python', 'train.py']);
    expect(c.args).toEqual(['--epochs', '3']);
    expect(c.env).toEqual([{ name: 'CHECKPOINT_DIR', value: '/checkpoints' }, { name: 'EPOCHS', value: '3' }, { name: 'HOME', value: '/tmp' }]);
    expect(c.resources.limits.cpu).toBe('2');
  });

  test('with more accelerators per pod than the nodes have, synthesis fails', () => {
    expect(() => synth({ nodes: spotNodes(4), acceleratorsPerPod: 8 })).toThrow(/'acceleratorsPerPod' \(8\) must be <= the 4 accelerator\(s\) each targeted node has/);
    expect(() => synth({ nodes: spotNodes(4), acceleratorsPerPod: 0 })).toThrow(/\[test\/Train\] 'acceleratorsPerPod' \(0\) must be a whole number >= 1/);
  });

  test('acceleratorsPerPod or preferCapacity without nodes and without runOn fails when the app is synthesized: they would be dropped, and the pods request no accelerator', () => {
    const synthApp = (props: Partial<TrainingJobProps>, later = false) => {
      const app = Testing.app();
      const job = new TrainingJob(new Chart(app, 'test'), 'Train', { image: IMAGE, ...props });
      if (later) job.runOn(spotNodes());
      return () => app.synthYaml();
    };
    expect(synthApp({ acceleratorsPerPod: 2 })).toThrow(
      /\[test\/Train\] 'acceleratorsPerPod' \(2\) applies only on accelerator nodes, and the job has no nodes and no runOn: it would be ignored, and the pods would request no accelerator: pass nodes \(or call runOn\), or remove it/);
    expect(synthApp({ preferCapacity: Capacity.spot() })).toThrow(/'preferCapacity' \("spot"\) applies only on accelerator nodes/);
    expect(synthApp({ preferCapacity: Capacity.onDemand() })).toThrow(/'preferCapacity' \("on-demand"\) applies only on accelerator nodes/);
    // runOn after construction uses them.
    expect(synthApp({ acceleratorsPerPod: 2, preferCapacity: Capacity.spot() }, true)).not.toThrow();
    expect(synthApp({})).not.toThrow();
  });

  test('runOn a second time (after nodes or an earlier runOn) fails: pods requesting both groups\' accelerators fit no node', () => {
    const chart = Testing.chart();
    const job = new TrainingJob(chart, 'Train', { image: IMAGE, nodes: spotNodes() });
    const neuron = AcceleratorNodes.labeled({ vendor: AcceleratorVendor.AWS_NEURON, labels: { [LABEL_NODE_GROUP]: 'trn1' } });
    expect(() => job.runOn(neuron)).toThrow(
      /\[test\/Train\] 'runOn' \(\{"vendor":"aws-neuron","labels":\{"ai-platform.dev\/node-group":"trn1"\}\}\) cannot be called again: a job runs on one node group, and it already runs on nvidia nodes labeled .*"training".*: call runOn once \(or pass nodes\)/);
    const cpu = new TrainingJob(chart, 'Cpu', { image: IMAGE });
    cpu.runOn(spotNodes());
    expect(() => cpu.runOn(spotNodes())).toThrow(/'runOn' .* cannot be called again/);
  });

  test('with requests no targeted instance type can hold, synthesis fails: the default 4 CPUs and 16 GiB never fit a g6.xlarge', () => {
    // g6.xlarge (4 vCPUs, 16 GiB) is GpuNodeGroup's default type; the kubelet and the system reserve part of it.
    const xlarge = AcceleratorNodes.labeled({
      vendor: AcceleratorVendor.NVIDIA, labels: { [LABEL_NODE_GROUP]: 'training' }, instanceTypeNames: [GpuInstanceType.G6_XLARGE.name],
    });
    expect(() => synth({ nodes: xlarge })).toThrow(
      /\[test\/Train\] 'resources' \(\{"cpu":"4","memory":"16384Mi"\}\) must be below the CPUs and memory of one targeted node \(largest: g6.xlarge, 4 vCPUs, 16 GiB; the kubelet and the system reserve part of them\): no node could run the pod, so it would stay Pending: lower the requests, or target larger instance types/);
    expect(() => synth({ nodes: xlarge, resources: { cpu: { request: kplus.Cpu.units(2), limit: kplus.Cpu.units(4) }, memory: { request: Size.gibibytes(16), limit: Size.gibibytes(16) } } })).toThrow(/'resources'/);
    // Requests that fit are fine, and so is a list holding a type large enough (Karpenter picks it).
    expect(() => synth({ nodes: xlarge, resources: { cpu: { request: kplus.Cpu.units(2), limit: kplus.Cpu.units(4) }, memory: { request: Size.gibibytes(8), limit: Size.gibibytes(12) } } })).not.toThrow();
    expect(() => synth({ nodes: AcceleratorNodes.labeled({
      vendor: AcceleratorVendor.NVIDIA, labels: { [LABEL_NODE_GROUP]: 'training' }, instanceTypeNames: ['g5.xlarge', 'g5.2xlarge'],
    }) })).not.toThrow();
  });

  test('a CPU request of every vCPU of the largest targeted type fails even with memory to spare: the kubelet reserves part of them', () => {
    const xlarge = AcceleratorNodes.labeled({
      vendor: AcceleratorVendor.NVIDIA, labels: { [LABEL_NODE_GROUP]: 'training' }, instanceTypeNames: [GpuInstanceType.G6_XLARGE.name],
    });
    const memory = { request: Size.gibibytes(8), limit: Size.gibibytes(8) };
    expect(() => synth({ nodes: xlarge, resources: { cpu: { request: kplus.Cpu.units(4), limit: kplus.Cpu.units(4) }, memory } }))
      .toThrow(/'resources' \(\{"cpu":"4","memory":"8192Mi"\}\) must be below the CPUs and memory of one targeted node \(largest: g6.xlarge, 4 vCPUs/);
    expect(() => synth({ nodes: xlarge, resources: { cpu: { request: kplus.Cpu.millis(3500), limit: kplus.Cpu.units(4) }, memory } })).not.toThrow();
  });

  test('with only a CPU limit, the limit counts as the request (as Kubernetes takes it) against the targeted nodes', () => {
    const xlarge = AcceleratorNodes.labeled({
      vendor: AcceleratorVendor.NVIDIA, labels: { [LABEL_NODE_GROUP]: 'training' }, instanceTypeNames: [GpuInstanceType.G6_XLARGE.name],
    });
    const memory = { request: Size.gibibytes(8), limit: Size.gibibytes(8) };
    expect(() => synth({ nodes: xlarge, resources: { cpu: { limit: kplus.Cpu.units(8) }, memory } }))
      .toThrow(/'resources' \(\{"cpu":"8","memory":"8192Mi"\}\) must be below the CPUs and memory of one targeted node/);
    expect(() => synth({ nodes: xlarge, resources: { cpu: { limit: kplus.Cpu.units(2) }, memory } })).not.toThrow();
  });

  test('a memory limit above every targeted node\'s memory passes when the request fits: the scheduler places pods by their requests', () => {
    const xlarge = AcceleratorNodes.labeled({
      vendor: AcceleratorVendor.NVIDIA, labels: { [LABEL_NODE_GROUP]: 'training' }, instanceTypeNames: [GpuInstanceType.G6_XLARGE.name],
    });
    const cpu = { request: kplus.Cpu.units(2), limit: kplus.Cpu.units(2) };
    // g6.xlarge has 16 GiB: a 32 GiB limit over an 8 GiB request still schedules there.
    expect(() => synth({ nodes: xlarge, resources: { cpu, memory: { request: Size.gibibytes(8), limit: Size.gibibytes(32) } } })).not.toThrow();
  });

  test('requests that fit no targeted type fail naming the largest of them, whatever the order the types are listed in', () => {
    const nodes = AcceleratorNodes.labeled({
      vendor: AcceleratorVendor.NVIDIA, labels: { [LABEL_NODE_GROUP]: 'training' }, instanceTypeNames: ['g6.xlarge', 'g6.2xlarge'],
    });
    const memory = { request: Size.gibibytes(8), limit: Size.gibibytes(8) };
    expect(() => synth({ nodes, resources: { cpu: { request: kplus.Cpu.units(16), limit: kplus.Cpu.units(16) }, memory } }))
      .toThrow(/\(largest: g6.2xlarge, 8 vCPUs, 32 GiB;/);
  });

  test('a ReadWriteMany checkpoint claim (parallelism above 1) on the default StorageClass fails synthesis: EBS, the default, is one node at a time', () => {
    const refused = /'checkpoints' \("CheckpointStorage.newClaim\(\) on the default StorageClass"\) must name a StorageClass that provisions ReadWriteMany volumes/;
    expect(() => synth({ completions: 2, parallelism: 2 })).toThrow(new RegExp(`${refused.source} for 'parallelism' 2 .*: pass CheckpointStorage.newClaim\\(\\{ storageClassName: 'efs-sc' \\}\\)`));
    expect(() => synth({ completions: 2, parallelism: 2, checkpoints: CheckpointStorage.newClaim({ size: Size.gibibytes(50) }) })).toThrow(refused);
    expect(() => synth({ checkpoints: CheckpointStorage.newClaim({ accessMode: kplus.PersistentVolumeAccessMode.READ_WRITE_MANY }) })).toThrow(refused);
    // A named class, an existing claim, or pods that share one node (ReadWriteOnce, chosen) are taken.
    expect(() => synth({ completions: 2, parallelism: 2, checkpoints: CheckpointStorage.newClaim({ storageClassName: 'fsx-sc' }) })).not.toThrow();
    expect(() => synth({ completions: 2, parallelism: 2, checkpoints: CheckpointStorage.existingClaim('shared-checkpoints') })).not.toThrow();
    const rwo = synth({ completions: 2, parallelism: 2, checkpoints: CheckpointStorage.newClaim({ accessMode: kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE }) });
    expect(only(rwo.manifests, 'PersistentVolumeClaim').spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(only(synth().manifests, 'PersistentVolumeClaim').spec.accessModes).toEqual(['ReadWriteOnce']);
  });

  test('with parallelism above completions, synthesis fails', () => {
    expect(() => synth({ completions: 2, parallelism: 3 })).toThrow(/'parallelism' \(3\) must be a whole number from 1 to 'completions' \(2\)/);
  });

  test('with zero completions, synthesis fails', () => {
    expect(() => synth({ completions: 0 })).toThrow(/'completions' \(0\) must be a whole number >= 1/);
  });

  test('with a negative backoffLimit, synthesis fails', () => {
    expect(() => synth({ backoffLimit: -1 })).toThrow(/'backoffLimit' \(-1\) must be a whole number >= 0/);
  });

  test('with exit code 0 as non-retryable, synthesis fails', () => {
    expect(() => synth({ nonRetryableExitCodes: [0] })).toThrow(/'nonRetryableExitCodes' \(\[0\]\) must be exit codes from 1 to 255/);
  });

  test('with an exit code above 255 as non-retryable, synthesis fails', () => {
    expect(() => synth({ nonRetryableExitCodes: [1, 256] })).toThrow(/'nonRetryableExitCodes' \(\[1,256\]\) must be exit codes from 1 to 255 \(0 means success\): remove 256/);
  });

  test('with a grace period of two minutes or more, synthesis fails', () => {
    expect(() => synth({ terminationGracePeriod: Duration.minutes(2) })).toThrow(/'terminationGracePeriod' \("120s"\) must be below 120s/);
  });

  test('with durations that are not whole seconds, synthesis fails naming the prop (Kubernetes takes whole seconds)', () => {
    expect(() => synth({ terminationGracePeriod: Duration.millis(60500) })).toThrow(/'terminationGracePeriod' \("60\.5s"\) must be a whole number of seconds/);
    expect(() => synth({ activeDeadline: Duration.millis(3600500) })).toThrow(/'activeDeadline' \("3600\.5s"\) must be a whole number of seconds/);
    expect(() => synth({ ttlAfterFinished: Duration.millis(1500) })).toThrow(/'ttlAfterFinished' \("1\.5s"\) must be a whole number of seconds/);
  });

  test('with an activeDeadline of zero, synthesis fails: Kubernetes wants a positive activeDeadlineSeconds, and the job would fail at once', () => {
    expect(() => synth({ activeDeadline: Duration.seconds(0) })).toThrow(/'activeDeadline' \("0s"\) must be at least 1s/);
    expect(only(synth({ activeDeadline: Duration.seconds(1) }).manifests, 'Job').spec.activeDeadlineSeconds).toBe(1);
  });

  test('with a checkpoint claim of zero size, synthesis fails: the API server wants a claim larger than zero', () => {
    expect(() => CheckpointStorage.newClaim({ size: Size.gibibytes(0) })).toThrow(/'size' \("0Gi"\) must be at least 1 GiB/);
  });

  test('the trainer\'s HOME is the writable /tmp unless env sets it: the root filesystem is read-only', () => {
    // A uid with no passwd entry gets HOME=/ (or the image's HOME), which the read-only root filesystem
    // makes unwritable: caches under ~ (the AWS CLI's credential cache, ~/.cache of Hugging Face, Triton,
    // pip) would fail to write.
    const c = podSpec(only(synth().manifests, 'Job')).containers[0];
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(c.env).toContainEqual({ name: 'HOME', value: '/tmp' });
    expect(c.volumeMounts).toContainEqual({ mountPath: '/tmp', name: 'tmp' });
    const own = podSpec(only(synth({ env: { HOME: '/checkpoints/home' } }).manifests, 'Job')).containers[0];
    expect(own.env.filter((e: { name: string }) => e.name === 'HOME')).toEqual([{ name: 'HOME', value: '/checkpoints/home' }]);
  });

  test('with CHECKPOINT_DIR in env, synthesis fails', () => {
    expect(() => synth({ env: { CHECKPOINT_DIR: '/data' } })).toThrow(/'env.CHECKPOINT_DIR' \("\/data"\) is set by the construct to the checkpoint volume \(\/checkpoints\)/);
  });

  test('with an env name the API server refuses (empty, holding "=" or a character that is not printable ASCII), synthesis fails naming it', () => {
    expect(() => synth({ env: { '': '1' } })).toThrow(/'env' \(""\) must be environment variable names: at least one printable ASCII character, none of them "="/);
    expect(() => synth({ env: { 'EPOCHS=3': '' } })).toThrow(/'env' \("EPOCHS=3"\) must be environment variable names/);
    expect(() => synth({ env: { 'TAB\tNAME': '1' } })).toThrow(/'env' \("TAB\\tNAME"\) must be environment variable names/);
    expect(() => synth({ env: { 'hf.cache-dir': '/tmp' } })).not.toThrow();
  });

  test('with an image that is empty or holds whitespace, synthesis fails naming it: the API server refuses an empty image and the kubelet cannot pull one with spaces', () => {
    expect(() => synth({ image: '' })).toThrow(/'image' \(""\) must be a container image reference: not empty, no whitespace/);
    expect(() => synth({ image: 'registry/trainer:2.1 ' })).toThrow(/'image' \("registry\/trainer:2.1 "\) must be a container image reference/);
  });

  test('with a root user id, synthesis fails', () => {
    expect(() => synth({ runAsUser: 0 })).toThrow(/'runAsUser' \(0\) must be a whole number >= 1/);
  });

  test('with a serviceAccountName or storageClassName that is no Kubernetes object name, synthesis fails: the API server would refuse the Job or the claim', () => {
    expect(() => synth({ serviceAccountName: 'Trainer' }))
      .toThrow(/'serviceAccountName' \("Trainer"\) must be a Kubernetes object name \(a DNS subdomain/);
    expect(() => CheckpointStorage.newClaim({ storageClassName: 'efs sc' }))
      .toThrow(/'storageClassName' \("efs sc"\) must be a Kubernetes object name \(a DNS subdomain/);
    expect(() => synth({ serviceAccountName: 'trainer', checkpoints: CheckpointStorage.newClaim({ storageClassName: 'efs-sc' }) })).not.toThrow();
    // An empty class is the API's "no class" (a statically provisioned volume).
    expect(only(synth({ checkpoints: CheckpointStorage.newClaim({ storageClassName: '' }) }).manifests, 'PersistentVolumeClaim').spec.storageClassName).toBe('');
  });

  test('with a user id above 2147483647, synthesis fails: the API server refuses it', () => {
    expect(() => synth({ runAsUser: 2147483648 })).toThrow(/'runAsUser' \(2147483648\) must be a whole number from 1 to 2147483647/);
    expect(() => synth({ runAsUser: 2147483647 })).not.toThrow();
  });

  test('with an invalid name, synthesis fails', () => {
    expect(() => synth({ name: 'Train_1' })).toThrow(/'name' \("Train_1"\) must be a DNS label/);
  });

  test('an existing claim with an invalid name is rejected', () => {
    expect(() => CheckpointStorage.existingClaim('Bad Name')).toThrow(/'claimName' \("Bad Name"\) must be a Kubernetes object name/);
  });
});

test('a JavaScript caller without props gets an error naming image instead of a TypeError', () => {
  expect(() => new TrainingJob(Testing.chart(), 'Train', undefined as unknown as TrainingJobProps))
    .toThrow(/^\[test\/Train\] 'image' \(undefined\) is required: the training image: a container image reference/);
});
