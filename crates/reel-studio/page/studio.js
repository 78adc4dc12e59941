// reel studio's page: the library, a frame-accurate player with the analysed faces drawn
// (click one to choose it), a panel for every command, and the queue, kept current by the
// server's event stream. Every call goes to the same HTTP API scripts use.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { media: [], jobs: new Map(), commands: [], selected: null, faces: null, chosen: null };

async function api(path, init) {
  const response = await fetch(path, Object.assign({ credentials: "same-origin" }, init || {}));
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = { error: text }; }
  if (!response.ok) {
    throw new Error((body && body.error) || response.status + " " + response.statusText);
  }
  return body;
}

function say(text) { $("status").textContent = text; }

// ---- library ----

async function loadMedia() {
  state.media = await api("/api/media");
  if (settingsFor($("command").value).some((s) => s.media || s.name === "photo")) renderSettings();
  const list = $("media");
  list.textContent = "";
  for (const m of state.media) {
    const li = document.createElement("li");
    li.dataset.id = m.id;
    li.className = state.selected && state.selected.id === m.id ? "selected" : "";
    const detail = m.kind === "image" ? `${m.width}x${m.height}` :
      m.kind === "model" ? `swap model, ${m.width} px faces` :
      m.kind === "audio" ? `${isMidi(m) ? "MIDI" : "sound"}${m.duration ? ", " + m.duration.toFixed(1) + " s" : ""}` :
      `${m.width}x${m.height}, ${m.frames ?? "?"} frames`;
    li.innerHTML = `<span></span><br><small>${detail}${m.job ? ", made by job " + m.job : ""}</small>`;
    li.firstChild.textContent = m.name;
    li.title = m.name;
    li.addEventListener("click", () => select(m.id));
    list.appendChild(li);
  }
}

function isMidi(m) { return /\.midi?$/i.test(m.name); }

// The film's story (reel studio --film): checked as the command line checks it, its shape or
// its problems shown.
async function loadFilm() {
  let film;
  try { film = await api("/api/film"); } catch (e) { return; }
  if (!film.allowed) return;
  $("film").hidden = false;
  $("film-name").textContent = film.name;
  const verdict = $("film-verdict");
  verdict.className = film.ok ? "" : "problems";
  verdict.textContent = film.ok ?
    `${film.title || "untitled"}: ${film.nodes} nodes at ${film.fps} fps, starts at "${film.start}"` :
    film.problems.join("\n");
  $("film-outline").textContent = film.ok ? film.outline.join("\n") : "";
}

// The folder the user allowed (reel studio --folder): its files, each added to the library
// (a copy) with a click.
async function loadFolder() {
  let folder;
  try { folder = await api("/api/folder"); } catch (e) { return; }
  if (!folder.allowed) return;
  $("folder").hidden = false;
  $("folder-name").textContent = folder.name || "the folder";
  const list = $("folder-files");
  list.textContent = "";
  for (const f of folder.files) {
    const li = document.createElement("li");
    li.textContent = f.path;
    li.title = `${f.path} (${Math.round(f.bytes / 1000)} kB): click to add it to the library`;
    li.addEventListener("click", async () => {
      try {
        const m = await api("/api/folder/import", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ path: f.path }) });
        say(`${m.name} added`);
        await loadMedia();
        await select(m.id);
      } catch (e) {
        say(`not added: ${e.message}`);
      }
    });
    list.appendChild(li);
  }
  if (folder.more) {
    const li = document.createElement("li");
    li.textContent = `(only the first ${folder.files.length} are listed)`;
    list.appendChild(li);
  }
}

