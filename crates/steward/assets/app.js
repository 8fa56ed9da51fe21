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
})();
