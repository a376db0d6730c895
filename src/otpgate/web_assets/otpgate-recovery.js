/* otpgate: the recovery codes page's Copy and Print buttons (first-party, no inline script).
 *
 * The page works without it: the codes are on the page and the download link is a data: URL.
 * With it, the buttons marked [data-otpgate-copy] and [data-otpgate-print] are shown:
 * Copy puts the download's text on the clipboard and says so in the live region named by
 * its aria-controls; Print opens the browser's print dialog (the page's print styles show
 * only the codes).
 */
(function () {
  "use strict";

  function sheetText(link) {
    var href = link.getAttribute("href") || "";
    return decodeURIComponent(href.slice(href.indexOf(",") + 1));
  }

  function say(status, text) {
    if (!status) { return; }
    status.textContent = "";
    // A fresh text node, a moment later, so that a second "Copied" is announced again.
    setTimeout(function () { status.textContent = text; }, 50);
  }

  function setUp() {
    document.querySelectorAll("[data-otpgate-copy]").forEach(function (button) {
      var link = document.getElementById(button.getAttribute("data-otpgate-copy"));
      var status = document.getElementById(button.getAttribute("aria-controls"));
      if (!link || !navigator.clipboard || !navigator.clipboard.writeText) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(sheetText(link)).then(
          function () { say(status, button.getAttribute("data-done")); },
          function () { say(status, button.getAttribute("data-failed")); }
        );
      });
    });
    document.querySelectorAll("[data-otpgate-print]").forEach(function (button) {
      if (typeof window.print !== "function") { return; }
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
