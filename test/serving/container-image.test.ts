import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { AcceleratorVendor, GpuInstanceType } from '../../constructs/compute/gpu-instance-type';
import { BUNDLED_IMAGE_EXCLUDES, ContainerImage, EndpointInstanceType, EndpointVariant, InferenceAmiVersion, RolloutStrategy } from '../../constructs/serving';
import { newStack, TEST_CONTEXT } from '../helpers';
import { FIXTURE_IMAGE_DIR, newEndpoint } from './util';

function pullStatement(template: Template): Record<string, unknown> {
  const [policy] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('ExecutionPolicy') } }));
  return policy.Properties.PolicyDocument.Statement.find((s: Record<string, unknown>) => s.Sid === 'PullImage');
}

describe('ContainerImage', () => {
  test('bundled() builds a Docker image asset for linux/amd64 without node_modules, dist, test and bench', () => {
    const { app, stack } = newStack();
    newEndpoint(stack, { image: ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR, buildArgs: { BASE_IMAGE: 'node:20-slim' } }) });
    const assembly = app.synth();
    const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8'));
    const [image] = Object.values(manifest.dockerImages) as Array<{ source: Record<string, unknown> }>;
    expect(image.source).toMatchObject({ dockerFile: 'Dockerfile', platform: 'linux/amd64', dockerBuildArgs: { BASE_IMAGE: 'node:20-slim' } });
    expect(BUNDLED_IMAGE_EXCLUDES).toEqual(expect.arrayContaining(['node_modules', 'dist', 'test', 'bench']));
  });

  test('fromAsset() sends the whole directory as the build context: dist, test and node_modules belong to the user\'s image', () => {
    // A common Dockerfile copies a prebuilt dist/ (COPY dist ./dist); leaving it out of the context fails the build at cdk deploy.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'own-image-'));
    try {
      fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch\nCOPY dist /app\nCOPY test /test\n');
      for (const sub of ['dist', 'test', 'bench', 'node_modules']) {
        fs.mkdirSync(path.join(dir, sub));
        fs.writeFileSync(path.join(dir, sub, 'file.txt'), sub);
      }
      fs.mkdirSync(path.join(dir, 'secrets'));
      fs.writeFileSync(path.join(dir, 'secrets', 'key.txt'), 'x');
      const { app, stack } = newStack();
      newEndpoint(stack, { image: ContainerImage.fromAsset(dir, { exclude: ['secrets'] }) });
      const assembly = app.synth();
      const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8'));
      const [image] = Object.values(manifest.dockerImages) as Array<{ source: { directory: string } }>;
      const staged = path.join(assembly.directory, image.source.directory);
      for (const sub of ['dist', 'test', 'bench', 'node_modules']) expect(fs.existsSync(path.join(staged, sub, 'file.txt'))).toBe(true);
      expect(fs.existsSync(path.join(staged, 'secrets'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bundled() with another Dockerfile name uses it', () => {
    const { app, stack } = newStack();
    newEndpoint(stack, { image: ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR, file: 'Dockerfile.gpu' }) });
    const manifest = JSON.parse(fs.readFileSync(path.join(app.synth().directory, `${stack.artifactId}.assets.json`), 'utf8'));
    expect(Object.values(manifest.dockerImages).map((i) => (i as { source: { dockerFile: string } }).source.dockerFile)).toEqual(['Dockerfile.gpu']);
  });

  test('bundled() finds container/ at the package root and fails clearly when the Dockerfile is missing', () => {
    const { stack } = newStack();
    expect(() => newEndpoint(stack, { image: ContainerImage.bundled({ file: 'Dockerfile.does-not-exist' }) }))
      .toThrow(/'image' \(".*container\/Dockerfile\.does-not-exist"\) must name an existing Dockerfile/);
  });

  test('fromEcrRepository with a tag or digest that is not one fails synthesis, naming it', () => {
    // A tag has at most 128 characters.
    for (const bad of ['', 'v1 ', ':v1', 'sha256:abc', '-v1', 'a'.repeat(129)]) {
      const { stack } = newStack();
      const repo = ecr.Repository.fromRepositoryName(stack, 'Repo', 'inference');
      expect(() => newEndpoint(stack, { image: ContainerImage.fromEcrRepository(repo, bad) }))
        .toThrow(expect.objectContaining({ prop: 'image', received: bad, message: expect.stringMatching(/must be an image tag/) }));
    }
  });

  test('fromEcrRepository accepts a digest and a tag from a parameter', () => {
    const { stack } = newStack();
    const repo = ecr.Repository.fromRepositoryName(stack, 'Repo', 'inference');
    const tag = new CfnParameter(stack, 'Tag').valueAsString;
    expect(() => newEndpoint(stack, { image: ContainerImage.fromEcrRepository(repo, tag) })).not.toThrow();
    const other = newStack().stack;
    const repo2 = ecr.Repository.fromRepositoryName(other, 'Repo', 'inference');
    expect(() => newEndpoint(other, { image: ContainerImage.fromEcrRepository(repo2, `sha256:${'a'.repeat(64)}`) })).not.toThrow();
    const third = newStack().stack;
    const repo3 = ecr.Repository.fromRepositoryName(third, 'Repo', 'inference');
    expect(() => newEndpoint(third, { image: ContainerImage.fromEcrRepository(repo3, 'a'.repeat(128)) })).not.toThrow();
  });

  test('fromEcrRepository pulls the tag and grants pull on that repository only', () => {
    const { stack } = newStack();
    const repo = ecr.Repository.fromRepositoryName(stack, 'Repo', 'inference');
    newEndpoint(stack, { image: ContainerImage.fromEcrRepository(repo, 'v3') });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: Match.objectLike({ Image: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/inference:v3$')])] } }),
    });
    expect(JSON.stringify(pullStatement(template).Resource)).toMatch(/:repository\/inference"/);
  });

  test('fromImageUri with an ECR URI grants pull on the repository it names', () => {
    const { stack } = newStack();
    newEndpoint(stack, { image: ContainerImage.fromImageUri('111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/server:1.2') });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::Model', { PrimaryContainer: Match.objectLike({ Image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/server:1.2' }) });
    expect(pullStatement(template).Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:eu-west-1:111122223333:repository/team/server']] });
  });

  test('an image named by the tag latest (or no tag) warns that a new push under it is never rolled out; a version or digest does not', () => {
    const warningsFor = (image: (stack: ReturnType<typeof newStack>['stack']) => ContainerImage) => {
      const { stack } = newStack();
      newEndpoint(stack, { image: image(stack) });
      return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('mutableImageTag'));
    };
    const repo = (stack: ReturnType<typeof newStack>['stack']) => ecr.Repository.fromRepositoryName(stack, 'Repo', 'my-server');
    const uri = '123456789012.dkr.ecr.us-east-1.amazonaws.com/team/server';
    for (const image of [
      (stack: ReturnType<typeof newStack>['stack']) => ContainerImage.fromEcrRepository(repo(stack)),
      () => ContainerImage.fromImageUri(`${uri}:latest`),
      () => ContainerImage.fromImageUri(uri),
    ]) {
      const warnings = warningsFor(image);
      expect(warnings).toHaveLength(1);
      expect(JSON.stringify(warnings[0].entry.data)).toMatch(/the tag latest.*rolls nothing out.*a digest/);
    }
    for (const image of [
      (stack: ReturnType<typeof newStack>['stack']) => ContainerImage.fromEcrRepository(repo(stack), 'v3'),
      () => ContainerImage.fromImageUri(`${uri}:1.2`),
      () => ContainerImage.fromImageUri(`${uri}@sha256:${'a'.repeat(64)}`),
    ]) {
      expect(warningsFor(image)).toHaveLength(0);
    }
  });

  test('an ECR image in another region than the endpoint fails synthesis, naming both regions: SageMaker pulls only in the model\'s region', () => {
    const env = { account: '123456789012', region: 'us-east-1' };
    const uri = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/server:1.2';
    expect(() => newEndpoint(newStack({ env }).stack, { image: ContainerImage.fromImageUri(uri) }))
      .toThrow(/'image' \("123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/team\/server:1\.2"\) is an ECR image in eu-west-1, and the endpoint is in us-east-1: .*replicate the repository to us-east-1/);
    const { stack } = newStack({ env });
    const repo = ecr.Repository.fromRepositoryArn(stack, 'Repo', 'arn:aws:ecr:eu-west-1:123456789012:repository/server');
    expect(() => newEndpoint(stack, { image: ContainerImage.fromEcrRepository(repo, 'v1') }))
      .toThrow(/'image' \("arn:aws:ecr:eu-west-1:123456789012:repository\/server"\) is an ECR repository in eu-west-1, and the endpoint is in us-east-1/);
  });

  test('an ECR image in the endpoint\'s region, or where a region is not known at synthesis, passes', () => {
    const env = { account: '123456789012', region: 'us-east-1' };
    expect(() => newEndpoint(newStack({ env }).stack, { image: ContainerImage.fromImageUri('123456789012.dkr.ecr.us-east-1.amazonaws.com/server:1.2') })).not.toThrow();
    const { stack } = newStack({ env });
    expect(() => newEndpoint(stack, { image: ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(stack, 'Repo', 'server'), 'v1') })).not.toThrow();
    // An environment-agnostic stack: the endpoint's region is a token.
    expect(() => newEndpoint(newStack().stack, { image: ContainerImage.fromImageUri('123456789012.dkr.ecr.eu-west-1.amazonaws.com/server:1.2') })).not.toThrow();
  });

  test('fromImageUri with a non-ECR URI fails, naming the fix', () => {
    const { stack } = newStack();
    expect(() => newEndpoint(stack, { image: ContainerImage.fromImageUri('docker.io/library/nginx:latest') }))
      .toThrow(/'image' \("docker\.io\/library\/nginx:latest"\) must be an Amazon ECR image URI.*push the image to ECR/);
    // An ECR URI whose tag is empty, starts with "." or is over 128 characters: SageMaker would refuse it at deployment.
    for (const tag of ['', '.v1', 'a'.repeat(129)]) {
      const uri = `123456789012.dkr.ecr.us-east-1.amazonaws.com/server:${tag}`;
      expect(() => newEndpoint(newStack().stack, { image: ContainerImage.fromImageUri(uri) }))
        .toThrow(expect.objectContaining({ prop: 'image', received: uri, message: expect.stringMatching(/must be an Amazon ECR image URI/) }));
    }
  });

  test('fromImageUri takes an ECR URI of the China regions (amazonaws.com.cn) and grants pull on its repository', () => {
    const { stack } = newStack({ env: { account: '123456789012', region: 'cn-north-1' } });
    newEndpoint(stack, { image: ContainerImage.fromImageUri('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/team/server:1.2') });
    expect(pullStatement(Template.fromStack(stack)).Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:cn-north-1:123456789012:repository/team/server']] });
  });

  test('fromImageUri with a token warns and limits the pull to this account and region', () => {
    const { stack } = newStack();
    const uri = ssm.StringParameter.valueForStringParameter(stack, '/images/server');
    newEndpoint(stack, { image: ContainerImage.fromImageUri(uri) });
    Annotations.fromStack(stack).hasWarning('/TestStack/Endpoint', Match.stringLikeRegexp('the image URI is a token.*\\[ack: @ai-platform/serving:imageUriUnresolved\\]'));
    expect(JSON.stringify(pullStatement(Template.fromStack(stack)).Resource)).toMatch(/:repository\/\*"/);
  });
});

