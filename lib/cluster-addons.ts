import { Annotations, Arn, ArnFormat, Stack, Token, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeWildcards } from '../constructs/serving/private/nag';

/**
 * cluster-autoscaler from its Helm chart. Chart 9.59.0 runs cluster-autoscaler 1.35.0, the release for
 * Kubernetes 1.35 (cluster-autoscaler's minor version follows Kubernetes', and it is only tested against that
 * minor). Charts 9.54.0 to 9.59.0 carry cluster-autoscaler 1.35.0 (kubernetes/autoscaler#10097; kubermatic#16253
 * lists 9.59.0 with appVersion 1.35.0); 9.53.0 was the last with 1.34 (1.34.2).
 * @see https://github.com/kubernetes/autoscaler/tree/master/charts/cluster-autoscaler
 */
export const CLUSTER_AUTOSCALER_CHART = {
  chart: 'cluster-autoscaler',
  repository: 'https://kubernetes.github.io/autoscaler',
  version: '9.59.0',
  appVersion: '1.35.0',
  namespace: 'kube-system',
  release: 'cluster-autoscaler',
  serviceAccount: 'cluster-autoscaler',
} as const;

/** The EKS add-on of the Amazon EBS CSI driver, and the service account of its controller (the one that calls EC2). */
export const EBS_CSI_DRIVER_ADDON = { name: 'aws-ebs-csi-driver', namespace: 'kube-system', serviceAccount: 'ebs-csi-controller-sa' } as const;
/** The Kubernetes Metrics Server as an EKS community add-on (installed in kube-system, no IAM permissions). */
export const METRICS_SERVER_ADDON = 'metrics-server';
/** The Amazon VPC CNI as an EKS add-on (the cluster's pod network, and its NetworkPolicy enforcement). */
export const VPC_CNI_ADDON = 'vpc-cni';
/** Name of the default StorageClass the stack applies. */
export const DEFAULT_STORAGE_CLASS = 'gp3';

/** Service principal EKS Pod Identity assumes roles as. */
const POD_IDENTITY_PRINCIPAL = 'pods.eks.amazonaws.com';

/** What every add-on helper needs: where to put its constructs, the cluster, and what must run before. */
export interface ClusterAddonOptions {
  readonly cluster: eks.Cluster;
  /** The nodes the add-on's controllers run on: add-ons are created once these exist. */
  readonly systemNodes: eks.Nodegroup;
}

/**
 * The Kubernetes Metrics Server, as the EKS community add-on `metrics-server`. EKS does not deploy it, and
 * without it a HorizontalPodAutoscaler on CPU or memory has no metric and never scales.
 * @see https://docs.aws.amazon.com/eks/latest/userguide/community-addons.html
 */
export function addMetricsServer(scope: Construct, options: ClusterAddonOptions): eks.Addon {
  const addon = new eks.Addon(scope, 'MetricsServer', {
    cluster: options.cluster,
    addonName: METRICS_SERVER_ADDON,
    // Removing the add-on (metricsServer: false) removes it from the cluster too, rather than leaving software
    // running that nothing manages any more.
    preserveOnDelete: false,
  });
  // A Deployment: created before any node exists, the add-on would sit DEGRADED until the nodes join.
  addon.node.addDependency(options.systemNodes);
  return addon;
}

/**
 * Turns on NetworkPolicy enforcement: the Amazon VPC CNI as the EKS add-on `vpc-cni` with `enableNetworkPolicy`.
 * EKS installs the CNI as a self-managed add-on whose network policy agent enforces nothing, so a NetworkPolicy
 * (the serving chart's, which admits only the client namespaces and the metrics scraper) is accepted and has no
 * effect. The add-on takes over the CNI EKS installed (`ResolveConflicts: OVERWRITE`, as EKS documents for moving a
 * self-managed add-on to the EKS add-on), and is kept on the cluster when removed from the stack
 * (`preserveOnDelete`): deleting it would delete the pod network. The agent allows the node's own address, so
 * kubelet probes pass any policy. The CNI keeps the node role's permissions (`AmazonEKS_CNI_Policy`), as before.
 * @see https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy-configure.html
 */
export function addNetworkPolicyEnforcement(scope: Construct, options: Pick<ClusterAddonOptions, 'cluster'>): eks.Addon {
  const addon = new eks.Addon(scope, 'VpcCni', {
    cluster: options.cluster,
    addonName: VPC_CNI_ADDON,
    configurationValues: { enableNetworkPolicy: 'true' },
    preserveOnDelete: true,
  });
  (addon.node.defaultChild as eks.CfnAddon).resolveConflicts = 'OVERWRITE';
  return addon;
}

