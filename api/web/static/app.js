// mockmail's web page: every read and write goes through the public REST API (/api/v1).
// No framework and no build step; the token, when the server wants one, lives in session storage.
"use strict";

const API = "/api/v1";
const TOKEN_KEY = "mockmail-token";
const $ = (selector) => document.querySelector(selector);
const enc = encodeURIComponent;

const state = { tenant: null, user: null, message: null, views: null, profiles: [] };

class ApiError extends Error {
  constructor(problem) {
    super(`${problem.status} ${problem.title}: ${problem.detail}${problem.field ? ` (field ${problem.field})` : ""}`);
    this.problem = problem;
  }
}

function token() { return sessionStorage.getItem(TOKEN_KEY); }

function headers(extra) {
  const all = Object.assign({}, extra);
  if (token()) all.Authorization = `Bearer ${token()}`;
  return all;
}

async function api(method, path, { body, accept = "application/json", signal } = {}) {
  const init = { method, headers: headers({ Accept: accept }), signal };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(API + path, init);
  if (!response.ok) {
    let problem;
    try { problem = await response.json(); } catch (e) {
      problem = { status: response.status, title: response.statusText, detail: "" };
    }
    if (response.status === 401) askToken(problem.detail);
    throw new ApiError(problem);
  }
  if (response.status === 204) return null;
  return accept === "application/json" ? response.json() : response.text();
}

function showError(error) {
  if (error.name === "AbortError") return;
  const box = $("#error");
  box.textContent = error.message;
  box.hidden = false;
}

function clearError() { $("#error").hidden = true; }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
  return node;
}

function endpoint(e) { return e ? `${e.host}:${e.port}` : "-"; }

// -- token -----------------------------------------------------------------------------------------

function askToken(detail) {
  $("#loading").hidden = true;
  $("#token-view").hidden = false;
  $("#tenants-view").hidden = true;
  $("#tenant-view").hidden = true;
  if (detail && token()) showError(new Error(`token refused: ${detail}`));
}

$("#token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("#token-input").value.trim());
  $("#token-input").value = "";
  $("#token-view").hidden = true;
  clearError();
  route();
});

$("#forget-token").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  location.hash = "#/";
  location.reload();
});

// -- tenants ---------------------------------------------------------------------------------------

// Every protocol's listeners and options, as the server's protocol registry lists them (see the template).
const LISTENERS = ($("#tenants").dataset.listeners || "").split(" ").filter(Boolean);
const OPTIONS = ($("#tenants").dataset.options || "").split(" ").filter(Boolean);

async function showTenants() {
  $("#tenant-view").hidden = true;
  const tenants = await api("GET", "/tenants");
  $("#tenants-view").hidden = false;
  const body = $("#tenants tbody");
  body.replaceChildren(...tenants.map((t) => el("tr", { "data-tenant": t.name },
    el("td", {}, el("a", { href: link({ tenant: t.name }) }, t.name)),
    el("td", { class: `state-${t.state}` }, t.state + (t.failure ? ` (${t.failure})` : "")),
    ...LISTENERS.map((name) => el("td", {}, endpoint(t[name]))),
    el("td", {}, t.mailboxes), el("td", {}, t.sessions))));
  const columns = 4 + LISTENERS.length;
  if (!tenants.length) body.append(el("tr", {}, el("td", { colspan: columns, class: "muted" }, "No tenants yet.")));
}

$("#create-tenant").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearError();
  try {
    const created = await api("POST", "/tenants", { body: { name: $("#new-tenant").value.trim() } });
    $("#new-tenant").value = "";
    location.hash = link({ tenant: created.name });
  } catch (error) { showError(error); }
});

// -- one tenant ------------------------------------------------------------------------------------

async function showTenant(name) {
  stopWatching();
  state.tenant = name;
  state.user = null;
  state.message = null;
  $("#tenants-view").hidden = true;
  $("#message-view").hidden = true;
  const view = await api("GET", `/tenants/${enc(name)}`);
  $("#tenant-view").hidden = false;
  $("#tenant-title").textContent = `Tenant ${view.name}`;
  $("#tenant-ports").textContent = [
    ...LISTENERS.map((name) => `${name.toUpperCase()} ${endpoint(view[name])}`),
    ...OPTIONS.map((name) => `${name.replaceAll("_", " ")} ${view[name]}`),
    view.state,
  ].join(" · ");
  crumbs();
  $("#live").replaceChildren();
  $("#messages tbody").replaceChildren();
  $("#mailbox-name").textContent = "";
  $("#no-messages").hidden = false;
  await Promise.all([showMailboxes(), showFaults()]);
  follow(name);
}

