import { Token } from 'aws-cdk-lib';
import { ApiObject, Chart, Duration, JsonPatch, Size, SizeRoundingBehavior } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { PlatformError, requireProp } from '../../lib/private/errors';
import { LABEL_ARCH, LABEL_INSTANCE_TYPE, LABEL_KARPENTER_CAPACITY_TYPE, TaintDefinition } from '../../lib/private/labels';
import { IAcceleratorNodes } from '../compute/accelerator-nodes';
import { Capacity } from '../compute/capacity';
import { AcceleratorVendor, CpuArchitecture, GpuInstanceType } from '../compute/gpu-instance-type';
import { acceleratorNodeLabels } from '../compute/private/node-labels';
import { TRAINING_GRACE_SECONDS } from './training-job';

/** Karpenter's instance-family requirement key. */
export const LABEL_KARPENTER_INSTANCE_FAMILY = 'karpenter.k8s.aws/instance-family';

/** The AMI Karpenter launches, as an `amiSelectorTerms` alias. */
export class KarpenterAmi {
  /**
   * Amazon Linux 2023; Karpenter picks the NVIDIA or Neuron variant for accelerator instances.
   * @param version an AMI release such as `v20250505`; `latest` drifts nodes on every release
   */
  public static al2023(version = 'latest'): KarpenterAmi {
    return new KarpenterAmi(KarpenterAmi.alias('al2023', version), false);
  }

  /**
   * Bottlerocket (its NVIDIA variants ship their own device plugin, so NVIDIA nodes get no device-plugin
   * label; Neuron nodes still need the Neuron plugin and keep theirs, and get the user data that lets non-root
   * pods own the Neuron devices: Bottlerocket 1.30 or later).
   */
  public static bottlerocket(version = 'latest'): KarpenterAmi {
    return new KarpenterAmi(KarpenterAmi.alias('bottlerocket', version), true);
  }

  /**
   * The alias `family@version`. The EC2NodeClass CRD takes at most 30 characters, and Karpenter finds no AMI for an
   * empty version (or one with spaces or a second `@`): the API server, or every node launch, would fail.
   */
  private static alias(family: string, version: string): string {
    const alias = `${family}@${version}`;
    if (Token.isUnresolved(version)) return alias;
    if (typeof version !== 'string' || !/^[^\s@]+$/.test(version) || alias.length > 30) {
      throw new PlatformError(undefined, 'version', version,
        `must be an AMI release such as "v20250505", or "latest", without spaces or "@"${typeof version === 'string' && alias.length > 30 ? `: the alias "${alias}" (${alias.length} characters) is longer than the 30 Karpenter takes` : ''}`,
        `give the release of the ${family} AMI as Karpenter's documentation writes it, or leave it out for "latest"`);
    }
    return alias;
  }

  private constructor(
    /** The alias, `family@version`. */
    public readonly alias: string,
    /** True when the AMI brings its own NVIDIA device plugin. */
    public readonly bundlesDevicePlugin: boolean,
  ) {}
}

/** Which nodes Karpenter may remove or replace to save cost. */
export class ConsolidationPolicy {
  /** Only nodes with no workload pods (safe for GPU inference: no running pod is moved). */
  public static readonly WHEN_EMPTY = new ConsolidationPolicy('WhenEmpty');
  /** Empty nodes, and under-used nodes whose pods fit elsewhere (pods are evicted and rescheduled). */
  public static readonly WHEN_EMPTY_OR_UNDERUTILIZED = new ConsolidationPolicy('WhenEmptyOrUnderutilized');
  private constructor(public readonly value: string) {}
}

/**
 * A NodePool duration that may also be Karpenter's `Never` (`expireAfter`, `consolidateAfter`).
 *
 * @example
 * new GpuNodePool(chart, 'Serving', {
 *   instanceTypes: [GpuInstanceType.G5_XLARGE],
 *   clusterName: 'ml',
 *   nodeRoleName: 'KarpenterNodeRole-ml',
 *   expireAfter: KarpenterDuration.NEVER,
 *   consolidateAfter: KarpenterDuration.of(Duration.minutes(30)),
 * });
 *
 * @see https://karpenter.sh/docs/concepts/disruption/
 */
