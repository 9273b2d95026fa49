import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

/**
 * Writes a directory as a deterministic gzip-compressed tar (POSIX ustar): entries sorted, relative
 * to the directory, symlinks replaced by what they point to, owner 0, mtime 0, mode 0644/0755. The same input always gives the same bytes, so
 * the asset hash only changes when the files do. This is the `model.tar.gz` SageMaker untars into
 * `/opt/ml/model`. Files are read and compressed a piece at a time (`chunkBytes`), so files over 2 GiB (ONNX
 * external data) pack too, in bounded memory.
 */
export function writeTarGz(sourceDir: string, outFile: string, chunkBytes: number = CHUNK_BYTES): void {
  const fd = fs.openSync(outFile, 'w');
  try {
    const out = new GzipMembers(fd, chunkBytes);
    for (const rel of listEntries(sourceDir, '', [fs.realpathSync(sourceDir)])) {
      const full = path.join(sourceDir, rel);
      const stat = fs.statSync(full);
      if (stat.isDirectory()) {
        out.write(header(`${rel}/`, 0, '5', 0o755));
      } else if (stat.isFile()) {
        if (stat.size > MAX_USTAR_SIZE) {
          throw new Error(`model file "${rel}" is ${stat.size} bytes, more than a tar archive entry holds (8 GiB - 1): split it (ONNX external data can be several files), `
            + 'or upload the model yourself and use ModelData.fromBucket');
        }
        out.write(header(rel, stat.size, '0', 0o644));
        copyFile(full, rel, stat.size, out, chunkBytes);
        const pad = (512 - (stat.size % 512)) % 512;
        if (pad) out.write(Buffer.alloc(pad));
      }
    }
    out.write(Buffer.alloc(1024));
    out.end();
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Bytes compressed at a time. Model files can be larger than one Node buffer (2 GiB for a file read at once), so
 * the archive is read and written in pieces, each compressed as one gzip member: a gzip file may hold several
 * members one after another, and gunzip, tar and Python's tarfile read them as one stream.
 */
const CHUNK_BYTES = 64 * 1024 * 1024;
/** The largest size a ustar header's 11 octal digits hold. */
const MAX_USTAR_SIZE = 8 ** 11 - 1;

/** Collects bytes and writes them as gzip members of about `chunkBytes` uncompressed bytes each. */
class GzipMembers {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly fd: number, private readonly chunkBytes: number) {}

  public write(data: Buffer): void {
    this.pending.push(data);
    this.pendingBytes += data.length;
    if (this.pendingBytes >= this.chunkBytes) this.flush();
  }

  public end(): void {
    if (this.pendingBytes > 0) this.flush();
  }

  private flush(): void {
    const member = zlib.gzipSync(Buffer.concat(this.pending), { level: 9 });
    fs.writeSync(this.fd, member);
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/** Appends a file's `size` bytes, read a piece at a time. */
function copyFile(full: string, rel: string, size: number, out: GzipMembers, chunkBytes: number): void {
  const fd = fs.openSync(full, 'r');
  try {
    let done = 0;
    while (done < size) {
      const piece = Buffer.alloc(Math.min(chunkBytes, size - done));
      let filled = 0;
      while (filled < piece.length) {
        const read = fs.readSync(fd, piece, filled, piece.length - filled, done + filled);
        if (read === 0) throw new Error(`model file "${rel}" became shorter while it was being packed: pack again once it is written`);
        filled += read;
      }
      out.write(piece);
      done += piece.length;
    }
  } finally {
    fs.closeSync(fd);
  }
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
