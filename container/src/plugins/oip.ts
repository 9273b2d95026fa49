/**
 * Open Inference Protocol v2 (KServe V2, Triton, MLServer) over REST: server and model metadata,
 * model readiness, and `POST /v2/models/{name}/infer` with flat or nested data in every datatype.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { checkBinaryDataSwitches, decodeOipInputs, encodeOipOutput, OipInput, selectOutputs } from '../codec';
import { encodeBinaryData, ORT_TO_OIP } from '../tensors';
import { isEncoded } from '../content-coding';
import { errorBodySchema, errorResponses, InferenceError } from '../errors';
import { keepServing } from './health';
import { arrivedAt, clientGone, MODEL_VERSION, releaseBody } from './model';
import type { TensorMeta, WireTensor } from '../tensors';

export const SERVER_NAME = 'ai-platform-constructs-inference-server';
export const SERVER_VERSION = '0.1.0';

export interface OipRequestBody {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: OipInput[];
  outputs?: Array<{ name: string; parameters?: Record<string, unknown> }>;
}

const parameters = { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } } as const;

/** The request body schema: structure only; names, datatypes, shapes and values are checked against the model. */
export const oipRequestSchema = {
  type: 'object',
  required: ['inputs'],
  properties: {
    // Any string (the protocol sets no limit; the body limit bounds it): it is echoed, never logged.
    id: { type: 'string' },
    parameters,
    inputs: {
      type: 'array',
      minItems: 1,
      maxItems: 1024,
      items: {
        type: 'object',
        // `data` may be absent when the values come as binary tensor data (parameters.binary_data_size).
        required: ['name', 'shape', 'datatype'],
        properties: {
          name: { type: 'string', maxLength: 1024 },
          shape: { type: 'array', maxItems: 64, items: { type: 'integer' } },
          datatype: { type: 'string', maxLength: 32 },
          parameters,
          data: {},
        },
      },
    },
    outputs: {
      type: 'array',
      maxItems: 1024,
      items: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 1024 }, parameters } },
    },
  },
} as const;

export const oipResponseSchema = {
  type: 'object',
  required: ['model_name', 'outputs'],
  properties: {
    model_name: { type: 'string' },
    model_version: { type: 'string' },
    id: { type: 'string' },
    parameters,
    outputs: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'datatype', 'shape', 'data'],
        properties: {
          name: { type: 'string' },
          datatype: { type: 'string' },
          shape: { type: 'array', items: { type: 'integer' } },
          data: { type: 'array' },
        },
      },
    },
  },
} as const;

const tensorMetadataSchema = {
  type: 'object',
  required: ['name', 'datatype', 'shape'],
  properties: { name: { type: 'string' }, datatype: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } } },
} as const;

const nameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } as const;
const versionParams = { type: 'object', required: ['name', 'version'], properties: { name: { type: 'string' }, version: { type: 'string' } } } as const;

type ModelParams = { name: string; version?: string };

const INFERENCE_HEADER_LENGTH = 'inference-header-content-length';
export const OCTET_STREAM = /^\s*application\/octet-stream\s*(;|$)/i;
/** Requests whose body was read as JSON because it came with no Content-Type or application/octet-stream. */
export const assumedJson = new WeakSet<object>();
/** Requests the infer routes' hook found to carry binary tensor data after their JSON. */
const binaryRequests = new WeakSet<object>();
/** The binary part of such a request (after its JSON). */
const binaryBodies = new WeakMap<object, Buffer>();

/** What the prototype-poisoning check of Fastify's JSON parser refuses, and why. */
const POISON_KEYS = 'a "__proto__" key, or a "constructor" key holding "prototype", which the server refuses (such keys can change the prototype of objects built from the body); rename or remove them';

/**
 * Why Fastify's JSON parser refused a text, which it does not say ("Body is not valid JSON"): JSON.parse's
 * own words (where the JSON breaks, and what it found there), or, when it is valid JSON, the keys its
 * prototype-poisoning check refuses. `what` is the subject of the message (`plural`: "the first 10 bytes").
 * Only called once refused.
 */
export function jsonProblem(what: string, text: string, { plural = false, readAs = '' } = {}): string {
  try {
    JSON.parse(text);
  } catch (e) {
    return `${what} ${plural ? 'are' : 'is'} not valid JSON${readAs}: ${(e as Error).message}`;
  }
  return `${what}${readAs} ${plural ? 'hold' : 'holds'} ${POISON_KEYS}`;
}