/** What `addEbsCsiDriver` creates. */
export interface EbsCsiDriver {
  readonly addon: eks.Addon;
  readonly role: iam.Role;
  readonly storageClass: eks.KubernetesManifest;
}

/**
 * The Amazon EBS CSI driver as the EKS add-on `aws-ebs-csi-driver`, its IAM role, and a default `gp3`
 * StorageClass (EKS clusters created at Kubernetes 1.30 or later have none, so a claim that names no class
 * stays Pending).
 *
 * The role reaches the driver's controller by EKS Pod Identity, as an association the add-on owns (the
 * add-on's `PodIdentityAssociations`). The three ways CloudFormation offers:
 * - `ServiceAccountRoleArn` is IRSA: it needs an IAM OIDC provider for the cluster, which this cluster does not
 *   have (aws-eks-v2 creates one only on request, through a custom resource);
 * - a separate `AWS::EKS::PodIdentityAssociation` works, but is independent of the add-on: EKS would not restart
 *   the controller when the role changes, and the association would outlive a removed add-on;
 * - the add-on's own association (chosen): EKS creates it with the add-on, restarts the add-on's pods when it
 *   changes and deletes it with the add-on. aws-cdk-lib's `Addon` construct has no prop for it, so it is set on
 *   the L1 (`CfnAddon.podIdentityAssociations`).
 * Pod Identity needs the `eks-pod-identity-agent` add-on on the nodes; the driver's add-on is created after it.
 *
 * The checkpoint volumes are mounted on the tainted GPU nodes (`nvidia.com/gpu`, Neuron and any extra `taints`):
 * the driver's node DaemonSet tolerates every taint with the add-on's default configuration, so no
 * `configurationValues` are set. The add-on is built from the driver's Helm chart, whose `node.tolerateAllTaints`
 * defaults to `true` (kubernetes-sigs/aws-ebs-csi-driver PR #1381, 2022, `charts/aws-ebs-csi-driver/values.yaml`)
 * and renders the toleration `operator: Exists` (every key and effect) on the node DaemonSet
 * (`templates/_node.tpl`); the driver's maintainers confirm it for the EKS add-on: "the EBS CSI controller
 * intentionally does not tolerate all taints by default (only the node does so by default)"
 * (aws/containers-roadmap#1706, 2023). The add-on's version is not pinned, so EKS installs its default for the
 * cluster's Kubernetes version, years past that change. The controller (a Deployment) tolerates only
 * `CriticalAddonsOnly` and, for 300 s, `NoExecute` taints (the chart's `controller.tolerations`), none of the GPU nodes'
 * `NoSchedule` taints, so it runs on the untainted system nodes.
 *
 * The role holds the AWS managed policy `AmazonEBSCSIDriverPolicy` and nothing else: the default StorageClass
 * encrypts with the region's default EBS encryption key, the AWS managed `aws/ebs` (usable through EBS by any
 * principal of the account) unless the account made a customer managed key the default; that key then needs
 * KMS grants for the role (README, "What the stack installs on the cluster").
 * @see https://docs.aws.amazon.com/eks/latest/userguide/ebs-csi.html
 * @see https://docs.aws.amazon.com/eks/latest/userguide/add-ons-iam.html
 */
export function addEbsCsiDriver(scope: Construct, options: ClusterAddonOptions): EbsCsiDriver {
  const { cluster } = options;
  const role = podIdentityRole(scope, 'EbsCsiDriverRole', cluster, EBS_CSI_DRIVER_ADDON.namespace, EBS_CSI_DRIVER_ADDON.serviceAccount,
    'Amazon EBS CSI driver controller (EKS Pod Identity)');
  role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonEBSCSIDriverPolicy'));
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy]',
    reason: 'AmazonEBSCSIDriverPolicy is the policy EKS documents for the aws-ebs-csi-driver add-on, kept by AWS in step with the '
      + 'driver\'s EC2 calls (it scopes volume and snapshot changes to resources the driver tagged); only the driver\'s controller '
      + 'service account on this cluster can assume the role',
  });

  const addon = new eks.Addon(scope, 'EbsCsiDriver', {
    cluster,
    addonName: EBS_CSI_DRIVER_ADDON.name,
    // Removed with the opt-out (and its Pod Identity association with it), rather than left running with a deleted role.
    preserveOnDelete: false,
  });
  const cfnAddon = addon.node.defaultChild as eks.CfnAddon;
  cfnAddon.podIdentityAssociations = [{ roleArn: role.roleArn, serviceAccount: EBS_CSI_DRIVER_ADDON.serviceAccount }];
  addon.node.addDependency(podIdentityAgent(cluster, options.systemNodes), options.systemNodes);

  // Encrypted with the region's default EBS encryption key; bound where the pod lands (an EBS volume lives in one zone);
  // Delete is the Kubernetes default reclaim policy (a released volume is removed with its claim). It acts only while the driver
  // runs: claims still there when the stack is deleted go with the cluster and leave their volumes behind (README).
  const storageClass = cluster.addManifest('DefaultStorageClass', {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {
      name: DEFAULT_STORAGE_CLASS,
      annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
    },
    provisioner: 'ebs.csi.aws.com',
    parameters: { type: 'gp3', encrypted: 'true' },
    volumeBindingMode: 'WaitForFirstConsumer',
    reclaimPolicy: 'Delete',
    allowVolumeExpansion: true,
  });
  storageClass.node.addDependency(addon);
  return { addon, role, storageClass };
}

