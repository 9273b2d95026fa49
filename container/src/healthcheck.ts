/**
 * The image's HEALTHCHECK: exits 0 when `GET /ping` on the local port answers 200 within 2 s.
 * (The slim base image has no curl.)
 */
import * as http from 'node:http';

// The same precedence as server.ts: SAGEMAKER_BIND_TO_PORT, then PORT, then 8080.
const port = Number(process.env.SAGEMAKER_BIND_TO_PORT || process.env.PORT || 8080);
// The server listens on HOST (default 0.0.0.0, every interface); a wildcard is checked on the loopback.
const host = !process.env.HOST || ['0.0.0.0', '::', '[::]'].includes(process.env.HOST) ? '127.0.0.1' : process.env.HOST.replace(/^\[(.*)\]$/, '$1');
const req = http.get({ host, port, path: '/ping', timeout: 2000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));
