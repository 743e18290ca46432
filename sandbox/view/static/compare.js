// Two episodes side by side (e.g. the same seed under two models), steps aligned by index.
"use strict";
(function () {
  const SV = window.SV;
  const h = SV.h;

  function callText(step) {
    return step ? JSON.stringify(step.tool_call.arguments) + step.tool_call.name : "";
  }

  SV.views.cmp = function (main, route) {
    const a = route.a, b = route.b;
    Promise.all([SV.ensureRows(b[0]), SV.loadEpisode(a[0], a[1]), SV.loadEpisode(b[0], b[1])]).then(function (loaded) {
      const left = loaded[1], right = loaded[2];
      const lp = SV.episodeParts(left, a[0], true), rp = SV.episodeParts(right, b[0], true);
      const title = function (run, ep, idx) {
        return h("div", { class: "cmp-title" }, h("a", { href: "#/ep/" + run + "/" + idx }, "open #" + idx),
          " · " + SV.run(run).label);
      };
      const grid = h("div", { class: "compare", id: "compare" },
        h("div", { class: "side left" }, title(a[0], left, a[1]), lp.head),
        h("div", { class: "side right" }, title(b[0], right, b[1]), rp.head));
      const n = Math.max(left.steps.length, right.steps.length);
      for (let i = 0; i < n; i += 1) {
        const differs = callText(left.steps[i]) !== callText(right.steps[i]);
        grid.appendChild(h("div", { class: "side left" + (differs ? " differs" : "") }, lp.steps[i] || h("p", { class: "muted gap" }, "— no step " + (i + 1) + " —")));
        grid.appendChild(h("div", { class: "side right" + (differs ? " differs" : "") }, rp.steps[i] || h("p", { class: "muted gap" }, "— no step " + (i + 1) + " —")));
      }
      grid.appendChild(h("div", { class: "side left" }, lp.tail));
      grid.appendChild(h("div", { class: "side right" }, rp.tail));
      main.replaceChildren(h("nav", { class: "ep-nav" },
        h("a", { href: "#/list/" + route.run, id: "back" }, "← list (Esc)"),
        h("button", { id: "swap", onclick: function () { SV.go("#/cmp/" + b[0] + "/" + b[1] + "/" + a[0] + "/" + a[1]); } }, "swap sides"),
        h("span", { class: "muted" }, "steps whose tool call differs are marked")), grid);
      SV.state.step = 0;
      SV.keyHandler = function (event) {
        switch (event.key) {
          case "j": SV.focusStep(Math.min(n, (SV.state.step || 0) + 1)); return true;
          case "k": SV.focusStep(Math.max(1, (SV.state.step || 1) - 1)); return true;
          case "Escape": case "u": SV.go("#/list/" + route.run); return true;
          default: return false;
        }
      };
    }).catch(function (error) {
      main.replaceChildren(h("p", { class: "error-box" }, "Could not load the two episodes: " + error.message));
    });
  };
})();
