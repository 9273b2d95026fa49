import * as fs from 'node:fs';
import * as path from 'node:path';
import { Annotations, Aws, Stack, Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { Construct } from 'constructs';
import { PlatformError } from '../../lib/private/errors';
import { CpuArchitecture } from '../compute/gpu-instance-type';
import { checkSameRegion } from './private/region';

/** What a model container needs from an image: its URI, and the repository the execution role pulls from. */
export interface ContainerImageConfig {
  /** The image URI SageMaker pulls (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>`). */
  readonly imageUri: string;
  /** ARN of the ECR repository (or repositories) the execution role may pull from. */
  readonly repositoryArn: string;
  /**
   * The Dockerfile the image is built from, relative to its directory (`Dockerfile.gpu` for the bundled
   * server's CUDA image).
   * @default - not built from a local Dockerfile
   */
  readonly dockerfile?: string;
}

/** What the endpoint tells an image when binding it. */
export interface ContainerImageBindOptions {
  /**
   * CPU architecture of the instances that run the image.
   * @default CpuArchitecture.X86_64
   */
  readonly architecture?: CpuArchitecture;
  /**
   * True when any variant runs on NVIDIA GPUs.
   * @default false
   */
  readonly nvidiaGpu?: boolean;
}

/** How the bundled inference server image (or another local Dockerfile) is built. */
export interface BundledImageOptions {
  /**
   * Directory holding the Dockerfile and the build context.
   * @default - the bundled inference server, `container/` at the root of this package
   */
  readonly directory?: string;
  /**
   * Name of the Dockerfile, relative to `directory`.
   * @default - for the bundled server, 'Dockerfile.gpu' (onnxruntime's CUDA provider) when any variant
   * runs on NVIDIA GPUs (one image serves every variant), else 'Dockerfile' (CPU); 'Dockerfile' for other directories
   */
  readonly file?: string;
  /**
   * Build arguments (for example the base image, which `container/Dockerfile` takes as an argument).
   * @default - none
   */
  readonly buildArgs?: { [key: string]: string };
  /**
   * Target platform. SageMaker runs x86_64 except on Graviton (`ml.c7g`, `ml.m7g`...) instances.
   * @default - linux/arm64 when the endpoint's variants run on Graviton, else linux/amd64
   */
  readonly platform?: Platform;
  /**
   * Multi-stage build target.
   * @default - the last stage
   */
  readonly target?: string;
  /**
   * Glob patterns excluded from the build context, added to the defaults: for `bundled()`, `node_modules`, `dist`,
   * `test`, `bench` (the bundled server builds them inside the image), `cdk.out` and `.git`; for `fromAsset()`,
   * only `cdk.out` and `.git` (the directory is yours: a Dockerfile may copy a prebuilt `dist/`).
   * @default - only the defaults
   */
  readonly exclude?: string[];
}

/** The bundled server's CUDA image (onnxruntime's CUDA provider), beside its CPU `Dockerfile`. */
export const BUNDLED_GPU_DOCKERFILE = 'Dockerfile.gpu';

/** Paths never sent to the Docker build context of the bundled server. */
export const BUNDLED_IMAGE_EXCLUDES: readonly string[] = ['node_modules', '**/node_modules', 'dist', 'test', 'bench', 'cdk.out', '.git'];
/** Paths never sent to the Docker build context of an image built with `ContainerImage.fromAsset()`. */
const OWN_IMAGE_EXCLUDES: readonly string[] = ['cdk.out', '.git'];

const ECR_URI = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9._/-]+)(?::[\w][\w.-]{0,127}|@sha256:[a-f0-9]{64})?$/;

/**
 * The container image a model endpoint runs.
 *
 * `ContainerImage.bundled()` builds this project's Node.js inference server (`container/`) as a Docker
 * image asset, so `cdk deploy` builds and pushes it (synthesis itself needs no Docker). Or run any image
 * from an ECR repository. SageMaker pulls only from ECR.
 *
 * @example
 * ContainerImage.bundled();
 * ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(this, 'Repo', 'my-server'), 'v3');
 *
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-inference-code.html
 */
export abstract class ContainerImage {
  /** The bundled inference server (`container/`), built and pushed by `cdk deploy`. */
  public static bundled(options: BundledImageOptions = {}): ContainerImage {
    return new AssetImage(options, true);
  }

