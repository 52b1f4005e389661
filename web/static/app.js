// Progressive enhancement only: every page works without this file.
// Answers arrive as server-rendered, escaped HTML; nothing here builds
// markup from log text.
"use strict";

function streamAnswer(form) {
  const question = new FormData(form).get("q");
  if (!question || !window.EventSource) return false;
  const stage = document.getElementById("stage");
  const target = document.getElementById("answer");
  const events = new EventSource("/api/ask/stream?q=" + encodeURIComponent(question));
  history.replaceState(null, "", "/?q=" + encodeURIComponent(question));
  stage.textContent = "asking…";
  events.addEventListener("stage", (e) => { stage.textContent = JSON.parse(e.data).stage + "…"; });
  events.addEventListener("answer-html", (e) => { target.innerHTML = e.data; });
  events.addEventListener("done", (e) => {
    const feedback = document.getElementById("feedback");
    if (feedback) feedback.dataset.question = JSON.parse(e.data).question_id;
    stage.textContent = "";
    events.close();
  });
  events.addEventListener("error", (e) => {
    stage.textContent = e.data ? JSON.parse(e.data).error : "the answer stream was interrupted";
    events.close();
  });
  return true;
}

async function sendFeedback(button) {
  const box = button.closest("[data-question]");
  const status = document.querySelector("[data-feedback-status]");
  if (!box) { if (status) status.textContent = "still answering…"; return; }
  const comment = box.querySelector("input[name=comment]").value;
  const response = await fetch("/api/questions/" + encodeURIComponent(box.dataset.question) + "/feedback", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ useful: button.dataset.useful === "true", comment: comment }),
  });
  status.textContent = response.ok ? "Thanks: feedback kept." : "Feedback was not kept (" + response.status + ").";
}

async function upload(form) {
  const file = form.querySelector("input[type=file]").files[0];
  if (!file) return;
  const table = document.getElementById("uploads");
  const response = await fetch("/api/uploads?name=" + encodeURIComponent(file.name), { method: "POST", body: file });
  const job = await response.json();
  if (!response.ok) { alert(job.error || response.status); return; }
  const row = table.insertRow(1);
  const show = (j) => {
    row.replaceChildren(...[j.name, j.bytes, j.status + (j.error ? ": " + j.error : ""), j.records, j.bad].map((v) => {
      const cell = document.createElement("td");
      cell.textContent = String(v);
      return cell;
    }));
  };
  show(job);
  const timer = setInterval(async () => {
    const now = await (await fetch("/api/uploads/" + encodeURIComponent(job.id))).json();
    show(now);
    if (now.status === "done" || now.status === "failed") clearInterval(timer);
  }, 1000);
}

document.addEventListener("submit", (e) => {
  if (e.target.id === "ask" && streamAnswer(e.target)) e.preventDefault();
  if (e.target.id === "upload") { e.preventDefault(); upload(e.target); }
});

document.addEventListener("click", (e) => {
  const button = e.target.closest("button");
  if (!button) return;
  if (button.dataset.useful) sendFeedback(button);
  if (button.dataset.copy) {
    const text = document.getElementById(button.dataset.copy).textContent;
    navigator.clipboard.writeText(text).then(() => { button.textContent = "Copied"; });
  }
});
