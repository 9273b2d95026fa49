// Turns every ```ts block of README.md into a TypeScript file, so the package check type-checks the examples
// against the packed library. Snippets are fragments, so each block needs an HTML comment right above it (GitHub
// does not render it) saying what the reader is assumed to have; a block without one fails the check.
//
//   <!-- ts-context -->                the block compiles as it is
//
//   <!-- ts-context: this = Stack      the block is the body of a constructor of a Stack (aws-cdk-lib)
//   import * as ec2 from 'aws-cdk-lib/aws-ec2';      or Chart (cdk8s) subclass (its imports stay at the top);
//   declare const vpc: ec2.IVpc;       the lines after the first go before the block (imports, declare const)
//   -->
//
// The blocks are compiled, never run. explain() maps compiler messages back to README lines.
const CONTEXT = /^<!--\s*ts-context\b:?\s*(.*)$/;
const SCOPES = {
  Stack: "import { Stack as ReadmeScope } from 'aws-cdk-lib';",
  Chart: "import { Chart as ReadmeScope } from 'cdk8s';",
};

/** Finds the ```ts blocks of `text` (README.md) and their contexts; throws naming the line of any block without one. */
export function readmeSnippets(text, readmeName = 'README.md') {
  const lines = text.split('\n');
  const problems = [];
  const snippets = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    let end = i + 1;
    while (end < lines.length && !(lines[end].trim().startsWith(fence) && lines[end].trim().replace(/[`~]/g, '') === '')) end++;
    const fenceLine = i + 1; // 1-based, as editors show it
    if (lang === 'ts' || lang === 'typescript') {
      const code = lines.slice(i + 1, end).map((l, k) => ({ text: l.startsWith(indent) ? l.slice(indent.length) : l, line: fenceLine + 1 + k }));
      try {
        snippets.push({ fenceLine, code, ...context(lines, i, readmeName) });
      } catch (e) {
        problems.push(e.message);
      }
    }
    i = end;
  }
  if (problems.length > 0) {
    throw new Error(`${problems.join('\n')}\nEach \`\`\`ts block needs, on the lines right above it, <!-- ts-context --> (it compiles as it is) or `
      + '<!-- ts-context: this = Stack|Chart (or nothing), then TypeScript lines (imports, declare const ...) and -->; see scripts/readme-snippets.mjs');
  }
  return snippets;
}

// Reads the <!-- ts-context ... --> comment that ends on the line above the fence at index i.
function context(lines, i, readmeName) {
  const at = `${readmeName}:${i + 1}`;
  const last = i - 1;
  if (last < 0 || !lines[last].trim().endsWith('-->')) throw new Error(`${at}: this \`\`\`ts block has no ts-context comment above it`);
  let first = last;
  while (first > 0 && !lines[first].includes('<!--')) first--;
  const head = CONTEXT.exec(lines[first].trim());
  if (!head) throw new Error(`${at}: the comment above this \`\`\`ts block (line ${first + 1}) is not a ts-context comment`);
  const rest = head[1].replace(/-->\s*$/, '').trim();
  const scope = /^this = (\w+)$/.exec(rest)?.[1];
  if (rest !== '' && !Object.hasOwn(SCOPES, scope ?? '')) {
    throw new Error(`${readmeName}:${first + 1}: ts-context takes nothing or "this = Stack" / "this = Chart" on its first line, not ${JSON.stringify(rest)}; TypeScript goes on the lines after it`);
  }
  const prelude = [];
  for (let k = first + 1; k <= last; k++) {
    const text = k === last ? lines[k].replace(/-->\s*$/, '') : lines[k];
    if (text.trim() !== '') prelude.push({ text, line: k + 1 });
  }
  return { scope, prelude };
}

/**
 * The TypeScript file for one snippet: `source`, and `origin[n]`, the README line of its line n + 1.
 * With a scope, leading imports stay at the top and the rest becomes the body of a constructor.
 */
export function snippetSource(snippet) {
  const out = [];
  const add = (text, line) => out.push({ text, line });
  const { code, scope, prelude, fenceLine } = snippet;
  let body = 0;
  if (scope) {
    while (body < code.length) {
      if (code[body].text.trim() === '') { body++; continue; }
      if (!/^import\b/.test(code[body].text)) break;
      while (body < code.length && !/;\s*(\/\/.*)?$/.test(code[body].text)) body++;
      body++;
    }
  }
  for (const l of code.slice(0, body)) add(l.text, l.line);
  if (scope) {
    add(SCOPES[scope], fenceLine);
    add("import { Construct as ReadmeConstruct } from 'constructs';", fenceLine);
  }
  for (const l of prelude) add(l.text, l.line);
  if (scope) {
    add('export class ReadmeSnippet extends ReadmeScope {', fenceLine);
    add('constructor(scope: ReadmeConstruct, id: string) {', fenceLine);
    add('super(scope, id);', fenceLine);
  }
  for (const l of code.slice(body)) add(l.text, l.line);
  if (scope) add('}}', fenceLine);
  add('export {};', fenceLine);
  return { source: out.map((l) => l.text).join('\n') + '\n', origin: out.map((l) => l.line) };
}

/**
 * Rewrites tsc output (--pretty false): `dir/file.ts(row,col): error ...` for a snippet file becomes
 * `README.md:line:col (```ts block at line N): error ...` followed by the README line.
 */
export function explain(output, files, readmeLines, readmeName = 'README.md') {
  return output.split('\n').map((line) => {
    const m = /^(.+?)\((\d+),(\d+)\): (.*)$/.exec(line);
    const file = m && files.get(m[1].replace(/\\/g, '/'));
    if (!file) return line;
    const readmeLine = file.origin[Number(m[2]) - 1] ?? file.fenceLine;
    return `${readmeName}:${readmeLine}:${m[3]} (\`\`\`ts block at line ${file.fenceLine}): ${m[4]}\n    ${readmeLines[readmeLine - 1]?.trim() ?? ''}`;
  }).join('\n');
}