export class KarpenterDuration {
  /** `Never`: nodes never expire (`expireAfter`), or are never consolidated (`consolidateAfter`). */
  public static readonly NEVER = new KarpenterDuration(undefined);

  /**
   * After the given time, written as Karpenter's Go duration (`90s`, `5m`, `720h`): whole seconds, or
   * synthesis fails naming the prop.
   */
  public static of(duration: Duration): KarpenterDuration {
    return new KarpenterDuration(duration);
  }

  private constructor(
    /** The time, or undefined for `Never`. */
    public readonly duration: Duration | undefined,
  ) {}

  /** True for `Never`. */
  public get isNever(): boolean {
    return this.duration === undefined;
  }
}

/** Properties of a `GpuNodePool`. */
export interface GpuNodePoolProps {
  /**
   * Accelerator instance types the pool may launch. One vendor, accelerator model, accelerator count
   * and CPU architecture (so the node labels hold for every node).
   */
  readonly instanceTypes: GpuInstanceType[];
  /**
   * Name of the NodePool and EC2NodeClass, and the value of the `ai-platform.dev/node-group` label.
   * @default - the construct id, lower-cased
   */
  readonly name?: string;
  /**
   * How the nodes are bought. With `Capacity.spot({ diversify: true })` the pool may also launch the catalog's
   * interchangeable types (`spotAlternatives(maxPriceRatio)` of each type given), so one spot pool running dry does not stop it.
   * @default Capacity.onDemand()
   */
  readonly capacity?: Capacity;
  /**
   * Name of the EKS cluster (1-100 letters, digits, `-` or `_`): subnets and security groups are found by the
   * `karpenter.sh/discovery` tag with this value.
   */
  readonly clusterName: string;
  /**
   * Name of the IAM role the nodes use (Karpenter makes the instance profile): 1-64 letters, digits or `+=,.@_-`,
   * the role's name rather than its ARN or path.
   */
  readonly nodeRoleName: string;
  /** @default KarpenterAmi.al2023() */
  readonly ami?: KarpenterAmi;
  /**
   * Most accelerators the pool may run at once (NodePool `limits`), a cost guardrail.
   * @default 8
   */
  readonly maxAccelerators?: number;
  /** @default ConsolidationPolicy.WHEN_EMPTY */
  readonly consolidationPolicy?: ConsolidationPolicy;
  /**
   * How long a node must be consolidatable (empty, or with `WHEN_EMPTY_OR_UNDERUTILIZED` under-used) before Karpenter
   * removes it; `KarpenterDuration.of(Duration.seconds(0))` consolidates at once. `KarpenterDuration.NEVER` turns
   * consolidation off: empty GPU nodes then stay, and are billed, until they expire (`expireAfter`), drift or are
   * deleted; only `maxAccelerators` bounds what they cost.
   * @default KarpenterDuration.of(Duration.minutes(5))
   */
  readonly consolidateAfter?: KarpenterDuration;
  /**
   * Node lifetime: Karpenter replaces older nodes (fresh AMIs, no drift). Longer than 0s, whole seconds.
   * `KarpenterDuration.NEVER` keeps each node until it drifts (e.g. a new AMI release under `@latest`), is
   * consolidated, interrupted or deleted: nodes on a pinned AMI are then never recycled.
   * @default KarpenterDuration.of(Duration.days(30))
   */
  readonly expireAfter?: KarpenterDuration;
  /**
   * How long Karpenter may take to drain a node it terminates (spot interruption, expiry, deletion) before it
   * deletes the pods left on it. Karpenter never evicts pods marked `karpenter.sh/do-not-disrupt` (a
   * `TrainingJob`'s): it deletes each when this period less the pod's own grace period is left, and without
   * a period it waits for them. Whole seconds, above 0.
   * @default - on spot, Duration.seconds(90), a `TrainingJob`'s grace period: on a spot interruption its pods
   * get SIGTERM as the drain starts, and their 90 s for a last checkpoint end within the two-minute notice
   * (with Karpenter's interruption handling on). On-demand, none: a node that expires waits for its training
   * to end.
   */
  readonly terminationGracePeriod?: Duration;
  /**
   * Share of the pool's nodes Karpenter may disrupt at once, in percent.
   * @default 10
   */
  readonly disruptionBudgetPercent?: number;
  /**
   * Root volume size (model images are large): whole GiB from 20 to 16384 (gp3 limits).
   * @default Size.gibibytes(200)
   */
  readonly rootVolumeSize?: Size;
  /**
   * Pool priority when several pools fit a pod (1-100, higher first).
   * @default - no weight
   */
  readonly weight?: number;
}

