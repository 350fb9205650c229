import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { createFsAppendLog, createFsStorage } from "../../adapters/storage/fs.ts";
import { SeededRandom } from "../../src/engine/random.ts";
import { createEventJournal } from "../../src/storage/event-journal.ts";
import { eventFor } from "./fixtures/crash-events.ts";
import { bundleFixture, killHard } from "./spawn.ts";

const KILLS = 50;
const root = await mkdtemp(join(tmpdir(), "car-crash-"));
after(() => rm(root, { recursive: true, force: true }));
const dir = join(root, "data");
// Bundled once, so 50 starts of the writer take seconds rather than tsx's half-second each.
const startWriter = await bundleFixture("crash-writer.ts", join(root, "bin"));

/** Spawns the writer, kills it with SIGKILL at a random moment, returns the highest acknowledged seq. */
async function runAndKill(rng: SeededRandom): Promise<{ acked: number; early: boolean }> {
  const child = startWriter([dir]);
  let acked = -1;
  let buffered = "";
  let stderr = "";
  const early = rng.next() < 0.25;
  // Either a random delay after it starts opening (lands during recovery, lock takeover, the first
  // appends) or a random number of acknowledged commits.
  const delayMs = Math.floor(rng.next() * 25);
  const wantAcks = 1 + Math.floor(rng.next() * 15);
  const extraMs = rng.next() < 0.5 ? 0 : Math.floor(rng.next() * 4);
  let seen = 0;
  child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
  await new Promise<void>((resolve, reject) => {
    let killing = false;
    const kill = () => {
      if (killing) return;
      killing = true;
      killHard(child).then(resolve, reject);
    };
    child.stdout?.on("data", (b: Buffer) => {
      buffered += b.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === "opening" && early) setTimeout(kill, delayMs);
        const m = /^ack (\d+)$/.exec(line);
        if (m) {
          acked = Math.max(acked, Number(m[1]));
          if (!early && ++seen === wantAcks) setTimeout(kill, extraMs);
        }
      }
    });
    child.once("exit", (code, signal) => {
      if (!killing) reject(new Error(`writer exited by itself (code ${code}, signal ${signal}): ${stderr}`));
    });
  });
  return { acked, early };
}

test(`SIGKILL at random moments, ${KILLS} times: reopening yields a prefix holding everything acknowledged`, async (t) => {
  const seed = Number(process.env.CAR_CRASH_SEED ?? Date.now() % 2 ** 31);
  t.diagnostic(`seed ${seed} (set CAR_CRASH_SEED to replay)`);
  const rng = new SeededRandom(seed);
  let ackedEver = -1;
  let tornTails = 0;
  let batchReplays = 0;
  let earlyKills = 0;
  for (let round = 0; round < KILLS; round++) {
    const { acked, early } = await runAndKill(rng);
    if (early) earlyKills++;
    ackedEver = Math.max(ackedEver, acked);
    const where = `round ${round}, seed ${seed}`;

    // The journal: exactly events 0..k-1, with k covering every acknowledged one; nothing corrupted.
    const log = await createFsAppendLog({ path: join(dir, "events.log"), onTornTail: () => tornTails++ });
    let k = 0;
    for await (const { event } of createEventJournal(log).read()) {
      assert.deepEqual(event, eventFor(k), `event ${k} is intact and in order (${where})`);
      k++;
    }
    await log.close();
    assert.ok(k >= ackedEver + 1, `every acknowledged event survived: have ${k}, acknowledged up to ${ackedEver} (${where})`);

    // The store: `last` and its mirror come from one batch, never half of one.
    if (await stat(join(dir, "kv", "BATCH")).then(() => true, () => false)) batchReplays++;
    const kv = await createFsStorage({ root: join(dir, "kv") });
    const last = await kv.get("last");
    if (ackedEver >= 0) {
      assert.equal(typeof last, "number", where);
      const l = last as number;
      assert.ok(l >= ackedEver && l < k, `last=${l} is acknowledged (${ackedEver}) and journalled (<${k}) (${where})`);
      assert.deepEqual(await kv.get(`mirror/${l % 8}`), { seq: l }, `batch atomicity (${where})`);
      for (const key of await kv.list("mirror/")) {
        const m = (await kv.get(key)) as { seq: number };
        assert.ok(m.seq <= l && `mirror/${m.seq % 8}` === key, `${key}=${JSON.stringify(m)} (${where})`);
      }
    }
    await kv.close();
  }
  t.diagnostic(`${ackedEver + 1} events acknowledged over ${KILLS} kills (${earlyKills} while opening); ${batchReplays} interrupted batches finished on reopen; ${tornTails} torn tails cut off`);
  assert.ok(ackedEver > KILLS, "the writer made progress between kills");
});
