/* Ruang Kendali: the live dashboard. The page is complete without this file; with it, an EventSource on
   /langsung replaces each block (an element with an id) the server sends again, so figures change without
   polling or reload. The stream starts with every block, so a reconnect (after the engine, the broker or
   this server restarted) puts the page right by itself; EventSource reconnects on its own. */
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root || !window.EventSource) { return; }
  var pending = {};  // id -> html of blocks held back while the user is in them

  function say(state) {
    var el = document.querySelector("#live-status .live-state");
    if (el && el.dataset[state]) { el.textContent = el.dataset[state]; }
    root.dataset.live = state;
  }

  function holdsFocus(el) {
    var active = document.activeElement;
    return active && active !== document.body && el.contains(active) &&
      (active.tagName === "INPUT" || active.tagName === "SELECT" || active.tagName === "TEXTAREA");
  }

  function replace(id, html) {
    var old = document.getElementById(id);
    if (!old) { return false; }
    if (holdsFocus(old)) { pending[id] = html; return true; }
    var t = document.createElement("template");
    t.innerHTML = html.trim();
    var fresh = t.content.firstElementChild;
    // the same value as shown: keep the element (and a refusal the page put beside its form)
    if (fresh && fresh.dataset.v !== old.dataset.v) { old.replaceWith(fresh); }
    delete pending[id];
    return true;
  }

  document.addEventListener("focusout", function () {
    setTimeout(function () {
      Object.keys(pending).forEach(function (id) { replace(id, pending[id]); });
    }, 0);
  });

  var source = new EventSource(root.dataset.stream);
  source.addEventListener("open", function () { say("connected"); });
  source.addEventListener("error", function () { say(source.readyState === 2 ? "static" : "connecting"); });
  source.addEventListener("blocks", function (e) {
    var data = JSON.parse(e.data);
    if (data.layout !== root.dataset.layout) { window.location.reload(); return; }
    var missing = false;
    Object.keys(data.blocks).forEach(function (id) { if (!replace(id, data.blocks[id])) { missing = true; } });
    if (missing) { window.location.reload(); return; }
    say("connected");
    root.dataset.updates = String(Number(root.dataset.updates || 0) + 1);
  });
  source.addEventListener("full", function () { say("full"); });
  source.addEventListener("ended", function (e) {
    source.close();
    window.location.assign(JSON.parse(e.data).to || "/masuk");
  });
}());
