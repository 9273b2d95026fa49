import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ModelData } from '../../constructs/serving';
import { writeTarGz } from '../../constructs/serving/private/tar';
import { newStack, TEST_CONTEXT } from '../helpers';
import { FIXTURE_MODEL_DIR, newEndpoint } from './util';

describe('ModelData', () => {
  let tmp: string;
  beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-data-')); });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('a directory is packed into a tar.gz that tar lists with the files at its root', () => {
    const out = path.join(tmp, 'model.tar.gz');
    writeTarGz(FIXTURE_MODEL_DIR, out);
    const listing = execFileSync('tar', ['-tzvf', out], { encoding: 'utf8' });
    expect(listing.trim().split('\n').map((l) => l.split(/\s+/).pop())).toEqual(['README.md', 'serving.json']);
    const extracted = path.join(tmp, 'x');
    fs.mkdirSync(extracted);
    execFileSync('tar', ['-xzf', out, '-C', extracted]);
    expect(fs.readFileSync(path.join(extracted, 'serving.json'), 'utf8')).toBe(fs.readFileSync(path.join(FIXTURE_MODEL_DIR, 'serving.json'), 'utf8'));
  });

  test('packing is deterministic and keeps subdirectories and long names', () => {
    const src = path.join(tmp, 'src');
    const long = 'a'.repeat(60);
    fs.mkdirSync(path.join(src, long, 'nested'), { recursive: true });
    fs.writeFileSync(path.join(src, long, 'nested', `${'b'.repeat(60)}.onnx`), Buffer.alloc(1500, 7));
    writeTarGz(src, path.join(tmp, 'one.tar.gz'));
    writeTarGz(src, path.join(tmp, 'two.tar.gz'));
    expect(fs.readFileSync(path.join(tmp, 'one.tar.gz')).equals(fs.readFileSync(path.join(tmp, 'two.tar.gz')))).toBe(true);
    const names = execFileSync('tar', ['-tzf', path.join(tmp, 'one.tar.gz')], { encoding: 'utf8' }).trim().split('\n');
    expect(names).toEqual([`${long}/`, `${long}/nested/`, `${long}/nested/${'b'.repeat(60)}.onnx`]);
  });

  test('files of a whole number of 512-byte blocks (or empty) get no padding block, which tar would read as the end of the archive', () => {
    const src = path.join(tmp, 'blocks');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'a-empty'), '');
    fs.writeFileSync(path.join(src, 'b-block.bin'), Buffer.alloc(512, 1));
    fs.writeFileSync(path.join(src, 'c-model.onnx'), Buffer.alloc(700, 2));
    const out = path.join(tmp, 'blocks.tar.gz');
    writeTarGz(src, out);
    // Three headers, 512 + 1024 bytes of data, the two end blocks.
    expect(zlib.gunzipSync(fs.readFileSync(out)).length).toBe(3 * 512 + 512 + 1024 + 1024);
    const extracted = path.join(tmp, 'blocks-x');
    fs.mkdirSync(extracted);
    execFileSync('tar', ['-xzf', out, '-C', extracted]);
    expect(fs.readdirSync(extracted).sort()).toEqual(['a-empty', 'b-block.bin', 'c-model.onnx']);
    expect(fs.readFileSync(path.join(extracted, 'c-model.onnx')).equals(Buffer.alloc(700, 2))).toBe(true);
  });

  test('a name of exactly 100 bytes fits the ustar name field, also at the top level; directories are 0755 and files 0644', () => {
    const src = path.join(tmp, 'hundred');
    const name = `${'m'.repeat(95)}.onnx`;
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(src, name), 'x');
    fs.writeFileSync(path.join(src, 'sub', 'model.onnx'), 'y');
    const out = path.join(tmp, 'hundred.tar.gz');
    writeTarGz(src, out);
    const listing = execFileSync('tar', ['-tzvf', out], { encoding: 'utf8' }).trim().split('\n').map((l) => [l.split(/\s+/)[0], l.split(/\s+/).pop()]);
    expect(listing).toEqual([[`-rw-r--r--`, name], ['drwxr-xr-x', 'sub/'], ['-rw-r--r--', 'sub/model.onnx']]);
  });

  test('symlinked files and directories are packed with their contents under the link names, as tar -h does', () => {
    // A Hugging Face or DVC cache directory links each model file to a blob elsewhere.
    const blobs = path.join(tmp, 'blobs');
    fs.mkdirSync(path.join(blobs, 'tokenizer'), { recursive: true });
    fs.writeFileSync(path.join(blobs, 'abc123'), Buffer.alloc(700, 3));
    fs.writeFileSync(path.join(blobs, 'tokenizer', 'vocab.txt'), 'a\nb\n');
    const src = path.join(tmp, 'linked');
    fs.mkdirSync(src);
    fs.symlinkSync(path.join(blobs, 'abc123'), path.join(src, 'model.onnx'));
    fs.symlinkSync('../blobs/tokenizer', path.join(src, 'tokenizer'));
    fs.writeFileSync(path.join(src, 'serving.json'), '{}');
    const out = path.join(tmp, 'linked.tar.gz');
    writeTarGz(src, out);
    const names = execFileSync('tar', ['-tzf', out], { encoding: 'utf8' }).trim().split('\n');
    expect(names).toEqual(['model.onnx', 'serving.json', 'tokenizer/', 'tokenizer/vocab.txt']);
    const extracted = path.join(tmp, 'linked-x');
    fs.mkdirSync(extracted);
    execFileSync('tar', ['-xzf', out, '-C', extracted]);
    expect(fs.lstatSync(path.join(extracted, 'model.onnx')).isFile()).toBe(true);
    expect(fs.readFileSync(path.join(extracted, 'model.onnx')).equals(Buffer.alloc(700, 3))).toBe(true);
    expect(fs.readFileSync(path.join(extracted, 'tokenizer', 'vocab.txt'), 'utf8')).toBe('a\nb\n');
  });

  test('a dangling symlink fails packing, naming the link and its target', () => {
    const src = path.join(tmp, 'dangling');
    fs.mkdirSync(src);
    fs.symlinkSync('/nonexistent/blob', path.join(src, 'model.onnx'));
    expect(() => writeTarGz(src, path.join(tmp, 'dangling.tar.gz'))).toThrow(/model file "model\.onnx" is a symlink to \/nonexistent\/blob, which does not exist/);
  });

  test('a symlink to a directory that holds it fails packing instead of recursing forever', () => {
    const src = path.join(tmp, 'loop');
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    fs.symlinkSync('..', path.join(src, 'sub', 'up'));
    expect(() => writeTarGz(src, path.join(tmp, 'loop.tar.gz'))).toThrow(/model directory entry "sub\/up" is a symlink to a directory that contains it/);
  });

  test('files are read and compressed a piece at a time, as gzip members tar reads as one archive: a file over 2 GiB (ONNX external data) would not fit one read', () => {
    const src = path.join(tmp, 'pieces');
    fs.mkdirSync(src);
    const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));
    fs.writeFileSync(path.join(src, 'model.onnx_data'), data);
    fs.writeFileSync(path.join(src, 'model.onnx'), 'graph');
    const out = path.join(tmp, 'pieces.tar.gz');
    writeTarGz(src, out, 64 * 1024);
    // Several gzip members (each starts 1f 8b 08), one tar stream.
    const bytes = fs.readFileSync(out);
    let members = 0;
    for (let i = 0; i + 2 < bytes.length; i++) if (bytes[i] === 0x1f && bytes[i + 1] === 0x8b && bytes[i + 2] === 0x08) members++;
    expect(members).toBeGreaterThan(3);
    const extracted = path.join(tmp, 'pieces-x');
    fs.mkdirSync(extracted);
    execFileSync('tar', ['-xzf', out, '-C', extracted]);
    expect(fs.readFileSync(path.join(extracted, 'model.onnx_data')).equals(data)).toBe(true);
    expect(fs.readFileSync(path.join(extracted, 'model.onnx'), 'utf8')).toBe('graph');
    writeTarGz(src, path.join(tmp, 'pieces-again.tar.gz'), 64 * 1024);
    expect(fs.readFileSync(path.join(tmp, 'pieces-again.tar.gz')).equals(bytes)).toBe(true);
  });

  test('a file of 8 GiB or more fails packing, naming it: a ustar entry holds 8 GiB - 1 bytes', () => {
    const src = path.join(tmp, 'huge');
    fs.mkdirSync(src);
    const fd = fs.openSync(path.join(src, 'weights.bin'), 'w');
    fs.ftruncateSync(fd, 8 * 1024 ** 3);
    fs.closeSync(fd);
    expect(() => writeTarGz(src, path.join(tmp, 'huge.tar.gz'))).toThrow(/model file "weights\.bin" is 8589934592 bytes, more than a tar archive entry holds/);
  });

  test('a missing path fails, naming it', () => {
    const { stack } = newStack();
    expect(() => newEndpoint(stack, { modelData: ModelData.fromAsset('/nonexistent/model') })).toThrow(/'modelData' \("\/nonexistent\/model"\) must be an existing directory or \.tar\.gz file/);
  });

  test('a file that is not a tar.gz fails', () => {
    const { stack } = newStack();
    expect(() => newEndpoint(stack, { modelData: ModelData.fromAsset(path.join(FIXTURE_MODEL_DIR, 'serving.json')) })).toThrow(/must be a directory or a \.tar\.gz archive/);
  });

  test('a local .tar.gz is uploaded as is', () => {
    const archive = path.join(tmp, 'given.tar.gz');
    writeTarGz(FIXTURE_MODEL_DIR, archive);
    const { stack } = newStack();
    newEndpoint(stack, { modelData: ModelData.fromAsset(archive) });
    Template.fromStack(stack).hasResourceProperties('AWS::SageMaker::Model', { PrimaryContainer: Match.objectLike({ ModelDataUrl: { 'Fn::Sub': Match.stringLikeRegexp('^s3://cdk-.*-assets-.*/[0-9a-f]{64}\\.gz$') } }) });
  });

  test('a bucket key that is neither an archive nor a prefix fails', () => {
    const { stack } = newStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'B', 'models');
    expect(() => newEndpoint(stack, { modelData: ModelData.fromBucket(bucket, 'fraud/model.onnx') })).toThrow(/'modelData\.key' \("fraud\/model\.onnx"\) must end in \.tar\.gz \(an archive\) or "\/"/);
  });

  test('a model bucket in another region than the endpoint fails synthesis, naming both regions: SageMaker reads artifacts only in the model\'s region', () => {
    const { stack } = newStack({ env: { account: '123456789012', region: 'us-east-1' } });
    const bucket = s3.Bucket.fromBucketAttributes(stack, 'B', { bucketName: 'models-eu', region: 'eu-west-1' });
    expect(() => newEndpoint(stack, { modelData: ModelData.fromBucket(bucket, 'fraud/model.tar.gz') }))
      .toThrow(/'modelData' \("s3:\/\/models-eu\/fraud\/model\.tar\.gz"\) is in a bucket in eu-west-1, and the endpoint is in us-east-1: .*copy the model to a bucket in us-east-1/);
  });

  test('a model bucket in the endpoint\'s region, or where a region is not known at synthesis, passes', () => {
    const here = newStack({ env: { account: '123456789012', region: 'us-east-1' } }).stack;
    expect(() => newEndpoint(here, { modelData: ModelData.fromBucket(s3.Bucket.fromBucketName(here, 'B', 'models'), 'fraud/') })).not.toThrow();
    const agnostic = newStack().stack;
    const bucket = s3.Bucket.fromBucketAttributes(agnostic, 'B', { bucketName: 'models-eu', region: 'eu-west-1' });
    expect(() => newEndpoint(agnostic, { modelData: ModelData.fromBucket(bucket, 'fraud/') })).not.toThrow();
  });

  test('a local model shared by endpoints in stacks of two regions is uploaded by each stack to its own region, where SageMaker reads it', () => {
    const app = new App({ context: TEST_CONTEXT });
    const modelData = ModelData.fromAsset(FIXTURE_MODEL_DIR);
    const stacks = ['us-east-1', 'eu-west-1'].map((region) => {
      const stack = new Stack(app, `Serving-${region}`, { env: { account: '123456789012', region } });
      newEndpoint(stack, { modelData });
      return stack;
    });
    for (const stack of stacks) {
      const region = stack.region;
      const template = Template.fromStack(stack);
      const model = Object.values(template.findResources('AWS::SageMaker::Model'))[0];
      expect(JSON.stringify(model.Properties.PrimaryContainer.ModelDataUrl)).toMatch(new RegExp(`^"s3://cdk-[a-z0-9]+-assets-123456789012-${region}/`));
      const manifest = JSON.parse(fs.readFileSync(path.join(app.synth().directory, `${stack.artifactId}.assets.json`), 'utf8'));
      expect(Object.values(manifest.files as Record<string, { source: { packaging?: string } }>).some((f) => f.source.packaging === 'file')).toBe(true);
    }
  });

  test('a bucket key with a leading slash fails', () => {
    const { stack } = newStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'B', 'models');
    expect(() => newEndpoint(stack, { modelData: ModelData.fromBucket(bucket, '/fraud/') })).toThrow(/'modelData\.key' \("\/fraud\/"\) must be an S3 object key or prefix without a leading "\/"/);
  });
});