/**
 * A Karpenter v1 `NodePool` and `EC2NodeClass` for accelerator instances, with the same labels and
 * taints as a `GpuNodeGroup`, so the same `InferenceService` and `TrainingJob` definitions run on either.
 *
 * The pool is limited to its instance types and families, one capacity type, and a maximum number of
 * accelerators; nodes expire and empty nodes are consolidated. The node class requires IMDSv2 with a hop
 * limit of 1 (pods cannot read the node role's credentials) and an encrypted gp3 root volume (on Bottlerocket, the
 * data volume and the 4 GiB OS volume).
 *
 * @example
 * const pool = new GpuNodePool(chart, 'Training', {
 *   instanceTypes: [GpuInstanceType.G5_XLARGE, GpuInstanceType.G6_XLARGE],
 *   capacity: Capacity.spot(),
 *   clusterName: 'ml',
 *   nodeRoleName: 'KarpenterNodeRole-ml',
 * });
 * new TrainingJob(chart, 'Job', { image, nodes: pool });
 *
 * @see https://karpenter.sh/docs/concepts/nodepools/
 */
export class GpuNodePool extends Construct implements IAcceleratorNodes {
  public readonly vendor: AcceleratorVendor;
  public readonly resourceName: string;
  public readonly acceleratorsPerNode: number;
  public readonly nodeLabels: Record<string, string>;
  public readonly nodeTaints: TaintDefinition[];
  public readonly capacityType: string;
  public readonly instanceTypeNames: string[];
  /** The `karpenter.sh/v1` NodePool. */
  public readonly nodePool: ApiObject;
  /** The `karpenter.k8s.aws/v1` EC2NodeClass. */
  public readonly nodeClass: ApiObject;
  /** Name of the NodePool and EC2NodeClass. */
  public readonly name: string;

