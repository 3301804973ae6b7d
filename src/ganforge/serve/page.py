"""The single web page of ``ganforge serve``: plain HTML and JavaScript, no external resources."""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ganforge</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body { font-family: system-ui, sans-serif; margin: 2em; max-width: 60em; color: #222; }
 fieldset { margin-bottom: 1.2em; border: 1px solid #ccc; border-radius: 6px; }
 label { margin-right: 1em; } input[type=number] { width: 6em; }
 img.result { image-rendering: pixelated; min-width: 256px; max-width: 100%; border: 1px solid #ddd; margin-top: .6em; }
 #error { color: #b00020; min-height: 1.2em; }
</style></head>
<body>
<h1>ganforge</h1>
<p><label>Model <select id="model"></select></label> <span id="info"></span></p>
<p id="error" role="alert"></p>
<fieldset id="gen-box"><legend>Generate</legend>
 <label>Images <input id="n" type="number" min="1" max="64" value="16"></label>
 <label>Seed <input id="seed" type="number" min="0" value="0"></label>
 <label>Class <input id="class" type="number" min="0" placeholder="all"></label>
 <button id="generate">Generate</button> <a id="gen-download" download="ganforge.png" hidden>Download</a>
 <div><img id="gen-result" class="result" alt="generated images" hidden></div>
</fieldset>
<fieldset id="interp-box"><legend>Interpolate between two seeds</legend>
 <label>Seed A <input id="seed-a" type="number" min="0" value="0"></label>
 <label>Seed B <input id="seed-b" type="number" min="0" value="1"></label>
 <label>t <input id="t" type="range" min="0" max="1" step="0.05" value="0"></label>
 <a id="interp-download" download="interpolation.png" hidden>Download</a>
 <div><img id="interp-result" class="result" alt="interpolated image" width="112" hidden></div>
</fieldset>
<fieldset id="translate-box"><legend>Translate an image</legend>
 <input id="file" type="file" accept="image/*">
 <label>Direction <select id="direction"></select></label>
 <button id="translate">Translate</button> <a id="tr-download" download="translated.png" hidden>Download</a>
 <div><img id="tr-result" class="result" alt="translated image" hidden></div>
</fieldset>
<script>
const $ = (id) => document.getElementById(id);
let models = [];
function current() { return models.find((m) => m.name === $("model").value); }
function showError(text) { $("error").textContent = text || ""; }
async function show(response, imgId, linkId) {
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error; } catch (e) {}
    showError(message); return;
  }
  showError("");
  const url = URL.createObjectURL(await response.blob());
  const img = $(imgId); img.src = url; img.hidden = false;
  const link = $(linkId); link.href = url; link.hidden = false;
}
function post(path, body) {
  return fetch(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
}
function refresh() {
  const m = current(); if (!m) return;
  const generator = m.kind === "generator";
  $("gen-box").hidden = !generator; $("interp-box").hidden = !generator; $("translate-box").hidden = generator;
  $("class").disabled = !(generator && m.num_classes > 0);
  if (!generator) {
    $("direction").replaceChildren(...m.directions.map((d) => { const o = document.createElement("option");
                                                                 o.textContent = d; return o; }));
  }
  $("info").textContent = generator
    ? `${m.image_shape.join("x")} images` + (m.num_classes ? `, ${m.num_classes} classes` : "")
    : `translation: ${m.directions.join(", ")}`;
}
function classValue() { const v = $("class").value; return v === "" || $("class").disabled ? null : Number(v); }
$("generate").onclick = async () => {
  await show(await post("/generate", {n: Number($("n").value), seed: Number($("seed").value),
                                       class: classValue(), model: $("model").value}), "gen-result", "gen-download");
};
async function interpolate() {
  await show(await post("/interpolate", {seed_a: Number($("seed-a").value), seed_b: Number($("seed-b").value),
                                          t: Number($("t").value), class: classValue(), model: $("model").value}),
             "interp-result", "interp-download");
}
$("t").oninput = interpolate;
$("translate").onclick = async () => {
  const file = $("file").files[0]; if (!file) { showError("choose an image first"); return; }
  const form = new FormData();
  form.append("file", file); form.append("model", $("model").value); form.append("direction", $("direction").value);
  await show(await fetch("/translate", {method: "POST", body: form}), "tr-result", "tr-download");
};
$("model").onchange = refresh;
fetch("/models").then((r) => r.json()).then((list) => {
  models = list;
  for (const m of list) { const o = document.createElement("option"); o.textContent = m.name; $("model").append(o); }
  refresh();
});
</script>
</body></html>
"""
