// Agent console: the queue page and the requests page listen on /agent/ws and replace their
// rows with what the server rendered, so the page never reloads. No framework, no external
// code.
(function () {
  "use strict";
  var VIEWS = {
    queue: { rows: "queue-rows", count: "queue-count", key: "handoffId", attr: "data-handoff-id", href: "/agent/handoffs/" },
    requests: { rows: "request-rows", count: "request-count", key: "requestId", attr: "data-request-id", href: "/agent/requests/" }
  };
  var page = document.body.dataset.page;
  var view = VIEWS[page];
  if (!view) return;
  var rows = document.getElementById(view.rows);
  var count = document.getElementById(view.count);
  var live = document.getElementById("live-status");
  var outbox = document.getElementById("outbox-rows");
  var outboxCount = document.getElementById("outbox-count");
  var filters = document.getElementById("request-filters");
  var title = document.title;
  var known = null;
  var delay = 1000;

  function show(msg) {
    rows.innerHTML = msg.rows_html; // rendered and escaped by the server's templates
    count.textContent = String(msg.ids.length);
    if (known !== null) {
      msg.ids.forEach(function (id) {
        if (known.indexOf(id) < 0) {
          var row = rows.querySelector("tr[" + view.attr + '="' + id + '"]');
          if (row) row.classList.add("new");
        }
      });
    }
    known = msg.ids;
    if (outbox && msg.outbox_html !== undefined) {
      outbox.innerHTML = msg.outbox_html;
      outboxCount.textContent = String(msg.outbox_count);
    }
    document.title = (msg.ids.length ? "(" + msg.ids.length + ") " : "") + title;
  }

  function channelUrl() {
    var scheme = location.protocol === "https:" ? "wss:" : "ws:";
    var query = "";
    if (page === "requests") {
      var params = new URLSearchParams(location.search); // the list's filter
      params.set("view", "requests");
      query = "?" + params.toString();
    }
    return scheme + "//" + location.host + "/agent/ws" + query;
  }

  function connect() {
    var ws = new WebSocket(channelUrl());
    var opened = false;
    ws.onopen = function () {
      opened = true;
      delay = 1000;
      live.textContent = "live";
      live.className = "live ok";
    };
    ws.onmessage = function (event) {
      var msg = JSON.parse(event.data);
      if (msg.type === page) show(msg);
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
    var row = event.target.closest("tr[" + view.attr + "]");
    if (row && !event.target.closest("a")) location.href = view.href + row.dataset[view.key];
  });
  if (filters) {
    // a changed filter shows at once (the button stays for keyboard users and without JS)
    filters.addEventListener("change", function () { filters.submit(); });
  }
  connect();
})();
