/* Live preview of a silence: the open alerts its matchers would mute, as you type.
 *
 * <form data-preview-url="/…/preview.json" [data-preview-organization="slug"]>
 *   <input name="matchers" …> … <div data-preview-out></div>
 * The matchers (Alertmanager syntax) are sent as ?matchers=… (and the organization, from
 * data-preview-organization or the form's organization select) 300 ms after the last keystroke;
 * the answer (JSON: ok, count, more, alerts[], or ok=false with error) is written with
 * textContent only. Vendored, no dependencies, no inline script or style (CSP).
 */
(function () {
  "use strict";
  if (!window.fetch) return;
  function setup(form) {
    var input = form.querySelector("[data-preview-input], input[name=matchers]");
    var out = form.querySelector("[data-preview-out]");
    if (!input || !out) return;
    var url = form.getAttribute("data-preview-url");
    var select = form.querySelector("[data-preview-organization-select]");
    var timer = null, seq = 0;

    function line(text, cls) {
      var p = document.createElement("p");
      p.className = cls || "small muted";
      p.textContent = text;
      return p;
    }
    function render(data) {
      out.textContent = "";
      if (!data.ok) {
        out.appendChild(line((data.field || "matchers") + ": " + data.error, "small field-error"));
        return;
      }
      out.appendChild(line(data.count === 0 ? "Mutes no open alert right now." :
        "Would mute " + data.count + (data.more ? "+" : "") + " open alert" + (data.count === 1 ? "" : "s") + ":",
        "small preview__count"));
      if (!data.alerts.length) return;
      var ul = document.createElement("ul");
      ul.className = "plain preview__list";
      data.alerts.forEach(function (a) {
        var li = document.createElement("li");
        var link = document.createElement("a");
        link.href = a.url;
        link.textContent = a.title;
        li.appendChild(link);
        li.appendChild(document.createTextNode(" · " + a.severity + " · " + a.status + " · " + a.organization));
        ul.appendChild(li);
      });
      out.appendChild(ul);
    }
    function run() {
      var q = "?matchers=" + encodeURIComponent(input.value);
      var org = form.getAttribute("data-preview-organization") || (select ? select.value : "");
      if (org) q += "&organization=" + encodeURIComponent(org);
      var mine = ++seq;
      if (!input.value.trim()) { out.textContent = ""; return; }
      fetch(url + q, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (data) { if (mine === seq) render(data); })
        .catch(function () { if (mine === seq) { out.textContent = ""; out.appendChild(line("Preview unavailable.")); } });
    }
    function soon() { clearTimeout(timer); timer = setTimeout(run, 300); }
    input.addEventListener("input", soon);
    if (select) select.addEventListener("change", soon);
    run();
  }
  document.querySelectorAll("form[data-preview-url]").forEach(setup);
})();
