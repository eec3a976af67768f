/* Territory fields: suggestions of official territories as people type (the ARIA 1.2
   combobox pattern with a list box). Every <input data-territory-search="URL"> gets a
   list of at most 20 suggestions from URL?q=..., chosen with the arrow keys and Enter
   (Escape closes the list) or with a click; a status region says how many there are.
   Without this script the field is a text field: a name or an official code typed in
   full is still found by the form. No inline script: loaded under the portal's CSP. */
(function () {
  "use strict";

  var DELAY = 250;
  var counter = 0;

  function setup(input) {
    var url = input.getAttribute("data-territory-search");
    var id = input.id || "territory-" + (++counter);
    var listId = id + "-suggestions";
    var statusId = id + "-suggestions-status";
    var options = [];
    var active = -1;
    var timer = null;
    var controller = null;
    var lastQuery = null;

    function message(name, fallback, values) {
      var text = input.getAttribute("data-msg-" + name) || fallback;
      Object.keys(values || {}).forEach(function (key) { text = text.split("{" + key + "}").join(values[key]); });
      return text;
    }

    var list = document.createElement("ul");
    list.id = listId;
    list.className = "portal-combobox__list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", input.getAttribute("data-suggestions-label") || "Territoires proposés");
    list.hidden = true;

    var status = document.createElement("p");
    status.id = statusId;
    status.className = "fr-sr-only";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");

    input.parentNode.classList.add("portal-combobox");
    input.insertAdjacentElement("afterend", list);
    list.insertAdjacentElement("afterend", status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("autocomplete", "off");

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function open() {
      if (!options.length) { return; }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function highlight(index) {
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
        option.classList.toggle("portal-combobox__option--active", i === index);
      });
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      if (index < 0 || index >= options.length) { return; }
      input.value = options[index].getAttribute("data-value");
      lastQuery = input.value;
      close();
      status.textContent = message("chosen", "Territoire choisi : {value}.", { value: input.value });
    }

    function show(data) {
      list.textContent = "";
      options = (data.results || []).map(function (result, i) {
        var option = document.createElement("li");
        option.id = listId + "-" + i;
        option.className = "portal-combobox__option";
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.setAttribute("data-value", result.value);
        option.textContent = result.label;
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });
        option.addEventListener("click", function () { choose(i); input.focus(); });
        list.appendChild(option);
        return option;
      });
      active = -1;
      var n = options.length;
      if (!n) {
        close();
        status.textContent = message("none", "Aucun territoire ne correspond.");
        return;
      }
      open();
      status.textContent = (n === 1 ? message("one", "1 territoire proposé") : message("many", "{n} territoires proposés", { n: n }))
        + (data.more ? message("more", " (les {n} premiers)", { n: n }) : "")
        + message("keys", ".");
    }

    function search() {
      var query = input.value.trim();
      if (query === lastQuery) { return; }
      lastQuery = query;
      if (query.length < 2 && !/^\d$/.test(query)) {
        options = [];
        list.textContent = "";
        close();
        status.textContent = "";
        return;
      }
      if (controller) { controller.abort(); }
      controller = typeof AbortController === "function" ? new AbortController() : null;
      fetch(url + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: controller ? controller.signal : undefined
      }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      }).then(function (data) {
        if (input.value.trim() === query) { show(data); }
      }).catch(function (error) {
        if (error && error.name === "AbortError") { return; }
        close();
        status.textContent = message("error", "Suggestions indisponibles.");
      });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, DELAY);
    });

    input.addEventListener("keydown", function (event) {
      var expanded = !list.hidden;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!expanded) { open(); if (!options.length) { return; } }
        highlight(active + 1 < options.length ? active + 1 : 0);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (!expanded) { open(); if (!options.length) { return; } }
        highlight(active > 0 ? active - 1 : options.length - 1);
      } else if (event.key === "Enter") {
        if (expanded && active >= 0) {
          event.preventDefault();
          choose(active);
        }
      } else if (event.key === "Escape") {
        if (expanded) {
          event.preventDefault();
          close();
        }
      }
    });

    input.addEventListener("blur", function () { window.setTimeout(close, 150); });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-territory-search]"), setup);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
