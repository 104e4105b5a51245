// Cadenza API reference: renders the service's OpenAPI document. Served from
// the binary with a CSP of script-src 'self'; builds the page with DOM calls
// and textContent only (nothing from the document is parsed as HTML).
(function () {
  "use strict";
  var METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
  var root = document.getElementById("app");
  var spec = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  }
  function refName(ref) { return ref.split("/").pop(); }
  function resolve(obj) {
    var seen = 0;
    while (obj && obj.$ref && seen++ < 16) {
      var parts = obj.$ref.replace(/^#\//, "").split("/");
      var cur = spec;
      for (var i = 0; i < parts.length && cur; i++) cur = cur[parts[i].replace(/~1/g, "/").replace(/~0/g, "~")];
      obj = cur;
    }
    return obj || {};
  }

  // A schema as indented pseudo-JSON, $refs shown by name below the top level.
  function schemaText(s, depth, seen) {
    if (!s) return "any";
    if (s.$ref) {
      var name = refName(s.$ref);
      if (depth > 0 && (seen.indexOf(name) >= 0 || depth > 3)) return name;
      return schemaText(resolve(s), depth, seen.concat([name]));
    }
    var pad = new Array(depth + 2).join("  ");
    var alts = s.oneOf || s.anyOf;
    if (alts) return alts.map(function (a) { return schemaText(a, depth, seen); }).join(" | ");
    if (s.allOf) return s.allOf.map(function (a) { return schemaText(a, depth, seen); }).join(" & ");
    if (s["enum"]) return s["enum"].map(function (v) { return JSON.stringify(v); }).join(" | ");
    var type = Array.isArray(s.type) ? s.type : [s.type];
    var nullable = type.indexOf("null") >= 0 || s.nullable === true;
    type = type.filter(function (t) { return t && t !== "null"; });
    var out;
    if (type[0] === "array" || s.items) {
      out = "[" + schemaText(s.items, depth, seen) + "]";
    } else if (type[0] === "object" || s.properties) {
      var props = s.properties || {};
      var req = s.required || [];
      var keys = Object.keys(props);
      if (!keys.length) {
        out = s.additionalProperties ? "{ [key]: " + schemaText(s.additionalProperties === true ? null : s.additionalProperties, depth, seen) + " }" : "object";
      } else {
        out = "{\n" + keys.map(function (k) {
          var p = props[k] || {};
          var line = pad + k + (req.indexOf(k) >= 0 ? "" : "?") + ": " + schemaText(p, depth + 1, seen);
          var d = (p.description || "").split("\n")[0];
          return d ? line + "  // " + d : line;
        }).join(",\n") + "\n" + pad.slice(2) + "}";
      }
    } else {
      out = type.join(" | ") || "any";
      if (s.format) out += " (" + s.format + ")";
      var limits = [];
      ["minLength", "maxLength", "minimum", "maximum", "pattern"].forEach(function (k) {
        if (s[k] !== undefined) limits.push(k + " " + s[k]);
      });
      if (limits.length) out += " [" + limits.join(", ") + "]";
    }
    return nullable ? out + " | null" : out;
  }

  function contentBlock(content) {
    var box = el("div");
    Object.keys(content || {}).forEach(function (type) {
      add(box, el("div", "summary", type), el("pre", null, schemaText(content[type].schema, 0, [])));
    });
    return box;
  }

  function paramsTable(params) {
    var t = el("table");
    add(t, add(el("tr"), el("th", null, "name"), el("th", null, "in"), el("th", null, "type"), el("th", null, "description")));
    params.forEach(function (p) {
      p = resolve(p);
      add(t, add(el("tr"),
        add(el("td"), el("code", null, p.name + (p.required ? "" : "?"))),
        el("td", null, p["in"]),
        add(el("td"), el("code", null, schemaText(p.schema, 1, []))),
        el("td", "desc", p.description || "")));
    });
    return t;
  }

  function operation(path, method, op, shared) {
    var d = el("details", "op" + (op.deprecated ? " deprecated" : ""));
    d.id = op.operationId || (method + path);
    var s = add(el("summary"), el("span", "method m-" + method, method.toUpperCase()), el("span", "path", path),
      el("span", "summary", op.summary || ""));
    var security = op.security || spec.security || [];
    if (security.some(function (r) { return Object.keys(r).length; })) add(s, el("span", "lock", "requires a bearer token"));
    add(d, s);
    var body = el("div", "body");
    if (op.description) add(body, el("p", "desc", op.description));
    var params = (shared || []).concat(op.parameters || []);
    if (params.length) add(body, el("h4", null, "Parameters"), paramsTable(params));
    if (op.requestBody) {
      var rb = resolve(op.requestBody);
      add(body, el("h4", null, "Request body" + (rb.required ? "" : " (optional)")), contentBlock(rb.content));
    }
    var responses = op.responses || {};
    if (Object.keys(responses).length) {
      add(body, el("h4", null, "Responses"));
      Object.keys(responses).forEach(function (code) {
        var r = resolve(responses[code]);
        add(body, add(el("div"), el("span", "status", code + " "), el("span", "desc", r.description || "")));
        if (r.content) add(body, contentBlock(r.content));
      });
    }
    add(d, body);
    return d;
  }

  function render() {
    var info = spec.info || {};
    document.title = (info.title || "API") + " reference";
    add(root, add(el("h1"), document.createTextNode(info.title || "API"), el("span", "version", " " + (info.version || ""))));
    if (info.description) add(root, el("p", "desc", info.description));
    var groups = {};
    var order = (spec.tags || []).map(function (t) { return t.name; });
    Object.keys(spec.paths || {}).forEach(function (path) {
      var item = spec.paths[path];
      METHODS.forEach(function (m) {
        if (!item[m]) return;
        var tag = (item[m].tags && item[m].tags[0]) || "other";
        if (order.indexOf(tag) < 0) order.push(tag);
        (groups[tag] = groups[tag] || []).push(operation(path, m, item[m], item.parameters));
      });
    });
    var nav = el("nav");
    order.forEach(function (tag) {
      if (!groups[tag]) return;
      var a = el("a", null, tag);
      a.href = "#tag-" + encodeURIComponent(tag);
      add(nav, a);
    });
    add(root, nav);
    order.forEach(function (tag) {
      if (!groups[tag]) return;
      var h = el("h2", null, tag);
      h.id = "tag-" + encodeURIComponent(tag);
      add(root, h);
      groups[tag].forEach(function (d) { add(root, d); });
    });
    var schemas = (spec.components && spec.components.schemas) || {};
    if (Object.keys(schemas).length) {
      var sh = el("h2", null, "Schemas");
      sh.id = "schemas";
      add(root, sh);
      Object.keys(schemas).sort().forEach(function (name) {
        var d = el("details", "op");
        d.id = "schema-" + name;
        add(d, add(el("summary"), el("span", "path", name)));
        add(d, add(el("div", "body"), el("pre", null, schemaText(schemas[name], 0, [name]))));
        add(root, d);
      });
    }
    if (location.hash) {
      var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
      if (target && target.tagName === "DETAILS") target.open = true;
    }
  }

  fetch(root.getAttribute("data-spec"), { headers: { accept: "application/json" }, credentials: "omit" })
    .then(function (r) {
      if (!r.ok) throw new Error("openapi.json answered " + r.status);
      return r.json();
    })
    .then(function (doc) { spec = doc; root.textContent = ""; render(); })
    .catch(function (e) { root.textContent = ""; add(root, el("p", "err", "Could not load the API description: " + e.message)); });
})();
