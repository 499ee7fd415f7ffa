// scimd admin pages: small enhancements over pages that work without JavaScript.
// - Copy buttons: any button with data-copy="ELEMENT_ID" copies that element's text (hidden until this runs).
// - Dialog pages: Escape follows the dialog's cancel link; Tab stays inside the dialog.
// - File pickers: an input with data-file-into="TEXTAREA_ID" (hidden until this runs) reads the chosen file
//   into that textarea, so that pasting stays the way that works without JavaScript.
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "copy-buffer";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy failed")); }
    });
  }

  function setupCopyButtons() {
    var buttons = document.querySelectorAll("button[data-copy]");
    Array.prototype.forEach.call(buttons, function (button) {
      var target = document.getElementById(button.getAttribute("data-copy"));
      if (!target) { return; }
      button.hidden = false;
      var label = button.querySelector("span:not(.sr-only)");
      var original = label ? label.textContent : "";
      button.addEventListener("click", function () {
        copyText(target.textContent.trim()).then(function () {
          button.classList.add("copied");
          if (label) { label.textContent = "Copied"; }
          button.setAttribute("aria-live", "polite");
          window.setTimeout(function () {
            button.classList.remove("copied");
            if (label) { label.textContent = original; }
          }, 2000);
        }, function () {
          var range = document.createRange();
          range.selectNodeContents(target);
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
        });
      });
    });
  }

  function setupDialog() {
    var dialog = document.querySelector("[role=dialog]");
    if (!dialog) { return; }
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        var cancel = dialog.querySelector("a[data-dialog-close]");
        if (cancel) { window.location.href = cancel.href; }
        return;
      }
      if (event.key !== "Tab") { return; }
      var focusable = dialog.querySelectorAll(
        "a[href], button:not([disabled]):not([hidden]), input:not([disabled]):not([type=hidden]), select, textarea, [tabindex='0']"
      );
      if (focusable.length === 0) { return; }
      var first = focusable[0];
      var last = focusable[focusable.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    });
  }

  function setupFilePickers() {
    var inputs = document.querySelectorAll("input[type=file][data-file-into]");
    Array.prototype.forEach.call(inputs, function (input) {
      var target = document.getElementById(input.getAttribute("data-file-into"));
      if (!target || !window.FileReader) { return; }
      input.hidden = false;
      input.addEventListener("change", function () {
        var file = input.files && input.files[0];
        if (!file) { return; }
        var reader = new FileReader();
        reader.onload = function () { target.value = String(reader.result); };
        reader.readAsText(file);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupCopyButtons();
    setupDialog();
    setupFilePickers();
  });
})();
