// Keyboard review (no inline script: the CSP allows only files from /static).
// j / k: next / previous record; 1-9: the label of that key; n: the note; Esc: leave the note.
(function () {
  "use strict";
  var form = document.getElementById("judge");
  if (!form) { return; }
  var note = document.getElementById("note");
  function go(id) {
    var link = document.getElementById(id);
    if (link) { window.location.href = link.href; }
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    var typing = target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT");
    if (typing) {
      if (event.key === "Escape") { target.blur(); event.preventDefault(); }
      return;
    }
    if (event.key === "j") { go("next"); event.preventDefault(); return; }
    if (event.key === "k") { go("prev"); event.preventDefault(); return; }
    if (event.key === "n" && note) { note.focus(); event.preventDefault(); return; }
    if (/^[1-9]$/.test(event.key)) {
      var button = form.querySelector('button[data-key="' + event.key + '"]');
      if (button) { event.preventDefault(); form.requestSubmit(button); }
    }
  });
}());
