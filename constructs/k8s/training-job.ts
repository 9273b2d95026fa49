import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PlatformError, requireProp } from '../../lib/private/errors';
import { CA_SAFE_TO_EVICT } from '../../lib/private/labels';
import { IAcceleratorNodes } from '../compute/accelerator-nodes';
import { Capacity } from '../compute/capacity';
import { applyAcceleratorScheduling } from './accelerator-scheduling';
import { claimAppName } from './private/app-name-label';
import { checkEnvNames } from './private/env-names';
import { checkImageReference } from './private/image-reference';
import { checkObjectName } from './private/object-name';
import { checkRequestsWithinLimits } from './private/requests-within-limits';
import { dropPathLabel } from './private/stable-pod-labels';
import { unusedNodeOptions } from './private/unused-node-options';
import { MAX_USER_ID } from './private/user-id';
import { checkWholeSeconds } from './private/whole-seconds';
import { checkContainerSizes, checkWholeSize } from './private/whole-size';

/** Environment variable that tells the trainer where to write and resume checkpoints. */
export const CHECKPOINT_DIR_ENV = 'CHECKPOINT_DIR';
/** Annotation by which Flux recreates an object whose immutable fields changed, instead of failing to apply it. */
export const FLUX_FORCE = 'kustomize.toolkit.fluxcd.io/force';
/** Pod annotation by which Karpenter does not voluntarily disrupt (drift, consolidate) the pod's node. */
export const KARPENTER_DO_NOT_DISRUPT = 'karpenter.sh/do-not-disrupt';
/**
 * Exit code of a trainer stopped by SIGTERM (128 + 15), and the one it exits with after its last checkpoint. The
 * job retries it without counting it against `backoffLimit`.
 */
export const SIGTERM_EXIT_CODE = 143;
/** Where the checkpoint volume is mounted. */
export const CHECKPOINT_MOUNT_PATH = '/checkpoints';

/**
 * The default grace period of training pods: time for a last checkpoint after SIGTERM, within the two-minute
 * spot notice. A spot `GpuNodePool` drains its nodes within as long.
 */
export const TRAINING_GRACE_SECONDS = 90;

/**
 * Where checkpoints live. They must outlive a pod: a spot interruption kills the pod, and the
 * replacement resumes from the last checkpoint.
 */
export class CheckpointStorage {
  /**
   * A PersistentVolumeClaim created with the job. Use a storage class whose volumes can follow a pod to
   * another node in the same zone (EBS) or any zone (EFS, FSx for Lustre; required for `parallelism` > 1).
   */
  public static newClaim(options: NewClaimOptions = {}): CheckpointStorage {
    checkWholeSize(undefined, 'size', options.size, 'GiB', 'cdk8s-plus writes a claim\'s storage in Gi');
    checkObjectName(undefined, 'storageClassName', options.storageClassName, 'give the name of a StorageClass of the cluster (kubectl get storageclass)');
    // The API server refuses a claim of zero storage ("must be greater than zero"), and EBS volumes start at 1 GiB.
    if (options.size && options.size.toGibibytes() < 1) {
      throw new PlatformError(undefined, 'size', options.size.asString(), 'must be at least 1 GiB (the API server refuses an empty claim)', 'give the space the checkpoints need, e.g. Size.gibibytes(100)');
    }
    return new CheckpointStorage(undefined, options);
  }

  /** A PersistentVolumeClaim that already exists in the namespace. */
  public static existingClaim(claimName: string): CheckpointStorage {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(claimName)) {
      throw new PlatformError(undefined, 'claimName', claimName, 'must be a Kubernetes object name', 'pass the name of the PersistentVolumeClaim');
    }
    return new CheckpointStorage(claimName, undefined);
  }

  private constructor(
    public readonly claimName: string | undefined,
    public readonly newClaimOptions: NewClaimOptions | undefined,
  ) {}
}

/** Options for `CheckpointStorage.newClaim`. */
export interface NewClaimOptions {
  /**
   * Size of the claim, a whole number of GiB.
   * @default Size.gibibytes(100)
   */
  readonly size?: Size;
  /**
   * The StorageClass of the claim. A ReadWriteMany claim (the default with `parallelism` > 1) must name
   * one whose volumes several nodes can mount at once (Amazon EFS, FSx for Lustre): synthesis fails
   * without it, since the default class of an EKS cluster (`gp3` on AiPlatformStack) is Amazon EBS.
   * @default - the cluster's default storage class
   */
  readonly storageClassName?: string;
  /**
   * Access mode of the claim.
   * @default - ReadWriteOnce for one pod at a time, ReadWriteMany when `parallelism` > 1
   */
  readonly accessMode?: kplus.PersistentVolumeAccessMode;
}

