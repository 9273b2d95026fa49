import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnParameter, Stack, Token } from 'aws-cdk-lib';
import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { AcceleratorVendor, Capacity } from '../../constructs/compute';
import {
  AcceleratorNodes, ArgoCanaryStep, DisruptionBudget, IngressPeer, InferenceService, InferenceServiceProps, ModelSource, PreStopPause, RunOnOptions, ScalingMetric,
} from '../../constructs/k8s';
import { integerRange } from '../../constructs/private/server-environment';
import { LABEL_CAPACITY_TYPE, LABEL_NODE_GROUP } from '../../lib/private/labels';
import { only, podSpec, synthValid } from './helpers';
import { validateManifest } from './validate';

const IMAGE = 'registry.example.com/inference-server:1.0.0';

const gpuNodes = (acceleratorsPerNode = 1) => AcceleratorNodes.labeled({
  vendor: AcceleratorVendor.NVIDIA,
  labels: { [LABEL_NODE_GROUP]: 'inference', [LABEL_CAPACITY_TYPE]: 'on-demand' },
  acceleratorsPerNode,
  instanceTypeNames: ['g5.xlarge'],
});

function synth(props: Partial<InferenceServiceProps> = {}) {
  const chart = Testing.chart();
  const service = new InferenceService(chart, 'Fraud', { image: IMAGE, ...props });
  return { chart, service, manifests: synthValid(chart) };
}

function server(manifests: ReturnType<typeof synth>['manifests'], name = 'fraud') {
  return podSpec(only(manifests, 'Deployment', name)).containers[0];
}

/** The fetch-model init container of a service whose model is at `uri`. */
function fetchModel(uri: string) {
  return podSpec(only(synth({ model: ModelSource.fromS3Uri(uri) }).manifests, 'Deployment')).initContainers[0];
}

/**
 * Runs the fetch-model command as rendered, with the model directory moved to a scratch directory and a fake
 * `aws` whose script fills it (the directory is in $MODEL).
 */
