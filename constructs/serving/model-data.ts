import * as fs from 'node:fs';
import * as path from 'node:path';
import { Aws, BundlingOutput, DockerImage, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { PlatformError } from '../../lib/private/errors';
import { checkSameRegion } from './private/region';
import { writeTarGz } from './private/tar';

/** Where a model's artifacts are, and what reading them takes. */
export interface ModelDataConfig {
  /** `s3://bucket/key` of a `.tar.gz`, or `s3://bucket/prefix/` of uncompressed files. */
  readonly s3Uri: string;
  /** True for a `.tar.gz` (SageMaker untars it into `/opt/ml/model`); false for an uncompressed prefix. */
  readonly compressed: boolean;
  /** The statements the execution role needs to read exactly these artifacts. */
  readonly readStatements: iam.PolicyStatement[];
}

/**
 * Where the model artifacts come from: a local directory or `.tar.gz` (uploaded as an S3 asset by
 * `cdk deploy`), or an object or prefix in an existing bucket.
 *
 * A local directory is packed into a deterministic `model.tar.gz` at synthesis (no Docker needed).
 * Symlinks in it are followed (the archive holds the files they point to, under the links' names); a
 * dangling one fails synthesis.
 *
 * @example
 * ModelData.fromAsset(path.join(__dirname, 'model'));            // directory with model.onnx
 * ModelData.fromBucket(bucket, 'models/fraud/v3/model.tar.gz');  // an existing archive
 * ModelData.fromBucket(bucket, 'models/fraud/v3/');              // uncompressed files under a prefix
 *
 * @see https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-inference-code.html#your-algorithms-inference-code-load-artifacts
 */
export abstract class ModelData {
  /** A local directory (packed into `model.tar.gz`) or a local `.tar.gz` file. */
  public static fromAsset(localPath: string): ModelData {
    return new AssetModelData(localPath);
  }

  /**
   * An object in a bucket. A key ending in `/` is a prefix of uncompressed files (SageMaker copies
   * them into `/opt/ml/model`); any other key must be a `.tar.gz` archive.
   */
  public static fromBucket(bucket: s3.IBucket, key: string): ModelData {
    return new BucketModelData(bucket, key);
  }

  /** Called once by the endpoint. */
  public abstract bind(scope: Construct): ModelDataConfig;
}

class AssetModelData extends ModelData {
  // One asset per stack: each stack uploads the model to its own account and region, where SageMaker reads it
  // (an endpoint in another region than the first stack's would otherwise read that stack's bucket, and fail).
  private readonly assets = new WeakMap<Stack, s3assets.Asset>();

  constructor(private readonly localPath: string) {
    super();
  }

  public bind(scope: Construct): ModelDataConfig {
    const stack = Stack.of(scope);
    let asset = this.assets.get(stack);
    if (!asset) {
      const source = path.resolve(this.localPath);
      if (!fs.existsSync(source)) {
        throw new PlatformError(scope, 'modelData', this.localPath, 'must be an existing directory or .tar.gz file',
          'check the path (relative paths resolve against the current directory; prefer path.join(__dirname, ...))');
      }
      const isDir = fs.statSync(source).isDirectory();
      if (!isDir && !/\.(tar\.gz|tgz)$/i.test(source)) {
        throw new PlatformError(scope, 'modelData', this.localPath, 'must be a directory or a .tar.gz archive (SageMaker only untars gzip-compressed tar files)',
          'pass the directory holding the model files, or pack them with "tar czf model.tar.gz -C dir ."');
      }
      asset = new s3assets.Asset(scope, 'ModelData', isDir
        ? {
          path: source,
          bundling: {
            // Local bundling always succeeds, so this image is never pulled.
            image: DockerImage.fromRegistry('public.ecr.aws/docker/library/busybox:stable'),
            outputType: BundlingOutput.SINGLE_FILE,
            local: {
              tryBundle(outputDir: string): boolean {
                writeTarGz(source, path.join(outputDir, 'model.tar.gz'));
                return true;
              },
            },
          },
        }
        : { path: source });
      this.assets.set(stack, asset);
    }
    const objectArn = `arn:${Aws.PARTITION}:s3:::${asset.s3BucketName}/${asset.s3ObjectKey}`;
    return {
      s3Uri: asset.s3ObjectUrl,
      compressed: true,
      readStatements: [new iam.PolicyStatement({ sid: 'ReadModel', actions: ['s3:GetObject'], resources: [objectArn] })],
    };
  }
}

class BucketModelData extends ModelData {
  constructor(private readonly bucket: s3.IBucket, private readonly key: string) {
    super();
  }

  public bind(scope: Construct): ModelDataConfig {
    const key = this.key;
    const resolved = !Token.isUnresolved(key);
    if (resolved && (key.length === 0 || key.startsWith('/'))) {
      throw new PlatformError(scope, 'modelData.key', key, 'must be an S3 object key or prefix without a leading "/"',
        'pass "models/name/model.tar.gz" or "models/name/"');
    }
    const prefix = resolved && key.endsWith('/');
    if (resolved && !prefix && !/\.(tar\.gz|tgz)$/i.test(key)) {
      throw new PlatformError(scope, 'modelData.key', key, 'must end in .tar.gz (an archive) or "/" (a prefix of uncompressed files)',
        'point at the model archive, or end the key with "/" to serve uncompressed files');
    }
    const bucketName = this.bucket.bucketName;
    checkSameRegion(scope, 'modelData', Token.isUnresolved(bucketName) ? key : `s3://${bucketName}/${key}`, this.bucket.env.region, 'in a bucket',
      `copy the model to a bucket in ${Stack.of(scope).region} (S3 replication or a copy) and read it from there`);
    // The Sids name these statements for the endpoint's cdk-nag acknowledgement of the prefix read (ReadModel).
    const statements = [new iam.PolicyStatement({
      sid: 'ReadModel',
      actions: ['s3:GetObject'],
      resources: [this.bucket.arnForObjects(prefix ? `${key}*` : key)],
    })];
    if (prefix) {
      statements.push(new iam.PolicyStatement({
        sid: 'ListModel',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${key}*`] } },
      }));
    }
    if (this.bucket.encryptionKey) {
      statements.push(new iam.PolicyStatement({ sid: 'DecryptModel', actions: ['kms:Decrypt'], resources: [this.bucket.encryptionKey.keyArn] }));
    }
    return { s3Uri: this.bucket.s3UrlForObject(key), compressed: !prefix, readStatements: statements };
  }
}
