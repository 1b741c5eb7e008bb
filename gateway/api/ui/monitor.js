// Threadgate monitor: the caller's threads, live progress over the gateway's WebSocket
// rejoin, the approvals waiting for them, and the controls of the HTTP API. No
// framework, no build step, no other host. The credential lives in sessionStorage and
// travels in headers or the WebSocket's first message, never in a URL; so does the
// space acted in (a team's name, or none for the caller's own).

const KEY = "threadgate.credential";
const SPACE = "threadgate.space";
const PAGE_SIZE = 20;
const INBOX_SIZE = 50;
const LIST_REFRESH_MS = 3000;
const $ = (id) => document.getElementById(id);

const state = {
  offset: 0, threadId: null, sockets: new Map(), ended: new Map(), timer: null,
  savedShown: false, // the saved-workflow list is read on entering the list, not every poll
  inboxShown: null, // the approvals last drawn, so a poll that changes nothing redraws nothing
  pollThread: false, // a running thread's page re-read by the timer (no live socket for it)
};
const REWATCH_AFTER_MS = 2000; // a thread may read "running" a moment after its run ended
// A queued thread's run has not started yet; it is watched like a running one.
const LIVE = ["running", "queued"];

// --- the API -----------------------------------------------------------------------

function credential() {
  return sessionStorage.getItem(KEY);
}

// The team acted in ("" for the caller's own space).
function space() {
  return sessionStorage.getItem(SPACE) || "";
}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `request failed (${status})`);
    this.status = status;
    this.code = body?.error;
  }
}

async function api(path, { method = "GET", body } = {}) {
  const headers = { accept: "application/json" };
  if (credential()) headers.authorization = `Bearer ${credential()}`;
  if (space()) headers["x-threadgate-team"] = space();
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (response.status === 401) askForCredential(data?.message);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function askForCredential(why) {
  sessionStorage.removeItem(KEY);
  unwatchAllBut(new Set());
  clearList();
  $("login").hidden = false;
  $("forget").hidden = true;
  say(why ? `Sign in: ${why}` : "Sign in with your API key or token.", true);
  $("credential").focus();
}

function say(message, isError = false) {
  $("notice").textContent = message;
  $("notice").classList.toggle("error", isError);
}

// --- live progress: one rejoin socket per running thread on screen -----------------
// Each socket hands its frames to whichever view shows the thread now. Only running
// threads are watched, and a thread whose socket ended is not watched again until a
// listing shows it running anew (so a run that is already over cannot loop).

// A socket names its team in its first message, which the gateway reads only from a
// caller who signs in. With authentication off no message is read and a browser cannot
// set the handshake header, so a team's threads are re-read by the timer instead.
function canWatch() {
  return Boolean(credential()) || !space();
}

function watch(threadId) {
  if (!canWatch() || state.sockets.has(threadId)) return;
  if (Date.now() - (state.ended.get(threadId) ?? 0) < REWATCH_AFTER_MS) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/api/threads/${threadId}/stream`);
  const team = space();
  state.sockets.set(threadId, socket);
  socket.onopen = () => {
    if (!credential()) return;
    const auth = { type: "auth", token: credential() };
    if (team) auth.team = team;
    socket.send(JSON.stringify(auth));
  };
  socket.onmessage = (event) => {
    if (state.sockets.get(threadId) !== socket) return; // dropped (e.g. another space)
    const frame = JSON.parse(event.data);
    if (state.threadId === threadId) onThreadFrame(threadId, frame);
    else if (!state.threadId) onListFrame(threadId, frame);
  };
  socket.onclose = () => {
    if (state.sockets.get(threadId) === socket) state.sockets.delete(threadId);
  };
}

function unwatchAllBut(keep) {
  for (const [threadId, socket] of state.sockets) {
    if (!keep.has(threadId)) {
      state.sockets.delete(threadId);
      socket.close();
    }
  }
}

// --- rendering helpers -------------------------------------------------------------

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

function setProgress(bar, text, done, total) {
  bar.max = Math.max(total, 1);
  bar.value = done;
  // No plan yet: a scheduled run reads its saved workflow at its first step.
  bar.setAttribute("aria-label", total ? `${done} of ${total} steps` : "starting");
  text.textContent = total ? `${done}/${total}` : "starting";
}

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

// --- the thread list ---------------------------------------------------------------

// --- saved workflows (the library) ---------------------------------------------------

async function showSavedWorkflows() {
  const select = $("saved-workflow");
  const chosen = select.value;
  const page = await api("/api/workflows?limit=100");
  const options = page.workflows.map((w) => el("option", {
    value: w.workflow_id, textContent: `${w.name} (v${w.version}, ${w.step_count} steps)`,
  }));
  select.replaceChildren(...(options.length ? options : [el("option", { value: "", textContent: "none saved" })]));
  if (chosen && page.workflows.some((w) => w.workflow_id === chosen)) select.value = chosen;
  $("run-saved-button").disabled = !page.workflows.length;
}

async function runSaved(event) {
  event.preventDefault();
  const workflowId = $("saved-workflow").value;
  if (!workflowId) return;
  try {
    const started = await api("/api/workflow/execute", { method: "POST", body: { workflow_id: workflowId } });
    say(`Started ${workflowId}.`);
    location.hash = `#/threads/${started.thread_id}`;
  } catch (error) {
    say(`Run refused: ${error.message}`, true);
  }
}

