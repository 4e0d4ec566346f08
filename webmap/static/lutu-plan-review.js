// The plan review page: clicking a measure highlights its text; selecting a piece of a
// measure's text fills that measure's "mark target" form (quote and raw offset). Local only.
(function () {
  "use strict";
  var text = document.getElementById("lutu-review-text");
  if (!text) return;

  function highlight(measure) {
    document.querySelectorAll(".is-active").forEach(function (el) { el.classList.remove("is-active"); });
    document.querySelectorAll("[data-measure]").forEach(function (el) {
      if (el.dataset.measure === measure && !el.matches("a, form")) el.classList.add("is-active");
    });
  }

  document.querySelectorAll("a.lutu-goto").forEach(function (a) {
    a.addEventListener("click", function (event) {
      event.preventDefault();
      highlight(a.dataset.measure);
      var first = document.getElementById("t-" + a.dataset.measure);
      if (first) first.scrollIntoView({ block: "center" });
    });
  });

  function offsetOf(node, offset) {
    var el = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
    var seg = el && el.closest("[data-start]");
    if (!seg || !text.contains(seg)) return null;
    return { seg: seg, at: Number(seg.dataset.start) + (node.nodeType === Node.TEXT_NODE ? offset : 0) };
  }

  text.addEventListener("mouseup", function () {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed || !selection.rangeCount) return;
    var range = selection.getRangeAt(0);
    var start = offsetOf(range.startContainer, range.startOffset);
    var end = offsetOf(range.endContainer, range.endOffset);
    if (!start || !end) return;
    var measure = start.seg.dataset.measure;
    var form = measure && document.querySelector('form.lutu-mark-form[data-measure="' + CSS.escape(measure) + '"]');
    if (!form || end.seg.dataset.measure !== measure) return;
    form.elements.quote.value = selection.toString();
    form.elements.start.value = String(start.at);
    var details = form.closest("details");
    if (details) details.open = true;
    highlight(measure);
    form.scrollIntoView({ block: "nearest" });
    form.elements.value.focus();
  });

  text.addEventListener("click", function (event) {
    var seg = event.target.closest && event.target.closest(".lutu-seg[data-measure]");
    if (seg && window.getSelection().isCollapsed) highlight(seg.dataset.measure);
  });
})();
