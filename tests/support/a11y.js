// WCAG basics checked on every page the browser tests visit (see browser.a11y_problems).
(() => {
  const problems = [];
  if (document.documentElement.lang !== "zh-CN") problems.push("html lang is not zh-CN");
  if (!document.title.trim()) problems.push("page has no title");
  if (document.querySelectorAll("h1").length !== 1) problems.push("page needs exactly one h1");
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    const named = (el.labels && el.labels.length) || el.getAttribute("aria-label") ||
      el.getAttribute("aria-labelledby") || el.title;
    if (!named) problems.push(`unlabelled ${el.tagName.toLowerCase()} name=${el.name}`);
  }
  for (const img of document.images) if (!img.alt.trim()) problems.push(`image without alt: ${img.src}`);
  for (const c of document.querySelectorAll("button, a[href], summary")) {
    if (!c.textContent.trim() && !c.getAttribute("aria-label")) problems.push(`control without a name: ${c.outerHTML.slice(0, 60)}`);
  }
  const ids = {};
  for (const el of document.querySelectorAll("[id]")) ids[el.id] = (ids[el.id] || 0) + 1;
  for (const [id, n] of Object.entries(ids)) if (n > 1) problems.push(`duplicate id ${id}`);
  const rgb = (s) => {
    const m = s.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(",").map(Number);
    return p.length === 4 && p[3] === 0 ? null : p.slice(0, 3);
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const background = (el) => {
    for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor); if (c) return c; }
    return [255, 255, 255];
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    const el = walker.currentNode.parentElement;
    if (!text || seen.has(el) || el.closest(".visually-hidden, .skip, option, script")) continue;
    seen.add(el);
    const st = getComputedStyle(el);
    if (st.visibility === "hidden" || !el.getClientRects().length) continue;
    const fg = rgb(st.color);
    if (!fg) continue;
    const a = lum(fg), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight, 10) >= 700;
    const need = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
    if (ratio < need) problems.push(`contrast ${ratio.toFixed(2)} < ${need} for "${text.slice(0, 24)}"`);
  }
  return problems;
})
