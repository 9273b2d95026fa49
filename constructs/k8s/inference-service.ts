import { Token } from 'aws-cdk-lib';
import { ApiObject, Chart, Duration, JsonPatch, Size, SizeRoundingBehavior } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PlatformError, requireProp } from '../../lib/private/errors';
import { CA_SAFE_TO_EVICT_LOCAL_VOLUMES, isLabelValue, isQualifiedName, LABEL_HOSTNAME, LABEL_ZONE } from '../../lib/private/labels';
import { IAcceleratorNodes } from '../compute/accelerator-nodes';
import { AcceleratorVendor } from '../compute/gpu-instance-type';
import { integerRange, listsProvider, validateServerEnvironment, withoutEmptyUnset } from '../private/server-environment';
import { applyAcceleratorScheduling, RunOnOptions } from './accelerator-scheduling';
import { claimAppName } from './private/app-name-label';
import { editRendered, sortedKeys } from './private/edit-rendered';
import { checkEnvNames } from './private/env-names';
import { checkImageReference } from './private/image-reference';
import { checkObjectName } from './private/object-name';
import { checkRequestsWithinLimits } from './private/requests-within-limits';
import { dropPathLabel } from './private/stable-pod-labels';
import { unusedNodeOptions } from './private/unused-node-options';
import { MAX_USER_ID } from './private/user-id';
import { checkWholeSeconds } from './private/whole-seconds';
import { checkContainerSizes, checkWholeSize } from './private/whole-size';

/** Environment variable the inference server reads for its drain time on SIGTERM, in milliseconds. */
export const DRAIN_TIMEOUT_ENV = 'DRAIN_TIMEOUT_MS';
/** The port variable the bundled server listens on (its image sets it too, so `PORT` alone would not reach it). */
export const PORT_ENV = 'SAGEMAKER_BIND_TO_PORT';
/** The model name the bundled server serves (OIP routes, metrics labels). */
export const MODEL_NAME_ENV = 'MODEL_NAME';
/** The bundled server's onnxruntime execution providers, in order of preference. */
export const EXECUTION_PROVIDERS_ENV = 'ORT_EXECUTION_PROVIDERS';
/** Where the server finds its model (the SageMaker contract's location, used on Kubernetes too). */
export const MODEL_DIR = '/opt/ml/model';
/** Label shared by every pod of an inference service (stable and canary); the Service, PDB and NetworkPolicy select on it. */
export const LABEL_APP_NAME = 'app.kubernetes.io/name';
/** Label telling stable pods from canary pods. */
export const LABEL_TRACK = 'ai-platform.dev/track';

/** Default image of the init container that copies a model from S3. */
export const DEFAULT_S3_COPY_IMAGE = 'public.ecr.aws/aws-cli/aws-cli:2.27.50';

/** How many names of what the prefix holds a fetch-model error lists. */
const FETCH_MODEL_LISTED = 20;

/**
 * The fetch-model init container's script for a prefix: `$1` the S3 URI, `$2` the model directory. POSIX sh
 * with `ls` and `sed`.
 */
const FETCH_MODEL_SCRIPT = [
  'aws s3 sync --only-show-errors "$1" "$2" || exit $?',
  'if [ -z "$(ls -A "$2")" ]; then printf \'%s\\n\' "fetch-model: no objects under $1: upload the model directory (model.onnx, optional serving.json) there or fix the model URI; retrying" >&2; exit 1; fi',
  // What the prefix holds, for the messages: the first names, folders marked with '/'.
  `found() { n=0; for e in "$2"/* "$2"/.[!.]* "$2"/..?*; do [ -e "$e" ] || [ -L "$e" ] || continue; n=$((n + 1)); `
  + `if [ "$n" -le ${FETCH_MODEL_LISTED} ]; then if [ -d "$e" ]; then printf ' %s/' "\${e##*/}"; else printf ' %s' "\${e##*/}"; fi; fi; done; `
  + `if [ "$n" -gt ${FETCH_MODEL_LISTED} ]; then printf ' (and %s more)' $((n - ${FETCH_MODEL_LISTED})); fi; }`,
  'if [ -f "$2/serving.json" ] && [ -n "$(sed -n \'/"modelFile"/p\' "$2/serving.json")" ]; then',
  '  f=$(sed -n \'/"modelFile"/{s/.*"modelFile"[[:space:]]*:[[:space:]]*"\\([^"]*\\)".*/\\1/p;q;}\' "$2/serving.json")',
  // A modelFile with JSON escapes (nets\/model.onnx, \u00e9) is a name only a JSON parser reads: left to the server.
  '  case "$f" in *\\\\*) exit 0;; esac',
  '  if [ -z "$f" ] || [ -f "$2/$f" ]; then exit 0; fi',
  '  printf \'%s\\n\' "fetch-model: $1 holds no $f, the modelFile serving.json names: upload it there or fix modelFile; found:$(found "$@"); retrying" >&2; exit 1',
  'fi',
  // Hidden files too: the server's count (readdir) has them, so a macOS ._model.onnx beside the model makes two.
  'n=0; names=; for m in "$2"/.onnx "$2"/.*.onnx "$2"/*.onnx; do if [ -f "$m" ]; then n=$((n + 1)); names="$names${names:+ }${m##*/}"; fi; done',
  'if [ "$n" -eq 0 ]; then printf \'%s\\n\' "fetch-model: $1 holds no model file: expected model.onnx (or a single .onnx file, or the modelFile serving.json names) at the top of the prefix; found:$(found "$@"). '
  + 'An archive (model.tar.gz) is not unpacked: upload the unpacked model directory there or fix the model URI; retrying" >&2; exit 1; fi',
  'if [ "$n" -gt 1 ] && [ ! -f "$2/model.onnx" ]; then printf \'%s\\n\' "fetch-model: $1 holds $n .onnx files ($names) and no model.onnx, so the server would not know which to load: name the one to serve model.onnx or set modelFile in serving.json; retrying" >&2; exit 1; fi',
].join('\n');

/**
 * Where the server's model comes from.
 *
 * @example
 * ModelSource.fromS3Uri('s3://models/fraud/v3/')
 */
export class ModelSource {
  /** The model is baked into the image at `/opt/ml/model`. Nothing is copied at start. */
  public static fromImage(): ModelSource {
    return new ModelSource(undefined, undefined, undefined);
  }

