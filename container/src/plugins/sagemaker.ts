/**
 * SageMaker's container contract: `POST /invocations` with `application/json` (`{"instances": [...]}`
 * rows, the simplified JSON of SageMaker's TensorFlow Serving container, or an Open Inference Protocol
 * body), JSON Lines or `text/csv` rows; `X-Amzn-SageMaker-Custom-Attributes`
 * is passed through; `GET /execution-parameters` for batch transform. `/ping` lives in the health plugin.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkOnePerRow, concatRows, decodeCsv, decodeInstances, encodeCsv, encodePredictions, rowPlan, selectOutputs } from '../codec';
import { JSON_LINES_TYPES } from '../config';
import { answerTooLarge, clientClosed, sliceRows, valueCount } from '../engine';
import { errorResponses, InferenceError } from '../errors';
import type { ModelSignature, TensorLimits, WireTensor } from '../tensors';
import { clientGone, releaseBody } from './model';
import { decodeNpyRows, encodeNpyRows, NPY_TYPE } from '../npy';
import { acceptUntypedJson, deadlineOf, OipRequestBody, oipRequestSchema, oipResponseSchema, runOip } from './oip';

export const CUSTOM_ATTRIBUTES_HEADER = 'x-amzn-sagemaker-custom-attributes';

/**
 * SageMaker's limit for a transform job's MaxPayloadInMB, and for MaxConcurrentTransforms x
 * MaxPayloadInMB (CreateTransformJob).
 */
const MAX_TRANSFORM_MB = 100;

