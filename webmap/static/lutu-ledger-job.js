// The ledger import job page (ledger_job.html): polls the job's state (JSON) every second and
// moves the progress bar without reloading; reloads the page once the job is over, when the
// server shows the preview, the result or the error. Without JavaScript the page refreshes
// itself (a <noscript> meta refresh). Text goes in as text only, never as markup.
(function () {
  "use strict";
  var page = document.querySelector("[data-job-status]");
  if (!page) return;
  var url = page.getAttribute("data-job-status");
  var bar = document.getElementById("lutu-job-bar");
  var stageZh = document.getElementById("lutu-job-stage-zh");
  var stageEn = document.getElementById("lutu-job-stage-en");
  var count = document.getElementById("lutu-job-count");
  var stages = Array.prototype.slice.call(page.querySelectorAll("[data-stage]"));
  var elapsed = Array.prototype.slice.call(page.querySelectorAll(".lutu-job-elapsed"));

  function number(n) {
    return Number(n).toLocaleString("en-US");
  }

  function show(job) {
    if (job.total === null || job.total === undefined) {
      bar.removeAttribute("value"); // indeterminate: the stage has no count
      count.textContent = job.done ? number(job.done) + " 行 rows" : "…";
    } else {
      bar.max = Math.max(job.total, 1);
      bar.value = job.done;
      count.textContent = number(job.done) + " / " + number(job.total) + " 行 rows";
    }
    elapsed.forEach(function (span) {
      // Both times are the server's: no client clock involved.
      span.textContent = String(Math.max(0, Math.round(job.updated - job.started)));
    });
    stageZh.textContent = job.stage_zh;
    stageEn.textContent = job.stage;
    var at = stages.map(function (li) { return li.getAttribute("data-stage"); }).indexOf(job.stage);
    stages.forEach(function (li, i) {
      li.className = i === at ? "is-current" : at >= 0 && i < at ? "is-done" : "";
    });
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (job) {
        if (job.state !== "running") {
          window.location.reload();
          return;
        }
        show(job);
        window.setTimeout(poll, 1000);
      })
      .catch(function () {
        // The server will say what is wrong (logged out, job gone) on the page itself.
        window.setTimeout(function () { window.location.reload(); }, 3000);
      });
  }

  window.setTimeout(poll, 1000);
})();
