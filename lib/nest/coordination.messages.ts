/** Message builders: every message names the option, class, method, group or lock involved. */

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** `Class.method` for messages: the class of an instance or prototype, or a class itself for a static member. */
export function describeMember(target: unknown, key: string | symbol): string {
  const owner =
    typeof target === 'function'
      ? target.name
      : (target as { constructor?: { name?: string } } | null | undefined)?.constructor?.name;
  return `${owner || 'anonymous class'}.${String(key)}`;
}

export const INVALID_OPTION = (option: string, expected: string, value: unknown): string =>
  `CoordinationModule option ${option} must be ${expected}, got ${formatValue(value)}`;

export const UNKNOWN_OPTION = (option: string, known: readonly string[]): string =>
  `Unknown CoordinationModule option ${option}; the known ones are ${known.join(', ')}`;

export const OPTION_BEYOND_TIMER = (option: string, maxMs: number, value: number): string =>
  `CoordinationModule option ${option} must be at most ${maxMs} ms (about 24.8 days, the longest Node timer), ` +
  `got ${value}`;

export const COORDINATOR_NOT_CREATED = (url: string, error: unknown): string =>
  `CoordinationModule cannot create a coordinator for option url ${url}: ${describe(error)}`;

export const IMPORT_SCHEDULE_MODULE_IGNORED = (): string =>
  'CoordinationModule option importScheduleModule is deprecated and ignored: the module never imports ' +
  'ScheduleModule.forRoot() and works with or without yours; remove the option';

export const SCHEDULE_MODULE_MISSING = (methods: readonly string[]): string =>
  `${methods.join(', ')} ${methods.length === 1 ? 'is' : 'are'} scheduled with @nestjs/schedule, but the ` +
  'application does not import ScheduleModule.forRoot(), so nothing runs them (CoordinationModule no longer ' +
  'imports it for you): add ScheduleModule.forRoot() to your imports';

export const DUPLICATE_SCHEDULE_MODULE = (count: number): string =>
  `The application imports ScheduleModule ${count} times. Nest 12 tells dynamic modules apart by reference, so ` +
  'each copy would run every @Cron()/@Interval()/@Timeout() again: import ScheduleModule.forRoot() once ' +
  '(CoordinationModule does not import it)';

export const NON_STATIC_PROVIDER = (decorators: string, where: string): string =>
  `${decorators} on ${where}: the provider is request-scoped or depends on one, so there is no single instance ` +
  'for the application to guard or call; use it on a singleton provider';

export const SHARED_INSTANCE = (where: string): string =>
  `${where} is already guarded by another application's coordinator: one provider instance cannot be shared ` +
  'between two running Nest applications that each import CoordinationModule';

export const NOT_STARTED = (where: string): string =>
  `@WithLock() on ${where}: the coordinator is not started (the call came before the application bootstrapped, ` +
  'from a constructor or an early onModuleInit, or after it shut down)';

export const SHUTTING_DOWN_BEFORE_LOCK = (where: string, lockName: string): string =>
  `@WithLock() on ${where} gave up waiting for lock ${lockName}: the application is shutting down`;

export const DECORATOR_NOT_ON_METHOD = (decorator: string, where: string): string =>
  `${decorator} on ${where}: only instance methods of providers and controllers can be decorated`;

export const DECORATOR_TWICE = (decorator: string, where: string): string =>
  `${decorator} is applied twice to ${where}; use it once per method`;

export const INVALID_DECORATOR_ARGUMENT = (
  decorator: string,
  argument: string,
  expected: string,
  value: unknown,
): string => `${decorator} ${argument} must be ${expected}, got ${formatValue(value)}`;

export const INVALID_LOCK_NAME = (where: string, value: unknown): string =>
  `@WithLock() on ${where}: the lock name function must return a non-empty string, got ${formatValue(value)}`;

export const HANDLER_FAILED = (decorator: string, where: string, error: unknown): string =>
  `${decorator} handler ${where} failed: ${describe(error)}`;

export const HEARTBEAT_FAILED = (memberId: string, error: unknown): string =>
  `Heartbeat of member ${memberId} failed, retrying at the next tick: ${describe(error)}`;

export const WATCHERS_FAILED = (memberId: string, error: unknown): string =>
  `Running the watchers of member ${memberId} failed, retrying at the next tick: ${describe(error)}`;

export const HEARTBEAT_OVERRAN = (memberId: string, tookMs: number, everyMs: number): string =>
  `Heartbeat of member ${memberId} took ${Math.round(tookMs)} ms, longer than the ${everyMs} ms between beats: ` +
  'beating again at once; memberships, leaderships and locks may expire if the backend stays this slow';

export const HEARTBEAT_TOO_SLOW = (intervalMs: number, neededMs: number): string =>
  `CoordinationModule option heartbeat.intervalMs is ${intervalMs} ms, but the driver needs a beat every ` +
  `${neededMs} ms: membership and locks may expire between beats`;

export const LOCK_RELEASE_FAILED = (name: string, where: string, error: unknown): string =>
  `Releasing lock ${name} after ${where} failed: ${describe(error)}`;

export const LOCK_LOST = (name: string, memberId: string): string =>
  `Member ${memberId} lost its hold on lock ${name} (not released: it expired, was broken, or the connection dropped)`;

export const LEADERSHIP_LOST = (groupId: string, memberId: string): string =>
  `Member ${memberId} no longer leads group ${groupId}`;

export const ALREADY_MEMBER = (groupId: string, memberId: string): string =>
  `Member ${memberId} was already in group ${groupId} at bootstrap (a previous run with the same memberId?); keeping that membership`;

export const SHUTDOWN_STEP_FAILED = (step: string, error: unknown): string =>
  `CoordinationModule shutdown: ${step} failed: ${describe(error)}`;

export const CALLS_STILL_RUNNING = (count: number, timeoutMs: number): string =>
  `${count} @Leader/@WithLock call(s) still running ${timeoutMs} ms after shutdown began; ` +
  'their locks are released now and their lock signals aborted';

export const JOBS_STILL_RUNNING = (jobs: string[], memberId: string, timeoutMs: number): string =>
  `The ${jobs.join(' and ')} of member ${memberId} still running ${timeoutMs} ms after shutdown began ` +
  '(a slow backend or group-event handler?); shutting down without waiting for it';

export const SHUTTING_DOWN = (): string => 'The application is shutting down; the lock is being released';

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value); // JSON would print Infinity as null
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