describe('image architecture', () => {
  const platformOf = (variants: Parameters<typeof newEndpoint>[1]) => {
    const { app, stack } = newStack();
    newEndpoint(stack, { image: ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR }), ...variants });
    const manifest = JSON.parse(fs.readFileSync(path.join(app.synth().directory, `${stack.artifactId}.assets.json`), 'utf8'));
    return (Object.values(manifest.dockerImages)[0] as { source: { platform: string } }).source.platform;
  };

  test('a Graviton variant builds the bundled image for linux/arm64', () => {
    expect(platformOf({ variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C7G_XLARGE })] })).toBe('linux/arm64');
  });

  test('an x86_64 variant builds it for linux/amd64', () => {
    expect(platformOf({ variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C6I_LARGE })] })).toBe('linux/amd64');
  });

  test('variants on two architectures fail', () => {
    const { stack } = newStack();
    expect(() => newEndpoint(stack, {
      variants: [
        EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C7G_LARGE }),
        EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C6I_LARGE, variantName: 'x86' }),
      ],
    })).toThrow(/'variants' \(\["ml\.c7g\.large","ml\.c6i\.large"\]\) must all run on one CPU architecture/);
  });
});

describe('the bundled server on GPUs', () => {
  const dockerfileOf = (variants: Parameters<typeof newEndpoint>[1]) => {
    const { app, stack } = newStack();
    newEndpoint(stack, { image: ContainerImage.bundled(), ...variants });
    const manifest = JSON.parse(fs.readFileSync(path.join(app.synth().directory, `${stack.artifactId}.assets.json`), 'utf8'));
    return (Object.values(manifest.dockerImages)[0] as { source: { dockerFile: string } }).source.dockerFile;
  };
  const haveImages = ['Dockerfile', 'Dockerfile.gpu'].every((f) => fs.existsSync(path.join(__dirname, '..', '..', 'container', f)));

  (haveImages ? test : test.skip)('an NVIDIA variant gets the CUDA image (Dockerfile.gpu)', () => {
    expect(dockerfileOf({ variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE) })] })).toBe('Dockerfile.gpu');
  });

  (haveImages ? test : test.skip)('CPU and Inferentia variants get the CPU image (Dockerfile)', () => {
    expect(dockerfileOf({ variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C6I_LARGE })] })).toBe('Dockerfile');
    expect(dockerfileOf({ variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(GpuInstanceType.INF2_XLARGE) })] })).toBe('Dockerfile');
  });

  test('warns that the bundled server leaves Inferentia unused', () => {
    const { stack } = newStack();
    newEndpoint(stack, { variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(GpuInstanceType.INF2_XLARGE) })] });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('not on Inferentia or Trainium'));
    expect(warnings).toHaveLength(1);
    const { stack: gpu } = newStack();
    newEndpoint(gpu, { variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE) })] });
    expect(Annotations.fromStack(gpu).findWarning('*', Match.stringLikeRegexp('Inferentia'))).toHaveLength(0);
  });

  test('warns that accelerator types the catalog lacks get the CPU image, naming them once', () => {
    const { stack } = newStack();
    newEndpoint(stack, {
      variants: [
        EndpointVariant.instance({ instanceType: EndpointInstanceType.of('ml.p3.2xlarge'), variantName: 'a' }),
        EndpointVariant.instance({ instanceType: EndpointInstanceType.of('ml.p3.2xlarge'), variantName: 'b' }),
        EndpointVariant.instance({ instanceType: EndpointInstanceType.of('ml.inf1.xlarge'), variantName: 'c' }),
      ],
      rollout: RolloutStrategy.allAtOnce(),
    });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('GPU catalog lacks'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0].entry.data)).toMatch(/ml\.p3\.2xlarge, ml\.inf1\.xlarge are accelerator types the GPU catalog lacks.*GpuInstanceType\.custom.*bundledServerOnUncataloguedAccelerator/);
    for (const instanceType of [EndpointInstanceType.ML_C6I_LARGE, EndpointInstanceType.ML_C7G_LARGE, EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE), EndpointInstanceType.gpu(GpuInstanceType.custom({
      name: 'p3.2xlarge', vendor: AcceleratorVendor.NVIDIA, acceleratorModel: 'V100', acceleratorCount: 1, acceleratorMemoryGiB: 16, vcpus: 8, memoryGiB: 61,
    }))]) {
      const { stack: other } = newStack();
      newEndpoint(other, { variants: [EndpointVariant.instance({ instanceType })] });
      expect(Annotations.fromStack(other).findWarning('*', Match.stringLikeRegexp('GPU catalog lacks'))).toHaveLength(0);
    }
    const { stack: ownImage } = newStack();
    newEndpoint(ownImage, { image: ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(ownImage, 'Repo', 'neuron-server')), variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.of('ml.inf1.xlarge') })], rollout: RolloutStrategy.allAtOnce() });
    expect(Annotations.fromStack(ownImage).findWarning('*', Match.stringLikeRegexp('GPU catalog lacks'))).toHaveLength(0);
  });

  (haveImages ? test : test.skip)('an NVIDIA variant on Arm (Graviton) fails at synthesis: onnxruntime-node has no CUDA provider for linux/arm64', () => {
    const g5g = GpuInstanceType.custom({
      name: 'g5g.xlarge', vendor: AcceleratorVendor.NVIDIA, acceleratorModel: 'T4G', acceleratorCount: 1, acceleratorMemoryGiB: 16, vcpus: 4, memoryGiB: 8,
    });
    const { stack } = newStack();
    expect(() => newEndpoint(stack, { image: ContainerImage.bundled(), variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(g5g) })] }))
      .toThrow(/'image' \("Dockerfile\.gpu on linux\/arm64"\) .*linux\/amd64.*ContainerImage\.bundled\(\{ file: 'Dockerfile' \}\)/);
    // The CPU image builds for Arm, and so does the CUDA one asked for explicitly on amd64.
    const { stack: cpu } = newStack();
    expect(() => newEndpoint(cpu, { image: ContainerImage.bundled({ file: 'Dockerfile' }), variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(g5g) })] })).not.toThrow();
  });

  describe('host AMI (NVIDIA driver) of the CUDA image', () => {
    const cuda = () => ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR, file: 'Dockerfile.gpu' });
    const amisOf = (stack: ReturnType<typeof newStack>['stack']) => Template.fromStack(stack).findResources('AWS::SageMaker::EndpointConfig');
    const variantsOf = (stack: ReturnType<typeof newStack>['stack']) => (Object.values(amisOf(stack))[0].Properties.ProductionVariants as Array<Record<string, unknown>>);

    test('NVIDIA variants serving the CUDA image get al2-ami-sagemaker-inference-gpu-3-1 (driver 550): SageMaker\'s default driver on ml.g5 is 470, too old for CUDA 12', () => {
      for (const type of [GpuInstanceType.G4DN_XLARGE, GpuInstanceType.G5_XLARGE, GpuInstanceType.G6_XLARGE, GpuInstanceType.G6E_XLARGE, GpuInstanceType.P4D_24XLARGE, GpuInstanceType.P5_48XLARGE]) {
        const { stack } = newStack();
        newEndpoint(stack, { image: cuda(), variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(type) })] });
        expect(variantsOf(stack)[0]).toMatchObject({ InstanceType: `ml.${type.name}`, InferenceAmiVersion: 'al2-ami-sagemaker-inference-gpu-3-1' });
      }
    });

    test('CPU variants beside them, the CPU image, another image and Blackwell types keep SageMaker\'s default', () => {
      const { stack } = newStack();
      newEndpoint(stack, {
        image: cuda(),
        variants: [
          EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE), variantName: 'gpu' }),
          EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C6I_LARGE, variantName: 'cpu' }),
        ],
        environment: { ORT_EXECUTION_PROVIDERS: 'cuda,cpu' },
      });
      expect(variantsOf(stack).map((v) => v.InferenceAmiVersion)).toEqual(['al2-ami-sagemaker-inference-gpu-3-1', undefined]);
      const { stack: cpuImage } = newStack();
      newEndpoint(cpuImage, { variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE) })] }); // the fixture's Dockerfile
      expect(variantsOf(cpuImage)[0].InferenceAmiVersion).toBeUndefined();
      const { stack: own } = newStack();
      newEndpoint(own, { image: ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(own, 'Repo', 'server')), variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE) })] });
      expect(variantsOf(own)[0].InferenceAmiVersion).toBeUndefined();
      const b200 = GpuInstanceType.custom({ name: 'p6-b200.48xlarge', vendor: AcceleratorVendor.NVIDIA, acceleratorModel: 'B200', acceleratorCount: 8, acceleratorMemoryGiB: 179, vcpus: 192, memoryGiB: 2048 });
      const { stack: blackwell } = newStack();
      newEndpoint(blackwell, { image: cuda(), variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(b200) })] });
      expect(variantsOf(blackwell)[0].InferenceAmiVersion).toBeUndefined();
    });

    test('inferenceAmiVersion overrides the default, on any image; a malformed name fails naming it', () => {
      const { stack } = newStack();
      newEndpoint(stack, { image: cuda(), variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(GpuInstanceType.G6_XLARGE), inferenceAmiVersion: InferenceAmiVersion.GPU_2_1 })] });
      expect(variantsOf(stack)[0].InferenceAmiVersion).toBe('al2-ami-sagemaker-inference-gpu-2-1');
      const { stack: own } = newStack();
      newEndpoint(own, {
        image: ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(own, 'Repo', 'neuron-server')),
        variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(GpuInstanceType.INF2_XLARGE), inferenceAmiVersion: InferenceAmiVersion.NEURON_2 })],
      });
      expect(variantsOf(own)[0].InferenceAmiVersion).toBe('al2-ami-sagemaker-inference-neuron-2');
      for (const [instanceType, ami] of [[EndpointInstanceType.ML_C6I_LARGE, InferenceAmiVersion.GPU_3_1], [EndpointInstanceType.gpu(GpuInstanceType.INF2_XLARGE), InferenceAmiVersion.GPU_2],
        [EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE), InferenceAmiVersion.NEURON_2], [EndpointInstanceType.ML_M5_LARGE, InferenceAmiVersion.NEURON_2]] as const) {
        const { stack: mismatch } = newStack();
        expect(() => newEndpoint(mismatch, { variants: [EndpointVariant.instance({ instanceType, inferenceAmiVersion: ami })] }))
          .toThrow(expect.objectContaining({ prop: 'variants[0].inferenceAmiVersion', received: ami.name, message: expect.stringMatching(new RegExp(`${instanceType.name.replace(/\./g, '\\.')} has .*SageMaker would refuse`)) }));
      }
      // A type the catalog lacks is left to SageMaker.
      const { stack: uncatalogued } = newStack();
      expect(() => newEndpoint(uncatalogued, { variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.of('ml.p3.2xlarge'), inferenceAmiVersion: InferenceAmiVersion.GPU_2 })] })).not.toThrow();
      const { stack: bad } = newStack();
      expect(() => newEndpoint(bad, { variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE), inferenceAmiVersion: InferenceAmiVersion.of('AL2 gpu 3') })] }))
        .toThrow(expect.objectContaining({ prop: 'variants[0].inferenceAmiVersion', received: 'AL2 gpu 3' }));
    });

    test('the AL2023 AMI of the API enum (driver 580, CUDA 13.0) renders its name, and like the other GPU AMIs fails on a CPU type', () => {
      // ProductionVariantInferenceAmiVersion: al2023-ami-sagemaker-inference-gpu-4-1 (SageMaker API model, @aws-sdk/client-sagemaker).
      expect(InferenceAmiVersion.AL2023_GPU_4_1.name).toBe('al2023-ami-sagemaker-inference-gpu-4-1');
      const { stack } = newStack();
      newEndpoint(stack, { image: cuda(), variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(GpuInstanceType.G6_XLARGE), inferenceAmiVersion: InferenceAmiVersion.AL2023_GPU_4_1 })] });
      expect(variantsOf(stack)[0].InferenceAmiVersion).toBe('al2023-ami-sagemaker-inference-gpu-4-1');
      const { stack: cpu } = newStack();
      expect(() => newEndpoint(cpu, { variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C6I_LARGE, inferenceAmiVersion: InferenceAmiVersion.AL2023_GPU_4_1 })] }))
        .toThrow(expect.objectContaining({ prop: 'variants[0].inferenceAmiVersion', received: 'al2023-ami-sagemaker-inference-gpu-4-1' }));
    });
  });

  test('another directory keeps its Dockerfile on GPUs', () => {
    const { app, stack } = newStack();
    newEndpoint(stack, { image: ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR }), variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE) })] });
    const manifest = JSON.parse(fs.readFileSync(path.join(app.synth().directory, `${stack.artifactId}.assets.json`), 'utf8'));
    expect((Object.values(manifest.dockerImages)[0] as { source: { dockerFile: string } }).source.dockerFile).toBe('Dockerfile');
  });
});

