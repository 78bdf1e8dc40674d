/*
 * CRM web capture snippet (issue 21). Include it on every page of the site:
 *
 *   <script src="https://crm.example.com/static/crm_models/capture/utm.js" defer></script>
 *   <form method="post" action="https://crm.example.com/capture/<key>/" data-crm-capture> ... </form>
 *
 * It keeps the utm_* parameters of the page a visitor landed on in a
 * first-party cookie (so they survive the visitor browsing to the contact
 * page) and, when a form marked data-crm-capture is submitted, puts them into
 * hidden fields of that form. A plain script file: no inline code, so it works
 * under a Content-Security-Policy without 'unsafe-inline'.
 */
(function () {
  "use strict";
  var COOKIE = "crm_utm";
  var FIELDS = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"];
  var DAYS = 90;

  function fromUrl() {
    var params = new URLSearchParams(window.location.search);
    var found = {};
    var any = false;
    FIELDS.forEach(function (name) {
      var value = params.get(name);
      if (value) {
        found[name] = value.slice(0, 200);
        any = true;
      }
    });
    return any ? found : null;
  }

  function read() {
    var prefix = COOKIE + "=";
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      if (parts[i].indexOf(prefix) === 0) {
        try {
          var value = JSON.parse(decodeURIComponent(parts[i].slice(prefix.length)));
          return value && typeof value === "object" ? value : {};
        } catch (error) {
          return {};
        }
      }
    }
    return {};
  }

  function write(values) {
    var secure = window.location.protocol === "https:" ? "; Secure" : "";
    document.cookie = COOKIE + "=" + encodeURIComponent(JSON.stringify(values)) +
      "; Max-Age=" + DAYS * 86400 + "; Path=/; SameSite=Lax" + secure;
  }

  function fill(form) {
    var values = read();
    FIELDS.forEach(function (name) {
      if (!values[name]) {
        return;
      }
      var input = form.querySelector('input[name="' + name + '"]');
      if (!input) {
        input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        form.appendChild(input);
      }
      if (!input.value) {
        input.value = values[name];
      }
    });
  }

  // A new ad click replaces the remembered parameters; a visit without any keeps them.
  var landed = fromUrl();
  if (landed) {
    write(landed);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form && form.matches && form.matches("form[data-crm-capture]")) {
      fill(form);
    }
  }, true);
})();