/** What is wrong with a custom attributes header, without echoing it (it may be long, or carry secrets). */
function attributesProblem(value: string | string[]): string {
  if (typeof value !== 'string') return `it was sent ${value.length} times`;
  if (value.length > 1024) return `this one has ${value.length}`;
  const at = value.search(/[^\x20-\x7e]/);
  return `character ${at + 1} is U+${value.codePointAt(at)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

const MAX_ROWS = 1_000_000;

// An object (`{"instances": [...]}`, an OIP body, or one instance keyed by input name), or the simplified
// forms SageMaker's TensorFlow Serving container takes: a JSON array of rows, or one plain value.
const jsonBodySchema = {
  type: ['object', 'array', 'number', 'string', 'boolean'],
  maxItems: MAX_ROWS,
  properties: {
    instances: { type: 'array', maxItems: MAX_ROWS },
    inputs: oipRequestSchema.properties.inputs,
    outputs: oipRequestSchema.properties.outputs,
    id: oipRequestSchema.properties.id,
    parameters: oipRequestSchema.properties.parameters,
  },
} as const;

const predictionsSchema = {
  type: 'object',
  properties: {
    predictions: { type: 'array' },
    ...oipResponseSchema.properties,
  },
} as const;

type JsonBody = { instances?: unknown[] } & Partial<OipRequestBody>;

export { JSON_LINES_TYPES };

export type AnswerFormat = 'json' | 'jsonlines' | 'csv' | 'npy';

/** Each answer format: the media types that name it, and the wildcard of its family. */
const FORMATS: ReadonlyArray<readonly [AnswerFormat, readonly string[], string]> = [
  ['json', ['application/json'], 'application/*'],
  ['jsonlines', JSON_LINES_TYPES, 'application/*'],
  ['csv', ['text/csv'], 'text/*'],
  ['npy', [NPY_TYPE], 'application/*'],
];

/** Options of the sagemaker plugin. */
export interface SagemakerOptions {
  /**
   * The media type rows are answered in when a request asks for none: one of DEFAULT_ACCEPT_TYPES
   * (config.ts), lower-cased, without parameters (`SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT`).
   * @default 'application/json'
   */
  readonly defaultAccept?: string;
}

/**
 * The answer format the Accept header asks for (RFC 9110: media types are case-insensitive, `q` weighs
 * them, q=0 refuses). A request that asks for no format gets `defaultType` (a type of FORMATS): no
 * header (a batch transform job without TransformOutput.Accept sends none), a blank one, or one whose
 * acceptable entries are all `*\/*` (curl's), unless the header refuses that type (`text/csv;q=0, *\/*`).
 * Otherwise the highest weight wins; on a tie a type the header names outranks one it only matches by a
 * wildcard, then JSON comes before JSON Lines before CSV before .npy; a header that accepts none of them
 * answers JSON. `mediaType` is the JSON Lines name the header used, or `defaultType` when that applies
 * (SageMaker's name when neither gives one).
 */
export function answerFormat(req: Pick<FastifyRequest, 'headers'>, defaultType = 'application/json'): { format: AnswerFormat; mediaType: string } {
  const accept = req.headers.accept;
  const q = new Map<string, number>();
  for (const part of typeof accept === 'string' ? accept.split(',') : []) {
    const [type, ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    if (!type) continue;
    let weight = 1;
    for (const p of params) {
      const m = /^q=([0-9.]+)$/.exec(p);
      if (m) weight = Number.isFinite(Number(m[1])) ? Number(m[1]) : 0;
    }
    q.set(type, Math.max(q.get(type) ?? 0, weight));
  }
  /** The names of a format the header gives, highest weight first. */
  const namedOf = (names: readonly string[]) => names.filter((n) => q.has(n)).sort((a, b) => q.get(b)! - q.get(a)!);
  const weightOf = (names: readonly string[], family: string) => {
    const named = namedOf(names);
    return named.length ? q.get(named[0])! : q.get(family) ?? q.get('*/*') ?? 0;
  };
  const fallback = FORMATS.find(([, names]) => names.includes(defaultType));
  if (fallback && [...q].every(([type, weight]) => type === '*/*' || weight === 0) && (q.size === 0 || weightOf(fallback[1], fallback[2]) > 0)) {
    return { format: fallback[0], mediaType: defaultType };
  }
  let best: { format: AnswerFormat; mediaType: string; weight: number; named: boolean } = { format: 'json', mediaType: 'application/json', weight: 0, named: false };
  for (const [format, names, family] of FORMATS) {
    const named = namedOf(names);
    const weight = weightOf(names, family);
    if (weight > best.weight || (weight === best.weight && weight > 0 && named.length > 0 && !best.named)) {
      best = { format, mediaType: named[0] ?? names[0], weight, named: named.length > 0 };
    }
  }
  return { format: best.format, mediaType: best.mediaType };
}

/** Whether a CSV Content-Type says its first line is a header (RFC 4180's `header=present`). */
export function csvHeaderPresent(type: string | undefined): boolean {
  if (type === undefined) return false;
  return type.split(';').slice(1).some((p) => {
    const [name, value = ''] = p.split('=').map((x) => x.trim().toLowerCase());
    return name === 'header' && value.replace(/^"(.*)"$/, '$1') === 'present';
  });
}

/**
 * Splits a JSON Lines body into its values, one per non-blank line, and the line number each came from
 * (from 1); errors name the line.
 */
export function parseJsonLines(body: string, parse: (line: string) => unknown): { values: unknown[]; lineNumbers: number[] } {
  const values: unknown[] = [];
  const lineNumbers: number[] = [];
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    try {
      values.push(parse(line));
      lineNumbers.push(i + 1);
    } catch (e) {
      throw new InferenceError('BAD_JSON', `line ${i + 1} of the JSON Lines body is not valid JSON: ${(e as Error).message}`);
    }
  }
  if (values.length === 0) throw new InferenceError('EMPTY_BODY', 'the JSON Lines body has no lines; send one instance per line');
  return { values, lineNumbers };
}

/** A JSON Lines body that came as `application/json` (see `invocationsJsonLines`): its values and their line numbers. */
export class JsonLinesBody {
  constructor(readonly values: unknown[], readonly lineNumbers: number[]) {}
}

/**
 * For the JSON body parser, on `/invocations`: a body that is not one JSON document is read as JSON
 * Lines when it has two lines or more and its first line is JSON. A batch transform job sends its
 * `ContentType` with every mini-batch, so a job that splits a JSON Lines file by line under
 * `application/json` sends several documents, one per line; SageMaker's TensorFlow Serving container
 * reads those as JSON Lines too. A byte order mark (which the JSON parser skips in one document, and
 * a file saved by some Windows tools starts with) and blank lines before the first line with content
 * are passed over, as under a JSON Lines type. A body whose first line is not JSON keeps the JSON
 * parser's error.
 */
export function invocationsJsonLines(req: FastifyRequest, body: string): { value: unknown } | { problem: string } | undefined {
  if (req.routeOptions.url !== '/invocations') return undefined;
  const text = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  const start = text.search(/\S/);
  const firstEnd = start < 0 ? -1 : text.indexOf('\n', start);
  if (firstEnd < 0) return undefined;
  const more = /\S/g;
  more.lastIndex = firstEnd + 1;
  if (!more.test(text)) return undefined;
  try {
    JSON.parse(text.slice(start, firstEnd));
  } catch {
    return undefined;
  }
  try {
    const { values, lineNumbers } = parseJsonLines(text, JSON.parse);
    return { value: new JsonLinesBody(values, lineNumbers) };
  } catch (e) {
    return { problem: `read as JSON Lines (one instance per line), ${(e as Error).message.replace(/ of the JSON Lines body/, '')}` };
  }
}

async function sagemakerPlugin(app: FastifyInstance, options: SagemakerOptions): Promise<void> {
  const defaultAccept = options.defaultAccept ?? 'application/json';
  const bodyLimit = app.model.config.limits.textBodyLimitBytes;
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit }, (_req, body, done) => done(null, body));
  // JSON Lines (batch transform with SplitType=Line sends several records in one request): one instance
  // per line, parsed in the handler so an error can name the line.
  app.addContentTypeParser(JSON_LINES_TYPES, { parseAs: 'string', bodyLimit }, (_req, body, done) => done(null, body));
  // NumPy's .npy (the SageMaker Python SDK's NumpySerializer): binary, so it may use the whole body limit.
  app.addContentTypeParser(NPY_TYPE, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  /** Runs rows; a model whose batch axis is fixed at 1 gets one run per row. */
  const runRows = async (inputs: WireTensor[], reply: FastifyReply): Promise<WireTensor[]> => {
    const signature = app.model.requireSignature();
    const plan = rowPlan(signature);
    const outputNames = selectOutputs(signature);
    const rows = inputs[0].dims[0];
    if (!plan.onePerRun || rows === 1) {
      return app.model.infer(inputs, outputNames, deadlineOf(app, reply), () => clientGone(reply));
    }
    // A few rows in the queue at a time (two per worker keeps every worker busy): a request of
    // thousands of rows (a batch transform's MULTI_RECORD payload) must not fill the queue, which would
    // fail it with QUEUE_FULL on an idle server and crowd out other callers.
    const window = 2 * Math.max(1, app.model.engine?.workerCount ?? 1); // at least 2 while a lost worker is replaced
    const parts: WireTensor[][] = new Array(rows);
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let running = 0;
      let answered = 0;
      let failed = false;
      const launch = () => {
        while (!failed && running < window && next < rows) {
          // Nobody waits for the answer any more: stop feeding its rows.
          if (clientGone(reply)) {
            failed = true;
            reject(clientClosed());
            return;
          }
          const r = next++;
          running++;
          // The deadline in Date.now() terms as of now: the engine converts each row's to its monotonic
          // clock when it takes the row, so one value computed before the first row would move with a
          // step of the wall clock between rows (ten minutes forward: every later row refused at once).
          app.model.infer(inputs.map((t) => copyRows(sliceRows(t, r, 1, rows))), outputNames, deadlineOf(app, reply)).then((out) => {
            if (failed) return;
            // The first row answered shows what a row's answer holds: stop before running the others
            // when the whole answer would pass limits.maxAnswerElements.
            const tooLarge = answered === 0 ? answerTooLarge(valueCount(out), rows, app.model.config.limits.maxAnswerElements) : undefined;
            if (tooLarge) {
              failed = true;
              reject(tooLarge);
              return;
            }
            parts[r] = out;
            running--;
            if (++answered === rows) resolve();
            else launch();
          }, (e: Error) => {
            failed = true;
            reject(e);
          });
        }
      };
      launch();
    });
    return concatRows(parts);
  };

  // Batch transform asks this once before sending records (optional in the contract); a transform job's
  // own settings take precedence. Two requests per worker keep each worker busy while the HTTP thread
  // parses the next; every request may carry many records (MULTI_RECORD). SageMaker takes at most
  // 100 MB for MaxPayloadInMB, and for MaxConcurrentTransforms x MaxPayloadInMB: the payload is capped
  // at 100, then the concurrency at what fits beside it (at least 1).
  app.get('/execution-parameters', {
    logLevel: 'warn',
    schema: {
      response: {
        200: {
          type: 'object',
          required: ['MaxConcurrentTransforms', 'BatchStrategy', 'MaxPayloadInMB'],
          properties: { MaxConcurrentTransforms: { type: 'integer' }, BatchStrategy: { type: 'string' }, MaxPayloadInMB: { type: 'integer' } },
        },
        ...errorResponses,
      },
    },
  }, async () => {
    // Batch transform sends CSV or JSON Lines, which stop at the text body limit.
    const payloadMb = Math.min(MAX_TRANSFORM_MB, Math.max(1, Math.floor(app.model.config.limits.textBodyLimitBytes / (1024 * 1024))));
    const concurrency = 2 * Math.max(1, app.model.engine?.workerCount || app.model.config.workers);
    return {
      MaxConcurrentTransforms: Math.max(1, Math.min(concurrency, Math.floor(MAX_TRANSFORM_MB / payloadMb))),
      BatchStrategy: 'MULTI_RECORD',
      MaxPayloadInMB: payloadMb,
    };
  });

  app.post('/invocations', {
    onRequest: acceptUntypedJson,
    schema: {
      headers: {
        type: 'object',
        properties: { [CUSTOM_ATTRIBUTES_HEADER]: { type: 'string' } },
      },
      body: {
        content: {
          'application/json': { schema: jsonBodySchema },
          'text/csv': { schema: { type: 'string' } },
          ...Object.fromEntries(JSON_LINES_TYPES.map((t) => [t, { schema: { type: 'string' } }])),
        },
      },
      response: {
        200: {
          content: {
            'application/json': { schema: predictionsSchema },
            ...Object.fromEntries(JSON_LINES_TYPES.map((t) => [t, { schema: { type: 'string' } }])),
            'text/csv': { schema: { type: 'string' } },
          },
        },
        ...errorResponses,
      },
    },
  }, async (req, reply) => {
    const attributes = req.headers[CUSTOM_ATTRIBUTES_HEADER];
    if (attributes !== undefined) {
      if (typeof attributes !== 'string' || attributes.length > 1024 || !/^[\x20-\x7e]*$/.test(attributes)) {
        throw new InferenceError('BAD_HEADER', `${CUSTOM_ATTRIBUTES_HEADER} must be at most 1024 visible US-ASCII characters; ${attributesProblem(attributes)}`);
      }
      reply.header(CUSTOM_ATTRIBUTES_HEADER, attributes);
    }
    if (req.body === undefined) {
      throw new InferenceError('EMPTY_BODY', 'the request has no body; send JSON ({"instances": [...]} or an Open Inference Protocol body) or text/csv rows');
    }
    const signature = app.model.requireSignature();
    // The answer is written a row per instance: every output must have that many rows.
    const run = async (inputs: WireTensor[]) => {
      const outputs = await runRows(inputs, reply);
      checkOnePerRow(outputs, inputs[0].dims[0]);
      return outputs;
    };
    checkOneFormat(req.body);
    if (req.body !== null && typeof req.body === 'object' && Array.isArray((req.body as JsonBody).inputs)) {
      // Returned, not awaited: awaiting here would keep the parsed body while the request runs.
      reply.type('application/json');
      return runOip(app, reply, req.body as OipRequestBody);
    }
    // Decoded in a function of its own, then let go: this one is async, and a local holding the parsed
    // body here would keep it while the request runs.
    const inputs = decodeRows(req, signature, app.model.limits, app.model.config.limits.textBodyLimitBytes);
    releaseBody(req);
    // One answer row per instance sent (a scalar output is repeated on each).
    const rows = inputs[0].dims[0];
    const outputs = await run(inputs);
    const { format, mediaType } = answerFormat(req, defaultAccept);
    // An .npy file holds one array: a model with several outputs is answered in JSON.
    if (format === 'npy' && outputs.length === 1) {
      reply.type(NPY_TYPE);
      return encodeNpyRows(outputs[0], rows, app.model.config.limits.maxAnswerElements);
    }
    if (format === 'csv') {
      // Exactly text/csv when every character is ASCII (numbers, booleans, ASCII text): the SageMaker Python
      // SDK's NumpyDeserializer and PandasDeserializer compare the Content-Type with 'text/csv' as a whole
      // and raise on any other. UTF-8 is said outright only when a BYTES value is not ASCII: a text/* type
      // without charset is read as US-ASCII (RFC 4180) or ISO-8859-1 by some clients, which would garble it.
      // Sent as bytes, which Fastify labels as given (it appends a charset to a string).
      const csv = encodeCsv(outputs, rows);
      const ascii = !/[\u0080-\uffff]/.test(csv);
      reply.type(ascii ? 'text/csv' : 'text/csv; charset=utf-8');
      return Buffer.from(csv, 'utf8');
    }
    if (format === 'jsonlines') {
      reply.type(mediaType);
      return encodePredictions(outputs, rows).map((p) => JSON.stringify(p)).join('\n') + '\n';
    }
    // Exactly application/json, without the charset Fastify would append (RFC 8259 defines none; JSON is
    // UTF-8), as error bodies are sent: the SageMaker Python SDK's NumpyDeserializer and PandasDeserializer
    // compare the Content-Type with 'application/json' as a whole and raise on any other, so the JSON an
    // .npy request to a model with several outputs falls back to would be unreadable to the client that asked.
    reply.type('application/json').serializer((b: unknown) => JSON.stringify(b));
    return { predictions: encodePredictions(outputs, rows) };
  });
}

