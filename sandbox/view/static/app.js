// Start: read status.js, draw the route in the address (#/list/r0 by default), poll when live.
"use strict";
(function () {
  const SV = window.SV;
  SV.load("status.js", Date.now()).then(function (status) {
    SV.state.status = status;
    window.addEventListener("hashchange", SV.render);
    SV.render();
    if (status.live && SV.http) window.setInterval(SV.poll, 1000);
  }).catch(function (error) {
    document.getElementById("main").replaceChildren(SV.h("p", { class: "error-box" },
      "Could not read status.js next to this page (" + error.message + "). Regenerate the site with python -m sandbox.view RUN_DIR."));
  });
})();