async function showList() {
  const params = new URLSearchParams({
    limit: PAGE_SIZE, offset: state.offset, sort_by: "created_at", sort_order: "desc",
  });
  if ($("status-filter").value) params.set("status", $("status-filter").value);
  if ($("workflow-filter").value.trim()) params.set("workflow_id", $("workflow-filter").value.trim());
  const asked = space();
  const saved = state.savedShown ? null : showSavedWorkflows().then(() => {
    if (asked === space()) state.savedShown = true;
  });
  // The list and the inbox are drawn each as soon as it comes (one slow or refused does
  // not hold the other back), and not at all if the space changed meanwhile.
  const threads = api(`/api/threads?${params}`).then((page) => {
    if (asked === space()) showThreads(page);
  });
  const inbox = api(`/api/approvals?limit=${INBOX_SIZE}`).then((page) => {
    if (asked === space()) showInbox(page);
  });
  const failed = (await Promise.allSettled([threads, inbox, saved])).find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
}

function showThreads(page) {
  $("threads").replaceChildren(...page.threads.map(threadRow));
  $("page-info").textContent = page.total
    ? `${page.offset + 1}-${page.offset + page.threads.length} of ${page.total}` : "no threads";
  $("newer").disabled = page.offset === 0;
  $("older").disabled = page.next_offset === null;
  const live = new Set(page.threads.filter((t) => LIVE.includes(t.status)).map((t) => t.thread_id));
  unwatchAllBut(live);
  for (const threadId of live) watch(threadId);
}

function clearList() {
  $("threads").replaceChildren();
  $("page-info").textContent = "";
  $("approvals").replaceChildren();
  $("inbox-empty").hidden = true;
  $("inbox-more").textContent = "";
  state.inboxShown = null;
}

// --- the approvals inbox: what waits for an answer the caller may give, here ---------