  /**
   * An init container copies the model from S3 into a shared `emptyDir` mounted at `/opt/ml/model`.
   * The pod's service account needs read access to it (IRSA or EKS Pod Identity).
   *
   * A prefix (`s3://bucket/models/fraud/v3/`) is the model directory: `aws s3 sync` copies everything
   * under it (`model.onnx`, an optional `serving.json` and `features.json`, external data files). A
   * single `.onnx` object (`s3://bucket/models/fraud-v3.onnx`) is copied alone with `aws s3 cp`, as
   * `/opt/ml/model/model.onnx`; give the prefix instead when the model needs files beside it. An
   * archive (`.tar.gz`, `.tgz`, `.tar`) is refused: nothing unpacks it. A prefix that holds no objects, one
   * without the model file the server would load (`modelFile` in `serving.json`, else the only top-level
   * `.onnx` file, else `model.onnx`: a `model.tar.gz` or a directory one level too deep fails), or a missing
   * object fails the init container, with a message naming the S3 location, what it expected and what it found,
   * and the kubelet retries it until the model is there (the image needs `sh`, `ls` and `sed` besides the AWS CLI).
   */
  public static fromS3Uri(uri: string, options: S3ModelSourceOptions = {}): ModelSource {
    if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(uri)) {
      throw new PlatformError(undefined, 'model', uri,
        'must be an S3 URI like "s3://bucket/prefix/", whose bucket name is 3-63 lower-case letters, digits, "." or "-", starting and ending with a letter or digit',
        'give the S3 location of the model directory');
    }
    if (/\.(tar\.gz|tgz|tar)$/i.test(uri)) {
      throw new PlatformError(undefined, 'model', uri, 'must be the prefix of an unpacked model directory: `aws s3 sync` copies a prefix and would leave an archive (or nothing) in /opt/ml/model',
        'upload the directory itself (model.onnx, optional serving.json) and give its prefix, e.g. "s3://bucket/models/fraud/v3/"');
    }
    checkWholeSize(undefined, 'sizeLimit', options.sizeLimit, 'MiB', 'the model volume\'s sizeLimit is written in Mi');
    return new ModelSource(uri, options.copyImage ?? DEFAULT_S3_COPY_IMAGE, options.sizeLimit ?? Size.gibibytes(20));
  }

  /**
   * The init container's command that copies the model into `directory`.
   * @internal
   */
  public _copyCommand(directory: string): string[] | undefined {
    if (!this.s3Uri) return undefined;
    // `aws s3 sync` of an object's key copies nothing (it syncs the objects under a prefix), and the
    // server would then find no model: copy a single file with `aws s3 cp` under the name it looks for.
    if (/\.onnx$/i.test(this.s3Uri)) {
      // A missing object fails the copy (404), so the init container is retried until it is there.
      return ['aws', 's3', 'cp', '--only-show-errors', this.s3Uri, `${directory}/model.onnx`];
    }
    // `aws s3 sync` succeeds on a prefix that holds no objects (a typo, a model not uploaded yet), or one
    // that holds no model the server would load (a SageMaker-style model.tar.gz, the model directory one
    // level too deep). Init containers do not run again when the server restarts, so the server would
    // crash-loop without a model even after the upload: fail here instead, naming the location, what was
    // expected and what is there, and the kubelet retries the copy until the model is there. The check
    // follows the server's choice of model file (container/src/config.ts): `modelFile` in serving.json,
    // else the only top-level *.onnx file, else model.onnx. A modelFile this sed cannot read (spread over
    // lines, escaped) is left to the server. The URI and directory are positional arguments ($1, $2), so
    // the shell never parses them.
    return ['sh', '-c', FETCH_MODEL_SCRIPT, 'fetch-model', this.s3Uri, directory];
  }

  private constructor(
    /** The S3 URI, when the model is copied from S3. */
    public readonly s3Uri: string | undefined,
    /** Image of the init container that copies the model. */
    public readonly copyImage: string | undefined,
    /** Size limit of the model volume. */
    public readonly sizeLimit: Size | undefined,
  ) {}
}

/** Options for `ModelSource.fromS3Uri`. */
export interface S3ModelSourceOptions {
  /**
   * Image with the AWS CLI and a POSIX `sh` (with `ls` and `sed`) for the init container: not empty, no whitespace.
   * @default DEFAULT_S3_COPY_IMAGE
   */
  readonly copyImage?: string;
  /**
   * Size limit of the `emptyDir` the model is copied into, a whole number of MiB.
   * @default Size.gibibytes(20)
   */
  readonly sizeLimit?: Size;
}

/**
 * A custom or external metric the autoscaler scales on, besides CPU. Pod metrics come from a metrics
 * adapter (Prometheus Adapter, KEDA) exposing the server's Prometheus series through `custom.metrics.k8s.io`.
 */
export class ScalingMetric {
  /** Average requests waiting per pod, from the server's queue-depth gauge (`inference_queue_depth`). */
  public static queueDepth(averagePerPod: number, metricName = 'inference_queue_depth'): ScalingMetric {
    return ScalingMetric.pods(metricName, averagePerPod);
  }

  /** Average requests per second per pod (`inference_requests_per_second`, a rate the adapter computes). */
  public static requestsPerSecond(averagePerPod: number, metricName = 'inference_requests_per_second'): ScalingMetric {
    return ScalingMetric.pods(metricName, averagePerPod);
  }

  /** Any per-pod metric from `custom.metrics.k8s.io`, averaged over the pods. */
  public static pods(metricName: string, averageValue: number): ScalingMetric {
    ScalingMetric.check(metricName, averageValue);
    return new ScalingMetric(metricName, averageValue, false);
  }

  /** A metric from `external.metrics.k8s.io` (e.g. an SQS queue's depth), averaged over the pods. */
  public static external(metricName: string, averageValue: number): ScalingMetric {
    ScalingMetric.check(metricName, averageValue);
    return new ScalingMetric(metricName, averageValue, true);
  }

  private static check(metricName: string, averageValue: number): void {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:.-]*$/.test(metricName)) {
      throw new PlatformError(undefined, 'metricName', metricName, 'must be a metric name (letters, digits, _ : . -)', 'use the name the metrics adapter exposes');
    }
    // JSON has no Infinity: the HPA's averageValue would render as null.
    if (!Number.isFinite(averageValue) || averageValue <= 0) {
      throw new PlatformError(undefined, 'averageValue', averageValue, 'must be a finite number > 0', 'give the per-pod value the autoscaler keeps each pod at');
    }
  }

  private constructor(
    public readonly metricName: string,
    public readonly averageValue: number,
    public readonly isExternal: boolean,
  ) {}

  /** @internal */
  public _toKplus(): kplus.Metric {
    const options = { name: this.metricName, target: kplus.MetricTarget.averageValue(this.averageValue) };
    return this.isExternal ? kplus.Metric.external(options) : kplus.Metric.pods(options);
  }
}

/** How many pods a voluntary disruption (node drain, upgrade, consolidation) may take at once. */
export class DisruptionBudget {
  /** At most this many pods unavailable. */
  public static maxUnavailable(pods: number): DisruptionBudget {
    return new DisruptionBudget('maxUnavailable', pods, false);
  }
  /** At most this percentage of pods unavailable (rounded up by Kubernetes). */
  public static maxUnavailablePercent(percent: number): DisruptionBudget {
    return new DisruptionBudget('maxUnavailable', percent, true);
  }
  /** At least this many pods available. */
  public static minAvailable(pods: number): DisruptionBudget {
    return new DisruptionBudget('minAvailable', pods, false);
  }

  private constructor(
    public readonly field: 'maxUnavailable' | 'minAvailable',
    public readonly value: number,
    public readonly isPercent: boolean,
  ) {}

  public toString(): string {
    return `${this.field}: ${this.isPercent ? `${this.value}%` : this.value}`;
  }
}

/** A source allowed to reach the inference service through its NetworkPolicy. */
export class IngressPeer {
  /** Every pod in the namespace. */
  public static namespace(name: string): IngressPeer {
    IngressPeer.checkNamespace(name);
    return new IngressPeer({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } } });
  }
  /** Pods with these labels, in the service's own namespace or in the named one. */
  public static pods(labels: Record<string, string>, namespace?: string): IngressPeer {
    requireProp(undefined, 'labels', labels, 'object', 'the labels of the calling pods, as an object such as { app: "gateway" }');
    // The API server refuses a pod selector whose keys or values are not label syntax.
    for (const [key, value] of Object.entries(labels)) {
      if (!Token.isUnresolved(key) && !isQualifiedName(key)) {
        throw new PlatformError(undefined, 'labels', key,
          'must be label keys: an optional DNS-subdomain prefix and "/", then at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit',
          'use the label key the calling pods carry');
      }
      if (!Token.isUnresolved(value) && (typeof value !== 'string' || !isLabelValue(value))) {
        throw new PlatformError(undefined, `labels["${key}"]`, value,
          'must be a label value: at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit (or empty)',
          'use the label value the calling pods carry');
      }
    }
    if (namespace !== undefined) IngressPeer.checkNamespace(namespace);
    return new IngressPeer({
      podSelector: { matchLabels: { ...labels } },
      ...(namespace ? { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } } : {}),
    });
  }

  /** A name no namespace can have would match nothing, and the NetworkPolicy would silently block the callers. */
  private static checkNamespace(name: string): void {
    if (!Token.isUnresolved(name) && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) {
      throw new PlatformError(undefined, 'namespace', name,
        'must be a namespace name: at most 63 lower-case letters, digits or "-", starting and ending with a letter or digit (no namespace could match it, so the NetworkPolicy would admit no one from it)',
        'give the name of the namespace the callers run in');
    }
  }

  private constructor(
    /** @internal */ public readonly _peer: kplus.k8s.NetworkPolicyPeer,
  ) {}
}

