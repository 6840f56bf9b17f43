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
