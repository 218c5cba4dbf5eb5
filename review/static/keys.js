// Keyboard shortcuts for the review screen: a = approve, j/n = next, k/p = previous.
// Not while typing in a field, and not with Ctrl/Alt/Meta held.
(function () {
  "use strict";
  function typing(target) {
    if (!target) return false;
    var tag = (target.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }
  function follow(id) {
    var link = document.getElementById(id);
    if (link) window.location.href = link.href;
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || typing(event.target)) return;
    var key = event.key;
    if (key === "a") {
      var button = document.getElementById("approve");
      if (button) { event.preventDefault(); button.form.requestSubmit(button); }
    } else if (key === "j" || key === "n") {
      follow("next-link");
    } else if (key === "k" || key === "p") {
      follow("prev-link");
    }
  });
})();
