// The vault's pages: generate a password into a field, show a typed one,
// reveal an entry's secrets through the API (asking for a fresh second
// factor when the server wants one), copy a revealed value. Secrets are
// put into the page as text only (textContent), never as HTML, and are
// hidden again after a minute.
(function () {
  "use strict";
  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body || {}),
    }).then(function (r) {
      return r.text().then(function (t) { return { status: r.status, body: t ? JSON.parse(t) : null }; });
    });
  }
  var hideTimer = null;
  function hideAll() {
    document.querySelectorAll("#entry .secret").forEach(function (el) { el.textContent = "••••••••"; });
    var left = document.getElementById("totp-left");
    if (left) left.textContent = "";
    document.querySelectorAll("[data-copy]").forEach(function (b) { b.hidden = true; });
  }
  function show(v) {
    var pw = document.getElementById("secret-password");
    if (pw) pw.textContent = v.password === "" ? "(empty)" : v.password;
    var totp = document.getElementById("secret-totp");
    if (totp && v.totp_code) totp.textContent = v.totp_code;
    var left = document.getElementById("totp-left");
    if (left && v.totp_seconds_left) left.textContent = "for " + v.totp_seconds_left + " s";
    document.querySelectorAll("#entry [data-field]").forEach(function (el) {
      var f = el.getAttribute("data-field");
      if (v.fields && Object.prototype.hasOwnProperty.call(v.fields, f)) el.textContent = v.fields[f];
    });
    document.querySelectorAll("[data-copy]").forEach(function (b) { b.hidden = false; });
    document.getElementById("entry").setAttribute("data-revealed", "1");
    clearTimeout(hideTimer);
    hideTimer = setTimeout(hideAll, 60000);
  }
  function say(text) {
    var e = document.getElementById("reveal-error");
    if (!e) return;
    e.textContent = text;
    e.hidden = !text;
  }
  function reveal() {
    var box = document.getElementById("entry");
    if (!box) return;
    say("");
    post(box.getAttribute("data-reveal"), {}).then(function (r) {
      if (r.status === 200) {
        document.getElementById("mfa-form").hidden = true;
        show(r.body);
      } else if (r.status === 403 && r.body && r.body.error && r.body.error.code === "mfa_required") {
        document.getElementById("mfa-why").textContent = r.body.error.message;
        document.getElementById("mfa-form").hidden = false;
        document.getElementById("mfa-code").focus();
      } else {
        say(r.body && r.body.error ? r.body.error.message : "The secret could not be revealed.");
      }
    }).catch(function () { say("The secret could not be revealed."); });
  }
  document.addEventListener("submit", function (e) {
    if (!e.target || e.target.id !== "mfa-form") return;
    e.preventDefault();
    var code = document.getElementById("mfa-code");
    post("/api/v1/me/mfa/verify", { code: code.value }).then(function (r) {
      code.value = "";
      if (r.status === 204) reveal();
      else say(r.body && r.body.error ? r.body.error.message : "That code did not work.");
    });
  });
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!t || !t.closest) return;
    if (t.closest("#reveal")) { reveal(); return; }
    var gen = t.closest("[data-generate]");
    if (gen) {
      var words = gen.getAttribute("data-words");
      fetch("/api/v1/vault/password" + (words ? "?words=" + encodeURIComponent(words) : ""), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (v) {
          var input = document.getElementById(gen.getAttribute("data-generate"));
          if (input && typeof v.password === "string") { input.value = v.password; input.type = "text"; }
        });
      return;
    }
    var sh = t.closest("[data-show]");
    if (sh) {
      var i = document.getElementById(sh.getAttribute("data-show"));
      if (i) i.type = i.type === "password" ? "text" : "password";
      return;
    }
    var cp = t.closest("[data-copy]");
    if (cp && navigator.clipboard) {
      var src = document.getElementById(cp.getAttribute("data-copy"));
      if (src) navigator.clipboard.writeText(src.textContent);
    }
  });
})();
