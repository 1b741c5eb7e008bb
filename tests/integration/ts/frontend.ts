// A builder UI's client for the Threadgate gateway, typed only by what openapi-typescript
// generates from the gateway's /openapi.json (`api.d.ts`, made at test time, not kept).
import type { components, paths } from "./api";

type Schemas = components["schemas"];
type ErrorBody = Schemas["ErrorBody"];
type StreamFrame = Schemas["StreamFrame"];
type Execute = paths["/api/workflow/execute"]["post"];
type ExecuteBody = Execute["requestBody"]["content"]["application/json"];
type Accepted = Execute["responses"][202]["content"]["application/json"];
type ThreadQuery = NonNullable<paths["/api/threads"]["get"]["parameters"]["query"]>;
type ThreadPage = paths["/api/threads"]["get"]["responses"][200]["content"]["application/json"];
type ThreadDetails = Schemas["ThreadDetails"];
type Resume = paths["/api/threads/{thread_id}/resume"]["post"];
type ResumeBody = NonNullable<Resume["requestBody"]>["content"]["application/json"];

const BASE = "/api";
const API_KEY = sessionStorage.getItem("threadgate-key") ?? "";

export class ApiError extends Error {
  constructor(readonly status: number, readonly body: ErrorBody) {
    super(`${status} ${body.error}: ${body.message}`);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(BASE + path, {
    method,
    headers: { "content-type": "application/json", "x-api-key": API_KEY },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new ApiError(response.status, (await response.json()) as ErrorBody);
  return (await response.json()) as T;
}

export async function runReport(): Promise<Accepted> {
  const body: ExecuteBody = {
    workflow_json: {
      name: "Quarterly report",
      steps: [
        { title: "Draft", instructions: "Draft the quarterly report." },
        { type: "approval", question: "Publish the draft?" },
      ],
    },
  };
  const accepted = await call<Accepted>("POST", "/workflow/execute", body);
  console.info(`run ${accepted.execution_id} on ${accepted.thread_id}: ${accepted.status}`);
  return accepted;
}

export async function listThreads(query: ThreadQuery): Promise<ThreadPage> {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null) search.set(key, String(value));
  }
  return call<ThreadPage>("GET", `/threads?${search}`);
}

export async function waitingThreads(): Promise<string[]> {
  const page = await listThreads({ status: "waiting", limit: 50, sort_by: "updated_at" });
  return page.threads.map((t) => `${t.workflow_name ?? t.thread_id}: ${t.progress.current_step}`);
}

export async function readThread(threadId: string): Promise<ThreadDetails> {
  const thread = await call<ThreadDetails>("GET", `/threads/${threadId}`);
  const { completed_steps, total_steps } = thread.progress;
  const tokens = thread.usage?.total_tokens ?? 0;
  console.info(`${thread.status}: ${completed_steps}/${total_steps} steps, ${tokens} tokens`);
  return thread;
}

export async function approve(threadId: string, comment?: string): Promise<Accepted> {
  const answer: ResumeBody = { approved: true, comment };
  try {
    return await call<Accepted>("POST", `/threads/${threadId}/resume`, answer);
  } catch (error) {
    if (error instanceof ApiError && error.body.error === "not_waiting") {
      throw new Error(`already answered: ${error.body.message}`);
    }
    throw error;
  }
}

// One line per frame for the run's log panel; `never` proves every frame type is handled.
export function describe(frame: StreamFrame): string {
  switch (frame.type) {
    case "started":
      return `run ${frame.execution_id}${frame.replayed ? " (joined)" : ""}: ${frame.status}`;
    case "progress": {
      const step = frame.current_step ?? frame.step_id;
      return `${frame.event} ${step}: ${frame.completed_steps}/${frame.total_steps}`;
    }
    case "chunk":
      return frame.mode === "messages" ? String(frame.data["content"] ?? "") : "";
    case "interrupt":
      return `needs approval: ${JSON.stringify(frame.question)}`;
    case "end": {
      const { status, completed_steps, total_steps } = frame.progress;
      return `${status}: ${completed_steps}/${total_steps} (${frame.execution_id ?? "no run"})`;
    }
    case "error":
      return `failed: ${frame.error}: ${frame.message} (thread ${frame.thread_id ?? "none"})`;
    default: {
      const unhandled: never = frame;
      throw new Error(`unknown frame ${JSON.stringify(unhandled)}`);
    }
  }
}

export function streamRun(body: ExecuteBody, show: (line: string) => void): WebSocket {
  const origin = location.origin.replace(/^http/, "ws");
  const socket = new WebSocket(`${origin}${BASE}/workflow/execute/stream`);
  socket.onopen = () => {
    // Browsers cannot set headers on a WebSocket: credentials go in the first message.
    socket.send(JSON.stringify({ type: "auth", api_key: API_KEY }));
    socket.send(JSON.stringify(body));
  };
  socket.onmessage = (event: MessageEvent<string>) => {
    show(describe(JSON.parse(event.data) as StreamFrame));
  };
  return socket;
}
