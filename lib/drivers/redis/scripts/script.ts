import type { ChainableCommander, Redis } from 'ioredis';

type Arg = string | number | Buffer;

// The scripts, one per file: group-*.ts (membership), leader-*.ts (leadership), lock-*.ts (locks).
//
// Groups and members in tooz's layout: the set `<ns>_groups`, one hash per
// group (`__created__` → "1", member → msgpack capabilities), one beat key
// per member. Join and update times live in our own hash beside it (tooz
// ignores it). Every change is published on the group's events channel.
// Errors come back as negative numbers: -1 no group, -2 member missing,
// -3 group not empty (or, for a join, already a member).
// A group's leadership is tooz's lock `leader_of_<group>`, so a Python tooz
// candidate and a Node one exclude each other. Our token is
// `<session>:<member>`, which lets `getLeader` name a Node leader (tooz's
// tokens carry no member id).
// The lock's operations, one atomic script each, all on the keys of
// `RedisKeys.lockFamily()`. ARGV[1] is the handle's holder id (its token in
// the tooz key), ARGV[2] '1' for a shared hold, ARGV[3] the lease in ms.

/**
 * One Lua script, defined on each client as a command (`EVALSHA`, reloaded by
 * ioredis on `NOSCRIPT`), so it also works inside a pipeline, with the one
 * decoder of its replies: nothing outside the script's file reads its codes.
 */
export class RedisScript<Reply = unknown> {
  constructor(
    /** The command name it is defined under. */
    readonly name: string,
    readonly lua: string,
    /** The reply as a named type (for a reply read from a pipeline's results too). */
    readonly decode: (reply: unknown) => Reply = (reply) => reply as Reply,
  ) {}

  /** Run it and decode the reply. */
  async call(client: Redis, keys: readonly string[], args: readonly Arg[]): Promise<Reply> {
    return this.decode(await this.run(client, keys, args));
  }

  define(client: Redis): void {
    client.defineCommand(this.name, { lua: this.lua });
  }

  /** Run it; replies come as strings. */
  run(client: Redis | ChainableCommander, keys: readonly string[], args: readonly Arg[]): Promise<unknown> {
    return (client as unknown as Record<string, (...a: Arg[]) => Promise<unknown>>)[this.name]!(
      keys.length,
      ...keys,
      ...args,
    );
  }

  /** `runBuffer`, decoded. */
  async callBuffer(client: Redis, keys: readonly string[], args: readonly Arg[]): Promise<Reply> {
    return this.decode(await this.runBuffer(client, keys, args));
  }

  /** Run it; bulk replies come as Buffers (for capabilities, which are msgpack). */
  runBuffer(client: Redis, keys: readonly string[], args: readonly Arg[]): Promise<unknown> {
    return (client as unknown as Record<string, (...a: Arg[]) => Promise<unknown>>)[`${this.name}Buffer`]!(
      keys.length,
      ...keys,
      ...args,
    );
  }
}

/** Server time in ms, the clock every expiry here is judged by (never the client's). */
export const NOW_LUA = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local NOW = now_ms()
`;
