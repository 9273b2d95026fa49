import * as path from 'node:path';
import { Arn, ArnFormat, CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeWildcards } from '../../serving/private/nag';

/** Prefix of every tag cluster-autoscaler reads as a node template. */
export const NODE_TEMPLATE_PREFIX = 'k8s.io/cluster-autoscaler/node-template/';
/** CloudFormation type of the resource that keeps the tags on the Auto Scaling group. */
export const NODE_TEMPLATE_TAGS_TYPE = 'Custom::NodeTemplateTags';
/** Id, at stack level, of the one handler every node group in the stack shares. */
const HANDLER_ID = 'AiPlatformNodeTemplateTagsHandler';
/**
 * The handler's directory: plain JavaScript next to this file, in the source tree (tests run from it)
 * and in dist/ (the build copies it; the npm package ships it).
 */
const HANDLER_DIR = path.join(__dirname, 'node-template-tags-handler');

export interface NodeTemplateTagsProps {
  /** Name of the EKS cluster. */
  readonly clusterName: string;
  /** The managed node group whose Auto Scaling group carries the tags. */
  readonly nodegroupName: string;
  /** The node-template tags, every key under `NODE_TEMPLATE_PREFIX`. */
  readonly tags: Record<string, string>;
}

/**
 * Keeps an EKS managed node group's Auto Scaling group carrying exactly the given cluster-autoscaler
 * node-template tags: written on create, stale ones deleted on update, all removed on delete (also
 * when the hints are turned off). EKS does not copy node group tags to the Auto Scaling group, and
 * CloudFormation cannot tag it, hence a custom resource.
 *
 * Each node group gets its own IAM policy, on which its resource depends: CloudFormation then deletes
 * the resource (and its Delete removes the tags) before the permission goes away.
 *
 * The policy names the cluster, never the node group: a replaced group has a new name and ARN, and
 * CloudFormation updates the policy before it sends the old group's Delete (after the update) or, on a
 * rollback, the Update back to the old group. A policy naming the group would deny both, leaving the
 * old tags behind or the stack in UPDATE_ROLLBACK_FAILED, and would race IAM's propagation on every
 * replacement.
 */
export class NodeTemplateTags extends Construct {
  /** The custom resource. */
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: NodeTemplateTagsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const handler = NodeTemplateTags.handler(stack);

    const policy = new iam.Policy(this, 'Policy', {
      roles: [handler.role!],
      statements: [
        new iam.PolicyStatement({
          sid: 'DescribeNodegroup',
          actions: ['eks:DescribeNodegroup'],
          resources: [Arn.format({ service: 'eks', resource: 'nodegroup', resourceName: `${props.clusterName}/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }, stack)],
        }),
        // DeleteTags is scoped like CreateOrUpdateTags: only Auto Scaling groups EKS tagged with this
        // cluster's name, and only keys under the node-template prefix (aws:TagKeys), so the role can
        // neither touch EKS's own tags nor another cluster's groups.
        new iam.PolicyStatement({
          sid: 'NodeTemplateTags',
          actions: ['autoscaling:CreateOrUpdateTags', 'autoscaling:DeleteTags'],
          resources: [Arn.format({ service: 'autoscaling', resource: 'autoScalingGroup', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }, stack)],
          conditions: {
            // Not the node group's name (see the class comment): the role is the stack's, shared by its groups anyway.
            'StringEquals': { 'aws:ResourceTag/eks:cluster-name': props.clusterName },
            'ForAllValues:StringLike': { 'aws:TagKeys': [`${NODE_TEMPLATE_PREFIX}*`] },
          },
        }),
      ],
    });
    acknowledgeWildcards(policy, {
      DescribeNodegroup: 'the node groups of this cluster: a replaced group has a new name and ARN, and its old tags are removed '
        + 'after the policy already describes the new group',
      NodeTemplateTags: 'EKS names the Auto Scaling group at deploy time; the statement only applies to groups tagged with '
        + 'this cluster\'s name (aws:ResourceTag/eks:cluster-name) and to node-template tag keys (aws:TagKeys)',
    });

    this.resource = new CustomResource(this, 'Resource', {
      resourceType: NODE_TEMPLATE_TAGS_TYPE,
      serviceToken: handler.functionArn,
      properties: {
        ClusterName: props.clusterName,
        NodegroupName: props.nodegroupName,
        Tags: Object.entries(props.tags).map(([Key, Value]) => ({ Key, Value })),
      },
      // A handler that dies without answering fails the deployment after 5 minutes, not CloudFormation's hour.
      serviceTimeout: Duration.minutes(5),
    });
    this.resource.node.addDependency(policy);
  }

  /** The stack's handler function, created with the first node group that needs it. */
  private static handler(stack: Stack): lambda.Function {
    const existing = stack.node.tryFindChild(HANDLER_ID) as Construct | undefined;
    if (existing) return existing.node.findChild('Function') as lambda.Function;

    const scope = new Construct(stack, HANDLER_ID);
    // Operational logs of a helper, not data: they go with the stack (after the function, which
    // depends on them, so a failed Delete's logs are still there while the stack is stuck).
    const logGroup = new logs.LogGroup(scope, 'Logs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    // Only what the function needs to write its own log streams (AWSLambdaBasicExecutionRole would
    // allow every log group in the account).
    const role = new iam.Role(scope, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Keeps cluster-autoscaler node-template tags on EKS node groups\' Auto Scaling groups',
      inlinePolicies: {
        Logs: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] })],
        }),
      },
    });
    return new lambda.Function(scope, 'Function', {
      description: 'Keeps cluster-autoscaler node-template tags on EKS node groups\' Auto Scaling groups (ai-platform-constructs)',
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(HANDLER_DIR),
      timeout: Duration.minutes(2),
      role,
      logGroup,
    });
  }
}
