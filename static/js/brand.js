// Brand pages: small enhancements; every form works without this file.
(function () {
  "use strict";

  // Brand signup: suggest the address from the name until the person types one.
  var name = document.getElementById("id_name");
  var slug = document.getElementById("id_slug");
  if (name && slug) {
    var touched = slug.value !== "";
    slug.addEventListener("input", function () { touched = slug.value !== ""; });
    name.addEventListener("input", function () {
      if (touched) { return; }
      slug.value = name.value
        .normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
        .toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60);
    });
  }

  // Campaign form: show the amount field of the chosen commission type only.
  var kinds = document.querySelectorAll("input[name=commission_type]");
  function showCommissionField() {
    var chosen = document.querySelector("input[name=commission_type]:checked");
    document.querySelectorAll("[data-commission]").forEach(function (el) {
      el.classList.toggle("d-none", !!chosen && el.getAttribute("data-commission") !== chosen.value);
    });
  }
  if (kinds.length) {
    kinds.forEach(function (input) { input.addEventListener("change", showCommissionField); });
    showCommissionField();
  }
})();

// Country lists: name the chosen countries under the list (a long list hides them), each
// with a button that unselects it.
(function () {
  "use strict";
  document.querySelectorAll("select[multiple][data-chosen-list]").forEach(function (select) {
    var list = document.createElement("div");
    list.className = "d-flex flex-wrap gap-1 mt-2";
    list.setAttribute("aria-live", "polite");
    select.insertAdjacentElement("afterend", list);
    function render() {
      list.replaceChildren();
      Array.prototype.forEach.call(select.selectedOptions, function (option) {
        var chip = document.createElement("button");
        chip.type = "button";
        chip.className = "btn btn-sm btn-light border py-0";
        chip.textContent = option.textContent + " ×";
        chip.setAttribute("aria-label", (select.getAttribute("data-remove-label") || "Remove") + ": " + option.textContent);
        chip.addEventListener("click", function () {
          option.selected = false;
          render();
        });
        list.appendChild(chip);
      });
    }
    select.addEventListener("change", render);
    render();
  });
})();
