/* The ticket page's live part (broker/web/ticket.py): asks the page's status URL every few seconds and
   swaps in the part the server rendered; rings and vibrates when the number is called (once the visitor
   turned sound on: browsers play sound and vibrate only after a tap), and reloads for the survey once
   the ticket has been served. No library, no other site: the CSP allows scripts from this server only. */
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var url = live.getAttribute("data-status");
  var every = (parseInt(live.getAttribute("data-poll"), 10) || 5) * 1000;
  var button = document.getElementById("sound");
  var chime = null;
  var timer = null;

  function current() { return live.querySelector(".live"); }
  function kind() { var el = current(); return el ? el.getAttribute("data-kind") : ""; }
  function callSeq() { var el = current(); return el ? parseInt(el.getAttribute("data-call"), 10) || 0 : 0; }

  function ring() {
    if (chime) { chime.currentTime = 0; chime.play().catch(function () {}); }
    if (navigator.vibrate) { navigator.vibrate([400, 200, 400, 200, 400]); }
    document.documentElement.setAttribute("data-rang", String(callSeq()));
  }

  if (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      chime = new Audio(button.getAttribute("data-chime"));
      chime.volume = 1.0;
      chime.play().catch(function () {});  /* this tap allows sound from now on */
      if (navigator.vibrate) { navigator.vibrate(50); }
      button.textContent = button.getAttribute("data-on");
      button.disabled = true;
    });
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(poll, ms);
  }

  function poll() {
    if (document.hidden) { return; }  /* asked again when the page is shown */
    var before = kind(), seq = callSeq();
    fetch(url, { headers: { "Accept": "application/json" }, cache: "no-store", credentials: "omit" })
      .then(function (response) {
        if (response.status === 404) { throw new Error("gone"); }
        return response.json();
      })
      .then(function (data) {
        if (data.kind === "done") { window.location.reload(); return; }  /* the survey, drawn by the server */
        live.innerHTML = data.html;  /* this server's own template, escaped there */
        if (data.kind === "called" && (before !== "called" || data.call_seq > seq)) { ring(); }
        schedule(every);
      })
      .catch(function (error) {
        if (error && error.message === "gone") { return; }
        schedule(every * 2);  /* no network for a moment (a phone leaving the Wi-Fi): try again later */
      });
  }

  document.addEventListener("visibilitychange", function () { if (!document.hidden) { schedule(0); } });
  schedule(every);
}());
