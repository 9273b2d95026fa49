import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { localServeEnv } from '../tools/serve-local';

describe('npm run serve', () => {
  it('resolves a relative MODEL_DIR against the folder npm was started in, not container/', () => {
    const env = localServeEnv({ MODEL_DIR: 'models/mine', INIT_CWD: '/home/me/repo' }, '/home/me/repo/container');
    assert.equal(env.MODEL_DIR, '/home/me/repo/models/mine');
  });

  it('resolves a relative MODEL_DIR against the working directory when npm did not start it', () => {
    assert.equal(localServeEnv({ MODEL_DIR: 'mine' }, '/srv/work').MODEL_DIR, '/srv/work/mine');
  });

  it('keeps an absolute MODEL_DIR as it is', () => {
    assert.equal(localServeEnv({ MODEL_DIR: '/opt/models/x', INIT_CWD: '/home/me/repo' }, '/elsewhere').MODEL_DIR, '/opt/models/x');
  });
});
