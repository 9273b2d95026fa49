/**
 * Turns protocol bodies (Open Inference Protocol tensors, SageMaker `instances` rows, CSV rows) into
 * checked tensors in model-input order, and model outputs back into protocol bodies.
 */
import { InferenceError } from './errors';
import {
  checkShape, decodeBinaryData, decodeData, describeShape, elementCount, encodeData, ModelSignature, OIP_TO_ORT, TensorLimits,
  TensorMeta, WireTensor,
} from './tensors';

/** An Open Inference Protocol input tensor as received. */
export interface OipInput {
  readonly name: string;
  readonly shape: unknown[];
  readonly datatype: string;
  /** Absent when the values come as binary tensor data (`parameters.binary_data_size`). */
  readonly data?: unknown;
  readonly parameters?: Record<string, unknown>;
}

/**
 * Cuts the binary part of a request into each input's bytes: inputs with `binary_data_size` take
 * their bytes in the order the request lists them (the binary tensor data extension).
 */
function binaryParts(inputs: readonly OipInput[], binary: Uint8Array | undefined): Map<OipInput, Uint8Array> {
  const parts = new Map<OipInput, Uint8Array>();
  let pos = 0;
  for (const input of inputs) {
    const size = input.parameters?.binary_data_size;
    if (size === undefined) continue;
    if (input.data !== undefined) {
      throw new InferenceError('INVALID_REQUEST', `input '${input.name}' gives both "data" and binary_data_size; send its values one way`);
    }
    if (!binary) {
      throw new InferenceError('INVALID_REQUEST', `input '${input.name}' has binary_data_size but the request carries no binary data (send the JSON, then the bytes, as application/octet-stream with Inference-Header-Content-Length giving the JSON's length)`);
    }
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw new InferenceError('INVALID_REQUEST', `input '${input.name}': parameters.binary_data_size is ${JSON.stringify(size)}; it must be the length of its binary data in bytes, a whole JSON number of at least 0`);
    }
    if (pos + size > binary.length) {
      throw new InferenceError('DATA_LENGTH_MISMATCH', `input '${input.name}': binary_data_size is ${JSON.stringify(size)}, but ${binary.length - pos} bytes of binary data are left for it`);
    }
    parts.set(input, binary.subarray(pos, pos + size));
    pos += size;
  }
  if (binary && pos !== binary.length) {
    throw new InferenceError('DATA_LENGTH_MISMATCH', `the request carries ${binary.length} bytes of binary data, and its inputs' binary_data_size add up to ${pos}`);
  }
  return parts;
}

function inputNames(sig: ModelSignature): string {
  return sig.inputs.map((i) => `'${i.name}'`).join(', ');
}

/**
 * Checks OIP input tensors against the model and decodes them, in model-input order. `stacked` says
 * whether requests are merged along the first axis (the engine batches this model). `binary` is the
 * part of the body after the JSON when the request uses the binary tensor data extension.
 */
export function decodeOipInputs(sig: ModelSignature, inputs: readonly OipInput[], limits: TensorLimits, stacked: boolean, binary?: Uint8Array): WireTensor[] {
  const parts = binaryParts(inputs, binary);
  const byName = new Map<string, OipInput>();
  for (const input of inputs) {
    if (!sig.inputs.some((m) => m.name === input.name)) {
      throw new InferenceError('UNKNOWN_INPUT', `input '${input.name}' is not an input of the model; its inputs are ${inputNames(sig)}`);
    }
    if (byName.has(input.name)) {
      throw new InferenceError('DUPLICATE_INPUT', `input '${input.name}' is given more than once`);
    }
    byName.set(input.name, input);
  }
  const out: WireTensor[] = [];
  for (const meta of sig.inputs) {
    const input = byName.get(meta.name);
    if (!input) {
      throw new InferenceError('MISSING_INPUT', `input '${meta.name}' (${meta.datatype} ${describeShape(meta)}) is missing; the model needs ${inputNames(sig)}`);
    }
    // Own keys only: 'constructor' or 'toString' would find Object.prototype's, and pass as a datatype.
    const type = Object.hasOwn(OIP_TO_ORT, input.datatype) ? OIP_TO_ORT[input.datatype] : undefined;
    if (!type) {
      throw new InferenceError('UNKNOWN_DATATYPE', `input '${meta.name}': datatype ${JSON.stringify(input.datatype)} is not one of ${Object.keys(OIP_TO_ORT).join(', ')}`);
    }
    if (type !== meta.type) {
      throw new InferenceError('DATATYPE_MISMATCH', `input '${meta.name}': datatype is ${input.datatype}, the model expects ${meta.datatype}`);
    }
    const count = checkShape(meta, input.shape, limits);
    const dims = input.shape as number[];
    const bytes = parts.get(input);
    if (!bytes && input.data === undefined) {
      throw new InferenceError('DATA_LENGTH_MISMATCH', `input '${meta.name}' has no "data" (nor binary_data_size)`);
    }
    const data = bytes ? decodeBinaryData(meta.name, type, count, bytes) : decodeData(meta.name, type, dims, count, input.data);
    out.push({ name: meta.name, type, dims: [...dims], data });
  }
  if (stacked) checkSameBatch(out);
  checkSharedDims(sig, out);
  return out;
}

