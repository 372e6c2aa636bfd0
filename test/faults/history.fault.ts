/**
 * The history checker (docs/fault-suite.md) on small
 * hand-made histories: each rule is shown to pass a clean history and to
 * fail one that breaks it, so a green fault run means something.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkFreeAtEnd,
  checkHistory,
  checkMembers,
  checkOperations,
  checkOverlaps,
  checkTokens,
  type GrantRecord,
  type HistoryRecord,
  parseHistory,
  verdict,
} from './history.js';

const META: HistoryRecord = { t: 'meta', scenario: 'hand-made', start: 0, beatMs: 1_000, slackMs: 100 };

let pid = 0;
/** A hold of `lock` by `member` from `at` to `end` (null: never ended). */
function hold(
  member: string,
  lock: string,
  at: number,
  end: number | null,
  options: Partial<GrantRecord> = {},
): HistoryRecord[] {
  const grant: GrantRecord = {
    t: 'grant',
    id: `${++pid}:1`,
    lock,
    mode: 'exclusive',
    token: String(at),
    member,
    pid,
    requestedAt: at - 1,
    at,
    ...options,
  };
  return end === null ? [grant] : [grant, { t: 'end', id: grant.id, at: end, how: 'released' }];
}

describe('the history checker', () => {
  it('passes a clean run: holds one after another, tokens rising, members back, locks free', () => {
    const records: HistoryRecord[] = [
      META,
      { t: 'joined', member: 'a', group: 'g', at: 1 },
      ...hold('a', 'L', 10, 20),
      ...hold('b', 'L', 21, 30),
      ...hold('a', 'S', 10, 40, { mode: 'shared' }),
      ...hold('b', 'S', 15, 35, { mode: 'shared' }),
      { t: 'op', op: 'acquire', member: 'a', pid: 1, start: 5, end: 10, timeoutMs: 1_000, outcome: 'true' },
      { t: 'fault', name: 'restart', start: 50, end: 60 },
      { t: 'members', group: 'g', at: 2_000, members: ['a'] },
      { t: 'final', lock: 'L', free: true, at: 3_000 },
    ];
    expect(checkHistory(records)).toEqual([]);
    expect(verdict(records)).toMatch(/OK: no violation/);
  });

  it('finds two believed exclusive holds that overlap, naming both holders and times', () => {
    const records = [META, ...hold('a', 'L', 1_000, 2_000), ...hold('b', 'L', 1_500, 2_500)];
    const [violation, ...more] = checkOverlaps(records);
    expect(more).toEqual([]);
    expect(violation.rule).toBe('exclusive-overlap');
    expect(violation.message).toMatch(/two holders of lock L at 1\.500 s: a .* from 1\.000 s to 2\.000 s .*; b /);
  });

  it('ends a belief at its first loss signal, or at its SIGKILL, not at its late end', () => {
    const [a] = hold('a', 'L', 10, null);
    const records: HistoryRecord[] = [
      META,
      a,
      { t: 'loss', id: (a as GrantRecord).id, at: 20, signal: 'LockLost' },
      { t: 'end', id: (a as GrantRecord).id, at: 90, how: 'lost' },
      ...hold('b', 'L', 30, 40),
      ...hold('c', 'L', 50, null),
      { t: 'killed', pid, members: ['c'], at: 60 },
      ...hold('d', 'L', 70, 80),
    ];
    expect(checkOverlaps(records)).toEqual([]);
    // Without the loss signal a's belief reaches 90 and covers b's and d's holds.
    expect(checkOverlaps(records.filter((r) => r.t !== 'loss')).length).toBe(3);
  });

  it('finds an exclusive hold beside a shared one, and two leaders at once', () => {
    const shared = [META, ...hold('a', 'L', 10, 30, { mode: 'shared' }), ...hold('b', 'L', 20, 40)];
    expect(checkOverlaps(shared).map((v) => v.rule)).toEqual(['shared-overlap']);
    const leaders = [
      META,
      ...hold('a', 'leader:g', 10, 30, { mode: 'leader', token: null }),
      ...hold('b', 'leader:g', 20, 40, { mode: 'leader', token: null }),
    ];
    expect(checkOverlaps(leaders).map((v) => v.message)).toEqual([expect.stringMatching(/^two leaders of g at/)]);
  });

  it('finds a fencing token that went back after an earlier grant, and allows concurrent shared grants in any order', () => {
    const back = [META, ...hold('a', 'L', 10, 20, { token: '7' }), ...hold('b', 'L', 30, 40, { token: '1' })];
    expect(checkTokens(back).map((v) => v.message)).toEqual([
      'fencing token of lock L went back: a got 7 at 0.010 s, then b asked at 0.029 s and got 1',
    ]);
    // b asked before a's grant arrived: either order is right.
    const concurrent = [
      META,
      ...hold('a', 'L', 10, 50, { mode: 'shared', token: '9', requestedAt: 5 }),
      ...hold('b', 'L', 12, 50, { mode: 'shared', token: '8', requestedAt: 6 }),
    ];
    expect(checkTokens(concurrent)).toEqual([]);
  });

  it('finds an operation past its timeout and slack, and one that never returned', () => {
    const op = { t: 'op', op: 'acquire', member: 'a', pid: 1, timeoutMs: 1_000, outcome: 'false', lock: 'L' } as const;
    const records: HistoryRecord[] = [
      META,
      { ...op, start: 0, end: 1_099 },
      { ...op, start: 0, end: 1_101 },
      { ...op, start: 0, end: null },
    ];
    expect(checkOperations(records).map((v) => v.message)).toEqual([
      expect.stringMatching(/^acquire of lock L by a \(pid 1\) took 1101 ms .*timeout 1000 ms \+ 100 ms slack/),
      'acquire of lock L by a (pid 1) started at 0.000 s and never returned',
    ]);
  });

  it('finds a member missing one beat after the faults stop, but not a member that left or was killed', () => {
    const records: HistoryRecord[] = [
      META,
      { t: 'joined', member: 'a', group: 'g', at: 1 },
      { t: 'joined', member: 'b', group: 'g', at: 1 },
      { t: 'joined', member: 'c', group: 'g', at: 1 },
      { t: 'left', member: 'b', group: 'g', at: 2 },
      { t: 'killed', pid: 9, members: ['c'], at: 3 },
      { t: 'fault', name: 'SHUTDOWN NOSAVE', start: 100, end: 200 },
      // During the faults and within the beat that follows, a missing member is allowed.
      { t: 'members', group: 'g', at: 1_250, members: [] },
      { t: 'members', group: 'g', at: 1_350, members: ['a'] },
    ];
    expect(checkMembers(records)).toEqual([]);
    const late = [...records, { t: 'members', group: 'g', at: 1_400, members: [] } as HistoryRecord];
    expect(checkMembers(late).map((v) => v.message)).toEqual([
      expect.stringMatching(/^group g at 1\.400 s .* lacks a;/),
    ]);
    // No read after the calm point proves nothing: that fails too.
    expect(checkMembers(records.slice(0, -1)).map((v) => v.rule)).toEqual(['member-missing']);
  });

  it('finds a lock still believed at the end, and one a fresh member could not take', () => {
    const records: HistoryRecord[] = [
      META,
      ...hold('a', 'L', 10, null),
      { t: 'final', lock: 'M', free: false, at: 99 },
    ];
    expect(checkFreeAtEnd(records).map((v) => v.message)).toEqual([
      expect.stringMatching(/^still believed at the end: L by a /),
      'lock M could not be taken at 0.099 s, after every worker had stopped',
    ]);
  });

  it('runs from the command line: npm run faults:check -- <file> prints the verdict and exits 1 on a violation', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nc-history-'));
    try {
      const bad = join(dir, 'bad.jsonl');
      const good = join(dir, 'good.jsonl');
      const lines = (records: HistoryRecord[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
      writeFileSync(bad, lines([META, ...hold('a', 'L', 10, 30), ...hold('b', 'L', 20, 40)]));
      writeFileSync(good, lines([META, ...hold('a', 'L', 10, 30)]));
      expect(parseHistory(lines([META])).length).toBe(1);
      const run = (file: string) =>
        spawnSync('npm', ['run', '--silent', 'faults:check', '--', file], { encoding: 'utf8' });
      const failed = run(bad);
      expect(failed.status, failed.stderr).toBe(1);
      expect(failed.stdout).toMatch(/VIOLATED \(1 exclusive-overlap\)[\s\S]*two holders of lock L at 0\.020 s: a/);
      const passed = run(good);
      expect(passed.status, passed.stderr).toBe(0);
      expect(passed.stdout).toMatch(/OK: no violation/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
