/* The ticket page's live part (broker/web/ticket.py). An EventSource on the page's stream URL gets the part
   the server rendered each time this ticket's view changes, and swaps it in; when the server says every
   stream slot is taken (or the stream cannot be opened, or this browser has no EventSource) the page asks
   its status URL every few seconds instead, and tries the stream again later. It rings and vibrates when
   the number is called, and again on a recall (once the visitor turned sound on: browsers play sound and
   vibrate only after a tap), and reloads for the survey once the ticket has been served. No library, no
   other site: the CSP allows scripts and connections to this server only. */
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var statusUrl = live.getAttribute("data-status");
  var streamUrl = live.getAttribute("data-stream");
  var every = (parseFloat(live.getAttribute("data-poll")) || 5) * 1000;
  var button = document.getElementById("sound");
  var chime = null;
  var timer = null;   /* the next poll, while there is no stream */
  var again = null;   /* the next try of the stream, after it was refused */
  var source = null;
  var FIRST_EVENT_MS = 15000;

  function current() { return live.querySelector(".live"); }
  function kind() { var el = current(); return el ? el.getAttribute("data-kind") : ""; }
  function callSeq() { var el = current(); return el ? parseInt(el.getAttribute("data-call"), 10) || 0 : 0; }
  function mode(how) { live.setAttribute("data-live", how); }

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

  /* one answer, from the stream or a poll: {kind, call_seq, html} */
  function show(data) {
    if (data.kind === "done") { stop(); window.location.reload(); return; }  /* the survey, drawn by the server */
    var before = kind(), seq = callSeq();
    live.innerHTML = data.html;  /* this server's own template, escaped there */
    /* a recall raises the seq; a seq arriving after the counter's state (0 before it) is the same call */
    if (data.kind === "called" && (before !== "called" || (seq > 0 && data.call_seq > seq))) { ring(); }
  }

  function stop() {
    if (source) { source.close(); source = null; }
    clearTimeout(timer);
    clearTimeout(again);
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(poll, ms);
  }

  function poll() {
    if (source || document.hidden) { return; }  /* asked again when the page is shown */
    fetch(statusUrl, { headers: { "Accept": "application/json" }, cache: "no-store", credentials: "omit" })
      .then(function (response) {
        if (response.status === 404) { throw new Error("gone"); }
        return response.json();
      })
      .then(function (data) {
        if (source) { return; }  /* the stream came back meanwhile */
        show(data);
        if (data.kind !== "done") { schedule(every); }
      })
      .catch(function (error) {
        if (error && error.message === "gone") { return; }
        schedule(every * 2);  /* no network for a moment (a phone leaving the Wi-Fi): try again later */
      });
  }

  /* without the stream: poll, and try the stream again after `retryS` */
  function fallBack(retryS) {
    if (source) { source.close(); source = null; }
    mode("poll");
    schedule(every);
    clearTimeout(again);
    if (window.EventSource && streamUrl) { again = setTimeout(listen, retryS * 1000); }
  }

  function listen() {
    if (!window.EventSource || !streamUrl) { fallBack(0); return; }
    if (source) { return; }
    mode("connecting");
    var es = source = new EventSource(streamUrl);
    /* the first event comes at once; one that does not (a proxy holding the stream back) means: poll */
    setTimeout(function () {
      if (source === es && live.getAttribute("data-live") !== "push") { fallBack(60); }
    }, FIRST_EVENT_MS);
    es.addEventListener("live", function (e) {  /* a slot: the stream's first event is the whole part */
      if (source !== es) { return; }
      clearTimeout(timer);
      mode("push");
      show(JSON.parse(e.data));
    });
    es.addEventListener("done", function () { stop(); window.location.reload(); });
    es.addEventListener("full", function (e) {
      var retry = 60;
      try { retry = JSON.parse(e.data).retry_s || retry; } catch (ignore) {}
      if (source === es) { fallBack(retry); }
    });
    es.addEventListener("error", function () {
      /* CONNECTING: EventSource reconnects by itself (and the stream starts with the whole part again);
         CLOSED: refused (a 404, a 429 of the rate limit, a server error): poll instead */
      if (source === es && es.readyState === 2) { fallBack(60); }
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !source) { schedule(0); }  /* polling: ask at once on coming back */
  });
  if (window.EventSource && streamUrl) { listen(); } else { fallBack(0); }
}());