/** Properties of a `TrainingJob`. */
export interface TrainingJobProps {
  /** Training image: not empty, no whitespace. */
  readonly image: string;
  /**
   * Name of the Job (and of its checkpoint claim, with `-checkpoints`).
   * @default - the construct id, lower-cased
   */
  readonly name?: string;
  /** @default - the image's entrypoint */
  readonly command?: string[];
  /** @default - the image's arguments */
  readonly args?: string[];
  /**
   * Environment for the trainer. `HOME` may be set (default `/tmp`, since the root filesystem is read-only).
   * `/tmp` holds at most 10 GiB: a trainer that writes more is evicted (see the README, "TrainingJob"), so point
   * large caches at the checkpoint volume (e.g. `HF_HOME: '/checkpoints/hf'`).
   * Names are printable ASCII without `=` (what the API server takes).
   * @default - CHECKPOINT_DIR, and HOME=/tmp
   */
  readonly env?: Record<string, string>;
  /**
   * Accelerator nodes to train on (usually spot): accelerator requests, tolerations, node affinity.
   * @default - CPU only (or call `runOn` later)
   */
  readonly nodes?: IAcceleratorNodes;
  /**
   * Accelerators per pod (with `nodes` or `runOn`; set without either, synthesis fails).
   * @default 1
   */
  readonly acceleratorsPerPod?: number;
  /**
   * Prefer this capacity type and fall back to the other (only with `nodes` or `runOn`: set without either, synthesis
   * fails; the fallback needs nodes of the other capacity type that carry every other label of `nodes`, see
   * `RunOnOptions.preferCapacity`).
   * @default - the nodes' capacity type is required
   */
  readonly preferCapacity?: Capacity;
  /**
   * Successful pods needed to finish the job.
   * @default 1
   */
  readonly completions?: number;
  /**
   * Pods running at once, at most `completions`. The pods are interchangeable (completion mode `NonIndexed`): no
   * index, no stable host names, no Service, one `CHECKPOINT_DIR`. Multi-node distributed training (torchrun's
   * rendezvous) needs more than this job gives; see the README.
   * @default 1
   */
  readonly parallelism?: number;
  /**
   * Failed pods (not counting node disruptions such as spot interruptions, nor a trainer that exits 143 after
   * SIGTERM) before the job fails.
   * @default 6
   */
  readonly backoffLimit?: number;
  /**
   * Exit codes that mean the failure will not go away on retry (bad configuration): the job fails at once.
   * 1-255 except 143 (SIGTERM, retried without counting), in any order; a code given twice is listed once.
   * @default - none
   */
  readonly nonRetryableExitCodes?: number[];
  /**
   * Longest the job may run, retries included; then Kubernetes stops it.
   * @default Duration.hours(24)
   */
  readonly activeDeadline?: Duration;
  /**
   * How long a finished job (and its pods, for their logs) stays before Kubernetes deletes it
   * (`ttlSecondsAfterFinished`). Leave it unset when Argo CD (with self-heal) or Flux applies the job: they
   * recreate a Job that is missing from the cluster, which runs the training again after every deletion.
   * @default - the finished job stays until it is deleted (or removed from the applied manifests)
   */
  readonly ttlAfterFinished?: Duration;
  /**
   * Where checkpoints are kept; mounted at `/checkpoints`, named by `CHECKPOINT_DIR`.
   * @default CheckpointStorage.newClaim()
   */
  readonly checkpoints?: CheckpointStorage;
  /**
   * Time between SIGTERM and SIGKILL, for the trainer to write a last checkpoint. A spot interruption
   * gives two minutes' notice, so keep it below that. After that checkpoint the trainer must exit with 143:
   * a pod whose container exits 0 has succeeded, and the job would count the interrupted training as one of
   * its completions; another non-zero status counts against `backoffLimit` when the pod was deleted without
   * the `DisruptionTarget` condition (as Karpenter deletes `karpenter.sh/do-not-disrupt` pods).
   * @default Duration.seconds(90)
   */
  readonly terminationGracePeriod?: Duration;
  /**
   * CPU and memory of the trainer. cdk8s-plus writes memory in Mi: a size that is no whole number of MiB fails
   * synthesis.
   * @default - request 4 CPUs / 16 GiB, limit 8 CPUs / 16 GiB
   */
  readonly resources?: {
    readonly cpu?: kplus.CpuResources;
    readonly memory?: kplus.MemoryResources;
  };
  /**
   * User and group id the trainer runs as.
   * @default 10001
   */
  readonly runAsUser?: number;
  /**
   * Service account (e.g. for S3 access through IRSA). Its token is not mounted.
   * @default - the namespace's default service account
   */
  readonly serviceAccountName?: string;
}

