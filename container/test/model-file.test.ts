import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildApp } from '../src/app';
import { checkModelFile } from '../src/config';
import { fraudModel, SERVER_ENTRY } from './helpers';

/** A model directory others may enter, holding only `model.onnx`; removed by the caller. */
function openModelDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'model-file-'));
  fs.chmodSync(dir, 0o755);
  return dir;
}

describe('a model file the server cannot read', () => {
  it('says a missing model file does not exist', async () => {
    const dir = openModelDir();
    try {
      const app = await buildApp({ modelDir: dir, logger: false });
      await assert.rejects(app.model.ready, { message: `model file ${path.join(dir, 'model.onnx')} does not exist; put model.onnx in the model directory (MODEL_DIR, default /opt/ml/model) or set modelFile in serving.json` });
      await app.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says a dangling symlink is one, and where it points', async () => {
    const dir = openModelDir();
    try {
      fs.symlinkSync('../exported/fraud.onnx', path.join(dir, 'model.onnx'));
      const app = await buildApp({ modelDir: dir, logger: false });
      const target = path.resolve(dir, '../exported/fraud.onnx');
      await assert.rejects(app.model.ready, { message: `model file ${path.join(dir, 'model.onnx')} is a dangling symlink: it points to ../exported/fraud.onnx (${target}), which does not exist` });
      await app.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says MODEL_DIR names a file when it is the model file itself, not its directory', async () => {
    const dir = openModelDir();
    try {
      const file = path.join(dir, 'model.onnx');
      fs.copyFileSync(path.join(fraudModel().dir, 'model.onnx'), file);
      const app = await buildApp({ modelDir: file, logger: false });
      await assert.rejects(app.model.ready, { message: `model directory ${file} is a file, not a directory: MODEL_DIR (default /opt/ml/model) must name the directory that holds the model file` });
      await app.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says the model file is a directory, rather than pass on onnxruntime\'s advice to use its model package API', async () => {
    const dir = openModelDir();
    try {
      fs.mkdirSync(path.join(dir, 'model.onnx'));
      const app = await buildApp({ modelDir: dir, logger: false });
      await assert.rejects(app.model.ready, { message: `model file ${path.join(dir, 'model.onnx')} is a directory; put the model file in the model directory (MODEL_DIR, default /opt/ml/model) or set modelFile in serving.json to the file, relative to the model directory` });
      await app.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says permission is denied, the uid the server runs as, and how to fix it', () => {
    const denied = (): never => { throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }); };
    assert.throws(() => checkModelFile('/opt/ml/model/model.onnx', denied), {
      message: `cannot read model file /opt/ml/model/model.onnx: permission denied; the server runs as uid ${process.getuid!()}: make the model files readable by that user (e.g. chmod a+r on them, and a+x on their directories)`,
    });
  });

  it('run as another user over a file it cannot read, the server exits with that message, once', { timeout: 30_000 }, async (t) => {
    const dir = openModelDir();
    const file = path.join(dir, 'model.onnx');
    fs.copyFileSync(path.join(fraudModel().dir, 'model.onnx'), file);
    fs.chmodSync(file, 0o600); // as `umask 077` on a laptop leaves it
    try {
      if (process.getuid!() !== 0) {
        fs.chmodSync(file, 0o000);
        const app = await buildApp({ modelDir: dir, logger: false });
        await assert.rejects(app.model.ready, new RegExp(`^Error: cannot read model file ${file}: permission denied; the server runs as uid ${process.getuid!()}: make the model files readable`));
        await app.close();
        return;
      }
      // Root reads any file: run the server as another user, as the image does (any uid). That user
      // must be able to read the server itself (a checkout in a private directory is not).
      const asUser = ['--reuid=10001', '--regid=10001', '--clear-groups', process.execPath];
      if (spawnSync('setpriv', ['--version']).status !== 0) {
        t.skip('running as root without setpriv');
        return;
      }
      if (spawnSync('setpriv', [...asUser, '-e', `require(${JSON.stringify(SERVER_ENTRY.replace(/server\.js$/, 'config.js'))})`]).status !== 0) {
        t.skip(`uid 10001 cannot read the server at ${SERVER_ENTRY}`);
        return;
      }
      const child = spawn('setpriv', [...asUser, SERVER_ENTRY, 'serve'], {
        env: { ...process.env, HOST: '127.0.0.1', SAGEMAKER_BIND_TO_PORT: '0', MODEL_DIR: dir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      assert.equal(code, 1, out);
      assert.match(out, /"exiting: the model failed to load"/, out);
      assert.equal(out.split('cannot read model file').length - 1, 1, `the reason is logged once: ${out}`);
      assert.ok(!out.includes('"stack"'), out);
      assert.ok(out.includes(`cannot read model file ${file}: permission denied; the server runs as uid 10001: make the model files readable by that user (e.g. chmod a+r on them, and a+x on their directories)`), out);
      assert.ok(!out.includes('system error number 13'), out);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
