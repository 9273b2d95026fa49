'use strict';
/**
 * Handler of `Custom::NodeTemplateTags`, the resource behind `GpuNodeGroup`'s scale-from-zero hints.
 *
 * Keeps cluster-autoscaler's node-template tags (`k8s.io/cluster-autoscaler/node-template/...`) on an
 * EKS managed node group's Auto Scaling group equal to the set in the resource's properties:
 * - Create writes the tags.
 * - Update deletes the tags this resource wrote before (OldResourceProperties) that are no longer
 *   wanted, then creates or updates the current ones. Deleting first keeps the group under the limit of
 *   50 tags when keys are swapped.
 * - Delete removes the tags it wrote. A node group that is gone or being deleted, or an Auto Scaling
 *   group that no longer exists, has nothing left to clean.
 *
 * Only keys this resource wrote are ever deleted, never "every key under the prefix" (what DescribeTags
 * would offer): people set other node-template tags by hand, such as
 * `.../node-template/autoscaling-options/scaledownunneededtime` or resources cluster-autoscaler cannot
 * infer, and a sweep would remove them on every deployment.
 *
 * Plain JavaScript on purpose: it ships in the npm package as it is and runs on the Lambda Node.js
 * runtime's built-in AWS SDK v3, so synthesis needs no bundling.
 *
 * Properties: ClusterName, NodegroupName, Tags ([{ Key, Value }]).
 */
const { AutoScalingClient, CreateOrUpdateTagsCommand, DeleteTagsCommand } = require('@aws-sdk/client-auto-scaling');
const { DescribeNodegroupCommand, EKSClient } = require('@aws-sdk/client-eks');

const PREFIX = 'k8s.io/cluster-autoscaler/node-template/';
/** Physical id of a resource whose Create failed: its Delete (during rollback) has nothing to undo. */
const CREATE_FAILED = 'ai-platform:node-template-tags:create-failed';
/** CloudFormation refuses responses over 4096 bytes; the reason is kept well below. */
const MAX_REASON = 1000;

const autoscaling = new AutoScalingClient({});
const eks = new EKSClient({});