/**
 * A Kubernetes Job for training on spot accelerator nodes.
 *
 * Node disruptions (spot interruptions, drains, consolidation) do not count against `backoffLimit`:
 * the `podFailurePolicy` ignores failures with the `DisruptionTarget` condition, and those of a trainer
 * that exits 143 after SIGTERM (Karpenter deletes the pods it may not evict without that condition); the replacement
 * pod resumes from the checkpoint volume named by `CHECKPOINT_DIR`. The pods carry
 * `karpenter.sh/do-not-disrupt: "true"`, so Karpenter does not drift or consolidate a node while a
 * training runs on it. Spot interruptions and node expiry still stop it: Karpenter then deletes the pod
 * when the pool's `terminationGracePeriod` less the pod's is left (a spot `GpuNodePool` sets 90 s, so the
 * pod gets SIGTERM as the drain starts).
 *
 * @example
 * new TrainingJob(chart, 'Train', {
 *   image: 'registry.example.com/trainer:2.1',
 *   nodes: trainingNodes,
 *   completions: 1,
 *   activeDeadline: Duration.hours(12),
 * });
 *
 * @see https://kubernetes.io/docs/concepts/workloads/controllers/job/#pod-failure-policy
 */
export class TrainingJob extends Construct {
  /** The Job. */
  public readonly job: kplus.Job;
  /** The checkpoint claim, when the job created one. */
  public readonly checkpointClaim?: kplus.PersistentVolumeClaim;
  /** Name of the Job. */
  public readonly name: string;

  private readonly acceleratorsPerPod?: number;
  private readonly preferCapacity?: Capacity;
  private nodes?: IAcceleratorNodes;

