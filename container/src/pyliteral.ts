/**
 * A reader of Python literals as `ast.literal_eval` reads them, for the header of NumPy's `.npy` format
 * (`numpy.lib.format._read_array_header` evaluates the header with it): strings (single, double or triple
 * quotes, the prefixes `r`, `u`, `b`, escapes, adjacent strings joined), numbers, `True`, `False`, `None`,
 * tuples, lists, dicts and sets, with the whitespace, comments and line continuations Python allows between
 * them. It reads in one pass over the text, linear in its length, and refuses brackets nested deeper than
 * CPython's parser takes. Not read, and refused: `\N{...}` escapes (by character name) and the rarer
 * arithmetic forms literal_eval folds (`-(1)`, `set()`); no NumPy writer puts either in a header.
 */

/** A value read, with what a header check needs of it: text, whole numbers, booleans and the containers' items. */
export type PyValue =
  | { readonly type: 'str'; readonly value: string }
  | { readonly type: 'int'; readonly value: bigint }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'tuple' | 'list' | 'set'; readonly items: readonly PyValue[] }
  /** Text keys, the last value of a key written twice winning (Python's rule); `otherKeys`, keys that are not text. */
  | { readonly type: 'dict'; readonly entries: ReadonlyMap<string, PyValue>; readonly otherKeys: readonly PyValue[] }
  | { readonly type: 'bytes' | 'float' | 'complex' | 'None' };

/** Text that is not a Python literal; `at` is the index of the character where reading stopped. */
export class PyLiteralError extends Error {
  constructor(readonly reason: string, readonly at: number) {
    super(`${reason} at character ${at + 1}`);
  }
}

export interface PyLiteralOptions {
  /**
   * Whether a Python 2 long suffix (`3L`) is read as the number: NumPy reads headers of format 1.0 and 2.0,
   * which Python 2 may have written, so (its `_filter_header`).
   */
  readonly longSuffix?: boolean;
}

/** CPython's tokenizer refuses brackets nested deeper ("too many nested parentheses"). */
const MAX_DEPTH = 200;
const DIGITS = String.raw`\d(?:_?\d)*`;
const FLOAT = String.raw`(?:(?:${DIGITS})?\.${DIGITS}|${DIGITS}\.)(?:[eE][+-]?${DIGITS})?|${DIGITS}[eE][+-]?${DIGITS}`;
/** An imaginary number (no group), a float (group 1) or an integer (group 2), as Python's tokenizer reads them. */
const NUMBER = new RegExp(String.raw`(?:${FLOAT}|${DIGITS})[jJ]|(${FLOAT})|(0[xX](?:_?[\da-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|[1-9](?:_?\d)*|0(?:_?0)*)`, 'y');
const NAME = /[A-Za-z_]\w*/y;
const WORD = /[\w.]/;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
const HEX_DIGITS: Readonly<Record<string, number>> = { x: 2, u: 4, U: 8 };

/** Reads `text` as `ast.literal_eval` would, or throws a PyLiteralError saying where and why it is not a literal. */
export function parsePythonLiteral(text: string, options: PyLiteralOptions = {}): PyValue {
  const nul = text.indexOf('\0');
  if (nul >= 0) throw new PyLiteralError('a NUL character, which Python source cannot hold', nul);
  const reader = new Reader(text, options.longSuffix ?? false);
  reader.outside(true);
  const value = reader.value();
  reader.outside(false);
  reader.end();
  return value;
}

class Reader {
  private i = 0;
  private depth = 0;

  constructor(private readonly s: string, private readonly longSuffix: boolean) {}

  /**
   * Skips what may stand outside the literal's brackets: blank lines and comments, spaces at the very
   * start (literal_eval strips them), and before the literal a backslash continuing the line. A line
   * after a newline that holds the literal may not be indented, as Python's "unexpected indent".
   */
  outside(before: boolean): void {
    const s = this.s;
    let lineStart = -1; // the start of a line after a newline, until its indentation is measured
    let indented = false;
    for (;;) {
      const c = s[this.i];
      if (c === ' ' || c === '\t' || c === '\f') {
        this.i++;
        continue;
      }
      if (lineStart >= 0) { // a form feed sets the indentation back to nothing, as in CPython's tokenizer
        indented = this.i > lineStart && s[this.i - 1] !== '\f';
        lineStart = -1;
      }
      if (c === '#') this.comment();
      else if (c === '\n' || c === '\r') {
        this.i = lineStart = this.afterNewline(this.i);
        indented = false;
      } else if (before && c === '\\' && this.isNewline(this.i + 1)) this.i = this.afterNewline(this.i + 1);
      else break;
    }
    if (before && indented && this.i < s.length) this.fail('an indented line (unexpected indent)');
  }

  end(): void {
    if (this.i < this.s.length) this.fail(`${this.describe()} after the literal's end`);
  }