/**
 * Another reading of a body that is not one JSON document (for a route that has one): the value to
 * use, the reason that reading fails too (added to the error), or undefined when it does not apply.
 */
export type JsonFallback = (req: FastifyRequest, body: string) => { value: unknown } | { problem: string } | undefined;

/**
 * A JSON body parser: Fastify's own (with its prototype-poisoning check), whose refusals say what is
 * wrong (BAD_JSON, naming where the JSON breaks or the key it refuses). `fallback` may read a body that
 * is not JSON in another way (JSON Lines on /invocations).
 */
export function jsonBodyParser(app: FastifyInstance, fallback?: JsonFallback) {
  const parse = app.getDefaultJsonParser('error', 'error');
  return (req: FastifyRequest, body: string, done: (err: Error | null, value?: unknown) => void): void => {
    parse(req, body, (err, value) => {
      if (err && (err as { code?: string }).code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
        const other = fallback?.(req, body);
        if (other && 'value' in other) {
          done(null, other.value);
          return;
        }
        const readAs = assumedJson.has(req) ? ' (it came with no Content-Type, or application/octet-stream, so it was read as JSON)' : '';
        done(new InferenceError('BAD_JSON', jsonProblem('the body', body, { readAs }) + (other ? `; ${other.problem}` : '')));
        return;
      }
      done(err, value);
    });
  };
}

/**
 * An onRequest hook for the inference routes. A body sent with no Content-Type, or as
 * application/octet-stream, is read as JSON: Triton's Python client sends no Content-Type, its C++
 * client (perf_analyzer) application/octet-stream, and SageMaker's InvokeEndpoint makes ContentType
 * optional. `Inference-Header-Content-Length` shorter than the body means binary tensor data follows
 * the JSON: the OIP routes read it (`binary`), /invocations refuses it with a clear 400.
 */
function bodyTypeHook(binary: boolean) {
  return (req: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const headers = req.raw.headers;
    const headerLength = headers[INFERENCE_HEADER_LENGTH];
    // A compressed body's Content-Length is not the length of what it holds: its length is known only
    // once decompressed (as for a chunked one).
    const bodyLength = isEncoded(headers) ? undefined : headers['content-length'];
    if (headerLength !== undefined && (bodyLength === undefined || Number(bodyLength) !== Number(headerLength))) {
      const valid = typeof headerLength === 'string' && /^\d{1,15}$/.test(headerLength) && (bodyLength === undefined || Number(headerLength) <= Number(bodyLength));
      if (!binary || !valid) {
        done(new InferenceError(binary ? 'INVALID_REQUEST' : 'BINARY_DATA_UNSUPPORTED',
          `Inference-Header-Content-Length is ${JSON.stringify(headerLength)} and the body is ${bodyLength === undefined ? 'of unknown length (chunked or compressed)' : `${bodyLength} bytes`}: ` +
          (binary ? 'it must be the length of the JSON that starts the body, at most the body\'s length'
            : 'binary tensor data is served on /v2/models/{name}/infer, not here; send every tensor\'s values as JSON in "data"')));
        return;
      }
      headers['content-type'] = 'application/octet-stream';
      binaryRequests.add(req);
      done();
      return;
    }
    const type = headers['content-type'];
    if (type === undefined || OCTET_STREAM.test(type)) {
      headers['content-type'] = 'application/json';
      assumedJson.add(req);
    }
    done();
  };
}

/** For /invocations: untyped bodies read as JSON, binary tensor data refused. */
export const acceptUntypedJson = bodyTypeHook(false);
/** For the OIP infer routes: untyped bodies read as JSON, binary tensor data read. */
const acceptOipBody = bodyTypeHook(true);

/** Checks the model (and, on the /versions/{v} routes, the version) a request addressed. */
function requireModel(app: FastifyInstance, params: ModelParams): void {
  if (params.version === undefined) app.model.requireName(params.name);
  else app.model.requireVersion(params.name, params.version);
}

function tensorMetadata(m: TensorMeta) {
  return { name: m.name, datatype: m.datatype, shape: m.shape ? [...m.shape] : [-1] };
}

/**
 * Runs an OIP request body against the model; shared with SageMaker's `/invocations`. On the OIP
 * routes (`binary`), inputs may come as binary tensor data (`binary.input`, the bytes after the JSON)
 * and outputs asked for with `binary_data` (or `binary_data_output` for all) are answered as binary
 * tensor data: the JSON, then each such output's bytes, with Inference-Header-Content-Length.
 */
