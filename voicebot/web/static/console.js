// Agent console: the queue page listens on /agent/ws and replaces the queue rows with what
// the server rendered, so the page never reloads. No framework, no external code.
(function () {
  "use strict";
  if (document.body.dataset.page !== "queue") return;
  var rows = document.getElementById("queue-rows");
  var count = document.getElementById("queue-count");
  var live = document.getElementById("live-status");
  var outbox = document.getElementById("outbox-rows");
  var outboxCount = document.getElementById("outbox-count");
  var title = document.title;
  var known = null;
  var delay = 1000;

  function show(msg) {
    rows.innerHTML = msg.rows_html; // rendered and escaped by the server's templates
    count.textContent = String(msg.ids.length);
    if (known !== null) {
      msg.ids.forEach(function (id) {
        if (known.indexOf(id) < 0) {
          var row = rows.querySelector('tr[data-handoff-id="' + id + '"]');
          if (row) row.classList.add("new");
        }
      });
    }
    known = msg.ids;
    if (outbox) {
      outbox.innerHTML = msg.outbox_html;
      outboxCount.textContent = String(msg.outbox_count);
    }
    document.title = (msg.ids.length ? "(" + msg.ids.length + ") " : "") + title;
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss:" : "ws:";
    var ws = new WebSocket(scheme + "//" + location.host + "/agent/ws");
    var opened = false;
    ws.onopen = function () {
      opened = true;
      delay = 1000;
      live.textContent = "live";
      live.className = "live ok";
    };
    ws.onmessage = function (event) {
      var msg = JSON.parse(event.data);
      if (msg.type === "queue") show(msg);
    };
    ws.onclose = function () {
      live.textContent = "Verbindung getrennt – neuer Versuch …";
      live.className = "live down";
      if (!opened) {
        // perhaps the session expired: then go to the login page
        fetch("/agent", { redirect: "manual" }).then(function (r) {
          if (r.type === "opaqueredirect") location.href = "/agent/login";
        });
      }
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  rows.addEventListener("click", function (event) {
    var row = event.target.closest("tr[data-handoff-id]");
    if (row && !event.target.closest("a")) location.href = "/agent/handoffs/" + row.dataset.handoffId;
  });
  connect();
})();