function crumbs() {
  const trail = [el("a", { href: "#/" }, "tenants")];
  if (state.tenant) trail.push(" / ", state.user ? el("a", { href: link({ tenant: state.tenant }) }, state.tenant) : state.tenant);
  if (state.user) trail.push(" / ", state.user);
  $("#crumbs").replaceChildren(...trail);
}

async function showMailboxes() {
  const boxes = await api("GET", `/tenants/${enc(state.tenant)}/mailboxes`);
  $("#mailboxes").replaceChildren(...boxes.map((box) => el("li", {},
    el("a", { href: link({ tenant: state.tenant, user: box.user }), "data-user": box.user,
      class: box.user === state.user ? "picked" : "", title: `${box.messages} message(s), ${box.octets} octets` },
      el("span", { class: "user" }, box.user), el("span", { class: "count" }, box.messages)))));
  const picked = $("#mailboxes a.picked");
  if (picked) picked.setAttribute("aria-current", "page");
  if (!boxes.length) $("#mailboxes").append(el("li", { class: "muted" }, "No mailboxes yet."));
}

$("#add-mailbox").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearError();
  const user = $("#new-user").value.trim();
  try {
    await api("PUT", `/tenants/${enc(state.tenant)}/mailboxes/${enc(user)}`,
      { body: { password: $("#new-password").value } });
    $("#new-user").value = "";
    $("#new-password").value = "";
    if (user === state.user) await showMailboxes();
    else location.hash = link({ tenant: state.tenant, user });
  } catch (error) { showError(error); }
});

// -- messages, live: a long-poll that answers when one more message is there -----------------------

let watcher = null;

function stopWatching() {
  if (watcher) watcher.abort();
  watcher = null;
  if (streamer) streamer.abort();
  streamer = null;
}

async function pickMailbox(user) {
  if (watcher) watcher.abort();
  state.user = user;
  crumbs();
  $("#mailbox-name").textContent = `of ${user}`;
  $("#no-messages").hidden = true;
  await showMailboxes();
  const control = new AbortController();
  watcher = control;
  watchMessages(state.tenant, user, control.signal);
}

async function watchMessages(tenant, user, signal) {
  const path = `/tenants/${enc(tenant)}/mailboxes/${enc(user)}/messages`;
  let count = -1;
  while (!signal.aborted) {
    try {
      const query = count < 0 ? "" : `?wait=25&count=${count + 1}`;
      const messages = await api("GET", path + query, { signal });
      if (messages.length !== count) {
        count = messages.length;
        renderMessages(messages);
        showMailboxes().catch(showError);
      }
    } catch (error) {
      if (signal.aborted) return;
      showError(error);
      return;
    }
  }
}

function renderMessages(messages) {
  const here = { tenant: state.tenant, user: state.user };
  $("#messages tbody").replaceChildren(...messages.map((m, i) => el("tr", { "data-message": m.id },
    el("td", {}, i + 1),
    el("td", {}, el("a", { href: link({ ...here, message: m.id }) }, m.subject || "(no subject)")),
    el("td", {}, m.from), el("td", {}, m.date), el("td", {}, m.size), el("td", {}, m.via))));
  if (!messages.length) $("#messages tbody").append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, "No messages.")));
}

const FRAME_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

