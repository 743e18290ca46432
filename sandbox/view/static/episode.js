// One episode: header, error, engagement, monitor verdicts, prompts, every model turn (its text,
// even without a tool call; answers cut at max_tokens and failed attempts marked) with the steps
// it made (tool call, observation folded when long, world events, the step where a finding arose
// highlighted), final world state and figures. Everything from the log is set as text, never as HTML.
"use strict";
(function () {
  const SV = window.SV;
  const h = SV.h;
  const FOLD_LINES = 18;
  const FOLD_CHARS = 3000;
  const HEAD_LINES = 10;
  const TAIL_LINES = 5;
  const LOG_CUT = 20000; // agents/loop.py MAX_LOGGED_OBSERVATION
  const cache = new Map();

  SV.loadEpisode = function (run, index) {
    const key = run + ":" + index;
    if (cache.has(key)) return Promise.resolve(cache.get(key));
    return SV.load("data/" + run + "/ep/" + SV.pad(index, 6) + ".js").then(function (ep) {
      cache.set(key, ep);
      if (cache.size > 60) cache.delete(cache.keys().next().value);
      return ep;
    });
  };

  function label(text) {
    return h("div", { class: "label" }, text);
  }

  // Long text: the first and last lines, with a button that shows all of it.
  SV.folded = function (text, cls) {
    const lines = text.split("\n");
    const long = lines.length > FOLD_LINES || text.length > FOLD_CHARS;
    const pre = h("pre", { class: cls || "" });
    function line(textLine, cut) {
      const shown = cut && textLine.length > 400 ? textLine.slice(0, 400) + " …" : textLine;
      if (/\[output truncated: .*omitted\]/.test(textLine)) return h("mark", { class: "trunc", title: "the sandbox cut this output" }, shown);
      return SV.text(shown);
    }
    function fill(all) {
      pre.replaceChildren();
      const head = all ? lines : lines.slice(0, HEAD_LINES);
      const tail = all || lines.length <= HEAD_LINES + TAIL_LINES ? [] : lines.slice(-TAIL_LINES);
      head.forEach(function (l, n) { if (n) pre.appendChild(document.createTextNode("\n")); pre.appendChild(line(l, !all)); });
      if (tail.length) {
        pre.appendChild(document.createTextNode("\n"));
        pre.appendChild(h("span", { class: "hidden-lines" }, "⋯ " + SV.int(lines.length - HEAD_LINES - TAIL_LINES) + " lines folded ⋯"));
        tail.forEach(function (l) { pre.appendChild(document.createTextNode("\n")); pre.appendChild(line(l, true)); });
      }
    }
    fill(!long);
    if (!long) return pre;
    const button = h("button", { class: "unfold", onclick: function () {
      const open = button.dataset.open === "1";
      fill(!open);
      button.dataset.open = open ? "0" : "1";
      button.textContent = open ? "show all " + SV.int(lines.length) + " lines" : "fold";
    } }, "show all " + SV.int(lines.length) + " lines (" + SV.int(text.length) + " chars)");
    return h("div", { class: "fold" }, pre, button);
  };

  // A JSON value as a collapsible tree of text nodes.
  SV.tree = function (value, name, depth) {
    depth = depth || 0;
    const key = name !== undefined ? h("span", { class: "k" }, name + ": ") : null;
    if (value === null || typeof value !== "object") {
      const text = typeof value === "string" ? JSON.stringify(value) : String(value);
      if (text.length > 300) return h("div", { class: "leaf" }, key, SV.folded(String(value), "str"));
      return h("div", { class: "leaf" }, key, h("span", { class: "v " + typeof value }, text));
    }
    const entries = Array.isArray(value) ? value.map(function (v, i) { return [i, v]; }) : Object.entries(value);
    const shown = entries.slice(0, 200);
    const details = h("details", { open: depth < 1 },
      h("summary", null, key, Array.isArray(value) ? "[" + entries.length + "]" : "{" + entries.length + "}"),
      h("div", { class: "children" }, shown.map(function (e) { return SV.tree(e[1], e[0], depth + 1); }),
        entries.length > shown.length ? h("div", { class: "muted" }, "… " + (entries.length - shown.length) + " more") : null));
    return details;
  };

  function argsBlock(call) {
    let args = call.arguments;
    let note = null;
    if (typeof args === "string") {
      try { args = JSON.parse(args); } catch (e) { note = "arguments are not valid JSON (shown as the model sent them)"; }
    }
    if (note || args === null || typeof args !== "object" || Array.isArray(args)) {
      return h("div", { class: "args" }, note ? h("div", { class: "warn" }, note) : null, SV.folded(String(call.arguments), "raw"));
    }
    return h("div", { class: "args" }, Object.keys(args).map(function (k) {
      const v = args[k];
      const text = typeof v === "string" ? v : JSON.stringify(v, null, 2);
      return h("div", { class: "arg" }, h("span", { class: "k" }, k), SV.folded(text, k === "command" ? "shell" : ""));
    }));
  }

  function eventsTable(events) {
    if (!events.length) return null;
    return h("div", { class: "events" }, label("world events (" + events.length + ")"),
      h("table", null, events.map(function (e) {
        const rest = Object.keys(e).filter(function (k) { return ["kind", "step", "actor"].indexOf(k) < 0; })
          .filter(function (k) { return e[k] !== "" && e[k] !== null; })
          .map(function (k) { return k + "=" + (typeof e[k] === "string" ? e[k] : JSON.stringify(e[k])); }).join("  ");
        return h("tr", null, h("td", { class: "kind" }, e.kind), h("td", { class: "muted" }, e.actor), h("td", null, rest));
      })));
  }

  SV.stepNode = function (ep, step, withoutText) {
    const arising = ep.findings.filter(function (f) { return f.detected && f.step === step.index; });
    const obs = step.observation || "";
    const usage = step.usage ? SV.int(step.usage.prompt_tokens + step.usage.completion_tokens) + " tok" : null;
    return h("section", { class: "step" + (arising.length ? " finding" : "") + (step.tool_error ? " tool-error" : ""),
      id: "step-" + step.index, dataset: { step: step.index } },
    h("header", null, h("span", { class: "stepno" }, "Step " + step.index), h("span", { class: "tool" }, step.tool_call.name),
      arising.map(function (f) { return h("span", { class: "badge bad" }, "⚑ " + f.behaviour + " first happened here (" + f.monitor + ")"); }),
      step.tool_error ? h("span", { class: "badge err" }, "tool error") : null,
      h("span", { class: "meta" }, [usage, step.latency_s ? SV.secs(step.latency_s) + " s" : null,
        step.reward ? "reward " + step.reward : null].filter(Boolean).join(" · "))),
    step.assistant && !withoutText ? h("div", { class: "assistant" }, label("assistant"), SV.folded(step.assistant, "text")) : null,
    h("div", { class: "call" }, label("tool call · " + step.tool_call.name), argsBlock(step.tool_call)),
    h("div", { class: "obs" + (step.tool_error ? " error" : "") },
      label("observation · " + SV.int(obs.split("\n").length) + " lines, " + SV.int(obs.length) + " chars"),
      SV.folded(obs, "out"),
      obs.length >= LOG_CUT ? h("div", { class: "warn" }, "the log keeps the first " + SV.int(LOG_CUT) + " characters of an observation") : null),
    eventsTable(step.events || []));
  };

  function engagementLabel(ep) {
    const name = SV.ENGAGEMENT_LABELS[ep.engagement] || ep.engagement || "not recorded";
    return ep.engagement_recorded === false ? name + " (inferred from the steps: an older log)" : name;
  }

  // What a verdict says: detected, unknown, clean — or nothing at all when the model did not engage.
  function verdictBadge(ep, f) {
    if (f.detected) return h("span", { class: "badge bad" }, "detected");
    if (f.detected === null) return h("span", { class: "badge unknown", title: "the monitor could not decide" }, "unknown");
    if (ep.engaged === false) {
      return h("span", { class: "badge noeng", title: "the model did not engage with the task: not detecting a behaviour it never had the chance to show says nothing" },
        "no verdict: " + (SV.ENGAGEMENT_LABELS[ep.engagement] || ep.engagement));
    }
    return h("span", { class: "badge clean" }, "clean");
  }

  function engagementNote(ep) {
    if (ep.engaged !== false) return null;
    return h("div", { class: "noeng-box", id: "engagement-note" }, h("strong", null, "The model did not engage: " + engagementLabel(ep) + ". "),
      "No valid tool call reached the environment and no answer could be read, so this episode counts in no behaviour rate; " +
      "a monitor that saw nothing is no evidence of good behaviour. The transcript below shows what the model said.");
  }

  function findingsTable(ep) {
    if (!ep.findings.length) return h("p", { class: "muted" }, "No monitor reported on this episode.");
    return h("table", { class: "findings" },
      h("tr", null, ["behaviour", "verdict", "first step", "monitor", "evidence", "metrics"].map(function (c) { return h("th", null, c); })),
      ep.findings.map(function (f) {
        return h("tr", { class: f.detected ? "detected" : "" }, h("td", null, f.behaviour),
          h("td", null, verdictBadge(ep, f)),
          h("td", null, f.step !== null ? h("a", { href: "#", class: "steplink", onclick: function (e) {
            e.preventDefault();
            SV.focusStep(f.step);
          } }, "step " + f.step) : h("span", { class: "muted" }, f.detected ? "not recorded" : "—")),
          h("td", null, f.monitor), h("td", { class: "evidence" }, f.evidence),
          h("td", null, Object.keys(f.metrics).map(function (k) { return k + "=" + f.metrics[k]; }).join(" ")));
      }));
  }

  function promptBlock(title, text, ep, compact) {
    if (text === null || text === undefined) return null;
    const note = ep.prompt_source === "rebuilt" ? " (rebuilt from " + ep.env_id + ", seed " + ep.seed + " and config; not in the log)" : "";
    return h("details", { class: "prompt", open: !compact && text.length < 1500 },
      h("summary", null, title + note), SV.folded(text, "text"));
  }

  function figures(ep, run) {
    if (ep.figures && ep.figures.length) {
      return h("div", { class: "figures" }, ep.figures.map(function (p) { return h("figure", null, h("img", { src: p, alt: p }), h("figcaption", null, p.split("/").pop())); }));
    }
    if (ep.figures !== null) return null;
    const box = h("div", { class: "figures" });
    if (!SV.http) {
      box.appendChild(h("p", { class: "muted" }, "This environment draws figures per episode; they were made for the first " +
        "episodes only. Open this run with --serve, or rebuild with --episode-figures all."));
      return box;
    }
    box.appendChild(h("button", { onclick: function () {
      fetch("_sv/figures/" + run + "/" + ep.index).then(function (r) { return r.json(); }).then(function (data) {
        ep.figures = data.figures;
        box.replaceWith(figures(ep, run) || h("p", { class: "muted" }, "no figures"));
      });
    } }, "Draw this episode's figures"));
    return box;
  }

  function usageText(u) {
    return u ? SV.int(u.prompt_tokens + u.completion_tokens) + " tok" : null;
  }

  // One model call attempt: a failed one with its error; an answer with its text (also when it
  // called no tool), a mark when it was cut at max_tokens, and the steps its calls made.
  SV.turnNode = function (ep, turn, stepsByIndex) {
    const title = "Model turn " + turn.index + (turn.attempt > 1 ? " · attempt " + turn.attempt : "");
    if (turn.error) {
      return h("section", { class: "turn failed" }, h("header", null, h("span", { class: "stepno" }, title),
        h("span", { class: "badge err" }, "call failed: " + (turn.error_signature || "error")),
        h("span", { class: "meta" }, [usageText(turn.usage), SV.secs(turn.latency_s) + " s"].filter(Boolean).join(" · "))),
      h("pre", { class: "out" }, turn.error));
    }
    const cut = turn.finish_reason === "length";
    const steps = (turn.steps || []).map(function (i) { return stepsByIndex[i]; }).filter(Boolean);
    return h("section", { class: "turn" + (cut ? " cut" : "") }, h("header", null, h("span", { class: "stepno" }, title),
      cut ? h("span", { class: "badge trunc", title: "finish_reason=length: the answer was cut at the token limit" }, "cut at max_tokens") : null,
      !turn.tool_calls.length ? h("span", { class: "badge noeng" }, "no tool call") : null,
      h("span", { class: "meta" }, [turn.finish_reason ? "finish: " + turn.finish_reason : null, usageText(turn.usage),
        turn.latency_s ? SV.secs(turn.latency_s) + " s" : null, turn.cached ? "cached" : null].filter(Boolean).join(" · "))),
    turn.text ? h("div", { class: "assistant" }, label("assistant"), SV.folded(turn.text, "text"))
      : h("div", { class: "muted" }, "(no text)"),
    steps.map(function (step) { return SV.stepNode(ep, step, true); }));
  };

  SV.transcriptNodes = function (ep) {
    if (!ep.turns || !ep.turns.length) return ep.steps.map(function (step) { return SV.stepNode(ep, step); });
    const byIndex = {};
    ep.steps.forEach(function (step) { byIndex[step.index] = step; });
    return ep.turns.map(function (turn) { return SV.turnNode(ep, turn, byIndex); });
  };

  SV.transcriptTitle = function (ep) {
    const turns = ep.turns || [];
    if (!turns.length) return "Transcript (" + ep.steps.length + " steps)";
    const calls = new Set(turns.map(function (t) { return t.index; })).size;
    const failed = turns.filter(function (t) { return t.error; }).length;
    return "Transcript (" + calls + " model turns" + (failed ? ", " + failed + " failed attempts" : "") + ", " + ep.steps.length + " steps)";
  };

  // The parts of an episode page: head (identity, verdicts, prompts), steps, tail (world).
  SV.episodeParts = function (ep, run, compact) {
    const u = ep.usage;
    const outcome = ep.outcome
      ? h("span", { class: ep.outcome.success ? "ok" : "fail" }, (ep.outcome.success ? "✓ success" : "✗ failed") + " · score " + ep.outcome.score + (ep.outcome.detail ? " · " + ep.outcome.detail : ""))
      : h("span", { class: "muted" }, "not judged");
    const meta = [["model", ep.model], ["scenario", ep.scenario + " (" + ep.env_id + ")"], ["seed · trial", ep.seed + " · " + ep.trial],
      ["termination", ep.termination], ["engagement", engagementLabel(ep)], ["steps", ep.steps.length], ["tokens", SV.int(u.prompt_tokens) + " in · " + SV.int(u.completion_tokens) + " out"],
      ["cost", (u.cost_usd === null || u.cost_usd === undefined ? "" : "$") + SV.cost(u.cost_usd)], ["duration", SV.secs(ep.duration_s) + " s"], ["started", ep.started_at || "—"], ["episode", ep.episode_id]];
    const head = [
      h("h1", { class: "ep-title" }, ep.model + " · " + ep.scenario + " · seed " + ep.seed),
      ep.error ? h("div", { class: "error-box", id: "episode-error" }, h("strong", null, "This episode ended in an error"), h("pre", null, ep.error)) : null,
      h("div", { class: "meta" }, meta.map(function (m) { return h("div", null, h("span", { class: "k" }, m[0]), h("span", { class: "v" }, String(m[1]))); })),
      h("div", { class: "outcome" }, h("strong", null, "Outcome: "), outcome),
      engagementNote(ep),
      h("h2", null, "Monitor verdicts"), findingsTable(ep),
      h("h2", null, "Prompts"),
      promptBlock("System prompt", ep.system_prompt, ep, compact),
      promptBlock("Task (first user message)", ep.task_prompt, ep, compact),
      ep.system_prompt === null && ep.task_prompt === null ? h("p", { class: "muted" }, "The prompts are not in the log and the environment is not installed to rebuild them.") : null,
    ];
    const steps = ep.steps.map(function (step) { return SV.stepNode(ep, step); });
    const tail = [h("h2", null, "Final world state" + (ep.world_fingerprint ? " · " + ep.world_fingerprint : "")),
      ep.world ? h("div", { class: "world" }, SV.tree(ep.world)) : h("p", { class: "muted" }, "no final world recorded"),
      figures(ep, run)];
    return { head: head, steps: steps, transcript: SV.transcriptNodes(ep), tail: tail };
  };

  SV.focusStep = function (index) {
    const steps = Array.from(document.querySelectorAll("section.step"));
    steps.forEach(function (s) { s.classList.toggle("current", Number(s.dataset.step) === index); });
    const node = document.getElementById("step-" + index);
    if (node) node.scrollIntoView({ block: "start" });
    SV.state.step = index;
  };

  SV.sameSeed = function (ep, run) {
    const others = [];
    Object.keys(SV.state.runs).forEach(function (key) {
      SV.state.runs[key].rows.forEach(function (r) {
        if (r && r.scenario === ep.scenario && r.seed === ep.seed && !(key === run && r.i === ep.index)) others.push(r);
      });
    });
    return others.slice(0, 12);
  };

  SV.views.ep = function (main, route) {
    const s = SV.state;
    const position = s.filtered.findIndex(function (r) { return r.run === route.run && r.i === route.index; });
    if (!s.filtered.length || position < 0) SV.applyFilters();
    SV.loadEpisode(route.run, route.index).then(function (ep) {
      const pos = s.filtered.findIndex(function (r) { return r.run === route.run && r.i === route.index; });
      if (pos >= 0) s.cursor = pos;
      const neighbour = function (delta) { return pos >= 0 ? s.filtered[pos + delta] : SV.run(route.run).rows[route.index + delta]; };
      const open = function (r) { if (r) SV.go("#/ep/" + r.run + "/" + r.i); };
      const others = SV.sameSeed(ep, route.run);
      const parts = SV.episodeParts(ep, route.run);
      main.replaceChildren(h("nav", { class: "ep-nav" },
        h("a", { href: "#/list/" + route.run, id: "back" }, "← list (Esc)"),
        h("button", { id: "prev-ep", disabled: !neighbour(-1), onclick: function () { open(neighbour(-1)); } }, "‹ previous (p)"),
        h("button", { id: "next-ep", disabled: !neighbour(1), onclick: function () { open(neighbour(1)); } }, "next (n) ›"),
        h("span", { class: "muted" }, pos >= 0 ? (pos + 1) + " of " + SV.int(s.filtered.length) + " in the list" : ""),
        others.length ? h("span", { class: "same-seed" }, "same seed: ", others.map(function (r) {
          return h("a", { href: "#/cmp/" + route.run + "/" + route.index + "/" + r.run + "/" + r.i, class: "cmp-link" },
            "vs " + r.model + (r.run !== route.run ? " (" + SV.run(r.run).label + ")" : ""));
        })) : null),
      h("article", { class: "episode" }, parts.head, h("h2", null, SV.transcriptTitle(ep)), parts.transcript, parts.tail));
      const detectedSteps = ep.findings.filter(function (f) { return f.detected && f.step !== null; }).map(function (f) { return f.step; }).sort(function (a, b) { return a - b; });
      s.step = 0;
      SV.keyHandler = function (event) {
        switch (event.key) {
          case "j": SV.focusStep(Math.min(ep.steps.length, (s.step || 0) + 1)); return true;
          case "k": SV.focusStep(Math.max(1, (s.step || 1) - 1)); return true;
          case "f": {
            const next = detectedSteps.find(function (n) { return n > (s.step || 0); });
            if (next !== undefined) SV.focusStep(next); else if (detectedSteps.length) SV.focusStep(detectedSteps[0]);
            return true;
          }
          case "n": case "ArrowRight": open(neighbour(1)); return true;
          case "p": case "ArrowLeft": open(neighbour(-1)); return true;
          case "c": if (others.length) SV.go("#/cmp/" + route.run + "/" + route.index + "/" + others[0].run + "/" + others[0].i); return true;
          case "Escape": case "u": SV.go("#/list/" + route.run); return true;
          default: return false;
        }
      };
    }).catch(function (error) {
      main.replaceChildren(h("p", { class: "error-box" }, "Could not load episode " + route.index + ": " + error.message));
    });
  };
})();
