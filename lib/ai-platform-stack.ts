import { Annotations, CfnOutput, Fn, Names, Stack, StackProps, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { Capacity } from '../constructs/compute/capacity';
import { GpuInstanceType } from '../constructs/compute/gpu-instance-type';
import { GpuNodeGroup } from '../constructs/compute/gpu-node-group';
import { CostBudget, CostBudgetProps } from '../constructs/cost/cost-budget';
import { ContainerImage, ModelEndpoint } from '../constructs/serving';
import { addClusterAutoscaler, addEbsCsiDriver, addMetricsServer, addNetworkPolicyEnforcement } from './cluster-addons';
import { PlatformError } from './private/errors';
import { LABEL_NODE_GROUP } from './private/labels';
import { NODE_METADATA_OPTIONS } from './private/node-metadata';
import { addReferenceEndpoint } from './reference-endpoint';

/** Properties of the reference AI platform stack. */
export interface AiPlatformStackProps extends StackProps {
  /**
   * VPC for the cluster and its nodes.
   * @default - a new VPC over two availability zones with one NAT gateway, and an S3 gateway endpoint
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Kubernetes version of the cluster. EKS standard support for 1.35 ends on 2027-03-27 (for 1.34 it ends on
   * 2026-12-02); after that a cluster of that version is billed at the extended-support rate (README, "The reference
   * platform"). EKS upgrades a cluster one minor version at a time.
   * @default eks.KubernetesVersion.V1_35
   */
  readonly kubernetesVersion?: eks.KubernetesVersion;

  /**
   * Where the cluster's Kubernetes API server endpoint answers. The default public side accepts connections from any
   * address (every request still needs an IAM principal with an access entry), so `kubectl` works from a laptop or a
   * CI runner outside the VPC; the nodes and the stack's kubectl provider use the private side. Limit the public side
   * with `eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom('203.0.113.0/24')`, or remove it with `eks.EndpointAccess.PRIVATE`
   * (then `kubectl`, Argo CD or Flux must run in the VPC or a network connected to it). Changes in place.
   * @default eks.EndpointAccess.PUBLIC_AND_PRIVATE
   * @see https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html
   */
  readonly endpointAccess?: eks.EndpointAccess;

  /**
   * EKS control-plane logs sent to CloudWatch Logs, into the log group EKS names `/aws/eks/<cluster>/cluster`, kept
   * for `controlPlaneLogRetention`. The default sends the audit log (each request to the Kubernetes API: who changed
   * what) and the authenticator log (which IAM principal became which Kubernetes user), what an incident review
   * needs; `api`, `controllerManager` and `scheduler` are more verbose, for debugging. `[]` sends none (the EKS
   * default). Changes in place. CloudWatch Logs charges for what is ingested and stored.
   * @default [eks.ClusterLoggingTypes.AUDIT, eks.ClusterLoggingTypes.AUTHENTICATOR]
   * @see https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html
   */
  readonly controlPlaneLogging?: eks.ClusterLoggingTypes[];

  /**
   * How long the control-plane log group keeps its events. EKS creates the group with no expiry; the stack sets this
   * retention on it (a custom resource, as aws-cdk's `logRetention` does for Lambda functions) and keeps the group
   * when the stack is deleted.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly controlPlaneLogRetention?: logs.RetentionDays;

  /**
   * IAM roles that administer the cluster's Kubernetes API: whoever runs `kubectl apply -k dist/k8s`, installs Argo CD
   * or Flux, or debugs the workloads. Each gets an EKS access entry with `AmazonEKSClusterAdminPolicy` on the whole
   * cluster (`grantClusterAdmin()` adds more). The cluster authenticates with access entries only, and EKS makes only
   * the cluster's creator an admin, which is CloudFormation's execution role (no person can assume it): without a role
   * here, nobody can use the Kubernetes API of the deployed cluster. A principal can be in one access entry only, so
   * do not name a role that already has one on this cluster.
   * @default - none: only CloudFormation's execution role and the stack's kubectl provider reach the Kubernetes API
   */
  readonly clusterAdminRoles?: iam.IRole[];

  /**
   * Lambda layer with kubectl and helm, used to install the device plugins. Must match the Kubernetes version
   * (kubectl supports clusters within one minor version of its own).
   * @default - `KubectlV34Layer` from the `@aws-cdk/lambda-layer-kubectl-v34` package; a `kubernetesVersion` outside
   * 1.33-1.35 then fails synthesis
   */
  readonly kubectlLayer?: lambda.ILayerVersion;

  /**
   * Instance types of the on-demand inference node group. A change replaces the node group: CloudFormation creates
   * the new one at its desired size beside the old one, which EKS then drains and deletes, so serving pods that do
   * not fit wait for cluster-autoscaler to add nodes.
   * @default [GpuInstanceType.G5_XLARGE]
   */
  readonly inferenceInstanceTypes?: GpuInstanceType[];

  /**
   * Minimum, maximum and desired size of the inference node group. A change of any of them on a deployed stack sends
   * the whole scaling configuration, and EKS sets the group back to `desiredSize`, terminating the nodes
   * cluster-autoscaler added: set `desiredSize` to the group's current node count in the same change.
   * @default { minSize: 1, maxSize: 4 } (desiredSize: minSize)
   */
  readonly inferenceScaling?: { readonly minSize: number; readonly maxSize: number; readonly desiredSize?: number };

  /**
   * Instance types of the spot training node group; the catalog's interchangeable types within twice the
   * on-demand price are added (`Capacity.spot({ diversify: true })`). A change replaces
   * the node group (empty at rest: it scales from zero; a running training job's pods are evicted and resume from
   * their checkpoint once cluster-autoscaler adds nodes to the new group).
   * @default [GpuInstanceType.G5_2XLARGE]
   */
  readonly trainingInstanceTypes?: GpuInstanceType[];

  /**
   * Maximum size of the training node group (a whole number >= 1), which scales from zero. A change on a deployed
   * stack sends the whole scaling configuration, and EKS sets the group back to zero nodes: a running training job
   * loses its nodes as in a spot interruption and resumes from its checkpoint once cluster-autoscaler adds them again.
   * Change it between jobs.
   * @default 8
   */
  readonly trainingMaxSize?: number;

  /**
   * Subnets of the spot training node group. Keep them in one availability zone: the training job's EBS
   * checkpoint volume lives in the zone of its first pod, every later pod must run there, and
   * cluster-autoscaler cannot pick the zone of a group that spans several. To keep a job's existing
   * checkpoints, name the zone its volume is in (`{ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS,
   * availabilityZones: ['us-east-1b'] }`; a selection by zone name needs the stack's `env`: an environment-agnostic
   * stack does not know its zone names, and a selection of no subnet fails synthesis). A selection spanning several
   * zones gets a warning. A change replaces the node group (empty at rest: it scales from zero).
   * @default - the VPC's first private subnet with egress
   */
  readonly trainingSubnets?: ec2.SubnetSelection;

  // ---- What the cluster runs besides the workloads (lib/cluster-addons.ts) ----
  /**
   * Install the Kubernetes Metrics Server, as the EKS community add-on `metrics-server`. EKS does not deploy it,
   * and the serving chart's HorizontalPodAutoscaler scales on CPU, which it reads from the Metrics Server.
   * Set false when the cluster gets a metrics server some other way.
   * @default true
   */
  readonly metricsServer?: boolean;

  /**
   * Install the Amazon EBS CSI driver (the EKS add-on `aws-ebs-csi-driver`, with an IAM role holding
   * `AmazonEBSCSIDriverPolicy` by EKS Pod Identity) and a default StorageClass `gp3` (encrypted gp3 volumes,
   * bound where the pod is scheduled). The training job's checkpoint claim names no storage class, and EKS
   * clusters created at Kubernetes 1.30 or later have no default one. With this or `clusterAutoscaler`, the stack
   * also installs the `eks-pod-identity-agent` add-on.
   * Set false when the cluster gets its storage driver and default StorageClass some other way.
   * @default true
   */
  readonly ebsCsiDriver?: boolean;

  /**
   * Install cluster-autoscaler (Helm chart `cluster-autoscaler` 9.59.0, cluster-autoscaler 1.35.0) on the system
   * nodes, with an IAM role by EKS Pod Identity. It scales the node groups within their sizes; without it (or
   * Karpenter) the spot training group stays at zero nodes and the training job stays Pending. Its release is
   * made for Kubernetes 1.35: with another `kubernetesVersion` synthesis warns.
   * Set false when the cluster scales with Karpenter or a cluster-autoscaler of your own.
   * @default true
   */
  readonly clusterAutoscaler?: boolean;

  /**
   * Enforce NetworkPolicies: the Amazon VPC CNI as the EKS add-on `vpc-cni` with `enableNetworkPolicy`, taking over
   * the CNI EKS installed. The serving chart's NetworkPolicy admits only its client namespaces and the metrics scraper;
   * EKS's own CNI enforces no NetworkPolicy, so without this it has no effect. Removing the add-on later (false) keeps
   * the CNI, and its network policy agent, on the cluster.
   * Set false when the cluster enforces NetworkPolicies some other way (Calico, Cilium) or manages `vpc-cni` itself.
   * @default true
   */
  readonly networkPolicy?: boolean;

  // ---- Model serving on SageMaker (constructs/serving) ----
  /**
   * Image of the SageMaker model endpoint.
   * @default ContainerImage.bundled() - the inference server in container/, built and pushed by `cdk deploy`
   */
  readonly modelEndpointImage?: ContainerImage;

  /**
   * Directory of the model the SageMaker endpoint serves (`model.onnx`, optional `serving.json`).
   * @default - the example fraud model, `container/models/fraud-mlp`, which `npm run model` builds in a clone of
   * this repository; the published package does not include it, so pass your own model there
   */
  readonly modelDirectory?: string;

  /**
   * A monthly AWS Budgets cost budget for the account, with alerts on actual and forecasted spend (and, if asked, Cost
   * Anomaly Detection alerts) on an SNS topic. `bin/cost.ts` also fails synthesis-time checks when the cost estimate at
   * rest exceeds it.
   * @default - no budget
   */
  readonly budget?: CostBudgetProps;
}

/**
 * The reference AI platform: an EKS cluster with a small system node group, an on-demand GPU node
 * group for inference and a spot GPU node group for training that scales from zero, plus what the
 * platform charts need on the cluster: the Metrics Server, the EBS CSI driver with a default
 * StorageClass, cluster-autoscaler and NetworkPolicy enforcement (each with an opt-out prop).
 *
 * @example
 * new AiPlatformStack(app, 'AiPlatform', { env: { account: '123456789012', region: 'us-east-1' } });
 */
export class AiPlatformStack extends Stack {
  public readonly vpc: ec2.IVpc;
  public readonly cluster: eks.Cluster;
  /** The small system node group (CoreDNS, cluster-autoscaler, the add-ons' controllers); the device plugins run on the GPU nodes. */
  public readonly systemNodes: eks.Nodegroup;
  /** On-demand accelerator nodes for model serving. */
  public readonly inferenceNodes: GpuNodeGroup;
  /** Spot accelerator nodes for training, scaling from zero. */
  public readonly trainingNodes: GpuNodeGroup;
  /** SageMaker endpoint serving the example model (see lib/reference-endpoint.ts). */
  public readonly modelEndpoint: ModelEndpoint;
  /** The cost budget, when `budget` is given. */
  public readonly budget?: CostBudget;
  /** The `metrics-server` add-on; undefined with `metricsServer: false`. */
  public readonly metricsServerAddon?: eks.Addon;
  /** The `vpc-cni` add-on that enforces NetworkPolicies; undefined with `networkPolicy: false`. */
  public readonly vpcCniAddon?: eks.Addon;
  /** The `aws-ebs-csi-driver` add-on; undefined with `ebsCsiDriver: false`. */
  public readonly ebsCsiDriverAddon?: eks.Addon;
  /** The EBS CSI driver controller's role (EKS Pod Identity); undefined with `ebsCsiDriver: false`. */
  public readonly ebsCsiDriverRole?: iam.IRole;
  /** The default StorageClass `gp3`; undefined with `ebsCsiDriver: false`. */
  public readonly defaultStorageClass?: eks.KubernetesManifest;
  /** The cluster-autoscaler Helm release; undefined with `clusterAutoscaler: false`. */
  public readonly clusterAutoscalerChart?: eks.HelmChart;
  /** cluster-autoscaler's role (EKS Pod Identity); undefined with `clusterAutoscaler: false`. */
  public readonly clusterAutoscalerRole?: iam.IRole;

  constructor(scope: Construct, id: string, props: AiPlatformStackProps = {}) {
    props = props ?? {}; // a JavaScript caller may pass null for "no props"
    super(scope, id, props);

    const kubernetesVersion = props.kubernetesVersion ?? eks.KubernetesVersion.V1_35;
    if (!props.kubectlLayer) validateDefaultKubectlSkew(this, kubernetesVersion);
    const controlPlaneLogging = props.controlPlaneLogging ?? [eks.ClusterLoggingTypes.AUDIT, eks.ClusterLoggingTypes.AUTHENTICATOR];
    const repeated = controlPlaneLogging.find((t, i) => controlPlaneLogging.indexOf(t) !== i);
    if (repeated !== undefined) {
      throw new PlatformError(this, 'controlPlaneLogging', controlPlaneLogging, `names ${repeated} more than once; each log type is turned on once`, 'list each type once');
    }

    this.vpc = props.vpc ?? new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 19 },
      ],
      // Model artifacts and ECR's image layers come from S3 in the stack's region: through a gateway
      // endpoint (free) instead of the NAT gateway, which bills per GB and carries a GPU image for every new node.
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });

    this.cluster = new eks.Cluster(this, 'Cluster', {
      version: kubernetesVersion,
      vpc: this.vpc,
      vpcSubnets: [{ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }],
      defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
      // The system node group is added below: aws-cdk's default capacity picks the AL2 AMI for CPU
      // instances, and EKS publishes no AL2 AMIs for Kubernetes 1.33 and later (it refuses the group).
      defaultCapacity: 0,
      endpointAccess: props.endpointAccess ?? eks.EndpointAccess.PUBLIC_AND_PRIVATE,
      kubectlProviderOptions: { kubectlLayer: props.kubectlLayer ?? defaultKubectlLayer(this) },
      clusterLogging: controlPlaneLogging.length > 0 ? controlPlaneLogging : undefined,
    });
    if (controlPlaneLogging.length > 0) {
      // EKS creates `/aws/eks/<cluster>/cluster` itself, never expiring; the cluster's name is known only once it
      // exists, so the retention is set by a custom resource (which creates the group first if EKS has not yet).
      new logs.LogRetention(this, 'ControlPlaneLogRetention', {
        logGroupName: Fn.join('', ['/aws/eks/', this.cluster.clusterName, '/cluster']),
        retention: props.controlPlaneLogRetention ?? logs.RetentionDays.ONE_YEAR,
      });
    }
    // The system nodes' launch template, as the GPU groups': IMDSv2 with a hop limit of 1 keeps the node role's
    // credentials from pods that are not on the host network (any pod without a GPU may land here), and the root
    // volume is encrypted gp3 whatever the account's EBS default (EKS's own template gives 20 GiB gp2).
    const systemLaunchTemplate = new ec2.CfnLaunchTemplate(this, 'SystemNodesLaunchTemplate', {
      launchTemplateData: {
        metadataOptions: { ...NODE_METADATA_OPTIONS },
        blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { volumeSize: 20, volumeType: 'gp3', encrypted: true, deleteOnTermination: true } }],
      },
    });
    // Same construct id as aws-cdk's default capacity ('DefaultCapacity'), so the logical id is unchanged.
    this.systemNodes = this.cluster.addNodegroupCapacity('DefaultCapacity', {
      instanceTypes: [new ec2.InstanceType('m7i.large')],
      amiType: eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
      launchTemplateSpec: { id: systemLaunchTemplate.ref, version: systemLaunchTemplate.attrLatestVersionNumber },
      minSize: 2,
      // cluster-autoscaler is pinned here by this label (the GPU groups carry 'inference' and 'training').
      labels: { [LABEL_NODE_GROUP]: SYSTEM_NODE_GROUP_LABEL },
    });

    for (const role of props.clusterAdminRoles ?? []) this.grantClusterAdmin(role);
    new CfnOutput(this, 'ClusterName', { value: this.cluster.clusterName, description: 'Name of the EKS cluster' });
    new CfnOutput(this, 'KubeconfigCommand', {
      value: Fn.join('', ['aws eks update-kubeconfig --name ', this.cluster.clusterName, ' --region ', this.region]),
      description: 'Writes a kubeconfig entry for the cluster; run it as one of the clusterAdminRoles',
    });

    // The GPU groups carry no fixed EKS name: new instance types replace a node group, and CloudFormation
    // cannot replace a resource with a fixed name. Workloads find them by their node-group label.
    this.inferenceNodes = new GpuNodeGroup(this, 'InferenceNodes', {
      cluster: this.cluster,
      groupLabel: 'inference',
      instanceTypes: props.inferenceInstanceTypes ?? [GpuInstanceType.G5_XLARGE],
      capacity: Capacity.onDemand(),
      minSize: props.inferenceScaling?.minSize ?? 1,
      maxSize: props.inferenceScaling?.maxSize ?? 4,
      desiredSize: props.inferenceScaling?.desiredSize,
    });

    // The training job keeps its checkpoints on an EBS volume, which lives in one availability zone: every pod
    // of the job after the first can only run there. cluster-autoscaler cannot pick the zone when one group
    // spans several (its AWS documentation asks for a group per zone for such workloads), so a replacement pod
    // after a spot interruption could wait for a node in the wrong zone. The training group stays in one zone.
    const trainingSubnet = this.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnets[0];
    if (props.trainingSubnets) checkTrainingSubnets(this, this.vpc, props.trainingSubnets);
    const trainingMaxSize = props.trainingMaxSize ?? 8;
    if (!Token.isUnresolved(trainingMaxSize) && (!Number.isInteger(trainingMaxSize) || trainingMaxSize < 1)) {
      throw new PlatformError(this, 'trainingMaxSize', trainingMaxSize, 'must be a whole number >= 1 (the training group scales from zero to it)', 'set trainingMaxSize to 1 or more');
    }
    this.trainingNodes = new GpuNodeGroup(this, 'TrainingNodes', {
      cluster: this.cluster,
      groupLabel: 'training',
      subnets: props.trainingSubnets ?? (trainingSubnet ? { subnets: [trainingSubnet] } : undefined),
      instanceTypes: props.trainingInstanceTypes ?? [GpuInstanceType.G5_2XLARGE],
      capacity: Capacity.spot({ diversify: true }),
      minSize: 0,
      maxSize: trainingMaxSize,
    });

    // ---- What the charts need on the cluster (lib/cluster-addons.ts) ------------------------------
    const addonOptions = { cluster: this.cluster, systemNodes: this.systemNodes };
    if (props.metricsServer ?? true) {
      this.metricsServerAddon = addMetricsServer(this, addonOptions);
    }
    if (props.networkPolicy ?? true) {
      this.vpcCniAddon = addNetworkPolicyEnforcement(this, addonOptions);
    }
    if (props.ebsCsiDriver ?? true) {
      const driver = addEbsCsiDriver(this, addonOptions);
      this.ebsCsiDriverAddon = driver.addon;
      this.ebsCsiDriverRole = driver.role;
      this.defaultStorageClass = driver.storageClass;
    }
    if (props.clusterAutoscaler ?? true) {
      const autoscaler = addClusterAutoscaler(this, {
        ...addonOptions,
        kubernetesVersion,
        nodeSelector: { [LABEL_NODE_GROUP]: SYSTEM_NODE_GROUP_LABEL },
      });
      this.clusterAutoscalerChart = autoscaler.chart;
      this.clusterAutoscalerRole = autoscaler.role;
    }

    // ---- Model serving on SageMaker (constructs/serving) -------------------------------------------
    // The example fraud model from the bundled inference server, in the platform's private subnets:
    // canary rollout with automatic rollback, autoscaling on requests, 10% data capture.
    this.modelEndpoint = addReferenceEndpoint(this, {
      image: props.modelEndpointImage, modelDirectory: props.modelDirectory, vpc: this.vpc,
    });
    // ---- end of model serving ----------------------------------------------------------------------

    if (props.budget) this.budget = new CostBudget(this, 'Budget', props.budget);
  }

  /**
   * Makes `role` an administrator of the cluster's Kubernetes API: an EKS access entry with
   * `AmazonEKSClusterAdminPolicy` on the whole cluster. Granting a role twice adds one entry (EKS allows one per
   * principal).
   * @see https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html
   */
  public grantClusterAdmin(role: iam.IRole): void {
    const principal = role.roleArn;
    if (this.clusterAdmins.has(principal)) return;
    this.clusterAdmins.add(principal);
    // The id follows the role's construct, not its position, so adding or removing another admin replaces no entry
    // (a replaced entry would be created before the old one is deleted, and EKS refuses a second entry for a principal).
    this.cluster.grantAccess(`ClusterAdmin${Names.nodeUniqueId(role.node)}`, principal, [
      eks.AccessPolicy.fromAccessPolicyName('AmazonEKSClusterAdminPolicy', { accessScopeType: eks.AccessScopeType.CLUSTER }),
    ]);
  }

  private readonly clusterAdmins = new Set<string>();
}