/** A canary: a second Deployment of a new version behind the same Service, with a share of the replicas. */
export interface CanaryOptions {
  /** Image of the new version: not empty, no whitespace. */
  readonly image: string;
  /**
   * Share of the pods (and so, roughly, of the requests) the canary gets at `minReplicas`, in percent, 1-50. The
   * canary runs `max(1, round(minReplicas * weight / (100 - weight)))` replicas next to the stable ones; the HPA
   * scales only the stable Deployment, so the share falls as it adds stable pods.
   * @default 10
   */
  readonly weightPercent?: number;
  /**
   * Extra environment for the canary only, checked like `InferenceServiceProps.env`.
   * @default - the stable environment
   */
  readonly env?: Record<string, string>;
}

/** How a serving pod pauses before SIGTERM for `preStopDelay` (its container's `lifecycle.preStop`). */
export enum PreStopPause {
  /**
   * Kubernetes' own sleep action (`preStop.sleep.seconds`): kubelet waits, so the image needs no `sleep` program
   * (a distroless `BASE_IMAGE` has none) and no process is started. Kubernetes 1.30 or later, where it is on by
   * default (beta in 1.30, GA in 1.34); the API server of an older cluster refuses the Deployment.
   */
  SLEEP_ACTION = 'sleep-action',
  /**
   * Runs `sleep <seconds>` in the server container (`preStop.exec`), for clusters before Kubernetes 1.30. The
   * image must hold a `sleep` program, as the bundled images do: without one the hook fails, kubelet logs
   * `FailedPreStopHook` and sends SIGTERM at once, so the pod drains while the Service may still send it requests.
   */
  SLEEP_COMMAND = 'sleep-command',
}

/** One step of an Argo Rollouts canary. */
export class ArgoCanaryStep {
  /** Send this share of the pods (without a traffic router: of the replicas) to the new version, 1-100. */
  public static setWeight(percent: number): ArgoCanaryStep {
    if (!Number.isInteger(percent) || percent < 1 || percent > 100) {
      throw new PlatformError(undefined, 'setWeight', percent, 'must be a whole percentage from 1 to 100', 'give the share of replicas for the new version');
    }
    return new ArgoCanaryStep({ setWeight: percent });
  }

  /**
   * Wait: for a time, or (without a duration) until someone runs `kubectl argo rollouts promote <name>`.
   */
  public static pause(duration?: Duration): ArgoCanaryStep {
    // Written as whole seconds ("120s"): cdk8s's toSeconds() would otherwise fail without naming the step.
    checkWholeSeconds(undefined, [['pause', duration]]);
    return new ArgoCanaryStep({ pause: duration ? { duration: `${duration.toSeconds()}s` } : {} });
  }

  private constructor(/** @internal */ public readonly _step: Record<string, unknown>) {}
}

/** Progressive delivery with Argo Rollouts: a `Rollout` that takes over the Deployment's pods through `workloadRef`. */
export interface ArgoRolloutOptions {
  /**
   * The canary steps a new version goes through.
   * @default - 20%, wait for promotion, 50% for 10 minutes, then 100%
   */
  readonly steps?: ArgoCanaryStep[];
}

/** Resource requests and limits of the server container. */
export interface InferenceResources {
  /**
   * A limit is required unless `env` sets `INTRA_OP_NUM_THREADS`: the bundled server sizes its inference
   * threads from the CPU limit, and without one from every CPU of the node.
   * @default - request 1 CPU, limit 2 CPUs
   */
  readonly cpu?: kplus.CpuResources;
  /**
   * cdk8s-plus writes memory in Mi: a size that is no whole number of MiB fails synthesis.
   * @default - request 4 GiB, limit 4 GiB
   */
  readonly memory?: kplus.MemoryResources;
  /**
   * Ephemeral storage of the server container. A model fetched from S3 lands on a disk-backed volume that
   * counts against the pod's limit: one given here must leave room for it (the model's `sizeLimit`, 20 GiB by
   * default), or the kubelet evicts the pod once the copied model outgrows it.
   * cdk8s-plus writes it in Gi: a size that is no whole number of GiB fails synthesis.
   * @default - request 1 GiB, limit 2 GiB, each plus the model volume's sizeLimit (rounded up to whole GiB) when the
   *   model comes from S3
   */
  readonly ephemeralStorage?: kplus.EphemeralStorageResources;
}

