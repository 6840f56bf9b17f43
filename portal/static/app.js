// Yamen portal: the only script. Pages work without it; it asks before a
// button marked data-confirm submits its form.
document.addEventListener("click", function (e) {
  var b = e.target.closest("button[data-confirm]");
  if (b && !window.confirm(b.getAttribute("data-confirm"))) e.preventDefault();
});
