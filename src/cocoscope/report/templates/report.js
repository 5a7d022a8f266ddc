// Filtering of the findings (or sites) table; the page is complete without it.
(function () {
  var form = document.getElementById("filters");
  if (!form) { return; }
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-row]"));
  var count = document.getElementById("shown-count");
  var lanes = Array.prototype.slice.call(document.querySelectorAll("svg a.lane"));
  function checked(name) {
    var boxes = form.querySelectorAll("input[name=" + name + "]");
    if (!boxes.length) { return null; }
    var on = {};
    Array.prototype.forEach.call(boxes, function (b) { if (b.checked) { on[b.value] = true; } });
    return on;
  }
  function apply() {
    var sev = checked("severity"), st = checked("status");
    var iface = form.elements.interface ? form.elements.interface.value : "";
    var q = form.elements.q ? form.elements.q.value.trim().toLowerCase() : "";
    var shown = 0;
    rows.forEach(function (r) {
      var ok = (!sev || sev[r.dataset.severity]) && (!st || st[r.dataset.status]) &&
        (!iface || r.dataset.interface === iface) &&
        (!q || r.textContent.toLowerCase().indexOf(q) >= 0);
      r.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + " of " + rows.length + " shown";
    lanes.forEach(function (a) { a.classList.toggle("selected", a.dataset.interface === iface); });
  }
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  form.addEventListener("reset", function () { setTimeout(apply, 0); });
  lanes.forEach(function (a) {
    a.addEventListener("click", function (e) {
      e.preventDefault();
      if (form.elements.interface) {
        form.elements.interface.value = a.dataset.interface;
        apply();
      }
      document.getElementById(form.dataset.target).scrollIntoView();
    });
  });
  apply();
})();