/** Properties of an `InferenceService`. */
export interface InferenceServiceProps {
  /** Server image: not empty, no whitespace. */
  readonly image: string;
  /**
   * Name of the Deployment, Service, HPA and PDB (and the `app.kubernetes.io/name` label).
   * @default - the construct id, lower-cased
   */
  readonly name?: string;
  /**
   * Port the server listens on in the pod (HTTP, Open Inference Protocol and `/metrics`), 1-65535.
   * Passed to the server as `SAGEMAKER_BIND_TO_PORT`; the probes, the NetworkPolicy and the Prometheus
   * annotation use it, and it is the Service's `targetPort`. The pods run as a non-root user with every
   * capability dropped, so for a port below 1024 the pod sets the sysctl
   * `net.ipv4.ip_unprivileged_port_start` to the port (a safe, namespaced sysctl since Kubernetes 1.22,
   * allowed by the restricted Pod Security Standard). `servicePort` is the other way to serve clients
   * on port 80: the pod keeps 8080 and needs no sysctl.
   * @default 8080
   */
  readonly port?: number;
  /**
   * Port the Service exposes to clients, 1-65535. It forwards to `port`, so a Service on port 80 needs
   * no privileged port in the pod (`servicePort: 80` -> `targetPort: 8080`).
   * @default - the same as `port`
   */
  readonly servicePort?: number;
  /**
   * Name the bundled server serves the model under: the `{name}` of its OIP routes
   * (`/v2/models/{name}/infer`) and the `model` label of its metrics. Set as `MODEL_NAME`.
   * @default - the service name
   */
  readonly modelName?: string;
  /**
   * Where the model comes from.
   * @default ModelSource.fromImage()
   */
  readonly model?: ModelSource;
  /**
   * Accelerator nodes to run on: accelerator requests and limits, tolerations for their taints, required
   * node affinity on their labels. A `GpuNodeGroup`, a `GpuNodePool` or `AcceleratorNodes.labeled(...)`.
   * On NVIDIA nodes, run the GPU image (`container/Dockerfile.gpu`): the server is told to require CUDA
   * (`ORT_EXECUTION_PROVIDERS=cuda`), so the CPU image fails to start there, with a message naming CUDA.
   * AWS Neuron nodes are an error unless `env` sets `ORT_EXECUTION_PROVIDERS` to a list with `cpu`: the
   * bundled server cannot use Neuron devices, and would serve on the nodes' CPUs. On CPU nodes (no
   * nodes, no `runOn`), a list without `cpu` fails when the app is synthesized.
   * @default - CPU only (or call `runOn` later, once)
   */
  readonly nodes?: IAcceleratorNodes;
  /**
   * Accelerators per pod and capacity preference, for `nodes` or a later `runOn` (set without either, synthesis
   * fails when the app is synthesized).
   * @default - one accelerator, the nodes' labels all required
   */
  readonly nodeOptions?: RunOnOptions;
  /** @default - see `InferenceResources` */
  readonly resources?: InferenceResources;
  /**
   * Fewest replicas the autoscaler keeps.
   * @default 2
   */
  readonly minReplicas?: number;
  /**
   * Most replicas the autoscaler may run.
   * @default 4
   */
  readonly maxReplicas?: number;
  /**
   * Average CPU utilization (of the request) the autoscaler aims for, 1-100.
   * @default 70
   */
  readonly targetCpuUtilizationPercent?: number;
  /**
   * A custom or external metric to scale on as well (the autoscaler takes the largest recommendation).
   * @default - CPU only
   */
  readonly scalingMetric?: ScalingMetric;
  /**
   * Scale-up behaviour.
   * @default - no stabilization; add up to 100% or 4 pods (whichever is more) per minute
   */
  readonly scaleUp?: kplus.ScalingRules;
  /**
   * Scale-down behaviour. Slow by default: a GPU pod takes minutes to come back.
   * @default - 5 minute stabilization window; remove at most 1 pod per 2 minutes
   */
  readonly scaleDown?: kplus.ScalingRules;
  /**
   * PodDisruptionBudget. One that would allow no eviction at `minReplicas` is an error.
   * @default DisruptionBudget.maxUnavailable(1)
   */
  readonly disruptionBudget?: DisruptionBudget;
  /**
   * How long the server drains in-flight requests after SIGTERM. Passed to the container as
   * `DRAIN_TIMEOUT_MS`; the bundled server accepts 0 to 28 seconds (it exits at the latest 1 s after the
   * drain time, and SageMaker kills it 30 s after SIGTERM).
   * @default Duration.seconds(25) (the bundled server's own default)
   */
  readonly drainTimeout?: Duration;
  /**
   * Pause in `preStop` before SIGTERM, so the endpoint is removed from the Service (and load balancers)
   * before the server starts draining.
   * @default Duration.seconds(5)
   */
  readonly preStopDelay?: Duration;
  /**
   * How the pod pauses for `preStopDelay`. With a `preStopDelay` of 0 the container gets no preStop hook.
   * @default PreStopPause.SLEEP_ACTION (Kubernetes 1.30 or later)
   */
  readonly preStopPause?: PreStopPause;
  /**
   * Grace period between the start of termination and SIGKILL. At least `preStopDelay + drainTimeout + 2s`.
   * @default - preStopDelay + drainTimeout + 10 seconds
   */
  readonly terminationGracePeriod?: Duration;
  /**
   * How long model loading may take before the startup probe gives up and restarts the container.
   * The rollout's progress deadline (`progressDeadlineSeconds` of the Deployments and the Argo
   * `Rollout`) is this plus 10 minutes for the image pull and the model copy, so `kubectl rollout
   * status` and Argo CD do not report a rollout failed while its pods are still loading.
   * @default Duration.minutes(10)
   */
  readonly startupTimeout?: Duration;
  /**
   * User and group id the server runs as (the image must work as any user and write only to `/tmp`).
   * @default 10001
   */
  readonly runAsUser?: number;
  /**
   * Sources allowed to reach the server. When given, a NetworkPolicy denies all other ingress.
   * @default - no NetworkPolicy
   */
  readonly allowFrom?: IngressPeer[];
  /**
   * Who may scrape `/metrics` when a NetworkPolicy is made (only with `allowFrom`; without it, giving this
   * fails synthesis, as it would restrict nothing).
   * @default IngressPeer.namespace('monitoring')
   */
  readonly metricsScraper?: IngressPeer;
  /**
   * Environment for the server. The variables the bundled server reads must hold values it accepts
   * (`BATCHING=on|off`, `MAX_BATCH_SIZE` 1-65536 in plain digits, `ORT_EXECUTION_PROVIDERS` a list of
   * cpu, cuda, tensorrt...), or synthesis fails: the server would refuse them and the pods would not
   * start; a token (a `CfnParameter`, resolved when the chart is added with `cluster.addCdk8sChart`)
   * is not checked. `DRAIN_TIMEOUT_MS`, `SAGEMAKER_BIND_TO_PORT`, `PORT`, `MODEL_NAME` (set from props)
   * and `MODEL_DIR` (the model is at /opt/ml/model) cannot be set. `HOST` may only be `0.0.0.0` (the
   * server's default, every IPv4 address) or `::` (every address, IPv6 and IPv4): the probes, the
   * Service and the NetworkPolicy reach the pod IP. On an IPv6-only cluster set `HOST: '::'`, since
   * kubelet probes the pod's IPv6 address. Other variables pass as given. Names are printable ASCII
   * without `=` (what the API server takes).
   * @default - only what the construct sets: DRAIN_TIMEOUT_MS, SAGEMAKER_BIND_TO_PORT, MODEL_NAME, and
   *   ORT_EXECUTION_PROVIDERS=cuda on NVIDIA nodes (CUDA required, no CPU fallback; set
   *   `ORT_EXECUTION_PROVIDERS: 'cuda,cpu'` here to allow the fallback; an empty value counts as unset)
   */
  readonly env?: Record<string, string>;
  /**
   * Service account name (for S3 model access through IRSA or EKS Pod Identity). Its token is not mounted.
   * @default - the namespace's default service account
   */
  readonly serviceAccountName?: string;
  /**
   * A canary of a new version behind the same Service.
   * @default - no canary
   */
  readonly canary?: CanaryOptions;
  /**
   * Roll out new versions with Argo Rollouts instead (needs the Argo Rollouts controller and its CRDs, 1.7 or later): a
   * `Rollout` references the Deployment (`workloadRef`, scaled down progressively), runs its pods with a
   * canary strategy, and the HPA scales the Rollout. Not together with `canary`. Removing it later leaves the
   * Deployment at the 0 replicas Argo Rollouts gave it, where the HPA does not scale it: scale the Deployment up
   * first (README, "Argo Rollouts instead").
   * @default - a plain Deployment (rolling updates)
   */
  readonly argoRollout?: ArgoRolloutOptions;
  /**
   * Spread pods evenly over zones and nodes (`topologySpreadConstraints`, `ScheduleAnyway`).
   * @default true
   */
  readonly spread?: boolean;
}

const DEFAULT_PORT = 8080;
/** The server's container name. */
const SERVER_CONTAINER = 'server';
/** Pod annotation: the containers EKS's pod identity webhook gives no AWS credentials (amazon-eks-pod-identity-webhook README). */
const EKS_SKIP_CONTAINERS = 'eks.amazonaws.com/skip-containers';
/** Ports below this need CAP_NET_BIND_SERVICE, unless the pod's network namespace lowers it. */
const PRIVILEGED_PORTS_END = 1024;
/** The sysctl that sets the first port a process without CAP_NET_BIND_SERVICE may listen on (IPv4 and IPv6). */
const UNPRIVILEGED_PORT_START = 'net.ipv4.ip_unprivileged_port_start';
/** Added to startupTimeout for the progress deadline: image pull, the fetch-model copy, scheduling. */
const PROGRESS_DEADLINE_MARGIN = Duration.minutes(10);

/**
 * A model server on Kubernetes: a Deployment, a Service, an `autoscaling/v2` HorizontalPodAutoscaler on
 * CPU and (optionally) a custom metric, a PodDisruptionBudget and, optionally, a NetworkPolicy and a canary.
 *
 * Pods probe the Open Inference Protocol endpoints (startup and readiness on `/v2/health/ready`,
 * liveness on `/v2/health/live`), run non-root with a read-only root filesystem, drop all
 * capabilities, use seccomp `RuntimeDefault`, mount no service-account token, always set requests and
 * limits, spread over zones and nodes, and announce `/metrics` to Prometheus.
 *
 * @example
 * new InferenceService(chart, 'Fraud', {
 *   image: 'registry.example.com/inference-server-gpu:1.4.0', // container/Dockerfile.gpu, for GPU nodes
 *   nodes: inferenceNodes,
 *   scalingMetric: ScalingMetric.queueDepth(8),
 * });
 *
 * @see https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
 */
export class InferenceService extends Construct {
  /** The stable Deployment. */
  public readonly deployment: kplus.Deployment;
  /** The canary Deployment, when a canary is configured. */
  public readonly canaryDeployment?: kplus.Deployment;
  /** The Service in front of stable and canary pods. */
  public readonly service: kplus.Service;
  /** The autoscaler of the stable Deployment. */
  public readonly autoscaler: kplus.HorizontalPodAutoscaler;
  /** The PodDisruptionBudget. */
  public readonly podDisruptionBudget: kplus.k8s.KubePodDisruptionBudget;
  /** The Argo Rollouts `Rollout`, when `argoRollout` is given. */
  public readonly rollout?: ApiObject;
  /** The NetworkPolicy, when `allowFrom` is given. */
  public readonly networkPolicy?: kplus.k8s.KubeNetworkPolicy;
  /** Name of the Deployment, Service and the other objects. */
  public readonly name: string;
  /** Port the server listens on in the pod (the Service's `targetPort`). */
  public readonly port: number;
  /** Port the Service exposes. */
  public readonly servicePort: number;
  /** Replicas the canary runs (0 without a canary). */
  public readonly canaryReplicas: number;

