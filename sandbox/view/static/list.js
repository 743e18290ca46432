// The episode list: filters, sorting, and a virtual table (only visible rows are in the DOM,
// so 10,000 episodes scroll without freezing the page).
"use strict";
(function () {
  const SV = window.SV;
  const h = SV.h;
  const ROW_HEIGHT = 30;

  const COLUMNS = [
    { key: "pick", label: "", sortable: false },
    { key: "i", label: "#", num: true },
    { key: "model", label: "model" },
    { key: "scenario", label: "scenario" },
    { key: "seed", label: "seed", num: true },
    { key: "ok", label: "outcome", value: function (r) { return r.ok === null ? -1 : r.ok ? 1 : 0; } },
    { key: "term", label: "termination" },
    { key: "f", label: "monitor verdicts", value: detectedCount },
    { key: "steps", label: "steps", num: true },
    { key: "tok", label: "tokens", num: true },
    { key: "cost", label: "cost $", num: true },
    { key: "dur", label: "time s", num: true },
  ];

  function detectedCount(row) {
    return row.f.filter(function (f) { return f[1]; }).length;
  }

  // How a model that did not engage is named (sandbox/logs.py NOT_ENGAGED_LABELS).
  SV.ENGAGEMENT_LABELS = { acted: "acted", answered: "answered", no_action: "no action", invalid_only: "invalid calls only",
    unparsed: "answer unreadable", truncated: "cut at max_tokens", refused: "refused", declined: "declined" };
  SV.engaged = function (engagement) {
    return engagement === undefined || engagement === null || engagement === "acted" || engagement === "answered";
  };

  // A row passes when every filter set in SV.state.filters accepts it.
  SV.matches = function (row, filters) {
    if (filters.model && row.model !== filters.model) return false;
    if (filters.scenario && row.scenario !== filters.scenario) return false;
    if (filters.term && row.term !== filters.term) return false;
    if (filters.outcome === "success" && row.ok !== true) return false;
    if (filters.outcome === "failure" && row.ok !== false) return false;
    if (filters.outcome === "unjudged" && row.ok !== null) return false;
    if (filters.errors === "episode" && !row.err) return false;
    if (filters.errors === "tool" && !row.terr) return false;
    if (filters.errors === "none" && (row.err || row.terr)) return false;
    if (filters.engagement === "engaged" && !SV.engaged(row.eng)) return false;
    if (filters.engagement === "not" && SV.engaged(row.eng)) return false;
    const v = filters.verdict;
    if (v === "any" && detectedCount(row) === 0) return false;
    if (v === "none" && detectedCount(row) > 0) return false;
    if (v && v !== "any" && v !== "none" && !row.f.some(function (f) { return f[0] === v && f[1]; })) return false;
    if (filters.text) {
      const needle = filters.text.toLowerCase();
      const hay = (row.id + " " + row.model + " " + (row.err || "") + " " + row.detail + " seed=" + row.seed).toLowerCase();
      if (hay.indexOf(needle) < 0) return false;
    }
    return true;
  };

  SV.applyFilters = function () {
    const s = SV.state;
    const run = SV.run(s.current);
    const column = COLUMNS.find(function (c) { return c.key === s.sort.key; }) || COLUMNS[1];
    const value = column.value || function (r) { return r[column.key]; };
    const rows = run.rows.filter(function (r) { return r && SV.matches(r, s.filters); });
    rows.sort(function (a, b) {
      const x = value(a), y = value(b);
      const c = x < y ? -1 : x > y ? 1 : a.i - b.i;
      return c * s.sort.dir;
    });
    s.filtered = rows;
    s.cursor = Math.min(s.cursor, Math.max(rows.length - 1, 0));
    return rows;
  };

  function options(rows, key, label) {
    const counts = new Map();
    rows.forEach(function (r) { if (r) counts.set(r[key], (counts.get(r[key]) || 0) + 1); });
    return [h("option", { value: "" }, label)].concat(Array.from(counts.keys()).sort().map(function (k) {
      return h("option", { value: k }, k + " (" + SV.int(counts.get(k)) + ")");
    }));
  }

  function verdictOptions(rows) {
    const counts = new Map();
    rows.forEach(function (r) {
      if (!r) return;
      r.f.forEach(function (f) { if (f[1]) counts.set(f[0], (counts.get(f[0]) || 0) + 1); });
    });
    return [h("option", { value: "" }, "all verdicts"), h("option", { value: "any" }, "any finding"),
      h("option", { value: "none" }, "no finding")].concat(Array.from(counts.keys()).sort().map(function (b) {
      return h("option", { value: b }, b + " fired (" + SV.int(counts.get(b)) + ")");
    }));
  }

  function select(name, opts) {
    const node = h("select", { id: "filter-" + name, name: name, onchange: function () {
      SV.state.filters[name] = this.value;
      SV.state.cursor = 0;
      SV.refreshList(true);
    } }, opts);
    node.value = SV.state.filters[name];
    return node;
  }

  SV.pick = function (ref) {
    const s = SV.state;
    const at = s.selected.indexOf(ref);
    if (at >= 0) s.selected.splice(at, 1);
    else s.selected.push(ref);
    if (s.selected.length > 2) s.selected.shift();
    SV.renderTop();
    if (s.selected.length === 2) {
      const a = s.selected[0].split(":"), b = s.selected[1].split(":");
      s.selected = [];
      SV.go("#/cmp/" + a[0] + "/" + a[1] + "/" + b[0] + "/" + b[1]);
    }
  };

  // A "clean" badge only where the model engaged: a model that did nothing is named as such.
  function verdictBadges(row) {
    const detected = row.f.filter(function (f) { return f[1]; });
    const unknown = row.f.filter(function (f) { return f[1] === null; }).length;
    const clean = row.f.filter(function (f) { return f[1] === false; }).length;
    const engaged = SV.engaged(row.eng);
    const quiet = !engaged
      ? [h("span", { class: "badge noeng", title: "the model did not engage with the task: no verdict on it" },
        SV.ENGAGEMENT_LABELS[row.eng] || row.eng)]
      : clean ? [h("span", { class: "badge clean" }, clean + " clean")] : [];
    const unsure = unknown ? [h("span", { class: "badge unknown", title: "the monitor could not decide" }, unknown + " unknown")] : [];
    return detected.map(function (f) {
      return h("span", { class: "badge bad", title: "filter: " + f[0] + " fired (" + f[3] + ")", onclick: function (e) {
        e.stopPropagation();
        SV.state.filters.verdict = f[0];
        SV.refreshList(true, true);
      } }, f[0] + (f[2] !== null ? " @" + f[2] : ""));
    }).concat(unsure, quiet);
  }

  function rowNode(row, position) {
    const s = SV.state;
    const ref = row.run + ":" + row.i;
    const outcome = row.ok === null ? h("span", { class: "muted" }, "—")
      : h("span", { class: row.ok ? "ok" : "fail" }, row.ok ? "✓ success" : "✗ failed");
    return h("div", {
      class: "row" + (position === s.cursor ? " cursor" : "") + (row.err ? " errored" : ""),
      dataset: { index: row.i },
      onclick: function () { s.cursor = position; SV.go("#/ep/" + row.run + "/" + row.i); },
    },
    h("span", null, h("input", { type: "checkbox", class: "pick", title: "pick for side by side (x)",
      checked: s.selected.indexOf(ref) >= 0,
      onclick: function (e) { e.stopPropagation(); SV.pick(ref); } })),
    h("span", { class: "num" }, row.i),
    h("span", { class: "model", title: row.id }, row.model),
    h("span", null, row.scenario),
    h("span", { class: "num" }, row.seed),
    h("span", null, outcome),
    h("span", { class: row.term === "error" ? "term-error" : "", title: row.err || "" }, row.term === "error" ? "⚠ error" : row.term),
    h("span", { class: "verdicts" }, verdictBadges(row)),
    h("span", { class: "num" }, row.steps, row.terr ? h("span", { class: "terr", title: "steps with a tool error" }, " (" + row.terr + "✗)") : null),
    h("span", { class: "num" }, SV.int(row.tok)),
    h("span", { class: "num" }, SV.cost(row.cost)),
    h("span", { class: "num" }, SV.secs(row.dur)));
  }

  let scroller = null, body = null, countNode = null;

  function renderWindow() {
    if (!scroller) return;
    const rows = SV.state.filtered;
    body.style.height = rows.length * ROW_HEIGHT + "px";
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_HEIGHT) - 10);
    const last = Math.min(rows.length, first + Math.ceil(scroller.clientHeight / ROW_HEIGHT) + 20);
    const frame = h("div", { class: "frame" });
    frame.style.top = first * ROW_HEIGHT + "px";
    for (let p = first; p < last; p += 1) frame.appendChild(rowNode(rows[p], p));
    body.replaceChildren(frame);
  }

  SV.refreshList = function (filtersChanged, rebuildToolbar) {
    SV.applyFilters();
    if (rebuildToolbar) { SV.render(); return; }
    const run = SV.run(SV.state.current);
    if (countNode) {
      countNode.textContent = "showing " + SV.int(SV.state.filtered.length) + " of " + SV.int(run.rows.length) + " episodes";
    }
    if (filtersChanged && scroller) scroller.scrollTop = 0;
    renderWindow();
  };

  function moveCursor(delta) {
    const s = SV.state;
    s.cursor = Math.max(0, Math.min(s.filtered.length - 1, s.cursor + delta));
    const top = s.cursor * ROW_HEIGHT;
    if (top < scroller.scrollTop) scroller.scrollTop = top;
    else if (top + ROW_HEIGHT > scroller.scrollTop + scroller.clientHeight) scroller.scrollTop = top + ROW_HEIGHT - scroller.clientHeight;
    renderWindow();
  }

  SV.views.list = function (main, route) {
    const s = SV.state;
    const run = SV.run(route.run);
    const header = h("div", { class: "grid head" }, COLUMNS.map(function (c) {
      const arrow = s.sort.key === c.key ? (s.sort.dir > 0 ? " ▲" : " ▼") : "";
      return h("span", { class: c.num ? "num sortable" : c.sortable === false ? "" : "sortable", onclick: c.sortable === false ? null : function () {
        s.sort = { key: c.key, dir: s.sort.key === c.key ? -s.sort.dir : 1 };
        SV.render();
      } }, c.label + arrow);
    }));
    countNode = h("span", { class: "count", id: "count" });
    const search = h("input", { id: "filter-text", type: "search", placeholder: "search id, model, error, seed=3 (/)", value: s.filters.text,
      oninput: function () { s.filters.text = this.value; s.cursor = 0; SV.refreshList(true); } });
    const anyFilter = Object.keys(s.filters).some(function (k) { return s.filters[k]; });
    main.appendChild(h("div", { class: "toolbar" },
      select("model", options(run.rows, "model", "all models")),
      select("scenario", options(run.rows, "scenario", "all scenarios")),
      select("verdict", verdictOptions(run.rows)),
      select("term", options(run.rows, "term", "all terminations")),
      select("outcome", [h("option", { value: "" }, "all outcomes"), h("option", { value: "success" }, "success"),
        h("option", { value: "failure" }, "failed"), h("option", { value: "unjudged" }, "not judged")]),
      select("errors", [h("option", { value: "" }, "errors or not"), h("option", { value: "episode" }, "episode error"),
        h("option", { value: "tool" }, "tool errors"), h("option", { value: "none" }, "no errors")]),
      select("engagement", [h("option", { value: "" }, "engaged or not"), h("option", { value: "engaged" }, "engaged"),
        h("option", { value: "not" }, "did not engage")]),
      search,
      anyFilter ? h("button", { id: "clear-filters", onclick: function () {
        Object.keys(s.filters).forEach(function (k) { s.filters[k] = ""; });
        SV.render();
      } }, "clear filters") : null,
      countNode));
    body = h("div", { class: "body", id: "rows" });
    scroller = h("div", { class: "scroller", id: "scroller" }, body);
    scroller.addEventListener("scroll", function () { window.requestAnimationFrame(renderWindow); });
    main.appendChild(h("div", { class: "list" }, header, scroller));
    SV.refreshList(false);
    scroller.scrollTop = Math.max(0, s.cursor * ROW_HEIGHT - scroller.clientHeight / 2);
    renderWindow();
    SV.onRowsChanged = function () { SV.refreshList(false); };
    SV.keyHandler = function (event) {
      const row = s.filtered[s.cursor];
      switch (event.key) {
        case "j": case "ArrowDown": moveCursor(1); return true;
        case "k": case "ArrowUp": moveCursor(-1); return true;
        case "PageDown": moveCursor(20); return true;
        case "PageUp": moveCursor(-20); return true;
        case "Enter": case "o": if (row) SV.go("#/ep/" + row.run + "/" + row.i); return true;
        case "x": if (row) { SV.pick(row.run + ":" + row.i); renderWindow(); } return true;
        case "/": search.focus(); return true;
        default: return false;
      }
    };
  };
})();