/**
 * Refuses a JSON body that mixes `instances` with OIP's `inputs` or `outputs`, whose fields would
 * otherwise be ignored: a client asking for one output, or sending tensors, would get an answer to
 * something else than it sent. (A function of its own: a local of the async handler holding the parsed
 * body would keep it while the request runs.)
 */
function checkOneFormat(parsed: unknown): void {
  if (parsed === null || typeof parsed !== 'object' || (parsed as JsonBody).instances === undefined) return;
  const body = parsed as JsonBody;
  if (body.inputs !== undefined) {
    throw new InferenceError('INVALID_REQUEST', 'the body holds both "instances" (rows) and "inputs" (Open Inference Protocol tensors); send one of them');
  }
  if (body.outputs !== undefined) {
    throw new InferenceError('INVALID_REQUEST', `the body holds "instances" and "outputs" (${JSON.stringify(body.outputs.map((o) => o.name)).slice(0, 200)}); ` +
      '"outputs" selects the outputs of an Open Inference Protocol body ("inputs"), and "instances" are answered with every output: leave "outputs" out, or send an OIP body');
  }
}

/** The inputs of a JSON Lines, CSV or JSON rows body. */
function decodeRows(req: FastifyRequest, signature: ModelSignature, limits: TensorLimits, textBodyLimitBytes: number): WireTensor[] {
  const body = req.body;
  if (body instanceof JsonLinesBody) {
    return decodeInstances(signature, body.values, limits, (r) => `line ${body.lineNumbers[r]} of the JSON Lines body`);
  }
  const type = req.mediaType ?? '';
  if (Buffer.isBuffer(body) && type === NPY_TYPE) return decodeNpyRows(signature, body, limits, textBodyLimitBytes);
  if (typeof body === 'string' && JSON_LINES_TYPES.includes(type)) {
    const { values, lineNumbers } = parseJsonLines(body, JSON.parse);
    return decodeInstances(signature, values, limits, (r) => `line ${lineNumbers[r]} of the JSON Lines body`);
  }
  if (typeof body === 'string' && type === 'text/csv') return decodeCsv(signature, body, limits, { header: csvHeaderPresent(req.headers['content-type']) });
  if (body !== null && typeof body === 'object' && Array.isArray((body as JsonBody).instances)) {
    return decodeInstances(signature, (body as JsonBody).instances!, limits);
  }
  const { rows, rowName } = simplifiedRows(signature, body);
  return decodeInstances(signature, rows, limits, rowName);
}