  constructor(scope: Construct, id: string, props: GpuNodePoolProps) {
    super(scope, id);
    requireProp(this, 'instanceTypes', props?.instanceTypes, 'array', 'an array of GpuInstanceType, e.g. [GpuInstanceType.G5_XLARGE]');

    // defaults
    this.name = props.name ?? id.toLowerCase().replace(/[^a-z0-9-]/g, '-');
    const capacity = props.capacity ?? Capacity.onDemand();
    const ami = props.ami ?? KarpenterAmi.al2023();
    const maxAccelerators = props.maxAccelerators ?? 8;
    const budgetPercent = props.disruptionBudgetPercent ?? 10;
    const requested = props.instanceTypes ?? [];
    // `Capacity.spot({ diversify: true })` adds the catalog's stand-ins (same vendor, accelerator model and count,
    // architecture, at least as large, within the capacity's price cap), as GpuNodeGroup does; Karpenter has no
    // 20-type cap, so all of them.
    const types = capacity.isSpot && capacity.diversify
      ? [...requested, ...requested.flatMap((t) => t.spotAlternatives(capacity.maxPriceRatio))].filter((t, i, all) => all.findIndex((o) => o.name === t.name) === i)
      : requested;

    // validate
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(this.name)) {
      throw new PlatformError(this, 'name', this.name, 'must be a DNS label (lower case, digits, -; at most 63 characters)', 'pass a valid name');
    }
    claimPoolName(this, this.name);
    // The EC2NodeClass CRD refuses an empty role and empty selector tag values; a name EKS would refuse
    // (CreateCluster: 1-100 characters, ^[0-9A-Za-z][A-Za-z0-9\-_]*$) tags no subnet, so no node could launch.
    // A token (resolved when the chart is added with addCdk8sChart) is not checked.
    if (!Token.isUnresolved(props.clusterName) && (typeof props.clusterName !== 'string' || !/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/.test(props.clusterName))) {
      throw new PlatformError(this, 'clusterName', props.clusterName,
        'must be an EKS cluster name: 1-100 letters, digits, "-" or "_", starting with a letter or digit (it is the karpenter.sh/discovery tag value the subnets and security groups are found by, which Karpenter refuses empty)',
        'pass the name of the EKS cluster the nodes join');
    }
    // Karpenter adds spec.role to the instance profile it makes by name (IAM RoleName: 1-64 characters of
    // [\w+=,.@-], no path), so an ARN or a path would leave every node launch failing; the CRD refuses an empty role.
    if (!Token.isUnresolved(props.nodeRoleName) && (typeof props.nodeRoleName !== 'string' || !/^[A-Za-z0-9_+=,.@-]{1,64}$/.test(props.nodeRoleName))) {
      const arnName = typeof props.nodeRoleName === 'string' ? props.nodeRoleName.split('/').pop() : undefined;
      throw new PlatformError(this, 'nodeRoleName', props.nodeRoleName,
        'must name the IAM role of the nodes: 1-64 letters, digits or +=,.@_- (the role\'s name, not its ARN or path: Karpenter adds the role to an instance profile by name, and the EC2NodeClass CRD refuses an empty role)',
        `pass the role's name, e.g. "${arnName && /^[A-Za-z0-9_+=,.@-]{1,64}$/.test(arnName) ? arnName : 'KarpenterNodeRole-<cluster>'}"`);
    }
    if (requested.length === 0) {
      throw new PlatformError(this, 'instanceTypes', [], 'must hold at least one accelerator instance type', 'pass e.g. [GpuInstanceType.G5_XLARGE]');
    }
    const first = types[0];
    for (const [field, of] of [
      ['vendor', (t: GpuInstanceType): string => t.vendor],
      ['acceleratorModel', (t: GpuInstanceType): string => t.acceleratorModel],
      ['acceleratorCount', (t: GpuInstanceType): string => String(t.acceleratorCount)],
      ['architecture', (t: GpuInstanceType): string => t.architecture],
    ] as const) {
      const values = [...new Set(requested.map(of))];
      if (values.length > 1) {
        throw new PlatformError(this, 'instanceTypes', requested.map((t) => t.name),
          `must share one ${field} (got ${values.join(', ')}), because every node carries the same labels`,
          'split the types into one GpuNodePool each');
      }
    }
    if (!Number.isInteger(maxAccelerators) || maxAccelerators < first.acceleratorCount) {
      throw new PlatformError(this, 'maxAccelerators', maxAccelerators, `must be a whole number >= ${first.acceleratorCount} (the accelerators of one ${first.name})`, 'raise maxAccelerators so at least one node fits');
    }
    if (!Number.isInteger(budgetPercent) || budgetPercent < 1 || budgetPercent > 100) {
      throw new PlatformError(this, 'disruptionBudgetPercent', budgetPercent, 'must be a whole number from 1 to 100', 'allow at least 1% so nodes can be replaced');
    }
    if (props.weight !== undefined && (!Number.isInteger(props.weight) || props.weight < 1 || props.weight > 100)) {
      throw new PlatformError(this, 'weight', props.weight, 'must be a whole number from 1 to 100', 'pick a priority from 1 to 100');
    }
    const rootGiB = (props.rootVolumeSize ?? Size.gibibytes(200)).toGibibytes({ rounding: SizeRoundingBehavior.NONE });
    if (!Number.isInteger(rootGiB) || rootGiB < 20 || rootGiB > 16384) {
      throw new PlatformError(this, 'rootVolumeSize', `${rootGiB} GiB`,
        'must be a whole number of GiB from 20 to 16384 (gp3 limits; model images need room): Karpenter accepts larger sizes, but EC2 would refuse every node launch',
        'use e.g. Size.gibibytes(200)');
    }
    const nodeLifetime = (props.expireAfter ?? KarpenterDuration.of(Duration.days(30))).duration;
    const expireAfter = nodeLifetime ? goDuration(this, 'expireAfter', nodeLifetime) : NEVER;
    // Karpenter's CRD takes a zero duration, and would then replace every node as soon as it launched.
    if (nodeLifetime && nodeLifetime.toSeconds({ integral: false }) === 0) {
      throw new PlatformError(this, 'expireAfter', '0s', 'must be longer than 0s: every node would expire as soon as it launched, and the pool would replace its nodes without end',
        'give the node lifetime, e.g. KarpenterDuration.of(Duration.days(30)), or KarpenterDuration.NEVER for nodes that never expire');
    }
    const consolidationDelay = (props.consolidateAfter ?? KarpenterDuration.of(Duration.minutes(5))).duration;
    const consolidateAfter = consolidationDelay ? goDuration(this, 'consolidateAfter', consolidationDelay) : NEVER;
    const drainLimit = props.terminationGracePeriod ?? (capacity.isSpot ? Duration.seconds(TRAINING_GRACE_SECONDS) : undefined);
    const terminationGracePeriod = drainLimit && goDuration(this, 'terminationGracePeriod', drainLimit);
    if (drainLimit && drainLimit.toSeconds({ integral: false }) === 0) {
      throw new PlatformError(this, 'terminationGracePeriod', '0s', 'must be longer than 0s: Karpenter would delete every pod as soon as a node starts draining, giving none its grace period',
        `give the longest drain, e.g. Duration.seconds(${TRAINING_GRACE_SECONDS}) on spot`);
    }