function upload(file) {
  // XMLHttpRequest for its upload progress.
  const form = new FormData();
  form.append("file", file, file.name);
  const xhr = new XMLHttpRequest();
  const bar = $("upload-progress");
  bar.hidden = false;
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.firstElementChild.value = e.loaded / e.total; };
  xhr.onload = async () => {
    bar.hidden = true;
    let body = {};
    try { body = JSON.parse(xhr.responseText); } catch (e) { body = { error: xhr.responseText }; }
    if (xhr.status === 201) {
      say(`${body.name} added`);
      await loadMedia();
      await select(body.id);
    } else {
      say(`upload refused: ${body.error || xhr.status}`);
    }
  };
  xhr.onerror = () => { bar.hidden = true; say("upload failed: the studio did not answer"); };
  xhr.open("POST", "/api/media");
  xhr.send(form);
}

function setUpLibrary() {
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    for (const f of e.dataTransfer.files) upload(f);
  });
  $("file").addEventListener("change", (e) => { for (const f of e.target.files) upload(f); e.target.value = ""; });
}

// ---- player ----

function fps() { return (state.selected && state.selected.fps) || 25; }
function frameCount() { return (state.selected && state.selected.frames) || 1; }
function currentFrame() {
  // The middle of a frame's time is asked for when stepping, so floor finds it.
  return Math.min(frameCount() - 1, Math.floor($("video").currentTime * fps() + 1e-3));
}

async function select(id) {
  const m = state.media.find((x) => x.id === id);
  if (!m) return;
  state.selected = m;
  state.faces = null;
  state.chosen = null;
  $("title").textContent = m.name;
  $("provenance").hidden = true;
  document.querySelectorAll("#media li").forEach((li) => li.classList.toggle("selected", Number(li.dataset.id) === id));
  const video = $("video"), still = $("still");
  const src = `/api/media/${id}/file`;
  // A trained model is shown by its preview grid; a MIDI file has nothing to play here.
  if (m.kind === "audio" && isMidi(m)) {
    video.hidden = true; video.removeAttribute("src"); video.load();
    still.hidden = true; still.removeAttribute("src");
  } else if (m.kind === "image" || m.kind === "model") {
    video.hidden = true; video.removeAttribute("src"); video.load();
    $("play").textContent = "Play";
    still.hidden = false; still.src = src;
    still.onload = () => drawFaces();
  } else {
    still.hidden = true;
    video.hidden = false; video.src = src;
    video.onloadeddata = () => drawFaces();
  }
  $("scrub").max = Math.max(0, frameCount() - 1);
  $("scrub").value = 0;
  $("frame-number").textContent = "frame 0";
  $("chosen").textContent = "Every face is edited; click a face to edit only that one.";
  $("analyze").disabled = m.analysed || m.kind === "model" || m.kind === "audio";
  $("analyze").textContent = m.analysed ? "Faces found" : "Find faces";
  $("run").disabled = false;
  $("compare").hidden = true;
  renderPreviewButton();
  if (m.analysed) await loadFaces();
  if (m.job && m.kind !== "model" && m.kind !== "audio") showProvenance(m.id);
  renderSettings();
}

async function loadFaces() {
  try {
    state.faces = await api(`/api/media/${state.selected.id}/faces`);
    drawFaces();
  } catch (e) {
    say(e.message);
  }
}

function stageElement() { return state.selected && ["image", "model"].includes(state.selected.kind) ? $("still") : $("video"); }

function facesNow() {
  if (!state.faces) return [];
  const frames = state.faces.frames;
  const index = state.selected.kind === "image" ? 0 : currentFrame();
  const f = frames[index] && frames[index].index === index ? frames[index] : frames.find((x) => x.index === index);
  return f ? f.faces : [];
}

