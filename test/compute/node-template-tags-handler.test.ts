import { AddressInfo } from 'node:net';
import * as http from 'node:http';
import {
  AutoScalingClient, AutoScalingServiceException, CreateOrUpdateTagsCommand, DeleteTagsCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeNodegroupCommand, EKSClient, ResourceNotFoundException } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';

/**
 * The handler behind Custom::NodeTemplateTags, run as Lambda would run it: plain JavaScript, its AWS
 * calls recorded by aws-sdk-client-mock, its answer to CloudFormation received by a real HTTP server
 * standing in for the pre-signed response URL.
 */
interface CfnEvent {
  RequestType: 'Create' | 'Update' | 'Delete';
  ResourceProperties: Record<string, unknown>;
  OldResourceProperties?: Record<string, unknown>;
  PhysicalResourceId?: string;
}
interface HandlerModule {
  handler(event: Record<string, unknown>): Promise<void>;
  CREATE_FAILED: string;
}
const { handler, CREATE_FAILED } = require('../../constructs/compute/private/node-template-tags-handler') as HandlerModule;

const T = 'k8s.io/cluster-autoscaler/node-template';
const ASG = 'eks-gpus-7ec8a4b2-1111-2222-3333-444455556666';
const PHYSICAL_ID = 'prod/gpus/node-template-tags';
const tag = (Key: string, Value: string) => ({ Key, Value });
const CURRENT = [
  tag(`${T}/label/ai-platform.dev/accelerator-model`, 'a10g'),
  tag(`${T}/taint/nvidia.com/gpu`, 'true:NoSchedule'),
  tag(`${T}/resources/nvidia.com/gpu`, '1'),
  tag(`${T}/resources/ephemeral-storage`, '200Gi'),
];
const DEDICATED = tag(`${T}/taint/example.com/dedicated`, 'training:NoSchedule');
const props = (tags: Array<{ Key: string; Value: string }>, nodegroupName = 'gpus') => ({
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:handler', ServiceTimeout: '300',
  ClusterName: 'prod', NodegroupName: nodegroupName, Tags: tags,
});
/** What CreateOrUpdateTags / DeleteTags receive for these tags on the group. */
const onAsg = (tags: Array<{ Key: string; Value: string }>, asg = ASG) =>
  tags.map((t) => ({ ResourceId: asg, ResourceType: 'auto-scaling-group', Key: t.Key, Value: t.Value, PropagateAtLaunch: false }));
const keysOnAsg = (tags: Array<{ Key: string }>, asg = ASG) =>
  tags.map((t) => ({ ResourceId: asg, ResourceType: 'auto-scaling-group', Key: t.Key }));

const eks = mockClient(EKSClient);
const autoscaling = mockClient(AutoScalingClient);

let server: http.Server;
let responseUrl: string;
let answers: Array<{ method: string; contentType: string | undefined; body: Record<string, unknown> }>;