function showInbox(page) {
  const drawn = JSON.stringify(page.approvals);
  $("inbox-empty").hidden = page.approvals.length > 0;
  $("inbox-more").textContent = page.total > page.approvals.length
    ? `${page.approvals.length} of ${page.total} shown, longest waiting first` : "";
  if (drawn === state.inboxShown) return; // keep what is being typed and where focus is
  // Comments typed and the focus survive a redraw; a row that went is dropped with them.
  const typed = new Map([...document.querySelectorAll("li.approval")]
    .map((li) => [li.dataset.threadId, li.querySelector(".comment").value]));
  const focused = document.activeElement;
  const focusedRow = focused?.closest?.("li.approval")?.dataset.threadId;
  $("approvals").replaceChildren(...page.approvals.map((a) => approvalRow(a, typed.get(a.thread_id))));
  state.inboxShown = drawn;
  if (focusedRow) {
    const again = `li.approval[data-thread-id="${focusedRow}"] .${focused.classList[0]}`;
    document.querySelector(again)?.focus();
  }
}

function approvalRow(approval, typed = "") {
  const comment = el("input", {
    className: "comment", type: "text", placeholder: "comment (optional)", value: typed,
  });
  comment.setAttribute("aria-label", `Comment on ${approval.question}`);
  const approve = el("button", { type: "button", className: "approve", textContent: "Approve" });
  const reject = el("button", { type: "button", className: "reject", textContent: "Reject" });
  const row = el("li", { className: "approval" },
    el("p", { className: "asks", textContent: approval.question }),
    el("div", { className: "line" },
      el("a", { className: "name", href: `#/threads/${approval.thread_id}`,
        textContent: `thread ${approval.thread_id.slice(0, 8)}`, title: approval.thread_id }),
      approval.title ? el("span", { className: "step", textContent: `step: ${approval.title}` }) : null,
      approval.four_eyes ? el("span", {
        className: "four-eyes", textContent: "four eyes",
        title: "Whoever started the run may not answer it",
      }) : null,
      el("span", { className: "muted since", textContent: `waiting since ${when(approval.waiting_since)}` }),
      el("span", { className: "muted by", textContent: `started by ${approval.started_by ?? "?"}` })),
    el("div", { className: "answer" }, comment, approve, reject));
  row.dataset.threadId = approval.thread_id;
  approve.onclick = () => answer(row, approval, true);
  reject.onclick = () => answer(row, approval, false);
  return row;
}

async function answer(row, approval, approved) {
  const label = approved ? "Approve" : "Reject";
  const buttons = row.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const comment = row.querySelector(".comment").value.trim() || null;
    await api(`/api/threads/${approval.thread_id}/resume`, { method: "POST", body: { approved, comment } });
    say(`${label}: done (${approval.question}).`);
  } catch (error) {
    // e.g. 403: four-eyes leaves it to someone else, or the role no longer allows it;
    // 409: someone answered first. Said as the API says it.
    say(`${label} refused: ${error.message}`, true);
    buttons.forEach((b) => { b.disabled = false; });
  }
  state.inboxShown = null; // redraw from what the gateway says now
  await refresh();
}

function threadRow(thread) {
  const p = thread.progress;
  const bar = el("progress");
  const count = el("span", { className: "count" });
  setProgress(bar, count, p.completed_steps, p.total_steps);
  const row = el("li", { className: "thread" },
    el("div", { className: "line" },
      el("a", { className: "name", href: `#/threads/${thread.thread_id}`,
        textContent: thread.workflow_name || thread.workflow_id || thread.thread_id }),
      el("span", { className: `status ${thread.status}`, textContent: thread.status }),
      bar, count,
      el("span", { className: "current", textContent: p.current_step ? `at: ${p.current_step}` : "" }),
      el("span", { className: "muted", textContent: `updated ${when(p.last_updated)}` })),
    thread.question
      ? el("p", { className: "asks", textContent: `Asks: ${thread.question.question}` }) : null);
  row.dataset.threadId = thread.thread_id;
  row.dataset.status = thread.status;
  return row;
}

function onListFrame(threadId, frame) {
  const row = document.querySelector(`li.thread[data-thread-id="${threadId}"]`);
  if (frame.type === "progress" && row) {
    const total = frame.total_steps ?? row.querySelector("progress").max;
    setProgress(row.querySelector("progress"), row.querySelector(".count"),
      frame.completed_steps ?? 0, total);
    row.querySelector(".current").textContent = frame.current_step ? `at: ${frame.current_step}` : "";
  }
  if (frame.type === "end" || frame.type === "error") {
    ended(threadId);
    refresh();
  }
}