    // attributes (IAcceleratorNodes)
    this.vendor = first.vendor;
    this.resourceName = first.resourceName;
    this.acceleratorsPerNode = first.acceleratorCount;
    this.capacityType = capacity.label;
    this.instanceTypeNames = [...new Set(types.map((t) => t.name))].sort();
    this.nodeTaints = [first.defaultTaint];
    this.nodeLabels = acceleratorNodeLabels({
      // Bottlerocket ships the NVIDIA plugin only: Neuron nodes need the Neuron plugin on every AMI.
      instanceTypes: types, capacity, groupName: this.name, needsDevicePlugin: !(ami.bundlesDevicePlugin && first.vendor === AcceleratorVendor.NVIDIA),
    });

    // children
    const families = [...new Set(types.map((t) => t.family))].sort();
    const discovery = { 'karpenter.sh/discovery': props.clusterName };
    this.nodeClass = new ApiObject(this, 'NodeClass', {
      apiVersion: 'karpenter.k8s.aws/v1',
      kind: 'EC2NodeClass',
      metadata: { name: this.name },
      spec: {
        role: props.nodeRoleName,
        amiSelectorTerms: [{ alias: ami.alias }],
        subnetSelectorTerms: [{ tags: discovery }],
        securityGroupSelectorTerms: [{ tags: discovery }],
        blockDeviceMappings: [
          // Karpenter uses its own per-family mappings only when this list is empty: listing Bottlerocket's data volume
          // alone would leave its OS volume (/dev/xvda) to the AMI's mapping, unencrypted unless the account encrypts
          // by default. So it is listed too, as Karpenter's Bottlerocket default has it (4 GiB, encrypted gp3).
          ...(ami.bundlesDevicePlugin
            ? [{ deviceName: '/dev/xvda', ebs: { volumeSize: '4Gi', volumeType: 'gp3', encrypted: true, deleteOnTermination: true } }]
            : []),
          {
            deviceName: ami.bundlesDevicePlugin ? '/dev/xvdb' : '/dev/xvda',
            ebs: {
              volumeSize: `${rootGiB}Gi`,
              volumeType: 'gp3',
              encrypted: true,
              deleteOnTermination: true,
            },
          },
        ],
        metadataOptions: { httpEndpoint: 'enabled', httpProtocolIPv6: 'disabled', httpPutResponseHopLimit: 1, httpTokens: 'required' },
        // Bottlerocket leaves the Neuron devices (/dev/neuron*) to root unless the container's runAsUser and runAsGroup
        // may own them (Karpenter's "Device ownership in Bottlerocket"; Bottlerocket 1.30+): InferenceService and
        // TrainingJob pods run as uid 10001. Karpenter merges this TOML with the settings it writes itself.
        ...(ami.bundlesDevicePlugin && first.vendor === AcceleratorVendor.AWS_NEURON
          ? { userData: '[settings.kubernetes]\ndevice-ownership-from-security-context = true\n' } : {}),
        tags: { ...discovery, 'ai-platform.dev/node-group': this.name },
      },
    });
    this.nodePool = new ApiObject(this, 'Resource', {
      apiVersion: 'karpenter.sh/v1',
      kind: 'NodePool',
      metadata: { name: this.name },
      spec: {
        template: {
          metadata: { labels: { ...this.nodeLabels } },
          spec: {
            nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: this.name },
            taints: this.nodeTaints.map((t) => ({ key: t.key, value: t.value, effect: t.effect })),
            expireAfter,
            ...(terminationGracePeriod ? { terminationGracePeriod } : {}),
            requirements: [
              { key: LABEL_KARPENTER_INSTANCE_FAMILY, operator: 'In', values: families },
              { key: LABEL_INSTANCE_TYPE, operator: 'In', values: this.instanceTypeNames },
              { key: LABEL_KARPENTER_CAPACITY_TYPE, operator: 'In', values: [capacity.label] },
              { key: LABEL_ARCH, operator: 'In', values: [first.architecture === CpuArchitecture.ARM64 ? 'arm64' : 'amd64'] },
            ],
          },
        },
        disruption: {
          consolidationPolicy: (props.consolidationPolicy ?? ConsolidationPolicy.WHEN_EMPTY).value,
          consolidateAfter,
          budgets: [{ nodes: `${budgetPercent}%` }],
        },
        limits: { [this.resourceName]: maxAccelerators },
        ...(props.weight !== undefined ? { weight: props.weight } : {}),
      },
    });

    // NodePool and EC2NodeClass are cluster-scoped: never render a namespace, even in a namespaced chart.
    if (Chart.of(this).namespace) {
      for (const obj of [this.nodePool, this.nodeClass]) {
        obj.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
      }
    }
  }
}