/**
 * The rows of a JSON body without "instances" or "inputs": the simplified forms of SageMaker's TensorFlow
 * Serving container, which the SageMaker Python SDK's JSONSerializer sends for a list or a NumPy array.
 * A JSON array is the list of rows, except an array of plain values for a model with one input whose
 * rows are arrays (`[0.1, 0.2, ...]` for a `[-1, 8]` input), which is one row; an object keyed by input
 * name, or a plain value, is one row.
 */
function simplifiedRows(sig: ModelSignature, body: unknown): { rows: unknown[]; rowName: (r: number) => string } {
  rowPlan(sig); // every input must have a batch axis to take rows: said before any other problem
  const oneRow = { rowName: () => 'the body (one instance)' };
  if (Array.isArray(body)) {
    if (body.length === 0) throw new InferenceError('BAD_INSTANCES', 'the body is an empty JSON array; send at least one row');
    const rowsAreArrays = sig.inputs.length === 1 && (sig.inputs[0].shape?.length ?? 0) > 1;
    if (rowsAreArrays && body.every((v) => v === null || typeof v !== 'object')) return { rows: [body], ...oneRow };
    return { rows: body, rowName: (r) => `instance ${r}` };
  }
  if (body !== null && typeof body === 'object') {
    const keys = Object.keys(body);
    if (!keys.some((k) => sig.inputs.some((m) => m.name === k))) {
      const names = sig.inputs.map((m) => `'${m.name}'`).join(', ');
      throw new InferenceError('BAD_INSTANCES', 'the JSON body must hold "instances" (an array of rows) or "inputs" (Open Inference Protocol tensors), ' +
        `or be the rows themselves (a JSON array), or one instance keyed by input name (the model has inputs ${names}); ` +
        `it has ${keys.length === 0 ? 'no keys' : `the keys ${JSON.stringify(keys.slice(0, 5)).slice(0, 200)}${keys.length > 5 ? ' and more' : ''}`}`);
    }
    return { rows: [body], ...oneRow };
  }
  return { rows: [body], ...oneRow };
}

/** A row slice that owns its buffer (it is moved to a worker). */
function copyRows(t: WireTensor): WireTensor {
  return { ...t, data: t.data.slice() as WireTensor['data'] };
}

export default fp(sagemakerPlugin, { name: 'sagemaker', fastify: '5.x', dependencies: ['model', 'oip'] });
