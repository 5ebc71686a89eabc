// CSV upload progress: poll the import's status and move the progress bar. The page is
// complete without this file (it shows the progress at the time it was rendered).
(function () {
  "use strict";
  var section = document.getElementById("csv-progress");
  if (!section) { return; }
  var url = section.getAttribute("data-status-url");
  var holder = section.querySelector("[data-progress-bar]");
  var bar = holder && holder.querySelector(".progress-bar");
  var badge = document.querySelector("[data-upload-badge]");
  var BADGES = { done: "badge text-bg-success", failed: "badge text-bg-danger" };
  var INTERVAL_MS = 1000;

  function setPercent(percent) {
    if (!bar) { return; }
    // The CSP allows no style attributes in the markup; the CSSOM is fine.
    bar.style.width = percent + "%";
    holder.setAttribute("aria-valuenow", String(percent));
  }

  function show(selector, visible) {
    section.querySelectorAll(selector).forEach(function (el) {
      el.classList.toggle("d-none", !visible);
    });
  }

  function render(data) {
    setPercent(data.percent);
    section.querySelectorAll("[data-progress]").forEach(function (el) {
      var name = el.getAttribute("data-progress");
      if (Object.prototype.hasOwnProperty.call(data, name)) {
        el.textContent = String(data[name]);
      }
    });
    if (badge) {
      badge.textContent = data.status_label;
      badge.className = BADGES[data.status] || "badge text-bg-primary";
    }
    if (data.finished) {
      section.setAttribute("data-finished", "true");
      bar.classList.remove("progress-bar-striped", "progress-bar-animated");
      bar.classList.add(data.status === "failed" ? "bg-danger" : "bg-success");
      show("[data-while-running]", false);
      show("[data-when-done]", data.status === "done");
      show("[data-when-failed]", data.status === "failed");
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        render(data);
        if (!data.finished) { window.setTimeout(poll, INTERVAL_MS); }
      })
      .catch(function () {
        // A network blip: try again a little later.
        window.setTimeout(poll, INTERVAL_MS * 5);
      });
  }

  setPercent(Number(bar ? bar.getAttribute("data-percent") : 0) || 0);
  if (section.getAttribute("data-finished") !== "true") {
    window.setTimeout(poll, INTERVAL_MS);
  }
})();
