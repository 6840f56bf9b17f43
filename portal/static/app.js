// Yamen portal: the only script. Pages work without it; it asks before a
// button marked data-confirm submits its form.
document.addEventListener("click", function (e) {
  var b = e.target.closest("button[data-confirm]");
  if (b && !window.confirm(b.getAttribute("data-confirm"))) e.preventDefault();
});

// Display boards: data-stream is the hall's board stream (Server-Sent
// Events); each call or recall goes on top of the list.
(function () {
  var board = document.querySelector("[data-stream]");
  if (!board || !window.EventSource) return;
  var list = document.getElementById("calls");
  var max = parseInt(board.getAttribute("data-max"), 10) || 8;
  var win = board.getAttribute("data-window") || "%d";
  var stream = new EventSource(board.getAttribute("data-stream"));
  function show(e) {
    var d = JSON.parse(e.data);
    var old = list.querySelector('[data-ticket="' + d.ticket_id + '"]');
    if (old) old.remove();
    var li = document.createElement("li");
    li.setAttribute("data-ticket", d.ticket_id);
    [["call-number", d.number], ["call-window", win.replace("%d", d.window_number)], ["call-item", d.item_name]].forEach(function (p) {
      var s = document.createElement("span");
      s.className = p[0];
      s.textContent = p[1];
      li.appendChild(s);
      li.appendChild(document.createTextNode(" "));
    });
    list.insertBefore(li, list.firstChild);
    while (list.children.length > max) list.removeChild(list.lastChild);
    var empty = document.getElementById("board-empty");
    if (empty) empty.hidden = true;
    document.dispatchEvent(new CustomEvent("yamen:call", { detail: d }));
  }
  stream.addEventListener("call", show);
  stream.addEventListener("recall", show);
})();

// A citizen's ticket: data-poll is the page; its /position answer (JSON)
// says where the ticket stands, every five seconds until it is done.
(function () {
  var box = document.querySelector("[data-poll]");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-poll").split("?")[0] + "/position";
  function set(id, text) {
    var el = document.getElementById(id);
    if (el && text !== undefined && el.textContent !== text) el.textContent = text;
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (!d) return;
        set("status", d.status_text);
        set("ahead", d.ahead_text);
        if (d.window_text) set("window", d.window_text);
        if (d.status === "waiting" || d.status === "called") setTimeout(poll, 5000);
      })
      .catch(function () { setTimeout(poll, 15000); });
  }
  setTimeout(poll, 5000);
})();