  constructor(scope: Construct, id: string, props: TrainingJobProps) {
    super(scope, id);
    requireProp(this, 'image', props?.image, 'string', 'the training image: a container image reference such as "registry/name:tag"');

    // defaults
    this.name = props.name ?? id.toLowerCase().replace(/[^a-z0-9-]/g, '-');
    claimAppName(this, 'TrainingJob', this.name);
    const completions = props.completions ?? 1;
    const parallelism = props.parallelism ?? 1;
    const backoffLimit = props.backoffLimit ?? 6;
    const grace = props.terminationGracePeriod ?? Duration.seconds(TRAINING_GRACE_SECONDS);
    const user = props.runAsUser ?? 10001;
    const checkpoints = props.checkpoints ?? CheckpointStorage.newClaim();
    this.acceleratorsPerPod = props.acceleratorsPerPod;
    this.preferCapacity = props.preferCapacity;

    // validate
    if (!/^[a-z]([-a-z0-9]{0,50}[a-z0-9])?$/.test(this.name)) {
      throw new PlatformError(this, 'name', this.name, 'must be a DNS label of at most 52 characters', 'pass a shorter lower-case name');
    }
    if (!Number.isInteger(completions) || completions < 1) {
      throw new PlatformError(this, 'completions', completions, 'must be a whole number >= 1', 'give the number of pods that must succeed');
    }
    if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > completions) {
      throw new PlatformError(this, 'parallelism', parallelism, `must be a whole number from 1 to 'completions' (${completions})`, 'lower parallelism or raise completions');
    }
    // Several pods at once share the checkpoint claim, so it is ReadWriteMany. Left to the cluster's default
    // class (gp3, Amazon EBS, on AiPlatformStack) such a claim is never provisioned: EBS volumes attach to one
    // node at a time, and the job's pods would stay Pending with no error at synthesis or deployment.
    const claimAccess = checkpoints.newClaimOptions?.accessMode
      ?? (parallelism > 1 ? kplus.PersistentVolumeAccessMode.READ_WRITE_MANY : kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE);
    if (checkpoints.newClaimOptions && !checkpoints.newClaimOptions.storageClassName && claimAccess === kplus.PersistentVolumeAccessMode.READ_WRITE_MANY) {
      throw new PlatformError(this, 'checkpoints', 'CheckpointStorage.newClaim() on the default StorageClass',
        `must name a StorageClass that provisions ReadWriteMany volumes${parallelism > 1 ? ` for 'parallelism' ${parallelism}` : ''} (the cluster's default, gp3 on AiPlatformStack, is Amazon EBS, which attaches a volume to one node at a time)`,
        "pass CheckpointStorage.newClaim({ storageClassName: 'efs-sc' }) naming an Amazon EFS or FSx for Lustre class, or CheckpointStorage.existingClaim(name)");
    }
    if (!Number.isInteger(backoffLimit) || backoffLimit < 0) {
      throw new PlatformError(this, 'backoffLimit', backoffLimit, 'must be a whole number >= 0', 'give the number of real failures to tolerate');
    }
    const badCode = (props.nonRetryableExitCodes ?? []).find((c) => !Number.isInteger(c) || c < 1 || c > 255);
    if (badCode !== undefined) {
      throw new PlatformError(this, 'nonRetryableExitCodes', props.nonRetryableExitCodes, 'must be exit codes from 1 to 255 (0 means success)', `remove ${badCode}`);
    }
    if (props.nonRetryableExitCodes?.includes(SIGTERM_EXIT_CODE)) {
      throw new PlatformError(this, 'nonRetryableExitCodes', props.nonRetryableExitCodes,
        `must not hold ${SIGTERM_EXIT_CODE}, the exit code of a trainer stopped by SIGTERM (a spot interruption, a drain), which the job retries without counting`,
        `remove ${SIGTERM_EXIT_CODE}`);
    }
    checkWholeSeconds(this, [['terminationGracePeriod', grace], ['activeDeadline', props.activeDeadline], ['ttlAfterFinished', props.ttlAfterFinished]]);
    // Kubernetes wants a positive activeDeadlineSeconds (JobSpec: "value must be positive integer"); zero would end the job at once.
    if (props.activeDeadline && props.activeDeadline.toSeconds() < 1) {
      throw new PlatformError(this, 'activeDeadline', `${props.activeDeadline.toSeconds()}s`, 'must be at least 1s (Kubernetes wants a positive activeDeadlineSeconds)',
        'give the longest the training may run, e.g. Duration.hours(24)');
    }
    if (grace.toSeconds() >= 120) {
      throw new PlatformError(this, 'terminationGracePeriod', `${grace.toSeconds()}s`, 'must be below 120s: a spot interruption gives two minutes\' notice, after which the instance is gone', 'checkpoint more often and shorten the grace period');
    }
    checkImageReference(this, 'image', props.image);
    checkEnvNames(this, 'env', props.env);
    if (props.env && CHECKPOINT_DIR_ENV in props.env) {
      throw new PlatformError(this, `env.${CHECKPOINT_DIR_ENV}`, props.env[CHECKPOINT_DIR_ENV], `is set by the construct to the checkpoint volume (${CHECKPOINT_MOUNT_PATH})`, `remove it from env; choose the storage with 'checkpoints'`);
    }
    // The API server takes user and group ids from 0 to 2^31-1 (apimachinery's IsValidUserID, maxUserID = math.MaxInt32).
    if (!Number.isInteger(user) || user < 1) {
      throw new PlatformError(this, 'runAsUser', user, 'must be a whole number >= 1 (0 is root)', 'pick a non-root uid such as 10001');
    }
    if (user > MAX_USER_ID) {
      throw new PlatformError(this, 'runAsUser', user, `must be a whole number from 1 to ${MAX_USER_ID} (the API server refuses larger user ids)`, 'pick a non-root uid such as 10001');
    }
    checkContainerSizes(this, props.resources);
    checkObjectName(this, 'serviceAccountName', props.serviceAccountName, 'give the name of the trainer\'s service account');
    checkRequestsWithinLimits(this, props.resources);

