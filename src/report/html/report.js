// squall report: draws the run's timeline from the JSON in #squall-data, as SVG.
// No libraries, no network. Errors are written into #js-errors (tests read it).
(function () {
  "use strict";
  var errors = 0;
  function reportError(text) {
    errors += 1;
    var box = document.getElementById("js-errors");
    if (box) box.textContent += text + "\n";
    document.body.setAttribute("data-js-errors", String(errors));
  }
  window.onerror = function (msg, src, line, col) {
    reportError("error: " + msg + " at " + line + ":" + col);
  };
  window.addEventListener("unhandledrejection", function (e) {
    reportError("unhandled rejection: " + e.reason);
  });

  var D = JSON.parse(document.getElementById("squall-data").textContent);
  var banner = document.getElementById("banner");

  function markBanner() {
    if (!banner) return;
    var r = banner.getBoundingClientRect();
    banner.setAttribute("data-top", String(Math.round(r.top)));
    banner.setAttribute("data-bottom", String(Math.round(r.bottom)));
    banner.setAttribute("data-visible", String(r.top >= 0 && r.bottom <= window.innerHeight));
    document.documentElement.style.setProperty("--banner-height", Math.round(r.height) + "px");
  }

  if (D.page === "chaos") {
    markBanner();
    document.body.setAttribute("data-ready", "1");
    return;
  }

  var svg = document.getElementById("svg");
  var timeline = document.getElementById("timeline");
  var tooltip = document.getElementById("tooltip");
  var PALETTE = ["#3b6fd4", "#2a9d5c", "#c2571a", "#8a4fc9", "#0f8f9a", "#b8336a", "#6b7a1f", "#7a5230", "#4a4a9c", "#9c7a00"];
  var GUTTER = 74;
  var END = Math.max(1, D.end);
  var t0 = 0, t1 = END;
  var frames = D.frames || [];
  var kinds = D.kinds || [];
  var ops = D.ops || [];
  var steps = D.steps || [];
  var states = D.states || [];
  var phases = D.phases || [];
  var faults = D.faults || [];
  var delays = {};
  (D.delays || []).forEach(function (p) { delays[p[0]] = p[1]; });
  var kindOn = kinds.map(function () { return true; });
  var hideHeartbeats = document.getElementById("hide-heartbeats");
  if (frames.length > 3000) hideHeartbeats.checked = true;
  var opScale = D.page === "run" ? 1000 : 1;

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function fmt(t) {
    if (D.unit !== "us") return "t=" + t;
    var s = t / 1e6;
    var span = (t1 - t0) / 1e6;
    var digits = span < 0.05 ? 4 : span < 2 ? 3 : 2;
    return s.toFixed(digits) + " s";
  }
  function fmtAbs(t) { return D.unit === "us" ? (t / 1e6).toFixed(4) + " s" : "t=" + t; }
  function laneName(i) { return D.lanes[i] || "?"; }

  // Which lanes get a row: every node; clients and the harness only if they appear.
  var used = {};
  frames.forEach(function (f) { used[f[0]] = true; used[f[1]] = true; });
  ops.forEach(function (o) { used[o.lane + (D.page === "run" ? D.nodes : 0)] = true; });
  var rows = [];
  function addRow(kind, label, lane, h) { rows.push({ kind: kind, label: label, lane: lane, h: h }); }
  addRow("axis", "", -1, 22);
  if (D.page === "run") {
    addRow("steps", "steps", -1, 20);
    if (phases.length) addRow("phase", "phase", -1, 16);
    for (var n = 0; n < D.nodes; n++) addRow("node", laneName(n), n, 40);
    if (faults.length) addRow("network", "network", -1, 18);
    for (var l = D.nodes; l < D.lanes.length; l++) {
      if (used[l]) addRow(l === D.lanes.length - 1 ? "harness" : "client", laneName(l), l, 30);
    }
  } else {
    for (var p = 0; p < D.lanes.length; p++) addRow("client", laneName(p), p, 28);
  }
  var laneRow = {};
  var y = 0;
  rows.forEach(function (r) { r.y = y; y += r.h; if (r.lane >= 0) laneRow[r.lane] = r; });
  var HEIGHT = y + 6;
  function rowOf(kind) { for (var i = 0; i < rows.length; i++) if (rows[i].kind === kind) return rows[i]; return null; }
  function clientLane(o) { return D.page === "run" ? o.lane + D.nodes : o.lane; }

  // The linearizability explanation: which operations are in the prefix, in what order,
  // and which cannot be placed after it.
  var order = {}, stuck = {};
  if (D.explained) {
    D.explained.prefix.forEach(function (e, i) { order[e.process + ":" + Math.floor(e.call / opScale)] = i + 1; });
    D.explained.stuck.forEach(function (s) { stuck[s[0].process + ":" + Math.floor(s[0].call / opScale)] = s[1]; });
  }

  function stateClass(s) {
    var w = s.split(" ")[0];
    if (w === "leader") return "leader";
    if (w === "candidate" || w === "precandidate") return "candidate";
    if (w === "follower") return "follower";
    if (w === "down") return "down";
    if (w === "refused") return "refused";
    return "other";
  }
  function phaseColor(name) {
    var h = 0;
    for (var i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
    return "hsl(" + (h % 360) + ", 55%, 80%)";
  }
  function faultText(f) {
    var parts = [];
    var seen = {};
    f.cut.forEach(function (c) {
      var a = c[0], b = c[1], key = Math.min(a, b) + "-" + Math.max(a, b);
      if (seen[key]) return;
      seen[key] = true;
      var both = f.cut.some(function (d) { return d[0] === b && d[1] === a; });
      parts.push(both ? "n" + a + "\u2194n" + b + " cut" : "n" + a + "\u2192n" + b + " cut");
    });
    if (f.slow.length) parts.push(f.slow.length + " slow link(s)");
    if (f.down.length) parts.push("down: " + f.down.map(function (x) { return "n" + x; }).join(" "));
    if (f.loss) parts.push("loss " + f.loss + "%");
    if (f.duplicate) parts.push("duplicate " + f.duplicate + "%");
    if (f.delay) parts.push("delay " + f.delay + "%");
    if (f.corrupt) parts.push("corrupt " + f.corrupt + "%");
    return parts.join(", ");
  }
  function frameVisible(f) {
    if (!kindOn[f[6]]) return false;
    if (hideHeartbeats.checked && (f[5] & 4)) return false;
    return true;
  }
  function opLabel(o) {
    var t = o.text;
    if (o.value) t += " \u2192 " + o.value;
    if (o.result !== "ok") t += " (" + o.result + ")";
    return t;
  }

  function niceStep(span, target) {
    var raw = span / target;
    var p = Math.pow(10, Math.floor(Math.log10(raw)));
    var m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
  }

  // Where the property broke, as [from, to]: the step it broke in, up to the moment; for a
  // history that is not linearizable, the operations that cannot follow the prefix.
  function violationSpan() {
    var f = D.failure;
    if (D.explained && D.explained.stuck.length) {
      var a = Infinity, b = -Infinity;
      D.explained.stuck.forEach(function (s) {
        a = Math.min(a, s[0].call / opScale);
        b = Math.max(b, (s[0].ret != null ? s[0].ret : s[0].call) / opScale);
      });
      return [a, b];
    }
    var start = f.at;
    if (f.step != null && steps[f.step - 1]) start = steps[f.step - 1].at;
    else if (D.liveness_at != null) start = D.liveness_at;
    else if (steps.length) start = steps[steps.length - 1].at;
    return [start, f.at];
  }

  var drawn = { arrows: 0, dropped: 0 };
  function render() {
    var W = Math.max(600, timeline.clientWidth - 8);
    var plotW = W - GUTTER - 10;
    var span = Math.max(1, t1 - t0);
    function X(t) { return GUTTER + (t - t0) * plotW / span; }
    function clampX(t) { return Math.max(GUTTER - 2, Math.min(W, X(t))); }
    var out = [];
    out.push('<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#d5d7dd"/><line x1="0" y1="0" x2="0" y2="6" stroke="#9a9ea8" stroke-width="2"/></pattern>');
    PALETTE.forEach(function (c, i) {
      out.push('<marker id="a' + i + '" viewBox="0 0 8 8" refX="7.5" refY="4" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" fill="' + c + '"/></marker>');
    });
    out.push('<clipPath id="plot"><rect x="' + GUTTER + '" y="0" width="' + (W - GUTTER) + '" height="' + HEIGHT + '"/></clipPath></defs>');
    // Lanes.
    rows.forEach(function (r, i) {
      if (r.kind === "axis") return;
      out.push('<g class="lane lane-' + r.kind + '" data-lane="' + esc(r.label) + '">');
      out.push('<rect class="lane-bg' + (i % 2 ? " alt" : "") + '" x="0" y="' + r.y + '" width="' + W + '" height="' + r.h + '"/>');
      out.push('<text class="lane-label" x="6" y="' + (r.y + r.h / 2 + 4) + '">' + esc(r.label) + "</text></g>");
    });
    out.push('<g clip-path="url(#plot)">');
    // Axis.
    var tick = niceStep(span, Math.max(2, plotW / 110));
    out.push('<g class="axis">');
    for (var t = Math.ceil(t0 / tick) * tick; t <= t1; t += tick) {
      out.push('<line x1="' + X(t) + '" y1="16" x2="' + X(t) + '" y2="' + HEIGHT + '"/><text x="' + (X(t) + 3) + '" y="13">' + esc(fmt(t)) + "</text>");
    }
    out.push("</g>");
    // Phases.
    var pr = rowOf("phase");
    if (pr) {
      phases.forEach(function (p, i) {
        var a = p.at, b = i + 1 < phases.length ? phases[i + 1].at : END;
        if (b < t0 || a > t1) return;
        var x = clampX(a), w = Math.max(1, clampX(b) - x);
        out.push('<rect class="phase" data-tip="p' + i + '" x="' + x + '" y="' + (pr.y + 2) + '" width="' + w + '" height="' + (pr.h - 4) + '" fill="' + phaseColor(p.phase) + '"/>');
        if (w > 50) out.push('<text class="state-text" x="' + (x + 3) + '" y="' + (pr.y + pr.h - 4) + '">' + esc(p.phase.slice(0, Math.floor(w / 5.5))) + "</text>");
      });
    }
    // Node states.
    var perNode = {};
    states.forEach(function (s, i) { (perNode[s.node] = perNode[s.node] || []).push(i); });
    Object.keys(perNode).forEach(function (node) {
      var r = laneRow[node];
      if (!r) return;
      var idx = perNode[node];
      idx.forEach(function (si, k) {
        var s = states[si];
        if (!s.state) return;
        var a = s.at, b = k + 1 < idx.length ? states[idx[k + 1]].at : END;
        if (b < t0 || a > t1) return;
        var x = clampX(a), w = Math.max(1, clampX(b) - x);
        out.push('<rect class="state ' + stateClass(s.state) + '" data-tip="s' + si + '" data-state="' + esc(s.state) + '" x="' + x + '" y="' + (r.y + 3) + '" width="' + w + '" height="' + (r.h - 6) + '"/>');
        if (w > 40) out.push('<text class="state-text" x="' + (x + 3) + '" y="' + (r.y + r.h - 6) + '">' + esc(s.state.slice(0, Math.floor((w - 4) / 5.5))) + "</text>");
      });
    });
    // Faults: the network row and shading on the nodes cut off.
    var nr = rowOf("network");
    faults.forEach(function (f, i) {
      var a = f.at, b = i + 1 < faults.length ? faults[i + 1].at : END;
      if (b < t0 || a > t1) return;
      var text = faultText(f);
      if (!text) return;
      var x = clampX(a), w = Math.max(1, clampX(b) - x);
      if (nr) {
        out.push('<rect class="fault-span network" data-tip="x' + i + '" x="' + x + '" y="' + (nr.y + 1) + '" width="' + w + '" height="' + (nr.h - 2) + '"/>');
        if (w > 40) out.push('<text class="fault-text" x="' + (x + 3) + '" y="' + (nr.y + nr.h - 5) + '">' + esc(text.slice(0, Math.floor(w / 5.5))) + "</text>");
      }
      var cutNodes = {};
      f.cut.forEach(function (c) { cutNodes[c[0]] = true; cutNodes[c[1]] = true; });
      Object.keys(cutNodes).forEach(function (node) {
        var r = laneRow[node];
        if (r) out.push('<rect class="fault-span cut-off" data-tip="x' + i + '" x="' + x + '" y="' + r.y + '" width="' + w + '" height="4"/>');
      });
    });
    // Steps.
    var sr = rowOf("steps");
    steps.forEach(function (s, i) {
      if (s.text.indexOf("wait ") === 0 || /^c\d /.test(s.text)) return;
      if (s.at < t0 || s.at > t1) return;
      var x = X(s.at);
      out.push('<line class="step-mark" x1="' + x + '" y1="' + (sr ? sr.y : 0) + '" x2="' + x + '" y2="' + HEIGHT + '"/>');
      if (sr) out.push('<text class="step-label" data-tip="t' + i + '" x="' + (x + 2) + '" y="' + (sr.y + 14) + '">' + esc(s.step + ": " + s.text) + "</text>");
    });
    if (D.liveness_at != null && D.liveness_at >= t0 && D.liveness_at <= t1) {
      var lx = X(D.liveness_at);
      out.push('<line class="liveness-mark" x1="' + lx + '" y1="' + (sr ? sr.y : 0) + '" x2="' + lx + '" y2="' + HEIGHT + '"/>');
      if (sr) out.push('<text class="step-label" x="' + (lx + 2) + '" y="' + (sr.y + 14) + '">heal all (liveness)</text>');
    }
    // Client operations.
    ops.forEach(function (o, i) {
      var r = laneRow[clientLane(o)];
      if (!r) return;
      var b = o.ret == null ? END : o.ret;
      if (b < t0 || o.call > t1) return;
      var x = clampX(o.call), w = Math.max(2, clampX(b) - x);
      var key = o.process + ":" + o.call;
      var other = D.explained && D.explained.partition != null && o.key != null && o.key !== D.explained.partition;
      var cls = "op " + o.result + (stuck[key] != null ? " stuck" : "") + (order[key] ? " prefix" : "") + (other ? " other-key" : "");
      out.push('<rect class="' + cls + '" data-tip="o' + i + '" x="' + x + '" y="' + (r.y + 4) + '" width="' + w + '" height="' + (r.h - 8) + '" rx="3"/>');
      if (w > 36) out.push('<text class="op-text" x="' + (x + 3) + '" y="' + (r.y + r.h / 2 + 4) + '">' + esc(opLabel(o).slice(0, Math.floor((w - 4) / 5.6))) + "</text>");
      if (order[key]) out.push('<text class="order" x="' + (x + 1) + '" y="' + (r.y + 3) + '">#' + order[key] + "</text>");
    });
    // Frames: one arrow per delivered copy; a short dashed stub for a lost one.
    drawn.arrows = 0;
    drawn.dropped = 0;
    var labels = [];
    frames.forEach(function (f, i) {
      if (!frameVisible(f)) return;
      var from = laneRow[f[0]], to = laneRow[f[1]];
      if (!from || !to) return;
      var sent = f[2], delivered = f[3];
      var y1 = from.y + from.h / 2, y2 = to.y + to.h / 2;
      var color = PALETTE[f[6] % PALETTE.length];
      if (delivered.length) {
        delivered.forEach(function (d) {
          if (d < t0 || sent > t1) return;
          out.push('<line class="msg" data-tip="f' + i + '" x1="' + X(sent) + '" y1="' + y1 + '" x2="' + X(d) + '" y2="' + y2 + '" stroke="' + color + '" marker-end="url(#a' + (f[6] % PALETTE.length) + ')"/>');
          drawn.arrows += 1;
          labels.push([X(sent), y1, y2, f[7], color]);
        });
      } else {
        if (sent < t0 || sent > t1) return;
        var x1 = X(sent), x2 = x1 + 14, ym = y1 + (y2 - y1) * 0.35;
        out.push('<line class="msg ' + (f[4] ? "dropped" : "lost") + '" data-tip="f' + i + '" x1="' + x1 + '" y1="' + y1 + '" x2="' + x2 + '" y2="' + ym + '"/>');
        if (f[4]) out.push('<path class="drop-x" d="M' + (x2 - 3) + "," + (ym - 3) + " l6,6 m0,-6 l-6,6" + '"/>');
        drawn.dropped += 1;
      }
    });
    // Zoomed in far enough: what each arrow carries, written beside where it leaves.
    if (labels.length <= 60) {
      // Left to right, skipping a label that would overlap the one before it on its line.
      var ends = {};
      labels.sort(function (p, q) { return p[0] - q[0]; });
      labels.forEach(function (l) {
        var ly = l[2] > l[1] ? l[1] + 11 : l[1] - 4;
        var text = l[3].slice(0, 48);
        if (ends[ly] != null && l[0] + 3 < ends[ly]) return;
        ends[ly] = l[0] + 3 + text.length * 5.2 + 6;
        out.push('<text class="msg-label" x="' + (l[0] + 3) + '" y="' + ly + '" fill="' + l[4] + '">' + esc(text) + "</text>");
      });
    }
    // The violation: the step it broke in, and the moment.
    if (D.failure) {
      var f = D.failure;
      var moment = violationSpan();
      var vx = clampX(moment[0]), vw = Math.max(3, clampX(moment[1]) - vx);
      out.push('<rect id="violation-step" class="violation-step" data-tip="v" x="' + vx + '" y="' + (sr ? sr.y : 16) + '" width="' + vw + '" height="' + HEIGHT + '"/>');
      if (moment[1] >= t0 && moment[1] <= t1) {
        out.push('<line id="violation-line" class="violation-line" x1="' + X(moment[1]) + '" y1="16" x2="' + X(moment[1]) + '" y2="' + HEIGHT + '"/>');
        out.push('<text x="' + (X(moment[1]) + 4) + '" y="' + (sr ? sr.y + 14 : 30) + '" fill="#b00" font-weight="700">\u2716 ' + esc(f.property) + "</text>");
      }
    }
    out.push("</g>");
    svg.setAttribute("width", W);
    svg.setAttribute("height", HEIGHT);
    svg.setAttribute("viewBox", "0 0 " + W + " " + HEIGHT);
    svg.innerHTML = out.join("");
    svg.setAttribute("data-arrows", String(drawn.arrows));
    svg.setAttribute("data-dropped", String(drawn.dropped));
    svg.setAttribute("data-lanes", String(rows.filter(function (r) { return r.lane >= 0; }).length));
    if (messages.open) fillMessages();
    document.getElementById("view").textContent = fmtAbs(t0) + " \u2013 " + fmtAbs(t1) + " \u00b7 " + drawn.arrows + " arrows" + (D.frames_omitted ? " \u00b7 " + D.frames_omitted + " later frames not recorded (cap)" : "");
  }

  function tipText(code) {
    var k = code[0], i = +code.slice(1);
    if (k === "f") {
      var f = frames[i];
      var s = laneName(f[0]) + " \u2192 " + laneName(f[1]) + "  " + (kinds[f[6]] || "") + "\n" + f[7] + "\nsent " + fmtAbs(f[2]);
      if (f[3].length) s += ", delivered " + f[3].map(fmtAbs).join(" and ");
      if (f[4]) s += "\ndropped: " + f[4];
      else if (!f[3].length) s += "\nnever read: lost in flight (link cut, receiver down or restarted)";
      if (f[5] & 1) s += "\nduplicated";
      if (f[5] & 2) s += "\na bit flipped on the wire";
      if (delays[i]) s += "\nheld back " + delays[i] + " ms by its sender";
      return s;
    }
    if (k === "o") {
      var o = ops[i];
      var txt = "process " + o.process + ": " + opLabel(o) + "\ninvoked " + fmtAbs(o.call) + (o.ret != null ? ", completed " + fmtAbs(o.ret) : ", never completed");
      var key = o.process + ":" + o.call;
      if (order[key]) txt += "\n#" + order[key] + " in the longest linearizable prefix";
      if (stuck[key] != null) txt += "\ncannot be linearized after the prefix: " + stuck[key];
      return txt;
    }
    if (k === "s") return "n" + states[i].node + " at " + fmtAbs(states[i].at) + ": " + states[i].state;
    if (k === "p") return "phase from " + fmtAbs(phases[i].at) + ": " + phases[i].phase;
    if (k === "x") return "faults from " + fmtAbs(faults[i].at) + ": " + faultText(faults[i]);
    if (k === "t") return "step " + steps[i].step + " at " + fmtAbs(steps[i].at) + ": " + steps[i].text;
    if (k === "v") return D.failure.kind + " violation of " + D.failure.property + "\n" + D.failure.detail;
    return "";
  }

  svg.addEventListener("mousemove", function (e) {
    var el = e.target.closest ? e.target.closest("[data-tip]") : null;
    if (!el || dragging) { tooltip.hidden = true; return; }
    tooltip.textContent = tipText(el.getAttribute("data-tip"));
    tooltip.hidden = false;
    var x = Math.min(e.clientX + 14, window.innerWidth - tooltip.offsetWidth - 8);
    var yy = e.clientY + 16;
    if (yy + tooltip.offsetHeight > window.innerHeight) yy = e.clientY - tooltip.offsetHeight - 10;
    tooltip.style.left = x + "px";
    tooltip.style.top = yy + "px";
  });
  svg.addEventListener("mouseleave", function () { tooltip.hidden = true; });

  // Zoom (wheel, buttons) and pan (drag).
  function timeAt(clientX) {
    var r = svg.getBoundingClientRect();
    var W = r.width, plotW = W - GUTTER - 10;
    return t0 + (clientX - r.left - GUTTER) * (t1 - t0) / plotW;
  }
  function setView(a, b) {
    var minSpan = D.unit === "us" ? 200 : 1;
    if (b - a < minSpan) { var c = (a + b) / 2; a = c - minSpan / 2; b = c + minSpan / 2; }
    var pad = (b - a) * 0.02;
    t0 = Math.max(-pad, a);
    t1 = Math.min(END + pad, b);
    if (t1 <= t0) { t0 = 0; t1 = END; }
    render();
  }
  function zoom(factor, center) {
    var c = center == null ? (t0 + t1) / 2 : center;
    setView(c - (c - t0) * factor, c + (t1 - c) * factor);
  }
  timeline.addEventListener("wheel", function (e) {
    e.preventDefault();
    zoom(e.deltaY > 0 ? 1.25 : 0.8, timeAt(e.clientX));
  }, { passive: false });
  var dragging = null;
  timeline.addEventListener("mousedown", function (e) {
    dragging = { x: e.clientX, t0: t0, t1: t1 };
    timeline.classList.add("dragging");
  });
  window.addEventListener("mousemove", function (e) {
    if (!dragging) return;
    var r = svg.getBoundingClientRect();
    var dt = (e.clientX - dragging.x) * (dragging.t1 - dragging.t0) / (r.width - GUTTER - 10);
    t0 = dragging.t0 - dt;
    t1 = dragging.t1 - dt;
    render();
  });
  window.addEventListener("mouseup", function () { dragging = null; timeline.classList.remove("dragging"); });
  window.addEventListener("resize", function () { render(); markBanner(); });
  document.getElementById("fit").onclick = function () { setView(0, END); };
  document.getElementById("zoom-in").onclick = function () { zoom(0.5); };
  document.getElementById("zoom-out").onclick = function () { zoom(2); };
  hideHeartbeats.onchange = render;

  function toViolation() {
    var f = D.failure;
    if (!f) return;
    var start = f.step != null && steps[f.step - 1] ? steps[f.step - 1].at : f.at;
    if (D.explained) {
      // The operations that cannot be placed, and the prefix's last ones.
      var ts = [];
      D.explained.stuck.forEach(function (s) { ts.push(s[0].call / opScale); if (s[0].ret != null) ts.push(s[0].ret / opScale); });
      D.explained.prefix.slice(-3).forEach(function (p) { ts.push(p.call / opScale); });
      if (ts.length) {
        var a = Math.min.apply(null, ts), b = Math.max.apply(null, ts);
        var pad = Math.max((b - a) * 0.3, D.unit === "us" ? 50000 : 2);
        setView(a - pad, b + pad);
        return;
      }
    }
    var before = Math.max(f.at - start, 300000);
    setView(f.at - before, f.at + before * 0.4);
  }
  document.getElementById("to-violation").onclick = toViolation;
  if (!D.failure) document.getElementById("to-violation").hidden = true;
  var jump = document.getElementById("jump");
  if (jump) jump.onclick = function (e) { e.preventDefault(); toViolation(); timeline.scrollIntoView({ block: "nearest" }); };

  // Message kinds: a checkbox each.
  var kindsBox = document.getElementById("kinds");
  var counts = kinds.map(function () { return 0; });
  frames.forEach(function (f) { counts[f[6]] += 1; });
  kinds.forEach(function (k, i) {
    var label = document.createElement("label");
    label.innerHTML = '<input type="checkbox" checked> <span class="swatch" style="background:' + PALETTE[i % PALETTE.length] + '"></span>' + esc(k) + " (" + counts[i] + ")";
    label.firstChild.onchange = function (e) { kindOn[i] = e.target.checked; render(); };
    kindsBox.appendChild(label);
  });

  // The frames in view as a table (filled while open).
  var messages = document.getElementById("messages");
  function fillMessages() {
    var rowsHtml = [], shown = 0, LIMIT = 1500;
    for (var i = 0; i < frames.length && shown < LIMIT; i++) {
      var f = frames[i];
      if (!frameVisible(f)) continue;
      var last = f[3].length ? f[3][f[3].length - 1] : f[2];
      if (last < t0 || f[2] > t1) continue;
      shown += 1;
      var fate = f[3].length ? "delivered " + f[3].map(fmtAbs).join(", ") : f[4] ? "dropped (" + f[4] + ")" : "lost in flight";
      rowsHtml.push("<tr" + (f[3].length ? "" : ' class="undelivered"') + "><td>" + esc(fmtAbs(f[2])) + "</td><td>" + esc(laneName(f[0]) + " \u2192 " + laneName(f[1])) + "</td><td><code>" + esc(f[7]) + "</code></td><td>" + esc(fate) + "</td></tr>");
    }
    messages.querySelector("tbody").innerHTML = rowsHtml.join("");
    messages.querySelector("summary").textContent = "Messages in view (" + shown + (shown === LIMIT ? "+" : "") + "; filters apply)";
  }
  if (!frames.length) {
    messages.hidden = true;
    hideHeartbeats.parentNode.hidden = true;
  }
  messages.addEventListener("toggle", function () { if (messages.open) fillMessages(); });

  // Legend.
  var legend = document.getElementById("legend");
  var items = D.page === "run"
    ? [["#f4c542", "leader"], ["#a9cdf7", "candidate"], ["#e4e8f2", "follower"], ["#c9ccd3", "down"], ["#ec6b60", "cut off from some node (band at the lane\u2019s top)"], ["#7fcf8c", "op ok"], ["#e6b1ab", "op failed"], ["#f5c26b", "op unknown (info)"], ["#fbd3cf", "where the property broke"]]
    : [["#7fcf8c", "op ok"], ["#e6b1ab", "op failed"], ["#f5c26b", "op unknown"]];
  legend.innerHTML = items.map(function (it) { return '<span><i style="background:' + it[0] + '"></i>' + esc(it[1]) + "</span>"; }).join("") +
    (D.page === "run" ? "<span>arrows: frames, sender \u2192 receiver, in time; dashed red \u2716: dropped; dashed grey: lost in flight. Hover for contents; wheel to zoom, drag to pan.</span>" : "<span>bars: operations from invocation to completion, one lane per process; hover for details.</span>");

  // The explanation panel.
  var panel = document.getElementById("explanation");
  if (D.explained) {
    var e = D.explained;
    var html = "<h2>Why the history is not linearizable</h2><p>Model <b>" + esc(e.model) + "</b>" + (e.partition != null ? ", key <b>" + esc(e.partition) + "</b>" : "") +
      ": the longest linearizable prefix places <b>" + e.prefix.length + "</b> of " + e.partition_ops + " operations (green outline, numbered in order); state after it: <code>" + esc(e.state) + "</code>. None of these operations (red outline) can be linearized next:</p>";
    html += '<table id="stuck"><tr><th>operation</th><th>invoked</th><th>completed</th><th>why not next</th></tr>';
    e.stuck.forEach(function (s, i) {
      html += '<tr class="stuck-row"><td><a data-at="' + i + '">' + esc(s[0].text) + "</a></td><td>" + esc(fmtAbs(s[0].call / opScale)) + "</td><td>" + (s[0].ret != null ? esc(fmtAbs(s[0].ret / opScale)) : "never") + "</td><td>" + esc(s[1]) + "</td></tr>";
    });
    html += "</table><details><summary>The prefix (" + e.prefix.length + " operations, in linearization order)</summary><table>";
    e.prefix.forEach(function (p, i) {
      html += "<tr><td>#" + (i + 1) + "</td><td>" + esc(p.text) + "</td><td>" + esc(fmtAbs(p.call / opScale)) + "</td></tr>";
    });
    html += "</table></details>";
    panel.innerHTML = html;
    Array.prototype.forEach.call(panel.querySelectorAll("a[data-at]"), function (a) {
      a.onclick = function () {
        var s = e.stuck[+a.getAttribute("data-at")][0];
        var c = s.call / opScale, r = s.ret != null ? s.ret / opScale : END;
        var pad = Math.max((r - c) * 2, D.unit === "us" ? 20000 : 2);
        setView(c - pad, r + pad);
      };
    });
  }

  try {
    render();
    if (location.hash === "#violation") toViolation();
  } catch (err) {
    reportError("render: " + (err && err.stack ? err.stack : err));
  }
  markBanner();
  var vline = document.getElementById("violation-line") || document.getElementById("violation-step");
  if (vline) {
    var vr = vline.getBoundingClientRect();
    document.body.setAttribute("data-violation-top", String(Math.round(vr.top)));
    document.body.setAttribute("data-violation-visible", String(vr.top < window.innerHeight && vr.left < window.innerWidth && vr.right > 0));
  }
  // How long the page took to be drawn, from navigation (for measuring; not in the file).
  if (window.performance) document.body.setAttribute("data-load-ms", String(Math.round(performance.now())));
  document.body.setAttribute("data-ready", "1");
})();
