// The header's bell: fetches the unread count (GET, same origin) and shows it
// as a badge; again every minute while the page is open.
(function () {
  "use strict";
  var bell = document.getElementById("notification-bell");
  var badge = document.getElementById("notification-count");
  if (!bell || !badge || !window.fetch) {
    return;
  }
  var url = bell.getAttribute("data-unread-url");
  var label = bell.getAttribute("aria-label");

  function show(count) {
    if (count > 0) {
      badge.textContent = count > 99 ? "99+" : String(count);
      badge.classList.remove("hidden");
      bell.setAttribute("aria-label", label + " (" + count + ")");
    } else {
      badge.textContent = "";
      badge.classList.add("hidden");
      bell.setAttribute("aria-label", label);
    }
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data && typeof data.unread === "number") {
          show(data.unread);
        }
      })
      .catch(function () {});
  }

  refresh();
  window.setInterval(refresh, 60000);
})();
