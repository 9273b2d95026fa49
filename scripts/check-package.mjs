// Proves the published package is importable: builds it, packs it with `npm pack`, installs the
// tarball into a fresh TypeScript project and compiles a file that uses GpuNodeGroup and GpuInstanceType.
// Every ```ts block of README.md is type-checked in the same compilation (not run; see readme-snippets.mjs).
// Dependencies come from the npm cache that `npm ci` filled (--prefer-offline), so this stays quick.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { builtinModules } from 'node:module';
import { explain, readmeSnippets, snippetSource } from './readme-snippets.mjs';

const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
// Parsed before the build, so a block without its ts-context comment fails at once.
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const snippets = readmeSnippets(readme);
// A consumer installs the library with its peers: README's install command names every peer that is not optional.
const install = /^npm install ai-platform-constructs\b(.*)$/m.exec(readme);
if (!install) throw new Error('README.md has no `npm install ai-platform-constructs ...` line telling consumers what to install');
const requiredPeers = Object.keys(pkg.peerDependencies ?? {}).filter((p) => !pkg.peerDependenciesMeta?.[p]?.optional);
const missingPeers = requiredPeers.filter((p) => !install[1].split(/\s+/).includes(p));
if (missingPeers.length > 0) throw new Error(`README.md's install command lacks the peer dependencies ${missingPeers.join(', ')}`);

/** The build-context paths a Dockerfile's COPY and ADD instructions read (not those copied from another stage). */
function buildContextSources(dockerfile) {
  const sources = [];
  for (const line of dockerfile.replace(/\\\n/g, ' ').split('\n')) {
    const m = /^\s*(?:COPY|ADD)\s+(.*)$/i.exec(line);
    if (!m) continue;
    const args = m[1].trim().split(/\s+/);
    if (args.some((a) => a.startsWith('--from='))) continue;
    const paths = args.filter((a) => !a.startsWith('--'));
    sources.push(...paths.slice(0, -1));
  }
  return sources;
}

