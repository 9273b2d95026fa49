// Example: add GPU node groups to an EKS cluster that already exists (imported by name), as a platform team
// would in a stack it already has. Synthesize with: npx cdk synth --app 'npx tsx examples/gpu-node-groups/app.ts'
import { KubectlV34Layer } from '@aws-cdk/lambda-layer-kubectl-v34';
import { App, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import { Construct } from 'constructs';
import { Capacity, GpuInstanceType, GpuNodeGroup } from '../../lib';

export interface GpuNodeGroupsStackProps extends StackProps {
  /** Name of the existing EKS cluster. */
  readonly clusterName: string;
  /** ID of the cluster's VPC and its private subnets. */
  readonly vpcId: string;
  readonly availabilityZones: string[];
  readonly privateSubnetIds: string[];
  /** Route tables of the private subnets, in the same order (aws-cdk warns about an imported subnet without one). */
  readonly privateSubnetRouteTableIds: string[];
  /** Role CDK may use to run kubectl on the cluster (to install the device plugins). */
  readonly kubectlRoleArn: string;
}

export class GpuNodeGroupsStack extends Stack {
  public readonly inference: GpuNodeGroup;
  public readonly training: GpuNodeGroup;
  public readonly neuron: GpuNodeGroup;

  constructor(scope: Construct, id: string, props: GpuNodeGroupsStackProps) {
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

    // Latency-sensitive serving: on-demand L4 GPUs, never fewer than one node.
    this.inference = new GpuNodeGroup(this, 'Inference', {
      cluster, instanceTypes: [GpuInstanceType.G6_XLARGE], minSize: 1, maxSize: 6,
    });
    // Training: spot L40S, with the interchangeable sizes that cost at most twice as much, scaling from zero.
    this.training = new GpuNodeGroup(this, 'Training', {
      cluster, instanceTypes: [GpuInstanceType.G6E_2XLARGE], capacity: Capacity.spot({ diversify: true }), minSize: 0, maxSize: 10,
    });
    // Inferentia2 for cost-efficient inference of compiled models.
    this.neuron = new GpuNodeGroup(this, 'Inferentia', {
      cluster, instanceTypes: [GpuInstanceType.INF2_XLARGE], minSize: 0, maxSize: 4,
    });

    // aws-cdk's kubectl provider (Lambda functions that run helm with the kubectl role) installs the device
    // plugins. Its findings are aws-cdk's design, acknowledged here on that provider only, with the reasons.
    const kubectlProvider = this.node.children.find((c) => c.node.id.endsWith('-KubectlProvider'));
    if (kubectlProvider) {
      const managed = (arn: string) => `AwsSolutions-IAM4[Policy::${arn}]`;
      const ecrPublic = '{"Fn::If":["HandlerHasEcrPublic195AF58A",{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},'
        + '":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly"]]},{"Ref":"AWS::NoValue"}]}';
      Validations.of(kubectlProvider).acknowledge(
        { id: managed('arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'), reason: 'aws-cdk\'s kubectl provider functions write their own logs' },
        { id: managed('arn:<AWS::Partition>:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly'), reason: 'the kubectl handler pulls Helm charts stored in ECR' },
        { id: managed(ecrPublic), reason: 'the kubectl handler pulls public OCI Helm charts (the Neuron chart) from ECR Public' },
        { id: 'AwsSolutions-IAM5[Resource::<Handler886CB40B.Arn>:*]', reason: 'the provider framework may invoke any version of its own handler function and nothing else' },
        { id: 'AwsSolutions-L1', reason: 'aws-cdk pins the kubectl handler runtime to the one its kubectl layer is built for' },
      );
    }
  }
}

if (require.main === module) {
  const app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
  new GpuNodeGroupsStack(app, 'GpuNodeGroups', {
    env: { account: '123456789012', region: 'us-east-1' },
    clusterName: 'prod',
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
    privateSubnetRouteTableIds: ['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0bbbbbbbbbbbbbbb2'],
    kubectlRoleArn: 'arn:aws:iam::123456789012:role/eks-kubectl',
  });
  app.synth();
}
