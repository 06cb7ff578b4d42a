// Review pages: keyboard navigation on the queue, the editable entries table on a task.
// Text from tasks is only ever placed with .value / .textContent, never as HTML.
"use strict";

const FIELDS = ["course_code", "title", "credits_min", "credits_max", "description", "prerequisites"];
const NUMERIC = new Set(["credits_min", "credits_max"]);
const LONG = new Set(["description", "prerequisites"]);  // paragraphs: edited in a text area, not one line

function typing(event) {
  const tag = event.target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || event.target.isContentEditable;
}

function setupQueue() {
  const rows = Array.from(document.querySelectorAll("#queue tbody tr"));
  let current = rows.length ? 0 : -1;
  const select = (index) => {
    if (!rows.length) return;
    rows[current]?.classList.remove("selected");
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows[current].classList.add("selected");
    rows[current].scrollIntoView({ block: "nearest" });
  };
  select(0);
  document.addEventListener("keydown", (event) => {
    if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "j") select(current + 1);
    else if (event.key === "k") select(current - 1);
    else if (event.key === "Enter" && current >= 0) window.location.href = rows[current].dataset.href;
  });
}

function input(name, value) {
  const field = document.createElement(LONG.has(name) ? "textarea" : "input");
  if (LONG.has(name)) field.rows = 3;
  field.name = name;
  field.defaultValue = value === null || value === undefined ? "" : String(value);
  field.setAttribute("aria-label", name.replace("_", " "));
  if (NUMERIC.has(name)) { field.inputMode = "decimal"; field.className = "num"; }
  return field;
}

function entryRow(entry, flaggedCodes) {
  const row = document.createElement("tr");
  if (flaggedCodes.has(entry.course_code)) row.classList.add("flagged");
  for (const name of FIELDS) {
    const cell = document.createElement("td");
    cell.appendChild(input(name, entry[name]));
    row.appendChild(cell);
  }
  const remove = document.createElement("button");
  remove.type = "button";
  remove.textContent = "Delete";
  remove.addEventListener("click", () => row.remove());
  const cell = document.createElement("td");
  cell.appendChild(remove);
  row.appendChild(cell);
  return row;
}

function readEntries(body) {
  return Array.from(body.querySelectorAll("tr")).map((row) => {
    const entry = {};
    for (const field of row.querySelectorAll("input, textarea")) {
      const text = field.value.trim();
      entry[field.name] = text === "" ? null : text;  // credits as typed (1-3, 4 cr): the server reads them
    }
    return entry;
  }).filter((entry) => FIELDS.some((name) => entry[name] !== null));
}

async function setupTask() {
  const data = document.body.dataset;
  const body = document.querySelector("#entries tbody");
  const table = document.getElementById("entries");
  const noCourses = document.getElementById("no-courses");
  const message = document.getElementById("message");
  const say = (text, ok) => { message.textContent = text; message.className = ok ? "ok" : "fail"; };
  const response = await fetch(`/api/tasks/${encodeURIComponent(data.taskId)}`, { credentials: "same-origin" });
  if (!response.ok) { say(`Could not load the task (${response.status}).`, false); return; }
  let task = await response.json();
  const flaggedCodes = new Set(task.reasons.map((reason) => reason.split(":")[0]));
  const shown = task.result ? task.result.entries : task.entries;
  for (const entry of shown) body.appendChild(entryRow(entry, flaggedCodes));
  const first = body.querySelector("input");
  if (first) first.focus();

  noCourses.addEventListener("change", () => table.classList.toggle("disabled", noCourses.checked));
  document.getElementById("add").addEventListener("click", () => {
    const row = entryRow({}, new Set());
    body.appendChild(row);
    row.querySelector("input").focus();
  });

  const submit = async () => {
    const answer = { version: task.version, entries: readEntries(body), no_courses: noCourses.checked };
    const sent = await fetch(`/api/tasks/${encodeURIComponent(data.taskId)}/answers`, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(answer),
    });
    const reply = await sent.json();
    if (!sent.ok) { say(reply.detail || `Failed (${sent.status}).`, false); return; }
    task = reply;
    document.getElementById("status").textContent = task.status;
    document.getElementById("answers").textContent = `${task.answers.length}/${task.required_answers}`;
    document.activeElement?.blur();  // the keys move on (j, k, q) instead of typing into a field
    const mine = task.answers.length ? task.answers[task.answers.length - 1].entries : [];
    body.replaceChildren(...mine.map((entry) => entryRow(entry, new Set())));  // what the server understood
    const credits = mine.map((e) => `${e.course_code}: ${e.credits_min === null ? "no credits"
      : e.credits_min === e.credits_max ? e.credits_min : `${e.credits_min}-${e.credits_max}`}`).join("; ");
    say(`Saved: the task is now ${task.status}. Read as ${credits || "no courses"}.`, true);
  };
  document.getElementById("submit").addEventListener("click", submit);
  // Plain keys outside a field, the same in every browser (no accesskeys: their modifiers differ).
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); submit(); return; }
    if (event.key === "Escape" && typing(event)) { event.target.blur(); return; }
    if (typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "a") { event.preventDefault(); document.getElementById("add").click(); return; }
    if (event.key === "n") { noCourses.click(); return; }
    if (event.key === "q") { window.location.href = "/"; return; }
    const target = event.key === "j" ? data.next : event.key === "k" ? data.previous : "";
    if (target) window.location.href = `/tasks/${encodeURIComponent(target)}`;
  });
}

if (document.body.dataset.view === "queue") setupQueue();
else if (document.body.dataset.view === "task") setupTask();
