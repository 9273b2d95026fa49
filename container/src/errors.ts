/**
 * The one catalogue of error codes the server answers with. A code is stable public API: clients
 * branch on it. Never reuse a code for another meaning; add a new one instead.
 */

export interface ErrorDefinition {
  readonly statusCode: number;
  readonly description: string;
}

export const ERROR_CATALOGUE = {
  // 4xx: the request is wrong
  BAD_JSON: { statusCode: 400, description: 'The body is not valid JSON.' },
  EMPTY_BODY: { statusCode: 400, description: 'The body is empty.' },
  INVALID_REQUEST: { statusCode: 400, description: 'The body does not match the request schema.' },
  UNKNOWN_MODEL: { statusCode: 404, description: 'No model of that name is served here.' },
  UNKNOWN_MODEL_VERSION: { statusCode: 404, description: 'The model is served here, but not in that version.' },
  UNKNOWN_INPUT: { statusCode: 400, description: 'An input names a tensor the model does not have.' },
  MISSING_INPUT: { statusCode: 400, description: 'A model input was not supplied.' },
  DUPLICATE_INPUT: { statusCode: 400, description: 'The same input was supplied twice.' },
  UNKNOWN_OUTPUT: { statusCode: 400, description: 'A requested output is not an output of the model.' },
  UNKNOWN_DATATYPE: { statusCode: 400, description: 'The datatype is not one of the protocol datatypes.' },
  DATATYPE_MISMATCH: { statusCode: 400, description: "The datatype differs from the model input's type." },
  BAD_TENSOR_SHAPE: { statusCode: 400, description: 'The shape is malformed or does not fit the model input.' },
  BAD_TENSOR_RANK: { statusCode: 400, description: "The number of dimensions differs from the model input's." },
  DATA_LENGTH_MISMATCH: { statusCode: 400, description: 'The number of values does not match the shape.' },
  BAD_TENSOR_VALUE: { statusCode: 400, description: 'A value has the wrong type or is out of range for the datatype.' },
  TENSOR_TOO_LARGE: { statusCode: 400, description: 'The tensor has more elements than the server allows.' },
  BAD_INSTANCES: { statusCode: 400, description: 'The "instances" rows do not fit the model inputs.' },
  CSV_COLUMN_COUNT: { statusCode: 400, description: 'A CSV row has the wrong number of columns.' },
  CSV_BAD_VALUE: { statusCode: 400, description: 'A CSV cell is not a number.' },
  CSV_UNSUPPORTED: { statusCode: 400, description: 'This model cannot be called with CSV.' },
  BAD_NPY: { statusCode: 400, description: 'An application/x-npy body is not a NumPy .npy array the server reads (magic string, header, dtype, length), or the model takes more than the one array it holds.' },
  ANSWER_NOT_PER_ROW: { statusCode: 400, description: 'An output does not hold one row per instance sent (its first axis is another size), so the answer cannot be written as predictions, JSON Lines or CSV rows; send an Open Inference Protocol body instead.' },
  BAD_HEADER: { statusCode: 400, description: 'A request header is malformed.' },
  ANSWER_TOO_LARGE: { statusCode: 400, description: 'The answer would hold more values than limits.maxAnswerElements allows; send fewer rows per request.' },
  BINARY_DATA_UNSUPPORTED: { statusCode: 400, description: "The request sends the Open Inference Protocol's binary tensor data to /invocations, which takes JSON values only (the OIP infer routes take binary tensor data)." },
  NOT_FOUND: { statusCode: 404, description: 'No route matches the path.' },
  METHOD_NOT_ALLOWED: { statusCode: 405, description: 'The path is served, but not with this method (the Allow header lists the methods it takes).' },
  REQUEST_TIMEOUT: { statusCode: 408, description: 'The request did not arrive in full within the request timeout.' },
  PAYLOAD_TOO_LARGE: { statusCode: 413, description: 'The body is larger than the body limit.' },
  UNSUPPORTED_MEDIA_TYPE: { statusCode: 415, description: 'The Content-Type is not supported on this route.' },
  INPUT_REJECTED_BY_MODEL: { statusCode: 422, description: 'A node of the model failed on these values when run alone (an index out of range, say): the request is well formed, the values are not ones the model takes.' },
  HEADERS_TOO_LARGE: { statusCode: 431, description: 'The request headers are larger than the server takes.' },
  CLIENT_CLOSED: { statusCode: 499, description: 'The client closed the connection before the answer; the rest of its work was dropped (nothing is sent).' },
  // 5xx: the server cannot answer now
  MODEL_NOT_READY: { statusCode: 503, description: 'The model is still loading or failed its warm-up.' },
  QUEUE_FULL: { statusCode: 503, description: 'The inference queue is full; retry after the given delay.' },
  DEADLINE_UNMEETABLE: { statusCode: 503, description: 'The request would not be answered within its deadline.' },
  DEADLINE_EXCEEDED: { statusCode: 503, description: 'The request\'s deadline passed while it waited in the queue, or while its inference run was still going.' },
  OVERLOADED: { statusCode: 503, description: 'The server is under pressure: its event loop lags, or the request bodies in flight would pass limits.maxBodyBytesInFlight.' },
  SHUTTING_DOWN: { statusCode: 503, description: 'The server is draining and takes no new work.' },
  INFERENCE_FAILED: { statusCode: 500, description: 'onnxruntime rejected or failed the run.' },
  WORKER_CRASHED: { statusCode: 500, description: 'The inference worker stopped while running the request.' },
  INTERNAL: { statusCode: 500, description: 'An unexpected server error.' },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** An error the server answers with: a stable code, its HTTP status, and a message naming the problem. */
export class InferenceError extends Error {
  public readonly code: ErrorCode;
  public readonly statusCode: number;
  /** Seconds a client should wait before retrying (503 answers only). */
  public readonly retryAfterSeconds?: number;

  constructor(code: ErrorCode, message: string, options: { retryAfterSeconds?: number } = {}) {
    // These errors are answers, not bugs: skip the stack trace, which costs more than the rest of a
    // rejected request (it matters when shedding load with QUEUE_FULL).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'InferenceError';
    this.code = code;
    this.statusCode = ERROR_CATALOGUE[code].statusCode;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** The JSON error body: `error` (Open Inference Protocol), plus `code` for programs. */
export const errorBodySchema = {
  type: 'object',
  required: ['error', 'code'],
  properties: {
    error: { type: 'string' },
    code: { type: 'string' },
  },
} as const;

/** Response schemas for the error statuses any route can answer with. */
export const errorResponses = {
  '4xx': errorBodySchema,
  '5xx': errorBodySchema,
} as const;
