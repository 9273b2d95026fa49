/**
 * The image's HEALTHCHECK: exits 0 when `GET /ping` on the local port answers 200 within 2 s.
 * (The slim base image has no curl.)
 */
import * as http from 'node:http';
import { serverEnv } from './config';

// The port as server.ts reads it (SAGEMAKER_BIND_TO_PORT, then PORT, then 8080; a blank one is unset).
// A value the server refuses means no server is listening: unhealthy.
let port: number;
try {
  port = serverEnv(process.env).port;
} catch {
  process.exit(1);
}
// The server listens on HOST (default 0.0.0.0, every interface); a wildcard is checked on the loopback.
const host = !process.env.HOST || ['0.0.0.0', '::', '[::]'].includes(process.env.HOST) ? '127.0.0.1' : process.env.HOST.replace(/^\[(.*)\]$/, '$1');
const req = http.get({ host, port, path: '/ping', timeout: 2000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));