function drawFaces() {
  const el = stageElement();
  const canvas = $("overlay");
  if (!el || !state.selected) return;
  canvas.width = el.clientWidth;
  canvas.height = el.clientHeight;
  canvas.style.left = el.offsetLeft + "px";
  canvas.style.top = el.offsetTop + "px";
  const g = canvas.getContext("2d");
  g.clearRect(0, 0, canvas.width, canvas.height);
  const sx = canvas.width / state.selected.width, sy = canvas.height / state.selected.height;
  for (const face of facesNow()) {
    const [x, y, w, h] = face.bbox;
    g.lineWidth = 2;
    g.strokeStyle = state.chosen === face.id ? "#ffd34d" : "#4dc3ff";
    g.strokeRect(x * sx, y * sy, w * sx, h * sy);
    g.fillStyle = g.strokeStyle;
    g.font = "13px system-ui";
    g.fillText(`face ${face.id}`, x * sx, Math.max(12, y * sy - 4));
  }
  if (state.selected.kind === "video") {
    const n = currentFrame();
    $("scrub").value = n;
    $("frame-number").textContent = `frame ${n}`;
  }
}

function seekFrame(n) {
  const video = $("video");
  n = Math.max(0, Math.min(frameCount() - 1, n));
  video.pause();
  video.currentTime = (n + 0.5) / fps();
}

function setUpPlayer() {
  const video = $("video");
  video.addEventListener("seeked", drawFaces);
  video.addEventListener("timeupdate", drawFaces);
  window.addEventListener("resize", drawFaces);
  $("back").addEventListener("click", () => seekFrame(currentFrame() - 1));
  $("forward").addEventListener("click", () => seekFrame(currentFrame() + 1));
  $("scrub").addEventListener("input", (e) => seekFrame(Number(e.target.value)));
  $("play").addEventListener("click", () => {
    if (video.paused) { video.play().catch(() => {}); $("play").textContent = "Pause"; }
    else { video.pause(); $("play").textContent = "Play"; }
  });
  video.addEventListener("pause", () => { $("play").textContent = "Play"; });
  $("overlay").addEventListener("click", (e) => {
    if (!state.selected) return;
    const canvas = $("overlay");
    const rect = canvas.getBoundingClientRect();
    const x = (e.clientX - rect.left) * state.selected.width / canvas.width;
    const y = (e.clientY - rect.top) * state.selected.height / canvas.height;
    // Animating a still: a click marks a point of the region that moves.
    const click = $("settings").elements.namedItem("click");
    if ($("command").value === "animate" && state.selected.kind === "image" && click) {
      const point = `${Math.round(x)},${Math.round(y)}`;
      click.value = click.value.trim() ? `${click.value.trim()}; ${point}` : point;
      return;
    }
    const hit = facesNow().find((f) => x >= f.bbox[0] && x <= f.bbox[0] + f.bbox[2] && y >= f.bbox[1] && y <= f.bbox[1] + f.bbox[3]);
    state.chosen = hit ? hit.id : null;
    $("chosen").textContent = hit ? `Face ${hit.id} chosen: only it is edited.` : "Every face is edited; click a face to edit only that one.";
    drawFaces();
  });
  $("analyze").addEventListener("click", () => submit("analyze", {}));
}

// ---- panels ----

const CLIP_OPTIONS = {
  trim: [
    { name: "from", help: "first frame kept: seconds, m:ss or frames (150f)", default: "0" },
    { name: "to", help: "where the kept part ends (empty: the end)", default: "" },
  ],
  retime: [
    { name: "fps", help: "frame rate: 60, 29.97 or 2x", default: "2x" },
    { name: "speed", help: "speed: 0.5 is half speed", default: 1 },
    { name: "method", help: "flow, blend or nearest", default: "flow" },
  ],
  join: [
    { name: "then", help: "the clip that follows", default: null, media: "video" },
    { name: "transition", help: "crossfade, wipe, flow or cut", default: "crossfade" },
    { name: "seconds", help: "transition length", default: 1 },
  ],
};

async function loadCommands() {
  state.commands = (await api("/api/commands")).filter((c) => c.name !== "analyze");
  const select = $("command");
  for (const c of state.commands) {
    const o = document.createElement("option");
    o.value = c.name;
    o.textContent = c.name;
    select.appendChild(o);
  }
  select.addEventListener("change", renderSettings);
  renderSettings();
}

