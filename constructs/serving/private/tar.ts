import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

/**
 * Writes a directory as a deterministic gzip-compressed tar (POSIX ustar): entries sorted, relative
 * to the directory, symlinks replaced by what they point to, owner 0, mtime 0, mode 0644/0755. The same input always gives the same bytes, so
 * the asset hash only changes when the files do. This is the `model.tar.gz` SageMaker untars into
 * `/opt/ml/model`.
 */
export function writeTarGz(sourceDir: string, outFile: string): void {
  const blocks: Buffer[] = [];
  for (const rel of listEntries(sourceDir, '', [fs.realpathSync(sourceDir)])) {
    const full = path.join(sourceDir, rel);
    const stat = fs.statSync(full);
    if (stat.isDirectory()) {
      blocks.push(header(`${rel}/`, 0, '5', 0o755));
    } else if (stat.isFile()) {
      const data = fs.readFileSync(full);
      blocks.push(header(rel, data.length, '0', 0o644), data);
      const pad = (512 - (data.length % 512)) % 512;
      if (pad) blocks.push(Buffer.alloc(pad));
    }
  }
  blocks.push(Buffer.alloc(1024));
  fs.writeFileSync(outFile, zlib.gzipSync(Buffer.concat(blocks), { level: 9 }));
}

/**
 * The entries under `rel`, sorted, depth first. Symlinks are followed, as `tar -h` does: a model
 * directory made of links (a Hugging Face or DVC cache links each file to a blob elsewhere) is packed
 * with the files' contents under the links' names, where SageMaker's untar and the server find them.
 * (Skipping them would pack an archive without the model.) `ancestors` holds the real paths of the
 * directories being listed, so a link back up the tree fails instead of recursing forever.
 */
function listEntries(root: string, rel: string, ancestors: string[]): string[] {
  const out: string[] = [];
  const names = fs.readdirSync(path.join(root, rel)).sort();
  for (const name of names) {
    const child = rel ? `${rel}/${name}` : name;
    const full = path.join(root, child);
    const link = fs.lstatSync(full).isSymbolicLink() ? fs.readlinkSync(full) : undefined;
    let stat: fs.Stats;
    try {
      stat = fs.statSync(full);
    } catch (e) {
      if (link !== undefined) throw new Error(`model file "${child}" is a symlink to ${link}, which does not exist: remove the link or restore its target`, { cause: e });
      throw e;
    }
    if (!stat.isDirectory() && !stat.isFile()) continue;
    out.push(child);
    if (stat.isDirectory()) {
      const real = fs.realpathSync(full);
      if (ancestors.includes(real)) {
        throw new Error(`model directory entry "${child}" is a symlink to a directory that contains it (${link}): remove the link`);
      }
      out.push(...listEntries(root, child, [...ancestors, real]));
    }
  }
  return out;
}

function header(name: string, size: number, type: '0' | '5', mode: number): Buffer {
  const buf = Buffer.alloc(512);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 2);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
    if (cut < 0 || Buffer.byteLength(base) > 100 || Buffer.byteLength(prefix) > 155) {
      throw new Error(`model file path "${name}" is too long for a tar archive (100-byte name, 155-byte prefix)`);
    }
  }
  buf.write(base, 0, 100, 'utf8');
  octal(buf, 100, 8, mode);
  octal(buf, 108, 8, 0);
  octal(buf, 116, 8, 0);
  octal(buf, 124, 12, size);
  octal(buf, 136, 12, 0);
  buf.fill(' ', 148, 156);
  buf.write(type, 156, 1, 'ascii');
  buf.write('ustar\0', 257, 6, 'ascii');
  buf.write('00', 263, 2, 'ascii');
  buf.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of buf) sum += byte;
  buf.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return buf;
}

function octal(buf: Buffer, offset: number, length: number, value: number): void {
  buf.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'ascii');
}