  private readonly minReplicas: number;
  private readonly nodeOptions?: RunOnOptions;
  private nodes?: IAcceleratorNodes;

  constructor(scope: Construct, id: string, props: InferenceServiceProps) {
    super(scope, id);
    requireProp(this, 'image', props?.image, 'string', 'the server image: a container image reference such as "registry/name:tag"');

    // defaults
    this.name = props.name ?? id.toLowerCase().replace(/[^a-z0-9-]/g, '-');
    claimAppName(this, 'InferenceService', this.name);
    this.port = props.port ?? DEFAULT_PORT;
    this.servicePort = props.servicePort ?? this.port;
    this.minReplicas = props.minReplicas ?? 2;
    const maxReplicas = props.maxReplicas ?? 4;
    const drain = props.drainTimeout ?? Duration.seconds(25);
    const preStop = props.preStopDelay ?? Duration.seconds(5);
    const preStopPause = props.preStopPause ?? PreStopPause.SLEEP_ACTION;
    // Whole seconds for Kubernetes; the arithmetic is in milliseconds so a drain such as 27.5 s works.
    const drainAndPause = preStop.toMilliseconds({ integral: false }) + drain.toMilliseconds({ integral: false });
    const grace = props.terminationGracePeriod ?? Duration.seconds(Math.ceil(drainAndPause / 1000) + 10);
    const modelName = props.modelName ?? this.name;
    const budget = props.disruptionBudget ?? DisruptionBudget.maxUnavailable(1);
    const cpuTarget = props.targetCpuUtilizationPercent ?? 70;
    const startupTimeout = props.startupTimeout ?? Duration.minutes(10);
    // cdk8s-plus's default (600 s) is no more than the default startupTimeout alone.
    const progressDeadline = Duration.seconds(Math.ceil(startupTimeout.toSeconds({ integral: false })) + PROGRESS_DEADLINE_MARGIN.toSeconds());
    const user = props.runAsUser ?? 10001;
    this.nodeOptions = props.nodeOptions;

    // validate
    if (!/^[a-z]([-a-z0-9]{0,50}[a-z0-9])?$/.test(this.name)) {
      throw new PlatformError(this, 'name', this.name, 'must be a DNS label of at most 52 characters (lower case, digits, -)', 'pass a shorter lower-case name');
    }
    if (!Number.isInteger(this.port) || this.port < 1 || this.port > 65535) {
      throw new PlatformError(this, 'port', this.port, 'must be a whole port number from 1 to 65535', 'use the port the server listens on (8080 for the bundled server)');
    }
    if (!Number.isInteger(this.servicePort) || this.servicePort < 1 || this.servicePort > 65535) {
      throw new PlatformError(this, 'servicePort', this.servicePort, 'must be a whole port number from 1 to 65535', 'use the port clients connect to, e.g. 80');
    }
    // The startup timeout is rounded up (to probe periods and the progress deadline); Kubernetes takes the
    // grace period and the preStop pause in whole seconds.
    const startupSeconds = startupTimeout.toSeconds({ integral: false });
    checkWholeSeconds(this, [['terminationGracePeriod', grace], ['preStopDelay', preStop]]);
    if (!(Object.values(PreStopPause) as unknown[]).includes(preStopPause)) {
      throw new PlatformError(this, 'preStopPause', preStopPause, `must be one of ${Object.values(PreStopPause).join(', ')}`,
        'use PreStopPause.SLEEP_ACTION (Kubernetes 1.30 or later) or PreStopPause.SLEEP_COMMAND (an image with a sleep program)');
    }
    if (startupSeconds < 10) {
      throw new PlatformError(this, 'startupTimeout', `${startupSeconds}s`, 'must be at least 10s (one startup probe period)', 'allow the time model loading takes, e.g. Duration.minutes(10)');
    }
    if (!Number.isInteger(this.minReplicas) || this.minReplicas < 1) {
      throw new PlatformError(this, 'minReplicas', this.minReplicas, 'must be a whole number >= 1', 'keep at least one replica (scale-to-zero needs the HPAScaleToZero feature gate or KEDA)');
    }
    if (!Number.isInteger(maxReplicas) || maxReplicas < 1) {
      throw new PlatformError(this, 'maxReplicas', maxReplicas, 'must be a whole number >= 1', 'give the most replicas the autoscaler may run, e.g. 4');
    }
    if (maxReplicas < this.minReplicas) {
      throw new PlatformError(this, 'minReplicas', this.minReplicas, `must be <= 'maxReplicas' (${maxReplicas})`, 'lower minReplicas or raise maxReplicas');
    }
    if (!Number.isInteger(cpuTarget) || cpuTarget < 1 || cpuTarget > 100) {
      throw new PlatformError(this, 'targetCpuUtilizationPercent', cpuTarget, 'must be a whole number from 1 to 100', 'pick the CPU utilization to hold pods at, e.g. 70');
    }
    const drainRange = integerRange(DRAIN_TIMEOUT_ENV);
    const drainMs = drain.toMilliseconds({ integral: false });
    if (!Number.isInteger(drainMs)) {
      throw new PlatformError(this, 'drainTimeout', `${drainMs}ms`, `must be a whole number of milliseconds (the server reads ${DRAIN_TIMEOUT_ENV} as one)`,
        `round drainTimeout to whole milliseconds, e.g. Duration.millis(${Math.round(drainMs)})`);
    }
    if (drain.toMilliseconds() < drainRange.min || drain.toMilliseconds() > drainRange.max) {
      throw new PlatformError(this, 'drainTimeout', `${drain.toMilliseconds()}ms`, `must be from ${drainRange.min} to ${drainRange.max} ms: the inference server refuses a longer ${DRAIN_TIMEOUT_ENV} and would not start`,
        'shorten drainTimeout (and let the HPA add replicas instead of draining longer)');
    }
    // The server gives up on the drain 1 s after drainTimeout and answers what is left with 503: the
    // kill must come after that.
    if (grace.toMilliseconds() < drainAndPause + 2000) {
      throw new PlatformError(this, 'terminationGracePeriod', `${grace.toSeconds()}s`,
        `must be at least preStopDelay + drainTimeout + 2s (${preStop.toMilliseconds() / 1000}s + ${drain.toMilliseconds() / 1000}s + 2s): the server answers what is left 1 s after the drain time, and Kubernetes must not kill it first`,
        `raise terminationGracePeriod to at least ${Math.ceil((drainAndPause + 2000) / 1000)}s or shorten drainTimeout`);
    }
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(modelName)) {
      throw new PlatformError(this, 'modelName', modelName, 'must be 1 to 100 letters, digits, ., _ or -, starting with a letter or digit (it is the {name} segment of the server URLs /v2/models/{name}/..., where these characters need no encoding)', 'pass a name such as fraud-mlp');
    }
    validateBudget(this, budget, this.minReplicas);
    // The API server takes user and group ids from 0 to 2^31-1 (apimachinery's IsValidUserID, maxUserID = math.MaxInt32).
    if (!Number.isInteger(user) || user < 1) {
      throw new PlatformError(this, 'runAsUser', user, 'must be a whole number >= 1 (0 is root)', 'pick a non-root uid such as 10001');
    }
    if (user > MAX_USER_ID) {
      throw new PlatformError(this, 'runAsUser', user, `must be a whole number from 1 to ${MAX_USER_ID} (the API server refuses larger user ids)`, 'pick a non-root uid such as 10001');
    }
    const canaryWeight = props.canary?.weightPercent ?? 10;
    if (props.canary && (!Number.isInteger(canaryWeight) || canaryWeight < 1 || canaryWeight > 50)) {
      throw new PlatformError(this, 'canary.weightPercent', canaryWeight, 'must be a whole number from 1 to 50', 'give the canary a minority share; promote it by making its image the stable one');
    }

