// The page of newsclf-serve: classify a pasted article, show each task's probabilities as bars and
// colour its sentences by how much leaving each out moves the explained label (POST /explain).
"use strict";

const $ = (id) => document.getElementById(id);
let info = null;

function headers() {
  const key = sessionStorage.getItem("newsclf-key");
  const result = { "Content-Type": "application/json" };
  if (key) result["Authorization"] = "Bearer " + key;
  return result;
}

async function call(method, path, body) {
  const response = await fetch(path, { method, headers: headers(), body: body && JSON.stringify(body) });
  const data = await response.json().catch(() => ({ detail: response.statusText }));
  if (response.status === 401) $("key-row").hidden = false;
  if (!response.ok) throw new Error(data.detail || response.statusText);
  return data;
}

function showError(message) {
  $("error").textContent = message || "";
  $("error").hidden = !message;
}

async function loadInfo() {
  try {
    info = await call("GET", "info");
  } catch (error) {
    $("model-info").textContent = error.message;
    if (/loading/.test(error.message)) setTimeout(loadInfo, 1000);
    return;
  }
  const names = info.tasks.map((task) => task.name).join(", ");
  $("model-info").textContent = `Tasks: ${names} · reads ${info.text_fields.join(" + ")} · ${info.backend}`;
  $("target-row").hidden = !info.tasks.some((task) => task.kind === "pair");
  $("explain-task").replaceChildren(...info.tasks.map((task) => new Option(task.name, task.name)));
}

function article() {
  const result = {};
  for (const field of ["title", "content"]) {
    const value = $(field).value.trim();
    if (value && (!info || info.text_fields.includes(field))) result[field] = value;
  }
  const target = $("target").value.trim();
  if (target && !$("target-row").hidden) result.target = target;
  return result;
}

function renderBars(prediction) {
  const sections = Object.entries(prediction).map(([task, result]) => {
    const section = document.createElement("section");
    section.className = "task";
    section.dataset.task = task;
    const heading = document.createElement("h3");
    heading.textContent = `${task}: ${result.label}`;
    section.append(heading);
    const ranked = Object.entries(result.scores).sort((a, b) => b[1] - a[1]).slice(0, 8);
    for (const [label, score] of ranked) {
      const row = document.createElement("div");
      row.className = "bar" + (label === result.label ? " best" : "");
      row.dataset.label = label;
      row.dataset.score = score.toFixed(4);
      const name = document.createElement("span");
      name.textContent = label;
      const track = document.createElement("span");
      track.className = "track";
      const fill = document.createElement("span");
      fill.className = "fill";
      fill.style.width = (100 * score).toFixed(1) + "%";
      track.append(fill);
      const value = document.createElement("span");
      value.className = "value";
      value.textContent = (100 * score).toFixed(1) + "%";
      row.append(name, track, value);
      section.append(row);
    }
    return section;
  });
  $("results").replaceChildren(...sections);
}

function renderExplanation(explanation) {
  const heading = document.createElement("h2");
  heading.textContent = `Why ${explanation.task} = ${explanation.label} (${(100 * explanation.score).toFixed(1)}%)`;
  const legend = document.createElement("p");
  legend.className = "legend";
  legend.textContent = "Green sentences support the label, red ones argue against it; the stronger the colour, " +
    "the more leaving the sentence out changes the probability.";
  const largest = Math.max(1e-6, ...explanation.sentences.map((s) => Math.abs(s.effect)));
  const paragraph = document.createElement("p");
  for (const sentence of explanation.sentences) {
    const span = document.createElement("span");
    span.className = "sentence " + (sentence.effect >= 0 ? "support" : "against");
    span.dataset.effect = sentence.effect.toFixed(4);
    const strength = (0.6 * Math.abs(sentence.effect) / largest).toFixed(3);
    span.style.backgroundColor = sentence.effect >= 0 ? `rgba(40,160,60,${strength})` : `rgba(210,40,40,${strength})`;
    span.title = `${sentence.effect >= 0 ? "+" : ""}${(100 * sentence.effect).toFixed(1)} points without it`;
    span.textContent = sentence.text + " ";
    paragraph.append(span);
  }
  $("explanation").replaceChildren(heading, legend, paragraph);
}

async function classify(event) {
  event.preventDefault();
  showError("");
  const key = $("api-key").value.trim();
  if (key) sessionStorage.setItem("newsclf-key", key);
  if (!info) await loadInfo();
  const body = article();
  $("submit").disabled = true;
  try {
    renderBars(await call("POST", "predict", { articles: body }));
    let task = $("explain-task").value;
    const kindOf = (name) => info && info.tasks.find((t) => t.name === name)?.kind;
    if (kindOf(task) === "pair" && !body.target) task = info.tasks.find((t) => t.kind === "single")?.name;
    const explained = { ...body };
    if (kindOf(task) !== "pair") delete explained.target;  // a single-text task reads the article alone
    if (task) renderExplanation(await call("POST", "explain", { article: explained, task }));
  } catch (error) {
    showError(error.message);
  } finally {
    $("submit").disabled = false;
  }
}

$("article-form").addEventListener("submit", classify);
loadInfo();
