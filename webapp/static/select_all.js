// "Select all" for a list of checkboxes: #select-all ticks or clears every .select-task, and shows
// whether all, some or none are ticked. A static file, because the Content-Security-Policy runs no inline script.
(function () {
  var all = document.getElementById("select-all");
  if (!all) { return; }
  var boxes = Array.prototype.slice.call(document.querySelectorAll(".select-task"));
  function sync() {
    var checked = boxes.filter(function (b) { return b.checked; }).length;
    all.checked = boxes.length > 0 && checked === boxes.length;
    all.indeterminate = checked > 0 && checked < boxes.length;
  }
  all.addEventListener("change", function () { boxes.forEach(function (b) { b.checked = all.checked; }); });
  boxes.forEach(function (b) { b.addEventListener("change", sync); });
  sync();
})();
