// Starts Redoc on the API reference page (/api/v1/redoc/) without an inline script.
// The page's CSP lets styles with its nonce in; Redoc gives the nonce to the <style>
// elements it writes. This script's element carries the nonce in its `nonce` property.
(function () {
  "use strict";
  var container = document.getElementById("redoc-container");
  var options = JSON.parse(container.getAttribute("data-options") || "{}");
  options.nonce = document.currentScript.nonce;
  window.Redoc.init(container.getAttribute("data-spec-url"), options, container);
})();
