/**
 * `buildApp(options)`: the inference server as a Fastify instance, not yet listening.
 *
 * @example
 *   const app = await buildApp({ modelDir: '/opt/ml/model' });
 *   await app.listen({ port: 8080, host: '0.0.0.0' });
 *   await app.model.ready; // loaded and warmed up
 */
import Fastify, { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions, LogController } from 'fastify';
import underPressure from '@fastify/under-pressure';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { IncomingHttpHeaders, IncomingMessage, ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { batchTransformLimitProblem, ConfigError, defaultAcceptType, LimitsConfig, readConfigFile, readFeaturesFile, resolveConfig, safeTextBodyLimit, servedModelName, ServingConfigInput, CONFIG_FILE } from './config';
import { ERROR_CATALOGUE, ErrorCode, InferenceError } from './errors';
import { ACCEPTED_CODINGS, codingError, contentCoding, decodedBody } from './content-coding';
import { LINGER_MS, LingeringClose } from './linger';
import { shortened } from './tensors';
import { loggedUrl, requestFields } from './request-log';
import metricsPlugin from './plugins/metrics';
import modelPlugin, { clientGone, InputCheck } from './plugins/model';
import healthPlugin from './plugins/health';
import oipPlugin, { assumedJson, jsonBodyParser } from './plugins/oip';
import { NPY_TYPE } from './npy';
import sagemakerPlugin, { invocationsJsonLines, JSON_LINES_TYPES } from './plugins/sagemaker';

export interface AppOptions {
  /** Directory holding the model (`model.onnx`), and optionally `serving.json` and `features.json`. */
  readonly modelDir: string;
  /** @default the directory's name */
  readonly modelName?: string;
  /** Overrides applied over `serving.json` (e.g. from the environment). */
  readonly config?: ServingConfigInput;
  /** Defaults applied under `serving.json` (e.g. what batch transform implies: `configDefaultsFromEnv`). @default none */
  readonly defaults?: ServingConfigInput;
  /**
   * Running under SageMaker batch transform (`SAGEMAKER_BATCH=true`: `isBatchTransform`). The CSV and
   * JSON Lines body limit must then be one `/execution-parameters` can announce. @default false
   */
  readonly batchTransform?: boolean;
  /**
   * The batch transform job streams its payloads (MaxPayloadInMB 0: `batchTransformStreams`): payloads of
   * any size, chunked. The server still reads each body whole, so it warns at start that a CSV or JSON
   * Lines payload past the text body limit gets 413. @default false
   */
  readonly batchStreaming?: boolean;
  /**
   * The media type `/invocations` answers rows in when a request asks for none (no `Accept`, a blank
   * one, or only `*\/*`): `application/json`, `text/csv` or a JSON Lines type (`DEFAULT_ACCEPT_TYPES`,
   * in any case, parameters ignored). The server process reads it from
   * `SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT` (`defaultInvocationsAccept`). @default 'application/json'
   */
  readonly defaultAccept?: string;
  /** Pino options, a logger instance, or false. @default false */
  readonly logger?: FastifyServerOptions['logger'] | FastifyBaseLogger;
  /**
   * Log every request ("incoming request" and "request completed", with `reqId`). Off, only rejected
   * and failed requests are logged (still with `reqId`): two lines per request cost about 7 us of the
   * HTTP thread each (measured), and at tens of thousands of requests per second a lot of log volume.
   * @default true
   */
  readonly logRequests?: boolean;
  /** Checks run on decoded inputs before they are queued (the feature-schema seam). @default [] */
  readonly inputChecks?: readonly InputCheck[];
  /** How long close() lets accepted requests finish. Keep it under SageMaker's 30 s. @default 25000 */
  readonly drainMs?: number;
  /** Event-loop delay beyond which requests are shed with 503 OVERLOADED. @default 1000 */
  readonly maxEventLoopDelayMs?: number;
  /**
   * How long the server may have no inference worker (every one lost, and replacing them failing), or
   * keep a worker set aside in an overlong run, before `/v2/health/live` answers 503, so Kubernetes
   * restarts the container. @default 300000
   */
  readonly maxWorkerlessMs?: number;
}

/** Node's limit on a request's headers, its request line (so its URL) included. */
const MAX_HEADER_BYTES = 16 * 1024;

/** What a client's X-Request-Id may be to be used as the request's id. */
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The id a request was given (see genReqId), kept on it for the lines logged about it outside Fastify. */
const REQUEST_ID_OF = Symbol('requestId');

/** The request's own X-Request-Id, when it is usable as its id. */
function givenRequestId(headers: IncomingHttpHeaders): string | undefined {
  const given = headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : undefined;
}

/**
 * The Content-Type of error bodies: `application/json` as it is registered, with no charset parameter
 * (RFC 8259 defines none; JSON is UTF-8). KServe's Python REST client reads the `error` text of an
 * answer only when its type is exactly this, and Fastify would append `; charset=utf-8`.
 */
const ERROR_TYPE = 'application/json';

/** Sends an error body with ERROR_TYPE (a reply serializer keeps Fastify from adding the charset). */
function sendError(reply: FastifyReply, status: number, body: { error: string; code: string }): void {
  reply.code(status).type(ERROR_TYPE).serializer((b: unknown) => JSON.stringify(b)).send(body);
}

/**
 * Answers a request outside Fastify (its body still arriving) with a JSON error body, and closes the
 * connection after it.
 */
function answerAndClose(res: ServerResponse, status: number, body: string, reqId: string | undefined, sent?: () => void): void {
  res.writeHead(status, { 'content-type': ERROR_TYPE, 'content-length': Buffer.byteLength(body), connection: 'close', ...(reqId ? { 'x-request-id': reqId } : {}) })
    .end(body, sent);
}

/**
 * The `req` of "incoming request" lines: Fastify's fields, less the query string (see loggedUrl), the
 * Accept-Version header's value (Fastify logs it for versioned routes, which the server has none of) and
 * the Host header's: like every header but a usable X-Request-Id, the client writes it (up to the 16 KiB
 * of headers), and the server, reached on one address, routes on none of it.
 */
function requestLogValue(req: FastifyRequest): Record<string, unknown> {
  return { method: req.method, url: loggedUrl(req.url), remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

/**
 * The logger Fastify is given: `option` with requestLogValue as its `req` serializer (pino options may
 * name their own; a logger instance gets it through a child).
 */
function withRequestSerializer(option: NonNullable<AppOptions['logger']>, isInstance: boolean): Pick<FastifyServerOptions, 'logger' | 'loggerInstance'> {
  if (isInstance) return { loggerInstance: (option as FastifyBaseLogger).child({}, { serializers: { req: requestLogValue } }) };
  if (option === false) return { logger: false };
  const given = option === true ? {} : option as Exclude<FastifyServerOptions['logger'], boolean | undefined>;
  return { logger: { ...given, serializers: { req: requestLogValue, ...given.serializers } } };
}

/** Maps Fastify's own errors onto the catalogue. */
const TEXT_TYPES = ['application/json', 'text/csv', ...JSON_LINES_TYPES];

/** Whether a request carries a body (a Content-Length above 0, or a chunked body). */
function hasBody(headers: IncomingHttpHeaders): boolean {
  return (headers['content-length'] !== undefined && headers['content-length'] !== '0') || headers['transfer-encoding'] !== undefined;
}

function notFoundMessage(method: string, url: string): string {
  return `no route for ${method} ${url.split('?')[0].slice(0, 200)}`;
}

/** The methods the routes take, in the order an Allow header lists them. */
const ROUTE_METHODS = 'GET HEAD POST PUT DELETE PATCH'.split(' ');

/**
 * The methods some route takes at the path of a request that no route took (so the answer is 405 with
 * these as Allow, not 404); empty when no route has the path.
 */
function allowedMethods(app: FastifyInstance, url: string): string[] {
  return ROUTE_METHODS.filter((method) => app.findRoute({ method, url }) !== null);
}

function methodNotAllowed(method: string, url: string, allowed: string[]): InferenceError {
  return new InferenceError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.split('?')[0].slice(0, 200)}; it takes ${allowed.join(', ')}`);
}

/** What a too-large body may be, and what to send instead. */
function textLimitAdvice(limits: LimitsConfig): string {
  return `a JSON, JSON Lines or CSV body may be at most ${limits.textBodyLimitBytes} bytes here (limits.textBodyLimitBytes: parsing builds JavaScript values ` +
    `many times the body's size), any body at most ${limits.bodyLimitBytes} bytes (limits.bodyLimitBytes). Send larger tensors as binary tensor data ` +
    '(application/octet-stream with Inference-Header-Content-Length, on /v2/models/{name}/infer)';
}

/** The Open Inference Protocol infer routes (the route templates Fastify matched). */
const OIP_INFER_ROUTES = new Set(['/v2/models/:name/infer', '/v2/models/:name/versions/:version/infer']);

/**
 * The 415 message: the type received and what the route takes. The infer routes take JSON and binary
 * tensor data only; CSV and JSON Lines are /invocations' (a CSV or JSON Lines body sent to an infer route
 * is parsed as text, then refused here rather than with a schema error about the body's shape).
 */
function unsupportedType(route: string | undefined, type: string | undefined): string {
  const received = type === undefined ? 'no Content-Type' : `Content-Type ${JSON.stringify(type.slice(0, 100))}`;
  if (route !== undefined && OIP_INFER_ROUTES.has(route)) {
    return `${received} is not taken here: send application/json, or binary tensor data as application/octet-stream with Inference-Header-Content-Length (CSV, JSON Lines and NumPy .npy are taken on POST /invocations)`;
  }
  return `${received} is not taken here: send application/json, ${JSON_LINES_TYPES[0]}, text/csv or ${NPY_TYPE}`;
}

/**
 * What a request held where the schema refused it (ajv's `verbose` errors carry the value): ajv says
 * where and what is allowed ("body/id must be string"), not what came.
 */
function received(error: { keyword?: string; data?: unknown } | undefined): string {
  if (!error || !('data' in error)) return '';
  const data = error.data;
  switch (error.keyword) {
    case 'type': {
      if (Array.isArray(data)) return `, got an array of ${data.length} items`;
      if (data !== null && typeof data === 'object') return ', got an object';
      const shown = JSON.stringify(data) ?? String(data);
      return `, got ${shortened(shown)}`;
    }
    case 'minItems':
    case 'maxItems':
      return Array.isArray(data) ? `, got ${data.length}` : '';
    case 'maxLength':
      return typeof data === 'string' ? `, got ${data.length} characters` : '';
    default:
      return '';
  }
}

/**
 * An unexpected error as its log line shows it: its type, code and the frames it was thrown from, not
 * its message, which may quote what the request held (an input check's own words, or Node's "Received
 * ..." naming the value a built-in refused). The caller gets "internal server error" either way.
 */
export function unexpectedError(err: Error & { code?: unknown }): { type: string; code?: string; stack: string } {
  const frames = (err.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  return { type: err.constructor?.name ?? err.name, ...(typeof err.code === 'string' ? { code: err.code } : {}), stack: frames.join('\n') };
}

/**
 * On /invocations the top-level `inputs`, `outputs`, `id` and `parameters` are an OIP body's, checked by
 * its schema: a client sending TensorFlow Serving's columnar `{"inputs": {...}}`, rows as `inputs`, or one
 * instance keyed by an input of one of those names, gets a schema error about OIP's fields. Say so, and
 * where rows go.
 */
function oipFieldHint(err: FastifyError & { validationContext?: string }, req: FastifyRequest): string {
  const where = (err.validation?.[0] as { instancePath?: string } | undefined)?.instancePath ?? '';
  if (err.validationContext !== 'body' || req.routeOptions.url !== '/invocations' || !/^\/(inputs|outputs|id|parameters)(\/|$)/.test(where)) return '';
  // A body with a list of objects as "inputs" is meant as an OIP body: its errors need no hint.
  const inputs = (req.body as { inputs?: unknown } | null)?.inputs;
  if (Array.isArray(inputs) && inputs.every((t) => t !== null && typeof t === 'object' && !Array.isArray(t))) return '';
  return '; on /invocations "inputs", "outputs", "id" and "parameters" are read as an Open Inference Protocol body\'s ' +
    '("inputs": a list of {"name", "shape", "datatype", "data"} tensors): send rows as {"instances": [...]}';
}

function classify(err: FastifyError & { validationContext?: string }, req: FastifyRequest, assumedJson: boolean, limits: LimitsConfig): { code: ErrorCode; message: string } {
  const body = req.body;
  const bodyMissing = body === undefined || body === '';
  const bodyNull = body === null;
  const readAs = assumedJson ? ' (it came with no Content-Type, or application/octet-stream, so it was read as JSON)' : '';
  if (err instanceof InferenceError) return { code: err.code, message: err.message };
  const coded = codingError(err, req.headers);
  if (coded) return { code: coded.code, message: coded.message };
  if (err.validation) {
    if (err.validationContext === 'body' && bodyMissing) return { code: 'EMPTY_BODY', message: 'the request has no body; send JSON or CSV' };
    if (err.validationContext === 'body' && bodyNull) return { code: 'INVALID_REQUEST', message: 'the body is the JSON value null; send a JSON object' };
    // A CSV, JSON Lines (parsed as text) or .npy body on an infer route; a JSON string ("x"), before binary tensor data too, is JSON, refused below by the schema.
    const textBody = typeof body === 'string' && TEXT_TYPES.includes(req.mediaType ?? '') && req.mediaType !== 'application/json';
    if (err.validationContext === 'body' && (textBody || req.mediaType === NPY_TYPE) && OIP_INFER_ROUTES.has(req.routeOptions.url ?? '')) {
      return { code: 'UNSUPPORTED_MEDIA_TYPE', message: unsupportedType(req.routeOptions.url, req.headers['content-type']) };
    }
    return { code: 'INVALID_REQUEST', message: err.message + received(err.validation[0]) + oipFieldHint(err, req) };
  }
  switch (err.code) {
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return { code: 'EMPTY_BODY', message: 'the body is empty; send a JSON document' };
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return { code: 'BAD_JSON', message: `the body is not valid JSON${readAs}: ${err.message}` };
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return { code: 'PAYLOAD_TOO_LARGE', message: `${err.message}: ${textLimitAdvice(limits)}` };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return { code: 'UNSUPPORTED_MEDIA_TYPE', message: unsupportedType(req.routeOptions.url, req.headers['content-type']) };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return { code: 'INVALID_REQUEST', message: err.message };
    case 'FST_UNDER_PRESSURE': return { code: 'OVERLOADED', message: 'the server is under pressure; retry shortly' };
    default:
      break;
  }
  if (err instanceof SyntaxError || /prototype|constructor/.test(err.message ?? '') && err.statusCode === 400) {
    return { code: 'BAD_JSON', message: `the body is not valid JSON${readAs}: ${err.message}` };
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return { code: 'INVALID_REQUEST', message: err.message };
  return { code: 'INTERNAL', message: 'internal server error' };
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const modelDir = path.resolve(options.modelDir);
  const config = resolveConfig(modelDir, [['defaults', options.defaults], [path.join(modelDir, CONFIG_FILE), readConfigFile(modelDir)], ['overrides', options.config]]);
  const features = readFeaturesFile(modelDir);
  const modelName = servedModelName(modelDir, options.modelName);
  const { limits } = config;
  const batchProblem = options.batchTransform ? batchTransformLimitProblem(limits) : undefined;
  if (batchProblem) throw new ConfigError(batchProblem);
  const defaultAccept = options.defaultAccept === undefined ? undefined : defaultAcceptType(options.defaultAccept, "'defaultAccept'");

  const loggerOption = options.logger ?? false;
  const isInstance = typeof loggerOption === 'object' && loggerOption !== null && typeof (loggerOption as FastifyBaseLogger).child === 'function';
  // Requests answered while their body was arriving (408 when it stalled, 400 when Node could not
  // parse it): their own error path (the body parser fails when the connection closes) must not count
  // or answer them again.
  const answeredEarly = new WeakSet<IncomingMessage>();
  // Lingering never outlasts half the drain time, so a connection refused during the drain (503
  // SHUTTING_DOWN) or just before it does not hold the exit up.
  const lingering = new LingeringClose(Math.min(LINGER_MS, (options.drainMs ?? 25_000) / 2));
  // When a request must have arrived in full (headers and body), and its headers at the latest.
  const requestCutoffMs = limits.requestTimeoutMs + 5_000;
  const headersTimeoutMs = Math.min(60_000, requestCutoffMs);
  const app = Fastify({
    ...withRequestSerializer(loggerOption, isInstance),
    bodyLimit: limits.bodyLimitBytes,
    // A request (headers and body) must arrive in full within its deadline plus 5 s, or it gets 408
    // (the clientErrorHandler below): a client that trickles a body cannot hold a connection and its
    // share of limits.maxBodyBytesInFlight for longer. The headers timeout is set below.
    requestTimeout: requestCutoffMs,
    // Closes a connection that sends nothing at all (a request under way has had its 408 by then).
    connectionTimeout: limits.requestTimeoutMs + 10_000,
    // Node checks the request timeout every 30 s by default: a request would get its 408 up to 30 s late.
    http: { connectionsCheckingInterval: 1_000 },
    keepAliveTimeout: 65_000,
    // A client's X-Request-Id names the request in the logs when it is a plausible id (at most 128
    // word characters, dots, colons and dashes); anything else would let one request write its own
    // content, up to 16 KiB, into every log line about it.
    requestIdHeader: false,
    // The OIP routes carry the model name as a path parameter. Past Fastify's default limit of 100
    // characters a request got 400 "exceeding the max param length", naming its whole URL, where a name
    // that is not the served one is 404 UNKNOWN_MODEL; the headers limit (16 KiB) bounds a URL anyway.
    // `/ping/`, `/v2/health/ready/` and `//invocations` (a base URL ending in `/` joined to a path) are
    // the routes they name, as nginx's merge_slashes and most servers have it.
    routerOptions: { maxParamLength: Math.max(MAX_HEADER_BYTES, encodeURIComponent(modelName).length), ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    logController: new LogController({ disableRequestLogging: options.logRequests === false }),
    genReqId: (req) => {
      const id = givenRequestId(req.headers) ?? randomUUID();
      (req as IncomingMessage & { [REQUEST_ID_OF]?: string })[REQUEST_ID_OF] = id;
      return id;
    },
    // Requests that arrive while closing get SHUTTING_DOWN from the hook below (with the catalogue's
    // body, Retry-After and a metrics entry) instead of Fastify's bare 503; Fastify still adds
    // `Connection: close`.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // verbose: a schema error carries the value it refused, which its message then names.
    ajv: { customOptions: { coerceTypes: false, allErrors: false, removeAdditional: false, allowUnionTypes: true, verbose: true } },
    // Requests Node cannot parse (a bad Content-Length, both Content-Length and chunked, control
    // characters in a header, oversized headers) or that time out get the catalogue's body and a count,
    // like every other refusal.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      // A connection lingering after its answer: whatever the client still sends is not a request.
      if (lingering.sockets.has(socket)) {
        socket.destroy();
        return;
      }
      const underWay = socket as Socket & { _httpMessage?: ServerResponse | null; parser?: { incoming?: IncomingMessage | null } | null };
      // Bytes after a request that closes the connection (`Connection: close`, or HTTP/1.0 without
      // keep-alive), in the same packet or later: they are not read as requests (RFC 9112 9.6), and the
      // requests already read are still answered, the last one closing the connection. Node reports
      // such bytes as a parse error (once per chunk); destroying the socket here lost those answers.
      if (err.code === 'HPE_CLOSED_CONNECTION' && (underWay._httpMessage || !socket.writable)) return;
      // A request already under way on this connection. A client that hung up mid-body ends it with
      // HPE_INVALID_EOF_STATE: Fastify's own error path counts it, so only close. A body Node cannot
      // parse (a bad chunk size) is answered 400 here, and its error path told not to count it again.
      // (The answer on the socket must be that request's, still mid-body: with pipelining it can be an
      // earlier one's, and bytes that fail after a complete request are not its body.)
      const res = underWay._httpMessage;
      if (res) {
        if (err.code === 'HPE_INVALID_EOF_STATE' || res.headersSent || !res.req || res.req.complete || res.req !== underWay.parser?.incoming) {
          socket.destroy();
          return;
        }
        answeredEarly.add(res.req);
        const reqId = givenRequestId(res.req.headers);
        // Its body still arriving when the request timeout passed (trickled or stalled): 408.
        const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
        const code: ErrorCode = timedOut ? 'REQUEST_TIMEOUT' : 'INVALID_REQUEST';
        const status = ERROR_CATALOGUE[code].statusCode;
        app.metrics?.errors.inc({ code });
        // Logged with the id its other lines carry (a generated one when the client sent none).
        const loggedId = (res.req as IncomingMessage & { [REQUEST_ID_OF]?: string })[REQUEST_ID_OF] ?? reqId;
        app.log.info({ reqId: loggedId, ...requestFields(res.req), code, status, err: { code: err.code } }, 'request rejected');
        const error = timedOut ? `the request did not arrive in full within ${requestCutoffMs} ms: its body was still arriving`
          : `the request body is not valid HTTP: ${err.message}${err.code ? ` (${err.code})` : ''}`;
        answerAndClose(res, status, JSON.stringify({ error, code }), reqId, () => socket.destroy());
        return;
      }
      // A request already answered whose body is still arriving (Fastify answers GET and HEAD without
      // reading a body, and Node reads and discards it after): a malformed chunk in it, or its stalling
      // past the request timeout, is not another request. Answering would answer that request twice.
      const incoming = underWay.parser?.incoming;
      if (incoming && !incoming.complete) {
        socket.destroy();
        return;
      }
      const code: ErrorCode = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'REQUEST_TIMEOUT' : err.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : 'INVALID_REQUEST';
      const message = code === 'REQUEST_TIMEOUT' ? `the request headers did not arrive in full within ${headersTimeoutMs} ms`
        : code === 'HEADERS_TOO_LARGE' ? 'the request headers are larger than the server takes (16 KiB in all)'
          : `the request is not valid HTTP: ${err.message}${err.code ? ` (${err.code})` : ''}`;
      const status = ERROR_CATALOGUE[code].statusCode;
      app.metrics?.errors.inc({ code });
      app.metrics?.countUnparsed('UNKNOWN', status);
      app.log.info({ code, status, err: { code: err.code } }, 'request rejected');
      const body = JSON.stringify({ error: message, code });
      if (socket.writable) {
        socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${ERROR_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      }
      socket.destroy();
    },
    // Errors Fastify answers before routing (a malformed URL) get the catalogue's body too.
    frameworkErrors: (err, req, reply) => {
      const reqId = givenRequestId(req.headers);
      if (reqId) reply.header('x-request-id', reqId);
      app.metrics?.errors.inc({ code: 'INVALID_REQUEST' });
      app.metrics?.countUnparsed(req.method, 400);
      req.log.info({ ...requestFields(req), code: 'INVALID_REQUEST', status: 400 }, 'request rejected');
      sendError(reply as unknown as FastifyReply, 400, { error: err.message, code: 'INVALID_REQUEST' });
    },
  }) as unknown as FastifyInstance;
  // Node swaps the headers and request timeouts when the headers one is the longer (its default is
  // 60 s): the whole request would then be cut off only after 60 s, however short limits.requestTimeoutMs.
  // Headers still get at most 60 s when the request timeout is longer.
  app.server.headersTimeout = headersTimeoutMs;
  // `Expect: 100-continue` (curl sends it for bodies over 1 KiB): Node would say 100 Continue as soon as
  // the headers arrive, so the client sent its whole body even to a request refused by its headers (413
  // by Content-Length, an unknown model, 415, 503 OVERLOADED), which then had to be read and discarded.
  // Say it only when the body is about to be read, once every check on the headers has passed; a request
  // refused first gets its final status alone, and Node then closes the connection (RFC 9110 10.1.1).
  app.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    req.once('resume', () => {
      if (!res.headersSent && !req.complete && !res.destroyed) res.writeContinue();
    });
    app.server.emit('request', req, res);
  });

  if (limits.textBodyLimitBytes > safeTextBodyLimit()) {
    app.log.warn({ textBodyLimitBytes: limits.textBodyLimitBytes, safe: safeTextBodyLimit() },
      'limits.textBodyLimitBytes is above a 64th of the heap or memory limit: a JSON, JSON Lines or CSV body that large may exhaust the heap; ' +
      'give the process more memory (and --max-old-space-size), or send large tensors as binary tensor data');
  }
  if (options.batchTransform && options.batchStreaming) {
    app.log.warn({ textBodyLimitBytes: limits.textBodyLimitBytes, bodyLimitBytes: limits.bodyLimitBytes },
      `the transform job set MaxPayloadInMB to 0 (SAGEMAKER_MAX_PAYLOAD_IN_MB=0): SageMaker then sends payloads of any size, chunked; ` +
      `this server reads a body whole, so a CSV or JSON Lines payload above limits.textBodyLimitBytes (${limits.textBodyLimitBytes} bytes) gets 413 PAYLOAD_TOO_LARGE, ` +
      'which fails the input file it came from; give the job a MaxPayloadInMB from 1 to 100 instead, or raise TEXT_BODY_LIMIT_BYTES and BODY_LIMIT_BYTES above its largest payload');
  }
  if (config.memory && config.workers * config.memory.perWorkerBytes > config.memory.limitBytes) {
    const mib = (bytes: number) => Math.round(bytes / (1024 * 1024));
    app.log.warn({ workers: config.workers, perWorkerMiB: mib(config.memory.perWorkerBytes), memoryLimitMiB: mib(config.memory.limitBytes) },
      'the workers may not fit in memory: each session holds a copy of the model (about twice its size); set fewer workers or give the process more memory');
  }
  // Only JSON and CSV bodies are served (415 otherwise); Fastify would also take text/plain.
  app.removeContentTypeParser('text/plain');
  // Bodies parsed into JavaScript values (JSON, JSON Lines, CSV) stop at limits.textBodyLimitBytes, so one
  // cannot exhaust the heap; binary tensor data may use the whole body limit.
  const checkTextLimit = limits.textBodyLimitBytes < limits.bodyLimitBytes;
  // Fastify's JSON parser, whose refusals say where the JSON breaks (or which key it refuses); on
  // /invocations, a body of several JSON documents, one per line, is read as JSON Lines.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: limits.textBodyLimitBytes }, jsonBodyParser(app, invocationsJsonLines));
  // Every request with a body, before the body is read (one hook: it runs on every such request):
  // - where no route is, the body would be read and parsed before the 404 (up to the body limit, and a
  //   chunked one past the text limit): answer at once, unread; 405 with Allow where the path is served
  //   with other methods;
  // - a content coding the server cannot read gets 415 (with the codings it takes as Accept-Encoding),
  //   rather than its bytes being parsed as JSON or CSV;
  // - a JSON, JSON Lines or CSV body declared larger than the text limit gets 413;
  // - a compressed body (gzip or deflate, as Triton's clients send) is decompressed as it is read, within
  //   the body limit (and the parser's own limit).
  app.addHook('preParsing', (req, reply, payload, done) => {
    if (!hasBody(req.headers)) {
      done(null, payload);
      return;
    }
    if (req.is404) {
      const allowed = allowedMethods(app, req.url);
      if (allowed.length === 0) {
        done(new InferenceError('NOT_FOUND', notFoundMessage(req.method, req.url)));
        return;
      }
      reply.header('allow', allowed.join(', '));
      done(methodNotAllowed(req.method, req.url, allowed));
      return;
    }
    const coding = contentCoding(req.headers);
    if (coding instanceof InferenceError) {
      reply.header('accept-encoding', ACCEPTED_CODINGS);
      done(coding);
      return;
    }
    if (checkTextLimit) {
      const declared = Number(req.headers['content-length']);
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (declared > limits.textBodyLimitBytes && TEXT_TYPES.includes(type)) {
        done(new InferenceError('PAYLOAD_TOO_LARGE', `the body is ${declared} bytes; ${textLimitAdvice(limits)}`));
        return;
      }
    }
    done(null, coding === undefined ? payload : decodedBody(payload, coding, limits.bodyLimitBytes));
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    // The client has gone (it hung up mid-body, or while its request waited): whatever stopped the
    // request, nothing can be sent, and it is not a server or request error. The metrics plugin counts
    // and logs it (CLIENT_CLOSED) when the response closes, as it does every request that ends unanswered.
    if (answeredEarly.has(req.raw)) return; // answered (408 or 400) and counted already
    if (clientGone(reply) || err.code === 'ECONNRESET') {
      reply.code(499).send({ error: 'the client closed the connection', code: 'CLIENT_CLOSED' });
      return;
    }
    const { code, message } = classify(err, req, assumedJson.has(req), limits);
    const status = ERROR_CATALOGUE[code].statusCode;
    app.metrics.errors.inc({ code });
    if (code === 'INTERNAL') req.log.error({ ...requestFields(req), err: unexpectedError(err) }, 'unexpected error');
    // A failed run or a lost worker (500) is the server's fault, not the request's: an error, logged
    // without its message, which may quote the caller's values. 503s shed load: they stay info.
    else if (status === 500) req.log.error({ ...requestFields(req), code, status }, 'request failed');
    else req.log.info({ ...requestFields(req), code, status }, 'request rejected');
    const retryAfter = err instanceof InferenceError ? err.retryAfterSeconds : status === 503 ? 1 : undefined;
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    // Refused before its body has all arrived (413, 503 OVERLOADED, ...): close the connection after the
    // answer, so the client stops sending and no connection is left waiting on an unread body; linger
    // first, so a client still sending gets the answer rather than a reset.
    if (hasBody(req.headers) && !req.raw.complete) {
      reply.header('connection', 'close');
      lingering.arm(req.raw);
    }
    sendError(reply, status, { error: message, code });
  });
  // A path no route has is 404. A path served with other methods is 405 with Allow (RFC 9110 15.5.6),
  // and OPTIONS on it 204 with Allow (RFC 9110 9.3.7).
  app.setNotFoundHandler((req, reply) => {
    const allowed = allowedMethods(app, req.url);
    if (allowed.length === 0) {
      app.metrics.errors.inc({ code: 'NOT_FOUND' });
      req.log.info({ ...requestFields(req), code: 'NOT_FOUND', status: 404 }, 'request rejected');
      sendError(reply, 404, { error: notFoundMessage(req.method, req.url), code: 'NOT_FOUND' });
      return;
    }
    reply.header('allow', allowed.join(', '));
    if (req.method === 'OPTIONS') {
      reply.code(204).send();
      return;
    }
    app.metrics.errors.inc({ code: 'METHOD_NOT_ALLOWED' });
    req.log.info({ ...requestFields(req), code: 'METHOD_NOT_ALLOWED', status: 405 }, 'request rejected');
    sendError(reply, 405, { error: methodNotAllowed(req.method, req.url, allowed).message, code: 'METHOD_NOT_ALLOWED' });
  });

  // Keep-alive connections whose request was still running when close() began become idle only after
  // their answer; Node's server.close() reaps idle connections once, at the start, so without this the
  // drain would wait for each such client to hang up (or for keepAliveTimeout). While closing, idle
  // connections are closed every 25 ms; requests arriving meanwhile get 503 SHUTTING_DOWN (the
  // onRequest hook below) with `Connection: close`.
  // Connections accepted that have not sent a byte yet (a client opening one ahead of its request)
  // are closed too: Node documents closeIdleConnections() as closing every connection not sending a
  // request or waiting for a response, but before nodejs/node#63470 (Node 20, and 24 up to at least
  // 24.15) it leaves these open, and each held the drain until DRAIN_TIMEOUT_MS + 1 s and an exit
  // with status 1. So the open connections are kept here, to find those.
  const connections = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  const reap = (): void => {
    app.server.closeIdleConnections();
    for (const socket of connections) if (socket.bytesRead === 0) socket.destroy();
  };
  let reaper: NodeJS.Timeout | undefined;
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    if (app.server.listening) {
      reaper = setInterval(reap, 25);
      reaper.unref();
    }
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    if (reaper) clearInterval(reaper);
    done();
  });

  // Metrics first: their request hook must run before under-pressure can shed a request, so the 503s
  // it sends are counted too.
  await app.register(metricsPlugin);
  app.addHook('onRequest', (req, reply, done) => {
    // A client that names its request gets the name back (a header on every answer costs about 5 % of
    // the small model's throughput, measured, so generated ids stay in the logs).
    if (req.id === req.headers['x-request-id']) reply.header('x-request-id', req.id);
    if (closing) done(new InferenceError('SHUTTING_DOWN', 'the server is shutting down and takes no new requests; retry on another instance', { retryAfterSeconds: 1 }));
    else done();
  });
  await app.register(underPressure, {
    maxEventLoopDelay: options.maxEventLoopDelayMs ?? 1000,
    retryAfter: 1,
  });
  await app.register(modelPlugin, {
    name: modelName,
    dir: modelDir,
    config,
    features,
    inputChecks: options.inputChecks ?? [],
    drainMs: options.drainMs ?? 25_000,
  });
  await app.register(healthPlugin, { maxWorkerlessMs: options.maxWorkerlessMs ?? 300_000 });
  await app.register(oipPlugin);
  await app.register(sagemakerPlugin, { defaultAccept });
  return app;
}

export type { InputCheck } from './plugins/model';
export type { ServingConfig, ServingConfigInput } from './config';