async function showMessage(id) {
  clearError();
  const base = `/tenants/${enc(state.tenant)}/mailboxes/${enc(state.user)}/messages/${enc(id)}`;
  try {
    const [detail, parts, source] = await Promise.all([
      api("GET", base), api("GET", `${base}/parts`), api("GET", base, { accept: "message/rfc822" }),
    ]);
    state.message = id;
    $("#message-view").hidden = false;
    $("#message-subject").textContent = detail.subject || "(no subject)";
    renderLinks(detail.links);
    $("#message-headers tbody").replaceChildren(...detail.headers.map(([name, value]) =>
      el("tr", {}, el("th", {}, name), el("td", {}, value))));
    $("#message-text").textContent = parts.text ?? "(no text part)";
    // The HTML as the sender wrote it, in a sandbox with no scripts, no forms, no network.
    const policy = `<meta http-equiv="Content-Security-Policy" content="${FRAME_POLICY}">`;
    // A new frame each time: loading another srcdoc into the old one would add a history entry, and
    // Back would then stay on this message instead of going to the previous address.
    const frame = $("#message-html").cloneNode(false);
    frame.srcdoc = policy + (parts.html ?? "<p><i>(no HTML part)</i></p>");
    $("#message-html").replaceWith(frame);
    $("#message-source").textContent = source;
    $("#message-attachments").replaceChildren(...parts.attachments.map((a) => el("li", {},
      el("a", { href: "#", onclick: (e) => { e.preventDefault(); download(`${base}/attachments/${a.index}`, a.filename); } },
        a.filename || `attachment ${a.index}`), ` ${a.content_type}, ${a.size} octets`)));
    if (!parts.attachments.length) $("#message-attachments").append(el("li", { class: "muted" }, "No attachments."));
    pickTab(parts.html ? "html" : "text");
  } catch (error) { showError(error); }
}

// The links the server found in the message (`links` in its JSON, when the server sends it): http, https
// and mailto ones can be opened, in a new tab without a referrer; any other scheme is shown as text.
function renderLinks(links) {
  const found = Array.isArray(links) ? links : [];
  $("#message-links").hidden = !found.length;
  $("#message-links ul").replaceChildren(...found.map((url) => el("li", {}, openable(url)
    ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url) : el("code", {}, url))));
}

function openable(url) {
  try { return ["http:", "https:", "mailto:"].includes(new URL(url).protocol); } catch (e) { return false; }
}

async function download(path, filename) {
  try {
    const response = await fetch(API + path, { headers: headers({}) });
    if (!response.ok) throw new ApiError(await response.json());
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: filename || "attachment" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (error) { showError(error); }
}

function pickTab(name) {
  for (const button of document.querySelectorAll("#message-tabs button")) {
    button.classList.toggle("picked", button.dataset.tab === name);
  }
  for (const pane of document.querySelectorAll("#message-view [data-pane]")) pane.hidden = pane.dataset.pane !== name;
}

$("#message-tabs").addEventListener("click", (event) => {
  if (event.target.dataset.tab) pickTab(event.target.dataset.tab);
});

// -- faults ----------------------------------------------------------------------------------------

async function showFaults() {
  if (!state.profiles.length) {
    state.profiles = await api("GET", "/fault-profiles");
    $("#profile").append(...state.profiles.filter((p) => p.name !== "compliant")
      .map((p) => el("option", { value: p.name }, p.name)));
  }
  const plan = await api("GET", `/tenants/${enc(state.tenant)}/faults`);
  renderPlan(plan);
}

function renderPlan(plan) {
  $("#fault-plan").textContent = Object.keys(plan).length ? JSON.stringify(plan, null, 2) : "compliant (no faults)";
  $("#profile").value = plan.profile || "";
  describeProfile();
  for (const box of document.querySelectorAll(".knob-on")) box.checked = false;
}

function describeProfile() {
  const found = state.profiles.find((p) => p.name === $("#profile").value);
  $("#profile-description").textContent = found ? `${found.description} Source: ${found.source}` : "";
}

$("#profile").addEventListener("change", describeProfile);

$("#fault-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearError();
  const plan = {};
  if ($("#profile").value) plan.profile = $("#profile").value;
  try {
    for (const box of document.querySelectorAll(".knob-on")) {
      if (!box.checked) continue;
      const raw = document.querySelector(`.knob-value[data-knob="${box.dataset.knob}"]`).value;
      try { plan[box.dataset.knob] = JSON.parse(raw); } catch (e) {
        throw new Error(`${box.dataset.knob}: not JSON (${e.message})`);
      }
    }
    renderPlan(await api("PUT", `/tenants/${enc(state.tenant)}/faults`, { body: plan }));
  } catch (error) { showError(error); }
});

