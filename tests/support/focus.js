// What holds the keyboard focus, and whether it shows a focus ring (see browser.tab_through).
(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const st = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  return {tag: el.tagName.toLowerCase(), text: (el.innerText || el.value || el.name || "").trim().slice(0, 30),
          visible: r.width > 0 && r.height > 0,
          ring: st.outlineStyle !== "none" && parseFloat(st.outlineWidth) > 0 || st.boxShadow !== "none"};
})
