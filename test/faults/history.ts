/**
 * The history checker of the fault suite (docs/fault-suite.md):
 * pure functions over what every process recorded, one JSON object a line.
 * Self-contained (no imports), so the command-line checker (`check.mjs`)
 * can load it as it is.
 *
 * Times are milliseconds of one clock (`performance.timeOrigin +
 * performance.now()`), shared by every process on this machine.
 */

/** A hold was granted: a lock (exclusive or shared) or a leadership (`mode: 'leader'`). */
export interface GrantRecord {
  t: 'grant';
  /** Unique in the run: `<pid>:<n>`. */
  id: string;
  lock: string;
  mode: 'exclusive' | 'shared' | 'leader';
  /** The fencing token as a decimal string; null where there is none (a leadership). */
  token: string | null;
  member: string;
  pid: number;
  /** When the request that won it was sent. */
  requestedAt: number;
  /** When the grant reached the holder: its belief starts here. */
  at: number;
}

/** The holder's first sign that its hold is gone (`LockLost`, `LeadershipLost`, `isStillOwner()` false, `isHeld` false). */
export interface LossRecord {
  t: 'loss';
  id: string;
  at: number;
  signal: string;
}

/** The holder stopped believing: it called `release()`, saw the loss, or stopped. */
export interface EndRecord {
  t: 'end';
  id: string;
  at: number;
  how: 'released' | 'lost' | 'stopped';
  /** A release that failed (the holder then believed while the library said it still held). */
  releaseError?: string;
}

/** One call to the library and how it ended; `end: null` when it never returned. */
export interface OpRecord {
  t: 'op';
  op: string;
  member: string;
  pid: number;
  start: number;
  end: number | null;
  /** The bound the call promises (its timeout); none for a call without one. */
  timeoutMs: number | null;
  outcome: string;
  lock?: string;
}

export interface FaultRecord {
  t: 'fault';
  name: string;
  start: number;
  end: number;
}

/** Processes the test killed with SIGKILL: their beliefs end at `at`, their members are gone. */
export interface KilledRecord {
  t: 'killed';
  pid: number;
  members: string[];
  at: number;
}

export interface MembershipRecord {
  t: 'joined' | 'left';
  member: string;
  group: string;
  at: number;
}

/** The members of a group as an observer read them. */
export interface MembersRecord {
  t: 'members';
  group: string;
  at: number;
  members: string[];
  /** Why the read failed (then `members` is empty), e.g. the group no longer exists. */
  error?: string;
}

/** At the end, after every worker stopped: could a fresh member take the lock at once? */
export interface FinalRecord {
  t: 'final';
  lock: string;
  free: boolean;
  at: number;
}

/** The run's parameters; the first line. */
export interface MetaRecord {
  t: 'meta';
  scenario: string;
  start: number;
  /** The heart's beat interval: a member must be back within one beat after the faults stop. */
  beatMs: number;
  /** Allowed on top of every bound (scheduling on a loaded machine). */
  slackMs: number;
}

export type HistoryRecord =
  | GrantRecord
  | LossRecord
  | EndRecord
  | OpRecord
  | FaultRecord
  | KilledRecord
  | MembershipRecord
  | MembersRecord
  | FinalRecord
  | MetaRecord;

export interface Violation {
  rule: 'exclusive-overlap' | 'shared-overlap' | 'token-order' | 'hung-operation' | 'member-missing' | 'lock-not-free';
  message: string;
}

/** A hold as believed: from its grant to its first loss signal, end, or its process's death. */
export interface Belief {
  grant: GrantRecord;
  until: number;
  /** Why the belief ended (`open` if it never did). */
  endedBy: string;
  /** A release that failed first: the library kept saying the lock was held. */
  releaseError?: string;
}

/** Parse JSON lines; blank lines are skipped, a bad line throws naming its number. */
export function parseHistory(text: string): HistoryRecord[] {
  const records: HistoryRecord[] = [];
  text.split('\n').forEach((line, index) => {
    if (!line.trim()) return;
    try {
      records.push(JSON.parse(line) as HistoryRecord);
    } catch (error) {
      throw new Error(`history line ${index + 1} is not JSON: ${(error as Error).message}`, { cause: error });
    }
  });
  return records;
}

function meta(records: HistoryRecord[]): MetaRecord {
  const found = records.find((r): r is MetaRecord => r.t === 'meta');
  return found ?? { t: 'meta', scenario: '(unnamed)', start: 0, beatMs: 0, slackMs: 0 };
}