beforeAll(async () => {
  process.env.AWS_REGION = 'us-east-1';
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      answers.push({ method: req.method!, contentType: req.headers['content-type'], body: JSON.parse(body) });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  responseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cfn-response?X-Amz-Signature=abc`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  answers = [];
  eks.reset();
  autoscaling.reset();
  eks.on(DescribeNodegroupCommand).resolves({ nodegroup: { status: 'ACTIVE', resources: { autoScalingGroups: [{ name: ASG }] } } });
  autoscaling.on(CreateOrUpdateTagsCommand).resolves({});
  autoscaling.on(DeleteTagsCommand).resolves({});
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

/** Runs one event through the handler and returns what it answered CloudFormation. */
async function run(event: CfnEvent): Promise<Record<string, unknown>> {
  await handler({
    ...event,
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Platform/guid',
    RequestId: 'request-1',
    LogicalResourceId: 'GpusScaleFromZeroTags6ECA6374',
    ResourceType: 'Custom::NodeTemplateTags',
  });
  expect(answers).toHaveLength(1);
  return answers[0].body;
}

/** The Auto Scaling calls in the order they were made, as [command, input]. */
function autoscalingCalls(): Array<[string, unknown]> {
  return autoscaling.calls().map((c) => [c.args[0].constructor.name, c.args[0].input]);
}

describe('Create', () => {
  test('finds the Auto Scaling group with DescribeNodegroup and writes every tag to it, deleting nothing', async () => {
    const answer = await run({ RequestType: 'Create', ResourceProperties: props(CURRENT) });

    expect(eks.commandCalls(DescribeNodegroupCommand).map((c) => c.args[0].input)).toEqual([{ clusterName: 'prod', nodegroupName: 'gpus' }]);
    expect(autoscalingCalls()).toEqual([['CreateOrUpdateTagsCommand', { Tags: onAsg(CURRENT) }]]);
    expect(answer).toEqual({
      Status: 'SUCCESS', PhysicalResourceId: PHYSICAL_ID, Data: { AutoScalingGroupName: ASG },
      StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Platform/guid', RequestId: 'request-1',
      LogicalResourceId: 'GpusScaleFromZeroTags6ECA6374', NoEcho: false,
    });
  });

  test('answers with a PUT without a content type, as the pre-signed S3 URL requires', async () => {
    await run({ RequestType: 'Create', ResourceProperties: props(CURRENT) });
    expect(answers[0].method).toBe('PUT');
    expect(answers[0].contentType).toBe('');
  });

  test('an Auto Scaling error fails the event with a reason naming the Auto Scaling group', async () => {
    autoscaling.on(CreateOrUpdateTagsCommand).rejects(new AutoScalingServiceException({
      name: 'AccessDenied', $fault: 'client', $metadata: {}, message: 'User is not authorized to perform: autoscaling:CreateOrUpdateTags',
    }));
    const answer = await run({ RequestType: 'Create', ResourceProperties: props(CURRENT) });
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toBe(`Could not write cluster-autoscaler node-template tags to Auto Scaling group ${ASG} (node group gpus of cluster prod): `
      + 'AccessDenied: User is not authorized to perform: autoscaling:CreateOrUpdateTags');
    // Nothing was created: the rollback's Delete for this id has nothing to undo.
    expect(answer.PhysicalResourceId).toBe(CREATE_FAILED);
  });

  test('a node group without an Auto Scaling group fails the event, naming the node group', async () => {
    eks.on(DescribeNodegroupCommand).resolves({ nodegroup: { status: 'CREATING', resources: { autoScalingGroups: [] } } });
    const answer = await run({ RequestType: 'Create', ResourceProperties: props(CURRENT) });
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/^The node group gpus of cluster prod has no Auto Scaling group \(status CREATING\)/);
    expect(autoscaling.calls()).toHaveLength(0);
  });
});

describe('Update', () => {
  test('that drops a taint deletes exactly that tag, before writing the rest', async () => {
    const answer = await run({
      RequestType: 'Update', PhysicalResourceId: PHYSICAL_ID,
      OldResourceProperties: props([...CURRENT, DEDICATED]), ResourceProperties: props(CURRENT),
    });
    expect(autoscalingCalls()).toEqual([
      ['DeleteTagsCommand', { Tags: keysOnAsg([DEDICATED]) }],
      ['CreateOrUpdateTagsCommand', { Tags: onAsg(CURRENT) }],
    ]);
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: PHYSICAL_ID });
  });

  test('with an unchanged set of keys deletes nothing, and writes changed values', async () => {
    const before = CURRENT.map((t) => (t.Key.endsWith('ephemeral-storage') ? tag(t.Key, '100Gi') : t));
    await run({ RequestType: 'Update', PhysicalResourceId: PHYSICAL_ID, OldResourceProperties: props(before), ResourceProperties: props(CURRENT) });
    expect(autoscaling.commandCalls(DeleteTagsCommand)).toHaveLength(0);
    expect(autoscalingCalls()).toEqual([['CreateOrUpdateTagsCommand', { Tags: onAsg(CURRENT) }]]);
  });

  test('never deletes a key outside the node-template prefix, whatever the old properties say', async () => {
    await run({
      RequestType: 'Update', PhysicalResourceId: PHYSICAL_ID,
      OldResourceProperties: props([...CURRENT, tag('eks:nodegroup-name', 'gpus'), DEDICATED]), ResourceProperties: props(CURRENT),
    });
    expect(autoscaling.commandCalls(DeleteTagsCommand).map((c) => c.args[0].input)).toEqual([{ Tags: keysOnAsg([DEDICATED]) }]);
  });

  test('to a replacement node group writes its tags and answers a new id, so CloudFormation deletes the old one\'s', async () => {
    eks.on(DescribeNodegroupCommand, { nodegroupName: 'gpus-2' }).resolves({ nodegroup: { status: 'ACTIVE', resources: { autoScalingGroups: [{ name: 'eks-gpus-2-abc' }] } } });
    const answer = await run({
      RequestType: 'Update', PhysicalResourceId: PHYSICAL_ID,
      OldResourceProperties: props([...CURRENT, DEDICATED]), ResourceProperties: props(CURRENT, 'gpus-2'),
    });
    expect(autoscalingCalls()).toEqual([['CreateOrUpdateTagsCommand', { Tags: onAsg(CURRENT, 'eks-gpus-2-abc') }]]);
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'prod/gpus-2/node-template-tags' });
  });

  test('an Auto Scaling error fails the event with a reason naming the Auto Scaling group, keeping the id', async () => {
    autoscaling.on(DeleteTagsCommand).rejects(new AutoScalingServiceException({
      name: 'ResourceContention', $fault: 'server', $metadata: {}, message: 'You already have a pending update to an Auto Scaling resource',
    }));
    const answer = await run({
      RequestType: 'Update', PhysicalResourceId: PHYSICAL_ID,
      OldResourceProperties: props([...CURRENT, DEDICATED]), ResourceProperties: props(CURRENT),
    });
    expect(answer).toMatchObject({ Status: 'FAILED', PhysicalResourceId: PHYSICAL_ID });
    expect(answer.Reason).toBe(`Could not delete cluster-autoscaler node-template tags ${DEDICATED.Key} from Auto Scaling group ${ASG} `
      + '(node group gpus of cluster prod): ResourceContention: You already have a pending update to an Auto Scaling resource');
  });
});

describe('Delete', () => {
  test('removes every tag it wrote, by key', async () => {
    const answer = await run({ RequestType: 'Delete', PhysicalResourceId: PHYSICAL_ID, ResourceProperties: props([...CURRENT, DEDICATED]) });
    expect(autoscalingCalls()).toEqual([['DeleteTagsCommand', { Tags: keysOnAsg([...CURRENT, DEDICATED]) }]]);
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: PHYSICAL_ID });
  });

  test('succeeds when the Auto Scaling group no longer exists', async () => {
    autoscaling.on(DeleteTagsCommand).rejects(new AutoScalingServiceException({
      name: 'ValidationError', $fault: 'client', $metadata: {}, message: `AutoScalingGroup not found - AutoScaling Group ${ASG} not found`,
    }));
    const answer = await run({ RequestType: 'Delete', PhysicalResourceId: PHYSICAL_ID, ResourceProperties: props(CURRENT) });
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: PHYSICAL_ID });
  });

  test('succeeds without calling Auto Scaling when the node group is gone', async () => {
    eks.on(DescribeNodegroupCommand).rejects(new ResourceNotFoundException({ $metadata: {}, message: 'No node group found for name: gpus.' }));
    const answer = await run({ RequestType: 'Delete', PhysicalResourceId: PHYSICAL_ID, ResourceProperties: props(CURRENT) });
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: PHYSICAL_ID });
    expect(autoscaling.calls()).toHaveLength(0);
  });

  test('succeeds without calling Auto Scaling when the node group is being deleted', async () => {
    eks.on(DescribeNodegroupCommand).resolves({ nodegroup: { status: 'DELETING', resources: { autoScalingGroups: [{ name: ASG }] } } });
    const answer = await run({ RequestType: 'Delete', PhysicalResourceId: PHYSICAL_ID, ResourceProperties: props(CURRENT) });
    expect(answer).toMatchObject({ Status: 'SUCCESS' });
    expect(autoscaling.calls()).toHaveLength(0);
  });

  test('of a resource whose Create failed does nothing', async () => {
    const answer = await run({ RequestType: 'Delete', PhysicalResourceId: CREATE_FAILED, ResourceProperties: props(CURRENT) });
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: CREATE_FAILED });
    expect(eks.calls()).toHaveLength(0);
    expect(autoscaling.calls()).toHaveLength(0);
  });

  test('of a resource whose Create failed on its properties succeeds, so the rollback is not stuck', async () => {
    const create = await run({ RequestType: 'Create', ResourceProperties: { ClusterName: 'prod', NodegroupName: 'gpus' } });
    expect(create).toMatchObject({ Status: 'FAILED', PhysicalResourceId: CREATE_FAILED });
    answers = [];
    const answer = await run({ RequestType: 'Delete', PhysicalResourceId: CREATE_FAILED, ResourceProperties: { ClusterName: 'prod', NodegroupName: 'gpus' } });
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: CREATE_FAILED });
  });

  test('fails on any other error, naming the Auto Scaling group (tags are not silently left behind)', async () => {
    autoscaling.on(DeleteTagsCommand).rejects(new AutoScalingServiceException({
      name: 'AccessDenied', $fault: 'client', $metadata: {}, message: 'User is not authorized to perform: autoscaling:DeleteTags',
    }));
    const answer = await run({ RequestType: 'Delete', PhysicalResourceId: PHYSICAL_ID, ResourceProperties: props(CURRENT) });
    expect(answer).toMatchObject({ Status: 'FAILED', PhysicalResourceId: PHYSICAL_ID });
    expect(answer.Reason).toContain(`from Auto Scaling group ${ASG} (node group gpus of cluster prod): AccessDenied`);
  });
});