  /** An image built from a local directory with a Dockerfile. */
  public static fromAsset(directory: string, options: Omit<BundledImageOptions, 'directory'> = {}): ContainerImage {
    return new AssetImage({ ...options, directory }, false);
  }

  /** True for the bundled inference server, whose environment variables the constructs may set. */
  public get isBundledServer(): boolean {
    return false;
  }

  /**
   * An image in an ECR repository; the execution role may pull from that repository only. `tagOrDigest`
   * is a tag (1-128 letters, digits, `_`, `.`, `-`) or a digest `sha256:<64 hex digits>`.
   */
  public static fromEcrRepository(repository: ecr.IRepository, tagOrDigest: string = 'latest'): ContainerImage {
    return new RepositoryImage(repository, tagOrDigest);
  }

  /**
   * An ECR image by URI (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>`). The execution role may
   * pull from that repository only. An unresolved token cannot be parsed: the role may then pull from
   * any repository of this stack's account and region, and a warning says so.
   */
  public static fromImageUri(imageUri: string): ContainerImage {
    return new UriImage(imageUri);
  }

  /** Called once by the endpoint: creates what the image needs (an asset) and says where it is. */
  public abstract bind(scope: Construct, options?: ContainerImageBindOptions): ContainerImageConfig;
}

class AssetImage extends ContainerImage {
  // One asset per stack, Dockerfile and platform: an image shared by several endpoints is built once for
  // each kind of instance they run on, never the first endpoint's for all of them; and each stack publishes
  // its own, in its own account and region, where SageMaker pulls it (an endpoint in another region than the
  // first stack's would otherwise point at that stack's repository, which SageMaker cannot pull from).
  private readonly assets = new WeakMap<Stack, Map<string, { readonly asset: DockerImageAsset; readonly file: string }>>();

  constructor(private readonly options: BundledImageOptions, private readonly bundledServer: boolean) {
    super();
  }

  public override get isBundledServer(): boolean {
    return this.bundledServer;
  }

  public bind(scope: Construct, options: ContainerImageBindOptions = {}): ContainerImageConfig {
    const directory = this.options.directory ?? bundledContainerDirectory(scope);
    const gpuFile = this.options.directory === undefined && options.nvidiaGpu && fs.existsSync(path.join(directory, BUNDLED_GPU_DOCKERFILE));
    const file = this.options.file ?? (gpuFile ? BUNDLED_GPU_DOCKERFILE : 'Dockerfile');
    const platform = this.options.platform
      ?? (options.architecture === CpuArchitecture.ARM64 ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64);
    // onnxruntime-node publishes its CUDA provider for linux/x64 only (its install script rejects
    // `cuda12` on linux/arm64), so the bundled CUDA image cannot be built for Arm.
    if (this.options.directory === undefined && path.normalize(file) === BUNDLED_GPU_DOCKERFILE && platform.platform === Platform.LINUX_ARM64.platform) {
      throw new PlatformError(scope, 'image', `${BUNDLED_GPU_DOCKERFILE} on ${platform.platform}`,
        'must build for linux/amd64: onnxruntime-node publishes its CUDA provider for linux/x64 only, so the CUDA image fails to build for Arm (Graviton) instances',
        "use an x86_64 NVIDIA instance type, or ContainerImage.bundled({ file: 'Dockerfile' }) to serve on the instance's CPUs");
    }
    const key = `${path.normalize(file)} ${platform.platform}`;
    const stack = Stack.of(scope);
    const inStack = this.assets.get(stack) ?? new Map<string, { readonly asset: DockerImageAsset; readonly file: string }>();
    this.assets.set(stack, inStack);
    let built = inStack.get(key);
    if (!built) {
      if (!fs.existsSync(path.join(directory, file))) {
        throw new PlatformError(scope, 'image', path.join(directory, file),
          'must name an existing Dockerfile',
          'build the bundled server first (container/Dockerfile), or pass ContainerImage.bundled({ directory, file }) pointing at your Dockerfile');
      }
      built = {
        file: path.normalize(file),
        asset: new DockerImageAsset(scope, 'Image', {
          directory,
          file,
          buildArgs: this.options.buildArgs,
          platform,
          target: this.options.target,
          // The bundled server's context never needs its build outputs or tests; another image's directory is the
          // user's, whose Dockerfile may well copy a prebuilt dist/ (only version control and CDK's output stay out).
          exclude: [...(this.bundledServer ? BUNDLED_IMAGE_EXCLUDES : OWN_IMAGE_EXCLUDES), ...(this.options.exclude ?? [])],
        }),
      };
      inStack.set(key, built);
    }
    return { imageUri: built.asset.imageUri, repositoryArn: built.asset.repository.repositoryArn, dockerfile: built.file };
  }
}

