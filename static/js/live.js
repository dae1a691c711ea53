/* Live regions: refresh a page's [data-live] element in place, without a full reload.
 *
 * <div data-live data-refresh-seconds="30"> … <time data-live-as-of datetime="ISO"> … </div>
 * Every N seconds the page is fetched again and the element's content swapped
 * for the new one; the data's age is shown in [data-live-age] every second,
 * and a failed refresh says so (the old data stays, marked stale). Vendored,
 * no dependencies: the portal works offline.
 */
(function () {
  "use strict";
  var region = document.querySelector("[data-live]");
  if (!region || !window.fetch || !window.DOMParser) return;
  var every = parseInt(region.getAttribute("data-refresh-seconds") || "30", 10) * 1000;
  var status = document.querySelector("[data-live-status]");

  function asOf() {
    var t = region.querySelector("[data-live-as-of]");
    return t ? new Date(t.getAttribute("datetime")) : null;
  }
  function showAge() {
    var el = document.querySelector("[data-live-age]");
    var at = asOf();
    if (!el || !at) return;
    var s = Math.max(0, Math.round((Date.now() - at.getTime()) / 1000));
    el.textContent = s < 90 ? s + " s old" : Math.round(s / 60) + " min old";
    el.classList.toggle("stale", s * 1000 > every * 3);
  }
  function say(text, bad) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("stale", !!bad);
  }
  function refresh() {
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Live-Refresh": "1" } })
      .then(function (r) {
        if (r.redirected || !r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-live]");
        if (!fresh) throw new Error("no live region in the answer");
        region.innerHTML = fresh.innerHTML;
        say("live", false);
        showAge();
      })
      .catch(function (err) {
        say("refresh failed (" + err.message + "), showing older data; retrying", true);
      });
  }
  setInterval(refresh, every);
  setInterval(showAge, 1000);
  showAge();
})();
