// Record page: re-hash the stored original on request (fixity).
(function () {
  "use strict";
  const button = document.querySelector("[data-fixity]");
  if (!button) return;
  button.addEventListener("click", async () => {
    const out = document.getElementById("fixity");
    button.disabled = true;
    button.textContent = "正在校验…";
    try {
      const res = await fetch(`/api/v1/records/${button.dataset.fixity}/fixity`, { credentials: "same-origin" });
      const body = await res.json();
      out.textContent = res.ok
        ? (body.ok ? `✓ 与入库时一致（${body.checked_at}）` : `✗ 不一致：存储中的文件已被改动或丢失（${body.detail}）`)
        : `无法校验：${body.detail || res.status}`;
      out.className = res.ok && body.ok ? "ok" : "error";
    } catch (e) {
      out.textContent = "无法校验：网络中断";
      out.className = "error";
    }
  });
})();

// Opened from a search hit (?hl=the query): mark the query's words in the page text and the
// transcript, and bring the first mark on the opened page into view.
(function () {
  "use strict";
  const query = new URLSearchParams(location.search).get("hl");
  if (!query) return;
  const terms = (query.match(/"[^"]+"|\S+/g) || [])
    .filter((t) => !t.startsWith("-") && t !== "OR" && !t.includes(":"))
    .map((t) => t.replace(/"/g, "").replace(/\s+/g, ""))
    .filter((t) => t.length > 0);
  if (!terms.length) return;
  const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(terms.map(escape).join("|"), "g");
  const scopes = document.querySelectorAll("section.text pre, ol.segments li");
  for (const scope of scopes) {
    const walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    for (const node of nodes) {
      const text = node.textContent;
      pattern.lastIndex = 0;
      if (!pattern.test(text)) continue;
      pattern.lastIndex = 0;
      const frag = document.createDocumentFragment();
      let last = 0;
      for (const m of text.matchAll(pattern)) {
        frag.append(text.slice(last, m.index), Object.assign(document.createElement("mark"), { textContent: m[0] }));
        last = m.index + m[0].length;
      }
      frag.append(text.slice(last));
      node.replaceWith(frag);
    }
  }
  const page = location.hash && location.hash.startsWith("#p") ? document.querySelector(location.hash) : null;
  const first = (page || document).querySelector("section.text mark");
  if (first && page) first.scrollIntoView({ block: "center" });
})();
