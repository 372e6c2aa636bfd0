import type { SqlDefinition } from './statement.js';

/**
 * The tables (docs/postgresql.md, "Schema and tables"). `sessions` says who
 * is connected (a row counts while its session's advisory key is held);
 * `advisory` records each (key, mode) a session took once, as advisory
 * locks are re-entrant per session and one unlock must let each go.
 */
export const tablesDefinition: SqlDefinition = {
  create: (n) => `
CREATE SCHEMA IF NOT EXISTS ${n.quotedSchema};
CREATE SEQUENCE IF NOT EXISTS ${n.t('fence')};
CREATE TABLE IF NOT EXISTS ${n.t('sessions')} (
  session_key bigint PRIMARY KEY,
  member_id text NOT NULL,
  pid integer NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  beat_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS ${n.t('groups')} (
  group_id text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ${n.t('members')} (
  group_id text NOT NULL REFERENCES ${n.t('groups')} ON DELETE CASCADE,
  member_id text NOT NULL,
  session_key bigint NOT NULL,
  capabilities bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, member_id)
);
CREATE INDEX IF NOT EXISTS "${n.prefix}members_member" ON ${n.t('members')} (member_id);
CREATE TABLE IF NOT EXISTS ${n.t('leaders')} (
  group_id text PRIMARY KEY REFERENCES ${n.t('groups')} ON DELETE CASCADE,
  member_id text NOT NULL,
  session_key bigint NOT NULL,
  leader_key bigint NOT NULL,
  elected_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ${n.t('holds')} (
  session_key bigint NOT NULL,
  holder text NOT NULL,
  lock_key bigint NOT NULL,
  lock_name text NOT NULL,
  shared boolean NOT NULL,
  fence bigint NOT NULL,
  acquired_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (session_key, holder)
);
CREATE INDEX IF NOT EXISTS "${n.prefix}holds_key" ON ${n.t('holds')} (lock_key);
CREATE TABLE IF NOT EXISTS ${n.t('waiters')} (
  id bigserial PRIMARY KEY,
  session_key bigint NOT NULL,
  holder text NOT NULL,
  lock_key bigint NOT NULL,
  lock_name text NOT NULL,
  shared boolean NOT NULL,
  queued_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (session_key, holder)
);
CREATE INDEX IF NOT EXISTS "${n.prefix}waiters_key" ON ${n.t('waiters')} (lock_key, id);
CREATE TABLE IF NOT EXISTS ${n.t('advisory')} (
  session_key bigint NOT NULL,
  lock_key bigint NOT NULL,
  shared boolean NOT NULL,
  PRIMARY KEY (session_key, lock_key, shared)
);
-- Sessions whose advisory key is held now: a session that died is gone from here at once.
CREATE OR REPLACE VIEW ${n.t('live_sessions')} AS
  SELECT s.* FROM ${n.t('sessions')} s
  WHERE s.session_key IN (
    SELECT (l.classid::int8 << 32) | l.objid::int8 FROM pg_catalog.pg_locks l
    WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted AND l.mode = 'ExclusiveLock'
      AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = current_database()));
-- Member ids with a live session that beat within its membership timeout (the server's clock).
CREATE OR REPLACE VIEW ${n.t('live_members')} AS
  SELECT DISTINCT member_id FROM ${n.t('live_sessions')} WHERE expires_at > now();
`,
};
