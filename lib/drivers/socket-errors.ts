/** Node's socket error codes that mean the server could not be reached, or the connection dropped. */
const SOCKET_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);

/** Whether `error` carries one of those codes (`extra` adds a client library's own). */
export function hasSocketErrorCode(error: Error, extra: readonly string[] = []): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (SOCKET_ERROR_CODES.has(code) || extra.includes(code));
}