/** Every hold with the moment its belief ended. */
export function beliefs(records: HistoryRecord[]): Belief[] {
  const losses = new Map<string, LossRecord>();
  const ends = new Map<string, EndRecord>();
  const killed = new Map<number, number>();
  for (const r of records) {
    if (r.t === 'loss' && (losses.get(r.id)?.at ?? Infinity) > r.at) losses.set(r.id, r);
    if (r.t === 'end' && !ends.has(r.id)) ends.set(r.id, r);
    if (r.t === 'killed') killed.set(r.pid, Math.min(killed.get(r.pid) ?? Infinity, r.at));
  }
  return records
    .filter((r): r is GrantRecord => r.t === 'grant')
    .map((grant) => {
      const candidates: [number, string][] = [];
      const loss = losses.get(grant.id);
      if (loss) candidates.push([loss.at, `loss signal (${loss.signal})`]);
      const end = ends.get(grant.id);
      if (end) candidates.push([end.at, end.how]);
      const death = killed.get(grant.pid);
      if (death !== undefined && death >= grant.at) candidates.push([death, 'SIGKILL']);
      candidates.sort((a, b) => a[0] - b[0]);
      const [until, endedBy] = candidates[0] ?? [Infinity, 'open'];
      return { grant, until, endedBy, releaseError: end?.releaseError };
    });
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
  return map;
}

function describeHold(b: Belief, start: number): string {
  const token = b.grant.token === null ? '' : `, token ${b.grant.token}`;
  const until = Number.isFinite(b.until) ? `${seconds(b.until, start)} s (${b.endedBy})` : 'the end (never ended)';
  const failed = b.releaseError ? ` after a failed release, still held by the library's word: ${b.releaseError}` : '';
  return `${b.grant.member} (pid ${b.grant.pid}, ${b.grant.mode}${token}) from ${seconds(b.grant.at, start)} s to ${until}${failed}`;
}

const seconds = (at: number, start: number) => ((at - start) / 1000).toFixed(3);

/** No two believed exclusive holds (or leaderships) of one name overlap; no exclusive hold overlaps a shared one. */
export function checkOverlaps(records: HistoryRecord[]): Violation[] {
  const { start } = meta(records);
  const violations: Violation[] = [];
  for (const [lock, holds] of groupBy(beliefs(records), (b) => b.grant.lock)) {
    const sorted = [...holds].sort((a, b) => a.grant.at - b.grant.at);
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length && sorted[j].grant.at < sorted[i].until; j++) {
        const [a, b] = [sorted[i], sorted[j]];
        if (a.grant.mode === 'shared' && b.grant.mode === 'shared') continue;
        const rule = a.grant.mode === 'shared' || b.grant.mode === 'shared' ? 'shared-overlap' : 'exclusive-overlap';
        const what = lock.startsWith('leader:') ? `two leaders of ${lock.slice(7)}` : `two holders of lock ${lock}`;
        violations.push({
          rule,
          message: `${what} at ${seconds(b.grant.at, start)} s: ${describeHold(a, start)}; ${describeHold(b, start)}`,
        });
      }
    }
  }
  return violations;
}

/**
 * Each lock's fencing tokens rise in time order across the whole run: a hold
 * granted (reply received) before another was requested has the smaller token.
 */
export function checkTokens(records: HistoryRecord[]): Violation[] {
  const { start } = meta(records);
  const violations: Violation[] = [];
  const grants = records.filter((r): r is GrantRecord => r.t === 'grant' && r.token !== null);
  for (const [lock, list] of groupBy(grants, (g) => g.lock)) {
    const byGrant = [...list].sort((a, b) => a.at - b.at);
    const byRequest = [...list].sort((a, b) => a.requestedAt - b.requestedAt);
    let highest: GrantRecord | undefined;
    let next = 0;
    for (const later of byRequest) {
      while (next < byGrant.length && byGrant[next].at < later.requestedAt) {
        const candidate = byGrant[next++];
        if (!highest || BigInt(candidate.token!) > BigInt(highest.token!)) highest = candidate;
      }
      if (highest && BigInt(later.token!) <= BigInt(highest.token!)) {
        violations.push({
          rule: 'token-order',
          message:
            `fencing token of lock ${lock} went back: ${highest.member} got ${highest.token} at ` +
            `${seconds(highest.at, start)} s, then ${later.member} asked at ${seconds(later.requestedAt, start)} s ` +
            `and got ${later.token}`,
        });
      }
    }
  }
  return violations;
}

/** No call ran past its timeout plus the slack, and every call returned. */
export function checkOperations(records: HistoryRecord[]): Violation[] {
  const { start, slackMs } = meta(records);
  const violations: Violation[] = [];
  for (const op of records.filter((r): r is OpRecord => r.t === 'op')) {
    const on = op.lock ? ` of lock ${op.lock}` : '';
    if (op.end === null) {
      violations.push({
        rule: 'hung-operation',
        message: `${op.op}${on} by ${op.member} (pid ${op.pid}) started at ${seconds(op.start, start)} s and never returned`,
      });
    } else if (op.timeoutMs !== null && op.end - op.start > op.timeoutMs + slackMs) {
      violations.push({
        rule: 'hung-operation',
        message:
          `${op.op}${on} by ${op.member} (pid ${op.pid}) took ${Math.round(op.end - op.start)} ms ` +
          `(${seconds(op.start, start)}–${seconds(op.end, start)} s; timeout ${op.timeoutMs} ms + ${slackMs} ms slack), ` +
          `outcome ${op.outcome}`,
      });
    }
  }
  return violations;
}

