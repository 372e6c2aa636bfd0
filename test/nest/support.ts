import type { DynamicModule, LoggerService, Provider, Type } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';

/** Collects what Nest's Logger receives, so tests stay quiet and can assert on logs. */
export class RecordingLogger implements LoggerService {
  readonly entries: { level: string; message: string }[] = [];
  log(message: unknown) {
    this.record('log', message);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.record('error', message, rest);
  }
  warn(message: unknown) {
    this.record('warn', message);
  }
  debug(message: unknown) {
    this.record('debug', message);
  }
  verbose(message: unknown) {
    this.record('verbose', message);
  }
  messages(level: string): string[] {
    return this.entries.filter((entry) => entry.level === level).map((entry) => entry.message);
  }
  private record(level: string, message: unknown, rest: unknown[] = []) {
    this.entries.push({ level, message: [message, ...rest].map(String).join(' ') });
  }
}

type Importable = Type<unknown> | DynamicModule;

/** Compile a testing module and run its lifecycle hooks (bootstrap included). */
export async function compileApp(
  imports: Importable[],
  providers: Provider[] = [],
  logger: LoggerService = new RecordingLogger(),
): Promise<TestingModule> {
  return Test.createTestingModule({ imports, providers }).setLogger(logger).compile();
}

export async function createApp(
  imports: Importable[],
  providers: Provider[] = [],
  logger: LoggerService = new RecordingLogger(),
): Promise<TestingModule> {
  const app = await compileApp(imports, providers, logger);
  await app.init();
  return app;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Poll until `predicate` holds, or fail after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 3000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** A promise with its resolve, for holding a guarded call open. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
