// oidc-provider's storage in Redis, shared by every cluster worker, as a deployment of it with
// more than one process needs (its default store is in each process's memory, so a code made
// by one worker would be unknown to the next). Written after oidc-provider's example Redis
// adapter (example/adapters/redis.js): one key per model and id, single-use tokens as hashes
// with a `consumed` field, a list per grant of its tokens, and indexes by uid and user code.
//
//   redisAdapter(url, prefix) -> the adapter class for `adapter:` in the configuration
import Redis from 'ioredis';

const grantable = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest',
]);
const consumable = new Set([
  'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest',
]);

export function redisAdapter(url, prefix) {
  const client = new Redis(url, { keyPrefix: prefix });
  const grantKey = (id) => `grant:${id}`;
  const userCodeKey = (code) => `userCode:${code}`;
  const uidKey = (uid) => `uid:${uid}`;

  return class RedisAdapter {
    constructor(name) {
      this.name = name;
    }

    key(id) {
      return `${this.name}:${id}`;
    }

    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      const multi = client.multi();
      if (consumable.has(this.name)) multi.hset(key, { payload: JSON.stringify(payload) });
      else multi.set(key, JSON.stringify(payload));
      if (expiresIn) multi.expire(key, expiresIn);
      if (grantable.has(this.name) && payload.grantId) {
        const list = grantKey(payload.grantId);
        // keyPrefix is added to commands' keys, not to list values: store the full key.
        multi.rpush(list, `${prefix}${key}`);
        const ttl = await client.ttl(list);
        if (expiresIn > ttl) multi.expire(list, expiresIn);
      }
      if (payload.userCode) {
        multi.set(userCodeKey(payload.userCode), id);
        multi.expire(userCodeKey(payload.userCode), expiresIn);
      }
      if (payload.uid) {
        multi.set(uidKey(payload.uid), id);
        multi.expire(uidKey(payload.uid), expiresIn);
      }
      await multi.exec();
    }

    async find(id) {
      const data = consumable.has(this.name)
        ? await client.hgetall(this.key(id))
        : await client.get(this.key(id));
      if (!data || (typeof data === 'object' && !Object.keys(data).length)) return undefined;
      if (typeof data === 'string') return JSON.parse(data);
      const { payload, ...rest } = data;
      return { ...rest, ...JSON.parse(payload) };
    }

    async findByUid(uid) {
      const id = await client.get(uidKey(uid));
      return id ? this.find(id) : undefined;
    }

    async findByUserCode(userCode) {
      const id = await client.get(userCodeKey(userCode));
      return id ? this.find(id) : undefined;
    }

    async destroy(id) {
      await client.del(this.key(id));
    }

    async revokeByGrantId(grantId) {
      const tokens = await client.lrange(grantKey(grantId), 0, -1);
      const multi = client.multi();
      // The list holds full keys: drop the prefix ioredis would add again.
      for (const token of tokens) multi.del(token.slice(prefix.length));
      multi.del(grantKey(grantId));
      await multi.exec();
    }

    async consume(id) {
      await client.hset(this.key(id), 'consumed', Math.floor(Date.now() / 1000));
    }
  };
}
