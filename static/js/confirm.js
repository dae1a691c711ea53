/* Destructive actions ask first: <form data-confirm="Resolve this incident?"> or
 * <button data-confirm="Delete this channel?"> submits only when confirmed.
 * Without JavaScript the form submits as usual (the button still looks dangerous). No inline script (CSP). */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var question = (button && button.getAttribute && button.getAttribute("data-confirm")) ||
      (form && form.getAttribute && form.getAttribute("data-confirm"));
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);
})();
