import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AiPlatformStack } from '../../lib/ai-platform-stack';
import { TEST_CONTEXT } from '../helpers';

describe('AiPlatformStack serves the example model on SageMaker', () => {
  const app = new App({ context: TEST_CONTEXT });
  const stack = new AiPlatformStack(app, 'Platform');
  const template = Template.fromStack(stack);

  test('one endpoint from the bundled CPU image, in the platform VPC', () => {
    expect(stack.modelEndpoint.node.path).toBe('Platform/ModelEndpoint');
    template.resourceCountIs('AWS::SageMaker::Endpoint', 1);
    template.hasResourceProperties('AWS::SageMaker::Model', {
      VpcConfig: { Subnets: Match.arrayWith([{ Ref: Match.stringLikeRegexp('VpcprivateSubnet1') }]), SecurityGroupIds: Match.anyValue() },
    });
    const manifest = JSON.parse(fs.readFileSync(path.join(app.synth().directory, `${stack.artifactId}.assets.json`), 'utf8'));
    const images = Object.values(manifest.dockerImages) as Array<{ source: { directory: string; dockerFile: string } }>;
    expect(images.map((i) => i.source.dockerFile)).toEqual(['Dockerfile']);
  });

  test('with autoscaling, a canary rollout rolled back by alarms, and data capture', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { ServiceNamespace: 'sagemaker', MinCapacity: 2, MaxCapacity: 6 });
    template.hasResourceProperties('AWS::SageMaker::Endpoint', {
      DeploymentConfig: {
        BlueGreenUpdatePolicy: Match.objectLike({ TrafficRoutingConfiguration: Match.objectLike({ Type: 'CANARY' }) }),
        AutoRollbackConfiguration: { Alarms: Match.anyValue() },
      },
    });
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', { DataCaptureConfig: Match.objectLike({ EnableCapture: true, InitialSamplingPercentage: 10 }) });
  });
});