/**
 * Once the faults stop, one beat later every member that joined and did not
 * leave or die is in every members read of its group.
 */
export function checkMembers(records: HistoryRecord[]): Violation[] {
  const { start, beatMs, slackMs } = meta(records);
  const faults = records.filter((r): r is FaultRecord => r.t === 'fault');
  const calmFrom = Math.max(start, ...faults.map((f) => f.end)) + beatMs + slackMs;
  const reads = records.filter((r): r is MembersRecord => r.t === 'members' && r.at >= calmFrom);
  const joins = records.filter((r): r is MembershipRecord => r.t === 'joined');
  if (joins.length === 0) return [];
  if (reads.length === 0) {
    return [
      {
        rule: 'member-missing',
        message: `no read of the members after ${seconds(calmFrom, start)} s (faults over + one beat): nothing proves they came back`,
      },
    ];
  }
  const violations: Violation[] = [];
  const gone = (member: string, group: string, at: number) =>
    records.some(
      (r) =>
        ((r.t === 'left' && r.member === member && r.group === group) ||
          (r.t === 'killed' && r.members.includes(member))) &&
        r.at <= at,
    );
  for (const read of reads) {
    const expected = joins.filter(
      (j) => j.group === read.group && j.at <= read.at && !gone(j.member, j.group, read.at),
    );
    const missing = [...new Set(expected.map((j) => j.member))].filter((m) => !read.members.includes(m));
    if (missing.length > 0) {
      violations.push({
        rule: 'member-missing',
        message:
          `group ${read.group} at ${seconds(read.at, start)} s (faults over at ${seconds(calmFrom - beatMs - slackMs, start)} s, ` +
          `beat ${beatMs} ms) lacks ${missing.join(', ')}; ` +
          (read.error ? `the read failed: ${read.error}` : `it had [${read.members.join(', ')}]`),
      });
    }
  }
  return violations;
}

/** Every lock is free at the end: no belief left open, and a fresh member could take each one. */
export function checkFreeAtEnd(records: HistoryRecord[]): Violation[] {
  const { start } = meta(records);
  const violations: Violation[] = [];
  for (const b of beliefs(records).filter((b) => !Number.isFinite(b.until))) {
    violations.push({
      rule: 'lock-not-free',
      message: `still believed at the end: ${b.grant.lock} by ${describeHold(b, start)}`,
    });
  }
  for (const final of records.filter((r): r is FinalRecord => r.t === 'final' && !r.free)) {
    violations.push({
      rule: 'lock-not-free',
      message: `lock ${final.lock} could not be taken at ${seconds(final.at, start)} s, after every worker had stopped`,
    });
  }
  return violations;
}

export function checkHistory(records: HistoryRecord[]): Violation[] {
  return [
    ...checkOverlaps(records),
    ...checkTokens(records),
    ...checkOperations(records),
    ...checkMembers(records),
    ...checkFreeAtEnd(records),
  ];
}

/** A readable verdict: the counts, then the first `perRule` violations of each rule. */
export function verdict(records: HistoryRecord[], violations = checkHistory(records), perRule = 5): string {
  const m = meta(records);
  const grants = records.filter((r) => r.t === 'grant').length;
  const ops = records.filter((r): r is OpRecord => r.t === 'op');
  const failed = ops.filter((op) => op.outcome.startsWith('error')).length;
  const losses = records.filter((r) => r.t === 'loss').length;
  const faults = records
    .filter((r): r is FaultRecord => r.t === 'fault')
    .map((f) => `${f.name} ${seconds(f.start, m.start)}–${seconds(f.end, m.start)} s`);
  const head =
    `${m.scenario}: ${grants} holds, ${losses} loss signals, ${ops.length} calls (${failed} failed), faults: ${faults.join('; ') || 'none'} ` +
    `(times from the run's start; slack ${m.slackMs} ms)`;
  if (violations.length === 0) return `${head}\nOK: no violation`;
  const rules = [...groupBy(violations, (v) => v.rule)];
  const lines = [`VIOLATED (${rules.map(([rule, list]) => `${list.length} ${rule}`).join(', ')}):`];
  for (const [rule, list] of rules) {
    for (const v of list.slice(0, perRule)) lines.push(`- [${rule}] ${v.message}`);
    if (list.length > perRule) lines.push(`- [${rule}] … and ${list.length - perRule} more`);
  }
  return `${head}\n${lines.join('\n')}`;
}