/** What `addClusterAutoscaler` creates. */
export interface ClusterAutoscaler {
  readonly chart: eks.HelmChart;
  readonly role: iam.Role;
  readonly podIdentityAssociation: eks.CfnPodIdentityAssociation;
}

/** Options of `addClusterAutoscaler`. */
export interface ClusterAutoscalerOptions extends ClusterAddonOptions {
  /** Node selector of the system nodes, where cluster-autoscaler runs. */
  readonly nodeSelector: Record<string, string>;
  /** Kubernetes version of the cluster, checked against cluster-autoscaler's. */
  readonly kubernetesVersion: eks.KubernetesVersion;
}

/**
 * cluster-autoscaler from its Helm chart, in kube-system on the system nodes, discovering the Auto Scaling
 * groups by the tags EKS puts on every managed node group's group (`k8s.io/cluster-autoscaler/enabled` and
 * `k8s.io/cluster-autoscaler/<cluster-name>`), with an IAM role by EKS Pod Identity.
 *
 * The role holds what cluster-autoscaler's AWS documentation lists: the read-only calls on `*` (they support no
 * resource-level permissions), `eks:DescribeNodegroup` on this cluster's node groups, and the two calls that change
 * capacity only on Auto Scaling groups tagged with this cluster's name.
 * @see https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/cloudprovider/aws/README.md
 */
