"""The inbox page's script and style sheet, served as ``/inbox.js`` and ``/inbox.css``
(kept in Python so they ship in every wheel)."""

from __future__ import annotations

SCRIPT = r"""(function () {
  "use strict";
  var list = document.getElementById("messages");
  var status = document.getElementById("status");
  var data = document.body.dataset;

  function fill(template, values) {
    Object.keys(values).forEach(function (key) {
      template = template.split("{" + key + "}").join(values[key]);
    });
    return template;
  }

  function announce(text) {
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 60);
  }

  function copied(button) {
    button.textContent = data.copied;
    button.classList.add("done");
    announce(fill(data.copiedAnnounce, { code: button.dataset.code }));
    window.setTimeout(function () {
      button.textContent = data.copy;
      button.classList.remove("done");
    }, 2000);
  }

  function selectCode(button) {
    var code = document.getElementById("code-" + button.dataset.id);
    var range = document.createRange();
    range.selectNodeContents(code);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    try {
      if (document.execCommand("copy")) { copied(button); }
    } catch (error) { /* the code stays selected: Ctrl+C copies it */ }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.copy");
    if (!button) { return; }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(button.dataset.code).then(
        function () { copied(button); },
        function () { selectCode(button); }
      );
    } else {
      selectCode(button);
    }
  });

  function refresh() {
    fetch("/fragment" + window.location.search, { cache: "no-store" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.firstElementChild;
        var before = Number(list.dataset.latest || 0);
        if (!fresh || Number(fresh.dataset.latest || 0) === before) { return; }
        var focused = document.activeElement ? document.activeElement.id : "";
        list.replaceWith(fresh);
        list = fresh;
        if (focused && document.getElementById(focused)) {
          document.getElementById(focused).focus();
        }
        var news = [];
        list.querySelectorAll("article[data-id]").forEach(function (article) {
          if (Number(article.dataset.id) > before) {
            news.push(fill(data.newMessage, {
              to: article.dataset.to, code: article.dataset.code || "-"
            }));
          }
        });
        if (news.length) { announce(news.reverse().join(" ")); }
      })
      .catch(function () { /* the inbox server stopped; try again later */ })
      .then(function () { window.setTimeout(refresh, 2000); });
  }
  window.setTimeout(refresh, 2000);
})();
"""

STYLE = """:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --card: #ffffff; --text: #1b1f24; --muted: #57606a;
  --line: #d0d7de; --accent: #0a58ca; --accent-text: #ffffff; --code-bg: #eef4ff;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --card: #161b22; --text: #e6edf3; --muted: #9da7b3;
    --line: #30363d; --accent: #4c8dff; --accent-text: #0d1117; --code-bg: #1c2a44;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC",
    "PingFang SC", "Microsoft YaHei", sans-serif;
}
header, main { max-width: 52rem; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
header p { margin: .25rem 0; color: var(--muted); }
.file code { font-size: .9em; }
.languages ul {
  list-style: none; display: flex; flex-wrap: wrap; gap: .25rem .9rem;
  margin: .5rem 0 0; padding: 0;
}
.languages a[aria-current] { color: var(--text); font-weight: 700; text-decoration: none; }
a { color: var(--accent); }
.filter {
  display: flex; flex-wrap: wrap; gap: .5rem; align-items: center;
  margin: 1.25rem 0; padding: .75rem 1rem; background: var(--card);
  border: 1px solid var(--line); border-radius: .5rem;
}
.filter label { font-weight: 600; }
.filter input[type=search] {
  flex: 1 1 12rem; font: inherit; padding: .35rem .5rem; color: var(--text);
  background: var(--bg); border: 1px solid var(--line); border-radius: .35rem;
}
button {
  font: inherit; cursor: pointer; padding: .35rem .9rem; border-radius: .35rem;
  border: 1px solid var(--accent); background: var(--accent); color: var(--accent-text);
}
button.done { background: transparent; color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.number h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
.count { color: var(--muted); font-weight: 400; font-size: .9em; }
.messages { list-style: none; margin: 0; padding: 0; }
.message {
  background: var(--card); border: 1px solid var(--line); border-radius: .5rem;
  padding: .75rem 1rem; margin-bottom: .75rem;
}
.row { display: flex; flex-wrap: wrap; align-items: center; gap: .75rem; }
.label { color: var(--muted); }
.code {
  font: 700 1.6rem/1.2 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  letter-spacing: .12em; padding: .1rem .5rem; border-radius: .35rem; background: var(--code-bg);
  direction: ltr; unicode-bidi: isolate;
}
time { margin-inline-start: auto; color: var(--muted); font-size: .9rem; }
.text { white-space: pre-wrap; margin: .5rem 0 0; overflow-wrap: anywhere; }
.empty { padding: 2rem 1rem; text-align: center; color: var(--muted); }
.visually-hidden {
  position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
"""