/**
 * Inputs whose dimensions the model names alike (e.g. `seq` in both `input_ids` and `attention_mask`)
 * must agree on them; otherwise onnxruntime fails the run with a server error about broadcasting.
 */
export function checkSharedDims(sig: ModelSignature, tensors: readonly WireTensor[]): void {
  const seen = new Map<string, { input: string; axis: number; size: number }>();
  sig.inputs.forEach((meta, i) => {
    const dims = tensors[i]?.dims;
    meta.dimNames?.forEach((dimName, axis) => {
      if (!dimName || !dims || axis >= dims.length) return;
      const first = seen.get(dimName);
      if (!first) {
        seen.set(dimName, { input: meta.name, axis, size: dims[axis] });
      } else if (first.size !== dims[axis]) {
        throw new InferenceError('BAD_TENSOR_SHAPE', `inputs disagree on dimension '${dimName}': '${first.input}' has ${first.size} on axis ${first.axis}, '${meta.name}' has ${dims[axis]} on axis ${axis}`);
      }
    });
  });
}

/**
 * When requests are stacked, every input must agree on the number of rows. When they are not (the model
 * has no batch axis, the batching probe or the config turned batching off), the inputs' first axes
 * may be different dimensions (queries and keys), and onnxruntime checks them.
 */
function checkSameBatch(tensors: readonly WireTensor[]): void {
  const rows = tensors[0].dims[0];
  for (const t of tensors) {
    if (t.dims[0] !== rows) {
      throw new InferenceError('BAD_TENSOR_SHAPE', `inputs disagree on the batch axis: '${tensors[0].name}' has ${rows} rows, '${t.name}' has ${t.dims[0]}`);
    }
  }
}

/** Resolves the `outputs` filter of a request to output names (all outputs when absent). */
export function selectOutputs(sig: ModelSignature, requested?: ReadonlyArray<{ name: string; parameters?: Record<string, unknown> }>): string[] {
  if (!requested || requested.length === 0) return sig.outputs.map((o) => o.name);
  const names: string[] = [];
  for (const r of requested) {
    // Triton's classification extension (not offered: /v2 does not list it): answering the raw tensor
    // instead would hand the client something else than it asked for.
    if (r.parameters?.classification !== undefined) {
      throw new InferenceError('INVALID_REQUEST', `output '${r.name}' asks for parameters.classification ${JSON.stringify(r.parameters.classification)}, the classification extension, which this server does not offer (GET /v2 lists its extensions); leave it out to get the output tensor and take its top classes yourself`);
    }
    if (!sig.outputs.some((o) => o.name === r.name)) {
      const ignored = sig.ignoredOutputs.find((o) => o.name === r.name);
      if (ignored) {
        const hint = ignored.reason.startsWith('it is not a tensor') ? ' (a scikit-learn classifier exported with zipmap=False gives its probabilities as a tensor)' : '';
        throw new InferenceError('UNKNOWN_OUTPUT', `output '${r.name}' cannot be returned: ${ignored.reason}${hint}; the outputs served are ${sig.outputs.map((o) => `'${o.name}'`).join(', ')}`);
      }
      throw new InferenceError('UNKNOWN_OUTPUT', `output '${r.name}' is not an output of the model; its outputs are ${sig.outputs.map((o) => `'${o.name}'`).join(', ')}`);
    }
    if (!names.includes(r.name)) names.push(r.name);
  }
  return names;
}