function settingsFor(name) {
  const c = state.commands.find((x) => x.name === name);
  const own = c && c.settings.length ? c.settings : (CLIP_OPTIONS[name] || []);
  if (name !== "swap") return own;
  // A swap puts a face on only with its owner's recorded consent, or a reason why none is needed.
  return own.concat([{ name: "no_consent_check", help: "put the face on without a recorded consent, for this reason (your own face, a fictional one)", default: "" }]);
}

// Commands that generate from the prompt alone need no clip chosen; the live film needs one
// only to play it as the performance.
function needsInput(name) { return name !== "generate" && name !== "film_live"; }
function takesInput(name) {
  if (name !== "film_live") return needsInput(name);
  const listen = $("settings").elements.namedItem("listen");
  return !listen || listen.value === "file";
}

function renderPreviewButton() {
  const name = $("command").value;
  $("preview").disabled = !state.selected || !["beauty", "deage", "swap"].includes(name);
}

function renderSettings() {
  const name = $("command").value;
  renderPreviewButton();
  const c = state.commands.find((x) => x.name === name);
  $("about").textContent = c ? c.about + (c.model ? ` (model: ${c.model})` : "") + (c.story ? ` (story: ${c.story})` : "") : "";
  $("run").disabled = !state.selected && needsInput(name);
  const form = $("settings");
  // Drawn again for the same command (new media in the library): what the user set is kept.
  const kept = new Map();
  if (form.dataset.command === name) {
    for (const i of form.elements) if (i.name) kept.set(i.name, i.type === "checkbox" ? i.checked : i.value);
  }
  form.dataset.command = name;
  form.textContent = "";
  for (const s of settingsFor(name)) {
    const label = document.createElement("label");
    const media = s.media || (s.name === "photo" ? "image" : null);
    const numeric = !media && (typeof s.default === "number" || s.default === null);
    // An editing command's numbers are shares (but years, speed and seconds); a generating
    // command's and a training's are counts and scales, but a strength.
    const counts = c && (c.generates || c.film || c.name === "train");
    const unit = numeric && (counts ? s.name === "strength" : !["years", "speed", "seconds"].includes(s.name));
    let input = document.createElement("input");
    input.name = s.name;
    if (media) {
      // Other media of the library: a swap's photos, a first frame, a mask, the clip after.
      input = document.createElement("select");
      input.name = s.name;
      input.dataset.media = media;
      input.addEventListener("change", renderWith);
      if (s.optional) {
        const none = document.createElement("option");
        none.value = ""; none.textContent = "(none)";
        input.appendChild(none);
      }
      const choices = state.media.filter((x) => x.kind === media);
      for (const m of choices) {
        const o = document.createElement("option");
        o.value = m.id;
        o.textContent = m.name;
        input.appendChild(o);
      }
      // Other media than the one chosen in the library, where there is any.
      const other = choices.find((m) => !state.selected || m.id !== state.selected.id);
      if (!s.optional && other) input.value = other.id;
    } else if (typeof s.default === "boolean") {
      input.type = "checkbox"; input.checked = s.default;
    } else if (unit) {
      input.type = "range"; input.min = 0; input.max = 1; input.step = 0.05;
      input.value = s.default ?? 0.5;
    } else if (numeric) {
      input.type = "number"; input.step = "any";
      input.value = s.default ?? (s.name === "years" ? 15 : "");
    } else {
      input.type = "text"; input.value = s.default ?? "";
    }
    if (kept.has(s.name)) {
      const v = kept.get(s.name);
      if (input.type === "checkbox") input.checked = v;
      else if (input.tagName !== "SELECT" || [...input.options].some((o) => o.value === v)) input.value = v;
    }
    const value = document.createElement("output");
    value.textContent = unit ? ` ${input.value}` : "";
    input.addEventListener("input", () => { if (unit) value.textContent = ` ${input.value}`; });
    label.append(`${s.name} `, value, document.createElement("br"), input);
    label.title = s.help;
    // Settings that act only with another (a model swap's steady and grain, with its model).
    if (s.with) { input.dataset.with = s.with; label.dataset.with = s.with; }
    form.appendChild(label);
  }
  renderWith();
}