    // Variables the construct derives from its props (set elsewhere, they would disagree with the probes,
    // the Service or the grace period) or needs unset; the other server variables must hold values the
    // bundled server accepts, or the pods would not start.
    const derived: Record<string, [string, string]> = {
      [DRAIN_TIMEOUT_ENV]: ['drainTimeout, which the grace period is checked against', 'drainTimeout'],
      [PORT_ENV]: ['port, which the probes and the Service use', 'port'],
      PORT: ['port (the server image sets SAGEMAKER_BIND_TO_PORT, which wins over PORT)', 'port'],
      [MODEL_NAME_ENV]: ['modelName', 'modelName'],
    };
    checkImageReference(this, 'image', props.image);
    if (props.canary) checkImageReference(this, 'canary.image', props.canary.image);
    if (props.model?.copyImage !== undefined) checkImageReference(this, 'model.copyImage', props.model.copyImage);
    for (const [field, env] of [['env', props.env], ['canary.env', props.canary?.env]] as const) {
      checkEnvNames(this, field, env);
      validateServerEnvironment(this, field, env, {
        reserved: {
          ...Object.fromEntries(Object.entries(derived).map(([name, [from, prop]]) => [name, {
            reason: `is set by the construct from ${from}`, fix: `remove it from ${field} and set ${prop}`,
          }])),
          MODEL_DIR: {
            reason: `is set by the construct: the model is in ${MODEL_DIR} (baked into the image, or copied there from S3 by the fetch-model init container)`,
            fix: `remove it from ${field}, and choose the model with 'model' (ModelSource.fromS3Uri or ModelSource.fromImage)`,
          },
          HOST: {
            allowed: ['0.0.0.0', '::'],
            reason: 'must be 0.0.0.0 or :: (every address), or unset: the probes, the Service and the NetworkPolicy reach the server on the pod IP, so it cannot listen on one address only',
            fix: `remove it from ${field} (the server then listens on 0.0.0.0, every IPv4 address), or set it to '::' on an IPv6 cluster`,
          },
        },
        // A token (a CfnParameter, an attribute) resolves when the chart is added to the cluster with addCdk8sChart.
        isUnresolved: (value) => Token.isUnresolved(value),
      });
    }
    if (props.canary && props.argoRollout) {
      throw new PlatformError(this, 'argoRollout', 'set', 'cannot be combined with \'canary\' (both run a new version next to the stable one)',
        'use argoRollout steps for the canary, or drop argoRollout and use the second-Deployment canary');
    }
    const argoSteps = props.argoRollout ? (props.argoRollout.steps ?? [
      ArgoCanaryStep.setWeight(20), ArgoCanaryStep.pause(), ArgoCanaryStep.setWeight(50), ArgoCanaryStep.pause(Duration.minutes(10)),
    ]) : [];
    if (props.argoRollout && argoSteps.length === 0) {
      throw new PlatformError(this, 'argoRollout.steps', [], 'must hold at least one step', 'add e.g. ArgoCanaryStep.setWeight(20) and ArgoCanaryStep.pause()');
    }