  value(): PyValue {
    this.space();
    const s = this.s;
    const c = s[this.i];
    if (c === undefined) this.fail('the end of the text where a value was expected');
    if (c === '(' || c === '[' || c === '{') return this.display(c);
    if (c === "'" || c === '"') return this.strings('');
    if (c === '-' || c === '+') {
      this.i++;
      this.space();
      if (!/[\d.]/.test(s[this.i] ?? '')) this.fail(`a sign '${c}' before something other than a number`);
      const n = this.number();
      return this.complexTail(c === '-' && n.type === 'int' ? { type: 'int', value: -n.value } : n);
    }
    if (/[\d.]/.test(c)) return this.complexTail(this.number());
    NAME.lastIndex = this.i;
    const name = NAME.exec(s)?.[0];
    if (name === undefined) this.fail(`${this.describe()}, which no literal starts with`);
    const next = s[this.i + name.length];
    if (next === "'" || next === '"') {
      this.i += name.length;
      return this.strings(name);
    }
    const constants: Record<string, PyValue> = { True: { type: 'bool', value: true }, False: { type: 'bool', value: false }, None: { type: 'None' } };
    if (!Object.hasOwn(constants, name)) this.fail(`the name '${name}' (True, False and None are the names a literal may hold)`);
    this.i += name.length;
    return constants[name];
  }

  /** Skips what Python skips between tokens inside brackets: whitespace, line breaks, comments, a backslash before a line break. */
  private space(): void {
    const s = this.s;
    for (;;) {
      const c = s[this.i];
      if (c === ' ' || c === '\t' || c === '\f' || c === '\n' || c === '\r') this.i++;
      else if (c === '#') this.comment();
      else if (c === '\\' && this.isNewline(this.i + 1)) this.i = this.afterNewline(this.i + 1);
      else return;
    }
  }

  private comment(): void {
    const s = this.s;
    while (this.i < s.length && !this.isNewline(this.i)) this.i++;
  }

  private isNewline(at: number): boolean {
    return this.s[at] === '\n' || this.s[at] === '\r';
  }

  private afterNewline(at: number): number {
    return this.s[at] === '\r' && this.s[at + 1] === '\n' ? at + 2 : at + 1;
  }

  /** A tuple, a parenthesised value, a list, a dict or a set. */
  private display(open: '(' | '[' | '{'): PyValue {
    if (++this.depth > MAX_DEPTH) this.fail(`brackets nested more than ${MAX_DEPTH} deep`);
    const close = open === '(' ? ')' : open === '[' ? ']' : '}';
    const s = this.s;
    this.i++;
    const items: PyValue[] = [];
    const keys: PyValue[] = []; // a dict's: keys[n] goes with items[n]
    let pairs: boolean | undefined; // whether braces hold a dict (key: value) or a set
    let commas = 0;
    for (;;) {
      this.space();
      if (s[this.i] === close) break;
      if (items.length > commas) this.fail(`${this.describe()} where ',' or '${close}' was expected`);
      const item = this.value();
      this.space();
      if (open === '{') {
        const pair = s[this.i] === ':';
        pairs ??= pair;
        if (pair !== pairs) this.fail(pairs ? `${this.describe()} where ':' was expected` : "a ':' in a set");
        if (!hashable(item)) this.fail(`an unhashable ${item.type} as a ${pairs ? 'dict key' : 'set item'}`);
        if (pair) {
          this.i++;
          keys.push(item);
          items.push(this.value());
          this.space();
        } else items.push(item);
      } else items.push(item);
      if (s[this.i] === ',') {
        this.i++;
        commas++;
      }
    }
    this.i++;
    this.depth--;
    if (open === '(') return items.length === 1 && commas === 0 ? items[0] : { type: 'tuple', items };
    if (open === '[') return { type: 'list', items };
    if (pairs === false) return { type: 'set', items };
    const entries = new Map<string, PyValue>();
    const otherKeys: PyValue[] = [];
    keys.forEach((k, n) => {
      if (k.type === 'str') entries.set(k.value, items[n]);
      else otherKeys.push(k);
    });
    return { type: 'dict', entries, otherKeys };
  }

  /** One string literal, and those right after it, which Python joins into one. */
  private strings(prefix: string): PyValue {
    const s = this.s;
    let bytes: boolean | undefined;
    const parts: string[] = [];
    for (;;) {
      const start = this.i - prefix.length;
      const one = this.literal(prefix);
      bytes ??= one.bytes;
      if (one.bytes !== bytes) this.fail('bytes and text strings side by side', start);
      parts.push(one.text);
      this.space();
      const c = s[this.i];
      NAME.lastIndex = this.i;
      const name = c === "'" || c === '"' ? '' : NAME.exec(s)?.[0];
      if (name === undefined || (s[this.i + name.length] !== "'" && s[this.i + name.length] !== '"')) break;
      this.i += name.length;
      prefix = name;
    }
    return bytes ? { type: 'bytes' } : { type: 'str', value: parts.join('') };
  }

