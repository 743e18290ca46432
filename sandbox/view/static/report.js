// The run: manifest (models, scenario, config, versions, command), report tables with n and
// 95% CIs, and the run's figures.
"use strict";
(function () {
  const SV = window.SV;
  const h = SV.h;

  function table(t) {
    return h("figure", { class: "report-table" },
      t.title ? h("figcaption", { class: "title" }, t.title) : null,
      h("table", null, h("thead", null, h("tr", null, t.columns.map(function (c) { return h("th", null, c); }))),
        h("tbody", null, t.rows.map(function (r) { return h("tr", null, r.map(function (c) { return h("td", null, c); })); }))),
      t.caption ? h("figcaption", { class: "caption" }, t.caption) : null);
  }

  function manifestBlock(info) {
    const m = info.manifest;
    if (!m) return h("p", { class: "warn" }, "No manifest.json in " + info.dir + ".");
    const config = m.config || {};
    const models = (config.models || []).map(function (x) { return x.model; });
    // A run's config holds its scenarios (RunConfig); older manifests held one scenario's keys at the top.
    const scenarios = config.scenarios || [config];
    const plan = scenarios.map(function (sc) {
      return (scenarios.length > 1 ? sc.scenario + ": " : "") + (sc.trials !== undefined ? sc.trials : "—") + " · " +
        (sc.seed !== undefined ? sc.seed : "—");
    }).join("; ");
    const envs = scenarios.map(function (sc) { return sc.env; }).filter(Boolean);
    const rows = [["run id", m.run_id], ["scenario", m.scenario + (envs.length ? " (" + envs.join(", ") + ")" : "")],
      ["models", (models.length ? models : m.models && m.models.length ? m.models : info.models || []).join(", ")],
      ["trials · seed", plan],
      ["started", m.started_at], ["command", (m.command || []).join(" ")], ["directory", info.dir],
      ["state", info.finished ? "finished (summary.json written)" : "in progress or interrupted (no summary.json)"]];
    return h("div", null,
      h("dl", { class: "meta-grid" }, rows.map(function (r) { return [h("dt", null, r[0]), h("dd", null, String(r[1]))]; })),
      h("h3", null, "Config"), h("div", { class: "world" }, SV.tree(config)),
      h("h3", null, "Versions"), h("table", { class: "versions" }, Object.keys(m.versions || {}).map(function (k) {
        return h("tr", null, h("td", null, k), h("td", null, m.versions[k]));
      })));
  }

  SV.views.report = function (main, route) {
    const draw = function () {
      SV.ensureInfo(route.run).then(function (info) {
        main.replaceChildren(h("article", { class: "report", id: "report" },
          h("h1", null, info.label + " · " + SV.int(info.count) + " episodes"),
          info.warnings.length ? h("div", { class: "warn-box" }, h("strong", null, "Warnings"), h("ul", null, info.warnings.map(function (w) { return h("li", null, w); }))) : null,
          h("h2", null, "Results"), info.tables.length ? info.tables.map(table) : h("p", { class: "muted" }, "no episodes yet"),
          info.figures.length ? [h("h2", null, "Figures"), h("div", { class: "figures" }, info.figures.map(function (f) {
            return h("figure", null, h("img", { src: f.path + "?v=" + info.count, alt: f.title }), h("figcaption", null, f.title));
          }))] : null,
          h("h2", null, "Manifest"), manifestBlock(info)));
      }).catch(function (error) {
        main.replaceChildren(h("p", { class: "error-box" }, "Could not load the run: " + error.message));
      });
    };
    draw();
    SV.onStatus = function () { if (SV.state.route.name === "report") draw(); };
    SV.keyHandler = function (event) {
      if (event.key === "Escape" || event.key === "u") { SV.go("#/list/" + route.run); return true; }
      return false;
    };
  };
})();