// A setting that acts only with another is shown, and sent, only while that one is chosen.
function renderWith() {
  const form = $("settings");
  for (const label of form.querySelectorAll("label[data-with]")) {
    const other = form.elements.namedItem(label.dataset.with);
    label.hidden = !other || !other.value;
  }
}

function chosenOptions() {
  const options = {};
  let inputs = state.selected && takesInput($("command").value) ? [state.selected.id] : [];
  for (const input of $("settings").elements) {
    // The form also holds the sliders' read-outs, which have no name.
    if (!["INPUT", "SELECT"].includes(input.tagName) || !input.name) continue;
    if (input.type === "checkbox") { if (input.checked) options[input.name] = true; continue; }
    if (input.value === "") continue;
    if (input.dataset.with) {
      const other = $("settings").elements.namedItem(input.dataset.with);
      if (!other || !other.value) continue;
    }
    if (input.name === "then") { inputs.push(Number(input.value)); continue; }
    if (input.dataset.media) { options[input.name] = Number(input.value); continue; }
    options[input.name] = input.type === "text" ? input.value : Number(input.value);
  }
  return { options, inputs };
}

async function submit(command, extra) {
  if (!state.selected && needsInput(command)) return;
  $("job-error").textContent = "";
  let body;
  if (command === "analyze") {
    body = { command, input: state.selected.id, options: extra };
  } else {
    const { options, inputs } = chosenOptions();
    if (["beauty", "deage", "swap"].includes(command) && state.chosen !== null) options.face = state.chosen;
    body = { command, input: inputs.length === 1 ? inputs[0] : inputs, options };
    if (!inputs.length) delete body.input;
  }
  try {
    const job = await api("/api/jobs", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    state.jobs.set(job.id, job);
    renderQueue();
    say(`job ${job.id} queued`);
  } catch (e) {
    $("job-error").textContent = e.message;
  }
}

async function preview() {
  if (!state.selected) return;
  $("job-error").textContent = "";
  const command = $("command").value;
  const { options } = chosenOptions();
  if (state.chosen !== null) options.face = state.chosen;
  const frame = state.selected.kind === "image" ? 0 : currentFrame();
  const started = performance.now();
  const after = $("after"), before = $("before");
  // The frame as it is comes while the edited one is made.
  const beforeLoaded = new Promise((done) => { before.onload = done; before.onerror = done; before.src = `/api/media/${state.selected.id}/frame/${frame}`; });
  const response = await fetch("/api/preview", {
    method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ command, input: state.selected.id, options, frame }),
  });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    $("job-error").textContent = body.error || `preview refused (${response.status})`;
    return;
  }
  const blob = await response.blob();
  if (after.src.startsWith("blob:")) URL.revokeObjectURL(after.src);
  await beforeLoaded;
  await new Promise((done) => { after.onload = done; after.onerror = done; after.src = URL.createObjectURL(blob); });
  $("compare").hidden = false;
  $("preview-time").textContent = `frame ${frame}: ${command} in ${response.headers.get("X-Reel-Preview-Ms")} ms (${Math.round(performance.now() - started)} ms with the transfer)`;
}

// ---- queue ----

function timeLeft(job) {
  if (job.state !== "running" || !job.started || job.progress <= 0.01) return "";
  const spent = Date.now() / 1000 - job.started;
  const left = spent * (1 - job.progress) / job.progress;
  return left < 60 ? `${Math.ceil(left)} s left` : `${Math.ceil(left / 60)} min left`;
}