/** Lambda entry point: runs the request and always answers CloudFormation, SUCCESS or FAILED. */
async function handler(event) {
  console.log(JSON.stringify({
    RequestType: event.RequestType, LogicalResourceId: event.LogicalResourceId, PhysicalResourceId: event.PhysicalResourceId,
    ResourceProperties: event.ResourceProperties, OldResourceProperties: event.OldResourceProperties,
  }));
  let response;
  try {
    const result = await onEvent(event);
    response = { Status: 'SUCCESS', PhysicalResourceId: result.physicalResourceId, Data: result.data };
  } catch (err) {
    console.error(err);
    const reason = err instanceof Error ? err.message : String(err);
    response = {
      Status: 'FAILED',
      Reason: reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON)}...` : reason,
      PhysicalResourceId: event.PhysicalResourceId ?? CREATE_FAILED,
    };
  }
  await respond(event, response);
}

/** Does what the request asks and returns the physical id (and data) to answer with; throws on failure. */
async function onEvent(event) {
  // Before reading the properties: a Create that failed on them gets the same ones in its Delete, which
  // must still succeed (else the rollback fails too).
  if (event.RequestType === 'Delete' && event.PhysicalResourceId === CREATE_FAILED) return { physicalResourceId: event.PhysicalResourceId };
  const props = properties(event.ResourceProperties);
  switch (event.RequestType) {
    case 'Create': {
      const asg = await autoScalingGroupOf(props, true);
      await write(asg, props);
      return { physicalResourceId: physicalId(props), data: { AutoScalingGroupName: asg } };
    }
    case 'Update': {
      const old = properties(event.OldResourceProperties);
      const asg = await autoScalingGroupOf(props, true);
      // Another node group (it was replaced): the new id makes CloudFormation send a Delete for the old
      // one, which removes the old tags from the old group.
      if (old.clusterName === props.clusterName && old.nodegroupName === props.nodegroupName) {
        const wanted = new Set(props.tags.map((t) => t.Key));
        await remove(asg, props, old.tags.map((t) => t.Key).filter((k) => !wanted.has(k)), false);
      }
      await write(asg, props);
      return { physicalResourceId: physicalId(props), data: { AutoScalingGroupName: asg } };
    }
    case 'Delete': {
      const asg = await autoScalingGroupOf(props, false);
      if (asg !== undefined) await remove(asg, props, props.tags.map((t) => t.Key), true);
      return { physicalResourceId: event.PhysicalResourceId };
    }
    default:
      throw new Error(`Unknown RequestType ${JSON.stringify(event.RequestType)}: expected Create, Update or Delete`);
  }
}

function properties(raw) {
  const p = raw ?? {};
  if (typeof p.ClusterName !== 'string' || typeof p.NodegroupName !== 'string' || !Array.isArray(p.Tags)) {
    throw new Error(`ClusterName, NodegroupName and Tags are required properties; received ${JSON.stringify(Object.keys(p))}`);
  }
  return {
    clusterName: p.ClusterName,
    nodegroupName: p.NodegroupName,
    tags: p.Tags.map((t) => ({ Key: String(t.Key), Value: String(t.Value) })),
  };
}

function physicalId(props) {
  return `${props.clusterName}/${props.nodegroupName}/node-template-tags`;
}

function describe(props) {
  return `node group ${props.nodegroupName} of cluster ${props.clusterName}`;
}

/**
 * The node group's Auto Scaling group, from DescribeNodegroup. When `required` is false (Delete), a node
 * group that no longer exists, is being deleted or has no Auto Scaling group yields undefined.
 */
async function autoScalingGroupOf(props, required) {
  let nodegroup;
  try {
    ({ nodegroup } = await eks.send(new DescribeNodegroupCommand({ clusterName: props.clusterName, nodegroupName: props.nodegroupName })));
  } catch (err) {
    if (!required && err.name === 'ResourceNotFoundException') return undefined;
    throw new Error(`Could not describe ${describe(props)} to find its Auto Scaling group: ${err.name}: ${err.message}`, { cause: err });
  }
  if (!required && nodegroup?.status === 'DELETING') return undefined;
  const name = nodegroup?.resources?.autoScalingGroups?.[0]?.name;
  if (name === undefined && required) {
    throw new Error(`The ${describe(props)} has no Auto Scaling group (status ${nodegroup?.status ?? 'unknown'}); nothing to tag`);
  }
  return name;
}

async function write(asg, props) {
  if (props.tags.length === 0) return;
  try {
    await autoscaling.send(new CreateOrUpdateTagsCommand({
      Tags: props.tags.map((t) => ({ ResourceId: asg, ResourceType: 'auto-scaling-group', Key: t.Key, Value: t.Value, PropagateAtLaunch: false })),
    }));
  } catch (err) {
    throw new Error(`Could not write cluster-autoscaler node-template tags to Auto Scaling group ${asg} (${describe(props)}): ${err.name}: ${err.message}`, { cause: err });
  }
}

/**
 * Deletes tags by key (whatever their value), only keys under the node-template prefix. With
 * `tolerateMissing`, an Auto Scaling group that no longer exists counts as done.
 */
async function remove(asg, props, keys, tolerateMissing) {
  const ours = [...new Set(keys)].filter((k) => k.startsWith(PREFIX));
  if (ours.length === 0) return;
  try {
    await autoscaling.send(new DeleteTagsCommand({
      Tags: ours.map((Key) => ({ ResourceId: asg, ResourceType: 'auto-scaling-group', Key })),
    }));
  } catch (err) {
    // Auto Scaling answers ValidationError "AutoScalingGroup not found" for a group that is gone.
    if (tolerateMissing && err.name === 'ValidationError' && /not found/i.test(err.message)) return;
    throw new Error(`Could not delete cluster-autoscaler node-template tags ${ours.join(', ')} from Auto Scaling group ${asg} (${describe(props)}): ${err.name}: ${err.message}`, { cause: err });
  }
}

/** Answers CloudFormation on the pre-signed response URL (an S3 PUT signed without a content type). */
async function respond(event, response) {
  const body = JSON.stringify({
    ...response,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    NoEcho: false,
  });
  const answer = await fetch(event.ResponseURL, { method: 'PUT', headers: { 'content-type': '' }, body });
  if (!answer.ok) {
    throw new Error(`CloudFormation's response URL answered ${answer.status} ${answer.statusText}`);
  }
}

module.exports = { handler, onEvent, PREFIX, CREATE_FAILED };