const work = mkdtempSync(join(tmpdir(), 'aip-pack-'));
try {
  run('npm', ['run', 'build', '--silent'], root);
  const out = run('npm', ['pack', '--json', '--pack-destination', work], root);
  // npm 10 and 11 print an array of packages, npm 12 an object keyed by package name.
  const packed = JSON.parse(out);
  const { filename, files } = Array.isArray(packed) ? packed[0] : Object.values(packed)[0];
  const names = files.map((f) => f.path);
  for (const required of ['dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/constructs/compute/gpu-node-group.d.ts',
    // GpuNodeGroup's scale-from-zero tags handler, deployed as it is (plain JavaScript, no bundling).
    'dist/constructs/compute/private/node-template-tags-handler/index.js']) {
    if (!names.includes(required)) throw new Error(`the package lacks ${required}`);
  }
  // The bundled inference server travels as source (ContainerImage.bundled() builds it); nothing else but dist/.
  for (const required of ['container/Dockerfile', 'container/Dockerfile.gpu', 'container/image-package-lock.json', 'container/src/server.ts']) {
    if (!names.includes(required)) throw new Error(`the package lacks ${required}`);
  }
  // Every file the images copy from the build context (container/) must ship too, or building the image from the
  // installed package (cdk deploy of a bundled-image endpoint) fails at that COPY.
  for (const dockerfile of ['Dockerfile', 'Dockerfile.gpu']) {
    for (const source of buildContextSources(readFileSync(join(root, 'container', dockerfile), 'utf8'))) {
      const path = `container/${source.replace(/^\.\//, '').replace(/\/$/, '')}`;
      if (!names.some((n) => n === path || n.startsWith(`${path}/`))) {
        throw new Error(`the package lacks ${path}, which container/${dockerfile} copies into the image: add it to "files" in package.json`);
      }
    }
  }
  const stray = names.filter((n) => !(n.startsWith('dist/') || n.startsWith('container/') || n === 'package.json' || n === 'README.md')
    || n.startsWith('container/test/') || n.startsWith('container/bench/') || n.includes('node_modules') || n.endsWith('.onnx')
    || (n.startsWith('dist/') && n.endsWith('.ts') && !n.endsWith('.d.ts')));
  if (stray.length > 0) throw new Error(`the package holds files it should not: ${stray.join(', ')}`);

  // What the library's JavaScript requires must be declared, and what is declared must be required: every entry of
  // "dependencies" is installed into each consumer's node_modules. Lambda handlers run on Lambda's own Node.js and
  // its bundled AWS SDK, not on the consumer's packages.
  const packageOf = (specifier) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
  const required = new Set();
  for (const name of names.filter((n) => n.startsWith('dist/') && n.endsWith('.js') && !n.includes('-handler/'))) {
    for (const m of readFileSync(join(root, name), 'utf8').matchAll(/\brequire\(\s*["']([^"'.][^"']*)["']\s*\)/g)) {
      if (!m[1].startsWith('node:') && !builtinModules.includes(packageOf(m[1]))) required.add(packageOf(m[1]));
    }
  }
  const declared = { ...pkg.dependencies, ...pkg.peerDependencies };
  const undeclared = [...required].filter((p) => !(p in declared));
  if (undeclared.length > 0) throw new Error(`dist/ requires ${undeclared.join(', ')}, which package.json declares neither as a dependency nor as a peer dependency`);
  const unused = Object.keys(pkg.dependencies ?? {}).filter((p) => !required.has(p));
  if (unused.length > 0) throw new Error(`"dependencies" lists ${unused.join(', ')}, which nothing in dist/ requires, so every consumer installs it for nothing: remove it or make it a devDependency`);

  // One file per snippet, named by the line of its fence.
  mkdirSync(join(work, 'readme'));
  const snippetFiles = new Map(snippets.map((s) => [`readme/line-${s.fenceLine}.ts`, { fenceLine: s.fenceLine, ...snippetSource(s) }]));
  for (const [name, { source }] of snippetFiles) writeFileSync(join(work, name), source);

  const dev = pkg.devDependencies;
  writeFileSync(join(work, 'package.json'), JSON.stringify({
    name: 'consumer', version: '1.0.0', private: true,
    dependencies: {
      'ai-platform-constructs': `file:./${filename}`,
      'aws-cdk-lib': dev['aws-cdk-lib'], constructs: dev.constructs, cdk8s: dev.cdk8s, 'cdk8s-plus-28': dev['cdk8s-plus-28'],
      typescript: dev.typescript, '@types/node': dev['@types/node'],
    },
  }, null, 2));
  writeFileSync(join(work, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true, outDir: 'out', skipLibCheck: false, types: ['node'] },
    files: ['app.ts', ...snippetFiles.keys()],
  }));
  writeFileSync(join(work, 'app.ts'), `
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Capacity, GpuInstanceType, GpuNodeGroup, ModelData, ModelEndpoint } from 'ai-platform-constructs';

const app = new App();
const stack = new Stack(app, 'Consumer');
const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-0123456789abcdef0'] });
const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'prod', vpc });
const group: GpuNodeGroup = new GpuNodeGroup(stack, 'Gpus', {
  cluster, instanceTypes: [GpuInstanceType.of('g5.xlarge')], capacity: Capacity.spot({ diversify: true }),
});
const taints: string[] = group.taintStrings;
// The bundled inference server ships with the package: the endpoint's image asset is built from it.
new ModelEndpoint(stack, 'Endpoint', {
  modelData: ModelData.fromBucket(s3.Bucket.fromBucketName(stack, 'Models', 'models'), 'fraud/model.tar.gz'),
});
const assembly = app.synth();
const assets = JSON.parse(readFileSync(join(assembly.directory, 'Consumer.assets.json'), 'utf8'));
const images = Object.keys(assets.dockerImages ?? {});
// The scale-from-zero tags handler is staged from the installed package as the JavaScript Lambda runs.
const handlers = Object.values(assets.files ?? {}).map((f: any) => join(assembly.directory, f.source.path, 'index.js'))
  .filter((file) => existsSync(file) && readFileSync(file, 'utf8').includes('CreateOrUpdateTagsCommand'));
console.log(taints.join(','), GpuInstanceType.G6_XLARGE.sageMakerInstanceType, images.length, handlers.length);
`);
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], work);
  const tsc = spawnSync('npx', ['tsc', '-p', '.', '--pretty', 'false'], { cwd: work, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (tsc.error) throw tsc.error;
  if (tsc.status !== 0) {
    throw new Error(`the consumer project or a README example does not compile:\n${explain(tsc.stdout.trim(), snippetFiles, readme.split('\n'))}`);
  }
  const printed = run('node', ['out/app.js'], work).trim();
  if (printed !== 'nvidia.com/gpu=true:NoSchedule ml.g6.xlarge 1 1') throw new Error(`the compiled consumer printed ${JSON.stringify(printed)}`);
  console.log(`package check: ${filename} (${names.length} files) installs and compiles in a fresh TypeScript project, with the README's ${snippets.length} TypeScript examples`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
