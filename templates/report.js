// Filters rows by assessment and timing. Without JavaScript the form stays hidden and every row shows.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) { return; }
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-timing]"));
  var sections = Array.prototype.slice.call(document.querySelectorAll("section[data-assessment]"));
  var shown = document.getElementById("shown");
  function apply() {
    var a = form.elements.assessment.value;
    var t = form.elements.timing.value;
    var n = 0;
    rows.forEach(function (r) {
      var ok = (a === "" || r.getAttribute("data-assessment") === a) && (t === "" || r.getAttribute("data-timing") === t);
      r.hidden = !ok;
      if (ok) { n += 1; }
    });
    sections.forEach(function (s) {
      var own = s.querySelectorAll("tr[data-timing]");
      var any = own.length === 0 && t === "";
      for (var i = 0; i < own.length; i += 1) { if (!own[i].hidden) { any = true; } }
      s.hidden = !any || (a !== "" && s.getAttribute("data-assessment") !== a);
    });
    shown.textContent = String(n);
  }
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  form.hidden = false;
  apply();
})();
