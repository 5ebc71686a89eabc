// Small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  document.querySelectorAll(".js-hide-when-scripted").forEach(function (el) {
    el.classList.add("d-none");
  });
  document.querySelectorAll("select.js-autosubmit").forEach(function (select) {
    select.addEventListener("change", function () {
      select.form.submit();
    });
  });
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var target = document.getElementById(button.getAttribute("data-copy"));
      if (!target || !navigator.clipboard) { return; }
      navigator.clipboard.writeText(target.value || target.textContent.trim()).then(function () {
        var label = button.getAttribute("data-copied-label");
        if (label) { button.textContent = label; }
      });
    });
  });
})();
