// Core of the run viewer: data loading through <script src> (works from file:// and HTTP),
// a DOM helper that only ever creates text nodes for data (never innerHTML), state, routing,
// live polling of status.js and keyboard dispatch. Views live in list.js, episode.js,
// compare.js and report.js; app.js starts everything.
"use strict";
(function () {
  const SV = (window.SV = window.SV || {});
  const arrived = new Map();
  const inflight = new Map();

  // Data files call SVData("their/relative/path.js", payload).
  window.SVData = function (key, payload) {
    arrived.set(String(key), payload);
  };

  SV.load = function (path, bust) {
    const url = path + (bust !== undefined ? "?v=" + encodeURIComponent(String(bust)) : "");
    if (inflight.has(url)) return inflight.get(url);
    const promise = new Promise(function (resolve, reject) {
      const script = document.createElement("script");
      script.src = url;
      script.onload = function () {
        script.remove();
        inflight.delete(url);
        if (arrived.has(path)) {
          const data = arrived.get(path);
          arrived.delete(path);
          resolve(data);
        } else {
          reject(new Error("no data in " + path));
        }
      };
      script.onerror = function () {
        script.remove();
        inflight.delete(url);
        reject(new Error("cannot load " + path));
      };
      document.head.appendChild(script);
    });
    inflight.set(url, promise);
    return promise;
  };

  // Text of any bytes is shown as text that cannot rewrite the page around it: control characters
  // (terminal escapes, NUL, carriage return), format characters (bidirectional overrides and
  // isolates, zero-width marks; the joiner of emoji excepted), line separators and lone surrogates
  // (a byte that is not UTF-8 arrives as U+DC80–U+DCFF) become escapes — \x1b, \u202e, \xff —
  // marked as such (span.esc), so they never read like characters the agent typed. The same
  // characters as sandbox/rawtext.py escapes for the terminal report.
  const UNSAFE = /(?![\n\t\u200d])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;
  function hex(n, width) { return n.toString(16).padStart(width, "0"); }
  SV.escapeOf = function (ch) {
    const code = ch.codePointAt(0);
    if (code < 0x80 || (code >= 0xdc80 && code <= 0xdcff)) return "\\x" + hex(code & 0xff, 2);
    return code <= 0xffff ? "\\u" + hex(code, 4) : "\\U" + hex(code, 8);
  };
  function describe(ch) {
    const code = ch.codePointAt(0);
    const name = "U+" + hex(code, 4).toUpperCase();
    if (code >= 0xdc80 && code <= 0xdcff) return "a byte (0x" + hex(code & 0xff, 2) + ") that is not UTF-8";
    if (code >= 0xd800 && code <= 0xdfff) return "a lone surrogate " + name + " (not a character)";
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return "control character " + name;
    return "invisible or direction-changing character " + name;
  }
  // The text with unsafe characters escaped (for attributes and plain strings).
  SV.plain = function (value) {
    return String(value).replace(UNSAFE, SV.escapeOf);
  };
  // A text node, or a fragment of text nodes and marked escapes.
  SV.text = function (value) {
    const s = String(value);
    UNSAFE.lastIndex = 0;
    if (!UNSAFE.test(s)) return document.createTextNode(s);
    const frag = document.createDocumentFragment();
    let last = 0;
    UNSAFE.lastIndex = 0;
    for (let m = UNSAFE.exec(s); m; m = UNSAFE.exec(s)) {
      if (m.index > last) frag.appendChild(document.createTextNode(s.slice(last, m.index)));
      const mark = document.createElement("span");
      mark.className = "esc";
      mark.title = describe(m[0]);
      mark.textContent = SV.escapeOf(m[0]);
      frag.appendChild(mark);
      last = m.index + m[0].length;
    }
    if (last < s.length) frag.appendChild(document.createTextNode(s.slice(last)));
    return frag;
  };

  // h("div", {class: "x", onclick: fn}, "text", child…): strings always become text (SV.text).
  SV.h = function (tag, props) {
    const node = document.createElement(tag);
    if (props) {
      for (const key of Object.keys(props)) {
        const value = props[key];
        if (value === null || value === undefined || value === false) continue;
        if (key === "class") node.className = value;
        else if (key === "text") node.replaceChildren(SV.text(value));
        else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
        else if (key === "dataset") Object.assign(node.dataset, value);
        else node.setAttribute(key, value === true ? "" : SV.plain(value));
      }
    }
    const kids = Array.prototype.slice.call(arguments, 2).flat(Infinity);
    for (const kid of kids) {
      if (kid === null || kid === undefined || kid === false) continue;
      node.appendChild(kid instanceof Node ? kid : SV.text(kid));
    }
    return node;
  };

  SV.pad = function (n, width) {
    return String(n).padStart(width, "0");
  };
  SV.int = function (n) {
    return n === null || n === undefined ? "—" : Number(n).toLocaleString("en-US");
  };
  SV.cost = function (n) {
    if (n === null || n === undefined) return "unknown";
    return n ? Number(n).toFixed(4) : "0";
  };
  SV.secs = function (n) {
    return n === null || n === undefined ? "—" : Number(n).toFixed(1);
  };
  SV.http = location.protocol === "http:" || location.protocol === "https:";

  SV.state = {
    status: null,
    runs: {}, // key -> {label, count, rows: [], chunks: [], info: run.js payload, rv}
    current: null,
    filters: { model: "", scenario: "", verdict: "", term: "", outcome: "", errors: "", engagement: "", text: "" },
    sort: { key: "i", dir: 1 },
    selected: [], // up to two "run:index" keys for side by side
    cursor: 0,
    filtered: [],
  };
  SV.views = {};
  SV.listeners = [];

  SV.run = function (key) {
    const s = SV.state;
    if (!s.runs[key]) s.runs[key] = { key: key, rows: [], chunks: [], info: null, rv: 0 };
    return s.runs[key];
  };

  // Rows of a run: load every chunk whose size grew since it was last loaded.
  SV.ensureRows = function (key) {
    const status = (SV.state.status.runs || []).find(function (r) { return r.key === key; });
    if (!status) return Promise.reject(new Error("unknown run " + key));
    const run = SV.run(key);
    run.label = status.label;
    run.count = status.count;
    run.finished = status.finished;
    const loads = [];
    status.chunks.forEach(function (size, chunk) {
      if ((run.chunks[chunk] || 0) >= size) return;
      const path = "data/" + key + "/rows/" + SV.pad(chunk, 4) + ".js";
      loads.push(SV.load(path, size).then(function (data) {
        data.rows.forEach(function (row, j) {
          row.run = key;
          run.rows[data.start + j] = row;
        });
        run.chunks[chunk] = Math.max(run.chunks[chunk] || 0, data.rows.length);
      }));
    });
    return Promise.all(loads).then(function () { return loads.length > 0; });
  };

  SV.ensureInfo = function (key) {
    const status = SV.state.status.runs.find(function (r) { return r.key === key; });
    const run = SV.run(key);
    if (run.info && run.rv === status.rv) return Promise.resolve(run.info);
    return SV.load("data/" + key + "/run.js", status.rv).then(function (info) {
      run.info = info;
      run.rv = status.rv;
      return info;
    });
  };

  SV.rowOf = function (ref) {
    const parts = String(ref).split(":");
    const run = SV.state.runs[parts[0]];
    return run ? run.rows[Number(parts[1])] : undefined;
  };

  // ---------- routing: #/list/r0, #/report/r0, #/ep/r0/12, #/cmp/r0/12/r1/40 ----------
  SV.parseHash = function () {
    const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
    const runs = SV.state.status.runs.map(function (r) { return r.key; });
    const okRun = function (k) { return runs.indexOf(k) >= 0 ? k : runs[0]; };
    const name = parts[0];
    if (name === "ep" && parts.length >= 3) return { name: "ep", run: okRun(parts[1]), index: Number(parts[2]) };
    if (name === "cmp" && parts.length >= 5) {
      return { name: "cmp", run: okRun(parts[1]), a: [okRun(parts[1]), Number(parts[2])], b: [okRun(parts[3]), Number(parts[4])] };
    }
    if (name === "report") return { name: "report", run: okRun(parts[1]) };
    return { name: "list", run: okRun(parts[1]) };
  };

  SV.go = function (hash) {
    if (location.hash === hash) SV.render();
    else location.hash = hash;
  };

  SV.render = function () {
    const route = SV.parseHash();
    SV.state.current = route.run;
    SV.state.route = route;
    SV.keyHandler = null;
    SV.onRowsChanged = null;
    SV.onStatus = null;
    SV.renderTop();
    const main = document.getElementById("main");
    const token = (SV.renderToken = (SV.renderToken || 0) + 1);
    SV.ensureRows(route.run).then(function () {
      if (token !== SV.renderToken) return;
      main.replaceChildren();
      SV.views[route.name](main, route);
      window.scrollTo(0, 0);
    }).catch(function (error) {
      main.replaceChildren(SV.h("p", { class: "error-box" }, "Could not load this run: " + error.message));
    });
  };

  // ---------- top bar ----------
  SV.renderTop = function () {
    const h = SV.h;
    const s = SV.state;
    const top = document.getElementById("top");
    const route = s.route;
    const select = h("select", { id: "run-select", title: "run", onchange: function () { SV.go("#/list/" + this.value); } },
      s.status.runs.map(function (r) {
        return h("option", { value: r.key, selected: r.key === route.run }, r.label + " (" + SV.int(r.count) + ")");
      }));
    const status = s.status.runs.find(function (r) { return r.key === route.run; });
    const live = s.status.live
      ? h("span", { class: status.finished ? "live done" : "live", id: "live" }, status.finished ? "finished" : "● live")
      : null;
    const tab = function (label, hash, active) {
      return h("a", { href: hash, class: active ? "tab active" : "tab" }, label);
    };
    const picked = s.selected.length;
    top.replaceChildren.apply(top, [
      h("span", { class: "brand" }, "agentic-sandbox · runs"),
      s.status.runs.length > 1 ? select : h("span", { class: "run-label" }, status.label),
      live,
      tab("Episodes", "#/list/" + route.run, route.name === "list"),
      tab("Report", "#/report/" + route.run, route.name === "report"),
      route.name === "ep" ? tab("Episode " + route.index, location.hash, true) : null,
      route.name === "cmp" ? tab("Side by side", location.hash, true) : null,
      h("span", { class: "spacer" }),
      picked ? h("span", { class: "picked", id: "picked" }, picked + " picked for side by side") : null,
      h("button", { class: "help-button", title: "keyboard (?)", onclick: SV.toggleHelp }, "?")].filter(Boolean));
  };

  // ---------- live refresh ----------
  SV.poll = function () {
    SV.load("status.js", Date.now()).then(function (status) {
      if (status.version === SV.state.status.version) return;
      SV.state.status = status;
      const key = SV.state.current;
      SV.ensureRows(key).then(function (grew) {
        if (grew && SV.onRowsChanged) SV.onRowsChanged();
        if (SV.onStatus) SV.onStatus();
        SV.renderTop();
      });
    }).catch(function () { /* the server is gone or the file is being replaced: try again */ });
  };

  // ---------- keyboard and help ----------
  SV.toggleHelp = function () {
    const old = document.getElementById("help");
    if (old) { old.remove(); return; }
    const h = SV.h;
    const keys = [
      ["j / k", "next / previous row (list) or step (episode)"],
      ["Enter / o", "open the episode under the cursor"],
      ["x", "pick the row for side by side (two picks open it)"],
      ["/", "search"],
      ["n / p  or  → / ←", "next / previous episode in the filtered list"],
      ["f", "next step where a monitor finding arose"],
      ["c", "side by side with the same seed under another model"],
      ["Esc / u", "back to the list"],
      ["?", "this help"],
    ];
    document.body.appendChild(h("div", { id: "help", class: "help", onclick: SV.toggleHelp },
      h("h2", null, "Keyboard"),
      h("table", null, keys.map(function (k) { return h("tr", null, h("td", { class: "key" }, k[0]), h("td", null, k[1])); }))));
  };

  document.addEventListener("keydown", function (event) {
    const target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA")) {
      if (event.key === "Escape") target.blur();
      return;
    }
    if (event.key === "?") { SV.toggleHelp(); event.preventDefault(); return; }
    if (SV.keyHandler && SV.keyHandler(event) === true) event.preventDefault();
  });
})();