    // children
    const model = props.model ?? ModelSource.fromImage();
    // cdk8s-plus writes ephemeral storage in whole Gi: the defaults make room for the model in whole GiB.
    const modelSize = model.s3Uri ? model.sizeLimit : undefined;
    const modelGiB = modelSize ? Math.ceil(modelSize.toGibibytes({ rounding: SizeRoundingBehavior.NONE })) : 0;
    checkContainerSizes(this, props.resources);
    checkObjectName(this, 'serviceAccountName', props.serviceAccountName, 'give the name of the service account that may read the model');
    checkRequestsWithinLimits(this, props.resources);
    // The bundled server sizes its inference threads from its cgroup's CPU quota, which only a CPU limit
    // sets: without one it starts a thread per CPU of the node (64 on a 64-CPU node), however few the pod
    // requests, and onnxruntime's threads then wait on each other whenever the node is busy. A thread
    // count in the environment sizes them instead (a token is left to deployment).
    const cpu = props.resources?.cpu;
    if (cpu && !cpu.limit) {
      const envs: Array<[string, Record<string, string> | undefined]> = [['env', props.env]];
      if (props.canary) envs.push(['canary.env', { ...(props.env ?? {}), ...(props.canary.env ?? {}) }]);
      for (const [field, env] of envs) {
        if (env?.INTRA_OP_NUM_THREADS) continue;
        throw new PlatformError(this, 'resources.cpu.limit', undefined,
          `must be set with the bundled server: it sizes its inference threads (workers x onnxruntime intra-op threads) from the container's CPU limit, and without one from every CPU of the node, however few the pod requests${cpu.request ? ` (${cpu.request.amount})` : ''}`,
          `set resources.cpu.limit (e.g. equal to the request), or set INTRA_OP_NUM_THREADS (and INFERENCE_WORKERS, where batching is off) in ${field}`);
      }
    }
    const storageLimit = props.resources?.ephemeralStorage?.limit;
    if (storageLimit && modelSize && storageLimit.toMebibytes() <= modelSize.toMebibytes()) {
      throw new PlatformError(this, 'resources.ephemeralStorage.limit', storageLimit.asString(),
        `must be above the model volume's sizeLimit (${modelSize.toMebibytes()}Mi): the model copied from S3 lands on a disk-backed volume that counts against it, and the kubelet evicts the pod once it is outgrown`,
        `raise the limit to at least Size.gibibytes(${modelGiB + 1}), or lower the model's sizeLimit`);
    }
    const serviceAccount = props.serviceAccountName
      ? kplus.ServiceAccount.fromServiceAccountName(this, 'ServiceAccount', props.serviceAccountName)
      : undefined;
    const buildDeployment = (id2: string, name: string, image: string, track: string, env: Record<string, string>, replicas?: number) => {
      const labels = { [LABEL_APP_NAME]: this.name, [LABEL_TRACK]: track };
      const deployment = new kplus.Deployment(this, id2, {
        metadata: { name, labels },
        podMetadata: {
          labels,
          annotations: {
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(this.port),
            'prometheus.io/path': '/metrics',
            // cluster-autoscaler never removes a node holding a pod with an emptyDir (its default
            // --skip-nodes-with-local-storage=true), so one serving pod would keep an underused node, GPUs and
            // all, for good. These volumes hold scratch files and a copy of the model that the init container
            // fetches again: losing them with the pod loses nothing (cluster-autoscaler FAQ, "What types of pods
            // can prevent CA from removing a node?"). The PodDisruptionBudget still paces the evictions.
            [CA_SAFE_TO_EVICT_LOCAL_VOLUMES]: model.s3Uri ? 'model,tmp' : 'tmp',
            // Only the fetch-model init container needs the service account's AWS role. EKS's pod identity webhook
            // puts the credentials (IRSA's web identity token, or EKS Pod Identity's container credentials) into
            // every container it is not told to skip; the server makes no AWS call, and a flaw in it should not
            // reach the model bucket.
            ...(model.s3Uri ? { [EKS_SKIP_CONTAINERS]: SERVER_CONTAINER } : {}),
          },
        },
        replicas,
        progressDeadline,
        strategy: kplus.DeploymentStrategy.rollingUpdate({
          maxSurge: kplus.PercentOrAbsolute.absolute(1),
          maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
        }),
        serviceAccount,
        automountServiceAccountToken: false,
        terminationGracePeriod: grace,
        securityContext: {
          user, group: user, fsGroup: user, ensureNonRoot: true,
          // The server runs non-root with every capability dropped: below the pod's first unprivileged
          // port (1024 unless the runtime lowers it) listen fails with EACCES. A safe, namespaced sysctl
          // that the restricted Pod Security Standard allows.
          sysctls: this.port < PRIVILEGED_PORTS_END ? [{ name: UNPRIVILEGED_PORT_START, value: String(this.port) }] : undefined,
        },
        spread: false,
        // The selector is the service name and track, not cdk8s-plus's `cdk8s.io/metadata.addr` label (derived from
        // the construct path): a Deployment's selector cannot change, so moving or renaming the construct in the
        // code would make every later apply fail.
        select: false,
      });
      deployment.select(kplus.LabelSelector.of({ labels }));
      dropPathLabel(deployment);
      const tmp = kplus.Volume.fromEmptyDir(deployment, 'TmpVolume', 'tmp', { sizeLimit: Size.gibibytes(1) });
      const container = deployment.addContainer({
        name: SERVER_CONTAINER,
        image,
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        portNumber: this.port,
        envVariables: Object.fromEntries(Object.entries({
          ...env,
          [DRAIN_TIMEOUT_ENV]: String(drain.toMilliseconds()),
          [PORT_ENV]: String(this.port),
          [MODEL_NAME_ENV]: modelName,
        })
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => [k, kplus.EnvValue.fromValue(v)])),
        resources: {
          cpu: props.resources?.cpu ?? { request: kplus.Cpu.units(1), limit: kplus.Cpu.units(2) },
          memory: props.resources?.memory ?? { request: Size.gibibytes(4), limit: Size.gibibytes(4) },
          // A disk-backed emptyDir counts against the pod's ephemeral-storage limit: make room for the model.
          ephemeralStorage: props.resources?.ephemeralStorage ?? {
            request: Size.gibibytes(1 + modelGiB),
            limit: Size.gibibytes(2 + modelGiB),
          },
        },
        securityContext: {
          user,
          group: user,
          ensureNonRoot: true,
          privileged: false,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: [kplus.Capability.ALL] },
          seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
        },
        startup: kplus.Probe.fromHttpGet('/v2/health/ready', {
          port: this.port,
          periodSeconds: Duration.seconds(10),
          timeoutSeconds: Duration.seconds(2),
          failureThreshold: Math.max(1, Math.ceil(startupTimeout.toSeconds({ integral: false }) / 10)),
        }),
        readiness: kplus.Probe.fromHttpGet('/v2/health/ready', {
          port: this.port,
          periodSeconds: Duration.seconds(5),
          timeoutSeconds: Duration.seconds(2),
          failureThreshold: 2,
        }),
        liveness: kplus.Probe.fromHttpGet('/v2/health/live', {
          port: this.port,
          periodSeconds: Duration.seconds(10),
          timeoutSeconds: Duration.seconds(2),
          failureThreshold: 3,
        }),
        // cdk8s-plus-28 has no sleep handler: the sleep action is added to the rendered manifest below.
        lifecycle: preStop.toSeconds() > 0 && preStopPause === PreStopPause.SLEEP_COMMAND
          ? { preStop: kplus.Handler.fromCommand(['sleep', String(preStop.toSeconds())]) } : undefined,
      });
      container.mount('/tmp', tmp);
      if (model.s3Uri) {
        const modelVolume = kplus.Volume.fromEmptyDir(deployment, 'ModelVolume', 'model', { sizeLimit: model.sizeLimit });
        container.mount(MODEL_DIR, modelVolume, { readOnly: true });
        const copy = deployment.addInitContainer({
          name: 'fetch-model',
          image: model.copyImage!,
          imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
          command: model._copyCommand(MODEL_DIR),
          envVariables: { HOME: kplus.EnvValue.fromValue('/tmp') },
          resources: {
            cpu: { request: kplus.Cpu.millis(500), limit: kplus.Cpu.units(1) },
            memory: { request: Size.mebibytes(512), limit: Size.gibibytes(1) },
          },
          securityContext: {
            user, group: user, ensureNonRoot: true, privileged: false, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false,
            capabilities: { drop: [kplus.Capability.ALL] },
            seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
          },
        });
        copy.mount(MODEL_DIR, modelVolume);
        copy.mount('/tmp', tmp);
      }
      const api = ApiObject.of(deployment);
      if (preStop.toSeconds() > 0 && preStopPause === PreStopPause.SLEEP_ACTION) {
        // A zero-second sleep action needs Kubernetes 1.33 (PodLifecycleSleepActionAllowZero): no pause, no hook.
        const seconds = preStop.toSeconds();
        editRendered<{ spec: { template: { spec: { containers: object[] } } } }>(api, (json) => {
          const containers = json.spec.template.spec.containers;
          containers[0] = sortedKeys({ ...containers[0], lifecycle: { preStop: { sleep: { seconds } } } });
        });
      }
      // cdk8s-plus renders no pod-level seccomp profile; set it so every container inherits RuntimeDefault.
      api.addJsonPatch(JsonPatch.add('/spec/template/spec/securityContext/seccompProfile', { type: 'RuntimeDefault' }));
      if (props.spread ?? true) {
        const selector = { matchLabels: labels };
        api.addJsonPatch(JsonPatch.add('/spec/template/spec/topologySpreadConstraints', [
          { maxSkew: 1, topologyKey: LABEL_ZONE, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: selector },
          { maxSkew: 1, topologyKey: LABEL_HOSTNAME, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: selector },
        ]));
      }
      return deployment;
    };

    // An empty ORT_EXECUTION_PROVIDERS counts as unset, so `cuda` on NVIDIA nodes (or the image's default) applies.
    this.deployment = buildDeployment('Resource', this.name, props.image, 'stable', withoutEmptyUnset(props.env ?? {}));
    this.canaryReplicas = props.canary ? Math.max(1, Math.round(this.minReplicas * canaryWeight / (100 - canaryWeight))) : 0;
    if (props.canary) {
      this.canaryDeployment = buildDeployment('Canary', `${this.name}-canary`, props.canary.image, 'canary',
        withoutEmptyUnset({ ...(props.env ?? {}), ...(props.canary.env ?? {}) }), this.canaryReplicas);
    }

    this.service = new kplus.Service(this, 'Service', {
      metadata: { name: this.name, labels: { [LABEL_APP_NAME]: this.name } },
      type: kplus.ServiceType.CLUSTER_IP,
      ports: [{ name: 'http', port: this.servicePort, targetPort: this.port }],
    });
    this.service.selectLabel(LABEL_APP_NAME, this.name);

    this.autoscaler = new kplus.HorizontalPodAutoscaler(this, 'Autoscaler', {
      metadata: { name: this.name },
      target: this.deployment,
      minReplicas: this.minReplicas,
      maxReplicas,
      metrics: [
        kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(cpuTarget)),
        ...(props.scalingMetric ? [props.scalingMetric._toKplus()] : []),
      ],
      scaleUp: props.scaleUp ?? {
        stabilizationWindow: Duration.seconds(0),
        strategy: kplus.ScalingStrategy.MAX_CHANGE,
        policies: [
          { replicas: kplus.Replicas.percent(100), duration: Duration.minutes(1) },
          { replicas: kplus.Replicas.absolute(4), duration: Duration.minutes(1) },
        ],
      },
      scaleDown: props.scaleDown ?? {
        stabilizationWindow: Duration.minutes(5),
        strategy: kplus.ScalingStrategy.MIN_CHANGE,
        policies: [{ replicas: kplus.Replicas.absolute(1), duration: Duration.minutes(2) }],
      },
    });

    if (props.argoRollout) {
      this.rollout = new ApiObject(this, 'Rollout', {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        metadata: { name: this.name, labels: { [LABEL_APP_NAME]: this.name } },
        spec: {
          selector: { matchLabels: { [LABEL_APP_NAME]: this.name, [LABEL_TRACK]: 'stable' } },
          // workloadRef.scaleDown is new in Argo Rollouts 1.7 (CHANGELOG v1.7.0-rc1: "automatically scale down Deployment
          // after migrating to Rollout", argoproj/argo-rollouts#3111): an older CRD drops it, and the Deployment keeps its pods.
          workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.name, scaleDown: 'progressively' },
          revisionHistoryLimit: 3,
          progressDeadlineSeconds: progressDeadline.toSeconds(),
          strategy: { canary: { maxSurge: 1, maxUnavailable: 0, steps: argoSteps.map((step) => step._step) } },
        },
      });
      // The Rollout owns the pods now: the autoscaler scales it, not the Deployment.
      ApiObject.of(this.autoscaler).addJsonPatch(JsonPatch.replace('/spec/scaleTargetRef', {
        apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: this.name,
      }));
    }

    this.podDisruptionBudget = new kplus.k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: { name: this.name },
      spec: {
        selector: { matchLabels: { [LABEL_APP_NAME]: this.name } },
        [budget.field]: budget.isPercent ? kplus.k8s.IntOrString.fromString(`${budget.value}%`) : kplus.k8s.IntOrString.fromNumber(budget.value),
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });

    if (props.metricsScraper && !props.allowFrom) {
      throw new PlatformError(this, 'metricsScraper', 'given', 'applies only with allowFrom: without it no NetworkPolicy is made, and every pod may reach the server and its /metrics',
        'pass allowFrom (the peers that may call the server) to restrict ingress, or drop metricsScraper');
    }
    if (props.allowFrom) {
      const scraper = props.metricsScraper ?? IngressPeer.namespace('monitoring');
      const ports = [{ protocol: 'TCP', port: kplus.k8s.IntOrString.fromNumber(this.port) }];
      this.networkPolicy = new kplus.k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
        metadata: { name: this.name },
        spec: {
          podSelector: { matchLabels: { [LABEL_APP_NAME]: this.name } },
          policyTypes: ['Ingress'],
          ingress: [
            ...(props.allowFrom.length > 0 ? [{ from: props.allowFrom.map((p) => p._peer), ports }] : []),
            { from: [scraper._peer], ports },
          ],
        },
      });
    }

    if (props.nodes) {
      this.runOn(props.nodes, props.nodeOptions);
    }

    // On CPU nodes (no nodes and no runOn, which may come after construction: checked when the app is
    // synthesized) a provider list without cpu loads nothing, and the server refuses to start.
    this.node.addValidation({
      validate: () => {
        if (this.nodes) return [];
        const errors = unusedNodeOptions('service', [
          ['nodeOptions.accelerators', props.nodeOptions?.accelerators], ['nodeOptions.preferCapacity', props.nodeOptions?.preferCapacity],
        ]);
        for (const deployment of [this.deployment, this.canaryDeployment]) {
          const providers = this.literalProviders(deployment);
          if (providers === undefined || listsProvider(providers, 'cpu')) continue;
          errors.push(new PlatformError(undefined, this.providersField(deployment), providers,
            'must list cpu on CPU nodes (the service has no nodes and no runOn): CUDA cannot load there, so the bundled server would refuse to start',
            'add cpu (\'cpu\', or \'cuda,cpu\'), or run the service on NVIDIA nodes with nodes or runOn').message);
        }
        return errors;
      },
    });
  }

  /**
   * Runs the server (stable and canary) on these accelerator nodes: accelerator requests and limits,
   * tolerations for the nodes' taints, required node affinity on their labels (and optionally a
   * preferred capacity type). An accelerator count above what the nodes have is an error. On NVIDIA
   * nodes the server is told `ORT_EXECUTION_PROVIDERS=cuda` unless `env` (or `canary.env`) sets it:
   * a pod that cannot load CUDA then fails to start, logging a message that names CUDA. AWS Neuron
   * nodes are an error unless the server's env sets `ORT_EXECUTION_PROVIDERS` to a list with `cpu` (the
   * bundled server has no Neuron provider, and would serve on the nodes' CPUs). A service runs
   * on one node group: a second call (after `nodes` or an earlier `runOn`) is an error.
   */
  public runOn(nodes: IAcceleratorNodes, options: RunOnOptions = this.nodeOptions ?? {}): void {
    // Scheduling only adds (limits, tolerations, affinity, the CUDA requirement): a second call would
    // merge two node groups' settings into one pod spec.
    if (this.nodes) {
      throw new PlatformError(this, 'runOn', { vendor: nodes.vendor, labels: nodes.nodeLabels },
        `cannot be called again: a service runs on one node group, and it already runs on ${this.nodes.vendor} nodes labeled ${JSON.stringify(this.nodes.nodeLabels)} (from 'nodes' or an earlier runOn)`,
        'call runOn once (or pass nodes), and create another InferenceService for another node group');
    }
    // The bundled server has onnxruntime's CPU and CUDA providers only: on Neuron nodes it would hold
    // Inferentia or Trainium devices and serve on the nodes' CPUs. Only an explicit choice passes.
    if (nodes.vendor === AcceleratorVendor.AWS_NEURON) {
      for (const deployment of [this.deployment, this.canaryDeployment]) {
        if (deployment && !Object.hasOwn(deployment.containers[0].env.variables, EXECUTION_PROVIDERS_ENV)) {
          throw new PlatformError(this, 'nodes', { vendor: nodes.vendor, labels: nodes.nodeLabels },
            `are AWS Neuron nodes, and the bundled server has no Neuron execution provider (onnxruntime's CPU and CUDA providers only): its pods${deployment === this.canaryDeployment ? ' (the canary\'s)' : ''} would hold Neuron devices and serve on the nodes' CPUs`,
            `serve the model on NVIDIA nodes, or on CPU nodes (leave out nodes); to run it on these nodes' CPUs all the same, set ${EXECUTION_PROVIDERS_ENV}: 'cpu' in env${this.canaryDeployment ? ' (canary.env inherits it unless it empties it)' : ''}`);
        }
        // Set, it must let the server fall back to the CPU: no other provider it has loads there.
        const providers = this.literalProviders(deployment);
        if (providers !== undefined && !listsProvider(providers, 'cpu')) {
          throw new PlatformError(this, this.providersField(deployment), providers,
            'must list cpu on AWS Neuron nodes: the bundled server has only onnxruntime\'s CPU and CUDA providers, and CUDA cannot load there, so its pods would not start',
            `set ${EXECUTION_PROVIDERS_ENV}: 'cpu'`);
        }
      }
    }
    this.nodes = nodes;
    for (const deployment of [this.deployment, this.canaryDeployment]) {
      if (!deployment) continue;
      // Errors name the prop the count came from: nodeOptions when runOn uses them, else runOn's options.
      applyAcceleratorScheduling(this, deployment, nodes, options, options === this.nodeOptions ? 'nodeOptions.accelerators' : 'accelerators');
      // CUDA only, with no CPU fallback: a pod that cannot use the GPU (the CPU image, a broken driver)
      // then fails to start, instead of passing readiness and holding a billed GPU while running on the CPU.
      const server = deployment.containers[0];
      if (nodes.vendor === AcceleratorVendor.NVIDIA && !Object.hasOwn(server.env.variables, EXECUTION_PROVIDERS_ENV)) {
        server.env.addVariable(EXECUTION_PROVIDERS_ENV, kplus.EnvValue.fromValue('cuda'));
      }
    }
  }

  /** A deployment's `ORT_EXECUTION_PROVIDERS` when it is a literal list; undefined when unset, empty or a token. */
  private literalProviders(deployment: kplus.Deployment | undefined): string | undefined {
    const value: unknown = deployment?.containers[0].env.variables[EXECUTION_PROVIDERS_ENV]?.value;
    return typeof value === 'string' && value !== '' && !Token.isUnresolved(value) ? value : undefined;
  }

  /** The prop that sets a deployment's `ORT_EXECUTION_PROVIDERS`, for error messages. */
  private providersField(deployment: kplus.Deployment | undefined): string {
    return `${deployment === this.canaryDeployment ? 'canary.env' : 'env'}.${EXECUTION_PROVIDERS_ENV}`;
  }

  /** The chart this service belongs to. */
  public get chart(): Chart {
    return Chart.of(this);
  }
}

function validateBudget(scope: Construct, budget: DisruptionBudget, minReplicas: number): void {
  const v = budget.value;
  if (!Number.isInteger(v) || v < 0 || (budget.isPercent && v > 100)) {
    throw new PlatformError(scope, 'disruptionBudget', budget.toString(), budget.isPercent ? 'must be a whole percentage from 0 to 100' : 'must be a whole number >= 0', 'pick a valid budget, e.g. DisruptionBudget.maxUnavailable(1)');
  }
  const blocks = budget.field === 'maxUnavailable'
    ? v === 0
    : (budget.isPercent ? v >= 100 : v >= minReplicas);
  if (blocks) {
    throw new PlatformError(scope, 'disruptionBudget', budget.toString(),
      `would allow no eviction when the service runs its minReplicas (${minReplicas}) pods, so node drains and upgrades would hang`,
      budget.field === 'maxUnavailable'
        ? 'allow at least one unavailable pod, e.g. DisruptionBudget.maxUnavailable(1)'
        : `use minAvailable below ${minReplicas}, or raise minReplicas`);
  }
}