  private literal(prefix: string): { bytes: boolean; text: string } {
    const p = prefix.toLowerCase();
    if (!['', 'r', 'u', 'b', 'br', 'rb'].includes(p)) {
      this.fail(p.includes('f') ? `an f-string (${prefix}'...'), which is not a literal` : `the string prefix '${prefix}'`, this.i - prefix.length);
    }
    const raw = p.includes('r');
    const bytes = p.includes('b');
    const s = this.s;
    const start = this.i;
    const quote = s[this.i];
    const triple = s.startsWith(quote.repeat(3), this.i);
    this.i += triple ? 3 : 1;
    const parts: string[] = [];
    let from = this.i;
    for (;;) {
      const c = s[this.i];
      if (c === undefined) this.fail('a string that is not closed', start);
      if (c === quote && (!triple || s.startsWith(quote.repeat(3), this.i))) break;
      if (!triple && (c === '\n' || c === '\r')) this.fail('a line break inside a string in single quotes', start);
      if (bytes && c > '\u007f') this.fail('a character outside ASCII in a bytes string');
      if (c !== '\\') {
        this.i++;
        continue;
      }
      if (raw) { // the backslash stays, and keeps the character after it (a quote, say) inside the string
        this.i = s[this.i + 1] === '\r' ? this.afterNewline(this.i + 1) : this.i + 2;
        continue;
      }
      parts.push(s.slice(from, this.i));
      this.i++;
      parts.push(this.escape(s[this.i], bytes));
      from = this.i;
    }
    parts.push(s.slice(from, this.i));
    this.i += triple ? 3 : 1;
    return { bytes, text: parts.join('') };
  }

  /** The text of the escape whose letter is `e` (the backslash passed), moving past it. */
  private escape(e: string | undefined, bytes: boolean): string {
    const s = this.s;
    if (e === undefined) return ''; // the string is not closed: the caller says so
    if (e === '\n' || e === '\r') { // a backslash before a line break joins the lines
      this.i = this.afterNewline(this.i);
      return '';
    }
    if (Object.hasOwn(ESCAPES, e)) {
      this.i++;
      return ESCAPES[e];
    }
    const octal = /[0-7]{1,3}/y;
    octal.lastIndex = this.i;
    const digits = octal.exec(s)?.[0];
    if (digits !== undefined) {
      this.i += digits.length;
      return String.fromCodePoint(parseInt(digits, 8));
    }
    if (e === 'x' || (!bytes && (e === 'u' || e === 'U'))) {
      const n = HEX_DIGITS[e];
      const hex = s.slice(this.i + 1, this.i + 1 + n);
      if (!new RegExp(`^[\\da-fA-F]{${n}}$`).test(hex)) this.fail(`a \\${e} escape without ${n} hexadecimal digits`, this.i - 1);
      const code = parseInt(hex, 16);
      if (code > 0x10ffff) this.fail(`the escape \\${e}${hex}, past U+10FFFF`, this.i - 1);
      this.i += 1 + n;
      return String.fromCodePoint(code);
    }
    if (!bytes && e === 'N') this.fail('a \\N{...} escape (a character by name), which this reader does not read', this.i - 1);
    return '\\'; // an unknown escape keeps its backslash; the character after it is read as it is
  }

  /** An unsigned number; a Python 2 long suffix is dropped where `longSuffix` allows it. */
  private number(): PyValue {
    const s = this.s;
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(s);
    if (!m) this.fail(`${this.describe()} where a number was expected`);
    const start = this.i;
    this.i += m[0].length;
    if (this.longSuffix) {
      let j = this.i;
      while (s[j] === ' ' || s[j] === '\t' || s[j] === '\f') j++;
      if (s[j] === 'L' && !WORD.test(s[j + 1] ?? '')) this.i = j + 1;
    }
    if (WORD.test(s[this.i] ?? '')) this.fail(`an invalid number '${s.slice(start, this.i + 1)}'`, start);
    if (m[2] !== undefined) return { type: 'int', value: BigInt(m[2].replace(/_/g, '')) };
    return { type: m[1] !== undefined ? 'float' : 'complex' };
  }

  /** A real number plus or minus an imaginary one is a complex literal (literal_eval folds it); other arithmetic is not. */
  private complexTail(left: PyValue): PyValue {
    const save = this.i;
    this.space();
    const op = this.s[this.i];
    if (op !== '+' && op !== '-') {
      this.i = save;
      return left;
    }
    const at = this.i;
    this.i++;
    this.space();
    if (left.type === 'complex' || !/[\d.]/.test(this.s[this.i] ?? '') || this.number().type !== 'complex') {
      this.fail(`arithmetic ('${op}'; only a real number plus or minus an imaginary one is a literal)`, at);
    }
    return { type: 'complex' };
  }

  private describe(): string {
    const c = this.s[this.i];
    if (c === undefined) return 'the end of the text';
    const code = c.codePointAt(0)!;
    return code >= 0x20 && code < 0x7f ? `'${c}'` : `the character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  }

  private fail(reason: string, at = this.i): never {
    throw new PyLiteralError(reason, at);
  }
}

/** Whether Python could hash the value (a dict key or a set item): not a list, dict or set, nor a tuple holding one. */
function hashable(v: PyValue): boolean {
  return v.type === 'tuple' ? v.items.every(hashable) : v.type !== 'list' && v.type !== 'dict' && v.type !== 'set';
}