function runFetchModel(init: { command: string[] }, awsScript: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fetch-model-'));
  const bin = path.join(dir, 'bin');
  const model = path.join(dir, 'model');
  fs.mkdirSync(bin);
  fs.mkdirSync(model);
  fs.writeFileSync(path.join(bin, 'aws'), `#!/bin/sh\n${awsScript}\n`, { mode: 0o755 });
  const command = init.command.map((arg) => arg.replace('/opt/ml/model', model));
  const result = spawnSync(command[0], command.slice(1), { env: { PATH: `${bin}:${process.env.PATH}`, MODEL: model }, encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  return result;
}

describe('InferenceService', () => {
  test('by default, creates a Deployment, Service, autoscaling/v2 HPA and PDB, and no NetworkPolicy', () => {
    const { manifests } = synth();
    expect(manifests.map((m) => `${m.apiVersion}/${m.kind}`).sort()).toEqual([
      'apps/v1/Deployment', 'autoscaling/v2/HorizontalPodAutoscaler', 'policy/v1/PodDisruptionBudget', 'v1/Service',
    ]);
    const deployment = only(manifests, 'Deployment');
    expect(deployment.metadata.name).toBe('fraud');
    // The HPA owns the replica count.
    expect(deployment.spec.replicas).toBeUndefined();
    expect(deployment.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  });

  test('by default, the HPA holds 2 to 4 replicas, so one pod can go while another serves', () => {
    const hpa = only(synth().manifests, 'HorizontalPodAutoscaler');
    expect(hpa.spec.minReplicas).toBe(2);
    expect(hpa.spec.maxReplicas).toBe(4);
  });

  test('by default, the pod and every container run as uid 10001 (the bundled image\'s user) and gid 10001', () => {
    const spec = podSpec(only(synth({ model: ModelSource.fromS3Uri('s3://models/fraud/') }).manifests, 'Deployment'));
    expect(spec.securityContext).toMatchObject({ runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 });
    for (const c of [...spec.containers, ...spec.initContainers]) expect(c.securityContext).toMatchObject({ runAsUser: 10001, runAsGroup: 10001 });
  });

  test('probes the Open Inference Protocol endpoints, with a startup probe that allows for model loading', () => {
    const c = server(synth({ startupTimeout: Duration.minutes(15) }).manifests);
    expect(c.ports).toEqual([{ containerPort: 8080 }]);
    expect(c.startupProbe).toEqual({ httpGet: { path: '/v2/health/ready', port: 8080, scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 90 });
    // Out of the Service after 10 s not ready; restarted after 30 s not live.
    expect(c.readinessProbe).toEqual({ httpGet: { path: '/v2/health/ready', port: 8080, scheme: 'HTTP' }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 });
    expect(c.livenessProbe).toEqual({ httpGet: { path: '/v2/health/live', port: 8080, scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 });
  });

  test('the progress deadline allows startupTimeout plus 10 minutes, on the Deployment, the canary and the Argo Rollout', () => {
    // The default startupTimeout alone is 600 s, cdk8s-plus's default progress deadline.
    expect(only(synth().manifests, 'Deployment').spec.progressDeadlineSeconds).toBe(1200);
    const slow = synth({ startupTimeout: Duration.minutes(30), canary: { image: 'x:2' } }).manifests;
    expect(only(slow, 'Deployment', 'fraud').spec.progressDeadlineSeconds).toBe(2400);
    expect(only(slow, 'Deployment', 'fraud-canary').spec.progressDeadlineSeconds).toBe(2400);
    const argo = synth({ startupTimeout: Duration.seconds(905), argoRollout: {} }).manifests;
    expect(only(argo, 'Rollout').spec.progressDeadlineSeconds).toBe(1505);
    expect(only(argo, 'Deployment').spec.progressDeadlineSeconds).toBe(1505);
  });

  test('drains gracefully: DRAIN_TIMEOUT_MS, a preStop pause, and a grace period above both', () => {
    const { manifests } = synth({ drainTimeout: Duration.seconds(20), preStopDelay: Duration.seconds(7) });
    const spec = podSpec(only(manifests, 'Deployment'));
    expect(spec.containers[0].env).toContainEqual({ name: 'DRAIN_TIMEOUT_MS', value: '20000' });
    expect(spec.containers[0].lifecycle.preStop).toEqual({ sleep: { seconds: 7 } });
    expect(spec.terminationGracePeriodSeconds).toBe(37);
  });

  test('pauses with Kubernetes\' sleep action, which needs no sleep program in the image, on the canary pods too', () => {
    const { manifests } = synth({ canary: { image: `${IMAGE}-next` } });
    for (const name of ['fraud', 'fraud-canary']) {
      const container = server(manifests, name);
      expect(container.lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } });
    }
  });

  test('PreStopPause.SLEEP_COMMAND runs sleep in the container instead, for clusters before Kubernetes 1.30', () => {
    const { manifests } = synth({ preStopDelay: Duration.seconds(3), preStopPause: PreStopPause.SLEEP_COMMAND });
    expect(server(manifests).lifecycle).toEqual({ preStop: { exec: { command: ['sleep', '3'] } } });
  });

  test('with a preStopDelay of 0 the container gets no preStop hook (a zero-second sleep action needs Kubernetes 1.33)', () => {
    for (const preStopPause of [PreStopPause.SLEEP_ACTION, PreStopPause.SLEEP_COMMAND]) {
      const { manifests } = synth({ preStopDelay: Duration.seconds(0), preStopPause });
      expect(server(manifests).lifecycle).toBeUndefined();
    }
  });

  test('a preStopPause that is not a PreStopPause fails naming the prop and the choices', () => {
    expect(() => synth({ preStopPause: 'exec' as PreStopPause }))
      .toThrow(/'preStopPause' \("exec"\) must be one of sleep-action, sleep-command.*PreStopPause\.SLEEP_ACTION/);
  });

  test('runs non-root with a read-only root filesystem, /tmp on an emptyDir, no capabilities, seccomp RuntimeDefault, no token', () => {
    const spec = podSpec(only(synth({ runAsUser: 12345 }).manifests, 'Deployment'));
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 12345, runAsGroup: 12345, fsGroup: 12345, seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec.containers[0].securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsGroup: 12345,
      runAsNonRoot: true,
      runAsUser: 12345,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec.containers[0].volumeMounts).toContainEqual({ mountPath: '/tmp', name: 'tmp' });
    expect(spec.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '1024Mi' } });
  });

  test('always sets requests and limits, spreads over zones and nodes, and announces /metrics to Prometheus', () => {
    const deployment = only(synth().manifests, 'Deployment');
    const c = podSpec(deployment).containers[0];
    expect(c.resources).toEqual({
      requests: { 'cpu': '1', 'memory': '4096Mi', 'ephemeral-storage': '1Gi' },
      limits: { 'cpu': '2', 'memory': '4096Mi', 'ephemeral-storage': '2Gi' },
    });
    const spread = podSpec(deployment).topologySpreadConstraints;
    expect(spread.map((s: { topologyKey: string }) => s.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    expect(spread[0]).toMatchObject({ maxSkew: 1, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'fraud' } } });
    expect(deployment.spec.template.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080', 'prometheus.io/path': '/metrics',
      'cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes': 'tmp',
    });
  });

  test('names every emptyDir volume of its pods as safe to lose, so cluster-autoscaler can remove an underused node (it keeps a node holding a pod with an unnamed emptyDir)', () => {
    for (const props of [{}, { model: ModelSource.fromS3Uri('s3://models/fraud/v3/') }, { canary: { image: 'x:2' } }]) {
      for (const deployment of synth(props).manifests.filter((m) => m.kind === 'Deployment')) {
        const emptyDirs = podSpec(deployment).volumes.filter((v: { emptyDir?: unknown }) => v.emptyDir).map((v: { name: string }) => v.name).sort();
        expect(emptyDirs.length).toBeGreaterThan(0);
        expect(deployment.spec.template.metadata.annotations['cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes'].split(',').sort()).toEqual(emptyDirs);
      }
    }
  });

  test('with spread off, renders no topology spread constraints', () => {
    expect(podSpec(only(synth({ spread: false }).manifests, 'Deployment')).topologySpreadConstraints).toBeUndefined();
  });

  test('on GPU nodes, requests and limits the accelerator, tolerates the taint and requires the node labels', () => {
    const spec = podSpec(only(synth({ nodes: gpuNodes() }).manifests, 'Deployment'));
    expect(spec.containers[0].resources.limits['nvidia.com/gpu']).toBe(1);
    expect(spec.containers[0].resources.requests['nvidia.com/gpu']).toBe(1);
    expect(spec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }]);
    expect(spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([{
      matchExpressions: [
        { key: 'ai-platform.dev/capacity-type', operator: 'In', values: ['on-demand'] },
        { key: 'ai-platform.dev/node-group', operator: 'In', values: ['inference'] },
      ],
    }]);
    expect(spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
  });

  test('runOn after construction puts a Neuron service on Neuron nodes', () => {
    const chart = Testing.chart();
    const service = new InferenceService(chart, 'Llm', { image: IMAGE, env: { ORT_EXECUTION_PROVIDERS: 'cpu' } });
    service.runOn(AcceleratorNodes.labeled({ vendor: AcceleratorVendor.AWS_NEURON, labels: { [LABEL_NODE_GROUP]: 'inf2' }, acceleratorsPerNode: 12 }), { accelerators: 2 });
    const spec = podSpec(only(synthValid(chart), 'Deployment'));
    expect(spec.containers[0].resources.limits['aws.amazon.com/neuron']).toBe(2);
    expect(spec.tolerations).toEqual([{ key: 'aws.amazon.com/neuron', operator: 'Equal', value: 'true', effect: 'NoSchedule' }]);
  });

  test('runOn a second time (after nodes or an earlier runOn) fails: a service runs on one node group', () => {
    const neuron = AcceleratorNodes.labeled({ vendor: AcceleratorVendor.AWS_NEURON, labels: { [LABEL_NODE_GROUP]: 'inf2' } });
    const { service } = synth({ nodes: gpuNodes() });
    expect(() => service.runOn(neuron)).toThrow(
      /\[test\/Fraud\] 'runOn' \(\{"vendor":"aws-neuron","labels":\{"ai-platform.dev\/node-group":"inf2"\}\}\) cannot be called again: a service runs on one node group, and it already runs on nvidia nodes labeled .*"inference".* \(from 'nodes' or an earlier runOn\): call runOn once \(or pass nodes\), and create another InferenceService for another node group/);
    const chart = Testing.chart();
    const cpu = new InferenceService(chart, 'Fraud', { image: IMAGE });
    cpu.runOn(gpuNodes());
    expect(() => cpu.runOn(gpuNodes())).toThrow(/'runOn' .* cannot be called again/);
    // The first call stands: one toleration, CUDA required.
    const spec = podSpec(only(synthValid(chart), 'Deployment'));
    expect(spec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'true', effect: 'NoSchedule' }]);
    expect(spec.containers[0].env).toContainEqual({ name: 'ORT_EXECUTION_PROVIDERS', value: 'cuda' });
  });

  test('with a capacity preference, the capacity type becomes a preferred affinity and the rest stays required', () => {
    const spec = podSpec(only(synth({ nodes: gpuNodes(), nodeOptions: { preferCapacity: Capacity.spot() } }).manifests, 'Deployment'));
    const affinity = spec.affinity.nodeAffinity;
    expect(affinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions).toEqual([
      { key: 'ai-platform.dev/node-group', operator: 'In', values: ['inference'] },
    ]);
    expect(affinity.preferredDuringSchedulingIgnoredDuringExecution).toEqual([{
      weight: 100,
      preference: { matchExpressions: [{ key: 'ai-platform.dev/capacity-type', operator: 'In', values: ['spot'] }] },
    }]);
  });

  test('with more accelerators per pod than the nodes have, synthesis fails', () => {
    expect(() => synth({ nodes: gpuNodes(1), nodeOptions: { accelerators: 2 } }))
      .toThrow(/'nodeOptions.accelerators' \(2\) must be <= the 1 accelerator\(s\) each targeted node has \(nvidia.com\/gpu on g5.xlarge\)/);
  });

  test('with a model in S3, an init container copies it into a shared volume at /opt/ml/model', () => {
    const spec = podSpec(only(synth({ model: ModelSource.fromS3Uri('s3://models/fraud/v3/'), serviceAccountName: 'model-reader' }).manifests, 'Deployment'));
    expect(spec.serviceAccountName).toBe('model-reader');
    expect(spec.automountServiceAccountToken).toBe(false);
    const init = spec.initContainers[0];
    expect(init.command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(init.command[2]).toContain('aws s3 sync --only-show-errors "$1" "$2"');
    expect(init.command.slice(3)).toEqual(['fetch-model', 's3://models/fraud/v3/', '/opt/ml/model']);
    // The AWS CLI writes its cache under HOME: /tmp, since the root filesystem is read-only.
    expect(init.env).toEqual([{ name: 'HOME', value: '/tmp' }]);
    expect(init.volumeMounts).toEqual([{ mountPath: '/opt/ml/model', name: 'model' }, { mountPath: '/tmp', name: 'tmp' }]);
    expect(init.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(init.resources.limits).toBeDefined();
    expect(spec.containers[0].volumeMounts).toContainEqual({ mountPath: '/opt/ml/model', name: 'model', readOnly: true });
    expect(spec.volumes).toContainEqual({ name: 'model', emptyDir: { sizeLimit: '20480Mi' } });
  });

  test('with a model in S3, EKS\'s pod identity webhook is told to give AWS credentials to the fetch-model container only, not the server', () => {
    const { manifests } = synth({ model: ModelSource.fromS3Uri('s3://models/fraud/v3/'), serviceAccountName: 'model-reader', canary: { image: 'x:2' } });
    for (const deployment of manifests.filter((m) => m.kind === 'Deployment')) {
      expect(deployment.spec.template.metadata.annotations['eks.amazonaws.com/skip-containers']).toBe('server');
      expect(podSpec(deployment).containers.map((c: { name: string }) => c.name)).toEqual(['server']);
      expect(podSpec(deployment).initContainers.map((c: { name: string }) => c.name)).toEqual(['fetch-model']);
    }
    // With the model in the image, the server is the only container: nothing to skip.
    const baked = only(synth({ serviceAccountName: 'model-reader' }).manifests, 'Deployment');
    expect(baked.spec.template.metadata.annotations).not.toHaveProperty(['eks.amazonaws.com/skip-containers']);
  });

  test('the fetch-model init container requests half a CPU and 512 MiB, is limited to 1 CPU and 1 GiB, and pulls its image only when missing', () => {
    const init = fetchModel('s3://models/fraud/v3/');
    expect(init.resources).toEqual({ requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1', memory: '1024Mi' } });
    expect(init.imagePullPolicy).toBe('IfNotPresent');
  });

  test('with a prefix in S3 that holds nothing, the fetch-model init container fails (and is retried) instead of starting a server with no model', () => {
    // `aws s3 sync` (like `cp --recursive`) exits 0 on a prefix with no objects (a typo, a model not uploaded yet).
    // Init containers do not run again when the server container restarts, so a server that starts without its
    // model would crash-loop even after the upload; a failed init container is retried until the model is there.
    const init = fetchModel('s3://models/fraud/v3/');
    const empty = runFetchModel(init, 'exit 0');
    expect(empty.status).not.toBe(0);
    expect(empty.stderr).toContain('s3://models/fraud/v3/');
    expect(runFetchModel(init, 'echo onnx > "$MODEL/model.onnx"').status).toBe(0);
    expect(runFetchModel(init, 'exit 1').status).not.toBe(0);
    // A sync that fails part way fails the init container with its own status, even with files copied.
    expect(runFetchModel(init, 'echo onnx > "$MODEL/model.onnx"; exit 7').status).toBe(7);
  });

  test('with a prefix in S3 that holds files but no model file the server would load, the fetch-model init container fails naming the location, what it expected and what it found', () => {
    const init = fetchModel('s3://models/fraud/v3/');
    // A SageMaker-style archive: nothing unpacks it, and the server would find no model.
    const archive = runFetchModel(init, 'echo tgz > "$MODEL/model.tar.gz"; echo {} > "$MODEL/features.json"');
    expect(archive.status).toBe(1);
    expect(archive.stderr).toMatch(/fetch-model: s3:\/\/models\/fraud\/v3\/ holds no model file: expected model\.onnx/);
    expect(archive.stderr).toContain('features.json model.tar.gz');
    // The model one level too deep (the directory uploaded into the prefix): the listing shows the folder.
    const nested = runFetchModel(init, 'mkdir "$MODEL/fraud"; echo onnx > "$MODEL/fraud/model.onnx"');
    expect(nested.status).toBe(1);
    expect(nested.stderr).toContain('fraud/');
    // The server loads the only .onnx file whatever its name, and model.onnx among several.
    expect(runFetchModel(init, 'echo onnx > "$MODEL/fraud-v3.onnx"; echo x > "$MODEL/fraud-v3.onnx.data"').status).toBe(0);
    expect(runFetchModel(init, 'echo onnx > "$MODEL/model.onnx"; echo onnx > "$MODEL/pre.onnx"').status).toBe(0);
    // Several .onnx files and no model.onnx: the server would not know which to load.
    const several = runFetchModel(init, 'echo onnx > "$MODEL/a.onnx"; echo onnx > "$MODEL/b.onnx"');
    expect(several.status).toBe(1);
    expect(several.stderr).toMatch(/s3:\/\/models\/fraud\/v3\/ holds 2 \.onnx files \(a\.onnx b\.onnx\) and no model\.onnx, .*modelFile in serving\.json/);
    // The server's count of .onnx files (readdir) includes hidden ones: a macOS ._ file beside the model makes two
    // and no model.onnx, which the server refuses; a single hidden .onnx file is the one it loads.
    const appleDouble = runFetchModel(init, 'echo onnx > "$MODEL/fraud.onnx"; echo x > "$MODEL/._fraud.onnx"');
    expect(appleDouble.status).toBe(1);
    expect(appleDouble.stderr).toContain('holds 2 .onnx files (._fraud.onnx fraud.onnx)');
    expect(runFetchModel(init, 'echo onnx > "$MODEL/.fraud.onnx"').status).toBe(0);
    expect(runFetchModel(init, 'echo onnx > "$MODEL/model.onnx"; echo x > "$MODEL/._model.onnx"').status).toBe(0);
    // Names are written as they are: a POSIX sh's echo (dash, here /bin/sh) may read backslashes as escapes, and \c
    // would cut the message short.
    const backslash = runFetchModel(init, 'echo x > "$MODEL/fraud\\\\cv3\\\\n.bin"');
    expect(backslash.status).toBe(1);
    expect(backslash.stderr).toContain(' fraud\\cv3\\n.bin. An archive');
    expect(backslash.stderr).toMatch(/; retrying\n$/);
    // A long listing is cut short.
    const many = runFetchModel(init, 'for i in $(seq 10 34); do echo x > "$MODEL/part-$i.bin"; done');
    expect(many.status).toBe(1);
    expect(many.stderr).toContain('part-28.bin part-29.bin (and 5 more)');
  });

  test('with a serving.json that names the modelFile, the fetch-model init container checks that file instead', () => {
    const init = fetchModel('s3://models/fraud/v3/');
    const serving = (json: string) => `printf '%s' '${json}' > "$MODEL/serving.json"`;
    expect(runFetchModel(init, `${serving('{"workers": 2,\n  "modelFile" : "nets/fraud.onnx"}')}; mkdir "$MODEL/nets"; echo onnx > "$MODEL/nets/fraud.onnx"; echo onnx > "$MODEL/a.onnx"; echo onnx > "$MODEL/b.onnx"`).status).toBe(0);
    const missing = runFetchModel(init, `${serving('{"modelFile": "fraud.onnx"}')}; echo onnx > "$MODEL/model.onnx"`);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/fetch-model: s3:\/\/models\/fraud\/v3\/ holds no fraud\.onnx, the modelFile serving\.json names/);
    expect(missing.stderr).toContain('model.onnx serving.json');
    // A serving.json without modelFile leaves the server's own choice.
    expect(runFetchModel(init, `${serving('{"workers": 2}')}; echo onnx > "$MODEL/fraud.onnx"`).status).toBe(0);
    expect(runFetchModel(init, `${serving('{"workers": 2}')}`).status).toBe(1);
  });

  test('with a serving.json whose modelFile has JSON escapes, the fetch-model init container leaves the check to the server', () => {
    // JSON.parse reads "nets\/fraud.onnx" as nets/fraud.onnx and "fraud\u002dv3.onnx" as fraud-v3.onnx, and the
    // server loads them; sed sees the escapes, and an init container that failed on them would retry forever.
    const init = fetchModel('s3://models/fraud/v3/');
    const serving = (json: string) => `printf '%s' '${json}' > "$MODEL/serving.json"`;
    expect(runFetchModel(init, `${serving('{"modelFile": "nets\\/fraud.onnx"}')}; mkdir "$MODEL/nets"; echo onnx > "$MODEL/nets/fraud.onnx"`).status).toBe(0);
    expect(runFetchModel(init, `${serving('{"modelFile": "fraud\\u002dv3.onnx"}')}; echo onnx > "$MODEL/fraud-v3.onnx"`).status).toBe(0);
    expect(runFetchModel(init, `${serving('{"modelFile": "fraud \\"v3\\".onnx"}')}; echo onnx > "$MODEL/fraud \\"v3\\".onnx"`).status).toBe(0);
    // Without escapes, a missing modelFile still fails.
    expect(runFetchModel(init, `${serving('{"modelFile": "nets/fraud.onnx"}')}; echo onnx > "$MODEL/model.onnx"`).status).toBe(1);
  });

  test('the fetch-model script passes a URI with spaces, $ and backquotes to aws as one argument, unexpanded', () => {
    const uri = 's3://models/fraud v3/$HOME/`id`/';
    const init = podSpec(only(synth({ model: ModelSource.fromS3Uri(uri) }).manifests, 'Deployment')).initContainers[0];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fetch-model-'));
    const bin = path.join(dir, 'bin');
    const model = path.join(dir, 'model dir');
    fs.mkdirSync(bin);
    fs.mkdirSync(model);
    fs.writeFileSync(path.join(bin, 'aws'), '#!/bin/sh\nprintf "%s\\n" "$@" > "$ARGS"; echo onnx > "$5/model.onnx"\n', { mode: 0o755 });
    const command = (init.command as string[]).map((arg) => arg.replace('/opt/ml/model', model));
    const result = spawnSync(command[0], command.slice(1), { env: { PATH: `${bin}:${process.env.PATH}`, ARGS: path.join(dir, 'args') }, encoding: 'utf8' });
    const args = fs.readFileSync(path.join(dir, 'args'), 'utf8');
    fs.rmSync(dir, { recursive: true, force: true });
    expect(result.status).toBe(0);
    expect(args).toBe(['s3', 'sync', '--only-show-errors', uri, model, ''].join('\n'));
  });

  test('with a single .onnx object in S3, the init container copies that file as /opt/ml/model/model.onnx', () => {
    const spec = podSpec(only(synth({ model: ModelSource.fromS3Uri('s3://models/fraud/v3/fraud.onnx') }).manifests, 'Deployment'));
    expect(spec.initContainers[0].command).toEqual(['aws', 's3', 'cp', '--only-show-errors', 's3://models/fraud/v3/fraud.onnx', '/opt/ml/model/model.onnx']);
    expect(spec.containers[0].volumeMounts).toContainEqual({ mountPath: '/opt/ml/model', name: 'model', readOnly: true });
    const upper = podSpec(only(synth({ model: ModelSource.fromS3Uri('s3://models/FRAUD.ONNX') }).manifests, 'Deployment'));
    expect(upper.initContainers[0].command).toEqual(['aws', 's3', 'cp', '--only-show-errors', 's3://models/FRAUD.ONNX', '/opt/ml/model/model.onnx']);
    // A prefix that happens to end in .onnx/ is still a directory.
    const prefix = podSpec(only(synth({ model: ModelSource.fromS3Uri('s3://models/fraud.onnx/') }).manifests, 'Deployment'));
    expect(prefix.initContainers[0].command[2]).toContain('aws s3 sync');
  });

  test('with the model baked into the image, there is no init container and no model volume', () => {
    const spec = podSpec(only(synth({ model: ModelSource.fromImage() }).manifests, 'Deployment'));
    expect(spec.initContainers).toBeUndefined();
    expect(spec.volumes.map((v: { name: string }) => v.name)).toEqual(['tmp']);
  });

  test('the HPA scales on CPU and a custom metric, quickly up and slowly down', () => {
    const hpa = only(synth({ minReplicas: 2, maxReplicas: 10, scalingMetric: ScalingMetric.queueDepth(8) }).manifests, 'HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'fraud' });
    expect(hpa.spec.minReplicas).toBe(2);
    expect(hpa.spec.maxReplicas).toBe(10);
    expect(hpa.spec.metrics).toEqual([
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
      { type: 'Pods', pods: { metric: { name: 'inference_queue_depth' }, target: { type: 'AverageValue', averageValue: 8 } } },
    ]);
    expect(hpa.spec.behavior.scaleUp).toEqual({
      stabilizationWindowSeconds: 0, selectPolicy: 'Max',
      policies: [{ type: 'Percent', value: 100, periodSeconds: 60 }, { type: 'Pods', value: 4, periodSeconds: 60 }],
    });
    expect(hpa.spec.behavior.scaleDown).toEqual({
      stabilizationWindowSeconds: 300, selectPolicy: 'Min', policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }],
    });
  });

  test('targetCpuUtilizationPercent is the CPU utilization the HPA aims for', () => {
    const hpa = only(synth({ targetCpuUtilizationPercent: 50 }).manifests, 'HorizontalPodAutoscaler');
    expect(hpa.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
  });

  test('an external metric renders as type External', () => {
    const hpa = only(synth({ scalingMetric: ScalingMetric.external('sqs_messages_visible', 30) }).manifests, 'HorizontalPodAutoscaler');
    expect(hpa.spec.metrics[1]).toEqual({ type: 'External', external: { metric: { name: 'sqs_messages_visible' }, target: { type: 'AverageValue', averageValue: 30 } } });
  });

  test('requests per second is a pods metric', () => {
    const hpa = only(synth({ scalingMetric: ScalingMetric.requestsPerSecond(50) }).manifests, 'HorizontalPodAutoscaler');
    expect(hpa.spec.metrics[1].pods.metric.name).toBe('inference_requests_per_second');
  });

  test('the PDB covers stable and canary pods and lets one go at a time by default', () => {
    const pdb = only(synth().manifests, 'PodDisruptionBudget');
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': 'fraud' } }, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
  });

  test('a percentage or minAvailable budget renders as given', () => {
    expect(only(synth({ disruptionBudget: DisruptionBudget.maxUnavailablePercent(25) }).manifests, 'PodDisruptionBudget').spec.maxUnavailable).toBe('25%');
    expect(only(synth({ minReplicas: 3, disruptionBudget: DisruptionBudget.minAvailable(2) }).manifests, 'PodDisruptionBudget').spec.minAvailable).toBe(2);
  });

  test('the Service selects stable and canary pods by the shared name label', () => {
    const svc = only(synth().manifests, 'Service');
    expect(svc.spec.selector).toEqual({ 'app.kubernetes.io/name': 'fraud' });
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 8080 }]);
    expect(svc.spec.type).toBe('ClusterIP');
  });

  test('the Service carries the service\'s name label, like the Deployments and the Rollout', () => {
    expect(only(synth().manifests, 'Service').metadata.labels).toEqual({ 'app.kubernetes.io/name': 'fraud' });
  });

  test('an ephemeral-storage limit that cannot hold the model copied from S3 fails, naming both sizes', () => {
    const model = ModelSource.fromS3Uri('s3://models/fraud/v3/', { sizeLimit: Size.gibibytes(10) });
    expect(() => synth({ model, resources: { ephemeralStorage: { limit: Size.gibibytes(4) } } }))
      .toThrow(/'resources.ephemeralStorage.limit' \("4Gi"\) must be above the model volume's sizeLimit \(10240Mi\).*: raise the limit to at least Size.gibibytes\(11\)/);
    // A model volume that is no whole number of GiB: the advice is still a limit cdk8s-plus can write.
    expect(() => synth({ model: ModelSource.fromS3Uri('s3://models/fraud/v3/', { sizeLimit: Size.mebibytes(2500) }), resources: { ephemeralStorage: { limit: Size.gibibytes(2) } } }))
      .toThrow(/\(2500Mi\).*at least Size.gibibytes\(4\)/);
    expect(() => synth({ model, resources: { ephemeralStorage: { limit: Size.gibibytes(12) } } })).not.toThrow();
    expect(() => synth({ resources: { ephemeralStorage: { limit: Size.gibibytes(1) } } })).not.toThrow();
  });

  test('an ephemeral-storage limit equal to the model volume\'s sizeLimit fails: a model that fills its volume leaves the pod no room', () => {
    const model = ModelSource.fromS3Uri('s3://models/fraud/v3/', { sizeLimit: Size.gibibytes(10) });
    expect(() => synth({ model, resources: { ephemeralStorage: { limit: Size.gibibytes(10) } } }))
      .toThrow(/'resources.ephemeralStorage.limit' \("10Gi"\) must be above the model volume's sizeLimit \(10240Mi\)/);
    expect(() => synth({ model, resources: { ephemeralStorage: { limit: Size.gibibytes(11) } } })).not.toThrow();
  });

  test('metricsScraper without allowFrom fails: no NetworkPolicy is made, so it would restrict nothing', () => {
    expect(() => synth({ metricsScraper: IngressPeer.namespace('observability') }))
      .toThrow(/'metricsScraper' \("given"\) applies only with allowFrom: without it no NetworkPolicy is made.*: pass allowFrom/);
  });

  test('with allowFrom, a NetworkPolicy admits only those peers and the metrics scraper, on the server port', () => {
    const np = only(synth({
      allowFrom: [IngressPeer.namespace('web'), IngressPeer.pods({ app: 'gateway' }, 'edge')],
      metricsScraper: IngressPeer.pods({ 'app.kubernetes.io/name': 'prometheus' }, 'observability'),
    }).manifests, 'NetworkPolicy');
    expect(np.spec.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'fraud' } });
    expect(np.spec.policyTypes).toEqual(['Ingress']);
    expect(np.spec.ingress).toEqual([
      {
        from: [
          { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'web' } } },
          { podSelector: { matchLabels: { app: 'gateway' } }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'edge' } } },
        ],
        ports: [{ protocol: 'TCP', port: 8080 }],
      },
      {
        from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } }, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'observability' } } }],
        ports: [{ protocol: 'TCP', port: 8080 }],
      },
    ]);
  });

  test('a canary is a second Deployment with a share of the replicas, behind the same Service, on the same nodes', () => {
    const { manifests, service } = synth({ minReplicas: 6, maxReplicas: 12, nodes: gpuNodes(), canary: { image: 'registry.example.com/inference-server:1.1.0', weightPercent: 25, env: { LOG_LEVEL: 'debug' } } });
    // 6 stable pods and 2 canary pods: the canary gets 25% of the pods at minReplicas.
    expect(service.canaryReplicas).toBe(2);
    const canary = only(manifests, 'Deployment', 'fraud-canary');
    expect(canary.spec.replicas).toBe(2);
    expect(canary.spec.template.metadata.labels).toMatchObject({ 'app.kubernetes.io/name': 'fraud', 'ai-platform.dev/track': 'canary' });
    expect(only(manifests, 'Deployment', 'fraud').spec.template.metadata.labels['ai-platform.dev/track']).toBe('stable');
    const c = podSpec(canary).containers[0];
    expect(c.image).toBe('registry.example.com/inference-server:1.1.0');
    expect(c.env).toContainEqual({ name: 'LOG_LEVEL', value: 'debug' });
    expect(c.resources.limits['nvidia.com/gpu']).toBe(1);
    // The HPA scales only the stable Deployment.
    expect(only(manifests, 'HorizontalPodAutoscaler').spec.scaleTargetRef.name).toBe('fraud');
  });

  test('the canary share is of all pods, stable and canary together: 50% next to 3 stable pods is 3 canary pods', () => {
    expect(synth({ minReplicas: 3, canary: { image: 'x:2', weightPercent: 50 } }).service.canaryReplicas).toBe(3);
  });

  test('the canary share holds at minReplicas: the canary\'s replicas come from minReplicas, and the HPA scales only the stable Deployment', () => {
    // Weight 20 at 4 stable pods is 1 canary pod (1 of 5); the HPA may run 8 stable pods, and the canary stays at 1 (1 of 9).
    const { manifests, service } = synth({ minReplicas: 4, maxReplicas: 8, canary: { image: 'x:2', weightPercent: 20 } });
    expect(service.canaryReplicas).toBe(1);
    expect(only(manifests, 'Deployment', 'fraud-canary').spec.replicas).toBe(1);
    expect(only(manifests, 'HorizontalPodAutoscaler').spec).toMatchObject({ minReplicas: 4, maxReplicas: 8, scaleTargetRef: { kind: 'Deployment', name: 'fraud' } });
  });

  test('the Deployments select their pods by service name and track, not by the construct path, so moving the construct keeps the immutable selector', () => {
    const { manifests } = synth({ minReplicas: 4, canary: { image: 'x:2', weightPercent: 25 } });
    const deployments = manifests.filter((m) => m.kind === 'Deployment');
    expect(deployments.map((d) => d.spec.selector)).toEqual([
      { matchLabels: { 'app.kubernetes.io/name': 'fraud', 'ai-platform.dev/track': 'stable' } },
      { matchLabels: { 'app.kubernetes.io/name': 'fraud', 'ai-platform.dev/track': 'canary' } },
    ]);
    for (const d of deployments) {
      expect(d.spec.template.metadata.labels).toEqual(d.spec.selector.matchLabels);
    }
    // The same service under another construct id and chart: the same selectors and pod labels.
    const app = Testing.app();
    const moved = new Chart(app, 'Elsewhere');
    new InferenceService(new Construct(moved, 'Nested'), 'Renamed', { image: IMAGE, name: 'fraud', minReplicas: 4, canary: { image: 'x:2', weightPercent: 25 } });
    const again = synthValid(moved).filter((m) => m.kind === 'Deployment');
    expect(again.map((d) => [d.spec.selector, d.spec.template.metadata.labels])).toEqual(deployments.map((d) => [d.spec.selector, d.spec.template.metadata.labels]));
  });

  test('a small canary share still runs one canary pod', () => {
    expect(synth({ minReplicas: 2, canary: { image: 'x:2', weightPercent: 5 } }).service.canaryReplicas).toBe(1);
  });

  test('the canary replicas are rounded to the nearest whole pod, not up', () => {
    // 10 stable pods at 10%: 10 * 10 / 90 = 1.1 canary pods, so 1 (2 would be a 17% canary).
    expect(synth({ minReplicas: 10, maxReplicas: 12, canary: { image: 'x:2', weightPercent: 10 } }).service.canaryReplicas).toBe(1);
  });

  test('with Argo Rollouts, a Rollout takes over the Deployment\'s pods with canary steps, and the HPA scales the Rollout', () => {
    const { manifests, service } = synth({
      nodes: gpuNodes(),
      argoRollout: { steps: [ArgoCanaryStep.setWeight(10), ArgoCanaryStep.pause(), ArgoCanaryStep.setWeight(40), ArgoCanaryStep.pause(Duration.minutes(15))] },
    });
    expect(service.rollout).toBeDefined();
    const rollout = only(manifests, 'Rollout', 'fraud');
    expect(rollout.apiVersion).toBe('argoproj.io/v1alpha1');
    expect(rollout.spec).toEqual({
      selector: { matchLabels: { 'app.kubernetes.io/name': 'fraud', 'ai-platform.dev/track': 'stable' } },
      workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'fraud', scaleDown: 'progressively' },
      revisionHistoryLimit: 3,
      progressDeadlineSeconds: 1200,
      strategy: { canary: { maxSurge: 1, maxUnavailable: 0, steps: [{ setWeight: 10 }, { pause: {} }, { setWeight: 40 }, { pause: { duration: '900s' } }] } },
    });
    // The Rollout's selector matches the pods the Deployment template describes.
    expect(only(manifests, 'Deployment').spec.template.metadata.labels).toMatchObject(rollout.spec.selector.matchLabels);
    expect(only(manifests, 'HorizontalPodAutoscaler').spec.scaleTargetRef).toEqual({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'fraud' });
  });

  test('with Argo Rollouts, neither the Rollout nor the Deployment has replicas in its manifest: a sync keeps the counts the HPA, Argo Rollouts or kubectl scale set', () => {
    // Argo Rollouts scales the Deployment to 0 (workloadRef.scaleDown) and never again after the first revision
    // (argoproj/argo-rollouts#4935): a replicas field would bring its pods back at every sync. The README's way out of
    // Argo Rollouts scales the Deployment up by hand, and the next sync must keep that.
    const manifests = synth({ argoRollout: {} }).manifests;
    expect(only(manifests, 'Rollout').spec.replicas).toBeUndefined();
    expect(only(manifests, 'Deployment').spec.replicas).toBeUndefined();
  });

  test('Argo Rollouts default steps: 20%, wait for promotion, 50% for 10 minutes', () => {
    const rollout = only(synth({ argoRollout: {} }).manifests, 'Rollout');
    expect(rollout.spec.strategy.canary.steps).toEqual([{ setWeight: 20 }, { pause: {} }, { setWeight: 50 }, { pause: { duration: '600s' } }]);
  });

  test('with both a canary Deployment and Argo Rollouts, synthesis fails', () => {
    expect(() => synth({ canary: { image: 'x:2' }, argoRollout: {} })).toThrow(/'argoRollout' \("set"\) cannot be combined with 'canary'/);
  });

  test('with no Argo Rollouts steps, synthesis fails', () => {
    expect(() => synth({ argoRollout: { steps: [] } })).toThrow(/'argoRollout.steps' \(\[\]\) must hold at least one step/);
  });

  test('an Argo canary weight above 100 is rejected', () => {
    expect(() => ArgoCanaryStep.setWeight(120)).toThrow(/'setWeight' \(120\) must be a whole percentage from 1 to 100/);
    expect(() => ArgoCanaryStep.setWeight(0)).toThrow(/'setWeight' \(0\) must be a whole percentage from 1 to 100/);
  });

  test('an Argo canary pause that is not a whole number of seconds is rejected naming the step', () => {
    expect(() => ArgoCanaryStep.pause(Duration.millis(1500)))
      .toThrow(/'pause' \("1\.5s"\) must be a whole number of seconds \(Kubernetes takes whole seconds\): round pause to whole seconds, e\.g\. Duration\.seconds\(2\)/);
    expect(ArgoCanaryStep.pause(Duration.minutes(2))._step).toEqual({ pause: { duration: '120s' } });
  });

  test('every manifest of a fully configured service passes schema validation, and a malformed one does not', () => {
    const { manifests } = synth({
      nodes: gpuNodes(), model: ModelSource.fromS3Uri('s3://models/fraud/'), scalingMetric: ScalingMetric.queueDepth(4),
      allowFrom: [IngressPeer.namespace('web')], canary: { image: 'x:2' },
    });
    expect(manifests).toHaveLength(6);
    const broken = JSON.parse(JSON.stringify(only(manifests, 'Deployment', 'fraud')));
    broken.spec.template.spec.terminationGracePeriodSeconds = '45s';
    expect(() => validateManifest(broken)).toThrow(/terminationGracePeriodSeconds must be integer/);
  });

  test('with minReplicas above maxReplicas, synthesis fails', () => {
    expect(() => synth({ minReplicas: 5, maxReplicas: 2 })).toThrow(/'minReplicas' \(5\) must be <= 'maxReplicas' \(2\): lower minReplicas or raise maxReplicas/);
  });

  test('with a maxReplicas that is not a whole number, synthesis fails naming maxReplicas', () => {
    expect(() => synth({ maxReplicas: 2.5 })).toThrow(/'maxReplicas' \(2\.5\) must be a whole number >= 1/);
    expect(() => synth({ minReplicas: 1, maxReplicas: Number.NaN })).toThrow(/'maxReplicas' \(NaN\) must be a whole number >= 1/);
  });

  test('with a grace period not longer than preStop pause plus drain time, synthesis fails', () => {
    expect(() => synth({ drainTimeout: Duration.seconds(20), terminationGracePeriod: Duration.seconds(26) }))
      .toThrow(/'terminationGracePeriod' \("26s"\) must be at least preStopDelay \+ drainTimeout \+ 2s \(5s \+ 20s \+ 2s\).*raise terminationGracePeriod to at least 27s/);
    expect(() => synth({ drainTimeout: Duration.seconds(20), terminationGracePeriod: Duration.seconds(27) })).not.toThrow();
  });

  test('a drain time or preStop pause that is no whole number of milliseconds fails naming the prop, not with cdk8s\'s own error', () => {
    expect(() => synth({ drainTimeout: Duration.millis(20000.5) }))
      .toThrow(/'drainTimeout' \("20000.5ms"\) must be a whole number of milliseconds \(the server reads DRAIN_TIMEOUT_MS as one\)/);
    expect(() => synth({ preStopDelay: Duration.millis(5000.5) })).toThrow(/'preStopDelay' \("5.0005s"\) must be a whole number of seconds/);
    expect(() => synth({ drainTimeout: Duration.millis(20500) })).not.toThrow();
  });

  test('a startup timeout that is not a whole number of seconds is rounded up for the probe and the progress deadline', () => {
    const { manifests } = synth({ startupTimeout: Duration.millis(90500) });
    expect(server(manifests).startupProbe.failureThreshold).toBe(10);
    expect(only(manifests, 'Deployment').spec.progressDeadlineSeconds).toBe(691);
  });

  test('with a grace period that is not a whole number of seconds, synthesis fails naming it (Kubernetes takes whole seconds)', () => {
    expect(() => synth({ terminationGracePeriod: Duration.millis(40500) })).toThrow(/'terminationGracePeriod' \("40\.5s"\) must be a whole number of seconds/);
  });

  test('with a preStop pause that is not a whole number of seconds, synthesis fails naming it', () => {
    expect(() => synth({ preStopDelay: Duration.millis(2500) })).toThrow(/'preStopDelay' \("2\.5s"\) must be a whole number of seconds/);
  });

  test('with a drain time the server would refuse (30 s or more), synthesis fails', () => {
    expect(() => synth({ drainTimeout: Duration.millis(28001) })).toThrow(/'drainTimeout' \("28001ms"\) must be from 0 to 28000 ms/);
  });

  test('the drain time limit is the one of DRAIN_TIMEOUT_MS in the server environment table', () => {
    const { max } = integerRange('DRAIN_TIMEOUT_MS');
    expect(() => synth({ drainTimeout: Duration.millis(max) })).not.toThrow();
    expect(() => synth({ drainTimeout: Duration.millis(max + 1) })).toThrow(new RegExp(`'drainTimeout' \\("${max + 1}ms"\\) must be from 0 to ${max} ms`));
  });

  test('by default the server drains for 25 s and the grace period is 40 s', () => {
    const spec = podSpec(only(synth().manifests, 'Deployment'));
    expect(spec.containers[0].env).toEqual([
      { name: 'DRAIN_TIMEOUT_MS', value: '25000' },
      { name: 'MODEL_NAME', value: 'fraud' },
      { name: 'SAGEMAKER_BIND_TO_PORT', value: '8080' },
    ]);
    expect(spec.terminationGracePeriodSeconds).toBe(40);
  });

  test('tells the server the port the probes and the Service use, and the model name its routes serve', () => {
    const { manifests } = synth({ port: 9000, modelName: 'fraud-mlp' });
    const c = server(manifests);
    expect(c.ports).toEqual([{ containerPort: 9000 }]);
    expect(c.env).toContainEqual({ name: 'SAGEMAKER_BIND_TO_PORT', value: '9000' });
    expect(c.env).toContainEqual({ name: 'MODEL_NAME', value: 'fraud-mlp' });
    expect(c.readinessProbe.httpGet.port).toBe(9000);
    for (const name of ['SAGEMAKER_BIND_TO_PORT', 'PORT', 'MODEL_NAME']) {
      expect(() => synth({ env: { [name]: '1' } })).toThrow(new RegExp(`'env.${name}' \\("1"\\) is set by the construct from`));
      expect(() => synth({ canary: { image: IMAGE, env: { [name]: '1' } } })).toThrow(new RegExp(`'canary.env.${name}'`));
    }
    expect(() => synth({ modelName: 'a/b' })).toThrow(/'modelName' \("a\/b"\) must be 1 to 100 letters, digits/);
    expect(() => synth({ modelName: 'm'.repeat(101) })).toThrow(/'modelName' .* must be 1 to 100 letters/);
    expect(() => synth({ modelName: 'm'.repeat(100) })).not.toThrow();
  });

  test('requires CUDA on NVIDIA nodes (no CPU fallback) unless told otherwise', () => {
    const ort = (manifests: ReturnType<typeof synth>['manifests'], name = 'fraud') =>
      server(manifests, name).env.filter((e: { name: string }) => e.name === 'ORT_EXECUTION_PROVIDERS');
    expect(ort(synth({ nodes: gpuNodes() }).manifests)).toEqual([{ name: 'ORT_EXECUTION_PROVIDERS', value: 'cuda' }]);
    expect(ort(synth({ nodes: gpuNodes(), env: { ORT_EXECUTION_PROVIDERS: 'cuda,cpu' } }).manifests)).toEqual([{ name: 'ORT_EXECUTION_PROVIDERS', value: 'cuda,cpu' }]);
    expect(ort(synth({ nodes: gpuNodes(), env: { ORT_EXECUTION_PROVIDERS: 'cpu' } }).manifests)).toEqual([{ name: 'ORT_EXECUTION_PROVIDERS', value: 'cpu' }]);
    expect(ort(synth().manifests)).toEqual([]);
    // The canary follows its own environment.
    const withCanary = synth({ nodes: gpuNodes(), canary: { image: 'x:2', env: { ORT_EXECUTION_PROVIDERS: 'cuda,cpu' } } }).manifests;
    expect(ort(withCanary)).toEqual([{ name: 'ORT_EXECUTION_PROVIDERS', value: 'cuda' }]);
    expect(ort(withCanary, 'fraud-canary')).toEqual([{ name: 'ORT_EXECUTION_PROVIDERS', value: 'cuda,cpu' }]);
  });

  test('an empty ORT_EXECUTION_PROVIDERS counts as unset: CUDA is still required on NVIDIA nodes, and elsewhere the image default applies', () => {
    const ort = (manifests: ReturnType<typeof synth>['manifests'], name = 'fraud') =>
      server(manifests, name).env.filter((e: { name: string }) => e.name === 'ORT_EXECUTION_PROVIDERS');
    expect(ort(synth({ nodes: gpuNodes(), env: { ORT_EXECUTION_PROVIDERS: '' } }).manifests)).toEqual([{ name: 'ORT_EXECUTION_PROVIDERS', value: 'cuda' }]);
    expect(ort(synth({ env: { ORT_EXECUTION_PROVIDERS: '' } }).manifests)).toEqual([]);
    const withCanary = synth({ nodes: gpuNodes(), env: { ORT_EXECUTION_PROVIDERS: 'cuda,cpu' }, canary: { image: 'x:2', env: { ORT_EXECUTION_PROVIDERS: '' } } }).manifests;
    expect(ort(withCanary)).toEqual([{ name: 'ORT_EXECUTION_PROVIDERS', value: 'cuda,cpu' }]);
    expect(ort(withCanary, 'fraud-canary')).toEqual([{ name: 'ORT_EXECUTION_PROVIDERS', value: 'cuda' }]);
  });

  test('runOn after construction requires CUDA on NVIDIA nodes too, and not on Neuron nodes', () => {
    const chart = Testing.chart();
    new InferenceService(chart, 'Fraud', { image: IMAGE, canary: { image: 'x:2' } }).runOn(gpuNodes());
    const manifests = synthValid(chart);
    for (const name of ['fraud', 'fraud-canary']) {
      expect(server(manifests, name).env).toContainEqual({ name: 'ORT_EXECUTION_PROVIDERS', value: 'cuda' });
    }
    const neuron = Testing.chart();
    new InferenceService(neuron, 'Llm', { image: IMAGE, env: { ORT_EXECUTION_PROVIDERS: 'cpu' } }).runOn(AcceleratorNodes.labeled({ vendor: AcceleratorVendor.AWS_NEURON, labels: { [LABEL_NODE_GROUP]: 'inf2' } }));
    expect(server(synthValid(neuron), 'llm').env).toContainEqual({ name: 'ORT_EXECUTION_PROVIDERS', value: 'cpu' });
  });

  test('refuses Neuron nodes unless env names the execution providers: the bundled server would hold Neuron devices and serve on the CPUs', () => {
    const inf2 = AcceleratorNodes.labeled({ vendor: AcceleratorVendor.AWS_NEURON, labels: { [LABEL_NODE_GROUP]: 'inf2' } });
    expect(() => new InferenceService(Testing.chart(), 'Llm', { image: IMAGE, nodes: inf2 })).toThrow(
      /^\[test\/Llm\] 'nodes' \(\{"vendor":"aws-neuron","labels":\{"ai-platform.dev\/node-group":"inf2"\}\}\) are AWS Neuron nodes, and the bundled server has no Neuron execution provider \(onnxruntime's CPU and CUDA providers only\): its pods would hold Neuron devices and serve on the nodes' CPUs: serve the model on NVIDIA nodes, or on CPU nodes \(leave out nodes\); to run it on these nodes' CPUs all the same, set ORT_EXECUTION_PROVIDERS: 'cpu' in env$/);
    // An empty value counts as unset; a canary that empties it is refused too.
    expect(() => new InferenceService(Testing.chart(), 'Llm', { image: IMAGE, nodes: inf2, env: { ORT_EXECUTION_PROVIDERS: '' } })).toThrow(/are AWS Neuron nodes/);
    expect(() => new InferenceService(Testing.chart(), 'Llm', { image: IMAGE, nodes: inf2, env: { ORT_EXECUTION_PROVIDERS: 'cpu' }, canary: { image: 'x:2', env: { ORT_EXECUTION_PROVIDERS: '' } } }))
      .toThrow(/its pods \(the canary's\) would hold Neuron devices .* in env \(canary.env inherits it unless it empties it\)$/);
    // A list without cpu could load nothing there: the pods would never start.
    expect(() => new InferenceService(Testing.chart(), 'Llm', { image: IMAGE, nodes: inf2, env: { ORT_EXECUTION_PROVIDERS: 'cuda' } }))
      .toThrow(/'env.ORT_EXECUTION_PROVIDERS' \("cuda"\) must list cpu on AWS Neuron nodes: the bundled server has only onnxruntime's CPU and CUDA providers, and CUDA cannot load there, so its pods would not start: set ORT_EXECUTION_PROVIDERS: 'cpu'/);
    expect(() => new InferenceService(Testing.chart(), 'Llm', { image: IMAGE, nodes: inf2, env: { ORT_EXECUTION_PROVIDERS: 'cpu' }, canary: { image: 'x:2', env: { ORT_EXECUTION_PROVIDERS: 'tensorrt,cuda' } } }))
      .toThrow(/'canary.env.ORT_EXECUTION_PROVIDERS' \("tensorrt,cuda"\) must list cpu on AWS Neuron nodes/);
    expect(() => new InferenceService(Testing.chart(), 'Llm', { image: IMAGE, nodes: inf2, env: { ORT_EXECUTION_PROVIDERS: 'cuda, cpu' } })).not.toThrow();
    const chart = Testing.chart();
    new InferenceService(chart, 'Llm', { image: IMAGE, nodes: inf2, env: { ORT_EXECUTION_PROVIDERS: 'cpu' }, canary: { image: 'x:2' } });
    for (const name of ['llm', 'llm-canary']) expect(server(synthValid(chart), name).env).toContainEqual({ name: 'ORT_EXECUTION_PROVIDERS', value: 'cpu' });
  });

  test('nodeOptions without nodes and without runOn fail when the app is synthesized: they would be dropped, and the pods request no accelerator', () => {
    const synthApp = (nodeOptions: RunOnOptions, later = false) => {
      const app = Testing.app();
      const service = new InferenceService(new Chart(app, 'test'), 'Fraud', { image: IMAGE, nodeOptions });
      if (later) service.runOn(AcceleratorNodes.labeled({ vendor: AcceleratorVendor.NVIDIA, acceleratorsPerNode: 4, labels: { [LABEL_NODE_GROUP]: 'g5' } }));
      return () => app.synthYaml();
    };
    expect(synthApp({ accelerators: 2 })).toThrow(
      /\[test\/Fraud\] 'nodeOptions.accelerators' \(2\) applies only on accelerator nodes, and the service has no nodes and no runOn: it would be ignored, and the pods would request no accelerator: pass nodes \(or call runOn\), or remove it/);
    expect(synthApp({ preferCapacity: Capacity.spot() })).toThrow(/'nodeOptions.preferCapacity' \("spot"\) applies only on accelerator nodes/);
    expect(synthApp({ accelerators: 2, preferCapacity: Capacity.spot() }, true)).not.toThrow();
    expect(synthApp({})).not.toThrow();
  });

  test('a provider list without cpu fails synthesis when the service runs on no accelerator nodes: CUDA cannot load on CPU nodes', () => {
    // runOn may come after construction, so the check runs when the app is synthesized.
    const synthApp = (env: Record<string, string>, canaryEnv?: Record<string, string>, nvidia = false) => {
      const app = Testing.app();
      const chart = new Chart(app, 'test');
      const service = new InferenceService(chart, 'Fraud', { image: IMAGE, env, ...(canaryEnv ? { canary: { image: 'x:2', env: canaryEnv } } : {}) });
      if (nvidia) service.runOn(AcceleratorNodes.labeled({ vendor: AcceleratorVendor.NVIDIA, labels: { [LABEL_NODE_GROUP]: 'g5' } }));
      return () => app.synthYaml();
    };
    expect(synthApp({ ORT_EXECUTION_PROVIDERS: 'cuda' })).toThrow(
      /\[test\/Fraud\] 'env.ORT_EXECUTION_PROVIDERS' \("cuda"\) must list cpu on CPU nodes \(the service has no nodes and no runOn\): CUDA cannot load there, so the bundled server would refuse to start: add cpu \('cpu', or 'cuda,cpu'\), or run the service on NVIDIA nodes with nodes or runOn/);
    expect(synthApp({}, { ORT_EXECUTION_PROVIDERS: 'tensorrt,cuda' })).toThrow(/'canary.env.ORT_EXECUTION_PROVIDERS' \("tensorrt,cuda"\) must list cpu on CPU nodes/);
    expect(synthApp({ ORT_EXECUTION_PROVIDERS: 'cuda' }, undefined, true)).not.toThrow();
    expect(synthApp({ ORT_EXECUTION_PROVIDERS: 'cuda, cpu' })).not.toThrow();
    expect(synthApp({ ORT_EXECUTION_PROVIDERS: '' })).not.toThrow();
    expect(synthApp({})).not.toThrow();
  });

  test('takes a drain time in milliseconds and rounds the grace period up to whole seconds', () => {
    const spec = podSpec(only(synth({ drainTimeout: Duration.millis(27999) }).manifests, 'Deployment'));
    expect(spec.containers[0].env).toContainEqual({ name: 'DRAIN_TIMEOUT_MS', value: '27999' });
    expect(spec.terminationGracePeriodSeconds).toBe(43);
    expect(() => synth({ drainTimeout: Duration.millis(2500), terminationGracePeriod: Duration.seconds(9) }))
      .toThrow(/'terminationGracePeriod' \("9s"\) must be at least preStopDelay \+ drainTimeout \+ 2s \(5s \+ 2.5s \+ 2s\).*at least 10s/);
  });

  test('makes room in the ephemeral-storage request and limit for a model fetched from S3', () => {
    const c = server(synth({ model: ModelSource.fromS3Uri('s3://models/fraud/', { sizeLimit: Size.gibibytes(10) }) }).manifests);
    expect(c.resources.requests['ephemeral-storage']).toBe('11Gi');
    expect(c.resources.limits['ephemeral-storage']).toBe('12Gi');
  });

  test('a CPU amount that is infinite, NaN or negative, or a memory or storage size that is not finite, fails naming it: none is a Kubernetes quantity', () => {
    expect(() => synth({ resources: { cpu: { request: kplus.Cpu.units(Infinity) } } })).toThrow(/'resources.cpu.request' \("Infinity"\) must be a finite number of CPUs of at least 0/);
    expect(() => synth({ resources: { cpu: { request: kplus.Cpu.units(1), limit: kplus.Cpu.millis(-5) } } })).toThrow(/'resources.cpu.limit' \("-5m"\) must be a finite number of CPUs/);
    expect(() => synth({ resources: { cpu: { limit: kplus.Cpu.units(NaN) } } })).toThrow(/'resources.cpu.limit' \("NaN"\)/);
    expect(() => synth({ resources: { memory: { request: Size.gibibytes(NaN) } } })).toThrow(/'resources.memory.request' \("NaNGi"\) must be a finite size/);
    expect(() => synth({ resources: { ephemeralStorage: { limit: Size.gibibytes(Infinity) } } })).toThrow(/'resources.ephemeralStorage.limit' \("InfinityGi"\) must be a finite size/);
    expect(() => synth({ resources: { cpu: { request: kplus.Cpu.units(0), limit: kplus.Cpu.units(1) } } })).not.toThrow();
  });

  test('a request above its limit (CPU, memory or ephemeral storage) fails naming both: the API server would refuse the Deployment', () => {
    expect(() => synth({ resources: { cpu: { request: kplus.Cpu.units(4), limit: kplus.Cpu.millis(2500) } } }))
      .toThrow(/'resources\.cpu\.request' \("4"\) must be <= 'resources\.cpu\.limit' \(2500m\)/);
    expect(() => synth({ resources: { memory: { request: Size.gibibytes(8), limit: Size.mebibytes(4096) } } }))
      .toThrow(/'resources\.memory\.request' \("8Gi"\) must be <= 'resources\.memory\.limit' \(4096Mi\)/);
    expect(() => synth({ resources: { ephemeralStorage: { request: Size.gibibytes(3), limit: Size.gibibytes(2) } } }))
      .toThrow(/'resources\.ephemeralStorage\.request' \("3Gi"\) must be <= 'resources\.ephemeralStorage\.limit' \(2Gi\)/);
    // Equal, or one of them unset, passes.
    expect(() => synth({ resources: { cpu: { request: kplus.Cpu.millis(2000), limit: kplus.Cpu.units(2) }, memory: { request: Size.gibibytes(8) } } })).not.toThrow();
  });

  test('a CPU request without a limit fails unless env sets INTRA_OP_NUM_THREADS: the server sizes its threads from the CPU limit, else from every CPU of the node', () => {
    expect(() => synth({ resources: { cpu: { request: kplus.Cpu.units(2) } } }))
      .toThrow(/'resources\.cpu\.limit' \(undefined\) must be set with the bundled server: it sizes its inference threads \(workers x onnxruntime intra-op threads\) from the container's CPU limit, and without one from every CPU of the node, however few the pod requests \(2\): set resources\.cpu\.limit \(e\.g\. equal to the request\), or set INTRA_OP_NUM_THREADS \(and INFERENCE_WORKERS, where batching is off\) in env/);
    // The canary's own env may empty what the stable one sets.
    expect(() => synth({ resources: { cpu: { request: kplus.Cpu.units(2) } }, env: { INTRA_OP_NUM_THREADS: '2' }, canary: { image: IMAGE, env: { INTRA_OP_NUM_THREADS: '' } } }))
      .toThrow(/'resources\.cpu\.limit' \(undefined\) must be set with the bundled server.*or set INTRA_OP_NUM_THREADS .* in canary\.env/);
    const c = server(synth({ resources: { cpu: { request: kplus.Cpu.units(2) } }, env: { INTRA_OP_NUM_THREADS: '2' } }).manifests);
    expect(c.resources.requests.cpu).toBe('2');
    expect(c.resources.limits?.cpu).toBeUndefined();
    expect(() => synth({ resources: { cpu: { limit: kplus.Cpu.units(2) } } })).not.toThrow();
    // A token is resolved when the chart is deployed: not checked.
    const threads = new CfnParameter(new Stack(), 'Threads', { type: 'String' }).valueAsString;
    expect(() => synth({ resources: { cpu: { request: kplus.Cpu.units(2) } }, env: { INTRA_OP_NUM_THREADS: threads } })).not.toThrow();
  });

  test('with a model sizeLimit that is not a whole number of GiB, the ephemeral-storage defaults make room for it in whole GiB', () => {
    // cdk8s-plus writes ephemeral storage in Gi: 1024 MiB + 1500 MiB is no whole number of GiB.
    const { manifests } = synth({ model: ModelSource.fromS3Uri('s3://models/fraud/', { sizeLimit: Size.mebibytes(1500) }) });
    const c = server(manifests);
    expect(c.resources.requests['ephemeral-storage']).toBe('3Gi');
    expect(c.resources.limits['ephemeral-storage']).toBe('4Gi');
    expect(podSpec(only(manifests, 'Deployment')).volumes).toContainEqual({ name: 'model', emptyDir: { sizeLimit: '1500Mi' } });
  });

  test('sizes that cannot be written in the unit Kubernetes gets them in fail naming the prop and the value', () => {
    expect(() => ModelSource.fromS3Uri('s3://models/fraud/', { sizeLimit: Size.kibibytes(1536) }))
      .toThrow(/'sizeLimit' \("1536Ki"\) must be a whole number of MiB \(the model volume's sizeLimit is written in Mi\): use e\.g\. Size\.mebibytes\(2\)/);
    expect(() => synth({ resources: { ephemeralStorage: { request: Size.mebibytes(1536), limit: Size.gibibytes(4) } } }))
      .toThrow(/'resources\.ephemeralStorage\.request' \("1536Mi"\) must be a whole number of GiB \(cdk8s-plus writes ephemeral storage in Gi\): use e\.g\. Size\.gibibytes\(2\)/);
    expect(() => synth({ resources: { ephemeralStorage: { limit: Size.mebibytes(2500) } } }))
      .toThrow(/'resources\.ephemeralStorage\.limit' \("2500Mi"\) must be a whole number of GiB/);
    expect(() => synth({ resources: { memory: { request: Size.kibibytes(1000), limit: Size.gibibytes(4) } } }))
      .toThrow(/'resources\.memory\.request' \("1000Ki"\) must be a whole number of MiB \(cdk8s-plus writes memory in Mi\): use e\.g\. Size\.mebibytes\(1\)/);
    expect(() => synth({ resources: { memory: { limit: Size.kibibytes(4194305) } } }))
      .toThrow(/'resources\.memory\.limit' \("4194305Ki"\) must be a whole number of MiB/);
    // Whole numbers in the larger unit, or written in it, pass.
    const c = server(synth({ resources: { memory: { request: Size.gibibytes(1.5), limit: Size.mebibytes(2000) }, ephemeralStorage: { request: Size.mebibytes(2048), limit: Size.gibibytes(3) } } }).manifests);
    expect(c.resources.requests).toMatchObject({ 'memory': '1536Mi', 'ephemeral-storage': '2Gi' });
    expect(c.resources.limits).toMatchObject({ 'memory': '2000Mi', 'ephemeral-storage': '3Gi' });
  });

  test('with a PDB that allows no unavailable pod, synthesis fails', () => {
    expect(() => synth({ disruptionBudget: DisruptionBudget.maxUnavailable(0) })).toThrow(/'disruptionBudget' \("maxUnavailable: 0"\) would allow no eviction/);
  });

  test('with a PDB whose minAvailable reaches minReplicas, synthesis fails', () => {
    expect(() => synth({ minReplicas: 2, disruptionBudget: DisruptionBudget.minAvailable(2) })).toThrow(/'disruptionBudget' \("minAvailable: 2"\) would allow no eviction when the service runs its minReplicas \(2\) pods/);
  });

  test('with a percentage budget above 100, synthesis fails', () => {
    expect(() => synth({ disruptionBudget: DisruptionBudget.maxUnavailablePercent(150) })).toThrow(/must be a whole percentage from 0 to 100/);
  });

  test('with a port outside 1-65535 or not a whole number, synthesis fails', () => {
    expect(() => synth({ port: 70000 })).toThrow(/'port' \(70000\) must be a whole port number from 1 to 65535: use the port the server listens on/);
    expect(() => synth({ port: 0 })).toThrow(/'port' \(0\) must be a whole port number from 1 to 65535/);
    expect(() => synth({ port: 1023.5 })).toThrow(/'port' \(1023.5\) must be a whole port number from 1 to 65535: use the port the server listens on \(8080 for the bundled server\)$/);
    expect(() => synth({ servicePort: 0 })).toThrow(/'servicePort' \(0\) must be a whole port number from 1 to 65535/);
    expect(() => synth({ servicePort: 80.5 })).toThrow(/'servicePort' \(80.5\) must be a whole port number/);
  });

  test('with a privileged container port (below 1024), the pod lowers its first unprivileged port to it (the server runs non-root with no capabilities)', () => {
    const { manifests } = synth({ port: 80, canary: { image: 'x:2' } });
    for (const name of ['fraud', 'fraud-canary']) {
      const spec = podSpec(only(manifests, 'Deployment', name));
      expect(spec.securityContext.sysctls).toEqual([{ name: 'net.ipv4.ip_unprivileged_port_start', value: '80' }]);
      expect(spec.containers[0].ports).toEqual([{ containerPort: 80 }]);
      expect(spec.containers[0].env).toContainEqual({ name: 'SAGEMAKER_BIND_TO_PORT', value: '80' });
      // Still the restricted profile otherwise.
      expect(spec.containers[0].securityContext).toMatchObject({ capabilities: { drop: ['ALL'] }, allowPrivilegeEscalation: false, runAsNonRoot: true });
    }
    expect(only(manifests, 'Service').spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 80 }]);
    expect(podSpec(only(synth({ port: 1023 }).manifests, 'Deployment')).securityContext.sysctls).toEqual([{ name: 'net.ipv4.ip_unprivileged_port_start', value: '1023' }]);
    expect(podSpec(only(synth({ port: 1 }).manifests, 'Deployment')).securityContext.sysctls).toEqual([{ name: 'net.ipv4.ip_unprivileged_port_start', value: '1' }]);
    expect(podSpec(only(synth({ port: 1024 }).manifests, 'Deployment')).securityContext.sysctls).toBeUndefined();
    expect(podSpec(only(synth({ servicePort: 80 }).manifests, 'Deployment')).securityContext.sysctls).toBeUndefined();
  });

  test('servicePort is the Service\'s port and forwards to the container port, which everything in the pod uses', () => {
    const { manifests, service } = synth({ servicePort: 80, allowFrom: [] });
    expect(service.servicePort).toBe(80);
    expect(only(manifests, 'Service').spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 8080 }]);
    const c = server(manifests);
    expect(c.ports).toEqual([{ containerPort: 8080 }]);
    expect(c.env).toContainEqual({ name: 'SAGEMAKER_BIND_TO_PORT', value: '8080' });
    expect(c.readinessProbe.httpGet.port).toBe(8080);
    // Prometheus scrapes the pod, not the Service: the annotation names the container port.
    expect(only(manifests, 'Deployment').spec.template.metadata.annotations['prometheus.io/port']).toBe('8080');
    // A NetworkPolicy matches the pod's port, not the Service's.
    expect(only(manifests, 'NetworkPolicy').spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 8080 }]);
  });

  test('with a startup timeout shorter than one probe period, synthesis fails', () => {
    expect(() => synth({ startupTimeout: Duration.seconds(5) })).toThrow(/'startupTimeout' \("5s"\) must be at least 10s/);
  });

  test('a startup timeout of exactly one probe period (10 s) is allowed, and gives the startup probe one try', () => {
    const c = server(synth({ startupTimeout: Duration.seconds(10) }).manifests);
    expect(c.startupProbe.failureThreshold).toBe(1);
    expect(c.startupProbe.periodSeconds).toBe(10);
    expect(() => synth({ startupTimeout: Duration.seconds(9) })).toThrow(/'startupTimeout' \("9s"\) must be at least 10s/);
  });

  test('a custom port is used by the container, probes, Service and NetworkPolicy', () => {
    const { manifests } = synth({ port: 9000, allowFrom: [] });
    const c = server(manifests);
    expect(c.ports).toEqual([{ containerPort: 9000 }]);
    expect(c.readinessProbe.httpGet.port).toBe(9000);
    expect(only(manifests, 'Service').spec.ports[0]).toMatchObject({ port: 9000, targetPort: 9000 });
    // With no allowed peers, only the default metrics scraper, the monitoring namespace, gets in.
    expect(only(manifests, 'NetworkPolicy').spec.ingress).toEqual([{
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
      ports: [{ protocol: 'TCP', port: 9000 }],
    }]);
    expect(only(manifests, 'Deployment').spec.template.metadata.annotations['prometheus.io/port']).toBe('9000');
  });

  test('with MODEL_DIR in env or canary.env, synthesis fails (the model is at /opt/ml/model)', () => {
    expect(() => synth({ env: { MODEL_DIR: '/models/fraud' } }))
      .toThrow(/'env.MODEL_DIR' \("\/models\/fraud"\) is set by the construct: the model is in \/opt\/ml\/model .*: remove it from env, and choose the model with 'model'/);
    expect(() => synth({ canary: { image: 'x:2', env: { MODEL_DIR: '/m' } } })).toThrow(/'canary.env.MODEL_DIR'/);
  });

  test('with an env or canary.env name the API server refuses (empty, holding "=" or a character that is not printable ASCII), synthesis fails naming it', () => {
    for (const name of ['', 'A=B', 'LINE\nBREAK', 'CAFÉ']) {
      expect(() => synth({ env: { [name]: '1' } }))
        .toThrow(`'env' (${JSON.stringify(name)}) must be environment variable names: at least one printable ASCII character, none of them "="`);
      expect(() => synth({ canary: { image: 'x:2', env: { [name]: '1' } } })).toThrow(`'canary.env' (${JSON.stringify(name)}) must be environment variable names`);
    }
    // Kubernetes 1.34 (and 1.32 and 1.33 by default) takes every other printable ASCII character.
    expect(() => synth({ env: { '1.my-var': '1', 'WITH SPACE': '1' } })).not.toThrow();
  });

  test('with an image that is empty or holds whitespace (in image, canary.image or the copy image), synthesis fails naming it: the API server refuses an empty image and the kubelet cannot pull one with spaces', () => {
    expect(() => synth({ image: '' })).toThrow(/'image' \(""\) must be a container image reference: not empty, no whitespace/);
    expect(() => synth({ image: 'registry/inference-server: 1.0.0' })).toThrow(/'image' \("registry\/inference-server: 1.0.0"\) must be a container image reference/);
    expect(() => synth({ canary: { image: 'registry/inference-server:1.1.0\n' } })).toThrow(/'canary.image' \("registry\/inference-server:1.1.0\\n"\) must be a container image reference/);
    expect(() => synth({ model: ModelSource.fromS3Uri('s3://models/fraud/', { copyImage: ' ' }) })).toThrow(/'model.copyImage' \(" "\) must be a container image reference/);
    expect(() => synth({ image: Token.asString({ Ref: 'Image' }) })).not.toThrow();
  });

  test('with HOST set to one specific address in env or canary.env, synthesis fails (the probes reach the pod IP) and points to ::', () => {
    expect(() => synth({ env: { HOST: '127.0.0.1' } }))
      .toThrow(/'env.HOST' \("127.0.0.1"\) must be 0.0.0.0 or :: \(every address\), or unset: the probes, the Service and the NetworkPolicy reach the server on the pod IP.*: remove it from env .*or set it to '::' on an IPv6 cluster/);
    expect(() => synth({ canary: { image: 'x:2', env: { HOST: '::1' } } })).toThrow(/'canary.env.HOST' \("::1"\)/);
    expect(() => synth({ env: { HOST: 'localhost' } })).toThrow(/'env.HOST' \("localhost"\)/);
  });

  test('HOST may be every address, :: for IPv6-only clusters (kubelet probes the pod\'s IPv6 address) or 0.0.0.0', () => {
    expect(server(synth({ env: { HOST: '::' } }).manifests).env).toContainEqual({ name: 'HOST', value: '::' });
    expect(server(synth({ env: { HOST: '0.0.0.0' } }).manifests).env).toContainEqual({ name: 'HOST', value: '0.0.0.0' });
    // Empty is the server's default.
    expect(server(synth({ env: { HOST: '' } }).manifests).env).toContainEqual({ name: 'HOST', value: '' });
    const canary = synth({ canary: { image: 'x:2', env: { HOST: '::' } } }).manifests;
    expect(server(canary, 'fraud-canary').env).toContainEqual({ name: 'HOST', value: '::' });
  });

  test('a token as the value of a server variable is not checked: it resolves when the chart is added to the cluster', () => {
    const batchSize = new CfnParameter(new Stack(), 'MaxBatchSize').valueAsString;
    const c = server(synth({ env: { MAX_BATCH_SIZE: batchSize, HOST: batchSize }, canary: { image: 'x:2', env: { BATCHING: batchSize } } }).manifests);
    expect(c.env).toContainEqual({ name: 'MAX_BATCH_SIZE', value: batchSize });
    expect(c.env).toContainEqual({ name: 'HOST', value: batchSize });
  });

  test('with a value the bundled server refuses in env or canary.env, synthesis fails naming the variable, the value and what it accepts', () => {
    expect(() => synth({ env: { BATCHING: 'true' } }))
      .toThrow(/'env.BATCHING' \("true"\) must be on or off, or empty for the server's default: the bundled inference server refuses anything else and does not start/);
    expect(() => synth({ env: { LOG_REQUESTS: 'yes' } })).toThrow(/'env.LOG_REQUESTS' \("yes"\) must be on or off/);
    expect(() => synth({ env: { INTRA_OP_SPINNING: '1' } })).toThrow(/'env.INTRA_OP_SPINNING' \("1"\) must be on or off/);
    expect(() => synth({ env: { MAX_BATCH_SIZE: '0x40' } })).toThrow(/'env.MAX_BATCH_SIZE' \("0x40"\) must be a whole number from 1 to 65536, in plain decimal digits/);
    expect(() => synth({ env: { MAX_QUEUE_DELAY_MS: '1e3' } })).toThrow(/'env.MAX_QUEUE_DELAY_MS' \("1e3"\) must be a whole number from 0 to 10000 \(ms\)/);
    expect(() => synth({ env: { INFERENCE_WORKERS: '300' } })).toThrow(/'env.INFERENCE_WORKERS' \("300"\) must be a whole number from 1 to 256/);
    expect(() => synth({ env: { ORT_EXECUTION_PROVIDERS: 'gpu' } })).toThrow(/'env.ORT_EXECUTION_PROVIDERS' \("gpu"\) must be a comma-separated list of cpu, cuda, tensorrt/);
    expect(() => synth({ env: { LOG_LEVEL: 'verbose' } })).toThrow(/'env.LOG_LEVEL' \("verbose"\) must be one of fatal, error, warn, info, debug, trace, silent/);
    expect(() => synth({ env: { SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: 'text/plain' } }))
      .toThrow(/'env.SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT' \("text\/plain"\) must be one of application\/json, text\/csv, application\/jsonlines, application\/jsonl, application\/x-jsonlines/);
    expect(() => synth({ canary: { image: 'x:2', env: { MAX_QUEUE_SIZE: '-1' } } })).toThrow(/'canary.env.MAX_QUEUE_SIZE' \("-1"\) must be a whole number from 1 to 1000000/);
  });

  test('accepted server values, empty values (the server default) and variables the server does not read pass as given', () => {
    const env = {
      BATCHING: 'off', MAX_BATCH_SIZE: '32', LOG_LEVEL: 'debug', ORT_EXECUTION_PROVIDERS: 'cpu', LOG_REQUESTS: '', SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: 'Application/JSONLines',
      MY_FEATURE_FLAG: '0x10', AWS_REGION: 'eu-west-1',
    };
    const c = server(synth({ env }).manifests);
    for (const [name, value] of Object.entries(env)) expect(c.env).toContainEqual({ name, value });
  });

  test('with DRAIN_TIMEOUT_MS in env, synthesis fails', () => {
    expect(() => synth({ env: { DRAIN_TIMEOUT_MS: '60000' } })).toThrow(/'env.DRAIN_TIMEOUT_MS' \("60000"\) is set by the construct from drainTimeout/);
  });

  test('with minReplicas 0, synthesis fails', () => {
    expect(() => synth({ minReplicas: 0 })).toThrow(/'minReplicas' \(0\) must be a whole number >= 1/);
  });

  test('with a CPU target outside 1-100, synthesis fails', () => {
    expect(() => synth({ targetCpuUtilizationPercent: 120 })).toThrow(/'targetCpuUtilizationPercent' \(120\) must be a whole number from 1 to 100/);
    expect(() => synth({ targetCpuUtilizationPercent: 0 })).toThrow(/'targetCpuUtilizationPercent' \(0\) must be a whole number from 1 to 100/);
  });

  test('with a root user id, synthesis fails', () => {
    expect(() => synth({ runAsUser: 0 })).toThrow(/'runAsUser' \(0\) must be a whole number >= 1/);
  });

  test('with a serviceAccountName that is no Kubernetes object name, synthesis fails: the API server would refuse the Deployment', () => {
    expect(() => synth({ serviceAccountName: 'Model_Reader' }))
      .toThrow(/'serviceAccountName' \("Model_Reader"\) must be a Kubernetes object name \(a DNS subdomain/);
    expect(() => synth({ serviceAccountName: `${'a'.repeat(254)}` })).toThrow(/'serviceAccountName'/);
    expect(() => synth({ serviceAccountName: 'model-reader.v2' })).not.toThrow();
  });

  test('with a user id above 2147483647, synthesis fails: the API server refuses it', () => {
    expect(() => synth({ runAsUser: 2147483648 })).toThrow(/'runAsUser' \(2147483648\) must be a whole number from 1 to 2147483647/);
    expect(() => synth({ runAsUser: 2147483647 })).not.toThrow();
  });

  test('with an invalid name, synthesis fails', () => {
    expect(() => synth({ name: 'Fraud_Model' })).toThrow(/'name' \("Fraud_Model"\) must be a DNS label/);
  });

  test('with a canary share above 50 percent, synthesis fails', () => {
    expect(() => synth({ canary: { image: 'x:2', weightPercent: 60 } })).toThrow(/'canary.weightPercent' \(60\) must be a whole number from 1 to 50/);
  });

  test('a canary share of 51 percent, the smallest majority, fails; 50 percent is the most allowed', () => {
    expect(() => synth({ canary: { image: 'x:2', weightPercent: 51 } })).toThrow(/'canary.weightPercent' \(51\) must be a whole number from 1 to 50/);
    expect(() => synth({ canary: { image: 'x:2', weightPercent: 50 } })).not.toThrow();
  });

  test('an S3 model location that is not an S3 URI is rejected', () => {
    expect(() => ModelSource.fromS3Uri('https://models.s3.amazonaws.com/fraud')).toThrow(/'model' \("https:\/\/models.s3.amazonaws.com\/fraud"\) must be an S3 URI/);
    expect(() => ModelSource.fromS3Uri('s3://models/fraud/model.tar.gz')).toThrow(/'model' \("s3:\/\/models\/fraud\/model.tar.gz"\) must be the prefix of an unpacked model directory/);
  });

  test('a scaling metric with a non-positive target is rejected', () => {
    expect(() => ScalingMetric.queueDepth(0)).toThrow(/'averageValue' \(0\) must be a finite number > 0/);
  });

  test('a scaling metric with an infinite target is rejected (it would render as null)', () => {
    expect(() => ScalingMetric.requestsPerSecond(Infinity)).toThrow(/'averageValue' \(Infinity\) must be a finite number > 0/);
    expect(() => ScalingMetric.external('sqs_depth', Number.NaN)).toThrow(/'averageValue' \(NaN\) must be a finite number > 0/);
  });

  test('labeled accelerator nodes need at least one label', () => {
    expect(() => AcceleratorNodes.labeled({ vendor: AcceleratorVendor.NVIDIA, labels: {} })).toThrow(/'labels' \(\{\}\) must hold at least one label/);
  });

  test('labeled accelerator nodes with a label or taint Kubernetes refuses are rejected', () => {
    const labeled = (labels: Record<string, string>, taints?: Array<{ key: string; value: string; effect: 'NoSchedule' }>) =>
      () => AcceleratorNodes.labeled({ vendor: AcceleratorVendor.NVIDIA, labels, taints });
    // The API server refuses a node affinity or toleration key that is no qualified name ...
    expect(labeled({ 'node group': 'inference' })).toThrow(/'labels' \("node group"\) must be label keys: an optional DNS-subdomain prefix and "\/", then at most 63 letters, digits/);
    expect(labeled({ [LABEL_NODE_GROUP]: 'x' }, [{ key: 'dedicated ml', value: 'true', effect: 'NoSchedule' }])).toThrow(/'taints\[\].key' \("dedicated ml"\) must be a label key/);
    expect(labeled({ [LABEL_NODE_GROUP]: 'x' }, [{ key: 'dedicated', value: 'ml pool', effect: 'NoSchedule' }])).toThrow(/'taints\["dedicated"\].value' \("ml pool"\) must be a label value/);
    // ... and no node can carry a label value that is no label value, so the pods would stay Pending.
    expect(labeled({ [LABEL_NODE_GROUP]: 'inference pool' })).toThrow(/'labels\["ai-platform.dev\/node-group"\]' \("inference pool"\) must be a label value/);
  });

  test('labeled accelerator nodes with a taint effect Kubernetes does not know are rejected, not tolerated as NoSchedule', () => {
    // A NoExecute taint tolerated as NoSchedule keeps the pods off the nodes.
    expect(() => AcceleratorNodes.labeled({ vendor: AcceleratorVendor.NVIDIA, labels: { [LABEL_NODE_GROUP]: 'x' }, taints: [{ key: 'dedicated', value: 'ml', effect: 'NO_EXECUTE' as 'NoExecute' }] }))
      .toThrow(/'taints\["dedicated"\].effect' \("NO_EXECUTE"\) must be NoSchedule, PreferNoSchedule or NoExecute/);
  });

  test('an ingress peer naming no possible namespace, or with labels Kubernetes refuses, is rejected', () => {
    // No namespace can be named so: the NetworkPolicy would match nothing and silently block the callers.
    expect(() => IngressPeer.namespace('Checkout')).toThrow(/'namespace' \("Checkout"\) must be a namespace name: at most 63 lower-case letters, digits or "-"/);
    expect(() => IngressPeer.pods({ app: 'gateway' }, 'edge_ns')).toThrow(/'namespace' \("edge_ns"\) must be a namespace name/);
    // The API server refuses a pod selector with such a key or value.
    expect(() => IngressPeer.pods({ 'app name': 'gateway' })).toThrow(/'labels' \("app name"\) must be label keys/);
    expect(() => IngressPeer.pods({ app: 'api gateway' })).toThrow(/'labels\["app"\]' \("api gateway"\) must be a label value/);
  });

  test('labeled accelerator nodes need at least one accelerator each', () => {
    expect(() => AcceleratorNodes.labeled({ vendor: AcceleratorVendor.NVIDIA, labels: { [LABEL_NODE_GROUP]: 'x' }, acceleratorsPerNode: 0 }))
      .toThrow(/'acceleratorsPerNode' \(0\) must be a whole number >= 1/);
  });

  test('labeled accelerator nodes take label keys with at most one "/" and a DNS-subdomain prefix of at most 253 characters', () => {
    const nodes = (key: string) => () => AcceleratorNodes.labeled({ vendor: AcceleratorVendor.NVIDIA, labels: { [key]: 'x' } });
    expect(nodes('example.com/team/ml')).toThrow(/'labels' \("example.com\/team\/ml"\) must be label keys/);
    const prefix = (lastLabel: number) => `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(lastLabel)}`;
    expect(prefix(61)).toHaveLength(253);
    expect(nodes(`${prefix(61)}/group`)).not.toThrow();
    expect(nodes(`${prefix(62)}/group`)).toThrow(/'labels' \(".{254}\/group"\) must be label keys/);
  });

  test('labeled accelerator nodes have one accelerator each unless told: a pod asking for two fails', () => {
    const nodes = AcceleratorNodes.labeled({ vendor: AcceleratorVendor.NVIDIA, labels: { [LABEL_NODE_GROUP]: 'x' } });
    expect(nodes.acceleratorsPerNode).toBe(1);
    const { service } = synth();
    expect(() => service.runOn(nodes, { accelerators: 2 })).toThrow(/'accelerators' \(2\) must be <= the 1 accelerator\(s\) each targeted node has/);
  });

  test('labeled accelerator nodes take their capacity type from the capacity-type label, else on-demand, unless given', () => {
    const nodes = (labels: Record<string, string>, capacity?: Capacity) => AcceleratorNodes.labeled({ vendor: AcceleratorVendor.NVIDIA, labels, capacity });
    expect(nodes({ [LABEL_NODE_GROUP]: 'x', [LABEL_CAPACITY_TYPE]: 'spot' }).capacityType).toBe('spot');
    expect(nodes({ [LABEL_NODE_GROUP]: 'x' }).capacityType).toBe('on-demand');
    expect(nodes({ [LABEL_NODE_GROUP]: 'x', [LABEL_CAPACITY_TYPE]: 'spot' }, Capacity.onDemand()).capacityType).toBe('on-demand');
  });

  test('on nodes with taints of their own, the pods tolerate each with its effect', () => {
    const nodes = AcceleratorNodes.labeled({
      vendor: AcceleratorVendor.NVIDIA, labels: { [LABEL_NODE_GROUP]: 'x' },
      taints: [{ key: 'dedicated', value: 'ml', effect: 'NoExecute' }, { key: 'gpu-only', value: 'yes', effect: 'PreferNoSchedule' }],
    });
    expect(podSpec(only(synth({ nodes }).manifests, 'Deployment')).tolerations).toEqual([
      { key: 'dedicated', operator: 'Equal', value: 'ml', effect: 'NoExecute' },
      { key: 'gpu-only', operator: 'Equal', value: 'yes', effect: 'PreferNoSchedule' },
    ]);
  });

  test('with fewer than one accelerator per pod, synthesis fails', () => {
    expect(() => synth({ nodes: gpuNodes(), nodeOptions: { accelerators: 0 } })).toThrow(/'nodeOptions.accelerators' \(0\) must be a whole number >= 1/);
  });
});

test('IngressPeer.pods without labels, from a JavaScript caller, fails naming labels instead of a TypeError', () => {
  expect(() => IngressPeer.pods(undefined as unknown as Record<string, string>))
    .toThrow(/^'labels' \(undefined\) is required: the labels of the calling pods, as an object such as \{ app: "gateway" \}$/);
  expect(() => IngressPeer.pods('app=gateway' as unknown as Record<string, string>))
    .toThrow(/^'labels' \("app=gateway"\) must be the labels of the calling pods/);
});

test('a JavaScript caller without props gets an error naming image instead of a TypeError', () => {
  expect(() => new InferenceService(Testing.chart(), 'Svc', undefined as unknown as InferenceServiceProps))
    .toThrow(/^\[test\/Svc\] 'image' \(undefined\) is required: the server image: a container image reference/);
});