/**
 * The binary tensor data extension's switches are booleans (`parameters.binary_data_output` on the request,
 * `parameters.binary_data` on an output): another value (`"true"`, `1`) is refused, not read as false, so that
 * a client asking for binary data in the wrong type learns it instead of getting JSON it did not expect.
 */
export function checkBinaryDataSwitches(parameters: Record<string, unknown> | undefined, outputs: ReadonlyArray<{ parameters?: Record<string, unknown> }> | undefined): void {
  const refuse = (field: string, value: unknown) => new InferenceError('INVALID_REQUEST',
    `${field} is ${JSON.stringify(value)}; it must be true or false (a JSON boolean), as the binary tensor data extension takes it`);
  const all = parameters?.binary_data_output;
  if (all !== undefined && typeof all !== 'boolean') throw refuse('parameters.binary_data_output', all);
  outputs?.forEach((o, i) => {
    const own = o.parameters?.binary_data;
    if (own !== undefined && typeof own !== 'boolean') throw refuse(`outputs[${i}].parameters.binary_data`, own);
  });
}

/** An OIP output tensor body. */
export function encodeOipOutput(t: WireTensor): { name: string; datatype: string; shape: number[]; data: unknown[] } {
  return { name: t.name, datatype: OIP_DATATYPE[t.type], shape: t.dims, data: encodeData(t.type, t.data) };
}

const OIP_DATATYPE: Record<string, string> = Object.fromEntries(Object.entries(OIP_TO_ORT).map(([k, v]) => [v, k]));

// ---------------------------------------------------------------------------------------------
// SageMaker rows

/** How a model takes rows: the batch axis is axis 0, and each row has `rowShape`. */
export interface RowPlan {
  /** True when each row must run on its own (the model's batch axis is fixed at 1). */
  readonly onePerRun: boolean;
}

/** Whether rows (instances or CSV) can be fed to this model, and how. */
export function rowPlan(sig: ModelSignature): RowPlan {
  for (const m of sig.inputs) {
    if (!m.shape || m.shape.length === 0 || (m.shape[0] !== -1 && m.shape[0] !== 1)) {
      throw new InferenceError('BAD_INSTANCES', `input '${m.name}' has shape ${describeShape(m)} without a batch axis, so rows cannot be fed to it; send an Open Inference Protocol body ({"inputs": [...]}) instead`);
    }
  }
  return { onePerRun: !sig.inputs.every((m) => m.shape![0] === -1) };
}

/** The shape of one row of `meta`: dynamic inner dimensions are taken from the first row's nesting. */
function rowShape(meta: TensorMeta, firstRow: unknown): number[] {
  const inner = meta.shape!.slice(1);
  if (!inner.includes(-1)) return inner;
  const shape: number[] = [];
  let node: unknown = firstRow;
  for (let i = 0; i < inner.length; i++) {
    if (!Array.isArray(node)) {
      throw new InferenceError('BAD_INSTANCES', `input '${meta.name}' expects rows of shape ${describeShape(meta)} minus the batch axis; the first row is not nested that deep`);
    }
    shape.push(inner[i] === -1 ? node.length : inner[i]);
    node = node[0];
  }
  return shape;
}

/**
 * The keys an instance has, for an error about a missing input: a misspelt name shows, and so does a row
 * that is a whole request body (`{"instances": [...]}` on each JSON Lines line).
 */
function keysOf(obj: Record<string, unknown>): string {
  const keys = Object.keys(obj);
  if (keys.length === 0) return 'it has no keys';
  const listed = `it has the keys ${JSON.stringify(keys.slice(0, 5)).slice(0, 200)}${keys.length > 5 ? ' and more' : ''}`;
  return Object.hasOwn(obj, 'instances') || Object.hasOwn(obj, 'inputs')
    ? `${listed}: each row is one instance, not a request body holding "instances" or "inputs"`
    : listed;
}

