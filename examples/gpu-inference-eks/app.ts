// Example: serve a GPU model on EKS with an autoscaler. A CDK stack adds an on-demand GPU node group to an
// existing cluster and deploys a cdk8s chart onto it (cluster.addCdk8sChart); the same chart is also
// written as plain YAML for GitOps. Synthesize with: npx tsx examples/gpu-inference-eks/app.ts
import * as path from 'node:path';
import { KubectlV34Layer } from '@aws-cdk/lambda-layer-kubectl-v34';
import { App, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as cdk8s from 'cdk8s';
import { Construct } from 'constructs';
import {
  AcceleratorVendor, DevicePluginDaemonSet, GpuInstanceType, GpuNodeGroup, IAcceleratorNodes, IngressPeer, InferenceService,
  ModelSource, ScalingMetric,
} from '../../lib';

export interface GpuInferenceChartProps extends cdk8s.ChartProps {
  /** The GPU nodes to serve on: a GpuNodeGroup, a GpuNodePool, or AcceleratorNodes.labeled(...). */
  readonly nodes: IAcceleratorNodes;
  /** The inference server image. */
  readonly image: string;
  /** Where the model directory lives in S3. */
  readonly modelUri: string;
  /** Service account with read access to the model (IRSA or EKS Pod Identity). */
  readonly serviceAccountName: string;
  /** Add the device plugin DaemonSet (GitOps clusters; `GpuNodeGroup` installs it with Helm otherwise). */
  readonly devicePlugin?: boolean;
}

/** The Kubernetes side: a fraud model on one GPU per pod, 2 to 8 pods, scaled on CPU and queue depth. */
export class GpuInferenceChart extends cdk8s.Chart {
  public readonly service: InferenceService;

  constructor(scope: Construct, id: string, props: GpuInferenceChartProps) {
    super(scope, id, props);
    if (props.devicePlugin) {
      DevicePluginDaemonSet.of(this, AcceleratorVendor.NVIDIA);
    }
    this.service = new InferenceService(this, 'Fraud', {
      name: 'fraud-model',
      image: props.image,
      model: ModelSource.fromS3Uri(props.modelUri),
      serviceAccountName: props.serviceAccountName,
      nodes: props.nodes,
      minReplicas: 2,
      maxReplicas: 8,
      scalingMetric: ScalingMetric.queueDepth(16),
      allowFrom: [IngressPeer.namespace('checkout')],
    });
  }
}

export interface GpuInferenceStackProps extends StackProps {
  readonly clusterName: string;
  readonly vpcId: string;
  readonly availabilityZones: string[];
  readonly privateSubnetIds: string[];
  /** Route tables of the private subnets, in the same order (aws-cdk warns about an imported subnet without one). */
  readonly privateSubnetRouteTableIds: string[];
  /** Role CDK may use to run kubectl on the cluster. */
  readonly kubectlRoleArn: string;
  readonly image: string;
  readonly modelUri: string;
}

/** The AWS side: an on-demand g5 node group on an existing cluster, and the chart deployed onto it. */
export class GpuInferenceStack extends Stack {
  public readonly nodeGroup: GpuNodeGroup;
  public readonly chart: GpuInferenceChart;

  constructor(scope: Construct, id: string, props: GpuInferenceStackProps) {
    super(scope, id, props);
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: props.vpcId, availabilityZones: props.availabilityZones, privateSubnetIds: props.privateSubnetIds,
      privateSubnetRouteTableIds: props.privateSubnetRouteTableIds,
    });
    const cluster = eks.Cluster.fromClusterAttributes(this, 'Cluster', {
      clusterName: props.clusterName, vpc, kubectlRoleArn: props.kubectlRoleArn,
      // kubectl and helm for aws-eks's kubectl provider (it has no default layer): match the cluster's Kubernetes version.
      kubectlLayer: new KubectlV34Layer(this, 'KubectlLayer'),
    });
    // One node more than the chart's 8 pods: a rollout at the maximum adds a pod before removing one.
    this.nodeGroup = new GpuNodeGroup(this, 'Inference', {
      cluster, instanceTypes: [GpuInstanceType.G5_XLARGE], minSize: 2, maxSize: 9,
    });
    this.chart = new GpuInferenceChart(new cdk8s.App(), 'fraud', {
      namespace: 'serving',
      nodes: this.nodeGroup,
      image: props.image,
      modelUri: props.modelUri,
      serviceAccountName: 'fraud-model',
    });
    cluster.addCdk8sChart('FraudModel', this.chart);

    // aws-cdk's kubectl provider (Lambda functions running kubectl and helm with the kubectl role) is
    // aws-cdk's design; its findings are acknowledged on that provider only, with the reasons.
    const kubectlProvider = this.node.children.find((c) => c.node.id.endsWith('-KubectlProvider'));
    if (kubectlProvider) {
      const managed = (arn: string) => `AwsSolutions-IAM4[Policy::${arn}]`;
      const ecrPublic = '{"Fn::If":["HandlerHasEcrPublic195AF58A",{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},'
        + '":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"]]},{"Ref":"AWS::NoValue"}]}';
      Validations.of(kubectlProvider).acknowledge(
        { id: managed('arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'), reason: 'aws-cdk\'s kubectl provider functions write their own logs' },
        { id: managed('arn:<AWS::Partition>:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly'), reason: 'the kubectl handler pulls Helm charts stored in ECR' },
        { id: managed(ecrPublic), reason: 'the kubectl handler pulls public OCI Helm charts from ECR Public' },
        { id: 'AwsSolutions-IAM5[Resource::<Handler886CB40B.Arn>:*]', reason: 'the provider framework may invoke any version of its own handler function and nothing else' },
        { id: 'AwsSolutions-L1', reason: 'aws-cdk pins the kubectl handler runtime to the one its kubectl layer is built for' },
      );
    }
  }
}

/** Example settings: an existing cluster in us-east-1 and the model in S3. */
export const EXAMPLE_SETTINGS: GpuInferenceStackProps = {
  env: { account: '123456789012', region: 'us-east-1' },
  clusterName: 'prod',
  vpcId: 'vpc-0123456789abcdef0',
  availabilityZones: ['us-east-1a', 'us-east-1b'],
  privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
  privateSubnetRouteTableIds: ['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0bbbbbbbbbbbbbbb2'],
  kubectlRoleArn: 'arn:aws:iam::123456789012:role/eks-kubectl',
  image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/inference-server-gpu:0.1.0', // container/Dockerfile.gpu
  modelUri: 's3://example-models/fraud/v3/',
};

if (require.main === module) {
  const outdir = path.join(__dirname, '..', '..', 'dist', 'examples', 'gpu-inference-eks');
  // CDK: the node group and the chart as a Kubernetes manifest resource.
  const app = new App({ outdir: path.join(outdir, 'cdk.out'), context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
  const stack = new GpuInferenceStack(app, 'GpuInferenceEks', EXAMPLE_SETTINGS);
  app.synth();

  // GitOps: the same chart (with the device plugin DaemonSet) as YAML, for Argo CD or Flux.
  const k8sApp = new cdk8s.App({ outdir, outputFileExtension: '.yaml' });
  new GpuInferenceChart(k8sApp, 'fraud', {
    namespace: 'serving', nodes: stack.nodeGroup, image: EXAMPLE_SETTINGS.image, modelUri: EXAMPLE_SETTINGS.modelUri,
    serviceAccountName: 'fraud-model', devicePlugin: true,
  });
  k8sApp.synth();
  console.log(`wrote ${path.relative(process.cwd(), outdir)}/cdk.out/ and ${path.relative(process.cwd(), outdir)}/fraud.yaml`);
}
