// What a user's own JavaScript client does against the Agent Server, with their key.
// PROBE=tour (the default): search their threads, read one thread's state, stream a run.
// PROBE=thread: search, read THREAD_ID (the thread itself) and try to start a run on it.
// HEADERS, a JSON object, adds the client's default headers (e.g. the team header).
// Prints one JSON line.
import { randomUUID } from "node:crypto";
import { Client } from "@langchain/langgraph-sdk";

const client = new Client({
  apiUrl: process.env.AGENT_URL,
  apiKey: process.env.USER_KEY,
  defaultHeaders: JSON.parse(process.env.HEADERS || "{}"),
});
const threadId = process.env.THREAD_ID;

// A call's HTTP status (200 when it went through), its result, and a refusal's detail.
async function attempt(call) {
  try {
    return { status: 200, value: await call() };
  } catch (error) {
    let detail = error.text ?? String(error);
    try {
      detail = JSON.parse(detail).detail ?? detail;
    } catch {
      // Not JSON: the body as it came.
    }
    return { status: error.status ?? String(error), detail };
  }
}

async function tour() {
  const found = await client.threads.search({ limit: 100 });
  const readState = (await attempt(() => client.threads.getState(threadId))).status;
  let completed = null;
  if (readState === 200) {
    completed = (await client.threads.getState(threadId)).values.completed;
  }

  const newThread = randomUUID();
  const step = { id: "s1", type: "task", title: "Hello", prompt: "say hello from js" };
  const events = [];
  for await (const part of client.runs.stream(newThread, "workflow", {
    input: { plan: [step], completed: [], results: {}, phase: "pending", messages: [] },
    streamMode: ["custom", "values"],
    ifNotExists: "create",
  })) {
    events.push(part.event === "custom" ? part.data.event : part.event);
  }
  const streamed = await client.threads.get(newThread);

  return {
    search: found.map((t) => t.thread_id),
    readState,
    completed,
    events,
    streamed: { id: newThread, owner: streamed.metadata.owner, phase: streamed.values.phase },
  };
}

async function thread() {
  const found = await attempt(() => client.threads.search({ limit: 100 }));
  const read = await attempt(() => client.threads.get(threadId));
  const run = await attempt(() =>
    client.runs.create(threadId, "workflow", { input: { phase: "running" } }),
  );
  return {
    search: found.status === 200 ? found.value.map((t) => t.thread_id) : found.status,
    read: { status: read.status, detail: read.detail ?? null },
    metadata: read.status === 200 ? read.value.metadata : null,
    run: { status: run.status, detail: run.detail ?? null },
  };
}

const probes = { tour, thread };
const probe = probes[process.env.PROBE || "tour"];
if (probe === undefined) throw new Error(`no probe ${process.env.PROBE}`);
console.log(JSON.stringify(await probe()));
