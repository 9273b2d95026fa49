// Copies the Lambda handlers that ship as plain JavaScript (no bundling at synthesis) next to the
// compiled constructs that deploy them: tsc compiles only TypeScript, and a construct finds its
// handler relative to its own file, in the source tree (tests) and in dist/ (the npm package) alike.
import { cpSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const HANDLERS = ['constructs/compute/private/node-template-tags-handler'];

for (const dir of HANDLERS) {
  const target = join(root, 'dist', dir);
  rmSync(target, { recursive: true, force: true });
  cpSync(join(root, dir), target, { recursive: true });
}