describe('one bundled image shared by several endpoints', () => {
  const imagesOf = (app: ReturnType<typeof newStack>['app'], stack: ReturnType<typeof newStack>['stack']) => {
    const manifest = JSON.parse(fs.readFileSync(path.join(app.synth().directory, `${stack.artifactId}.assets.json`), 'utf8'));
    return (Object.values(manifest.dockerImages) as Array<{ source: { dockerFile: string; platform: string } }>)
      .map((i) => `${i.source.dockerFile} ${i.source.platform}`).sort();
  };

  test('each endpoint gets the image built for its own architecture, not the first endpoint\'s', () => {
    const { app, stack } = newStack();
    const image = ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR });
    newEndpoint(stack, { image, variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C7G_LARGE })] }, 'Graviton');
    newEndpoint(stack, { image, variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C6I_LARGE })] }, 'X86');
    expect(imagesOf(app, stack)).toEqual(['Dockerfile linux/amd64', 'Dockerfile linux/arm64']);
  });

  test('endpoints with the same architecture and Dockerfile share one image asset', () => {
    const { app, stack } = newStack();
    const image = ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR });
    newEndpoint(stack, { image }, 'One');
    newEndpoint(stack, { image }, 'Two');
    expect(imagesOf(app, stack)).toEqual(['Dockerfile linux/amd64']);
  });

  test('endpoints in stacks of two regions sharing one image each pull it from their own region, where their own stack publishes it', () => {
    // SageMaker pulls an image only from ECR in the model's region: an asset built once, for the first stack, would
    // leave the second region's model pointing at the first region's repository, and its stack publishing nothing.
    const app = new App({ context: TEST_CONTEXT });
    const image = ContainerImage.bundled({ directory: FIXTURE_IMAGE_DIR });
    const stacks = ['us-east-1', 'eu-west-1'].map((region) => {
      const stack = new Stack(app, `Serving-${region}`, { env: { account: '123456789012', region } });
      newEndpoint(stack, { image });
      return stack;
    });
    for (const stack of stacks) {
      const model = Object.values(Template.fromStack(stack).findResources('AWS::SageMaker::Model'))[0];
      expect(JSON.stringify(model.Properties.PrimaryContainer.Image)).toContain(`.dkr.ecr.${stack.region}.`);
      expect(JSON.stringify(pullStatement(Template.fromStack(stack)).Resource)).toContain(`:ecr:${stack.region}:`);
      expect(imagesOf(app, stack)).toEqual(['Dockerfile linux/amd64']);
    }
  });

  const haveImages = ['Dockerfile', 'Dockerfile.gpu'].every((f) => fs.existsSync(path.join(__dirname, '..', '..', 'container', f)));
  (haveImages ? test : test.skip)('an NVIDIA endpoint bound after a CPU one still gets the CUDA image, and CUDA is required', () => {
    const { app, stack } = newStack();
    const image = ContainerImage.bundled();
    newEndpoint(stack, { image, variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.ML_C6I_LARGE })] }, 'Cpu');
    const gpu = newEndpoint(stack, { image, variants: [EndpointVariant.instance({ instanceType: EndpointInstanceType.gpu(GpuInstanceType.G5_XLARGE) })] }, 'Gpu');
    expect(imagesOf(app, stack)).toEqual(['Dockerfile linux/amd64', 'Dockerfile.gpu linux/amd64']);
    expect(stack.resolve(gpu.cfnModel.primaryContainer)).toMatchObject({ environment: { ORT_EXECUTION_PROVIDERS: 'cuda' } });
  });
});