    // children
    this.job = new kplus.Job(this, 'Resource', {
      metadata: {
        name: this.name,
        labels: { 'app.kubernetes.io/name': this.name },
        // A Job's pod template cannot change: applied over the existing Job, a changed spec (a new image) fails,
        // and Flux would fail the whole reconciliation. With this annotation Flux deletes and recreates the Job.
        annotations: { [FLUX_FORCE]: 'enabled' },
      },
      // Kubernetes selects a Job's pods itself; the label cdk8s-plus would select them by is dropped below.
      select: false,
      podMetadata: {
        labels: { 'app.kubernetes.io/name': this.name },
        // Karpenter drifts nodes (every AMI release with an `@latest` alias) and consolidates them by evicting
        // their pods: a training evicted that way loses its work since the last checkpoint and waits for a new
        // node. Karpenter leaves a node holding such a pod alone (spot interruptions and expiry still apply).
        // cluster-autoscaler likewise, with safe-to-evict "false" (said outright: its emptyDir volumes keep the
        // node only while the autoscaler runs with --skip-nodes-with-local-storage, its default).
        annotations: { [KARPENTER_DO_NOT_DISRUPT]: 'true', [CA_SAFE_TO_EVICT]: 'false' },
      },
      backoffLimit,
      activeDeadline: props.activeDeadline ?? Duration.hours(24),
      ttlAfterFinished: props.ttlAfterFinished,
      terminationGracePeriod: grace,
      automountServiceAccountToken: false,
      serviceAccount: props.serviceAccountName
        ? kplus.ServiceAccount.fromServiceAccountName(this, 'ServiceAccount', props.serviceAccountName)
        : undefined,
      // The checkpoint volume is given to fsGroup once: with the default (Always) the kubelet re-owns every
      // file on it each time a pod starts, which delays the restart after an interruption in proportion
      // to the checkpoints kept. Every pod of the job writes as the same user, so the root's owner suffices.
      securityContext: { user, group: user, fsGroup: user, ensureNonRoot: true, fsGroupChangePolicy: kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH },
    });
    dropPathLabel(this.job);
    const container = this.job.addContainer({
      name: 'trainer',
      image: props.image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command: props.command,
      args: props.args,
      // The root filesystem is read-only, and a uid with no passwd entry gets HOME=/: caches under ~ (the
      // AWS CLI's, Hugging Face's, Triton's, pip's) go to the writable /tmp volume unless env sets HOME.
      envVariables: Object.fromEntries(Object.entries({ HOME: '/tmp', ...(props.env ?? {}), [CHECKPOINT_DIR_ENV]: CHECKPOINT_MOUNT_PATH })
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, kplus.EnvValue.fromValue(v)])),
      resources: {
        cpu: props.resources?.cpu ?? { request: kplus.Cpu.units(4), limit: kplus.Cpu.units(8) },
        memory: props.resources?.memory ?? { request: Size.gibibytes(16), limit: Size.gibibytes(16) },
      },
      securityContext: {
        user, group: user, ensureNonRoot: true, privileged: false, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false,
        capabilities: { drop: [kplus.Capability.ALL] },
        seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
      },
    });
    // Past its sizeLimit the kubelet evicts the pod at once (1-2 s of grace) and with no DisruptionTarget condition
    // (kubernetes pkg/kubelet/eviction/eviction_manager.go, emptyDirLimitEviction passes no condition): a trainer
    // that exits 143 on that SIGTERM is retried without counting, so the README tells large caches to go elsewhere.
    container.mount('/tmp', kplus.Volume.fromEmptyDir(this.job, 'TmpVolume', 'tmp', { sizeLimit: Size.gibibytes(10) }));
    // PyTorch data loaders share memory through /dev/shm, which the container runtime caps at 64 MiB. What is
    // written to a memory-backed emptyDir counts against the container's memory limit.
    container.mount('/dev/shm', kplus.Volume.fromEmptyDir(this.job, 'ShmVolume', 'dshm', { medium: kplus.EmptyDirMedium.MEMORY, sizeLimit: Size.gibibytes(8) }));

    let claim: kplus.IPersistentVolumeClaim;
    if (checkpoints.claimName) {
      claim = kplus.PersistentVolumeClaim.fromClaimName(this, 'CheckpointClaim', checkpoints.claimName);
    } else {
      const o = checkpoints.newClaimOptions ?? {};
      this.checkpointClaim = new kplus.PersistentVolumeClaim(this, 'CheckpointClaim', {
        metadata: { name: `${this.name}-checkpoints` },
        storage: o.size ?? Size.gibibytes(100),
        storageClassName: o.storageClassName,
        accessModes: [claimAccess],
      });
      claim = this.checkpointClaim;
    }
    container.mount(CHECKPOINT_MOUNT_PATH, kplus.Volume.fromPersistentVolumeClaim(this.job, 'CheckpointVolume', claim, { name: 'checkpoints' }));

    // cdk8s-plus-28's Job has no completions, parallelism or podFailurePolicy: patch them in.
    const api = ApiObject.of(this.job);
    api.addJsonPatch(JsonPatch.add('/spec/completions', completions));
    api.addJsonPatch(JsonPatch.add('/spec/parallelism', parallelism));
    // With a podFailurePolicy the API server defaults podReplacementPolicy to Failed, the only value it allows then
    // (batch/v1 SetDefaults_Job; beta and on by default from Kubernetes 1.29, GA in 1.34): the replacement pod is
    // created only once the interrupted one has exited, after its last checkpoint, not beside it.
    api.addJsonPatch(JsonPatch.add('/spec/podFailurePolicy', {
      rules: [
        // Spot interruptions, drains and preemptions mark the pod with DisruptionTarget: retry without counting.
        // The rules are evaluated in order and the first that matches applies.
        { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        // Karpenter never evicts a karpenter.sh/do-not-disrupt pod: on a node it terminates (spot interruption,
        // expiry) it deletes the pod, and a plain delete adds no DisruptionTarget condition (only the Eviction API,
        // preemption, the taint manager, pod GC and the kubelet do; kubernetes-sigs/karpenter#3218). The trainer then
        // exits 143 (SIGTERM), which is retried without counting as well. A trainer killed by SIGKILL (137, also an
        // out-of-memory kill) still counts.
        { action: 'Ignore', onExitCodes: { containerName: 'trainer', operator: 'In', values: [SIGTERM_EXIT_CODE] } },
        ...(props.nonRetryableExitCodes?.length
          // The API server wants the values ordered and without duplicates.
          ? [{ action: 'FailJob', onExitCodes: { containerName: 'trainer', operator: 'In', values: [...new Set(props.nonRetryableExitCodes)].sort((a, b) => a - b) } }]
          : []),
      ],
    }));
    api.addJsonPatch(JsonPatch.add('/spec/template/spec/securityContext/seccompProfile', { type: 'RuntimeDefault' }));

    if (props.nodes) {
      this.runOn(props.nodes);
    }

    // acceleratorsPerPod and preferCapacity apply in runOn, which may come after construction: checked when
    // the app is synthesized. Without nodes they would be dropped, and the pods request no accelerator.
    this.node.addValidation({
      validate: () => (this.nodes ? [] : unusedNodeOptions('job', [['acceleratorsPerPod', props.acceleratorsPerPod], ['preferCapacity', props.preferCapacity]])),
    });
  }

  /**
   * Runs the job's pods on these accelerator nodes: accelerator requests and limits, tolerations for
   * the nodes' taints, required node affinity on their labels (capacity type preferred instead, with
   * `preferCapacity`). More accelerators per pod than the nodes have is an error. A job runs on one node
   * group: a second call (after `nodes` or an earlier `runOn`) is an error.
   */
  public runOn(nodes: IAcceleratorNodes): void {
    // Scheduling only adds (limits, tolerations, affinity): a second call would make the pods request both
    // groups' accelerators (no node has both) and tolerate both groups' taints.
    if (this.nodes) {
      throw new PlatformError(this, 'runOn', { vendor: nodes.vendor, labels: nodes.nodeLabels },
        `cannot be called again: a job runs on one node group, and it already runs on ${this.nodes.vendor} nodes labeled ${JSON.stringify(this.nodes.nodeLabels)} (from 'nodes' or an earlier runOn)`,
        'call runOn once (or pass nodes), and create another TrainingJob for another node group');
    }
    this.nodes = nodes;
    applyAcceleratorScheduling(this, this.job, nodes, { accelerators: this.acceleratorsPerPod, preferCapacity: this.preferCapacity }, 'acceleratorsPerPod');
  }
}
