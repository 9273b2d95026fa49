import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import {
  describeForm, formAccepts, SERVER_VARIABLES, ServerVariableForm, validateServerEnvironment,
} from '../../constructs/private/server-environment';
import { DEFAULT_ACCEPT_TYPES } from '../../container/src/config';
import { main } from '../../container/src/server';

// The server's own start-up, up to the point where it builds the app: server.ts reads the port, the
// drain time and LOG_REQUESTS, configFromEnv reads the serving overrides, and this stand-in for
// buildApp resolves the overrides and checks the model name (MODEL_NAME) as buildApp does and creates
// the Fastify logger (LOG_LEVEL) before saying the environment was accepted. Nothing listens and no
// model is loaded.
jest.mock('../../container/src/app', () => ({
  buildApp: async (options: { modelDir: string; modelName?: string; config: unknown; defaults: unknown; batchTransform?: boolean; logger: unknown }) => {
    const { batchTransformLimitProblem, ConfigError, resolveConfig, servedModelName } = jest.requireActual('../../container/src/config');
    const { limits } = resolveConfig(options.modelDir, [['defaults', options.defaults], ['overrides', options.config]]);
    servedModelName(options.modelDir, options.modelName);
    const batchProblem = options.batchTransform ? batchTransformLimitProblem(limits) : undefined;
    if (batchProblem) throw new ConfigError(batchProblem);
    const app = jest.requireActual('fastify')({ logger: options.logger });
    await app.close();
    throw new Error('ENVIRONMENT ACCEPTED');
  },
}));

/** Runs the server's start-up with exactly this environment: undefined when it would start, else its message. */
async function serverRefusal(env: Record<string, string>): Promise<string | undefined> {
  const messages: string[] = [];
  const exit = jest.spyOn(process, 'exit').mockImplementation(((code?: number) => {
    throw new Error(`exit ${code}`);
  }) as never);
  const error = jest.spyOn(console, 'error').mockImplementation((line: string) => {
    messages.push(String(line));
  });
  try {
    // A model directory that does not exist: buildApp would only report it when loading the model.
    await main(['serve'], { MODEL_DIR: path.join(os.tmpdir(), 'no-model-here'), ...env }).catch(() => undefined);
  } finally {
    exit.mockRestore();
    error.mockRestore();
  }
  const said = messages.map((m) => JSON.parse(m).msg as string).join('\n');
  if (said === 'cannot start: ENVIRONMENT ACCEPTED') return undefined;
  if (!said) throw new Error(`the server said nothing for ${JSON.stringify(env)}`);
  return said;
}

const SERVER_SOURCES = path.join(__dirname, '..', '..', 'container', 'src');

/** Every TypeScript source of the server (tests excluded). */
function serverSources(dir = SERVER_SOURCES): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'test' || entry.name === '__tests__' ? [] : serverSources(full);
    return /\.ts$/.test(entry.name) && !/\.(test|spec)\.ts$/.test(entry.name) ? [full] : [];
  });
}

/**
 * Names of the environment variables a source reads: `env.X`, `process.env.X`, `env['X']`,
 * `const { X, Y: y, Z = '1' } = env` (or `= process.env`), and through a helper, by name as an
 * argument after the first: `envNumber(env, 'X', ...)`, `put(layer, 'field', 'X')`.
 */
