// Charts: metrics on the device page (<div data-metrics="/api/v1/…/metrics" data-range="24h">)
// and SLA attainment by month on the SLA report (data-sla-trend).
// uPlot (vendored) is loaded on first use; every label is set as text, never as HTML.
(function () {
  "use strict";
  var loading = null;
  function loadUPlot() {
    if (window.uPlot) return Promise.resolve();
    if (loading) return loading;
    loading = new Promise(function (resolve, reject) {
      var css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = "/assets/uPlot.min.css";
      document.head.appendChild(css);
      var s = document.createElement("script");
      s.src = "/assets/uPlot.iife.min.js";
      s.onload = resolve;
      s.onerror = reject;
      document.head.appendChild(s);
    });
    return loading;
  }
  var NAMES = { cpu: "CPU use (%)", mem: "Memory use (%)", net: "Network (bytes/s)" };
  function title(name) {
    if (NAMES[name]) return NAMES[name];
    if (name.indexOf("disk:") === 0) return "Disk " + name.slice(5) + " used (%)";
    return name;
  }
  // Percent series get a chart each; received and sent share one.
  function groups(series) {
    var out = [], net = [];
    series.forEach(function (s) {
      if (s.name === "net_rx" || s.name === "net_tx") net.push(s);
      else out.push({ name: s.name, series: [s] });
    });
    if (net.length) out.push({ name: "net", series: net });
    return out;
  }
  function chart(box, g, m, width) {
    var resolution = m.resolution_secs;
    var fig = document.createElement("figure");
    fig.className = "chart";
    fig.setAttribute("data-series", g.name);
    box.appendChild(fig);
    var t = g.series[0].t;
    var data = [t];
    var cfg = [{}];
    var colours = ["#2f6fde", "#d9822b", "#2a9d5c"];
    g.series.forEach(function (s, i) {
      var label = g.name === "net" ? (s.name === "net_rx" ? "received" : "sent") : "average";
      data.push(s.avg);
      cfg.push({ label: label, stroke: colours[i % 3], width: 1.5 });
      if (resolution > 0 && g.series.length === 1) {
        data.push(s.max, s.min);
        cfg.push({ label: "max", stroke: colours[i % 3], width: 0.5, dash: [4, 4] });
        cfg.push({ label: "min", stroke: colours[i % 3], width: 0.5, dash: [4, 4] });
      }
    });
    var pct = g.name !== "net";
    new window.uPlot({
      title: title(g.name),
      width: width,
      height: 180,
      series: cfg,
      // The whole range asked for, not just the span that has data.
      scales: pct ? { x: { time: true, range: [Date.parse(m.from) / 1000, Date.parse(m.to) / 1000] }, y: { range: [0, 100] } } : { x: { time: true, range: [Date.parse(m.from) / 1000, Date.parse(m.to) / 1000] } },
      axes: [{}, { size: 60 }],
    }, data, fig);
  }
  function render(box) {
    var url = box.getAttribute("data-metrics") + "?range=" + encodeURIComponent(box.getAttribute("data-range") || "24h");
    box.textContent = "Loading metrics…";
    Promise.all([loadUPlot(), fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); })])
      .then(function (v) {
        var m = v[1];
        box.textContent = "";
        if (!m.series || !m.series.length) {
          box.textContent = "No metrics in this range yet.";
          return;
        }
        var note = document.createElement("p");
        note.className = "muted";
        note.textContent = m.resolution_secs ? "Each point: " + m.resolution_secs / 60 + "-minute min / average / max." : "Raw samples.";
        box.appendChild(note);
        var width = Math.max(300, box.clientWidth - 10);
        groups(m.series).forEach(function (g) { chart(box, g, m, width); });
        box.setAttribute("data-drawn", String(m.series.length));
      })
      .catch(function () { box.textContent = "Metrics could not be loaded."; });
  }
  // SLA attainment by month: <div data-sla-trend="/api/v1/reports/sla?…&group=month">.
  function renderTrend(box) {
    box.textContent = "Loading the chart…";
    Promise.all([loadUPlot(), fetch(box.getAttribute("data-sla-trend"), { credentials: "same-origin" }).then(function (r) { return r.json(); })])
      .then(function (v) {
        var rows = v[1].rows || [];
        box.textContent = "";
        if (!rows.length) return;
        var t = [], fr = [], res = [];
        rows.forEach(function (r) {
          var ym = r.key.split("-");
          t.push(Date.UTC(+ym[0], +ym[1] - 1, 1) / 1000);
          fr.push(r.first_response.attainment_percent);
          res.push(r.resolution.attainment_percent);
        });
        var fig = document.createElement("figure");
        fig.className = "chart";
        box.appendChild(fig);
        new window.uPlot({
          title: "Attainment by month (%)",
          width: Math.max(300, box.clientWidth - 10),
          height: 200,
          series: [{}, { label: "first response", stroke: "#2f6fde", width: 2, points: { show: true } },
            { label: "resolution", stroke: "#d9822b", width: 2, points: { show: true } }],
          scales: { x: { time: true }, y: { range: [0, 100] } },
          axes: [{}, { size: 50 }],
        }, [t, fr, res], fig);
        box.setAttribute("data-drawn", String(rows.length));
      })
      .catch(function () { box.textContent = "The chart could not be loaded."; });
  }
  function scan(root) {
    (root || document).querySelectorAll("[data-metrics]:not([data-started])").forEach(function (box) {
      box.setAttribute("data-started", "1");
      render(box);
    });
    (root || document).querySelectorAll("[data-sla-trend]:not([data-started])").forEach(function (box) {
      box.setAttribute("data-started", "1");
      renderTrend(box);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:load", function (e) { if (e.target && e.target.querySelectorAll) scan(e.target); });
})();