class RepositoryImage extends ContainerImage {
  constructor(private readonly repository: ecr.IRepository, private readonly tagOrDigest: string) {
    super();
  }

  public bind(scope: Construct): ContainerImageConfig {
    const tag = this.tagOrDigest;
    // An empty tag would pull `latest` unannounced; anything else SageMaker refuses when it creates the model.
    if (!Token.isUnresolved(tag) && !/^([\w][\w.-]{0,127}|sha256:[a-f0-9]{64})$/.test(tag)) {
      throw new PlatformError(scope, 'image', tag,
        'must be an image tag (1-128 letters, digits, "_", "." or "-", not starting with "." or "-") or a digest "sha256:<64 hex digits>"',
        'pass the tag or digest the image was pushed under, e.g. ContainerImage.fromEcrRepository(repository, \'v1.2.0\')');
    }
    if (tag === 'latest') warnMutableTag(scope, tag);
    const arn = this.repository.repositoryArn;
    checkSameRegion(scope, 'image', Token.isUnresolved(arn) ? this.repository.repositoryName : arn, this.repository.env.region, 'an ECR repository',
      `replicate the repository to ${Stack.of(scope).region} (ECR cross-region replication) and import it from there`);
    return {
      imageUri: this.repository.repositoryUriForTagOrDigest(this.tagOrDigest),
      repositoryArn: this.repository.repositoryArn,
    };
  }
}

class UriImage extends ContainerImage {
  constructor(private readonly imageUri: string) {
    super();
  }

  public bind(scope: Construct): ContainerImageConfig {
    const stack = Stack.of(scope);
    if (Token.isUnresolved(this.imageUri)) {
      Annotations.of(scope).addWarningV2('@ai-platform/serving:imageUriUnresolved',
        'image: the image URI is a token, so the repository cannot be known at synthesis; the execution role may pull from any ECR repository in this account and region. Use ContainerImage.fromEcrRepository(repository, tag) to scope the grant to one repository.');
      return {
        imageUri: this.imageUri,
        repositoryArn: stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: '*' }),
      };
    }
    const match = ECR_URI.exec(this.imageUri);
    if (!match) {
      throw new PlatformError(scope, 'image', this.imageUri,
        'must be an Amazon ECR image URI like "123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag" (SageMaker pulls endpoint images from ECR)',
        'push the image to ECR and use its URI, or use ContainerImage.fromEcrRepository(repository, tag)');
    }
    const [, account, region, repositoryName] = match;
    checkSameRegion(scope, 'image', this.imageUri, region, 'an ECR image',
      `replicate the repository to ${stack.region} (ECR cross-region replication) and use the image URI there`);
    const tag = /:([\w][\w.-]*)$/.exec(this.imageUri.slice(this.imageUri.indexOf('/')))?.[1];
    if (!this.imageUri.includes('@sha256:') && (tag === undefined || tag === 'latest')) warnMutableTag(scope, tag ?? 'latest (no tag given)');
    return {
      imageUri: this.imageUri,
      repositoryArn: `arn:${Aws.PARTITION}:ecr:${region}:${account}:repository/${repositoryName}`,
    };
  }
}

/**
 * An endpoint's template changes only when its image URI does: a new image pushed under the same tag
 * (`latest`) is never rolled out by `cdk deploy`, with no canary and no rollback.
 */
function warnMutableTag(scope: Construct, tag: string): void {
  Annotations.of(scope).addWarningV2('@ai-platform/serving:mutableImageTag',
    `image: the tag ${tag} names whatever image was pushed last, so pushing a new image under it leaves the template unchanged and \`cdk deploy\` rolls nothing out (no canary, no rollback). `
    + 'Use a tag per build (a version or commit) or a digest (@sha256:...).');
}

/** Finds `container/` (the bundled server) from this file, in the source tree or in `dist/`. */
function bundledContainerDirectory(scope: Construct): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'container');
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new PlatformError(scope, 'image', 'ContainerImage.bundled()',
    `cannot find the bundled server directory "container/" above ${__dirname}`,
    'pass ContainerImage.bundled({ directory }) or another ContainerImage');
}