/**
 * Decodes `instances` into one tensor per model input, `rows` rows each. A row is an object keyed by input
 * name, or, for a model with one input, that input's value. `rowName` names a row in errors (`instance 3`,
 * or the line a JSON Lines row came from).
 */
export function decodeInstances(sig: ModelSignature, instances: readonly unknown[], limits: TensorLimits, rowName: (r: number) => string = (r) => `instance ${r}`): WireTensor[] {
  rowPlan(sig); // every input must have a batch axis to take rows
  if (instances.length === 0) {
    throw new InferenceError('BAD_INSTANCES', '"instances" is empty; send at least one row');
  }
  // Rows hold the values of a model's one input, or are objects keyed by input name (as they must be for
  // several inputs, and may be for one, as in TF Serving's row format): the first row says which.
  const first = instances[0];
  const single = sig.inputs.length === 1 && (first === null || typeof first !== 'object' || Array.isArray(first));
  const columns = sig.inputs.map((meta) => {
    const values: unknown[] = new Array(instances.length);
    for (let r = 0; r < instances.length; r++) {
      const inst = instances[r];
      if (single) {
        values[r] = inst;
        continue;
      }
      if (inst === null || typeof inst !== 'object' || Array.isArray(inst)) {
        throw new InferenceError('BAD_INSTANCES', `${rowName(r)} must be an object keyed by input name (the model has inputs ${inputNames(sig)})`);
      }
      const obj = inst as Record<string, unknown>;
      if (!Object.hasOwn(obj, meta.name)) {
        throw new InferenceError('MISSING_INPUT', `${rowName(r)} has no value for input '${meta.name}'; the model needs ${inputNames(sig)}; ${keysOf(obj)}`);
      }
      values[r] = obj[meta.name];
    }
    return values;
  });
  if (!single) {
    instances.forEach((inst, r) => {
      for (const key of Object.keys(inst as object)) {
        if (!sig.inputs.some((m) => m.name === key)) {
          throw new InferenceError('UNKNOWN_INPUT', `${rowName(r)} names input '${key}', which the model does not have; its inputs are ${inputNames(sig)}`);
        }
      }
    });
  }
  const tensors = sig.inputs.map((meta, i) => {
    const rows = columns[i];
    const inner = rowShape(meta, rows[0]);
    const shape = [rows.length, ...inner];
    let count: number;
    try {
      count = checkShape({ ...meta, shape: undefined }, shape, limits);
    } catch (e) {
      // The client sent rows, not a shape: say where the shape refused came from.
      if (!(e instanceof InferenceError)) throw e;
      const each = inner.length > 0 ? `, each of shape [${inner.join(', ')}]${meta.shape!.slice(1).includes(-1) ? ` as ${rowName(0)} has it` : ''}` : '';
      throw new InferenceError(e.code, `the rows for input '${meta.name}' make a tensor of shape ${JSON.stringify(shape)} (${rows.length} rows${each}): ${e.message}`);
    }
    const perRow = elementCount(inner);
    // Rows may be nested as the row shape, or flat with the row's element count.
    const flatRows = inner.length > 0 && rows.every((r) => Array.isArray(r) && r.length === perRow && (r.length === 0 || !Array.isArray(r[0])));
    const data = inner.length === 0 || flatRows ? (inner.length === 0 ? rows : rows.flat()) : rows;
    try {
      return { name: meta.name, type: meta.type, dims: shape, data: decodeData(meta.name, meta.type, shape, count, data) };
    } catch (e) {
      if (!(e instanceof InferenceError)) throw e;
      // Said of the row it is in (a batch transform payload holds thousands): the rows are decoded again
      // one by one, only now, to find the first that fails.
      const bad = badRow(meta, inner, perRow, rows);
      const where = bad ? `${rowName(bad.row)}: ` : '';
      const error = bad?.error ?? e;
      if (error.code === 'DATA_LENGTH_MISMATCH') {
        const from = inner.length > 0 && meta.shape!.slice(1).includes(-1) ? `, as ${rowName(0)} has it` : '';
        throw new InferenceError('BAD_INSTANCES', `${where}rows for input '${meta.name}' must each have shape [${inner.join(', ')}] (${perRow} values${from}): ${error.message}`);
      }
      throw new InferenceError(error.code, `${where}${error.message}`);
    }
  });
  checkSharedDims(sig, tensors);
  return tensors;
}

