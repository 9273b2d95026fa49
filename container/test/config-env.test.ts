import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  batchTransformStreams, BATCH_TRANSFORM_REQUEST_TIMEOUT_MS, configDefaultsFromEnv, configFromEnv, defaultInvocationsAccept, DRAIN_EXIT_GRACE_MS, envNumber,
  isBatchTransform, MAX_DRAIN_TIMEOUT_MS, serverEnv,
} from '../src/config';

describe('numbers in the environment', () => {
  it('treats an empty or whitespace-only variable as unset', () => {
    for (const blank of ['', ' ', '\t', ' \n ']) {
      assert.equal(configFromEnv({ MAX_QUEUE_DELAY_MS: blank, INFERENCE_WORKERS: blank, BODY_LIMIT_BYTES: blank }), undefined, JSON.stringify(blank));
      assert.equal(envNumber({ DRAIN_TIMEOUT_MS: blank }, 'DRAIN_TIMEOUT_MS', { min: 0, max: 10 }), undefined);
    }
  });

  it('reads plain decimal digits, with spaces around them trimmed', () => {
    assert.deepEqual(configFromEnv({ INFERENCE_WORKERS: ' 4 ', MAX_QUEUE_DELAY_MS: '007' }), { workers: 4, batching: { maxQueueDelayMs: 7 } });
    assert.throws(() => envNumber({ X: '2.5' }, 'X'), /X is "2.5"; it must be a whole number/);
  });

  it('refuses hexadecimal, binary, exponents, signs and words, naming the variable, the value and the allowed form', () => {
    for (const value of ['0x4', '0b11', '1e1', '+4', '-4', '4.', '.5', 'Infinity', '4 4', '1_000']) {
      assert.throws(() => configFromEnv({ INFERENCE_WORKERS: value }), {
        message: `environment: INFERENCE_WORKERS is ${JSON.stringify(value)}; it must be a whole number in plain decimal digits, such as 16 (no sign, fraction, exponent, or 0x or 0b prefix), or empty for the default`,
      }, value);
    }
    assert.throws(() => configFromEnv({ MAX_QUEUE_DELAY_MS: '\t1e1' }), /^ConfigError: environment: MAX_QUEUE_DELAY_MS is "\\t1e1"; it must be a whole number/, 'whitespace shows in the value');
  });

  it('refuses a fraction, even one equal to a whole number', () => {
    assert.throws(() => configFromEnv({ MAX_QUEUE_DELAY_MS: '2.5' }), /^ConfigError: environment: MAX_QUEUE_DELAY_MS is "2.5"; it must be a whole number in plain decimal digits/);
    assert.throws(() => configFromEnv({ INFERENCE_WORKERS: '2.0' }), /^ConfigError: environment: INFERENCE_WORKERS is "2.0"; it must be a whole number in plain decimal digits/);
    assert.throws(() => envNumber({ PORT: '80.0' }, 'PORT', { min: 0, max: 65535, what: 'a port number' }), /^ConfigError: environment: PORT is "80.0"; it must be a port number from 0 to 65535, in plain decimal digits$/);
  });

  it('applies a rule: an integer within its range, saying why', () => {
    const rule = { min: 0, max: 100, why: 'MB, as a batch transform job sets it' };
    assert.equal(envNumber({ X: '100' }, 'X', rule), 100);
    assert.throws(() => envNumber({ X: '101' }, 'X', rule), /^ConfigError: environment: X is "101"; it must be an integer from 0 to 100 \(MB, as a batch transform job sets it\), in plain decimal digits$/);
    assert.throws(() => envNumber({ X: '0x10' }, 'X', rule), /X is "0x10"; it must be an integer from 0 to 100/);
    assert.throws(() => configFromEnv({ SAGEMAKER_MAX_PAYLOAD_IN_MB: '1e1' }), /SAGEMAKER_MAX_PAYLOAD_IN_MB is "1e1"; it must be an integer from 0 to 100/);
  });

  it('reads each variable into the serving.json field it stands for', () => {
    assert.deepEqual(configFromEnv({
      INFERENCE_WORKERS: '2', INTRA_OP_NUM_THREADS: '3', INTRA_OP_SPINNING: 'on', ORT_EXECUTION_PROVIDERS: 'cuda, cpu', BATCHING: 'off',
      MAX_BATCH_SIZE: '16', MAX_QUEUE_DELAY_MS: '5', MAX_QUEUE_SIZE: '512', BODY_LIMIT_BYTES: '4096', TEXT_BODY_LIMIT_BYTES: '2048',
      REQUEST_TIMEOUT_MS: '1000', MAX_BODY_BYTES_IN_FLIGHT: '1048576',
    }), {
      workers: 2, intraOpNumThreads: 3, intraOpSpinning: true, executionProviders: ['cuda', 'cpu'],
      batching: { enabled: false, maxBatchSize: 16, maxQueueDelayMs: 5 }, queue: { maxSize: 512 },
      limits: { bodyLimitBytes: 4096, textBodyLimitBytes: 2048, requestTimeoutMs: 1000, maxBodyBytesInFlight: 1048576 },
    });
  });

  it('names BODY_LIMIT_BYTES, not SAGEMAKER_MAX_PAYLOAD_IN_MB, only when BODY_LIMIT_BYTES holds a value', () => {
    assert.deepEqual(configFromEnv({ BODY_LIMIT_BYTES: ' ', SAGEMAKER_MAX_PAYLOAD_IN_MB: '2' }), { limits: { bodyLimitBytes: 2 * 1024 * 1024, textBodyLimitBytes: 2 * 1024 * 1024 } });
    assert.throws(() => configFromEnv({ BODY_LIMIT_BYTES: '10' }), /^ConfigError: environment: BODY_LIMIT_BYTES="10": 'limits.bodyLimitBytes' is 10/);
  });

  it('reads the server\'s ports and drain time the same way', () => {
    assert.deepEqual(serverEnv({}), { port: 8080, drainMs: 25_000, logLevel: 'info', logRequests: true });
    assert.equal(serverEnv({ SAGEMAKER_BIND_TO_PORT: ' ', PORT: ' 9000 ' }).port, 9000, 'a whitespace-only SAGEMAKER_BIND_TO_PORT is unset');
    assert.equal(serverEnv({ SAGEMAKER_BIND_TO_PORT: '8081', PORT: '9000' }).port, 8081, 'SageMaker\'s port wins');
    assert.equal(serverEnv({ DRAIN_TIMEOUT_MS: '\t' }).drainMs, 25_000);
    assert.throws(() => serverEnv({ SAGEMAKER_BIND_TO_PORT: '8e3' }), /^ConfigError: environment: SAGEMAKER_BIND_TO_PORT is "8e3"; it must be a port number from 0 to 65535, in plain decimal digits$/);
    assert.throws(() => serverEnv({ PORT: '0b11' }), /environment: PORT is "0b11"; it must be a port number/);
    assert.throws(() => serverEnv({ DRAIN_TIMEOUT_MS: '1e4' }), /^ConfigError: environment: DRAIN_TIMEOUT_MS is "1e4"; it must be an integer from 0 to \d+ \(.*\), in plain decimal digits$/);
  });

  it('takes exactly on or off for BATCHING, INTRA_OP_SPINNING and LOG_REQUESTS, and an empty one as unset', () => {
    assert.equal(configFromEnv({ BATCHING: '', INTRA_OP_SPINNING: '' }), undefined, 'empty is unset');
    assert.equal(serverEnv({ LOG_REQUESTS: '' }).logRequests, true, 'empty is unset: on');
    assert.equal(serverEnv({ LOG_REQUESTS: 'off' }).logRequests, false);
    for (const value of ['ON', 'Off', ' on', 'off ', 'true', '1', ' ']) {
      assert.throws(() => configFromEnv({ BATCHING: value }), { message: `environment: BATCHING is ${JSON.stringify(value)}; it must be on or off` }, JSON.stringify(value));
      assert.throws(() => configFromEnv({ INTRA_OP_SPINNING: value }), { message: `environment: INTRA_OP_SPINNING is ${JSON.stringify(value)}; it must be on or off` }, JSON.stringify(value));
      assert.throws(() => serverEnv({ LOG_REQUESTS: value }), new RegExp(`^ConfigError: environment: LOG_REQUESTS is ${JSON.stringify(JSON.stringify(value)).slice(1, -1)}; it must be on `), JSON.stringify(value));
    }
  });

  it('treats an empty ORT_EXECUTION_PROVIDERS as unset, and refuses a whitespace-only one as an empty list', () => {
    assert.equal(configFromEnv({ ORT_EXECUTION_PROVIDERS: '' }), undefined);
    for (const blank of [' ', '\t', ' , ']) {
      assert.throws(() => configFromEnv({ ORT_EXECUTION_PROVIDERS: blank }), {
        message: `environment: ORT_EXECUTION_PROVIDERS=${JSON.stringify(blank)}: 'executionProviders' is []; it must be a non-empty list of cpu, cuda, tensorrt`,
      }, JSON.stringify(blank));
    }
  });

  it('takes pino\'s log levels for LOG_LEVEL and refuses others, naming the variable and the levels', () => {
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) assert.equal(serverEnv({ LOG_LEVEL: level }).logLevel, level);
    assert.equal(serverEnv({ LOG_LEVEL: ' ' }).logLevel, 'info', 'blank is unset');
    assert.equal(serverEnv({ LOG_LEVEL: 'debug\n' }).logLevel, 'debug');
    for (const level of ['verbose', 'INFO', 'warning', '30']) {
      assert.throws(() => serverEnv({ LOG_LEVEL: level }), {
        message: `environment: LOG_LEVEL is ${JSON.stringify(level)}; it must be one of fatal, error, warn, info, debug, trace, silent, or empty for info`,
      });
    }
  });

  it('reads SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT in any case, without whitespace or parameters, and refuses a type /invocations does not answer in', () => {
    for (const blank of [undefined, '', ' ', '\t']) assert.equal(defaultInvocationsAccept({ SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: blank }), undefined, 'unset or blank: JSON');
    const read: Array<[string, string]> = [
      ['application/json', 'application/json'], ['text/csv', 'text/csv'], ['application/jsonlines', 'application/jsonlines'],
      ['application/jsonl', 'application/jsonl'], ['application/x-jsonlines', 'application/x-jsonlines'],
      ['TEXT/CSV', 'text/csv'], [' text/csv; charset=utf-8 ', 'text/csv'], ['Application/X-JSONLines', 'application/x-jsonlines'],
      ['application/jsonlines;data=text', 'application/jsonlines'], ['application/json ;charset=UTF-8\n', 'application/json'],
      ['Application/X-NPY', 'application/x-npy'],
    ];
    for (const [value, type] of read) assert.equal(defaultInvocationsAccept({ SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: value }), type, JSON.stringify(value));
    for (const value of ['text/plain', 'application/x-recordio-protobuf', '*/*', 'text/*', 'csv', 'text/csv, application/json', '; charset=utf-8', 'application/json-lines']) {
      assert.throws(() => defaultInvocationsAccept({ SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: value }), {
        name: 'ConfigError',
        message: `environment: SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT is ${JSON.stringify(value)}; it must be one of application/json, text/csv, application/jsonlines, application/jsonl, application/x-jsonlines, application/x-npy (in any case; parameters such as "; charset=utf-8" are ignored), or empty for application/json`,
      }, value);
    }
  });

  it('takes a DRAIN_TIMEOUT_MS only so long that the exit past it comes a second before the 30 s kill', () => {
    assert.equal(MAX_DRAIN_TIMEOUT_MS + DRAIN_EXIT_GRACE_MS, 29_000);
    assert.equal(serverEnv({ DRAIN_TIMEOUT_MS: '0' }).drainMs, 0);
    assert.equal(serverEnv({ DRAIN_TIMEOUT_MS: '28000' }).drainMs, 28_000);
    for (const value of ['28001', '29000', '29999']) {
      assert.throws(() => serverEnv({ DRAIN_TIMEOUT_MS: value }), {
        message: `environment: DRAIN_TIMEOUT_MS is "${value}"; it must be an integer from 0 to 28000 (ms; SageMaker and Kubernetes kill the process 30 s after SIGTERM, and past the drain time the server takes 1 s more before it exits with requests unanswered, so 28000 leaves a second to spare), in plain decimal digits`,
      });
    }
  });

  it('reads SAGEMAKER_BATCH as batch transform when it is true in any case, with whitespace around it trimmed, and only then', () => {
    for (const value of ['true', 'TRUE', ' True\n']) {
      assert.equal(isBatchTransform({ SAGEMAKER_BATCH: value }), true, JSON.stringify(value));
      assert.deepEqual(configDefaultsFromEnv({ SAGEMAKER_BATCH: value }), { limits: { requestTimeoutMs: BATCH_TRANSFORM_REQUEST_TIMEOUT_MS } }, JSON.stringify(value));
      assert.equal(batchTransformStreams({ SAGEMAKER_BATCH: value, SAGEMAKER_MAX_PAYLOAD_IN_MB: '0' }), true, JSON.stringify(value));
    }
    for (const value of [undefined, '', ' ', 'false', '1', 'yes', 'on', 'truee', 't rue']) {
      assert.equal(isBatchTransform({ SAGEMAKER_BATCH: value }), false, JSON.stringify(value));
      assert.equal(configDefaultsFromEnv({ SAGEMAKER_BATCH: value }), undefined, JSON.stringify(value));
      assert.equal(batchTransformStreams({ SAGEMAKER_BATCH: value, SAGEMAKER_MAX_PAYLOAD_IN_MB: '0' }), false, JSON.stringify(value));
    }
  });
});