$("#clear-faults").addEventListener("click", async () => {
  clearError();
  try {
    await api("DELETE", `/tenants/${enc(state.tenant)}/faults`);
    renderPlan({});
  } catch (error) { showError(error); }
});

// -- the live transcript: Server-Sent Events read with fetch, so the token can go in a header -------

let streamer = null;
const MARKS = { C: "C:", S: "S:", fault: "⚡ fault:", end: "end:" };
const LIVE_MAX = 2000;

async function follow(tenant) {
  const control = new AbortController();
  streamer = control;
  $("#stream-state").textContent = "connecting…";
  try {
    const response = await fetch(`${API}/tenants/${enc(tenant)}/sessions/stream`,
      { headers: headers({ Accept: "text/event-stream" }), signal: control.signal });
    if (!response.ok) throw new ApiError(await response.json());
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let event = "message";
    let data = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, end).replace(/\r$/, "");
        buffer = buffer.slice(end + 1);
        if (line === "") {
          if (event === "line" && data.length) addLine(JSON.parse(data.join("\n")));
          event = "message";
          data = [];
        } else if (line.startsWith(":")) {
          $("#stream-state").textContent = "live";
        } else if (line.startsWith("event:")) {
          event = line.slice(6).trim();
        } else if (line.startsWith("data:")) {
          data.push(line.slice(5).replace(/^ /, ""));
        }
      }
    }
    $("#stream-state").textContent = "ended";
  } catch (error) {
    if (control.signal.aborted) return;
    $("#stream-state").textContent = "stopped";
    showError(error);
  }
}

function addLine(line) {
  const at = new Date(line.at * 1000).toISOString().slice(11, 23);
  const item = el("li", { class: `dir-${line.dir}`, "data-dir": line.dir, "data-session": line.session },
    el("span", { class: "at" }, at), el("span", { class: "session" }, line.session),
    el("span", { class: "user" }, line.user || "-"), el("span", { class: "mark" }, MARKS[line.dir] || line.dir),
    el("span", { class: "text" }, line.text));
  const list = $("#live");
  list.append(item);
  while (list.children.length > LIVE_MAX) list.firstElementChild.remove();
  item.scrollIntoView({ block: "nearest" });
  if (line.dir === "end" && state.user) showMailboxes().catch(showError);
}

// -- routing: the address names what the page shows, #/t/TENANT/m/USER/msg/ID, so a link (a failed
// test's report, a bug) can point at a tenant, a mailbox or one message.  #tenant=NAME still works.

function parseHash(hash) {
  const legacy = new URLSearchParams(hash.slice(1)).get("tenant");
  if (legacy) return { tenant: legacy, user: null, message: null };
  let parts;
  try { parts = hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent); } catch (e) { parts = []; }
  const tenant = parts[0] === "t" && parts[1] ? parts[1] : null;
  const user = tenant && parts[2] === "m" && parts[3] ? parts[3] : null;
  const message = user && parts[4] === "msg" && parts[5] ? parts[5] : null;
  return { tenant, user, message };
}

function link({ tenant, user, message }) {
  let hash = "#/";
  if (tenant) hash += `t/${enc(tenant)}`;
  if (tenant && user) hash += `/m/${enc(user)}`;
  if (tenant && user && message) hash += `/msg/${enc(message)}`;
  return hash;
}

async function route() {
  clearError();
  $("#forget-token").hidden = !token();
  const want = parseHash(location.hash);
  try {
    if (!want.tenant) {
      stopWatching();
      state.tenant = state.user = state.message = null;
      crumbs();
      await showTenants();
      return;
    }
    const again = want.tenant !== state.tenant || $("#tenant-view").hidden || (state.user && !want.user);
    if (again) await showTenant(want.tenant);
    if (want.user && want.user !== state.user) await pickMailbox(want.user);
    if (!want.message) {
      state.message = null;
      $("#message-view").hidden = true;
    } else if (want.message !== state.message || $("#message-view").hidden) {
      await showMessage(want.message);
    }
  } catch (error) {
    if (!(error instanceof ApiError && error.problem.status === 401)) showError(error);
  } finally {
    $("#loading").hidden = true;
  }
}

window.addEventListener("hashchange", route);
route();
