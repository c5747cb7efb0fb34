// tabayyun workbench: the ingest page's uploads, reprocessing and job progress. Plain JavaScript, no dependencies;
// every text from the server is set with textContent, never as HTML.
"use strict";

(function () {
  const root = document.getElementById("ingest");
  if (!root) return;
  const api = root.dataset.api;
  const label = (name) => root.dataset["label" + name.charAt(0).toUpperCase() + name.slice(1)] || name;
  const $ = (id) => document.getElementById(id);
  const tokenInput = $("token");
  const TOKEN_KEY = "tabayyun-token";
  let chosen = [];

  tokenInput.value = localStorage.getItem(TOKEN_KEY) || "";
  $("token-form").addEventListener("submit", (event) => event.preventDefault());
  tokenInput.addEventListener("change", () => {
    if (tokenInput.value) localStorage.setItem(TOKEN_KEY, tokenInput.value);
    else localStorage.removeItem(TOKEN_KEY);
  });

  function headers(extra) {
    const result = Object.assign({}, extra || {});
    if (tokenInput.value) result["Authorization"] = "Bearer " + tokenInput.value;
    return result;
  }

  function showState(text) { $("state").textContent = text; }

  function showFailures(failures) {
    const list = $("failures");
    list.replaceChildren();
    (failures || []).forEach((failure) => {
      const item = document.createElement("li");
      const source = document.createElement("code");
      source.textContent = failure.source || "";
      source.dir = "ltr";
      item.append(source, document.createTextNode(": " + (failure.message || "")));
      list.append(item);
    });
  }

  async function errorText(response) {
    try {
      const body = await response.json();
      const error = body.error || {};
      const details = (error.details || []).map((d) => d.problem || "").filter(Boolean);
      return [error.message || response.statusText].concat(details).join(" — ");
    } catch (e) {
      return response.statusText;
    }
  }

  function showJob(job) {
    const progress = job.progress || {};
    const bar = $("progress");
    if (progress.total) {
      bar.max = progress.total;
      bar.value = progress.done || 0;
    } else if (job.state === "done") {
      bar.max = 1; bar.value = 1;
    } else {
      bar.removeAttribute("value");
    }
    let text = label(job.state);
    if (progress.total) text += " · " + (progress.done || 0) + " / " + progress.total;
    [["stored", "stored"], ["duplicates", "duplicates"], ["changed", "changed"],
     ["failed", "failedItems"]].forEach(([name, key]) => {
      if (progress[name] !== undefined) text += " · " + label(key) + ": " + progress[name];
    });
    if (job.error) text += " · " + job.error;
    showState(text);
    if (job.result && job.result.failures) showFailures(job.result.failures);
    if (job.result && job.result.sites_grown) showGrown(job.result.sites_grown);
  }

  // Sites whose newly repeated lines their earlier pages still hold: offer to clean those pages again.
  let grownSites = [];
  function showGrown(sites) {
    grownSites = sites;
    $("grown-sites").textContent = sites.join("، ");
    $("grown").hidden = !sites.length;
  }

  async function poll(url) {
    for (;;) {
      const response = await fetch(url, { headers: headers() });
      if (!response.ok) { showState(label("error") + ": " + await errorText(response)); return; }
      const job = await response.json();
      showJob(job);
      if (job.state === "done" || job.state === "failed") return;
      await new Promise((resolve) => setTimeout(resolve, 700));
    }
  }

  async function send(path, options) {
    showFailures([]);
    showState(label("queued"));
    try {
      const response = await fetch(api + path, Object.assign({ method: "POST" }, options));
      if (!response.ok) { showState(label("error") + ": " + await errorText(response)); return; }
      const body = await response.json();
      const job = body.job || {};
      showJob(job);
      await poll(body.status_url || (api + "/jobs/" + job.id));
    } catch (e) {
      showState(label("error") + ": " + e.message);
    }
  }

  function choose(files) {
    chosen = Array.from(files || []);
    const list = $("chosen");
    list.replaceChildren();
    chosen.forEach((file) => {
      const item = document.createElement("li");
      item.textContent = file.name;
      list.append(item);
    });
  }

  const drop = $("drop");
  ["dragenter", "dragover"].forEach((name) => drop.addEventListener(name, (event) => {
    event.preventDefault();
    drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((name) => drop.addEventListener(name, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (event) => { event.preventDefault(); choose(event.dataTransfer.files); });
  $("files").addEventListener("change", (event) => choose(event.target.files));

  $("send-files").addEventListener("click", () => {
    if (!chosen.length) { showState(label("empty")); return; }
    const form = new FormData();
    chosen.forEach((file) => form.append("files", file, file.name));
    send("/ingest/files", { headers: headers(), body: form });
  });

  $("send-urls").addEventListener("click", () => {
    const urls = $("urls").value.split("\n").map((line) => line.trim()).filter(Boolean);
    if (!urls.length) { showState(label("empty")); return; }
    send("/ingest/urls", { headers: headers({ "Content-Type": "application/json" }), body: JSON.stringify({ urls }) });
  });

  $("send-reprocess").addEventListener("click", () => {
    $("unfinished").hidden = true;       // a new run takes the unfinished one's place
    send("/reprocess", { headers: headers() });
  });
  $("send-reprocess-resume").addEventListener("click", () => {
    $("unfinished").hidden = true;
    send("/reprocess?resume=true", { headers: headers() });
  });
  $("send-reprocess-sites").addEventListener("click", () => {
    const query = grownSites.map((site) => "site=" + encodeURIComponent(site)).join("&");
    showGrown([]);
    send("/reprocess?" + query, { headers: headers() });
  });

  $("send-text").addEventListener("click", () => {
    const text = $("text").value.trim();
    if (!text) { showState(label("empty")); return; }
    const record = { text };
    const title = $("text-title").value.trim();
    const outlet = $("text-outlet").value.trim();
    if (title) record.title = title;
    if (outlet) record.outlet = outlet;
    send("/ingest/records", { headers: headers({ "Content-Type": "application/json" }), body: JSON.stringify([record]) });
  });
})();
