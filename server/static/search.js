// Autocomplete for the site search box: an ARIA combobox over /api/search.
// Progressive enhancement only: without this script the box submits to /search.
(function () {
  "use strict";

  function setup(input) {
    var api = input.getAttribute("data-api");
    if (!api) { return; }
    var lang = input.getAttribute("data-lang") || "en";
    var emptyText = input.getAttribute("data-empty") || "";
    var listId = input.id + "-listbox";
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "autocomplete";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.parentNode.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("aria-expanded", "false");

    var items = [];
    var active = -1;
    var timer = null;
    var seq = 0;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(i) {
      var options = list.querySelectorAll("[role=option]");
      options.forEach(function (o) { o.setAttribute("aria-selected", "false"); });
      active = i;
      if (i >= 0 && options[i]) {
        options[i].setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", options[i].id);
        options[i].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function render(results) {
      items = results;
      list.textContent = "";
      if (!results.length) {
        var none = document.createElement("li");
        none.className = "autocomplete-empty";
        none.textContent = emptyText;
        list.appendChild(none);
      }
      results.forEach(function (r, i) {
        var li = document.createElement("li");
        li.id = listId + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.className = "cat-" + (r.category || "other");
        var label = document.createElement("span");
        label.className = "ac-label";
        label.textContent = r.label;
        var type = document.createElement("span");
        type.className = "type";
        type.textContent = r.typeLabel || "";
        li.appendChild(label);
        li.appendChild(type);
        if (r.matched) {
          var m = document.createElement("span");
          m.className = "muted";
          m.textContent = " „" + r.matched + "”";
          li.appendChild(m);
        }
        li.addEventListener("mousedown", function (e) { e.preventDefault(); });
        li.addEventListener("click", function () { window.location.href = r.url; });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    }

    function lookup() {
      var q = input.value.trim();
      if (q.length < 2) { close(); return; }
      var mine = ++seq;
      fetch(api + "?" + new URLSearchParams({ q: q, limit: "8", lang: lang }).toString(),
            { headers: { Accept: "application/json" } })
        .then(function (resp) { return resp.ok ? resp.json() : []; })
        .then(function (results) { if (mine === seq) { render(results); } })
        .catch(function () { close(); });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, 120);
    });
    input.addEventListener("keydown", function (e) {
      if (list.hidden) { return; }
      if (e.key === "ArrowDown") {
        e.preventDefault();
        highlight(Math.min(active + 1, items.length - 1));
      } else if (e.key === "ArrowUp") {
        e.preventDefault();
        highlight(Math.max(active - 1, -1));
      } else if (e.key === "Enter" && active >= 0 && items[active]) {
        e.preventDefault();
        window.location.href = items[active].url;
      } else if (e.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  document.querySelectorAll("input[data-api]").forEach(setup);
})();