/** Value of the node-group label on the system nodes. */
const SYSTEM_NODE_GROUP_LABEL = 'system';

/** Kubernetes minor version of the kubectl in the default layer (`@aws-cdk/lambda-layer-kubectl-v34`). */
const DEFAULT_KUBECTL_MINOR = 34;

/**
 * kubectl supports clusters within one minor version of its own; the device plugin's Helm release goes
 * through the default layer's kubectl 1.34, so a cluster further away needs a layer of its own.
 * @see https://kubernetes.io/releases/version-skew-policy/#kubectl
 */
function validateDefaultKubectlSkew(scope: Construct, version: eks.KubernetesVersion): void {
  if (Token.isUnresolved(version.version)) return;
  const minor = /^1\.(\d+)$/.exec(version.version)?.[1];
  if (minor === undefined || Math.abs(Number(minor) - DEFAULT_KUBECTL_MINOR) <= 1) return;
  throw new PlatformError(scope, 'kubernetesVersion', version.version,
    `is more than one minor version from the default kubectl layer's kubectl 1.${DEFAULT_KUBECTL_MINOR} (kubectl supports `
    + `1.${DEFAULT_KUBECTL_MINOR - 1}-1.${DEFAULT_KUBECTL_MINOR + 1} clusters)`,
    `pass a kubectlLayer for Kubernetes ${version.version} (e.g. KubectlV${minor}Layer from @aws-cdk/lambda-layer-kubectl-v${minor}), `
    + `or choose a version from 1.${DEFAULT_KUBECTL_MINOR - 1} to 1.${DEFAULT_KUBECTL_MINOR + 1}`);
}

