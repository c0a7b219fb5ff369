// The portal's approvals list: opening "Reject…" or "Ask a question…" closes the other one of that approval and
// puts the cursor in its reason. Without this file the <details> still open and the forms still send.
(function () {
  var menus = Array.prototype.slice.call(document.querySelectorAll("details.reason"));
  menus.forEach(function (menu) {
    menu.addEventListener("toggle", function () {
      if (!menu.open) { return; }
      menus.forEach(function (other) {
        if (other !== menu && other.parentNode === menu.parentNode) { other.open = false; }
      });
      var reason = menu.querySelector("textarea");
      if (reason) { reason.focus(); }
    });
  });
})();
