import * as os from 'node:os';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import {
  describeForm, formAccepts, SERVER_VARIABLES, ServerVariableForm, validateServerEnvironment,
} from '../../constructs/private/server-environment';
import { main } from '../../container/src/server';

// The server's own start-up, up to the point where it builds the app: server.ts reads the port, the
// drain time and LOG_REQUESTS, configFromEnv reads the serving overrides, and this stand-in for
// buildApp resolves the overrides as buildApp does and creates the Fastify logger (LOG_LEVEL) before
// saying the environment was accepted. Nothing listens and no model is loaded.
jest.mock('../../container/src/app', () => ({
  buildApp: async (options: { modelDir: string; config: unknown; logger: unknown }) => {
    const { resolveConfig } = jest.requireActual('../../container/src/config');
    resolveConfig(options.modelDir, [['overrides', options.config]]);
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

  test('lists every variable the server reads from its environment, and only those', async () => {
    const fs = await import('node:fs');
    const sources = ['server.ts', 'config.ts'].map((f) => fs.readFileSync(path.join(__dirname, '..', '..', 'container', 'src', f), 'utf8')).join('\n');
    const read = new Set<string>();
    for (const m of sources.matchAll(/env(?:\.([A-Z][A-Z0-9_]+)|\[['"]([A-Z][A-Z0-9_]+)['"]\])/g)) read.add(m[1] ?? m[2]);
    // Variables read through a helper, by name as an argument: envNumber(env, 'MAX_BATCH_SIZE', ...).
    for (const m of sources.matchAll(/,\s*['"]([A-Z][A-Z0-9_]{2,})['"]\s*[,)]/g)) read.add(m[1]);
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
});
