// Completions for the search box: 案号 and party names from /api/v1/suggest (only cases the
// signed-in user may see). Progressive: without JavaScript the box works as before.
(function () {
  "use strict";
  const box = document.querySelector("input[data-suggest]");
  if (!box) return;
  const list = document.getElementById(box.getAttribute("list"));
  let timer = null;
  let last = "";
  box.addEventListener("input", function () {
    clearTimeout(timer);
    // complete the word being typed (the text after the last space)
    const words = box.value.split(/\s+/);
    const word = words[words.length - 1];
    if (word.length < 2 || word === last) return;
    timer = setTimeout(async function () {
      last = word;
      const r = await fetch("/api/v1/suggest?limit=8&q=" + encodeURIComponent(word), {
        credentials: "same-origin",
      });
      if (!r.ok) return;
      const items = await r.json();
      const head = words.slice(0, -1).join(" ");
      list.replaceChildren(
        ...items.map(function (s) {
          const o = document.createElement("option");
          o.value = (head ? head + " " : "") + s.value;
          o.label = (s.kind === "case_no" ? "案号" : "当事人 · " + s.case_no);
          return o;
        })
      );
    }, 150);
  });
})();
