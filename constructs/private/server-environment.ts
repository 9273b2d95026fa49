import { IConstruct } from 'constructs';
import { PlatformError } from '../../lib/private/errors';

/**
 * The environment variables the bundled inference server reads (anywhere under `container/src`: the
 * start-up in `server.ts` and `config.ts`, the GPU count in `gpus.ts`, onnxruntime's telemetry switch in
 * `telemetry.ts`, the image's `healthcheck.ts`),
 * with the values it accepts: the one place the
 * constructs look them up. `test/private/server-environment.test.ts` runs the server's own parser on
 * every form this table accepts and on a sample of those it refuses, so a change on either side that
 * lets them disagree fails there.
 *
 * The table may be stricter than the server, never looser: numbers are plain decimal digits without
 * sign, exponent, fraction, leading zeros or surrounding spaces; an empty value means the server's
 * default.
 */
export type ServerVariableForm =
  /** A whole number in plain decimal digits, from `min` to `max`. */
  | { readonly kind: 'integer'; readonly min: number; readonly max: number; readonly unit?: string }
  /** `on` or `off`. */
  | { readonly kind: 'switch' }
  /** A comma-separated list of at least one of `items`. */
  | { readonly kind: 'list'; readonly items: readonly string[] }
  /** One of `values`. */
  | { readonly kind: 'choice'; readonly values: readonly string[] }
  /**
   * A media type among `values`, in any case, with surrounding whitespace and parameters (`; charset=utf-8`)
   * ignored, as the server reads it (`defaultAcceptType` in config.ts).
   */
  | { readonly kind: 'mediaType'; readonly values: readonly string[] }
  /** A name that is one segment of a URL path: not `.` or `..`, without `/` (`servedModelName` in config.ts). */
  | { readonly kind: 'segment' }
  /** Any text: the server uses it as given. */
  | { readonly kind: 'text' };

const integer = (min: number, max: number, unit?: string): ServerVariableForm => ({ kind: 'integer', min, max, unit });
const SWITCH: ServerVariableForm = { kind: 'switch' };
const TEXT: ServerVariableForm = { kind: 'text' };
const MiB = 1024 * 1024;

/** onnxruntime execution providers the server knows (`KNOWN_PROVIDERS` in config.ts). */
export const EXECUTION_PROVIDERS: readonly string[] = ['cpu', 'cuda', 'tensorrt'];

/** Whether an `ORT_EXECUTION_PROVIDERS` list (comma-separated, spaces around items ignored) names `provider`. */
export function listsProvider(list: string, provider: string): boolean {
  return list.split(',').some((item) => item.trim() === provider);
}