/** The first row of an input's `rows` that does not decode alone (nested as `inner`, or flat), and its error. */
function badRow(meta: TensorMeta, inner: number[], perRow: number, rows: readonly unknown[]): { row: number; error: InferenceError } | undefined {
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    // A row alone: the input's value for one instance, as the whole request's data is (nested or flat).
    const data = inner.length === 0 ? [row] : row;
    try {
      decodeData(meta.name, meta.type, inner, perRow, data);
    } catch (e) {
      if (e instanceof InferenceError) return { row: r, error: e };
      throw e;
    }
  }
  return undefined;
}

const INTEGER = /^[+-]?\d+$/;
// Unambiguous, so a cell that fails is refused in one pass: in `\d+\.?\d*` the two runs of digits could
// split a run of n digits n ways, and a 60,000-digit cell ending in a letter held the HTTP thread for 9 s.
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Whether a DECIMAL text stands for an integer: its digits after the point, once the exponent has moved
 * the point, are all 0 (`1.0`, `150e-1`). `1.00000000000000001` is not, though as a double it is 1.
 */
function integralDecimal(text: string): boolean {
  const m = /^[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text)!;
  const point = m[1].length + Number(m[3] ?? 0);
  return !/[1-9]/.test((m[1] + (m[2] ?? '')).slice(Math.max(0, point)));
}

/**
 * Why a CSV line may have split into the wrong number of cells, when the line shows it: rows are split at
 * every comma and LF, so a quoted cell holding a comma (a decimal comma, "1,5") becomes two cells, and
 * lines ended by a bare CR (classic Mac OS) make one long row.
 */
function csvSplitHint(line: string): string {
  if (line.includes('\r')) return ': its lines end with a bare carriage return (CR), which does not end a row; end them with LF or CRLF';
  const opensQuote = (cell: string) => {
    const t = cell.trim();
    return t.startsWith('"') && (t.length < 2 || !t.endsWith('"'));
  };
  if (line.split(',').some(opensQuote)) return ': a comma inside a quoted cell splits it too, as a number holds none (write 1.5, not "1,5")';
  return '';
}