function variablesRead(source: string): Set<string> {
  const read = new Set<string>();
  for (const m of source.matchAll(/\benv(?:\.([A-Z][A-Z0-9_]+)|\[\s*['"]([A-Z][A-Z0-9_]+)['"]\s*\])/g)) read.add(m[1] ?? m[2]);
  for (const m of source.matchAll(/\b(?:const|let|var)\s*\{([^}]*)\}\s*=\s*(?:process\.)?env\b/g)) {
    for (const binding of m[1].split(',')) {
      const name = /^\s*([A-Z][A-Z0-9_]+)\s*(?:[:=]|$)/.exec(binding)?.[1];
      if (name) read.add(name);
    }
  }
  for (const m of source.matchAll(/,\s*['"]([A-Z][A-Z0-9_]{2,})['"]\s*[,)]/g)) read.add(m[1]);
  return read;
}

/** Values the table accepts, for each form. */
function acceptedSamples(form: ServerVariableForm): string[] {
  switch (form.kind) {
    case 'integer': {
      const mid = Math.floor((form.min + form.max) / 2);
      return ['', String(form.min), String(form.max), String(mid)];
    }
    case 'switch': return ['', 'on', 'off'];
    case 'list': return ['', ...form.items, form.items.join(','), form.items.join(', ')];
    case 'choice': return [...form.values];
    case 'mediaType': return ['', ' ', '\t \n', ...form.values, ...form.values.map((v) => ` ${v.toUpperCase()}; charset=utf-8 `), `${form.values[0]};q=1`];
    case 'segment': return ['', 'fraud-mlp', 'any thing', '.hidden', 'a..b', 'x'.repeat(300)];
    case 'text': return ['', '/opt/ml/other', '127.0.0.1', 'any thing'];
  }
}

/** Values the table refuses and every version of the server refuses too. */
function refusedSamples(form: ServerVariableForm): string[] {
  switch (form.kind) {
    case 'integer':
      return [String(form.max + 1), form.min > 0 ? String(form.min - 1) : '-1', 'ten', '1.5', 'on'];
    case 'switch': return ['true', 'ON', '1', 'yes', ' on'];
    case 'list': return ['gpu', 'CUDA', 'cuda;cpu', ',', 'cpu,rocm'];
    case 'choice': return ['verbose', 'warning', 'Info '];
    case 'mediaType': return ['text/plain', 'application/x-recordio-protobuf', '*/*', 'text/*', '; charset=utf-8', form.values.join(', ')];
    case 'segment': return ['.', '..', 'fraud/v3', '/', 'models/'];
    case 'text': return [];
  }
}

/**
 * Forms of a valid number that the server's numeric parsing refuses once it takes only plain decimal
 * digits (older servers read them with Number(): 0x10 as 16). The table refuses them either way.
 */
function loosenumberSamples(form: ServerVariableForm & { kind: 'integer' }): string[] {
  const v = Math.max(form.min, 16);
  return [`0x${v.toString(16)}`, `${v}e0`, `+${v}`, `${v}.0`];
}

const entries = Object.entries(SERVER_VARIABLES);

describe('the bundled server environment table', () => {
  test.each(entries)('%s: every sample the table accepts, the server accepts', async (name, form) => {
    for (const value of acceptedSamples(form)) {
      expect(formAccepts(form, value)).toBe(true);
      expect([value, await serverRefusal({ [name]: value })]).toEqual([value, undefined]);
    }
  });

  test.each(entries.filter(([, form]) => form.kind !== 'text'))('%s: the samples the table refuses, the server refuses too, naming the variable', async (name, form) => {
    for (const value of refusedSamples(form)) {
      expect([value, formAccepts(form, value)]).toEqual([value, false]);
      const refusal = await serverRefusal({ [name]: value });
      expect([value, refusal]).toEqual([value, expect.stringMatching(new RegExp(name))]);
    }
  });

  test('numbers written other than in plain decimal digits are refused by the table and by the server', async () => {
    const integers = entries.filter((e): e is [string, ServerVariableForm & { kind: 'integer' }] => e[1].kind === 'integer');
    const outcomes: Array<[string, string, boolean]> = [];
    for (const [name, form] of integers) {
      for (const value of loosenumberSamples(form)) {
        expect([name, value, formAccepts(form, value)]).toEqual([name, value, false]);
        outcomes.push([name, value, (await serverRefusal({ [name]: value })) !== undefined]);
      }
    }
    for (const [name, value, refused] of outcomes) expect([name, value, refused]).toEqual([name, value, true]);
  });

  test('the scan of the server sources finds each way of reading a variable', () => {
    const sample = [
      'const a = env.DIRECT_READ; const b = process.env.PROCESS_READ;',
      "const c = env['BRACKET_READ'] ?? process.env[\"QUOTED_READ\"];",
      "const { DESTRUCTURED, RENAMED: renamed, WITH_DEFAULT = '1' } = env;",
      'let {\n  PROCESS_DESTRUCTURED,\n} = process.env;',
      "const n = envNumber(env, 'HELPER_READ', { min: 1 }); put(out, 'field', 'PUT_READ');",
      // Not reads: upper-case names that are not environment variables.
      "const code = 'NOT_A_READ'; reply.send({ code: 'ALSO_NOT' }); const { x } = other;",
    ].join('\n');
    expect([...variablesRead(sample)].sort()).toEqual([
      'BRACKET_READ', 'DESTRUCTURED', 'DIRECT_READ', 'HELPER_READ', 'PROCESS_DESTRUCTURED', 'PROCESS_READ', 'PUT_READ',
      'QUOTED_READ', 'RENAMED', 'WITH_DEFAULT',
    ]);
  });

  test('lists every variable the server reads from its environment, and only those', () => {
    const read = new Set<string>();
    for (const file of serverSources()) {
      for (const name of variablesRead(fs.readFileSync(file, 'utf8'))) read.add(name);
    }
    expect([...read].sort()).toEqual(Object.keys(SERVER_VARIABLES).sort());
  });

  test('a refused value fails with the variable, the value, what is allowed and the fix', () => {
    const chart = Testing.chart();
    expect(() => validateServerEnvironment(chart, 'env', { BATCHING: 'true' }, { reserved: {} }))
      .toThrow(/'env.BATCHING' \("true"\) must be on or off, or empty for the server's default: the bundled inference server refuses anything else and does not start: correct the value or remove BATCHING from env/);
    expect(() => validateServerEnvironment(chart, 'env', { MY_SETTING: '0x10', TOKEN: '${Token[X]}', MAX_BATCH_SIZE: '${Token[X]}' }, {
      reserved: {}, isUnresolved: (v) => v.startsWith('${Token'),
    })).not.toThrow();
    expect(describeForm(SERVER_VARIABLES.DRAIN_TIMEOUT_MS)).toBe('a whole number from 0 to 28000 (ms; the server exits at most 1 s after it, and SageMaker kills the process 30 s after SIGTERM), in plain decimal digits');
  });

  test('SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT takes the server\'s answer types in any case and with parameters, and a blank value as the server does (unset); another fails naming them, a token is not checked', () => {
    expect(SERVER_VARIABLES.SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT).toEqual({ kind: 'mediaType', values: DEFAULT_ACCEPT_TYPES });
    const chart = Testing.chart();
    const check = (value: string) => () => validateServerEnvironment(chart, 'env', { SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: value }, {
      reserved: {}, isUnresolved: (v) => v.startsWith('${Token'),
    });
    expect(check('text/plain')).toThrow(new RegExp('\'env.SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT\' \\("text/plain"\\) must be one of application/json, text/csv, application/jsonlines, application/jsonl, application/x-jsonlines, application/x-npy ' +
      '\\(in any case; parameters such as "; charset=utf-8" are ignored\\), or empty for the server\'s default: the bundled inference server refuses anything else and does not start: ' +
      'correct the value or remove SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT from env'));
    expect(check('application/x-recordio-protobuf')).toThrow(/'env.SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT' \("application\/x-recordio-protobuf"\) must be one of/);
    // Blank is unset to the server (defaultInvocationsAccept trims the value): JSON, as when it is empty.
    for (const value of ['text/csv', 'Application/JSONLines; charset=utf-8', 'application/jsonlines;data=text', '', ' ', '\t\n', '${Token[X]}']) expect(check(value)).not.toThrow();
    expect(check(' ; charset=utf-8')).toThrow(/'env.SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT' \(" ; charset=utf-8"\) must be one of/);
  });

  // Under batch transform the server refuses a CSV and JSON Lines body limit under 1 MiB, which each variable
  // alone allows: the table's check of the combination must agree with the server's start-up.
  test.each([
    [{ SAGEMAKER_BATCH: 'true', BODY_LIMIT_BYTES: '1048575' }, 'BODY_LIMIT_BYTES'],
    [{ SAGEMAKER_BATCH: ' TRUE ', TEXT_BODY_LIMIT_BYTES: '1024' }, 'TEXT_BODY_LIMIT_BYTES'],
    [{ SAGEMAKER_BATCH: 'True', SAGEMAKER_MAX_PAYLOAD_IN_MB: '50', BODY_LIMIT_BYTES: '65536' }, 'BODY_LIMIT_BYTES'],
    [{ SAGEMAKER_BATCH: 'true', BODY_LIMIT_BYTES: '1048576', TEXT_BODY_LIMIT_BYTES: '1048576' }, 'nothing'],
    [{ SAGEMAKER_BATCH: 'true', SAGEMAKER_MAX_PAYLOAD_IN_MB: '1' }, 'nothing'],
    [{ SAGEMAKER_BATCH: 'false', BODY_LIMIT_BYTES: '1024', TEXT_BODY_LIMIT_BYTES: '1024' }, 'nothing'],
    [{ SAGEMAKER_BATCH: '', TEXT_BODY_LIMIT_BYTES: '1024' }, 'nothing'],
  ])('batch transform limits %j: the construct refuses %s exactly when the server does', async (env, refused) => {
    const chart = Testing.chart();
    const check = () => validateServerEnvironment(chart, 'env', env, { reserved: {} });
    const said = await serverRefusal(env);
    if (refused === 'nothing') {
      expect(said).toBeUndefined();
      expect(check).not.toThrow();
    } else {
      expect(said).toMatch(/under batch transform \(SAGEMAKER_BATCH=true\) the CSV and JSON Lines body limit must be at least 1048576 bytes/);
      expect(check).toThrow(new RegExp(`'env.${refused}' \\("${env[refused as keyof typeof env]}"\\) must be at least 1048576 bytes \\(1 MiB\\) while env.SAGEMAKER_BATCH is ".*": .*: raise ${refused} to at least 1048576 or remove it from env`));
    }
  });

  test('a variable named like a property every object has (constructor, toString) is the user\'s own, neither reserved nor the server\'s', () => {
    expect(() => validateServerEnvironment(Testing.chart(), 'env', { constructor: 'x', toString: 'y', hasOwnProperty: 'z' }, { reserved: {} })).not.toThrow();
  });

  test('batch transform limits given as tokens are not checked', () => {
    const isUnresolved = (v: string) => v.startsWith('${Token');
    expect(() => validateServerEnvironment(Testing.chart(), 'env', { SAGEMAKER_BATCH: '${Token[A]}', BODY_LIMIT_BYTES: '1024' }, { reserved: {}, isUnresolved })).not.toThrow();
    expect(() => validateServerEnvironment(Testing.chart(), 'env', { SAGEMAKER_BATCH: 'true', BODY_LIMIT_BYTES: '${Token[B]}' }, { reserved: {}, isUnresolved })).not.toThrow();
  });
});

describe('the CUDA image entrypoint\'s variables', () => {
  const script = path.join(__dirname, '..', '..', 'container', 'scripts', 'cuda-compat-env.sh');
  /** Runs the entrypoint script with `CUDA_COMPAT` set to `value` (no GPU, no compat libraries): its exit status and stderr. */
  const entrypoint = (value: string) => {
    const r = spawnSync('sh', [script, 'sh', '-c', 'exit 0'], {
      env: { PATH: '/usr/bin:/bin', CUDA_COMPAT: value, CUDA_COMPAT_DIR: path.join(os.tmpdir(), 'no-compat-here'), NVIDIA_DRIVER_VERSION_FILE: path.join(os.tmpdir(), 'no-driver-here') },
      encoding: 'utf8',
    });
    return { status: r.status, err: r.stderr };
  };

  test('CUDA_COMPAT: the values the entrypoint accepts pass, and one it refuses (exit 2) fails synthesis naming the variable', () => {
    const chart = Testing.chart();
    for (const value of ['', 'auto', 'on', 'off']) {
      expect([value, entrypoint(value).status]).toEqual([value, 0]);
      expect(() => validateServerEnvironment(chart, 'env', { CUDA_COMPAT: value }, { reserved: {} })).not.toThrow();
    }
    for (const value of ['yes', 'true', 'ON', '1', ' on']) {
      expect([value, entrypoint(value)]).toEqual([value, { status: 2, err: expect.stringMatching(/CUDA_COMPAT/) }]);
      expect(() => validateServerEnvironment(chart, 'env', { CUDA_COMPAT: value }, { reserved: {} }))
        .toThrow(new RegExp(`'env.CUDA_COMPAT' \\(${JSON.stringify(value)}\\) must be one of auto, on, off`));
    }
  });
});