/** Every variable the bundled server reads, by name. */
export const SERVER_VARIABLES: Readonly<Record<string, ServerVariableForm>> = {
  // server.ts
  MODEL_DIR: TEXT,
  // The {name} of the /v2/models/{name} URLs: the server refuses ., .. and a name with / at start.
  MODEL_NAME: { kind: 'segment' },
  HOST: TEXT,
  SAGEMAKER_BIND_TO_PORT: integer(0, 65535),
  PORT: integer(0, 65535),
  LOG_LEVEL: { kind: 'choice', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
  LOG_REQUESTS: SWITCH,
  DRAIN_TIMEOUT_MS: integer(0, 28_000, 'ms; the server exits at most 1 s after it, and SageMaker kills the process 30 s after SIGTERM'),
  // config.ts, configFromEnv
  INFERENCE_WORKERS: integer(1, 256),
  INTRA_OP_NUM_THREADS: integer(1, 1024),
  INTRA_OP_SPINNING: SWITCH,
  ORT_EXECUTION_PROVIDERS: { kind: 'list', items: EXECUTION_PROVIDERS },
  BATCHING: SWITCH,
  MAX_BATCH_SIZE: integer(1, 65536),
  MAX_QUEUE_DELAY_MS: integer(0, 10_000, 'ms'),
  MAX_QUEUE_SIZE: integer(1, 1_000_000),
  SAGEMAKER_MAX_PAYLOAD_IN_MB: integer(0, 100, 'MB'),
  // 'true' (any case) under batch transform: the request deadline defaults to 595 s; any other value leaves 55 s.
  SAGEMAKER_BATCH: TEXT,
  // The format /invocations answers rows in when a request has no Accept, or only */* (DEFAULT_ACCEPT_TYPES in config.ts).
  SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: {
    kind: 'mediaType', values: ['application/json', 'text/csv', 'application/jsonlines', 'application/jsonl', 'application/x-jsonlines', 'application/x-npy'],
  },
  BODY_LIMIT_BYTES: integer(1024, 500 * MiB, 'bytes'),
  TEXT_BODY_LIMIT_BYTES: integer(1024, 500 * MiB, 'bytes'),
  REQUEST_TIMEOUT_MS: integer(100, 3_600_000, 'ms'),
  MAX_BODY_BYTES_IN_FLIGHT: integer(MiB, 64 * 1024 * MiB, 'bytes'),
  MAX_ANSWER_ELEMENTS: integer(1, 2 ** 31 - 1, 'values in one answer'),
  // telemetry.ts: read by onnxruntime itself; the server sets it to 1 (telemetry off) when it is unset.
  ORT_DISABLE_TELEMETRY: TEXT,
  // gpus.ts: the GPUs the server counts for its default worker count. The NVIDIA container runtime and
  // device plugin set them; users may too.
  CUDA_VISIBLE_DEVICES: TEXT,
  NVIDIA_VISIBLE_DEVICES: TEXT,
};

/**
 * Variables the CUDA image's entrypoint (`container/scripts/cuda-compat-env.sh`) reads before it starts the
 * server, with the values it accepts: any other value stops the container at start (exit 2). The CPU image
 * does not read them; refusing a bad value there too keeps one rule for both images.
 * `test/private/server-environment.test.ts` runs the script on what this table accepts and refuses.
 */
export const ENTRYPOINT_VARIABLES: Readonly<Record<string, ServerVariableForm>> = {
  CUDA_COMPAT: { kind: 'choice', values: ['auto', 'on', 'off'] },
};

/** The range of an integer variable of the table (for a prop that the construct passes as that variable). */
export function integerRange(name: string): { readonly min: number; readonly max: number } {
  const form = SERVER_VARIABLES[name];
  if (form?.kind !== 'integer') throw new Error(`${name} is not an integer variable of the server`);
  return { min: form.min, max: form.max };
}

/**
 * Server variables whose empty value the constructs treat as unset, dropping it from the environment:
 * the server reads '' as its own default, so an empty value would hide the image's default (the GPU
 * image's `cuda,cpu`) and the construct's (`cuda` on NVIDIA GPUs), and a GPU would be held while the
 * server computes on the CPU.
 */
export const EMPTY_MEANS_UNSET: readonly string[] = ['ORT_EXECUTION_PROVIDERS'];

/** `env` without the empty values of `EMPTY_MEANS_UNSET`. */
export function withoutEmptyUnset<T extends string>(env: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(env).filter(([name, value]) => !(value === '' && EMPTY_MEANS_UNSET.includes(name))));
}

const PLAIN_INTEGER = /^(0|[1-9][0-9]*)$/;

/** What the table allows for a variable, in words (for error messages). */
export function describeForm(form: ServerVariableForm): string {
  switch (form.kind) {
    case 'integer':
      return `a whole number from ${form.min} to ${form.max}${form.unit ? ` (${form.unit})` : ''}, in plain decimal digits`;
    case 'switch':
      return 'on or off';
    case 'list':
      return `a comma-separated list of ${form.items.join(', ')}`;
    case 'choice':
      return `one of ${form.values.join(', ')}`;
    case 'mediaType':
      return `one of ${form.values.join(', ')} (in any case; parameters such as "; charset=utf-8" are ignored)`;
    case 'segment':
      return 'a name that can be one segment of a URL path (not . or .., no /)';
    case 'text':
      return 'any text';
  }
}