function ended(threadId) {
  state.ended.set(threadId, Date.now());
  state.sockets.get(threadId)?.close();
}

// --- one thread --------------------------------------------------------------------

async function showThread(threadId) {
  const [thread, stateNow, history] = await Promise.all([
    api(`/api/threads/${threadId}`),
    api(`/api/threads/${threadId}/state`),
    api(`/api/threads/${threadId}/history?limit=50`),
  ]);
  const p = thread.progress;
  $("thread-heading").textContent = thread.workflow_name || thread.workflow_id || threadId;
  $("thread-status").textContent = thread.status;
  $("thread-status").className = `status ${thread.status}`;
  // Only what the thread's status allows (the API would refuse the rest).
  $("pause").hidden = $("cancel").hidden = !LIVE.includes(thread.status);
  $("resume").hidden = !["paused", "failed"].includes(thread.status);
  $("thread-id").textContent = threadId;
  setProgress($("thread-progress"), $("thread-progress-text"), p.completed_steps, p.total_steps);
  $("question").hidden = !thread.question;
  $("question-text").textContent = thread.question ? thread.question.question : "";
  $("thread-usage").textContent = thread.usage ? `Tokens: ${tokens(thread.usage)}` : "";
  $("thread-error").hidden = !p.error_message;
  $("thread-error").textContent = p.error_message || "";
  renderSteps(stateNow.values);
  $("history").replaceChildren(...history.map((c) => el("li", {
    textContent: `${when(c.created_at)}: ${c.completed_steps} step(s) done`
      + (c.last_step ? `, last "${c.last_step}"` : "") + ` (${c.source ?? "?"}, ${c.checkpoint_id})`,
  })));
  const live = LIVE.includes(thread.status);
  unwatchAllBut(new Set(live ? [threadId] : []));
  if (live) watch(threadId);
  state.pollThread = live && !canWatch();
}

function tokens(usage) {
  return `${usage.total_tokens} (${usage.input_tokens} in, ${usage.output_tokens} out)`;
}

function renderSteps(values) {
  const results = values.results || {};
  const completed = new Set(values.completed || []);
  $("steps").replaceChildren(...(values.plan || []).map((step) => {
    const result = results[step.id];
    const mark = completed.has(step.id) ? "done" : "to do";
    // What a task step cost: model calls it took, tokens the model reported (if any).
    const cost = [
      result?.attempts > 1 ? `${result.attempts} attempts` : null,
      result?.usage ? `${tokens(result.usage)} tokens` : null,
    ].filter(Boolean).join(", ");
    return el("li", { className: "step" },
      el("span", { textContent: `${step.title} (${step.type}) - ${mark}` }),
      cost ? el("span", { className: "muted usage", textContent: ` · ${cost}` }) : null,
      result ? el("p", { className: "output", textContent: result.output }) : null);
  }));
}

function onThreadFrame(threadId, frame) {
  if (frame.type === "progress") {
    setProgress($("thread-progress"), $("thread-progress-text"),
      frame.completed_steps ?? 0, frame.total_steps ?? $("thread-progress").max);
  }
  if (frame.type === "progress" && frame.event === "step_finished") refresh();
  if (frame.type === "end" || frame.type === "error") {
    ended(threadId);
    refresh();
  }
}

// --- controls ----------------------------------------------------------------------

async function act(label, path, body) {
  try {
    await api(`/api/threads/${state.threadId}/${path}`, { method: "POST", body });
    say(`${label}: done.`);
  } catch (error) {
    say(`${label} refused: ${error.message}`, true);
  }
  await refresh();
}