export function runOip(app: FastifyInstance, reply: FastifyReply, body: OipRequestBody, binary?: { input?: Uint8Array }) {
  let inputs: WireTensor[];
  let outputNames: string[];
  try {
    const signature = app.model.requireSignature();
    checkBinaryDataSwitches(body.parameters, body.outputs);
    outputNames = selectOutputs(signature, body.outputs);
    inputs = decodeOipInputs(signature, body.inputs, app.model.limits, app.model.engine!.batchingActive, binary?.input);
  } catch (e) {
    return Promise.reject(e);
  }
  // The parsed body goes once decoded, while the request waits for its run: only these stay (an async
  // function would keep the whole body, its parameter, until it returns).
  releaseBody(reply.request);
  return answerOip(app, reply, inputs, outputNames, { id: body.id, outputs: body.outputs, parameters: body.parameters }, binary !== undefined);
}

async function answerOip(app: FastifyInstance, reply: FastifyReply, inputs: WireTensor[], outputNames: string[], { id, outputs: asked, parameters }: Pick<OipRequestBody, 'id' | 'outputs' | 'parameters'>, binary: boolean) {
  const model = app.model;
  const outputs = await model.infer(inputs, outputNames, deadlineOf(app, reply), () => clientGone(reply));
  const allBinary = parameters?.binary_data_output === true;
  const asBinary = (name: string): boolean => {
    const own = asked?.find((o) => o.name === name)?.parameters?.binary_data;
    return typeof own === 'boolean' ? own : allBinary;
  };
  if (!binary || !(allBinary || asked?.some((o) => o.parameters?.binary_data === true)) || !outputs.some((t) => asBinary(t.name))) {
    return {
      model_name: model.name,
      model_version: MODEL_VERSION,
      ...(id !== undefined ? { id } : {}),
      outputs: outputs.map(encodeOipOutput),
    };
  }
  const head = { model_name: model.name, model_version: MODEL_VERSION, ...(id !== undefined ? { id } : {}) };
  const parts: Uint8Array[] = [];
  const encoded = outputs.map((t) => {
    if (!asBinary(t.name)) return encodeOipOutput(t);
    const bytes = encodeBinaryData(t.type, t.data);
    parts.push(bytes);
    return { name: t.name, datatype: ORT_TO_OIP[t.type], shape: t.dims, parameters: { binary_data_size: bytes.length } };
  });
  const json = Buffer.from(JSON.stringify({ ...head, outputs: encoded }), 'utf8');
  reply.header('inference-header-content-length', String(json.length));
  reply.type('application/octet-stream');
  return Buffer.concat([json, ...parts]);
}

/**
 * A request's deadline, in Date.now() milliseconds as the engine takes it: when it arrived plus the
 * configured request timeout, measured on the monotonic clock up to now (a wall-clock step while its
 * body arrived does not move it).
 */
export function deadlineOf(app: FastifyInstance, reply: FastifyReply): number {
  return Date.now() + (arrivedAt(reply.request) + app.model.config.limits.requestTimeoutMs - performance.now());
}

