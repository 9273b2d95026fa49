/**
 * What the log lines about a request say of it. Every line about a refused, failed or abandoned request
 * names its method and path, so that with LOG_REQUESTS=off (no "incoming request" line to find by its
 * `reqId`) an operator still sees which route failed and what path a 404 was for.
 */
/**
 * A request's URL as the log shows it: its path, without the query string. The server reads no query
 * parameter, and a client's may carry content of its own (a token, a signature, whatever a client
 * library's query parameters hold).
 */
export function loggedUrl(url: string): string {
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

/** The method and path (see loggedUrl) of a request (Fastify's, or Node's own), for the lines logged about it. */
export function requestFields(req: { method?: string; url?: string }): { method?: string; url: string } {
  return { method: req.method, url: loggedUrl(req.url ?? '') };
}