/** True when the table allows `value` for a variable of this form. */
export function formAccepts(form: ServerVariableForm, value: string): boolean {
  if (value === '') return true;
  switch (form.kind) {
    case 'integer':
      return PLAIN_INTEGER.test(value) && Number(value) >= form.min && Number(value) <= form.max;
    case 'switch':
      return value === 'on' || value === 'off';
    case 'list':
      return value.split(',').every((item) => form.items.includes(item.trim()));
    case 'choice':
      return form.values.includes(value);
    case 'mediaType': // a blank value is unset to the server (defaultInvocationsAccept in config.ts): its default
      return value.trim() === '' || form.values.includes(value.split(';')[0].trim().toLowerCase());
    case 'segment':
      return value !== '.' && value !== '..' && !value.includes('/');
    case 'text':
      return true;
  }
}

/** Why a variable cannot be set by the user, and what to do instead. */
export interface ReservedVariable {
  /** Completes "'env.NAME' (value) ...": what sets it, or why it must stay unset. */
  readonly reason: string;
  /** How to get what the user wanted. */
  readonly fix: string;
  /**
   * Values that may be set after all (an empty value always means the server's default).
   * @default - none: any value is refused
   */
  readonly allowed?: readonly string[];
}

/** Options of `validateServerEnvironment`. */
export interface ServerEnvironmentOptions {
  /** Variables the construct sets itself or needs unset. */
  readonly reserved: Readonly<Record<string, ReservedVariable>>;
  /** True for a value that is not known at synthesis (a token): it is not checked. */
  readonly isUnresolved?: (value: string) => boolean;
}

/**
 * Fails synthesis (a `PlatformError` on `field.NAME`) for a reserved variable in `env`, or for a value
 * of a server variable (or of the CUDA image's entrypoint) that the bundled server would refuse at start. Other variables pass: users
 * set their own.
 */
export function validateServerEnvironment(
  scope: IConstruct, field: string, env: Readonly<Record<string, string>> | undefined, options: ServerEnvironmentOptions,
): void {
  for (const [name, value] of Object.entries(env ?? {})) {
    const reserved = Object.hasOwn(options.reserved, name) ? options.reserved[name] : undefined;
    if (reserved?.allowed && (value === '' || reserved.allowed.includes(value) || options.isUnresolved?.(value))) continue;
    if (reserved) {
      throw new PlatformError(scope, `${field}.${name}`, value, reserved.reason, reserved.fix);
    }
    const form = Object.hasOwn(SERVER_VARIABLES, name) ? SERVER_VARIABLES[name]
      : Object.hasOwn(ENTRYPOINT_VARIABLES, name) ? ENTRYPOINT_VARIABLES[name] : undefined;
    if (!form || options.isUnresolved?.(value) || formAccepts(form, value)) continue;
    throw new PlatformError(scope, `${field}.${name}`, value,
      `must be ${describeForm(form)}, or empty for the server's default: the bundled inference server refuses anything else and does not start`,
      `correct the value or remove ${name} from ${field}`);
  }
  validateBatchTransformLimits(scope, field, env ?? {}, options);
}

/**
 * Under batch transform (`SAGEMAKER_BATCH=true`, any case) the server refuses to start with a CSV and
 * JSON Lines body limit under 1 MiB (`batchTransformLimitProblem` in config.ts): it announces that limit
 * to SageMaker in whole MB. The text limit is the smaller of the two body limits, so either one set
 * under 1 MiB stops it.
 */
function validateBatchTransformLimits(
  scope: IConstruct, field: string, env: Readonly<Record<string, string>>, options: ServerEnvironmentOptions,
): void {
  const batch = env.SAGEMAKER_BATCH;
  if (batch === undefined || options.isUnresolved?.(batch) || batch.trim().toLowerCase() !== 'true') return;
  for (const name of ['BODY_LIMIT_BYTES', 'TEXT_BODY_LIMIT_BYTES']) {
    const value = env[name];
    if (value === undefined || value === '' || options.isUnresolved?.(value) || Number(value) >= MiB) continue;
    throw new PlatformError(scope, `${field}.${name}`, value,
      `must be at least ${MiB} bytes (1 MiB) while ${field}.SAGEMAKER_BATCH is ${JSON.stringify(batch)}: under batch transform the bundled server ` +
      'announces its CSV and JSON Lines body limit to SageMaker as a whole number of MB from 1 to 100, so it refuses to start with a smaller one',
      `raise ${name} to at least ${MiB} or remove it from ${field}`);
  }
}