/** Parses CSV rows (no header) for a model with one numeric input whose row has a fixed size. */
export function decodeCsv(sig: ModelSignature, body: string, limits: TensorLimits, options: { header?: boolean } = {}): WireTensor[] {
  if (sig.inputs.length !== 1) {
    throw new InferenceError('CSV_UNSUPPORTED', `CSV can feed a model with one input; this model has ${sig.inputs.length} (${inputNames(sig)}); send JSON instead`);
  }
  const meta = sig.inputs[0];
  if (meta.type === 'string' || meta.type === 'bool') {
    throw new InferenceError('CSV_UNSUPPORTED', `CSV carries numbers; input '${meta.name}' is ${meta.datatype}; send JSON instead`);
  }
  rowPlan(sig);
  const inner = meta.shape!.slice(1);
  if (inner.includes(-1)) {
    throw new InferenceError('CSV_UNSUPPORTED', `input '${meta.name}' has dynamic row dimensions ${describeShape(meta)}, so a CSV row's layout is ambiguous; send JSON instead`);
  }
  const columns = elementCount(inner);
  const lines = body.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  // `text/csv; header=present` (RFC 4180): the first line names the columns. Rows are counted after it.
  if (options.header) lines.shift();
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) {
    throw new InferenceError('EMPTY_BODY', 'the CSV body has no rows');
  }
  const count = checkShape({ ...meta, shape: undefined }, [lines.length, ...inner], limits);
  // 64-bit integers keep their digits (a double would round them beyond 2^53); everything else must be
  // a plain decimal number: no hexadecimal, no Infinity, nothing only JavaScript would read.
  const wide = meta.type === 'int64' || meta.type === 'uint64';
  const integer = meta.type !== 'float32' && meta.type !== 'float64' && meta.type !== 'float16';
  const readRows = (values: Array<number | string> | undefined): void => {
    let k = 0;
    for (let r = 0; r < lines.length; r++) {
      if (lines[r].trim() === '') {
        // Skipped, it would shift every later answer against its record (batch transform joins them by line).
        throw new InferenceError('CSV_COLUMN_COUNT', `CSV row ${r + 1} is blank; every row needs ${columns} value${columns === 1 ? '' : 's'} for input '${meta.name}' (${describeShape(meta)}), and blank lines are skipped only at the end of the body`);
      }
      const cells = lines[r].split(',');
      if (cells.length !== columns) {
        throw new InferenceError('CSV_COLUMN_COUNT', `CSV row ${r + 1} has ${cells.length} columns; input '${meta.name}' (${describeShape(meta)}) needs ${columns}${csvSplitHint(lines[r])}`);
      }
      for (let c = 0; c < columns; c++) {
        // RFC 4180 lets any field be quoted (Python's csv.QUOTE_ALL and pandas' to_csv with quoting do so); a
        // number never holds a quote or a comma, so the quotes are taken off and what is inside read as usual.
        let text = cells[c].trim();
        if (text.length >= 2 && text.charCodeAt(0) === 34 && text.charCodeAt(text.length - 1) === 34) text = text.slice(1, -1).trim();
        if (wide && INTEGER.test(text)) {
          if (values) values[k] = text.startsWith('+') ? text.slice(1) : text;
          k++;
          continue;
        }
        const v = DECIMAL.test(text) ? Number(text) : NaN;
        if (!Number.isFinite(v)) {
          throw new InferenceError('CSV_BAD_VALUE', `CSV row ${r + 1}, column ${c + 1} is ${JSON.stringify(cells[c].slice(0, 40))}, not a finite decimal number`);
        }
        // A fraction the rounding to a double took away (2^52 + 0.5 is 2^52 as a double): the cell's text
        // goes on instead of the integer, and is refused as the value it is.
        if (values) values[k] = integer && Number.isInteger(v) && !INTEGER.test(text) && !integralDecimal(text) ? text : v;
        k++;
      }
    }
  };
  // A valid row holds `columns` values of at least one character each, with commas between them. When the
  // lines are too short for that, some row is wrong: find it before allocating rows x columns values,
  // which a small body of many one-value lines sent to a wide model would otherwise make cost up to
  // limits.maxTensorElements slots (16 Mi: 128 MB and 130 ms of this thread) for nothing. Past this check
  // the values take at most about half as many slots as the body has characters.
  let chars = 0;
  for (const line of lines) chars += line.length;
  if (chars < lines.length * (2 * columns - 1)) readRows(undefined);
  const values: Array<number | string> = new Array(count);
  readRows(values);
  const shape = [lines.length, ...inner];
  // A value out of the datatype's range (1e39 for FP32, 1.5 for INT32) is named by its row and column, as a cell that is no number is.
  const cell = (i: number) => `CSV row ${Math.floor(i / columns) + 1}, column ${(i % columns) + 1}`;
  return [{ name: meta.name, type: meta.type, dims: shape, data: decodeData(meta.name, meta.type, shape, count, values, cell) }];
}

/** Splits a tensor with `rows` rows into per-row JSON values nested as the row shape. */
function rowsOf(t: WireTensor): unknown[] {
  const values = encodeData(t.type, t.data);
  const rows = t.dims[0] ?? 1;
  const inner = t.dims.slice(1);
  const per = elementCount(inner);
  const nest = (flat: unknown[], dims: number[]): unknown => {
    if (dims.length <= 1) return flat;
    const size = elementCount(dims.slice(1));
    const out: unknown[] = [];
    for (let i = 0; i < dims[0]; i++) out.push(nest(flat.slice(i * size, (i + 1) * size), dims.slice(1)));
    return out;
  };
  const out: unknown[] = new Array(rows);
  for (let r = 0; r < rows; r++) {
    const slice = values.slice(r * per, (r + 1) * per);
    out[r] = inner.length === 0 ? slice[0] : nest(slice, inner);
  }
  return out;
}

