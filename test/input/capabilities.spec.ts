import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type Coordinator, getCoordinator, SerializationError } from '../../lib/core-entry.js';

/** `{ a: { a: … value } }`, `levels` objects deep. */
function nested(levels: number, value: unknown = 1): unknown {
  let result = value;
  for (let i = 0; i < levels; i++) result = { a: result };
  return result;
}

describe('capabilities that could not be read back are refused at join', () => {
  const made: Coordinator[] = [];
  let url = '';
  const start = async (memberId: string) => {
    const c = getCoordinator(url, memberId);
    made.push(c);
    await c.start();
    return c;
  };
  afterEach(async () => {
    for (const c of made.splice(0)) if (c.isStarted) await c.stop().catch(() => undefined);
  });

  async function refused(caps: unknown, path: RegExp | string): Promise<void> {
    url = `memory://caps-${randomUUID()}`;
    const group = 'g';
    const good = await start('good');
    await good.joinGroupCreate(group, { role: 'ok' });
    const bad = await start('bad');

    // Thrown or rejected, either way before anything is written.
    const error = await (async () => bad.joinGroupCreate(group, caps as never))().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SerializationError);
    const serialization = error as SerializationError;
    expect(serialization.groupId).toBe(group);
    expect(serialization.memberId).toBe('bad');
    if (typeof path === 'string') expect(serialization.path).toBe(path);
    else expect(serialization.path).toMatch(path);
    expect(serialization.message).toMatch(/member bad in group g/);

    // Nothing was written: the group reads as before, for everyone.
    expect(await good.getMembersWithCapabilities(group)).toEqual(new Map([['good', { role: 'ok' }]]));
    expect(await bad.getMembersWithCapabilities(group)).toEqual(new Map([['good', { role: 'ok' }]]));
    // And an update is refused the same way, keeping the old value.
    await expect((async () => good.updateCapabilities(group, caps as never))()).rejects.toBeInstanceOf(
      SerializationError,
    );
    expect(await bad.getMemberCapabilities(group, 'good')).toEqual({ role: 'ok' });
  }

  it('an own __proto__ key, as JSON.parse makes it', async () => {
    await refused(JSON.parse('{"__proto__": 1}'), 'capabilities.__proto__');
  });

  it('an own __proto__ key deep inside', async () => {
    await refused({ list: [1, JSON.parse('{"x": {"__proto__": {}}}')] }, 'capabilities.list[1].x.__proto__');
  });

  it("nesting past the msgpack encoder's depth (100 levels)", async () => {
    await refused(nested(100), /^capabilities(\.a){100}$/);
  });

  it('nesting far past it fails the same way, not with a stack overflow', async () => {
    await refused(nested(20_000), /^capabilities(\.a){100}$/);
    await refused([[[[nested(97)]]]], /^capabilities\[0\]\[0\]\[0\]\[0\](\.a){96}$/);
  });

  it('100 levels, the deepest allowed, are written and read back', async () => {
    url = `memory://caps-${randomUUID()}`;
    const deepest = nested(99);
    const a = await start('a');
    await a.joinGroupCreate('g', deepest as never);
    const b = await start('b');
    expect(await b.getMemberCapabilities('g', 'a')).toEqual(deepest);
    // An undefined property is dropped, so it adds no depth.
    await a.updateCapabilities('g', nested(99, { gone: undefined }) as never);
    expect(await b.getMemberCapabilities('g', 'a')).toEqual(nested(99, {}));
  });
});