export function addClusterAutoscaler(scope: Construct, options: ClusterAutoscalerOptions): ClusterAutoscaler {
  const { cluster } = options;
  const stack = Stack.of(scope);
  warnOnVersionSkew(scope, options.kubernetesVersion);

  const role = podIdentityRole(scope, 'ClusterAutoscalerRole', cluster, CLUSTER_AUTOSCALER_CHART.namespace,
    CLUSTER_AUTOSCALER_CHART.serviceAccount, 'cluster-autoscaler (EKS Pod Identity)');
  const policy = new iam.Policy(scope, 'ClusterAutoscalerPolicy', {
    roles: [role],
    statements: [
      new iam.PolicyStatement({
        sid: 'Describe',
        actions: [
          'autoscaling:DescribeAutoScalingGroups',
          'autoscaling:DescribeAutoScalingInstances',
          'autoscaling:DescribeLaunchConfigurations',
          'autoscaling:DescribeScalingActivities',
          'autoscaling:DescribeTags',
          'ec2:DescribeImages',
          'ec2:DescribeInstanceTypes',
          'ec2:DescribeLaunchTemplateVersions',
          'ec2:GetInstanceTypesFromInstanceRequirements',
        ],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'DescribeNodegroups',
        actions: ['eks:DescribeNodegroup'],
        resources: [Arn.format({ service: 'eks', resource: 'nodegroup', resourceName: `${cluster.clusterName}/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }, stack)],
      }),
      // cluster-autoscaler's documentation conditions these on the discovery tag k8s.io/cluster-autoscaler/<cluster-name>.
      // Here the cluster's name is generated by CloudFormation, and IAM condition keys must be literal strings in the
      // template (a key holding the name needs a deploy-time custom resource, CfnJson). The eks:cluster-name tag,
      // which EKS also puts on every managed node group's Auto Scaling group, names the same groups.
      new iam.PolicyStatement({
        sid: 'ScaleThisClustersGroups',
        actions: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:ResourceTag/eks:cluster-name': cluster.clusterName } },
      }),
    ],
  });
  acknowledgeWildcards(policy, {
    Describe: 'cluster-autoscaler\'s read-only Auto Scaling and EC2 calls (Describe*, GetInstanceTypesFromInstanceRequirements) '
      + 'support no resource-level permissions',
    DescribeNodegroups: 'the node groups of this cluster: their names are generated, and cluster-autoscaler reads any group it discovers',
    ScaleThisClustersGroups: 'EKS names the Auto Scaling groups at deploy time; both actions only apply to groups tagged with this '
      + 'cluster\'s name (aws:ResourceTag/eks:cluster-name)',
  });

  const agent = podIdentityAgent(cluster, options.systemNodes);
  const podIdentityAssociation = new eks.CfnPodIdentityAssociation(scope, 'ClusterAutoscalerPodIdentity', {
    clusterName: cluster.clusterName,
    namespace: CLUSTER_AUTOSCALER_CHART.namespace,
    serviceAccount: CLUSTER_AUTOSCALER_CHART.serviceAccount,
    roleArn: role.roleArn,
  });

  const chart = cluster.addHelmChart('ClusterAutoscaler', {
    chart: CLUSTER_AUTOSCALER_CHART.chart,
    repository: CLUSTER_AUTOSCALER_CHART.repository,
    version: CLUSTER_AUTOSCALER_CHART.version,
    namespace: CLUSTER_AUTOSCALER_CHART.namespace,
    release: CLUSTER_AUTOSCALER_CHART.release,
    createNamespace: false,
    wait: false,
    values: {
      cloudProvider: 'aws',
      awsRegion: stack.region,
      autoDiscovery: { clusterName: cluster.clusterName },
      // A fixed name, the one the Pod Identity association names (Pod Identity needs no annotation on it).
      rbac: { serviceAccount: { create: true, name: CLUSTER_AUTOSCALER_CHART.serviceAccount } },
      nodeSelector: options.nodeSelector,
      // The chart sets none (`resources: {}`), which makes the pod BestEffort: the first the kubelet evicts when the
      // two system nodes run short of memory. The requests of upstream's AWS example
      // (cloudprovider/aws/examples/cluster-autoscaler-autodiscover.yaml); not its limit, since the memory it needs
      // grows with the number of nodes and pods it watches.
      resources: { requests: { cpu: '100m', memory: '600Mi' } },
      extraArgs: {
        // Keep groups that differ only by zone the same size, and pick the group that leaves the least idle CPU
        // and memory (the GPU groups differ much in size).
        'balance-similar-node-groups': true,
        'expander': 'least-waste',
      },
    },
  });
  // Credentials are injected when the pod starts: the association and the agent must exist by then.
  chart.node.addDependency(podIdentityAssociation, policy, agent);
  return { chart, role, podIdentityAssociation };
}

/** The cluster's `eks-pod-identity-agent` add-on (aws-cdk-lib creates it once per cluster), after the system nodes. */
function podIdentityAgent(cluster: eks.Cluster, systemNodes: eks.Nodegroup): IConstruct {
  const agent = cluster.eksPodIdentityAgent!;
  agent.node.addDependency(systemNodes);
  return agent;
}

/**
 * A role that EKS Pod Identity assumes for one service account of this cluster: the trust policy lets
 * `pods.eks.amazonaws.com` assume it and tag the session, and only for sessions tagged with this cluster's name,
 * the namespace and the service account (EKS Pod Identity sets these session tags).
 * @see https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html
 */
function podIdentityRole(scope: Construct, id: string, cluster: eks.Cluster, namespace: string, serviceAccount: string, description: string): iam.Role {
  return new iam.Role(scope, id, {
    description,
    assumedBy: new iam.PrincipalWithConditions(new iam.SessionTagsPrincipal(new iam.ServicePrincipal(POD_IDENTITY_PRINCIPAL)), {
      StringEquals: {
        'aws:RequestTag/eks-cluster-name': cluster.clusterName,
        'aws:RequestTag/kubernetes-namespace': namespace,
        'aws:RequestTag/kubernetes-service-account': serviceAccount,
      },
    }),
  });
}

/** cluster-autoscaler is tested only against the Kubernetes minor version of its own. */
function warnOnVersionSkew(scope: Construct, version: eks.KubernetesVersion): void {
  if (Token.isUnresolved(version.version)) return;
  const caMinor = CLUSTER_AUTOSCALER_CHART.appVersion.split('.').slice(0, 2).join('.');
  if (version.version === caMinor) return;
  Annotations.of(scope).addWarningV2('ai-platform:clusterAutoscalerVersion',
    `cluster-autoscaler ${CLUSTER_AUTOSCALER_CHART.appVersion} (chart ${CLUSTER_AUTOSCALER_CHART.version}) is the release for Kubernetes `
    + `${caMinor}, and the cluster runs ${version.version}: cluster-autoscaler supports only its own Kubernetes minor version. `
    + `Set clusterAutoscaler: false and install the cluster-autoscaler ${version.version}.x release, or run Kubernetes ${caMinor}`);
}
