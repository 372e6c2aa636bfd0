import type { ChainableCommander, Redis } from 'ioredis';

type Arg = string | number | Buffer;

/**
 * One Lua script, defined on each client as a command (`EVALSHA`, reloaded by
 * ioredis on `NOSCRIPT`), so it also works inside a pipeline.
 */
export class RedisScript {
  constructor(
    /** The command name it is defined under. */
    readonly name: string,
    readonly lua: string,
  ) {}

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
