// Web chat: sends a message with fetch and shows the reply as it streams
// in over server-sent events. Text is inserted with textContent only.
(function () {
  "use strict";
  var form = document.getElementById("composer");
  var list = document.getElementById("messages");
  if (!form || !list || !form.dataset.live) { return; }
  var csrf = document.querySelector("main").dataset.csrf;
  var input = form.querySelector("textarea");
  var button = form.querySelector("button");
  var bubble = null; // the assistant bubble being streamed

  function scrollDown() { list.scrollTop = list.scrollHeight; }
  function add(cls, text) {
    var empty = document.getElementById("empty");
    if (empty) { empty.remove(); }
    var div = document.createElement("div");
    div.className = "msg " + cls;
    div.textContent = text;
    list.insertBefore(div, document.getElementById("end"));
    scrollDown();
    return div;
  }
  function busy(on) { button.disabled = on; }

  var events = new EventSource(form.dataset.events);
  events.addEventListener("task", function () {
    busy(true);
    if (!bubble) { bubble = add("assistant streaming", ""); }
  });
  events.addEventListener("delta", function (e) {
    var ev = JSON.parse(e.data);
    if (!bubble) { bubble = add("assistant streaming", ""); }
    bubble.textContent = ev.text;
    scrollDown();
  });
  function finish(e) {
    var ev = JSON.parse(e.data);
    if (!bubble) { bubble = add("assistant", ""); }
    bubble.textContent = ev.text;
    bubble.className = "msg assistant";
    bubble = null;
    busy(false);
    scrollDown();
  }
  events.addEventListener("done", finish);
  events.addEventListener("failed", finish);

  function send() {
    var text = input.value;
    if (!text.trim()) { return; }
    busy(true);
    add("user", text);
    input.value = "";
    var body = new URLSearchParams();
    body.set("text", text);
    fetch(form.action, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" }
    }).then(function (resp) {
      if (resp.ok) { return; }
      return resp.json().then(function (j) {
        add("tool", "Not sent: " + (j.error || resp.statusText));
        busy(false);
      });
    }).catch(function () {
      add("tool", "Not sent: the server cannot be reached.");
      busy(false);
    });
  }
  form.addEventListener("submit", function (e) { e.preventDefault(); send(); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); send(); }
  });
  scrollDown();
})();
