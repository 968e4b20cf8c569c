#!/usr/bin/env node
// Checks a dengine-server cluster through the npm `etcd3` client, the way a Node.js service
// would use it: put/get across members, a prefix watch, a lease kept alive past its TTL, a lock
// contended by two clients, and an election. Every check compares what the cluster answered
// with what etcd's semantics require; on any mismatch it says what differed and exits 1.
//
//   node check.js 127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379
//   ETCDCTL_ENDPOINTS=127.0.0.1:2379,... node check.js
//
// Each endpoint gets its own client, so a key written through one member is read, watched or
// contended through another. Keys live under node-check/<run id>/, so reruns do not collide.
'use strict';

const { Etcd3, EtcdLockFailedError } = require('etcd3');

const STEP_TIMEOUT_MS = 60000;  // a step that hangs fails instead of waiting for CTest's limit
const LEASE_TTL_S = 3;
const LOCK_ROUNDS_PER_CONTENDER = 5;

const endpoints = (process.argv[2] || process.env.ETCDCTL_ENDPOINTS || '')
  .split(',')
  .map(e => e.trim())
  .filter(Boolean);
if (endpoints.length === 0) {
  console.error('usage: node check.js HOST:PORT[,HOST:PORT...]  (or set ETCDCTL_ENDPOINTS)');
  process.exit(2);
}
const urls = endpoints.map(e => (e.includes('://') ? e : `http://${e}`));
const runId = `${Date.now().toString(36)}-${process.pid}`;
const prefix = `node-check/${runId}/`;

const clients = urls.map(url => new Etcd3({ hosts: url, dialTimeout: 5000 }));
const via = i => clients[i % clients.length];  // the i-th member's client

// --- checking helpers --------------------------------------------------------------------------

class Mismatch extends Error {}

function expect(condition, message) {
  if (!condition) throw new Mismatch(message);
}

