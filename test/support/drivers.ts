import { randomUUID } from 'node:crypto';

/** A backend the conformance suite runs against. */
export interface DriverUnderTest {
  /** Short name for test titles. */
  name: string;
  /** Base URL; tests add query options with `withQuery`. */
  url: string;
  /** Whether a separate OS process can share this backend (false for memory://). */
  crossProcess: boolean;
}

/** Every driver the conformance suite runs on. Network drivers add themselves here. */
export const drivers: DriverUnderTest[] = [{ name: 'memory', url: 'memory://conformance', crossProcess: false }];

/** A unique id, so runs and tests never collide on a shared backend. */
export function uid(prefix = 'id'): string {
  return `${prefix}-${randomUUID()}`;
}

/** `url` with extra query options appended (`?` or `&` as needed). */
export function withQuery(url: string, options: Record<string, string | number>): string {
  const query = Object.entries(options)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
    .join('&');
  return query ? `${url}${url.includes('?') ? '&' : '?'}${query}` : url;
}
