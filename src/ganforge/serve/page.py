# ruff: noqa: E501  (the page is HTML and JavaScript in one string; its lines are left whole)
"""The single web page of ``ganforge serve``: plain HTML and JavaScript, no external resources.

The page knows no family: it reads ``GET /models`` and, for the chosen model, builds one form per route
from the route's request schema (numbers, text, choices; a slider for a bounded fraction, which submits
as it moves) or a file picker for upload routes. Answers are shown by their media type: pictures, an
audio player, a table for CSV, text for JSON; every answer also gets a download link.
"""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ganforge</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body { font-family: system-ui, sans-serif; margin: 2em; max-width: 60em; color: #222; }
 fieldset { margin-bottom: 1.2em; border: 1px solid #ccc; border-radius: 6px; }
 label { margin-right: 1em; display: inline-block; margin-bottom: .4em; } input[type=number] { width: 6em; }
 img.result { image-rendering: pixelated; min-width: 256px; max-width: 100%; border: 1px solid #ddd; margin-top: .6em; }
 table.result { border-collapse: collapse; margin-top: .6em; font-size: .9em; }
 table.result td, table.result th { border: 1px solid #ddd; padding: .2em .5em; }
 pre.result { background: #f6f6f6; padding: .6em; white-space: pre-wrap; }
 #error { color: #b00020; min-height: 1.2em; }
</style></head>
<body>
<h1>ganforge</h1>
<p><label>Model <select id="model"></select></label> <span id="info"></span></p>
<p id="error" role="alert"></p>
<div id="routes"></div>
<script>
const $ = (id) => document.getElementById(id);
const make = (tag, props = {}) => Object.assign(document.createElement(tag), props);
let models = [];
function current() { return models.find((m) => m.name === $("model").value); }
function showError(text) { $("error").textContent = text || ""; }
function csvRows(text) {
  const rows = []; let row = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) { if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c; }
    else if (c === '"') quoted = true; else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\\n") { row.push(cell); rows.push(row); row = []; cell = ""; } else if (c !== "\\r") cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}
async function show(response, name) {
  const box = $(name + "-result"), link = $(name + "-download");
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error; } catch (e) {}
    showError(message); return;
  }
  showError("");
  const type = response.headers.get("content-type") || "";
  const blob = await response.blob(), url = URL.createObjectURL(blob);
  let view;
  if (type.startsWith("image/")) view = make("img", {src: url, className: "result", alt: name + " result"});
  else if (type.startsWith("audio/") && !type.includes("midi")) view = make("audio", {src: url, controls: true, className: "result"});
  else if (type.startsWith("text/csv")) {
    view = make("table", {className: "result"});
    csvRows(await blob.text()).slice(0, 21).forEach((cells, i) => {
      const tr = make("tr"); cells.forEach((c) => tr.append(make(i ? "td" : "th", {textContent: c}))); view.append(tr);
    });
  } else if (type.includes("json")) {
    const data = JSON.parse(await blob.text());
    view = make("pre", {className: "result", textContent: Array.isArray(data.texts) ? data.texts.join("\\n") : JSON.stringify(data, null, 1)});
  } else view = make("p", {textContent: `${type}, ${blob.size} bytes`});
  box.replaceChildren(view); box.hidden = false;
  const ext = (type.split("/")[1] || "bin").split(";")[0].replace("x-", "").replace("jpeg", "jpg");
  link.href = url; link.download = `ganforge-${name}.${ext}`; link.hidden = false;
}
function field(route, key, spec) {
  const id = `${route.name}-${key}`, label = make("label", {textContent: (spec.title || key) + " "});
  const options = spec.enum || (spec.anyOf || []).flatMap((s) => s.enum || []);
  const types = [spec.type, ...(spec.anyOf || []).map((s) => s.type)];
  const bounded = (spec.anyOf || [spec]).find((s) => s.minimum !== undefined && s.maximum !== undefined);
  let input;
  if (options.length) {
    input = make("select", {id}); if (!spec.default) input.append(make("option", {value: "", textContent: "-"}));
    options.forEach((o) => input.append(make("option", {value: o, textContent: o, selected: o === spec.default})));
  } else if (types.includes("number") && bounded) {
    input = make("input", {id, type: "range", min: bounded.minimum, max: bounded.maximum, step: (bounded.maximum - bounded.minimum) / 20, value: spec.default ?? bounded.minimum});
    input.oninput = () => submit(route);
  } else if (types.includes("integer") || types.includes("number")) {
    const s = (spec.anyOf || [spec]).find((x) => x.type === "integer" || x.type === "number") || spec;
    input = make("input", {id, type: "number", value: spec.default ?? "", placeholder: spec.default === null ? "any" : ""});
    if (s.minimum !== undefined) input.min = s.minimum; if (s.maximum !== undefined) input.max = s.maximum;
    if (s.exclusiveMaximum !== undefined) input.max = s.exclusiveMaximum - 1;
  } else if (types.includes("boolean")) input = make("input", {id, type: "checkbox", checked: !!spec.default});
  else input = make("input", {id, type: "text", value: spec.default ?? "", size: key.includes("prompt") ? 40 : 12});
  input.dataset.kind = types.includes("integer") ? "integer" : types.includes("number") ? "number" : types.includes("boolean") ? "boolean" : "string";
  label.append(input); return label;
}
function value(input) {
  if (input.type === "checkbox") return input.checked;
  if (input.value === "") return null;
  return input.dataset.kind === "integer" || input.dataset.kind === "number" ? Number(input.value) : input.value;
}
async function submit(route) {
  const m = current(); if (!m) return;
  const inputs = [...document.querySelectorAll(`[data-route="${route.name}"] [id^="${route.name}-"]`)].filter((i) => i.dataset.kind);
  if (route.upload) {
    const file = $(`${route.name}-file`).files[0]; if (!file) { showError("choose a file first"); return; }
    const form = new FormData(); form.append("file", file); form.append("model", m.name);
    inputs.forEach((i) => { const v = value(i); if (v !== null && i.type !== "file") form.append(i.id.slice(route.name.length + 1), v); });
    await show(await fetch("/" + route.name, {method: "POST", body: form}), route.name); return;
  }
  const body = {model: m.name};
  inputs.forEach((i) => { const v = value(i); if (v !== null) body[i.id.slice(route.name.length + 1)] = v; });
  await show(await fetch("/" + route.name, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)}), route.name);
}
function build() {
  const m = current(); if (!m) return;
  const facts = Object.entries(m).filter(([k, v]) => !["name", "routes", "description"].includes(k) && typeof v !== "object");
  $("info").textContent = m.description + (facts.length ? " (" + facts.map(([k, v]) => `${k} ${v}`).join(", ") + ")" : "");
  $("routes").replaceChildren(...m.routes.map((route) => {
    const box = make("fieldset"); box.dataset.route = route.name;
    box.append(make("legend", {textContent: route.label}));
    if (route.upload) {
      box.append(make("input", {id: `${route.name}-file`, type: "file", accept: route.accepts.join(",")}));
      route.form.forEach((f) => {
        const choices = m[f + "s"];
        const spec = Array.isArray(choices) ? {enum: choices, default: choices[0]} : {type: "string"};
        box.append(field(route, f, spec));
      });
    } else {
      Object.entries((route.schema || {}).properties || {}).forEach(([k, spec]) => box.append(field(route, k, spec)));
    }
    const go = make("button", {id: `${route.name}-go`, textContent: route.label}); go.onclick = () => submit(route);
    const link = make("a", {id: `${route.name}-download`, textContent: "Download", hidden: true});
    box.append(go, " ", link, make("div", {id: `${route.name}-result`, hidden: true}));
    return box;
  }));
}
$("model").onchange = build;
fetch("/models").then((r) => r.json()).then((list) => {
  models = list;
  for (const m of list) $("model").append(make("option", {textContent: m.name}));
  build();
});
</script>
</body></html>
"""