function expectEqual(got, want, what) {
  const show = v => (v === undefined ? 'undefined' : JSON.stringify(v));
  expect(got === want, `${what}: got ${show(got)}, want ${show(want)}`);
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Mismatch(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Polls `probe` until it returns true, failing with `what` after `ms`.
async function waitUntil(probe, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Mismatch(`${what} (waited ${ms} ms)`);
    await sleep(50);
  }
}

// --- the checks --------------------------------------------------------------------------------

// Every endpoint is the client URL of a started voting member.
async function checkMembers() {
  const { members } = await via(0).cluster.memberList({});
  const byUrl = new Map();
  for (const m of members) for (const u of m.clientURLs) byUrl.set(u, m);
  for (const url of urls) {
    const member = byUrl.get(url);
    expect(member, `${url} is no member's client URL (members: ${JSON.stringify(members)})`);
    expect(!member.isLearner, `${url} (${member.name}) is a learner`);
  }
  return `${members.length} members: ${members.map(m => m.name).join(', ')}`;
}

// A write through one member is read back through the others; an overwrite bumps the version
// and the revision; a delete removes it everywhere.
async function checkPutGet() {
  const key = `${prefix}greeting`;
  const first = await via(0).put(key).value('hello');
  for (const i of [1, 2]) {
    expectEqual(await via(i).get(key).string(), 'hello', `get ${key} through ${endpoints[i % endpoints.length]}`);
  }
  const second = await via(2).put(key).value('hi');
  expect(BigInt(second.header.revision) > BigInt(first.header.revision),
    `overwrite's revision ${second.header.revision} is not after the first put's ${first.header.revision}`);
  const got = await via(0).get(key).exec();
  expectEqual(got.kvs.length, 1, `number of kvs for ${key}`);
  const kv = got.kvs[0];
  expectEqual(kv.value.toString(), 'hi', `value of ${key} after the overwrite`);
  expectEqual(String(kv.version), '2', `version of ${key}`);
  expectEqual(String(kv.mod_revision), String(second.header.revision), `mod_revision of ${key}`);
  expectEqual(String(kv.create_revision), String(first.header.revision), `create_revision of ${key}`);
  const deleted = await via(1).delete().key(key);
  expectEqual(String(deleted.deleted), '1', `keys deleted by delete ${key}`);
  expectEqual(await via(2).get(key).string(), null, `get ${key} after its delete`);
  return `put through member 1, read through 2 and 3, version 2 at revision ${second.header.revision}, deleted`;
}

// A prefix watch on one member sees, in order and with their revisions, exactly the puts and
// deletes made under the prefix through another member after it started, and nothing else.
async function checkWatch() {
  const watched = `${prefix}watch/`;
  await via(2).put(`${watched}before`).value('not seen');  // before the watch: not an event
  const watcher = await via(1).watch().prefix(watched).create();
  const events = [];
  watcher.on('put', kv => events.push(['put', kv.key.toString(), kv.value.toString(), String(kv.mod_revision)]));
  watcher.on('delete', kv => events.push(['delete', kv.key.toString(), '', String(kv.mod_revision)]));
  let watchError;
  watcher.on('error', err => { watchError = err; });
  try {
    const want = [];
    const put = async (key, value) => {
      const res = await via(2).put(watched + key).value(value);
      want.push(['put', watched + key, value, String(res.header.revision)]);
    };
    await put('a', '1');
    await via(0).put(`${prefix}outside`).value('not seen');  // not under the prefix
    await put('b', '2');
    await put('a', '3');
    const del = await via(2).delete().key(`${watched}b`);
    want.push(['delete', `${watched}b`, '', String(del.header.revision)]);

    await waitUntil(() => watchError || events.length >= want.length, 10000,
      `the watch received ${events.length} of ${want.length} events: ${JSON.stringify(events)}`);
    expect(!watchError, `the watch failed: ${watchError}`);
    await sleep(300);  // anything extra would arrive now
    expectEqual(JSON.stringify(events), JSON.stringify(want), 'watch events (type, key, value, revision)');
    return `${events.length} events in order, revisions ${want[0][3]}..${want[want.length - 1][3]}`;
  } finally {
    await watcher.cancel();
  }
}

// A lease kept alive outlives its TTL and holds its key; a twin lease with no keep-alive
// expires and takes its key; revoking the kept one removes its key at once.
async function checkLease() {
  const keptKey = `${prefix}lease/kept`;
  const idleKey = `${prefix}lease/idle`;
  const kept = via(0).lease(LEASE_TTL_S);
  const idle = via(1).lease(LEASE_TTL_S, { autoKeepAlive: false });
  let keepAlives = 0;
  let lost;
  kept.on('keepaliveSucceeded', () => { keepAlives += 1; });
  kept.on('lost', err => { lost = err; });
  idle.on('lost', () => {});
  try {
    await kept.put(keptKey).value('alive');
    await idle.put(idleKey).value('idle');
    const keptId = await kept.grant();
    const granted = await via(2).leaseClient.leaseTimeToLive({ ID: keptId });
    expectEqual(String(granted.grantedTTL), String(LEASE_TTL_S), `granted TTL of lease ${keptId}`);

    const heldMs = (2 * LEASE_TTL_S + 1) * 1000;
    const started = Date.now();
    await sleep(heldMs);
    expect(!lost, `the kept lease was lost: ${lost}`);
    expectEqual(await via(2).get(keptKey).string(), 'alive',
      `${keptKey} after ${heldMs} ms of keep-alives on a ${LEASE_TTL_S} s lease`);
    expect(keepAlives >= 2, `only ${keepAlives} keep-alive(s) answered in ${heldMs} ms`);
    const left = await via(1).leaseClient.leaseTimeToLive({ ID: keptId });
    expect(Number(left.TTL) > 0 && Number(left.TTL) <= LEASE_TTL_S,
      `time to live of the kept lease is ${left.TTL} s, want 1..${LEASE_TTL_S}`);
    // The idle lease expired after its TTL (the leader expires it through the log; allow a
    // few seconds for that).
    await waitUntil(async () => (await via(2).get(idleKey).string()) === null, 5000,
      `${idleKey} is still there ${Date.now() - started} ms after its ${LEASE_TTL_S} s lease was granted with no keep-alive`);

    await kept.revoke();
    expectEqual(await via(1).get(keptKey).string(), null, `${keptKey} after revoking its lease`);
    const revoked = await via(2).leaseClient.leaseTimeToLive({ ID: keptId });
    expectEqual(String(revoked.TTL), '-1', `time to live of the revoked lease ${keptId}`);
    return `${keepAlives} keep-alives held a ${LEASE_TTL_S} s lease ${heldMs / 1000} s; ` +
      'the idle twin expired; revoke removed the key';
  } finally {
    kept.release();
    idle.release();
  }
}

// Two clients on different members contend for one lock (etcd3's Lock: a try-lock on a key
// created under a lease). While one holds it the other's acquire fails; under it each does a
// read-modify-write of a counter that would lose increments without mutual exclusion.
async function checkLock() {
  const lockKey = `${prefix}lock`;
  // The plain case first: a held lock refuses the second client until released.
  const first = await via(0).lock(lockKey).ttl(10).acquire();
  try {
    await via(1).lock(lockKey).ttl(10).acquire();
    throw new Mismatch(`a second client acquired ${lockKey} while the first held it`);
  } catch (err) {
    if (!(err instanceof EtcdLockFailedError)) throw err;
  }
  await first.release();
  const second = await via(1).lock(lockKey).ttl(10).acquire();
  await second.release();

  // Then contention: the holder is tracked in this process, so an overlap is seen directly.
  const counterKey = `${prefix}lock-counter`;
  await via(2).put(counterKey).value('0');
  const order = [];
  let holder = null;
  let refusals = 0;
  const contender = async (name, client) => {
    for (let round = 0; round < LOCK_ROUNDS_PER_CONTENDER; round++) {
      let lock;
      for (;;) {
        try {
          lock = await client.lock(lockKey).ttl(10).acquire();
          break;
        } catch (err) {
          if (!(err instanceof EtcdLockFailedError)) throw err;
          refusals += 1;
          await sleep(5 + Math.random() * 20);
        }
      }
      expect(holder === null, `${name} acquired ${lockKey} while ${holder} held it (order so far: ${order.join(' ')})`);
      holder = name;
      order.push(name);
      const value = Number(await client.get(counterKey).string());
      await sleep(20);  // widen the window a missing exclusion would show in
      await client.put(counterKey).value(String(value + 1));
      holder = null;
      await lock.release();
      await sleep(Math.random() * 10);
    }
  };
  await Promise.all([contender('A', via(0)), contender('B', via(1))]);
  const total = 2 * LOCK_ROUNDS_PER_CONTENDER;
  expectEqual(await via(2).get(counterKey).string(), String(total),
    `counter after ${total} locked increments (order: ${order.join(' ')})`);
  expect(refusals > 0, 'the two contenders never collided: mutual exclusion was not exercised');
  return `order ${order.join(' ')}; ${refusals} refused acquires; counter ${total}`;
}

// Two candidates campaign on different members; a third client observes. The first leads, the
// second waits; the leader proclaims a new value; it resigns and the second leads; it resigns
// and nobody leads.
async function checkElection() {
  const name = `node-check-${runId}`;
  const observed = [];
  const observer = await via(2).election(name, 5).observe();
  observer.on('change', leader => observed.push(leader));
  let failure;
  observer.on('error', err => { failure = failure || err; });
  const campaign = (i, value) => {
    const c = via(i).election(name, 5).campaign(value);
    c.elected = false;
    c.on('elected', () => { c.elected = true; });
    c.on('error', err => { failure = failure || err; });
    return c;
  };
  // Waits for `probe`, failing at once if a campaign or the observer reported an error.
  const waitElection = async (probe, what) => {
    await waitUntil(async () => failure || (await probe()), 10000, what);
    expect(!failure, `${what}: the election failed: ${failure}`);
  };
  const observedLeader = (want, what) =>
    waitElection(() => observer.leader() === want,
      `${what}: the observer sees leader ${JSON.stringify(observer.leader())}, want ${JSON.stringify(want)}`);
  try {
    const alpha = campaign(0, 'alpha');
    await waitElection(() => alpha.elected, 'alpha was never elected');
    await observedLeader('alpha', 'after alpha was elected');

    const beta = campaign(1, 'beta');
    await sleep(1000);
    expect(!failure, `the election failed: ${failure}`);
    expect(!beta.elected, 'beta was elected while alpha led');
    expectEqual(await via(1).election(name).leader(), 'alpha', 'leader while beta waits');

    await alpha.proclaim('alpha-2');
    await observedLeader('alpha-2', 'after alpha proclaimed alpha-2');
    expect(!beta.elected, 'beta was elected after alpha proclaimed');

    await alpha.resign();
    await waitElection(() => beta.elected, 'beta was not elected after alpha resigned');
    await observedLeader('beta', 'after alpha resigned');

    await beta.resign();
    await waitElection(async () => (await via(0).election(name).leader()) === undefined,
      'a leader remains after both candidates resigned');
    expectEqual(JSON.stringify(observed.filter(v => v !== undefined)), JSON.stringify(['alpha', 'alpha-2', 'beta']),
      'leaders the observer saw, in order');
    return `observed ${observed.map(v => v === undefined ? '(none)' : v).join(' -> ')}`;
  } finally {
    await observer.cancel();
  }
}

// --- the run -----------------------------------------------------------------------------------

const checks = [
  ['members', checkMembers],
  ['put/get', checkPutGet],
  ['watch', checkWatch],
  ['lease keep-alive', checkLease],
  ['lock', checkLock],
  ['election', checkElection],
];

async function main() {
  console.log(`etcd3 ${require('etcd3/package.json').version} on Node.js ${process.version}, ` +
    `endpoints ${endpoints.join(',')}, keys under ${prefix}`);
  let passed = 0;
  let failed = 0;
  for (const [name, check] of checks) {
    const started = Date.now();
    try {
      const detail = await withTimeout(check(), STEP_TIMEOUT_MS, name);
      passed += 1;
      console.log(`  ok    ${name.padEnd(17)} ${detail} (${Date.now() - started} ms)`);
    } catch (err) {
      failed += 1;
      const why = err instanceof Mismatch ? err.message : `unexpected error: ${err && err.name}: ${err && err.message}`;
      console.log(`  FAIL  ${name.padEnd(17)} ${why} (${Date.now() - started} ms)`);
    }
  }
  for (const client of clients) client.close();
  console.log(`node etcd3 check: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

process.on('unhandledRejection', err => {
  console.error(`node etcd3 check: unhandled rejection: ${err && err.stack || err}`);
  process.exit(1);
});

main().then(code => process.exit(code), err => {
  console.error(`node etcd3 check: ${err && err.stack || err}`);
  process.exit(1);
});