function defaultKubectlLayer(scope: Construct): lambda.ILayerVersion {
  let mod: { KubectlV34Layer: new (s: Construct, id: string) => lambda.ILayerVersion };
  try {
    mod = require('@aws-cdk/lambda-layer-kubectl-v34');
  } catch {
    throw new PlatformError(scope, 'kubectlLayer', undefined,
      'is required: the default layer comes from the package @aws-cdk/lambda-layer-kubectl-v34, which is not installed',
      'run `npm install @aws-cdk/lambda-layer-kubectl-v34`, or pass a kubectl layer that matches your Kubernetes version');
  }
  return new mod.KubectlV34Layer(scope, 'KubectlLayer');
}

/**
 * The training group's subnets must exist and should sit in one availability zone: a training job's EBS
 * checkpoint volume ties every pod after the first to its zone, and cluster-autoscaler cannot pick the zone
 * of a group that spans several. In an environment-agnostic stack the VPC's zones are tokens, so a selection
 * by zone name (`availabilityZones: ['us-east-1b']`) matches no subnet, and a node group without subnets
 * fails at deployment.
 */
function checkTrainingSubnets(scope: Construct, vpc: ec2.IVpc, selection: ec2.SubnetSelection): void {
  const selected = vpc.selectSubnets(selection).subnets;
  const described = { ...selection, subnets: selection.subnets?.map((s) => s.subnetId), subnetFilters: selection.subnetFilters ? `${selection.subnetFilters.length} filters` : undefined };
  if (selected.length === 0) {
    const agnostic = Token.isUnresolved(Stack.of(scope).region);
    throw new PlatformError(scope, 'trainingSubnets', described,
      agnostic
        ? 'must select at least one subnet of the VPC, and selects none (an environment-agnostic stack does not know its zone names, so a selection by availabilityZones matches nothing)'
        : `must select at least one subnet of the VPC, and selects none (the VPC's zones: ${vpc.availabilityZones.join(', ')})`,
      agnostic
        ? 'give the stack an env (account and region) to select by zone name, or select by subnetType or subnetGroupName'
        : 'name a zone and subnet type the VPC has');
  }
  // A subnet imported by id alone has no zone to read (aws-cdk throws on access): it is left out of the count.
  const zones = [...new Set(selected.flatMap((s) => {
    try {
      return [s.availabilityZone];
    } catch {
      return [];
    }
  }))];
  if (zones.length > 1) {
    const names = zones.map((z) => (Token.isUnresolved(z) ? '(a zone known at deployment)' : z));
    Annotations.of(scope).addWarningV2('ai-platform:trainingSubnetsSpanZones',
      `'trainingSubnets' select subnets in ${zones.length} availability zones (${names.join(', ')}): a training job's EBS checkpoint volume ties `
      + 'every pod after the first to one zone, and cluster-autoscaler cannot pick the zone of a group that spans several, so a pod '
      + 'replacing a spot-interrupted one can stay Pending. Select the subnets of one zone (availabilityZones: [...], with an env)');
  }
}