function renderQueue() {
  const list = $("queue");
  list.textContent = "";
  const jobs = [...state.jobs.values()].sort((a, b) => b.id - a.id);
  for (const job of jobs) {
    const li = document.createElement("li");
    li.dataset.id = job.id;
    li.className = `job state-${job.state}`;
    const name = document.createElement("span");
    name.textContent = `#${job.id}`;
    const what = document.createElement("span");
    const names = job.input.map((id) => { const m = state.media.find((x) => x.id === id); return m ? m.name : `media ${id}`; });
    what.textContent = `${job.command}${names.length ? " of " + names.join(", ") : ""}: ${job.state}${job.error && job.state !== "cancelled" ? " (" + job.error + ")" : ""}`;
    const bar = document.createElement("progress");
    bar.max = 1; bar.value = job.progress;
    const left = document.createElement("span");
    left.textContent = timeLeft(job);
    const actions = document.createElement("span");
    if (job.state === "queued" || job.state === "running") {
      const b = document.createElement("button");
      // A live film is ended by stopping it; what was played is kept.
      b.textContent = job.command === "film_live" && job.state === "running" ? "Stop" : "Cancel"; b.className = "cancel";
      b.addEventListener("click", () => api(`/api/jobs/${job.id}/cancel`, { method: "POST" }).catch((e) => say(e.message)));
      actions.appendChild(b);
    }
    if (job.state === "failed" || job.state === "cancelled") {
      const b = document.createElement("button");
      b.textContent = "Retry"; b.className = "retry";
      b.addEventListener("click", () => api(`/api/jobs/${job.id}/retry`, { method: "POST" }).catch((e) => say(e.message)));
      actions.appendChild(b);
    }
    if (job.output) {
      const open = document.createElement("button");
      open.textContent = "Open"; open.className = "open";
      open.addEventListener("click", async () => { await loadMedia(); await select(job.output); });
      const down = document.createElement("a");
      down.textContent = " download"; down.className = "download";
      down.href = `/api/media/${job.output}/download`;
      actions.append(open, down);
    }
    li.append(name, what, bar, left, actions);
    if (job.command === "train" && job.detail && job.detail.loss) li.appendChild(trainingView(job));
    if (job.command.startsWith("film") && job.detail) li.appendChild(filmView(job));
    list.appendChild(li);
  }
}

// A training as it goes: its loss curve, its held-back quality and the preview grid (each
// person's faces as the model draws them, and the performer with the source's face on).
function trainingView(job) {
  const d = job.detail;
  const box = document.createElement("div");
  box.className = "training";
  const w = 320, h = 90, pad = 4;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("class", "loss");
  const points = d.loss || [];
  if (points.length > 1) {
    // The loss on a log scale: the first iterations' fall would flatten the rest.
    const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
    const logs = ys.map((v) => Math.log(Math.max(v, 1e-6)));
    const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...logs), y1 = Math.max(...logs);
    const x = (v) => pad + (w - 2 * pad) * (v - x0) / Math.max(1, x1 - x0);
    const y = (v) => h - pad - (h - 2 * pad) * (Math.log(Math.max(v, 1e-6)) - y0) / Math.max(1e-9, y1 - y0);
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    line.setAttribute("points", points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" "));
    svg.appendChild(line);
    const label = document.createElementNS("http://www.w3.org/2000/svg", "text");
    label.setAttribute("x", w - pad); label.setAttribute("y", 12); label.setAttribute("text-anchor", "end");
    label.textContent = `loss ${ys[ys.length - 1].toFixed(3)} (from ${ys[0].toFixed(3)}, log scale)`;
    svg.appendChild(label);
  }
  const caption = document.createElement("div");
  const q = (d.quality || [])[(d.quality || []).length - 1];
  caption.textContent = `iteration ${d.iteration} of ${d.iterations}` +
    (d.iterations_per_second ? `, ${d.iterations_per_second.toFixed(1)} it/s` : "") +
    (q ? `; held-back SSIM: source ${q[1].toFixed(3)}, performer ${q[2].toFixed(3)}` : "");
  box.append(svg, caption);
  if (d.preview) {
    const grid = document.createElement("img");
    grid.className = "grid";
    grid.alt = "the model's drawing: source, source as drawn, performer, performer as drawn, performer with the source's face";
    grid.src = `/api/jobs/${job.id}/preview?drawn=${d.preview}`;
    box.appendChild(grid);
  }
  return box;
}

