// Steward web UI behaviour. Loaded as an external script: the CSP forbids inline scripts.
(function () {
  "use strict";
  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }
  // Every htmx request carries the session's CSRF token.
  document.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["X-CSRF-Token"] = csrf();
  });

  // Copy buttons: <button data-copy="element-id">.
  document.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("[data-copy]") : null;
    if (!b) return;
    var el = document.getElementById(b.getAttribute("data-copy"));
    if (el && navigator.clipboard) {
      navigator.clipboard.writeText(el.textContent.trim()).then(function () {
        b.textContent = "Copied";
      });
    }
  });

  // Keyboard shortcuts: "/" search, "g x" go to, "n" new, "?" help.
  var pendingG = false;
  // "g x" goes to the side bar's entry for key x (its data-go attribute).
  function goTo(key) {
    var link = document.querySelector('nav.side a[data-go="' + key + '"]');
    return link ? link.getAttribute("href") : null;
  }
  function typing(t) {
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    var help = document.getElementById("shortcuts");
    if (e.key === "/") {
      var s = document.getElementById("global-search");
      if (s) { e.preventDefault(); s.focus(); }
    } else if (e.key === "?") {
      if (help && help.showModal) { help.open ? help.close() : help.showModal(); }
    } else if (pendingG && e.key.length === 1 && goTo(e.key)) {
      window.location.href = goTo(e.key);
    } else if (e.key === "n") {
      var f = document.querySelector("[data-new-form] input:not([type=hidden])");
      if (f) { e.preventDefault(); f.focus(); }
    }
    pendingG = e.key === "g";
  });

  // Live device state: pages with [data-device] elements listen to
  // /devices/events (server-sent, scoped to the user's clients) and update
  // each device's state badge in place.
  var live = null;
  var BADGES = { online: ["ok", "online"], offline: ["warn", "offline"], removed: ["muted", "removed"] };
  function applyPresence(e) {
    var c;
    try { c = JSON.parse(e.data); } catch (err) { return; }
    var b = BADGES[c.state];
    if (!b) return;
    document.querySelectorAll('[data-device="' + Number(c.device_id) + '"] .state').forEach(function (cell) {
      var span = document.createElement("span");
      span.className = "badge " + b[0];
      span.textContent = b[1];
      cell.replaceChildren(span);
      cell.setAttribute("data-live", c.state);
    });
  }
  function listen() {
    if (live || !window.EventSource || !document.querySelector("[data-device]")) return;
    live = new EventSource("/devices/events");
    live.addEventListener("presence", applyPresence);
    live.addEventListener("resync", function () { if (document.querySelector("[data-device]")) window.location.reload(); });
  }
  document.addEventListener("DOMContentLoaded", listen);
  document.addEventListener("htmx:load", listen);
  // The ticket queue: j/k move a cursor over the rows, Enter opens, x ticks,
  // a goes to the bulk "assign to"; clicking a row opens it. On a ticket, r
  // starts a reply.
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#queue tbody tr[data-href]")); }
  function cursorMove(d) {
    var all = rows();
    if (!all.length) return;
    var i = all.findIndex(function (r) { return r.classList.contains("cursor"); });
    if (i >= 0) all[i].classList.remove("cursor");
    i = Math.max(0, Math.min(all.length - 1, i < 0 ? 0 : i + d));
    all[i].classList.add("cursor");
    all[i].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    var cur = document.querySelector("#queue tbody tr.cursor");
    if (e.key === "j" || e.key === "k") {
      if (document.getElementById("queue")) { e.preventDefault(); cursorMove(e.key === "j" ? 1 : -1); }
    } else if (e.key === "Enter" && cur) {
      window.location.href = cur.getAttribute("data-href");
    } else if (e.key === "x" && cur) {
      var box = cur.querySelector("input[type=checkbox]");
      if (box) box.checked = !box.checked;
    } else if (e.key === "a" && document.getElementById("bulk-assignee")) {
      e.preventDefault();
      if (cur) { var b = cur.querySelector("input[type=checkbox]"); if (b && !document.querySelector("#queue tbody input:checked")) b.checked = true; }
      document.getElementById("bulk-assignee").focus();
    } else if (e.key === "a" && document.getElementById("assignee")) {
      e.preventDefault(); document.getElementById("assignee").focus();
    } else if (e.key === "r" && document.getElementById("reply-body")) {
      e.preventDefault(); document.getElementById("reply-body").focus();
    }
  });
  document.addEventListener("click", function (e) {
    var all = e.target.closest ? e.target.closest("[data-select-all]") : null;
    if (all) {
      // Every box in the same table's body (the queue's, the device list's).
      var table = all.closest("table");
      if (table) table.querySelectorAll("tbody input[type=checkbox]").forEach(function (b) { b.checked = all.checked; });
      return;
    }
    var row = e.target.closest ? e.target.closest("#queue tbody tr[data-href]") : null;
    if (row && !e.target.closest("a, input, button, select, label")) window.location.href = row.getAttribute("data-href");
  });

  // A running timer ticks: <span data-timer-since="ms since the epoch">.
  function tick() {
    document.querySelectorAll("[data-timer-since]").forEach(function (el) {
      var s = Math.max(0, Math.floor((Date.now() - Number(el.getAttribute("data-timer-since"))) / 1000));
      var hh = Math.floor(s / 3600), mm = Math.floor(s / 60) % 60, ss = s % 60;
      el.textContent = "running " + hh + ":" + (mm < 10 ? "0" : "") + mm + ":" + (ss < 10 ? "0" : "") + ss;
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);

  // Canned responses: <button data-canned-insert="select-id"> asks the
  // selected option's render URL and puts the text into the reply box as
  // its value (plain text: never parsed as HTML).
  document.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("[data-canned-insert]") : null;
    if (!b) return;
    var pick = document.getElementById(b.getAttribute("data-canned-insert"));
    var reply = document.getElementById("reply-body");
    if (!pick || !pick.value || !reply) return;
    fetch(pick.value, { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf() } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (v) {
        if (!v || typeof v.text !== "string") return;
        reply.value = reply.value.trim() === "" ? v.text : reply.value + "\n\n" + v.text;
        reply.focus();
      });
  });

  // Live tickets: the queue and a ticket's page refresh their parts when
  // a ticket of the user's clients changes (/tickets/events), unless the
  // user is in the middle of typing there.
  var ticketsLive = null, refreshTimer = null;
  function refreshParts(ids) {
    fetch(window.location.href, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.text() : null; }).then(function (html) {
      if (!html) return;
      var doc = new DOMParser().parseFromString(html, "text/html");
      ids.forEach(function (sel) {
        var now = document.querySelector(sel), next = doc.querySelector(sel);
        if (now && next) now.replaceWith(next);
      });
    });
  }
  function onTicketChanged(e) {
    var c;
    try { c = JSON.parse(e.data); } catch (err) { return; }
    var page = document.querySelector("[data-live-ticket]");
    if (page && Number(page.getAttribute("data-ticket")) !== Number(c.ticket_id)) return;
    var reply = document.getElementById("reply-body");
    if (reply && reply.value.trim() !== "") return;
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      if (document.querySelector("#queue tbody input:checked")) return;
      refreshParts(page ? ["#sla", "#thread ol.thread", "p.meta", "#devices"] : ["#queue tbody", "h1 .count"]);
    }, 500);
  }
  // A filter form marked data-autosubmit applies a changed choice at once
  // (its button stays for keyboards and scriptless browsers).
  document.addEventListener("change", function (e) {
    var form = e.target.form;
    if (form && form.hasAttribute("data-autosubmit") && e.target.tagName === "SELECT") form.requestSubmit();
  });
  // Live alerts: the alert list refreshes its rows when an alert of the
  // user's clients opens or changes (/alerts/events).
  var alertsLive = null;
  function listenAlerts() {
    if (alertsLive || !window.EventSource || !document.querySelector("[data-live-alerts]")) return;
    alertsLive = new EventSource("/alerts/events");
    var refresh = function () {
      clearTimeout(refreshTimer);
      var parts = ["#" + document.querySelector("[data-live-alerts]").id];
      if (document.querySelector("h1 .count")) parts.push("h1 .count");
      refreshTimer = setTimeout(function () { refreshParts(parts); }, 300);
    };
    alertsLive.addEventListener("changed", refresh);
    alertsLive.addEventListener("resync", refresh);
  }
  document.addEventListener("DOMContentLoaded", listenAlerts);
  // Invoice runs: the runs table follows a run's progress (/billing/events).
  var runsLive = null;
  function listenRuns() {
    if (runsLive || !window.EventSource || !document.querySelector("[data-live-runs]")) return;
    runsLive = new EventSource("/billing/events");
    var refresh = function () {
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(function () { refreshParts(["#runs", "#reconciliation"]); }, 300);
    };
    runsLive.addEventListener("run", refresh);
    runsLive.addEventListener("resync", refresh);
  }
  document.addEventListener("DOMContentLoaded", listenRuns);
  document.addEventListener("htmx:load", listenRuns);
  document.addEventListener("htmx:load", listenAlerts);
  function listenTickets() {
    if (ticketsLive || !window.EventSource || !document.querySelector("[data-live-tickets], [data-live-ticket]")) return;
    ticketsLive = new EventSource("/tickets/events");
    ticketsLive.addEventListener("changed", onTicketChanged);
    ticketsLive.addEventListener("resync", function () { onTicketChanged({ data: "{}" }); });
  }
  document.addEventListener("DOMContentLoaded", listenTickets);
  document.addEventListener("htmx:load", listenTickets);
  // A form refused (400, 409, 422) keeps what was typed: instead of the
  // re-rendered page, its message goes next to the field it names ("name:
  // message", as the server writes it) or at the top of the form, and the
  // field gets focus. Other errors replace the page (htmx-config swaps
  // every status, so no answer is ever dropped silently).
  function refusedMessage(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var el = doc.querySelector("main .error[role=alert]") || doc.querySelector("main p, body p");
    return el ? el.textContent.trim() : "The form was refused.";
  }
  function showFormError(form, message) {
    form.querySelectorAll(".field-error").forEach(function (n) { n.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (n) {
      n.removeAttribute("aria-invalid");
      n.removeAttribute("aria-describedby");
    });
    var m = /^([a-z_][a-z0-9_.]*): (.*)$/s.exec(message);
    var field = m ? form.querySelector('[name="' + m[1] + '"]') : null;
    var p = document.createElement("p");
    p.className = "field-error";
    p.setAttribute("role", "alert");
    p.id = "field-error-" + Math.random().toString(36).slice(2);
    p.textContent = field ? m[2] : message;
    if (field && field.type !== "hidden") {
      var at = field.closest("label") || field;
      at.insertAdjacentElement("afterend", p);
      field.setAttribute("aria-invalid", "true");
      field.setAttribute("aria-describedby", p.id);
      field.focus();
    } else {
      form.insertAdjacentElement("afterbegin", p);
    }
  }
  document.addEventListener("htmx:beforeSwap", function (e) {
    var status = e.detail.xhr.status;
    var elt = e.detail.requestConfig && e.detail.requestConfig.elt;
    var form = elt && (elt.tagName === "FORM" ? elt : elt.closest && elt.closest("form"));
    if (form && (status === 400 || status === 409 || status === 422)) {
      e.detail.shouldSwap = false;
      e.detail.isError = false;
      showFormError(form, refusedMessage(e.detail.xhr.responseText));
    }
  });
  // Times: a <time datetime> reads "3 min ago" / "in 2 h", with the exact
  // local time on hover; refreshed every 30 s. Without JavaScript the
  // RFC 3339 time stays.
  function relative(ms) {
    var s = Math.round(Math.abs(ms) / 1000), future = ms > 0, t;
    if (s < 45) t = "just now";
    else if (s < 90 * 60) t = Math.round(s / 60) + " min";
    else if (s < 36 * 3600) t = Math.round(s / 3600) + " h";
    else if (s < 45 * 86400) t = Math.round(s / 86400) + " d";
    else return null;
    return t === "just now" ? t : future ? "in " + t : t + " ago";
  }
  function humanizeTimes() {
    var now = Date.now();
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("datetime"));
      if (isNaN(at)) return;
      var exact = new Date(at).toLocaleString();
      var rel = relative(at - now);
      el.textContent = rel || exact;
      el.title = exact;
    });
  }
  document.addEventListener("DOMContentLoaded", humanizeTimes);
  document.addEventListener("htmx:load", humanizeTimes);
  setInterval(humanizeTimes, 30000);
})();

// Tabs: [data-tabs] holds [role=tab] buttons, each naming its panel in
// aria-controls; one panel shows at a time. Lists filter as you type:
// <input data-filter-rows="TABLE-ID"> hides the table's rows without the text.
(function () {
  document.addEventListener("click", function (e) {
    var tab = e.target.closest ? e.target.closest("[data-tabs] [role=tab]") : null;
    if (!tab) return;
    var box = tab.closest("[data-tabs]");
    box.querySelectorAll("[role=tab]").forEach(function (t) {
      var on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      var panel = document.getElementById(t.getAttribute("aria-controls"));
      if (panel) panel.hidden = !on;
    });
  });
  document.addEventListener("input", function (e) {
    var id = e.target.getAttribute && e.target.getAttribute("data-filter-rows");
    if (!id) return;
    var text = e.target.value.trim().toLowerCase();
    document.querySelectorAll("#" + CSS.escape(id) + " tbody tr").forEach(function (r) {
      r.hidden = text !== "" && r.textContent.toLowerCase().indexOf(text) < 0;
    });
  });
})();