/**
 * Checks that every output has one row per instance sent, as `predictions`, JSON Lines and CSV answers
 * need: an output whose first axis is another size (a sum over the rows, `[1, k]`; no batch axis at all)
 * would be cut to the first rows, or leave rows without it. A scalar output (rank 0) is repeated on
 * every row instead.
 */
export function checkOnePerRow(outputs: readonly WireTensor[], rows: number): void {
  const other = outputs.find((o) => o.dims.length > 0 && o.dims[0] !== rows);
  if (other) {
    throw new InferenceError('ANSWER_NOT_PER_ROW', `output '${other.name}' has shape ${JSON.stringify(other.dims)}, not one row for each of the ${rows} instances sent, so the answer cannot be written as rows; send an Open Inference Protocol body ({"inputs": [...]}) to get the outputs as tensors`);
  }
}

/** How many rows a row answer has: `rows` when given (the instances sent), else the outputs' first axis. */
function answerRows(outputs: readonly WireTensor[], rows: number | undefined): number {
  return rows ?? Math.max(1, ...outputs.map((o) => (o.dims.length === 0 ? 1 : o.dims[0])));
}

/**
 * SageMaker `predictions`: one entry per row (`rows`, the instances sent); the output row itself, or an
 * object when there are several outputs. A scalar output is repeated on every row, also when it is the
 * only output: batch transform joins answers to records line by line.
 */
export function encodePredictions(outputs: readonly WireTensor[], rows?: number): unknown[] {
  const perOutput = outputs.map(rowsOf);
  const n = answerRows(outputs, rows);
  if (outputs.length === 1) return outputs[0].dims.length === 0 ? new Array(n).fill(perOutput[0][0]) : perOutput[0];
  const out: unknown[] = new Array(n);
  for (let r = 0; r < n; r++) {
    const row: Record<string, unknown> = {};
    // A scalar output (rank 0) has one value for the whole answer: it is repeated on every row.
    outputs.forEach((o, i) => { row[o.name] = o.dims.length === 0 ? perOutput[i][0] : perOutput[i][r]; });
    out[r] = row;
  }
  return out;
}

/** One CSV cell (RFC 4180): a string is quoted when it holds a comma, a quote or a line break. */
function csvCell(type: WireTensor['type'], value: unknown): string {
  if (typeof value !== 'string' || type !== 'string') return String(value); // 64-bit integers beyond 2^53 arrive as digit strings
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * CSV answer: one line per row (`rows`, the instances sent), every output's values for that row, in
 * output order. A scalar output is repeated on every row. NaN and infinities are written `NaN`,
 * `Infinity`, `-Infinity` (JSON answers carry null).
 */
export function encodeCsv(outputs: readonly WireTensor[], rows?: number): string {
  // A scalar output (rank 0) has one value for the whole answer: it is repeated on every row.
  const perOutput = outputs.map((o) => ({ type: o.type, values: encodeData(o.type, o.data), per: elementCount(o.dims.slice(1)), scalar: o.dims.length === 0 }));
  rows = answerRows(outputs, rows);
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [];
    for (const o of perOutput) {
      if (o.scalar) {
        cells.push(csvCell(o.type, o.values[0]));
        continue;
      }
      for (let i = r * o.per; i < (r + 1) * o.per; i++) cells.push(csvCell(o.type, o.values[i]));
    }
    lines.push(cells.join(','));
  }
  return lines.join('\n') + '\n';
}

/** Concatenates per-row results (for models that run one row at a time) along axis 0. */
export function concatRows(parts: readonly WireTensor[][]): WireTensor[] {
  return parts[0].map((first, i) => {
    const tensors = parts.map((p) => p[i]);
    const rows = tensors.reduce((a, t) => a + (t.dims[0] ?? 1), 0);
    const values: unknown[] = [];
    for (const t of tensors) for (const v of t.data as ArrayLike<unknown>[] & unknown[]) values.push(v);
    const Ctor = Array.isArray(first.data) ? null : ((first.data as Float32Array).constructor as unknown as { from(v: unknown[]): WireTensor['data'] });
    return { name: first.name, type: first.type, dims: [rows, ...first.dims.slice(1)], data: Ctor ? Ctor.from(values) : (values as string[]) };
  });
}