// A film as it plays (the live film's own page streams its frames; the decisions so far
// beside it), or the path and decisions it took.
const liveImages = new Map();
function filmView(job) {
  const d = job.detail;
  const box = document.createElement("div");
  box.className = "live";
  // The queue is drawn again at every event: the stream's picture is kept, not reopened.
  let img = liveImages.get(job.id);
  if (job.state === "running" && d.page) {
    if (!img) {
      img = document.createElement("img");
      img.alt = "the film as it plays";
      img.src = `${d.page}stream`;
      liveImages.set(job.id, img);
    }
    box.appendChild(img);
  } else if (img) {
    img.removeAttribute("src");
    liveImages.delete(job.id);
  }
  const text = document.createElement("pre");
  const lines = [];
  if (d.listening) lines.push(`listening to ${d.listening}`);
  if (d.status) lines.push(d.status);
  if (d.path && d.path.length) lines.push(`path: ${d.path.join(" -> ")}`);
  if (d.decisions) lines.push(...d.decisions);
  text.textContent = lines.join("\n");
  box.appendChild(text);
  return box;
}

async function showProvenance(id) {
  const box = $("provenance");
  try {
    const p = await api(`/api/media/${id}/provenance`);
    const c = p.c2pa || {};
    const w = p.watermark || {};
    const lines = [
      `content credentials: ${c.state || "none"}${c.signer ? ", signed by " + c.signer : ""}`,
      ...(c.actions || []).map((a) => `  action: ${a.action || "?"}`),
      c.digital_source_type ? `  digital source type: ${c.digital_source_type}` : "",
      `watermark: ${w.found ? "found, payload " + w.payload + (w.matches_manifest ? " (the one the credentials name)" : "") : "not found"}`,
    ].filter(Boolean);
    box.textContent = lines.join("\n");
    box.hidden = false;
  } catch (e) {
    box.textContent = `provenance not read: ${e.message}`;
    box.hidden = false;
  }
}

function listen() {
  const events = new EventSource("/api/events");
  events.addEventListener("job", async (e) => {
    const job = JSON.parse(e.data);
    const before = state.jobs.get(job.id);
    state.jobs.set(job.id, job);
    renderQueue();
    if (job.state === "done" && (!before || before.state !== "done")) {
      await loadMedia();
      if (job.command === "analyze" && state.selected && job.input[0] === state.selected.id) {
        state.selected = state.media.find((m) => m.id === state.selected.id);
        $("analyze").disabled = true;
        $("analyze").textContent = "Faces found";
        await loadFaces();
      }
      say(`job ${job.id} done`);
    }
  });
}

async function start() {
  setUpLibrary();
  setUpPlayer();
  $("run").addEventListener("click", () => submit($("command").value));
  $("preview").addEventListener("click", () => preview().catch((e) => { $("job-error").textContent = e.message; }));
  $("split").addEventListener("input", (e) => { $("after").style.clipPath = `inset(0 0 0 ${e.target.value}%)`; });
  await loadCommands();
  await loadMedia();
  await loadFolder();
  await loadFilm();
  $("film-check").addEventListener("click", () => loadFilm());
  for (const job of await api("/api/jobs")) state.jobs.set(job.id, job);
  renderQueue();
  listen();
  say("ready");
}

start().catch((e) => say(`the studio could not start: ${e.message}`));