function wireControls() {
  $("pause").onclick = () => act("Pause", "pause");
  $("resume").onclick = () => act("Resume", "resume");
  $("cancel").onclick = () => act("Cancel", "cancel");
  $("approve").onclick = () => act("Approve", "resume", { approved: true, comment: $("comment").value || null });
  $("reject").onclick = () => act("Reject", "resume", { approved: false, comment: $("comment").value || null });
  $("delete").onclick = () => { $("confirm-delete").hidden = false; $("delete-no").focus(); };
  $("delete-no").onclick = () => { $("confirm-delete").hidden = true; };
  $("delete-yes").onclick = async () => {
    $("confirm-delete").hidden = true;
    try {
      await api(`/api/threads/${state.threadId}`, { method: "DELETE" });
      history.pushState(null, "", "#/"); // back to the list, keeping the notice
      say("Deleted.");
      await refresh();
    } catch (error) {
      say(`Delete refused: ${error.message}`, true);
    }
  };
  $("newer").onclick = () => { state.offset = Math.max(0, state.offset - PAGE_SIZE); refresh(); };
  $("older").onclick = () => { state.offset += PAGE_SIZE; refresh(); };
  $("status-filter").onchange = () => { state.offset = 0; refresh(); };
  $("workflow-filter").onchange = () => { state.offset = 0; refresh(); };
  $("filters").onsubmit = (event) => event.preventDefault();
  $("login").onsubmit = (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("credential").value.trim());
    $("credential").value = "";
    $("login").hidden = true;
    say("");
    refresh();
  };
  $("forget").onclick = () => askForCredential();
  $("run-saved").onsubmit = runSaved;
  $("space").value = space();
  $("space-form").onsubmit = (event) => {
    event.preventDefault();
    switchSpace($("space").value.trim());
  };
}

// --- the space acted in: the caller's own, or a team's --------------------------------

function switchSpace(team) {
  if (team) sessionStorage.setItem(SPACE, team);
  else sessionStorage.removeItem(SPACE);
  $("space").value = team;
  // Nothing of the other space stays on screen: its sockets, its lists, its thread.
  unwatchAllBut(new Set());
  state.ended.clear();
  state.offset = 0;
  state.savedShown = false;
  clearList();
  if (state.threadId) history.pushState(null, "", "#/");
  say(team ? `Acting in team ${team}.` : "Acting in your own space.");
  refresh();
}

function showSpace() {
  $("threads-heading").textContent = space() ? `Threads of team ${space()}` : "Threads";
}

function refused(error) {
  if (error.status === 401) return; // the sign-in form says it
  if (error.status === 403 && space()) {
    // Not a member (or no longer): nothing of the team is shown, and the reason is.
    if (!state.threadId) clearList();
    say(`Team ${space()} refused: ${error.message}`, true);
    return;
  }
  say(error.message, true);
}

// --- routing: #/ is the list, #/threads/<id> one thread ------------------------------

async function refresh() {
  const match = location.hash.match(/^#\/threads\/([0-9a-fA-F-]{36})$/);
  state.threadId = match ? match[1] : null;
  $("list-view").hidden = Boolean(state.threadId);
  $("thread-view").hidden = !state.threadId;
  if (!state.threadId) state.pollThread = false;
  showSpace();
  const asked = space();
  try {
    if (state.threadId) await showThread(state.threadId);
    else await showList();
    $("forget").hidden = !credential();
  } catch (error) {
    if (asked === space()) refused(error); // not a refusal of the space left meanwhile
  }
}

wireControls();
window.addEventListener("hashchange", () => { say(""); state.savedShown = false; refresh(); });
// The list notices new threads (and approvals) with one listing request now and then,
// not one per thread; a thread's own page only when no socket can watch it.
state.timer = setInterval(() => {
  if ((!state.threadId || state.pollThread) && $("login").hidden) refresh();
}, LIST_REFRESH_MS);
refresh();
