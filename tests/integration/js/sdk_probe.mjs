// What a user's own JavaScript client does against the Agent Server, with their key:
// search their threads, read one thread's state, stream a run. Prints one JSON line.
import { randomUUID } from "node:crypto";
import { Client } from "@langchain/langgraph-sdk";

const client = new Client({ apiUrl: process.env.AGENT_URL, apiKey: process.env.USER_KEY });

async function status(call) {
  try {
    await call();
    return 200;
  } catch (error) {
    return error.status ?? String(error);
  }
}

const found = await client.threads.search({ limit: 100 });
const readState = await status(() => client.threads.getState(process.env.THREAD_ID));
let completed = null;
if (readState === 200) {
  completed = (await client.threads.getState(process.env.THREAD_ID)).values.completed;
}

const threadId = randomUUID();
const step = { id: "s1", type: "task", title: "Hello", prompt: "say hello from js" };
const events = [];
for await (const part of client.runs.stream(threadId, "workflow", {
  input: { plan: [step], completed: [], results: {}, phase: "pending", messages: [] },
  streamMode: ["custom", "values"],
  ifNotExists: "create",
})) {
  events.push(part.event === "custom" ? part.data.event : part.event);
}
const streamed = await client.threads.get(threadId);

console.log(JSON.stringify({
  search: found.map((t) => t.thread_id),
  readState,
  completed,
  events,
  streamed: { id: threadId, owner: streamed.metadata.owner, phase: streamed.values.phase },
}));