async function oipPlugin(app: FastifyInstance): Promise<void> {
  // Reads the requests the infer routes' hook marked as binary tensor data (an untyped or octet-stream
  // body without binary data becomes JSON there). Any other octet-stream body (on a route that takes
  // none, or one with no route) stays bytes, and routing answers it.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (req, body, done) => {
    const buffer = body as Buffer;
    if (!binaryRequests.has(req)) {
      done(null, buffer);
      return;
    }
    const header = req.headers[INFERENCE_HEADER_LENGTH];
    const jsonLength = header === undefined ? buffer.length : Number(header);
    if (!(jsonLength <= buffer.length)) {
      done(new InferenceError('INVALID_REQUEST', `Inference-Header-Content-Length is ${JSON.stringify(header)}, more than the body's ${buffer.length} bytes`));
      return;
    }
    const textLimit = app.model.config.limits.textBodyLimitBytes;
    if (jsonLength > textLimit) {
      done(new InferenceError('PAYLOAD_TOO_LARGE', `the JSON that starts the body is ${jsonLength} bytes (Inference-Header-Content-Length); it may be at most ${textLimit} bytes here: send the values as binary tensor data`));
      return;
    }
    parseJson(req, buffer.subarray(0, jsonLength).toString('utf8'), (err, value) => {
      if (err) {
        done(new InferenceError('BAD_JSON', jsonProblem(`the first ${jsonLength} bytes of the body (Inference-Header-Content-Length)`, buffer.subarray(0, jsonLength).toString('utf8'), { plural: true })));
        return;
      }
      if (value !== null && typeof value === 'object') binaryBodies.set(req, buffer.subarray(jsonLength));
      done(null, value);
    });
  });

  // The protocol's documents name the server metadata path both `v2` and `/v2/` (the router takes a
  // trailing slash on every route).
  const serverMetadata = {
    schema: {
      response: {
        200: { type: 'object', required: ['name', 'version', 'extensions'], properties: { name: { type: 'string' }, version: { type: 'string' }, extensions: { type: 'array', items: { type: 'string' } } } },
        ...errorResponses,
      },
    },
  };
  const serverMetadataAnswer = async () => ({ name: SERVER_NAME, version: SERVER_VERSION, extensions: ['binary_tensor_data'] });
  app.get('/v2', serverMetadata, serverMetadataAnswer);

  const modelMetadata = async (req: FastifyRequest<{ Params: ModelParams }>) => {
    requireModel(app, req.params);
    const sig = app.model.requireSignature();
    return {
      name: app.model.name,
      versions: [MODEL_VERSION],
      // The protocol allows a fixed list of platform names; an ONNX model run by ONNX Runtime is
      // onnx_onnxv1 (Triton answers its own config name, onnxruntime_onnx, which is not on the list).
      platform: 'onnx_onnxv1',
      inputs: sig.inputs.map(tensorMetadata),
      outputs: sig.outputs.map(tensorMetadata),
    };
  };
  const metadataSchema = {
    params: nameParams,
    response: {
      200: {
        type: 'object',
        required: ['name', 'platform', 'inputs', 'outputs'],
        properties: {
          name: { type: 'string' }, versions: { type: 'array', items: { type: 'string' } }, platform: { type: 'string' },
          inputs: { type: 'array', items: tensorMetadataSchema }, outputs: { type: 'array', items: tensorMetadataSchema },
        },
      },
      ...errorResponses,
    },
  };
  app.get('/v2/models/:name', { schema: metadataSchema }, modelMetadata);
  app.get('/v2/models/:name/versions/:version', { schema: { ...metadataSchema, params: versionParams } }, modelMetadata);

  const readyResponse = { type: 'object', required: ['name', 'ready'], properties: { name: { type: 'string' }, ready: { type: 'boolean' } } } as const;
  const modelReady = async (req: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    requireModel(app, req.params);
    const ready = app.model.state === 'ready';
    reply.code(ready ? 200 : 503);
    if (!ready) reply.header('retry-after', '5');
    return { name: app.model.name, ready };
  };
  // A 503 is the not-ready answer, or the catalogue's error body when the request itself was refused.
  const notReadyResponse = { type: 'object', properties: { ...readyResponse.properties, ...errorBodySchema.properties } } as const;
  const readyResponses = { ...errorResponses, 200: readyResponse, 503: notReadyResponse };
  // A readiness probe like /v2/health/ready: answered whatever the event-loop delay, Retry-After when not ready.
  app.get('/v2/models/:name/ready', { logLevel: 'warn', config: keepServing, schema: { params: nameParams, response: readyResponses } }, modelReady);
  app.get('/v2/models/:name/versions/:version/ready', { logLevel: 'warn', config: keepServing, schema: { params: versionParams, response: readyResponses } }, modelReady);

  const inferSchema = {
    params: nameParams,
    body: oipRequestSchema,
    response: { 200: oipResponseSchema, ...errorResponses },
  };
  // The model (and version) a request addressed is checked before its body is read: a request for a
  // model not served here is answered 404 whatever its body, without parsing up to the body limit.
  const addressedModel = (req: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    try {
      requireModel(app, req.params as ModelParams);
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  };
  const infer = async (req: FastifyRequest<{ Params: ModelParams; Body: OipRequestBody }>, reply: FastifyReply) =>
    runOip(app, reply, req.body, { input: binaryBodies.get(req) });
  const inferRoute = { schema: inferSchema, onRequest: [addressedModel, acceptOipBody] };
  app.post<{ Params: ModelParams; Body: OipRequestBody }>('/v2/models/:name/infer', inferRoute, infer);
  app.post<{ Params: ModelParams; Body: OipRequestBody }>('/v2/models/:name/versions/:version/infer', { ...inferRoute, schema: { ...inferSchema, params: versionParams } }, infer);
}

export default fp(oipPlugin, { name: 'oip', fastify: '5.x', dependencies: ['model'] });
