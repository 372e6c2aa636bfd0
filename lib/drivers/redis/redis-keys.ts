import type { RedisLockKeyStyle } from './redis-options.js';

/**
 * Python's `repr()` of a bytes value, as tooz < 9 wrote it into lock keys
 * (`b'_tooz'_b'leader_of_g'_lock`): `b'…'`, or `b"…"` when the bytes hold a
 * `'` and no `"`; `\\`, the quote, `\t \n \r` escaped; other bytes below 0x20
 * or from 0x7f up as `\xNN`.
 */
export function pythonBytesRepr(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  const quote = bytes.includes(0x27) && !bytes.includes(0x22) ? '"' : "'";
  let body = '';
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    if (char === '\\' || char === quote) body += `\\${char}`;
    else if (char === '\t') body += '\\t';
    else if (char === '\n') body += '\\n';
    else if (char === '\r') body += '\\r';
    else if (byte < 0x20 || byte >= 0x7f) body += `\\x${byte.toString(16).padStart(2, '0')}`;
    else body += char;
  }
  return `b${quote}${body}${quote}`;
}

/**
 * Every key this driver touches. The first group is tooz's layout (docs/redis.md
 * lists it); the rest is state tooz lacks, in keys tooz never reads.
 */
export class RedisKeys {
  constructor(
    readonly namespace: string,
    private readonly style: RedisLockKeyStyle,
  ) {}

  // ---- tooz's keys ----------------------------------------------------------------

  get groups(): string {
    return `${this.namespace}_groups`;
  }

  group(groupId: string): string {
    return `${this.namespace}_group:${groupId}`;
  }

  /** The prefix of every beat key: `<ns>_beats:<member>`. */
  get beatPrefix(): string {
    return `${this.namespace}_beats:`;
  }

  beat(memberId: string): string {
    return this.beatPrefix + memberId;
  }

  /** The key of lock `name`, as tooz ≥ 9 (`current`) or tooz < 9 (`legacy`: str names, `legacy_bytes`) writes it. */
  lock(name: string): string {
    if (this.style === 'current') return `${this.namespace}_${name}_lock`;
    const ns = pythonBytesRepr(this.namespace);
    return `${ns}_${this.style === 'legacy_bytes' ? pythonBytesRepr(name) : name}_lock`;
  }

  /** The leadership of `groupId` is tooz's lock `leader_of_<group>`, whose name tooz < 9 always wrote as bytes. */
  leader(groupId: string): string {
    const name = `leader_of_${groupId}`;
    if (this.style === 'current') return `${this.namespace}_${name}_lock`;
    return `${pythonBytesRepr(this.namespace)}_${pythonBytesRepr(name)}_lock`;
  }

  // ---- ours ------------------------------------------------------------------------

  /** Join and update times of a group's members: member → `created,updated` (server ms). */
  info(groupId: string): string {
    return `${this.namespace}_info:${groupId}`;
  }

  /** One fencing counter for the whole namespace. */
  get fence(): string {
    return `${this.namespace}_fence`;
  }

  /** The keys of one lock beside its tooz key: queue, waiters, readers, grants, then the fence. */
  lockFamily(name: string): string[] {
    const key = this.lock(name);
    return [key, `${key}:queue`, `${key}:waiters`, `${key}:readers`, `${key}:grants`, this.fence];
  }

  /** Where joins, leaves and leader changes of `groupId` are published. */
  events(groupId: string): string {
    return `${this.namespace}_events:${groupId}`;
  }

  /** The prefix of every session channel. */
  get sessionPrefix(): string {
    return `${this.namespace}_session:`;
  }

  /** A coordinator's own channel: grants are pushed here, and its subscription shows its process is alive. */
  session(sessionId: string): string {
    return this.sessionPrefix + sessionId;
  }

  /** The run id of the node where session `sessionId` subscribed: only that node's NUMSUB tells it is gone. */
  sessionNode(sessionId: string): string {
    return `${this.session(sessionId)}:node`;
  }

  /** Member → the session id of its (last started) coordinator, so others can tell its process is gone. */
  get sessions(): string {
    return `${this.namespace}_sessions`;
  }
}
