// The report pages in the browser, with no server and no network. A page embeds its aggregates (by day or month
// and dimension, never per message) as JSON in <script id="page-data">, with the KPIs, tables and charts to draw
// from them. This script offers the periods (each month, each quarter, the last 30 days, all time; by default the
// last complete month) and the WABA / phone-number filters, and re-draws everything for the choice. The choice
// lives in the address (#period=...&waba=...&number=...), so the links between pages keep it.
(function () {
  "use strict";
  var node = document.getElementById("page-data");
  var DATA = node ? JSON.parse(node.textContent) : null;
  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December"];

  // -- dates: ISO strings (YYYY-MM-DD) compare as dates
  function toDate(s) { return new Date(s + "T00:00:00Z"); }
  function iso(d) { return d.toISOString().slice(0, 10); }
  function addDays(s, n) { var d = toDate(s); d.setUTCDate(d.getUTCDate() + n); return iso(d); }
  function monthStart(s) { return s.slice(0, 7) + "-01"; }
  function addMonths(s, n) { var d = toDate(monthStart(s)); d.setUTCMonth(d.getUTCMonth() + n); return iso(d); }
  function monthEnd(s) { return addDays(addMonths(s, 1), -1); }
  function quarterStart(s) { var m = +s.slice(5, 7); return s.slice(0, 4) + "-" + pad(m - (m - 1) % 3) + "-01"; }
  function weekStart(s) { var d = toDate(s); d.setUTCDate(d.getUTCDate() - (d.getUTCDay() + 6) % 7); return iso(d); }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function days(a, b) { return Math.round((toDate(b) - toDate(a)) / 86400000) + 1; }
  function monthLabel(s) { return MONTHS[+s.slice(5, 7) - 1] + " " + s.slice(0, 4); }
  function shortDay(s) { return +s.slice(8, 10) + " " + MONTHS[+s.slice(5, 7) - 1].slice(0, 3) + " " + s.slice(0, 4); }

  // -- periods
  function buildPeriods(cov) {
    var list = [];
    function add(key, label, start, end, kind, prev) {
      var p = {key: key, label: label, start: start, end: end, kind: kind, prev: prev || null};
      p.partial = start < cov.first || end > cov.last;
      if (p.prev && p.prev.end < cov.first) p.prev = null;
      list.push(p);
      return p;
    }
    var m, q;
    for (m = monthStart(cov.last); m >= monthStart(cov.first); m = addMonths(m, -1)) {
      var pm = addMonths(m, -1);
      add("month:" + m.slice(0, 7), monthLabel(m), m, monthEnd(m), "month",
          {label: monthLabel(pm), start: pm, end: monthEnd(pm)});
    }
    for (q = quarterStart(cov.last); q >= quarterStart(cov.first); q = addMonths(q, -3)) {
      var pq = addMonths(q, -3);
      add("quarter:" + q.slice(0, 7), quarterLabel(q), q, addDays(addMonths(q, 3), -1), "quarter",
          {label: quarterLabel(pq), start: pq, end: addDays(q, -1)});
    }
    var s30 = addDays(cov.last, -29);
    add("last30", "Last 30 days", s30, cov.last, "days",
        {label: "the 30 days before", start: addDays(s30, -30), end: addDays(s30, -1)});
    add("all", "All time", cov.first, cov.last, "all", null);
    return list;
  }
  function quarterLabel(q) { return "Q" + ((+q.slice(5, 7) + 2) / 3) + " " + q.slice(0, 4); }
  function partialText(p, cov) {
    var from = p.start < cov.first ? cov.first : p.start, to = p.end > cov.last ? cov.last : p.end;
    return "partial: data from " + shortDay(from) + " to " + shortDay(to);
  }

  // -- state in the address
  function readHash() {
    var out = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      if (i > 0) out[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1));
    });
    return out;
  }
  function writeHash(state) {
    var parts = ["period=" + encodeURIComponent(state.period.key)];
    if (state.waba) parts.push("waba=" + encodeURIComponent(state.waba));
    if (state.number) parts.push("number=" + encodeURIComponent(state.number));
    var hash = "#" + parts.join("&");
    if (location.hash !== hash) history.replaceState(null, "", hash);
    document.querySelectorAll("nav a").forEach(function (a) { a.setAttribute("href", a.getAttribute("href").split("#")[0] + hash); });
  }

  // -- formats
  var NUMBER = {int: [0, 0], number: [2, 2], money: [2, 2], money4: [4, 4]};
  function fmt(v, kind, currency) {
    if (v === null || v === undefined || (typeof v === "number" && isNaN(v))) return "";
    if (NUMBER[kind]) {
      var text = Number(v).toLocaleString("en-US", {minimumFractionDigits: NUMBER[kind][0], maximumFractionDigits: NUMBER[kind][1]});
      return kind.indexOf("money") === 0 ? text + " " + (currency || "") : text;
    }
    if (kind === "share") return (v * 100).toFixed(1) + "%";
    if (kind === "list") return v.join(", ");
    if (kind === "month") return monthLabel(v);
    return String(v);
  }
  function hoverFormat(kind, currency) {
    if (kind === "share") return "%{y:.1%}";
    if (kind === "int") return "%{y:,.0f}";
    if (kind === "money4") return "%{y:,.4f} " + currency;
    if (kind === "money") return "%{y:,.2f} " + currency;
    return "%{y:,.2f}";
  }
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }

  // -- selecting and aggregating rows
  function objects(fact) {
    if (!fact.objs) {
      fact.objs = fact.rows.map(function (r) {
        var o = {};
        fact.columns.forEach(function (c, i) { o[c] = r[i]; });
        return o;
      });
    }
    return fact.objs;
  }
  function numberWaba(id) { var n = DATA.labels.number[id]; return n ? n.waba : null; }
  function selectRows(name, start, end, where, state) {
    var fact = DATA.facts[name], cols = fact.columns;
    var hasWaba = cols.indexOf("waba_id") >= 0, hasNumber = cols.indexOf("phone_number_id") >= 0;
    var waba = state.waba || (state.number && !hasNumber ? numberWaba(state.number) : null);
    var from = fact.grain === "month" ? monthStart(start) : start;
    return objects(fact).filter(function (o) {
      if (fact.grain !== "none" && start && (o.day < from || o.day > end)) return false;
      if (waba && hasWaba && o.waba_id !== null && o.waba_id !== waba) return false;
      if (state.number && hasNumber && o.phone_number_id !== null && o.phone_number_id !== state.number) return false;
      for (var k in (where || {})) {
        var want = where[k];
        if (Array.isArray(want) ? want.indexOf(o[k]) < 0 : o[k] !== want) return false;
      }
      return true;
    });
  }
  function total(rows, column) {
    var sum = null;
    rows.forEach(function (o) { var v = o[column]; if (v !== null && v !== undefined) sum = (sum || 0) + v; });
    return sum;
  }
  function aggregate(rows, m) {
    if (m.agg === "max" || m.agg === "min") {
      var best = null;
      rows.forEach(function (o) {
        var v = o[m.num];
        if (v !== null && v !== undefined && (best === null || (m.agg === "max" ? v > best : v < best))) best = v;
      });
      return best;
    }
    if (m.agg === "list") {
      var seen = {};
      rows.forEach(function (o) { (o[m.num] || []).forEach(function (x) { seen[x] = true; }); });
      return Object.keys(seen).sort();
    }
    if (m.agg === "first") return rows.length ? rows[0][m.num] : null;
    if (m.agg === "distinct") {
      var keys = {};
      rows.forEach(function (o) { if (!m.den || o[m.den]) keys[JSON.stringify(m.num.map(function (c) { return o[c]; }))] = 1; });
      return Object.keys(keys).length;
    }
    var n = total(rows, m.num);
    if (!m.den) return n;
    var d = total(rows, m.den);
    return d ? (n || 0) / d : null;
  }
  function distinct(rows, column) {
    var seen = {};
    rows.forEach(function (o) { if (o[column] !== null && o[column] !== undefined) seen[o[column]] = true; });
    return Object.keys(seen).sort();
  }
  function filterText(state) {
    var parts = [];
    if (state.waba) parts.push(DATA.labels.waba[state.waba] || state.waba);
    if (state.number) parts.push((DATA.labels.number[state.number] || {}).label || state.number);
    return parts.length ? " for " + parts.join(", ") : "";
  }

  // -- KPIs
  function renderKpis(box, specs, state) {
    var p = state.period, html = [];
    specs.forEach(function (k) {
      if (k.text !== undefined) { html.push(card(k.label, k.text, k.note || "", "")); return; }
      var now = selectRows(k.fact, p.start, p.end, k.where, state);
      var before = p.prev ? selectRows(k.fact, p.prev.start, p.prev.end, k.where, state) : [];
      var groups = k.split ? distinct(now.concat(before), k.split) : [null];
      if (!groups.length) groups = [null];
      groups.forEach(function (g) {
        var pick = function (rows) { return g === null ? rows : rows.filter(function (o) { return o[k.split] === g; }); };
        var value = aggregate(pick(now), k.measure);
        var text = value === null ? (k.none || "none") : fmt(value, k.format, g);
        var change = "", css = "";
        if (p.prev) {
          var old = aggregate(pick(before), k.measure);
          if (old === null) {
            change = "nothing in " + p.prev.label;
          } else if (old === 0 && k.format !== "share") {
            change = value ? "from 0 in " + p.prev.label : "= 0 in " + p.prev.label;
          } else if (value !== null) {
            var delta = k.format === "share" ? (value - old) * 100 : (value - old) / Math.abs(old) * 100;
            var unit = k.format === "share" ? " pp" : "%";
            change = (delta > 0.05 ? "▲ +" : delta < -0.05 ? "▼ " : "= ") + (Math.abs(delta) < 0.05 ? "0.0" : delta.toFixed(1)) + unit +
                     " vs " + p.prev.label;
            if (k.better && Math.abs(delta) >= 0.05) css = (delta > 0) === (k.better === "up") ? "good" : "bad";
          }
        }
        html.push(card(k.label + (g !== null && k.split_in_label ? " (" + g + ")" : ""), text, change, css));
      });
    });
    box.innerHTML = html.join("");
  }
  function card(label, value, change, css) {
    return '<div class="kpi"><div class="value">' + esc(value) + '</div><div class="label">' + esc(label) + "</div>" +
           (change ? '<div class="change ' + css + '">' + esc(change) + "</div>" : "") + "</div>";
  }

  // -- tables: grouped in the browser, most recent first, paged, sortable, CSV of every row shown
  var tableState = {};
  function dimValue(o, key) {
    if (key === "month") return o.day ? monthStart(o.day) : null;
    return o[key];
  }
  function tableRows(spec, state) {
    var p = state.period, rows = selectRows(spec.fact, p.start, p.end, spec.where, state);
    var dims = spec.columns.filter(function (c) { return c.key; });
    var groups = {}, order = [];
    rows.forEach(function (o) {
      var values = dims.map(function (c) { return dimValue(o, c.key); });
      var key = JSON.stringify(values);
      if (!groups[key]) { groups[key] = {values: values, rows: []}; order.push(key); }
      groups[key].rows.push(o);
    });
    var out = order.map(function (key) {
      var g = groups[key], i = 0, currency = null;
      var cells = spec.columns.map(function (c) {
        if (c.key) { var v = g.values[i++]; if (c.key === "currency") currency = v; return v; }
        return aggregate(g.rows, c.measure);
      });
      return {cells: cells, currency: currency};
    });
    if (spec.having !== undefined) out = out.filter(function (r) { return r.cells[spec.having] > 0; });
    return out;
  }
  function cellText(c, v, currency) {
    if (c.labels === "waba") return DATA.labels.waba_short[v] || v || "";
    if (c.labels === "number") return v === null ? "" : ((DATA.labels.number[v] || {}).label || v);
    return fmt(v, c.format, currency);
  }
  function sortRows(rows, col, dir) {
    var sign = dir === "asc" ? 1 : -1;
    return rows.slice().sort(function (a, b) {
      var x = a.cells[col], y = b.cells[col];
      if (Array.isArray(x)) { x = x.join(","); y = (y || []).join(","); }
      if (x === y) return 0;
      if (x === null || x === undefined || x === "") return 1;
      if (y === null || y === undefined || y === "") return -1;
      return (x < y ? -1 : 1) * sign;
    });
  }
  function csv(spec, rows) {
    var cols = spec.columns.filter(function (c) { return !c.hidden; });
    var money = spec.columns.some(function (c) { return c.format && c.format.indexOf("money") === 0; });
    var head = cols.map(function (c) { return c.label; }).concat(money ? ["Currency"] : []);
    var lines = [head].concat(rows.map(function (r) {
      var out = [];
      spec.columns.forEach(function (c, i) {
        if (c.hidden) return;
        var v = r.cells[i];
        out.push(c.measure && typeof v === "number" && !c.labels ? String(Math.round(v * 1e6) / 1e6) :
                 cellText(c, v, "").trim());
      });
      return money ? out.concat([r.currency || ""]) : out;
    }));
    return lines.map(function (l) {
      return l.map(function (v) { v = v === null || v === undefined ? "" : String(v); return /[",\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v; }).join(",");
    }).join("\r\n") + "\r\n";
  }
  function renderTable(box, spec, state) {
    var st = tableState[spec.id] || (tableState[spec.id] = {col: spec.sort[0], dir: spec.sort[1], page: 0});
    var all = sortRows(tableRows(spec, state), st.col, st.dir);
    var size = spec.page || 15, pages = Math.max(1, Math.ceil(all.length / size));
    if (st.page >= pages) st.page = pages - 1;
    var shown = all.slice(st.page * size, st.page * size + size);
    var visible = spec.columns.map(function (c, i) { return [c, i]; }).filter(function (ci) { return !ci[0].hidden; });
    if (!box.querySelector("table")) {
      box.innerHTML = '<div class="table-tools"><span class="count meta"></span><span class="pager">' +
        '<button type="button" class="prev">‹ Newer</button><button type="button" class="next">Older ›</button></span>' +
        '<a class="csv" href="#">Download CSV</a></div><div class="table-wrap"><table class="sortable"><thead><tr>' +
        visible.map(function (ci) { return "<th" + (ci[0].measure ? ' class="num"' : "") + ' data-col="' + ci[1] + '">' + esc(ci[0].label) + "</th>"; }).join("") +
        "</tr></thead><tbody></tbody></table></div><p class=\"empty meta\"></p>";
      box.querySelectorAll("th").forEach(function (th) {
        th.title = "Sort by " + th.textContent;
        th.addEventListener("click", function () {
          var col = +th.getAttribute("data-col"), s = tableState[spec.id];
          s.dir = s.col === col && s.dir === "asc" ? "desc" : "asc";
          s.col = col; s.page = 0;
          renderTable(box, spec, currentState);
        });
      });
      box.querySelector(".prev").addEventListener("click", function () { tableState[spec.id].page--; renderTable(box, spec, currentState); });
      box.querySelector(".next").addEventListener("click", function () { tableState[spec.id].page++; renderTable(box, spec, currentState); });
    }
    box.querySelectorAll("th").forEach(function (th) {
      var col = +th.getAttribute("data-col");
      if (col === st.col) th.setAttribute("aria-sort", st.dir === "asc" ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    });
    var body = box.querySelector("tbody");
    body.innerHTML = shown.map(function (r) {
      return "<tr>" + visible.map(function (ci) {
        var c = ci[0], v = r.cells[ci[1]], sort = typeof v === "number" ? ' data-sort="' + v + '"' : "";
        var css = c.measure ? ' class="num"' : c.format === "month" || c.format === "date" ? ' class="nowrap"' : "";
        return "<td" + css + sort + ' data-label="' + esc(c.label) + '">' + esc(cellText(c, v, r.currency)) + "</td>";
      }).join("") + "</tr>";
    }).join("");
    var fact = DATA.facts[spec.fact];
    box.querySelector(".empty").textContent = all.length ? "" : (fact.rows.length ?
      "Nothing in " + state.period.label + filterText(state) + "." : DATA.empty[spec.fact] || "No data yet.");
    box.querySelector("table").style.display = all.length ? "" : "none";
    box.querySelector(".count").textContent = all.length ? "rows " + (st.page * size + 1) + "–" + (st.page * size + shown.length) +
      " of " + all.length.toLocaleString("en-US") : "";
    box.querySelector(".pager").style.display = pages > 1 ? "" : "none";
    box.querySelector(".prev").disabled = st.page === 0;
    box.querySelector(".next").disabled = st.page >= pages - 1;
    var link = box.querySelector(".csv");
    link.style.display = all.length ? "" : "none";
    link.setAttribute("download", DATA.page + "-" + spec.id + "-" + state.period.key.replace(":", "-") + ".csv");
    link.setAttribute("href", "data:text/csv;charset=utf-8," + encodeURIComponent(csv(spec, all)));
    var by = box.parentNode.querySelector(".by-waba");
    if (by) by.style.display = state.number && DATA.facts[spec.fact].columns.indexOf("phone_number_id") < 0 ? "" : "none";
  }

  // -- charts
  function buckets(p, grain) {
    var out = [], s, step, label;
    if (grain === "month") { s = monthStart(p.start); step = function (x) { return addMonths(x, 1); }; }
    else if (grain === "week") { s = weekStart(p.start); step = function (x) { return addDays(x, 7); }; }
    else { s = p.start; step = function (x) { return addDays(x, 1); }; }
    for (; s <= p.end; s = step(s)) {
      var e = addDays(step(s), -1);
      label = grain === "month" ? s.slice(0, 7) : s;
      out.push({start: s, end: e, label: label});
    }
    return out;
  }
  function bucketOf(day, grain) { return grain === "month" ? monthStart(day) : grain === "week" ? weekStart(day) : day; }
  var PALETTE = ["#0b6e4f", "#2e86de", "#f39c12", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#d35400", "#2c3e50", "#27ae60"];
  function layout(extra) {
    var base = {height: 340, margin: {l: 60, r: 15, t: 40, b: 45}, font: {size: 12}, colorway: PALETTE,
                paper_bgcolor: "#fff", plot_bgcolor: "#fff",
                legend: {orientation: "h", x: 0, y: 1.02, yanchor: "bottom"},
                xaxis: {automargin: true, gridcolor: "#eef2f6"}, yaxis: {automargin: true, gridcolor: "#eef2f6", rangemode: "tozero"}};
    for (var k in extra) base[k] = extra[k];
    return base;
  }
  function plot(div, traces, lay) {
    div.classList.add("plotly-graph-div");
    Plotly.react(div, traces, lay, {displaylogo: false, responsive: true, displayModeBar: false});
  }
  function seriesName(m, value) {
    if (!m.series) return m.name;
    var label = (m.series_labels || {})[value] || (value === null ? "(none)" : value);
    return m.name ? m.name + " " + label : label;
  }
  function renderChart(box, spec, state) {
    var p = state.period, cov = DATA.coverage;
    var rows = selectRows(spec.fact, p.start, p.end, spec.where, state);
    var groups = spec.split ? distinct(rows, spec.split) : [null];
    box.innerHTML = "";
    if (!rows.length || !groups.length) {
      var fact = DATA.facts[spec.fact];
      box.innerHTML = '<p class="empty meta">' + esc(fact.rows.length ? "Nothing in " + p.label + filterText(state) + "." :
                                                 DATA.empty[spec.fact] || "No data yet.") + "</p>";
      return;
    }
    groups.forEach(function (g) {
      var part = g === null ? rows : rows.filter(function (o) { return o[spec.split] === g; });
      var div = document.createElement("div");
      div.className = "chart";
      box.appendChild(div);
      var yTitle = spec.y_title + (g !== null ? " (" + g + ")" : "");
      if (spec.kind === "bars") { barsChart(div, spec, part, g, yTitle); return; }
      var fact = DATA.facts[spec.fact];
      var grain = fact.grain === "month" ? "month" : days(p.start, p.end) <= 45 ? "day" : days(p.start, p.end) <= 120 ? "week" : "month";
      var bs = buckets(p, grain), index = {};
      bs.forEach(function (b, i) { index[b.start] = i; });
      var byBucket = bs.map(function () { return []; });
      part.forEach(function (o) { var i = index[bucketOf(o.day, grain)]; if (i !== undefined) byBucket[i].push(o); });
      var lo = p.start > cov.first ? p.start : cov.first, hi = p.end < cov.last ? p.end : cov.last;
      var partial = bs.map(function (b) { return b.start < lo || b.end > hi; });
      var x = bs.map(function (b) { return b.label; });
      var traces = [];
      spec.measures.forEach(function (m) {
        var values = m.series ? distinct(part, m.series) : [null];
        values.forEach(function (v) {
          var y = byBucket.map(function (list) {
            var sel = v === null ? list : list.filter(function (o) { return String(o[m.series]) === v; });
            var value = sel.length ? aggregate(sel, m) : null;
            return value === null && !m.den && m.agg !== "max" && spec.type === "bar" ? 0 : value;
          });
          var name = seriesName(m, v);
          var t = {type: spec.type === "bar" ? "bar" : "scatter", x: x, y: y, name: name,
                   customdata: partial.map(function (f) { return f ? " (partial " + grain + ")" : ""; }),
                   hovertemplate: esc(name) + "<br>%{x}%{customdata}: " + hoverFormat(spec.format, g || "") + "<extra></extra>"};
          if (t.type === "bar") t.marker = {opacity: partial.map(function (f) { return f ? 0.45 : 1; })};
          else { t.mode = x.length < 40 ? "lines+markers" : "lines"; t.connectgaps = false; if (m.line) t.line = m.line; }
          traces.push(t);
        });
      });
      var shapes = [], notes = [];
      partial.forEach(function (f, i) {
        if (!f) return;
        shapes.push({type: "rect", xref: "x", yref: "paper", x0: i - 0.5, x1: i + 0.5, y0: 0, y1: 1,
                     fillcolor: "rgba(97,110,124,0.10)", line: {width: 0}, layer: "below"});
        notes.push({xref: "x", yref: "paper", x: i, y: 1, yanchor: "top", text: "partial", showarrow: false,
                    font: {size: 10, color: "#616e7c"}});
      });
      var yaxis = {title: {text: yTitle}, automargin: true, gridcolor: "#eef2f6", rangemode: "tozero"};
      if (spec.format === "share") yaxis.tickformat = ".0%";
      if (spec.log) { yaxis.type = "log"; delete yaxis.rangemode; }
      plot(div, traces, layout({barmode: "stack", yaxis: yaxis, shapes: shapes, annotations: notes,
                                hovermode: spec.unified ? "x unified" : "closest",
                                xaxis: {type: "category", automargin: true, nticks: 12, title: {text: grain === "day" ? "day" : grain === "week" ? "week starting" : "month"}}}));
    });
  }
  function barsChart(div, spec, rows, g, title) {
    var m = spec.measures[0], values = distinct(rows, spec.x);
    var pairs = values.map(function (v) {
      return [v, aggregate(rows.filter(function (o) { return String(o[spec.x]) === v; }), m)];
    }).filter(function (pv) { return pv[1]; }).sort(function (a, b) { return a[1] - b[1]; });
    var labels = pairs.map(function (pv) { return (spec.x_labels || {})[pv[0]] || pv[0]; });
    plot(div, [{type: "bar", orientation: "h", x: pairs.map(function (pv) { return pv[1]; }), y: labels,
                hovertemplate: "%{y}: " + hoverFormat(spec.format, g || "").replace(/y:/, "x:") + "<extra></extra>"}],
         layout({height: Math.max(220, 70 + 26 * pairs.length), margin: {l: 10, r: 15, t: 20, b: 45},
                 xaxis: {title: {text: title}, automargin: true, gridcolor: "#eef2f6"},
                 yaxis: {automargin: true, type: "category"}, showlegend: false}));
  }

  // -- notes (months priced under reported rules or unverified rates)
  function renderNotes(box, spec, state) {
    var rows = selectRows(spec.fact, state.period.start, state.period.end, null, state), seen = {}, out = [];
    rows.forEach(function (o) {
      var text = monthLabel(o.day) + ": " + o.note;
      if (!seen[text]) { seen[text] = true; out.push(text); }
    });
    out.sort();
    box.innerHTML = out.length ? "<strong>Note</strong><ul>" + out.map(function (t) { return "<li>" + esc(t) + "</li>"; }).join("") + "</ul>" : "";
    box.style.display = out.length ? "" : "none";
  }

  // -- the controls and one re-draw of everything
  var currentState = null;
  function renderAll(state) {
    currentState = state;
    writeHash(state);
    var p = state.period, cov = DATA.coverage;
    var line = document.getElementById("period-line");
    if (line) {
      line.innerHTML = "Period: <strong>" + esc(p.label) + "</strong> (" + esc(shortDay(p.start)) + " to " + esc(shortDay(p.end)) + ")" +
        (p.partial ? ' <span class="badge">' + esc(partialText(p, cov)) + "</span>" : "") +
        (p.prev ? " · compared with " + esc(p.prev.label) : "") + esc(filterText(state));
    }
    document.querySelectorAll("[data-kpis]").forEach(function (box) { renderKpis(box, DATA.kpis[box.getAttribute("data-kpis")], state); });
    document.querySelectorAll("[data-table]").forEach(function (box) { renderTable(box, DATA.tables[box.getAttribute("data-table")], state); });
    document.querySelectorAll("[data-chart]").forEach(function (box) { renderChart(box, DATA.charts[box.getAttribute("data-chart")], state); });
    document.querySelectorAll("[data-notes]").forEach(function (box) { renderNotes(box, DATA.notes[box.getAttribute("data-notes")], state); });
  }
  function option(value, label, selected) {
    return '<option value="' + esc(value) + '"' + (selected ? " selected" : "") + ">" + esc(label) + "</option>";
  }
  function start() {
    var controls = document.getElementById("controls");
    if (!DATA.coverage) {
      if (controls) controls.innerHTML = '<p class="empty">' + esc(DATA.empty_page) + "</p>";
      document.querySelectorAll("[data-kpis]").forEach(function (box) { box.innerHTML = card("No data yet", "–", DATA.empty_page, ""); });
      document.querySelectorAll("[data-table], [data-chart]").forEach(function (box) {
        var spec = DATA.tables[box.getAttribute("data-table")] || DATA.charts[box.getAttribute("data-chart")];
        box.innerHTML = '<p class="empty meta">' + esc(DATA.empty[spec.fact] || DATA.empty_page) + "</p>";
      });
      return;
    }
    var periods = buildPeriods(DATA.coverage), hash = readHash();
    for (var id in DATA.tables) DATA.tables[id].id = id;
    var byKey = {};
    periods.forEach(function (p) { byKey[p.key] = p; });
    var fallback = periods.filter(function (p) { return p.kind === "month" && !p.partial; })[0] || periods[0];
    var state = {period: byKey[hash.period] || fallback, waba: DATA.labels.waba[hash.waba] ? hash.waba : "",
                 number: DATA.labels.number[hash.number] ? hash.number : ""};
    function periodOptions() {
      var html = "";
      [["month", "Months"], ["quarter", "Quarters"], ["days", "Rolling"], ["all", "Everything"]].forEach(function (kind) {
        html += '<optgroup label="' + kind[1] + '">' + periods.filter(function (p) { return p.kind === kind[0]; }).map(function (p) {
          return option(p.key, p.label + (p.partial ? " (partial)" : ""), p === state.period);
        }).join("") + "</optgroup>";
      });
      return html;
    }
    function numberOptions() {
      return option("", "All phone numbers", !state.number) + Object.keys(DATA.labels.number).filter(function (id) {
        return !state.waba || DATA.labels.number[id].waba === state.waba;
      }).sort(function (a, b) { return DATA.labels.number[a].label < DATA.labels.number[b].label ? -1 : 1; }).map(function (id) {
        return option(id, DATA.labels.number[id].label, id === state.number);
      }).join("");
    }
    var wabas = Object.keys(DATA.labels.waba).sort(function (a, b) { return DATA.labels.waba[a] < DATA.labels.waba[b] ? -1 : 1; });
    controls.innerHTML =
      '<label>Period <select id="period">' + periodOptions() + "</select></label>" +
      (DATA.filters ? '<label>WABA <select id="waba">' + option("", "All WABAs", !state.waba) +
        wabas.map(function (id) { return option(id, DATA.labels.waba[id], id === state.waba); }).join("") + "</select></label>" +
        '<label>Phone number <select id="number">' + numberOptions() + "</select></label>" : "");
    document.getElementById("period").addEventListener("change", function (e) { state.period = byKey[e.target.value]; renderAll(state); });
    if (DATA.filters) {
      document.getElementById("waba").addEventListener("change", function (e) {
        state.waba = e.target.value;
        if (state.number && DATA.labels.number[state.number].waba !== state.waba && state.waba) state.number = "";
        document.getElementById("number").innerHTML = numberOptions();
        renderAll(state);
      });
      document.getElementById("number").addEventListener("change", function (e) { state.number = e.target.value; renderAll(state); });
    }
    window.wabaReport = {periods: periods, state: state, render: function () { renderAll(state); }};
    renderAll(state);
  }

  // Static tables (pages without a period: data quality, the dictionary) sort by a click on a heading too.
  function staticSort(table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (heading, index) {
      heading.title = "Sort by " + heading.textContent.trim();
      heading.addEventListener("click", function () {
        var body = table.tBodies[0], ascending = heading.getAttribute("aria-sort") !== "ascending";
        var rows = Array.prototype.slice.call(body.rows);
        var key = function (r) { var c = r.cells[index], s = c.getAttribute("data-sort"); return s !== null && s !== "" && !isNaN(+s) ? +s : c.textContent.trim().toLowerCase(); };
        rows.sort(function (a, b) { var x = key(a), y = key(b); return x === y ? 0 : (x < y ? -1 : 1) * (ascending ? 1 : -1); });
        rows.forEach(function (r) { body.appendChild(r); });
        Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) { th.removeAttribute("aria-sort"); });
        heading.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      });
    });
  }
  document.querySelectorAll("table.static").forEach(staticSort);
  if (DATA) start();
  // Plotly sizes the server-drawn charts while the page is still being laid out; size them again now.
  if (window.Plotly) {
    document.querySelectorAll(".plotly-graph-div").forEach(function (div) { if (div.data) Plotly.Plots.resize(div); });
  }
})();