/** Per app (the construct tree's root): the path of the pool that renders each NodePool and EC2NodeClass name. */
const poolNames = new WeakMap<IConstruct, Map<string, string>>();

/**
 * Fails, naming `name`, when another pool of this app already renders a NodePool and EC2NodeClass of that name.
 * Both are cluster-scoped, so a chart's namespace does not set them apart: applying the folder would make one
 * object of the two pools, the last applied replacing the other's instance types, capacity and limits.
 */
function claimPoolName(scope: Construct, name: string): void {
  const root = scope.node.root;
  let names = poolNames.get(root);
  if (!names) poolNames.set(root, names = new Map());
  const other = names.get(name);
  if (other !== undefined) {
    throw new PlatformError(scope, 'name', name,
      `is also the name of GpuNodePool ${other}: both render a NodePool and an EC2NodeClass named ${name}, which are cluster-scoped (a chart's namespace does not set them apart), so applying the folder would replace one pool with the other`,
      'give one of them another name');
  }
  names.set(name, scope.node.path);
}

/** Karpenter's value for a disruption that never happens (NodePool `expireAfter`, `consolidateAfter`). */
const NEVER = 'Never';

/** A Go duration (`30s`, `5m`, `720h`) as Karpenter's CRDs accept it: whole seconds, minutes or hours. */
function goDuration(scope: Construct, prop: string, d: Duration): string {
  const s = d.toSeconds({ integral: false });
  if (!Number.isInteger(s)) {
    throw new PlatformError(scope, prop, `${s}s`, 'must be a whole number of seconds (Karpenter takes whole s, m or h)', `round ${prop} to whole seconds, e.g. Duration.seconds(${Math.ceil(s)})`);
  }
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}
