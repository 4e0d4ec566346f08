// The indicator builder's form: fields follow the chosen layer, a chosen plan target fills
// the target, and every change posts the draft to the preview (debounced), which shows the
// value per city and county, the features behind it, or the draft's errors by key.
// Everything from data is set as text, never as markup.
(function () {
  "use strict";
  var form = document.getElementById("lutu-builder");
  if (!form) return;
  var layers = JSON.parse(document.getElementById("lutu-builder-layers").textContent);
  var targets = JSON.parse(document.getElementById("lutu-builder-targets").textContent);
  var layerSelect = document.getElementById("lutu-builder-layer");
  var timer = null;
  var asked = 0;

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function layer() { return layers[layerSelect.value] || { fields: [], states: [] }; }

  function fieldOf(name) {
    var found = null;
    layer().fields.forEach(function (f) { if (f.name === name) found = f; });
    return found;
  }

  function hint(row) {
    var select = row.querySelector(".lutu-builder-field");
    var out = row.querySelector(".lutu-builder-hint");
    var f = fieldOf(select.value);
    var words = [];
    if (f && f.allowed.length) words.push("可选 allowed: " + f.allowed.join("、"));
    if (f && f.unit) words.push("单位 unit: " + f.unit);
    if (f) words.push(f.type);
    out.textContent = words.join(" · ");
  }

  function fillFields(select, numericOnly) {
    var keep = select.value;
    while (select.options.length > 1) select.remove(1);
    layer().fields.forEach(function (f) {
      if (numericOnly && f.type !== "int" && f.type !== "float") return;
      var label = f.label_zh + " " + f.name + (f.unit ? "（" + f.unit + "）" : "");
      var option = el("option", label, { value: f.name });
      if (f.name === keep) option.selected = true;
      select.appendChild(option);
    });
  }

  function onLayer() {
    var l = layer();
    document.getElementById("lutu-builder-year-rule").textContent = l.year_rule;
    form.querySelectorAll(".lutu-builder-row").forEach(function (row) {
      fillFields(row.querySelector(".lutu-builder-field"), false);
      hint(row);
    });
    fillFields(document.getElementById("lutu-builder-sum-field"), true);
    var box = document.getElementById("lutu-builder-states");
    var checked = {};
    box.querySelectorAll("input:checked").forEach(function (i) { checked[i.value] = true; });
    box.querySelectorAll("label").forEach(function (n) { n.remove(); });
    l.states.forEach(function (s) {
      var label = el("label");
      var input = el("input", null, { type: "checkbox", name: "count_states", value: s });
      input.checked = !!checked[s];
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + s));
      box.appendChild(label);
    });
  }

  function onTarget(select) {
    var chosen = null;
    targets.forEach(function (t) { if (t.id === select.value) chosen = t; });
    if (!chosen) return;
    form.elements.target_value.value = chosen.value === null ? "" : chosen.value;
    form.elements.target_deadline.value = chosen.deadline === null ? "" : chosen.deadline;
    form.elements.direction.value = chosen.direction;
    if (!form.elements.unit.value && chosen.unit) form.elements.unit.value = chosen.unit;
    form.elements.basis_zh.value = "规划原文：「" + chosen.text + "」";
  }

  // A record key (filter[0].value, target.cites, name_zh) → the form control it came from.
  function controlOf(key) {
    var m = /^(filter|count\.where)\[(\d+)\]\.(field|op|value)$/.exec(key);
    if (m) {
      var prefix = m[1] === "filter" ? "filter" : "where";
      var rows = Array.prototype.filter.call(
        form.querySelectorAll('[name="' + prefix + '_field"]'),
        function (s) { return s.value; }
      );
      var row = rows[Number(m[2])];
      return row ? row.closest("tr").querySelector('[name="' + prefix + "_" + m[3] + '"]') : null;
    }
    var names = {
      "target.value": "target_value", "target.deadline": "target_deadline",
      "target.cites": "target", "target.cites[0].measure": "cite_measure",
      "target.cites[0].text": "cite_text", "target.direction": "direction", "target.basis_zh": "basis_zh",
      "spatial.layer": "spatial_layer", "spatial.rule": "spatial_rule",
      "spatial.distance_m": "spatial_distance_m", "count.states": "layer"
    };
    var name = names[key] || (key.indexOf("target.cites") === 0 ? "target" : key);
    return form.querySelector('[name="' + name + '"]');
  }

  function clearErrors() {
    form.querySelectorAll("[aria-invalid]").forEach(function (n) { n.removeAttribute("aria-invalid"); });
    form.querySelectorAll(".lutu-builder-problem").forEach(function (n) { n.remove(); });
  }

  function showErrors(errors) {
    var list = document.getElementById("lutu-preview-errors");
    list.textContent = "";
    list.hidden = !errors.length;
    errors.forEach(function (e) {
      list.appendChild(el("li", e.message, { "data-key": e.key }));
      var control = e.key ? controlOf(e.key) : null;
      if (control) {
        control.setAttribute("aria-invalid", "true");
        control.insertAdjacentElement("afterend", el("small", e.message, { "class": "lutu-builder-problem lutu-error" }));
      }
    });
  }

  function fmt(v) { return v === null || v === undefined ? "—" : String(Math.round(v * 100) / 100); }

  function show(data) {
    clearErrors();
    var body = document.querySelector("#lutu-preview-areas tbody");
    var features = document.getElementById("lutu-preview-features");
    body.textContent = "";
    features.textContent = "";
    document.getElementById("lutu-preview-count").textContent = "";
    if (!data.ok) { showErrors(data.errors || []); return; }
    showErrors([]);
    data.areas.forEach(function (a) {
      var tr = el("tr", null, { "data-adcode": a.adcode, "class": "lutu-preview-" + a.level });
      tr.appendChild(el("td", (a.level === "county" ? "　" : "") + a.name));
      tr.appendChild(el("td", a.value === null ? "—" : fmt(a.value) + " " + data.unit));
      tr.appendChild(el("td", a.target === null ? "—" : fmt(a.target) + " " + data.unit));
      tr.appendChild(el("td", a.status, { title: a.reason }));
      body.appendChild(tr);
    });
    document.getElementById("lutu-preview-count").textContent =
      "计入要素 features behind the number: " + data.feature_count +
      (data.feature_count > data.features.length ? "（列出前 " + data.features.length + " 个 first shown）" : "");
    data.features.forEach(function (f) {
      var li = el("li");
      li.appendChild(el("a", f.name, { href: f.url }));
      li.appendChild(document.createTextNode(" " + f.id));
      features.appendChild(li);
    });
  }

  function preview() {
    var mine = ++asked;
    fetch(form.getAttribute("data-preview"), {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (r) { return r.json(); }).then(function (data) {
      if (mine === asked) show(data);  // a later answer replaces an earlier one, not the reverse
    }).catch(function (err) {
      if (mine === asked) show({ ok: false, errors: [{ key: "", message: "预览失败 preview failed: " + err }] });
    });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(preview, 400);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", function (event) {
    var t = event.target;
    if (t === layerSelect) onLayer();
    if (t.id === "lutu-builder-target") onTarget(t);
    if (t.classList.contains("lutu-builder-field")) hint(t.closest("tr"));
    later();
  });
  form.querySelectorAll(".lutu-builder-add").forEach(function (button) {
    button.addEventListener("click", function () {
      var body = document.getElementById(button.getAttribute("data-table")).querySelector("tbody");
      var last = body.querySelector("tr:last-child");
      var row = last.cloneNode(true);
      row.querySelectorAll("input").forEach(function (i) { i.value = ""; });
      row.querySelector(".lutu-builder-field").value = "";
      body.appendChild(row);
      hint(row);
    });
  });
  form.querySelectorAll(".lutu-builder-row").forEach(hint);
  preview();
})();
