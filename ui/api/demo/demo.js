// The storefront demo: plain JS over the public /v1 API (no other route, no framework).
"use strict";
const api = { key: new URLSearchParams(location.search).get("key") };
let session = null;

function headers(extra = {}) {
  return api.key ? { ...extra, "X-API-Key": api.key } : extra;
}

async function call(path, options = {}) {
  const answer = await fetch(path, { ...options, headers: headers(options.headers) });
  const body = answer.status === 204 ? null : await answer.json();
  if (!answer.ok) throw new Error(body && body.error ? body.error.message : answer.statusText);
  return body;
}

async function ensureSession() {
  if (!session) session = (await call("/v1/sessions", { method: "POST" })).session_id;
  return session;
}

async function turn(body) {
  const id = await ensureSession();
  const options = body instanceof FormData
    ? { method: "POST", body }
    : { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } };
  show(await call(`/v1/sessions/${id}/turns`, options));
}

function card(result) {
  const div = document.createElement("div");
  div.className = "card";
  div.dataset.id = result.id;
  const img = document.createElement("img");
  img.src = `${result.image_url}?size=160`;
  img.alt = result.title || Object.values(result.attributes).join(" ");
  const caption = document.createElement("div");
  caption.textContent = img.alt;
  const more = document.createElement("button");
  more.textContent = "More like this";
  more.className = "more";
  more.onclick = () => run(() => turn({ pick: result.rank }));
  const colours = document.createElement("button");
  colours.textContent = "Other colours";
  colours.className = "colours";
  colours.onclick = () => run(() => turn({ other_colours: result.rank }));
  div.append(img, caption, more, colours);
  return div;
}

function show(answer) {
  document.getElementById("reply").textContent = answer.question || answer.reply;
  const chips = document.getElementById("chips");
  chips.replaceChildren(...answer.chips.map((chip, i) => {
    const button = document.createElement("button");
    button.textContent = chip.value;
    button.onclick = () => run(() => turn({ chip: i + 1 }));
    return button;
  }));
  document.getElementById("results").replaceChildren(...answer.results.map(card));
}

async function run(action) {
  const reply = document.getElementById("reply");
  reply.classList.remove("error");
  try {
    await action();
  } catch (err) {
    reply.textContent = err.message;
    reply.classList.add("error");
  }
}

document.getElementById("search").onsubmit = (event) => {
  event.preventDefault();
  const text = document.getElementById("text");
  run(() => turn({ text: text.value }));
  text.value = "";
};
document.getElementById("upload").onchange = (event) => {
  const form = new FormData();
  form.append("image", event.target.files[0]);
  run(() => turn(form));
  event.target.value = "";
};
document.getElementById("undo").onclick = () => run(() => turn({ undo: true }));
document.getElementById("reset").onclick = () => run(() => turn({ reset: true }));
