/**
 * The repair run after a statement that touched advisory locks failed
 * (docs/postgresql.md#when-a-statement-fails-half-way), on each kind of
 * mismatch it must fix. A plain connection plays the session: it holds its
 * own session key, names it in the setting the driver's connection sets,
 * and its rows are written with the commit-time trigger standing aside, so
 * the locks and the rows disagree exactly as the test says.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { getCoordinator } from '../../lib/index.js';
import { POSTGRES, serverInUse } from '../support/servers.js';
import { adminClient, isolatedUrl } from './support.js';

const key = () => String(randomBytes(8).readBigUInt64BE(0) >> 2n);

describe.skipIf(!(await serverInUse(POSTGRES)))('postgresql:// repair after a failed statement', () => {
  it('lets go of a leaked lock, takes back a missing one, reports one held elsewhere lost, drops what was ended', async ({
    onTestFinished,
  }) => {
    const url = isolatedUrl();
    const schema = new URL(url).searchParams.get('schema')!;
    const creator = getCoordinator(url, 'creator'); // creates the schema
    await creator.start();
    onTestFinished(() => creator.stop());
    const t = (name: string) => `"${schema}".coordination_${name}`;
    const session = await adminClient(onTestFinished);
    const other = await adminClient(onTestFinished);
    const s = key();
    await session.query(
      `SELECT pg_advisory_lock($1::bigint), set_config('nestjs_coordination.session', $1::text, false)`,
      [s],
    );
    const levels = async (client: pg.Client, k: string) => {
      // pg_locks shows one row per lock whatever its level: count levels by letting go one at a time.
      let n = 0;
      while ((await client.query('SELECT pg_advisory_unlock($1::bigint) AS ok', [k])).rows[0].ok) n++;
      for (let i = 0; i < n; i++) await client.query('SELECT pg_advisory_lock($1::bigint)', [k]);
      return n;
    };
    const rows = async (holder: string, k: string) => {
      await session.query('BEGIN');
      await session.query(`SET LOCAL nestjs_coordination.direct = 'on'`);
      await session.query(`INSERT INTO ${t('holds')} VALUES ($1, $2, $3, 'l', false, 1)`, [s, holder, k]);
      await session.query(`INSERT INTO ${t('advisory')} VALUES ($1, $2, false)`, [s, k]);
      await session.query('COMMIT');
    };
    const [leaked, missing, elsewhere, ended] = [key(), key(), key(), key()];
    // A lock taken twice with no row; rows without their lock; rows whose lock another session holds; and
    // a hold whose belief the driver ended (its row and lock must go).
    await session.query('SELECT pg_advisory_lock($1::bigint), pg_advisory_lock($1::bigint)', [leaked]);
    await rows('missing', missing);
    await rows('elsewhere', elsewhere);
    await other.query('SELECT pg_advisory_lock($1::bigint)', [elsewhere]);
    await rows('ended', ended);
    await session.query('SELECT pg_advisory_lock($1::bigint)', [ended]);

    const { rows: answer } = await session.query(
      `SELECT lost_holds, lost_leaderships FROM "${schema}".coordination_repair($1, $2::bigint[], $3::text[], '{}')`,
      [s, [leaked, missing, elsewhere, ended], ['ended']],
    );
    expect(answer).toEqual([{ lost_holds: ['elsewhere'], lost_leaderships: [] }]);
    expect(await levels(session, leaked)).toBe(0);
    expect(await levels(session, missing)).toBe(1);
    expect(await levels(session, elsewhere)).toBe(0);
    expect(await levels(session, ended)).toBe(0);
    const left = await session.query(`SELECT holder FROM ${t('holds')} WHERE session_key = $1 ORDER BY holder`, [s]);
    expect(left.rows).toEqual([{ holder: 'missing' }]);
    const advisory = await session.query(`SELECT lock_key::text AS k FROM ${t('advisory')} WHERE session_key = $1`, [
      s,
    ]);
    expect(advisory.rows).toEqual([{ k: missing }]);
  });
});
